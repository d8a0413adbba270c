"""API keys: made once, shown once, stored as a salted hash, verified with a short cache.

A key's text is ``wf_<key id>_<secret>``: self-describing (a scanner finds ``wf_`` keys in leaked
logs), and its public key id leads to its one row, so verifying a key costs one hash. The stored
hash is PBKDF2-HMAC-SHA256 with a per-key salt; the secret is 256 random bits, so the hash resists a
stolen table and the iteration count only has to cost an attacker, not the server on every call:
verifications are cached in memory for :data:`CACHE_SECONDS`, which is also how long a revoked or
expired key may still be accepted by a server that verified it just before.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import secrets
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Final, cast

import asyncpg

from wf.server.auth.principal import Principal
from wf.v1 import auth_pb2

PREFIX: Final = "wf_"
CACHE_SECONDS: Final = 5.0
_ITERATIONS: Final = 100_000
_KEY_ID_BYTES: Final = 8
_SECRET_BYTES: Final = 32


@dataclass(frozen=True, slots=True)
class KeyRow:
    """One key as its table holds it (never its secret)."""

    key_id: str
    name: str
    namespace: str
    role: int
    created_at: datetime
    created_by: str
    expires_at: datetime | None
    revoked_at: datetime | None

    def info(self) -> auth_pb2.ApiKeyInfo:
        out = auth_pb2.ApiKeyInfo(
            key_id=self.key_id, name=self.name, created_by=self.created_by,
            grant=auth_pb2.Grant(namespace=self.namespace, role=cast(Any, self.role)),
        )
        out.create_time.FromDatetime(self.created_at)
        if self.expires_at is not None:
            out.expire_time.FromDatetime(self.expires_at)
        if self.revoked_at is not None:
            out.revoke_time.FromDatetime(self.revoked_at)
        return out


def _hash(secret: str, salt: bytes) -> bytes:
    return hashlib.pbkdf2_hmac("sha256", secret.encode(), salt, _ITERATIONS)


def split(key: str) -> tuple[str, str] | None:
    """``(key id, secret)`` of a key's text, or None when it is not shaped like a wf key."""
    if not key.startswith(PREFIX):
        return None
    key_id, sep, secret = key[len(PREFIX):].partition("_")
    if not sep or not key_id or not secret:
        return None
    return key_id, secret


def mask(key: str) -> str:
    """A key as it may be shown: its public id only."""
    parts = split(key)
    return f"{PREFIX}{parts[0]}_…" if parts else "(not a wf key)"


_COLUMNS: Final = "key_id, name, namespace, role, created_at, created_by, expires_at, revoked_at"


def _row(r: Any) -> KeyRow:
    return KeyRow(r["key_id"], r["name"], r["namespace"], r["role"], r["created_at"], r["created_by"],
                  r["expires_at"], r["revoked_at"])


class ApiKeys:
    """The ``api_keys`` table, and the cache of keys verified lately.

    The pool is asyncpg's (the server's own, or one opened by ``wf operator api-key create --db``).
    """

    def __init__(self, pool: asyncpg.Pool) -> None:
        self._pool = pool
        # sha256 of a key's text → (principal, or None for a refused key; monotonic time it expires).
        self._cache: dict[bytes, tuple[Principal | None, float]] = {}

    async def create(
        self, name: str, namespace: str, role: int, created_by: str, expires_at: datetime | None = None
    ) -> tuple[str, KeyRow]:
        """A new key: its text (to be shown once) and its row."""
        key_id = secrets.token_hex(_KEY_ID_BYTES)
        secret = secrets.token_urlsafe(_SECRET_BYTES)
        salt = secrets.token_bytes(16)
        digest = await asyncio.to_thread(_hash, secret, salt)
        r = await self._pool.fetchrow(
            f"INSERT INTO api_keys (key_id, name, namespace, role, salt, secret_hash, created_by, expires_at)"
            f" VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING {_COLUMNS}",
            key_id, name, namespace, role, salt, digest, created_by, expires_at,
        )
        return f"{PREFIX}{key_id}_{secret}", _row(r)

    async def list(self, namespace: str | None, include_revoked: bool) -> list[KeyRow]:
        """Keys of ``namespace`` (None: all), oldest first."""
        rows = await self._pool.fetch(
            f"SELECT {_COLUMNS} FROM api_keys WHERE ($1::text IS NULL OR namespace = $1)"
            " AND ($2 OR revoked_at IS NULL) ORDER BY created_at, key_id",
            namespace, include_revoked,
        )
        return [_row(r) for r in rows]

    async def get(self, key_id: str) -> KeyRow | None:
        r = await self._pool.fetchrow(f"SELECT {_COLUMNS} FROM api_keys WHERE key_id = $1", key_id)
        return None if r is None else _row(r)

    async def revoke(self, key_id: str) -> bool:
        """Revoke the key (again: a no-op); False when there is no such key."""
        done = await self._pool.fetchval(
            "UPDATE api_keys SET revoked_at = coalesce(revoked_at, now()) WHERE key_id = $1 RETURNING key_id", key_id
        )
        self._cache.clear()  # this server stops accepting it at once; others within CACHE_SECONDS
        return done is not None

    async def count(self) -> int:
        return int(await self._pool.fetchval("SELECT count(*) FROM api_keys"))

    async def verify(self, key: str) -> Principal | None:
        """The principal of a valid key (not revoked, not expired), or None."""
        fingerprint = hashlib.sha256(key.encode()).digest()
        now = time.monotonic()
        cached = self._cache.get(fingerprint)
        if cached is not None and cached[1] > now:
            return cached[0]
        principal = await self._verify(key)
        if len(self._cache) > 10_000:
            self._cache = {k: v for k, v in self._cache.items() if v[1] > now}
        self._cache[fingerprint] = (principal, now + CACHE_SECONDS)
        return principal

    async def _verify(self, key: str) -> Principal | None:
        parts = split(key)
        if parts is None:
            return None
        key_id, secret = parts
        r = await self._pool.fetchrow(
            "SELECT name, namespace, role, salt, secret_hash, expires_at, revoked_at FROM api_keys WHERE key_id = $1",
            key_id,
        )
        if r is None or r["revoked_at"] is not None:
            return None
        if r["expires_at"] is not None and r["expires_at"] <= datetime.now(UTC):
            return None
        digest = await asyncio.to_thread(_hash, secret, bytes(r["salt"]))
        if not hmac.compare_digest(digest, bytes(r["secret_hash"])):
            return None
        return Principal(r["name"], auth_pb2.IDENTITY_KIND_API_KEY, ((r["namespace"], r["role"]),))


async def create_in_database(
    db_url: str, name: str, namespace: str, role: int, expires_at: datetime | None
) -> tuple[str, auth_pb2.ApiKeyInfo]:
    """A key written straight to the database at ``db_url``, with no server: ``wf operator api-key
    create --db``, the bootstrap of the first admin key. Its creator is recorded as "database".

    The schema is brought up to date first, as ``wf server start`` does by default: the bootstrap
    comes before the first start, on a database that may hold no schema yet.

    Raises:
        BootstrapError: the database cannot be reached or migrated (the message says why, never the URL's password).
    """
    import sqlalchemy.exc

    from wf import migrations
    from wf.server.app import asyncpg_dsn  # the server's URL handling; app imports this module

    try:
        await asyncio.to_thread(migrations.upgrade, db_url)
        pool = await asyncpg.create_pool(asyncpg_dsn(db_url), min_size=1, max_size=1)
    except (OSError, asyncpg.PostgresError, sqlalchemy.exc.SQLAlchemyError) as exc:
        reason = exc.orig if isinstance(exc, sqlalchemy.exc.DBAPIError) else exc
        raise BootstrapError(f"cannot reach the database: {reason}") from None
    try:
        key, row = await ApiKeys(pool).create(name, namespace, role, "database", expires_at)
        return key, row.info()
    finally:
        await pool.close()


class BootstrapError(Exception):
    """``wf operator api-key create --db`` could not write to the database it was given."""
