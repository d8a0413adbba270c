"""Task tokens: what a worker holds for a started task and sends back with its answer, signed.

A token names the task's run and events (``wf.v1.TaskToken``): a namespace, a workflow id, a run id
and event ids, all of which anyone who can list runs or read a history can learn. What makes a token
good is an HMAC-SHA256 over it with a key that only the servers of the database hold, so a token
that names another run, another event or another namespace, or that differs from what was issued in
a single bit, is refused as INVALID_ARGUMENT before anything is read or changed. The bytes on the
wire, opaque to workers and the SDK:

    format (1 byte, 1) | key id (4 bytes, big-endian) | HMAC-SHA256 (32 bytes) | wf.v1.TaskToken

The MAC covers the format byte, the key id and the serialized token.

Keys live in the database (``task_token_keys``), so every server of a database signs and verifies
with the same ones. The first server to start on a database without a key generates key 1; no one
configures a key by hand, and no key is ever logged or printed. ``wf db rotate-token-key`` adds the
next key and gives the older ones a retirement time (``--grace``, 7 days by default): new tokens are
signed with the newest key, and a token signed with an older one is accepted until that key retires.
Servers read the keys at start, when the rotation's notification arrives (or the notification
listener reconnects, as it may have missed one), and when a token names a key newer than any they
know.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import struct
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from wf.history.errors import InvalidArgument
from wf.history.notify import Notifier
from wf.history.shared_read import SharedRead
from wf.history.statements import TOKEN_KEYS_CHANGED
from wf.history.store import Store
from wf.v1 import internal_pb2

FORMAT = 1
_HEADER = struct.Struct(">BI")
_MAC_BYTES = hashlib.sha256().digest_size
_PAYLOAD = _HEADER.size + _MAC_BYTES  # where the serialized TaskToken begins
_SECRET_BYTES = 32
# One message for every refusal: a caller learns nothing about which part of its token was wrong.
INVALID = "task_token is not valid"
# How long tokens signed with the older keys keep being accepted after a rotation, by default.
DEFAULT_GRACE = timedelta(days=7)


@dataclass(frozen=True, slots=True)
class TokenKey:
    """One signing key as a server holds it (the secret stays out of ``repr``)."""

    id: int
    secret: bytes = field(repr=False)
    created_at: datetime
    # When tokens it signed stop being accepted; None while it is the newest key.
    retire_at: datetime | None

    def verifies_at(self, now: datetime) -> bool:
        return self.retire_at is None or now < self.retire_at


def _mac(secret: bytes, signed: bytes) -> bytes:
    return hmac.new(secret, signed, hashlib.sha256).digest()


def key_id_of(data: bytes) -> int | None:
    """The id of the key a token names (None if ``data`` is no token), for operators and tests."""
    if len(data) < _PAYLOAD:
        return None
    version, key_id = _HEADER.unpack_from(data)
    return key_id if version == FORMAT else None


def run_key(token: internal_pb2.TaskToken) -> tuple[str, str, str]:
    """The (namespace, workflow id, run id) of the run the token's task belongs to."""
    return (token.namespace, token.workflow_id, token.run_id)


class TaskTokens:
    """A server's task-token keys: signs with the newest, verifies with any that has not retired."""

    def __init__(self, store: Store) -> None:
        self.store = store
        self._keys: dict[int, TokenKey] = {}
        self._newest: TokenKey | None = None
        # Callers that ask while a read runs share the next read that begins after they asked, so a
        # burst of tokens naming an unknown key costs one or two.
        self.reload = SharedRead(self._read, "the task-token keys")
        """Read the keys from the database."""

    async def start(self, notifier: Notifier | None = None) -> None:
        """Read the keys (adding the first if the database has none) and follow rotations (a
        rotation committed, or the listener reconnected: read them again)."""
        await self.reload()
        if notifier is not None:
            notifier.subscribe(TOKEN_KEYS_CHANGED, self.reload.on_notification)

    def close(self) -> None:
        self.reload.close()

    @property
    def signing_key_id(self) -> int:
        """The id of the key new tokens are signed with."""
        return self._signing().id

    def keys(self) -> list[TokenKey]:
        """The keys this server knows, oldest first."""
        return sorted(self._keys.values(), key=lambda k: k.id)

    # -- signing and verifying -------------------------------------------------------------------------

    def sign(self, token: internal_pb2.TaskToken) -> bytes:
        """The token as a worker gets it: signed with the newest key."""
        key = self._signing()
        payload = token.SerializeToString()
        head = _HEADER.pack(FORMAT, key.id)
        return head + _mac(key.secret, head + payload) + payload

    async def verify(self, data: bytes) -> internal_pb2.TaskToken:
        """The token a worker sent back, if a server of this database issued it with a key that has
        not retired; InvalidArgument otherwise (a forgery, an altered byte, a retired key, garbage)."""
        key_id = key_id_of(data)
        if key_id is None:
            raise InvalidArgument(INVALID)
        key = self._keys.get(key_id)
        if key is None and self._newest is not None and key_id > self._newest.id:
            # Perhaps a key added since this server last read them (it may not have heard yet).
            await self.reload()
            key = self._keys.get(key_id)
        if key is None or not key.verifies_at(datetime.now(UTC)):
            raise InvalidArgument(INVALID)
        head, mac, payload = data[:_HEADER.size], data[_HEADER.size:_PAYLOAD], data[_PAYLOAD:]
        if not hmac.compare_digest(mac, _mac(key.secret, head + payload)):
            raise InvalidArgument(INVALID)
        token = internal_pb2.TaskToken()
        try:
            token.ParseFromString(payload)
        except Exception as exc:  # protobuf raises DecodeError, a bare Exception subclass
            raise InvalidArgument(INVALID) from exc
        if not token.workflow_id or not token.run_id or not token.scheduled_event_id:
            raise InvalidArgument(INVALID)
        return token

    # -- reading the keys ------------------------------------------------------------------------------

    async def _read(self) -> None:
        rows = await self.store.token_keys()
        if not rows:
            await self.store.add_first_token_key(secrets.token_bytes(_SECRET_BYTES))
            rows = await self.store.token_keys()
        keys = {row[0]: TokenKey(*row) for row in rows}
        self._keys = keys
        self._newest = keys[max(keys)]

    def _signing(self) -> TokenKey:
        if self._newest is None:
            raise RuntimeError("TaskTokens.start() has not read the keys yet")
        return self._newest


async def rotate(store: Store, grace: timedelta = DEFAULT_GRACE) -> tuple[int, datetime]:
    """Add a new key that new tokens are signed with; older keys keep verifying until ``grace`` from
    now (at once with a zero grace, when a key may have leaked). Returns (new key id, when the older
    keys retire); every server of the database is told at the commit."""
    if grace < timedelta(0):
        raise ValueError("grace must not be negative")
    while True:
        rotated = await store.rotate_token_key(secrets.token_bytes(_SECRET_BYTES), grace)
        if rotated is not None:
            return rotated
        # Another rotation took the same id at the same moment: add the next one after it.
