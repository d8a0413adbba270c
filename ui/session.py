"""Who uses the UI: sign-in sessions kept on the server, each with its own clients of the wf server.

When the server requires credentials, each person signs in and their calls go out with their own
credential, so the server's authorization (not the UI) decides what they may do, and its audit log
names them. A session is kept in this process only: the browser holds a random session id in an
HttpOnly, SameSite=Strict cookie, never the credential, which stays here, out of every page, log and
URL. A session unused for ``IDLE`` (8 hours) is over: its clients are closed and its id forgotten.

A session stores a principal (who the server says the caller is) and a credential provider (what its
clients connect with). The API key form is one way to get both; another sign-in (OIDC single
sign-on, say) plugs in beside it by making a provider of its own, e.g. one that hands out a
token it refreshes, and calling :meth:`Sessions.create` the same way.
"""

from __future__ import annotations

import asyncio
import secrets
import time
from collections.abc import Mapping
from contextvars import ContextVar
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any, Protocol

from wf.ui.connection import Connections
from wf.v1 import auth_pb2

COOKIE = "wf_session"
IDLE = timedelta(hours=8)

# The roles that may change runs and schedules (signal, cancel, terminate, reset, update, pause,
# trigger); reader and worker may not.
WRITE_ROLES = frozenset({auth_pb2.ROLE_WRITER, auth_pb2.ROLE_ADMIN, auth_pb2.ROLE_CLUSTER_ADMIN})


@dataclass(frozen=True, slots=True)
class Identity:
    """The caller as the server's ``GetCallerIdentity`` describes it (the shape of
    ``wf.server.auth.Principal``, read over the wire: the UI never imports the server)."""

    name: str
    kind: int  # wf.v1 IdentityKind
    grants: tuple[tuple[str, int], ...]  # (namespace, Role); "" namespace for ROLE_CLUSTER_ADMIN
    auth_required: bool = True

    @classmethod
    def from_proto(cls, answer: Any) -> Identity:
        return cls(
            name=answer.principal,
            kind=answer.kind,
            grants=tuple((g.namespace, g.role) for g in answer.grants),
            auth_required=answer.auth_required,
        )

    def role(self, namespace: str) -> int:
        """The strongest role held in ``namespace`` (ROLE_UNSPECIFIED: none). Without auth the
        server treats every caller as a cluster admin, and so does this."""
        if not self.auth_required:
            return auth_pb2.ROLE_CLUSTER_ADMIN
        held = [r for ns, r in self.grants if ns == namespace or r == auth_pb2.ROLE_CLUSTER_ADMIN]
        return max(held, default=auth_pb2.ROLE_UNSPECIFIED)

    def may_write(self, namespace: str) -> bool:
        return self.role(namespace) in WRITE_ROLES


def role_word(role: int) -> str:
    """``ROLE_CLUSTER_ADMIN`` → "cluster admin"; no role → "no role"."""
    if role == auth_pb2.ROLE_UNSPECIFIED:
        return "no role"
    return auth_pb2.Role.Name(role).removeprefix("ROLE_").replace("_", " ").lower()


class CredentialProvider(Protocol):
    """What a session's clients connect with: keyword arguments of ``Client.connect``."""

    def connect_kwargs(self) -> Mapping[str, Any]: ...


class ApiKeyCredential:
    """An API key, sent as a bearer token. Its ``repr`` and ``str`` never show the key."""

    __slots__ = ("_key",)

    def __init__(self, key: str) -> None:
        self._key = key

    def connect_kwargs(self) -> Mapping[str, Any]:
        return {"api_key": self._key}

    def __repr__(self) -> str:
        return "ApiKeyCredential(<hidden>)"

    __str__ = __repr__


@dataclass(eq=False, slots=True)
class Session:
    """One signed-in person: who they are, their credential, their clients (one per namespace)."""

    id: str = field(repr=False)
    identity: Identity
    credential: CredentialProvider = field(repr=False)
    connections: Connections = field(repr=False)
    last_used: float = field(default_factory=time.monotonic)

    async def close(self) -> None:
        await self.connections.close()


class Sessions:
    """The sessions of this process, by their random id."""

    def __init__(self, idle: timedelta = IDLE) -> None:
        self.idle = idle
        self._by_id: dict[str, Session] = {}

    def __len__(self) -> int:
        return len(self._by_id)

    def create(self, identity: Identity, credential: CredentialProvider, connections: Connections) -> Session:
        """A new session for a caller the server has just recognised (``connections``: the clients
        that checked the credential, kept rather than connected again)."""
        sid = secrets.token_urlsafe(32)
        session = Session(sid, identity, credential, connections)
        self._by_id[sid] = session
        return session

    async def get(self, sid: str | None) -> Session | None:
        """The live session of this id, touched; an expired one is closed and forgotten. Expired
        sessions of others are swept too, so a closed browser's clients do not linger."""
        now = time.monotonic()
        for other in [s for s in self._by_id.values() if now - s.last_used >= self.idle.total_seconds()]:
            await self.drop(other.id)
        session = self._by_id.get(sid) if sid else None
        if session is None:
            return None
        session.last_used = now
        return session

    async def drop(self, sid: str) -> None:
        session = self._by_id.pop(sid, None)
        if session is not None:
            await session.close()

    async def close(self) -> None:
        sessions, self._by_id = list(self._by_id.values()), {}
        await asyncio.gather(*(s.close() for s in sessions), return_exceptions=True)


@dataclass(frozen=True, slots=True)
class Viewer:
    """Who a page is for: the identity whose role decides the buttons, and the session if signed in."""

    identity: Identity | None
    session: Session | None = None

    def may_write(self, namespace: str) -> bool:
        return self.identity is None or self.identity.may_write(namespace)

    def role(self, namespace: str) -> str:
        return role_word(self.identity.role(namespace)) if self.identity else ""


# The viewer of the request being served, so ``Ui.client`` hands out that person's client.
CURRENT: ContextVar[Viewer | None] = ContextVar("wf_ui_viewer", default=None)
