"""Namespaces: the registry every call's namespace is checked against, and its operations.

A namespace is a row of ``namespaces`` (name, state, description, owner, retention). Every server
keeps the registered ones in memory, so checking a call's namespace costs no statement: it reads
them at start, when a change is announced (``ns`` on the ``wf`` channel, sent by the statement that
made it, so at its commit), when its listener reconnects (it may have missed one), and when a call
names a namespace it does not know (one registered on another server a moment ago, whose
notification has not arrived). Reads asked for while one runs share the next one, so a burst of
calls naming an unknown namespace costs one or two reads.

Deleting a namespace marks it DELETED: from then on every call naming it is NOT_FOUND, and its runs
are deleted in the background (``wf.history.retention``), after which the row goes and the name may
be registered again. ``default`` cannot be deleted: clients and workers use it when they name none.
"""

from __future__ import annotations

from datetime import timedelta

from wf.history import errors
from wf.history.limits import Limits, setting_of
from wf.history.notify import Notifier
from wf.history.shared_read import SharedRead
from wf.history.statements import NAMESPACE_REGISTERED, NAMESPACES_CHANGED
from wf.history.store import NamespaceRecord, Store

DEFAULT_NAMESPACE = "default"
DEFAULT_RETENTION = timedelta(hours=72)
"""A namespace registered without a retention keeps closed runs this long, as Temporal's CLI."""


class Namespaces:
    """The registered namespaces, cached, and registering, describing, updating and deleting them."""

    def __init__(self, store: Store, limits: Limits) -> None:
        self.store = store
        self.limits = limits
        self._registered: dict[str, NamespaceRecord] = {}
        self.reload = SharedRead(self._read, "the namespaces")
        """Read the namespaces again (callers asking together share one read)."""

    async def start(self, notifier: Notifier | None = None) -> None:
        """Read the namespaces and follow their changes on every server."""
        await self.reload()
        if notifier is not None:
            notifier.subscribe(NAMESPACES_CHANGED, self.reload.on_notification)

    def close(self) -> None:
        self.reload.close()

    # -- the check every call takes --------------------------------------------------------------------

    async def check(self, name: str) -> None:
        """NotFound unless ``name`` is a registered namespace (read again once if it is unknown here)."""
        if name in self._registered:
            return
        await self.reload()
        if name not in self._registered:
            raise errors.NotFound(f"namespace {name} not found")

    def known(self, name: str) -> bool:
        """Whether ``name`` is registered, as this server last read (no statement)."""
        return name in self._registered

    # -- operations --------------------------------------------------------------------------------------

    async def register(self, name: str, description: str, owner_email: str, retention: timedelta | None) -> None:
        retention = DEFAULT_RETENTION if retention is None else retention
        self._check_retention(retention)
        if not await self.store.register_namespace(name, description, owner_email, retention):
            raise errors.AlreadyExists(f"namespace {name} already exists", "")
        await self.reload()

    async def describe(self, name: str) -> NamespaceRecord:
        await self.check(name)
        return self._registered[name]

    async def list(self, after: str, page_size: int) -> list[NamespaceRecord]:
        return await self.store.list_namespaces(after, page_size)

    async def update(
        self, name: str, description: str | None, owner_email: str | None, retention: timedelta | None
    ) -> NamespaceRecord:
        if retention is not None:
            self._check_retention(retention)
        updated = await self.store.update_namespace(name, description, owner_email, retention)
        if updated is None:
            raise errors.NotFound(f"namespace {name} not found")
        self._registered[name] = updated
        return updated

    async def delete(self, name: str) -> None:
        if name == DEFAULT_NAMESPACE:
            raise errors.FailedPrecondition(
                f"namespace {DEFAULT_NAMESPACE} cannot be deleted: clients and workers use it when they name none"
            )
        if not await self.store.delete_namespace(name):
            raise errors.NotFound(f"namespace {name} not found")
        self._registered.pop(name, None)

    def _check_retention(self, retention: timedelta) -> None:
        least = self.limits.min_namespace_retention
        if retention < least:
            described = setting_of(Limits, "min_namespace_retention")
            raise errors.InvalidArgument(
                f"retention of {_shown(retention)} is below the server's minimum of {_shown(least)} "
                f"(min_namespace_retention: lower it with `{described.flag}` or {described.env} on `wf server start`)"
            )

    # -- reading the registry ------------------------------------------------------------------------------

    async def _read(self) -> None:
        rows = await self.store.namespaces()
        self._registered = {r.name: r for r in rows if r.state == NAMESPACE_REGISTERED}


def _shown(d: timedelta) -> str:
    """A retention as a person writes it: ``72h``, ``30m``, ``90s``, ``7d``."""
    seconds = d.total_seconds()
    for unit, size in (("d", 86_400), ("h", 3_600), ("m", 60)):
        if seconds >= size and seconds % size == 0:
            return f"{seconds / size:g}{unit}"
    return f"{seconds:g}s"


__all__ = ["DEFAULT_NAMESPACE", "DEFAULT_RETENTION", "Namespaces"]
