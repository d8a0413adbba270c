"""The registry of custom search attributes per namespace, cached as the namespaces are.

The table ``search_attributes`` is the truth. Each server holds all of it in memory and reads it
again (``wf.history.shared_read``) when a server changes it and announces so (``sa`` on the ``wf``
channel), when its listener reconnects, and when a caller names an attribute it does not know, so a
start, a list query or a workflow task's check costs no statement.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence

from wf.history.errors import AlreadyExists, InvalidArgument, NotFound
from wf.history.notify import Notifier
from wf.history.shared_read import SharedRead
from wf.history.store import Store
from wf.history.visibility.attributes import TYPE_NAMES, check_custom_name, type_name

# The notification that tells every server to read the registry again.
CHANGED = "sa"
# Custom search attributes one namespace may register.
MAX_PER_NAMESPACE = 1000


class Registry:
    def __init__(self, store: Store) -> None:
        self.store = store
        self._notifier: Notifier | None = None
        # namespace → name → IndexedValueType, as last read; None until the first read.
        self._types: dict[str, dict[str, int]] | None = None
        self.reload = SharedRead(self._read, "the search attributes")
        """Read the registry again (callers asking together share one read)."""

    async def start(self, notifier: Notifier | None = None) -> None:
        """Read the registry and follow its changes on every server."""
        await self.reload()
        self._notifier = notifier
        if notifier is not None:
            notifier.subscribe(CHANGED, self.reload.on_notification)

    def close(self) -> None:
        self.reload.close()

    async def _read(self) -> None:
        self._types = await self.store.all_search_attributes()

    async def of(self, namespace: str, names: Iterable[str] = ()) -> dict[str, int]:
        """The namespace's custom search attributes: name → IndexedValueType. Read again first when
        ``names`` holds one this server does not know (another server may have just registered it)."""
        types = self._types
        if types is None or any(n not in types.get(namespace, {}) for n in names):
            await self.reload()
            types = self._types
        assert types is not None
        return types.get(namespace, {})

    def cached(self, namespace: str) -> dict[str, int]:
        """The namespace's registry as last read: for checks that run inside a change, after
        :meth:`of` made sure it knows the names they need (``WorkflowTasks.ready_for``)."""
        return (self._types or {}).get(namespace, {})

    async def _changed(self) -> None:
        """This server changed the registry: read it now, and tell the others."""
        await self.reload()
        if self._notifier is not None:
            self._notifier.publish(CHANGED, "")

    async def add(self, namespace: str, types: Mapping[str, int]) -> None:
        """Register names with their types; a name registered with another type is refused
        (ALREADY_EXISTS), one registered with the same type is accepted again."""
        if not types:
            raise InvalidArgument("search_attributes: name at least one search attribute to add")
        for name, value_type in types.items():
            check_custom_name(name)
            if value_type not in TYPE_NAMES:
                raise InvalidArgument(
                    f"search attribute {name!r}: type must be one of {', '.join(TYPE_NAMES.values())}"
                )
        current = await self.store.search_attributes(namespace)
        if len(set(current) | set(types)) > MAX_PER_NAMESPACE:
            raise InvalidArgument(f"a namespace may register at most {MAX_PER_NAMESPACE} custom search attributes")
        now = await self.store.add_search_attributes(namespace, types)
        await self._changed()
        clashes = [n for n, t in types.items() if now.get(n, t) != t]
        if clashes:
            name = clashes[0]
            raise AlreadyExists(
                f"search attribute {name!r} is already registered with type {type_name(now[name])}", ""
            )

    async def remove(self, namespace: str, names: Sequence[str]) -> None:
        """Unregister names (NOT_FOUND names one that is not registered, and nothing is removed)."""
        if not names:
            raise InvalidArgument("search_attributes: name at least one search attribute to remove")
        current = await self.store.search_attributes(namespace)
        missing = [n for n in names if n not in current]
        if missing:
            raise NotFound(f"search attribute {missing[0]!r} is not registered in namespace {namespace!r}")
        await self.store.remove_search_attributes(namespace, names)
        await self._changed()
