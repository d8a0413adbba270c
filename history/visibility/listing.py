"""Listing and counting runs by a list query: compiled once per query and registry, paged by keyset.

A page token is opaque to callers: the order it was taken in and the last run's values of that
order's columns (base64 of JSON). The next page is the index range after those values, so runs
started meanwhile (they sort before the page in the default order) neither shift nor repeat it.
In an order of cost (``ORDER BY StateTransitionCount DESC``…) the value is the last run's count
and the run id breaks ties, so runs started meanwhile are placed by their own count and never
shift a page; no index holds these orders, so each page sorts the runs the filters select. A
running run's count grows: one that passes the cursor between two pages is where its new count
puts it, as a running run that closes between two pages of ``ORDER BY CloseTime`` is.
"""

from __future__ import annotations

import base64
import binascii
import json
from collections import OrderedDict
from datetime import datetime
from typing import Any

from wf.history import statements as S
from wf.history.errors import InvalidArgument
from wf.history.store import ExecutionRecord, Store
from wf.history.visibility.query import ORDERABLE_COST, STATUS_NAMES, Compiled, compile_query
from wf.history.visibility.registry import Registry

# Compiled queries kept per server (by namespace, query text and the registry it was compiled over).
_CACHED = 512
MAX_PAGE_SIZE = 1000
DEFAULT_PAGE_SIZE = 100


class Visibility:
    def __init__(self, store: Store, registry: Registry) -> None:
        self.store = store
        self.registry = registry
        self._compiled: OrderedDict[tuple[Any, ...], tuple[Compiled, S.Statement, S.Statement | None]] = OrderedDict()

    async def _compile(
        self, namespace: str, query: str, counting: bool
    ) -> tuple[Compiled, S.Statement, S.Statement | None]:
        types = await self.registry.of(namespace)
        key = (namespace, query, counting, tuple(sorted(types.items())))
        found = self._compiled.get(key)
        if found is not None:
            self._compiled.move_to_end(key)
            return found
        c = compile_query(query, types, counting=counting)
        entry: tuple[Compiled, S.Statement, S.Statement | None]
        if counting:
            entry = (c, S.count_runs(c.where, c.group_by_status), None)
        else:
            entry = (
                c,
                S.visible_runs(c.where, c.order, c.ascending, paged=False),
                S.visible_runs(c.where, c.order, c.ascending, paged=True),
            )
        self._compiled[key] = entry
        if len(self._compiled) > _CACHED:
            self._compiled.popitem(last=False)
        return entry

    async def list_page(
        self, namespace: str, query: str, page_size: int, token: bytes
    ) -> tuple[list[ExecutionRecord], bytes]:
        """A page of runs matching ``query`` and the token of the next page (empty: no more)."""
        c, first, paged = await self._compile(namespace, query, counting=False)
        size = min(page_size, MAX_PAGE_SIZE) if page_size > 0 else DEFAULT_PAGE_SIZE
        params = dict(c.params)
        statement = first
        if token:
            assert paged is not None
            params.update(_read_token(token, c))
            statement = paged
        records = await self.store.list_executions(namespace, statement, params, size)
        next_token = _token(records[-1], c) if len(records) == size else b""
        return records, next_token

    async def count(self, namespace: str, query: str) -> tuple[int, list[tuple[str, int]]]:
        """How many runs match ``query``; with GROUP BY ExecutionStatus, (status name, count) too."""
        c, statement, _ = await self._compile(namespace, query, counting=True)
        rows = await self.store.count_executions(namespace, statement, c.params)
        total = sum(n for _, n in rows)
        groups = [(STATUS_NAMES.get(status, str(status)), n) for status, n in rows if status is not None]
        return total, groups


def _order_of(c: Compiled) -> str:
    return f"{c.order or ''}:{'asc' if c.ascending else 'desc'}"


_COST_COLUMNS = frozenset(ORDERABLE_COST.values())
_INT64 = (-(2**63), 2**63 - 1)


def _token(last: ExecutionRecord, c: Compiled) -> bytes:
    value: Any
    if c.order is None or c.order == "close_order":
        value = last.close_time
    else:
        value = getattr(last, c.order)
    body = {
        "o": _order_of(c),
        "v": value if isinstance(value, int) else value.isoformat() if value is not None else None,
        "s": last.start_time.isoformat(),
        "r": last.run_id,
    }
    return base64.urlsafe_b64encode(json.dumps(body, separators=(",", ":")).encode())


def _read_token(token: bytes, c: Compiled) -> dict[str, Any]:
    try:
        body = json.loads(base64.urlsafe_b64decode(token))
        order = body["o"]
    except (ValueError, KeyError, TypeError, binascii.Error) as exc:
        raise InvalidArgument("next_page_token is malformed") from exc
    if order != _order_of(c):
        raise InvalidArgument("next_page_token belongs to a list in another order: pass the same query")
    try:
        value: datetime | int | None
        if c.order in _COST_COLUMNS:
            value = body["v"]
            if not isinstance(value, int) or isinstance(value, bool) or not _INT64[0] <= value <= _INT64[1]:
                raise TypeError("a count is a 64-bit integer")
        else:
            value = datetime.fromisoformat(body["v"]) if body["v"] is not None else None
        after = {"after_order": value, "after_run_id": str(body["r"])}
        if c.order is None:
            after["after_start_time"] = datetime.fromisoformat(body["s"])
    except (ValueError, KeyError, TypeError) as exc:
        raise InvalidArgument("next_page_token is malformed") from exc
    if c.order is not None and value is None and c.order != "close_order":
        raise InvalidArgument("next_page_token is malformed")
    return after
