"""The registry of custom search attributes per namespace, read through a short-lived cache.

The table ``search_attributes`` is the truth. Each server caches a namespace's registry for
:data:`FRESH_FOR` seconds and drops its copy when it changes it, so a change made on this server is
seen at once here and within that time on every other server (Temporal's own registry cache is
eventually consistent the same way).
"""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence

from wf.history.errors import AlreadyExists, InvalidArgument, NotFound
from wf.history.store import Store
from wf.history.visibility.attributes import TYPE_NAMES, check_custom_name, type_name

FRESH_FOR = 2.0
# Custom search attributes one namespace may register.
MAX_PER_NAMESPACE = 1000


class Registry:
    def __init__(self, store: Store) -> None:
        self.store = store
        self._cache: dict[str, tuple[float, dict[str, int]]] = {}

    async def of(self, namespace: str) -> dict[str, int]:
        """The namespace's custom search attributes: name → IndexedValueType."""
        cached = self._cache.get(namespace)
        if cached is not None and time.monotonic() - cached[0] < FRESH_FOR:
            return cached[1]
        types = await self.store.search_attributes(namespace)
        self._cache[namespace] = (time.monotonic(), types)
        return types

    def cached(self, namespace: str) -> dict[str, int]:
        """The namespace's registry as last read (empty when never read): for checks that run inside
        a change, after :meth:`of` read it (``WorkflowTasks.ready_for``)."""
        cached = self._cache.get(namespace)
        return cached[1] if cached is not None else {}

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
        self._cache.pop(namespace, None)
        now = await self.store.add_search_attributes(namespace, types)
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
        self._cache.pop(namespace, None)
        await self.store.remove_search_attributes(namespace, names)
