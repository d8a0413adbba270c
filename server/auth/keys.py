"""API keys: made once, shown once, stored as a salted hash, verified with a short cache.

A key's text is ``wf_<key id>_<secret>``: self-describing (a scanner finds ``wf_`` keys in leaked
logs), and its public key id leads to its one row, so verifying a key costs one hash. The stored
hash is PBKDF2-HMAC-SHA256 with a per-key salt; the secret is 256 random bits, so the hash resists a
stolen table and the iteration count only has to cost an attacker, not the server on every call:
verifications are cached in memory for :data:`CACHE_SECONDS`, which is also how long an expired key
may still be accepted by a server that verified it just before, and a revoked one by a server that
missed the notification of its revocation (each server forgets its verifications when told). Nor
may the hash cost the server on an attacker's call: a key's secret is hashed once per server (later
its fingerprint is compared), and one hash runs at a time. Calls that find a key's cache entry
empty or expired at the same moment share one verification (a busy client's hundreds of calls in
flight would otherwise each verify the key at once).
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import hmac
import secrets
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Final, cast

import asyncpg

from wf.history.errors import AlreadyExists, InvalidArgument
from wf.history.notify import Notifier
from wf.server.auth.principal import ANONYMOUS_NAME, Principal
from wf.v1 import auth_pb2

PREFIX: Final = "wf_"
CACHE_SECONDS: Final = 5.0
REVOKED: Final = "ak"
"""The notification of a revoked key: ``ak|<key id>``."""
MAX_NAME: Final = 200
_ITERATIONS: Final = 100_000
_KEY_ID_BYTES: Final = 8
_SECRET_BYTES: Final = 32
_MAX_REMEMBERED: Final = 10_000


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

    def __init__(self, pool: asyncpg.Pool, notifier: Notifier | None = None) -> None:
        """``notifier``: how servers of the database tell each other of a revoked key (none: this
        server alone hears of its own revocations)."""
        self._pool = pool
        self._notifier = notifier
        # Key id → the events of its calls waiting now (long polls), set when the key is revoked.
        self._waiting: dict[str, set[asyncio.Event]] = {}
        if notifier is not None:
            notifier.subscribe(REVOKED, self.forget)
        # sha256 of a key's text → (principal, or None for a refused key; monotonic time it expires).
        self._cache: dict[bytes, tuple[Principal | None, float]] = {}
        # Verifications running, by the key's fingerprint: later callers wait for the first.
        self._running: dict[bytes, asyncio.Task[Principal | None]] = {}
        self._generation = 0  # moved on by each revocation: a verification begun before is not cached
        # Key id → sha256 of the secret that verified under it. A key id has one secret, so once it is
        # known any other is wrong without a slow hash: an attacker who learnt a key's public id
        # cannot make the server hash its guesses, once that key has been used here.
        self._known: dict[str, bytes] = {}
        # One slow hash at a time: guesses under ids of keys not used here yet take one core at most.
        self._hashing = asyncio.Semaphore(1)
        self.hashed = 0
        """Secrets this server has hashed to verify them (each costs tens of milliseconds of CPU)."""

    async def create(
        self, name: str, namespace: str, role: int, created_by: str, expires_at: datetime | None = None
    ) -> tuple[str, KeyRow]:
        """A new key: its text (to be shown once) and its row.

        The name is who the key is in the audit log and to every later call, so it must say one key
        only: a name any key of the cluster ever had (revoked ones too) is refused (AlreadyExists),
        as are "anonymous" and a name with "=" in it, which are how callers without a key and
        certificates' subjects are named, and one longer than :data:`MAX_NAME` or with a character
        that is not printable (a terminal's escape) (InvalidArgument). Otherwise a namespace admin
        could make a key named "bootstrap-admin" and act, as far as the log shows, as the cluster
        admin.
        """
        if name == ANONYMOUS_NAME or "=" in name:
            raise InvalidArgument(f"an API key may not be named {name!r}: \"anonymous\" and names with \"=\" "
                                  "are those of callers without a key and of certificates")
        if len(name) > MAX_NAME or not name.isprintable():
            raise InvalidArgument(f"an API key's name is at most {MAX_NAME} printable characters "
                                  "(it is shown in lists and the audit log)")
        key_id = secrets.token_hex(_KEY_ID_BYTES)
        secret = secrets.token_urlsafe(_SECRET_BYTES)
        salt = secrets.token_bytes(16)
        digest = await asyncio.to_thread(_hash, secret, salt)
        async with self._pool.acquire() as conn, conn.transaction():
            # One creation at a time, so two of the same name cannot both find it free.
            await conn.execute("SELECT pg_advisory_xact_lock(hashtext('wf api_keys.name'))")
            if await conn.fetchval("SELECT true FROM api_keys WHERE name = $1", name):
                raise AlreadyExists(
                    f"an API key named {name!r} exists already (revoked or not): the audit log names "
                    "callers by their key's name, so each name is one key's for good", run_id="")
            r = await conn.fetchrow(
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
        self.forget(key_id)  # this server stops accepting it at once
        if self._notifier is not None:
            self._notifier.publish(REVOKED, key_id)  # the others as soon as they hear
        return done is not None

    def forget(self, key_id: str) -> None:
        """The key ``key_id`` was revoked, here or by another server: accept it no more, and end the
        waits of its calls (see :meth:`waiting`). "" (notifications were missed): forget every
        verification, ending no wait."""
        self._generation += 1
        self._cache.clear()
        for event in self._waiting.get(key_id, ()) if key_id else ():
            event.set()

    @contextlib.contextmanager
    def waiting(self, key_id: str) -> Iterator[asyncio.Event]:
        """An event set if the key ``key_id`` is revoked while a call of it waits (a long poll,
        verified when it began, would otherwise hand a task to a key revoked a minute ago)."""
        event = asyncio.Event()
        self._waiting.setdefault(key_id, set()).add(event)
        try:
            yield event
        finally:
            events = self._waiting.get(key_id)
            if events is not None:
                events.discard(event)
                if not events:
                    del self._waiting[key_id]

    async def count(self) -> int:
        return int(await self._pool.fetchval("SELECT count(*) FROM api_keys"))

    async def verify(self, key: str) -> Principal | None:
        """The principal of a valid key (not revoked, not expired), or None."""
        fingerprint = hashlib.sha256(key.encode()).digest()
        cached = self._cache.get(fingerprint)
        if cached is not None and cached[1] > time.monotonic():
            return cached[0]
        running = self._running.get(fingerprint)
        if running is None:
            running = self._running[fingerprint] = asyncio.ensure_future(self._verify_and_cache(key, fingerprint))
            running.add_done_callback(lambda _: self._running.pop(fingerprint, None))
        # Shielded: one caller cancelled (its deadline) does not fail the others waiting on it.
        return await asyncio.shield(running)

    async def _verify_and_cache(self, key: str, fingerprint: bytes) -> Principal | None:
        generation = self._generation
        principal = await self._verify(key)
        if generation != self._generation:
            return principal  # it read the key's row before a revocation: not for later calls
        now = time.monotonic()
        if len(self._cache) > _MAX_REMEMBERED:
            self._cache = {k: v for k, v in self._cache.items() if v[1] > now and v[0] is not None}
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
        fingerprint = hashlib.sha256(secret.encode()).digest()
        known = self._known.get(key_id)
        if known is not None:
            if not hmac.compare_digest(fingerprint, known):
                return None
        else:
            async with self._hashing:
                self.hashed += 1
                digest = await asyncio.to_thread(_hash, secret, bytes(r["salt"]))
            if not hmac.compare_digest(digest, bytes(r["secret_hash"])):
                return None
            self._known[key_id] = fingerprint
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
