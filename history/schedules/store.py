"""Where schedules live: the ``schedules`` table, its statements, and the transactions that change it.

Every change of a schedule reads its row ``FOR UPDATE`` and writes it back in one transaction, so
changes of one schedule never interleave across servers. The loop's tick (:meth:`ScheduleStore.tick`)
claims the due rows with ``FOR UPDATE SKIP LOCKED`` and writes, in that same transaction, the runs
they start (``Store.create_run_in``) and their new state: the runs and the high-water mark that
says their times are done commit together or not at all.
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, ParamSpec, TypeVar

import asyncpg
from sqlalchemy import bindparam, delete, func, insert, select, update

from wf.history.outage import DatabaseHealth
from wf.history.schema import schedules
from wf.history.statements import Statement
from wf.history.store import Mutation, Store, statement
from wf.history.visibility.attributes import document
from wf.v1 import common_pb2

P = ParamSpec("P")
R = TypeVar("R")
c = schedules.c


@dataclass(slots=True)
class ScheduleRow:
    """One ``schedules`` row as read (the bytes are serialized protos: wf.v1.Schedule, wf.v1.ScheduleRuntime,
    wf.v1.Memo, wf.v1.SearchAttributes)."""

    namespace: str
    schedule_id: str
    schedule: bytes
    state: bytes
    memo: bytes
    search_attributes: bytes
    search_document: str | None
    version: int
    next_wake: datetime | None
    created_at: datetime
    updated_at: datetime


@dataclass(slots=True)
class Tick:
    """What a tick decided for one claimed schedule: its new state and next wake, and the runs it
    starts (each a new run's mutation; a create refused, its id running or its request id used,
    is reported back through ``created``)."""

    row: ScheduleRow
    state: bytes
    next_wake: datetime | None
    schedule: bytes | None = None  # set when the tick changed it (remaining actions)
    runs: list[Mutation] = field(default_factory=list)
    created: list[list[int] | None] = field(default_factory=list)
    # Called once the runs are written, with what each create returned, before the state is: it
    # sets ``state``, ``schedule`` and ``next_wake`` from the runs that did start.
    finish: Callable[[list[list[int] | None]], None] | None = None


def search_document(schedule_id: str, attributes: common_pb2.SearchAttributes, paused: bool) -> str:
    """The JSON document ListSchedules' query reads: the schedule's typed custom search attributes,
    its id (ScheduleId) and whether it is paused (TemporalSchedulePaused)."""
    values: dict[str, Any] = json.loads(document(attributes) or "{}")
    values.update(ScheduleId=schedule_id, TemporalSchedulePaused=paused)
    return json.dumps(values, separators=(",", ":"), ensure_ascii=False, sort_keys=True)


def _row(r: asyncpg.Record) -> ScheduleRow:
    return ScheduleRow(**{name: r[name] for name in ScheduleRow.__slots__})


_key = (c.namespace == bindparam("namespace"), c.schedule_id == bindparam("schedule_id"))
INSERT = Statement(
    insert(schedules)
    .values(
        namespace=bindparam("namespace"), schedule_id=bindparam("schedule_id"), schedule=bindparam("schedule"),
        state=bindparam("state"), memo=bindparam("memo"), search_attributes=bindparam("search_attributes"),
        search_document=bindparam("search_document", type_=c.search_document.type), version=1,
        next_wake=bindparam("next_wake", type_=c.next_wake.type),
    )
    .returning(c.version)
)
GET = Statement(select(schedules).where(*_key))
GET_FOR_UPDATE = Statement(select(schedules).where(*_key).with_for_update())
PUT = Statement(
    update(schedules)
    .where(*_key)
    .values(
        schedule=bindparam("schedule"), state=bindparam("state"), memo=bindparam("memo"),
        search_attributes=bindparam("search_attributes"),
        search_document=bindparam("search_document", type_=c.search_document.type),
        version=bindparam("version"), next_wake=bindparam("next_wake", type_=c.next_wake.type),
        updated_at=func.now(),
    )
)
# A tick or a run's close: the run-time state and the next wake (and the schedule, whose remaining
# actions a tick counts down), not the conflict token.
PUT_STATE = Statement(
    update(schedules)
    .where(*_key)
    .values(
        schedule=bindparam("schedule"), state=bindparam("state"),
        next_wake=bindparam("next_wake", type_=c.next_wake.type),
    )
)
DELETE = Statement(delete(schedules).where(*_key).returning(c.schedule_id))
PAGE = Statement(
    select(schedules)
    .where(c.namespace == bindparam("namespace"), c.schedule_id > bindparam("after"))
    .order_by(c.schedule_id)
    .limit(bindparam("page_size"))
)
DUE = Statement(
    select(schedules)
    .where(c.next_wake <= func.now())
    .order_by(c.next_wake)
    .limit(bindparam("limit"))
    .with_for_update(skip_locked=True)
)
EARLIEST = Statement(select(func.min(c.next_wake)))
DELETE_NAMESPACE = Statement(delete(schedules).where(c.namespace == bindparam("namespace")))


def statements() -> list[Statement]:
    """Every statement of schedules (for tests that prepare them all)."""
    return [INSERT, GET, GET_FOR_UPDATE, PUT, PUT_STATE, DELETE, PAGE, DUE, EARLIEST, DELETE_NAMESPACE]


Change = Callable[[ScheduleRow], Awaitable[dict[str, Any] | None]]
"""A change of one schedule: given its row (locked), the new column values, or None to write nothing."""


class ScheduleStore:
    """Schedules in domain words; the SQL is above."""

    def __init__(self, store: Store) -> None:
        self.store = store

    @property
    def health(self) -> DatabaseHealth:
        return self.store.health

    @property
    def pool(self) -> asyncpg.Pool:
        return self.store.pool

    @statement
    async def create(self, values: dict[str, Any]) -> bool:
        """Insert a new schedule; False when its id is taken in its namespace."""
        try:
            return await INSERT.fetchval(self.pool, values) is not None
        except asyncpg.UniqueViolationError:
            return False

    @statement
    async def get(self, namespace: str, schedule_id: str) -> ScheduleRow | None:
        r = await GET.fetchrow(self.pool, namespace=namespace, schedule_id=schedule_id)
        return _row(r) if r is not None else None

    @statement
    async def change(self, namespace: str, schedule_id: str, fn: Change) -> ScheduleRow | None:
        """Apply ``fn`` to the schedule's locked row and write what it returns, in one transaction;
        the row as it was (None: no such schedule, nothing written)."""
        async with self.pool.acquire() as conn, conn.transaction():
            r = await GET_FOR_UPDATE.fetchrow(conn, namespace=namespace, schedule_id=schedule_id)
            if r is None:
                return None
            row = _row(r)
            values = await fn(row)
            if values is not None:
                full = {
                    "schedule": row.schedule, "state": row.state, "memo": row.memo,
                    "search_attributes": row.search_attributes, "search_document": row.search_document,
                    "version": row.version, "next_wake": row.next_wake,
                    **values, "namespace": namespace, "schedule_id": schedule_id,
                }
                await PUT.execute(conn, full)
            return row

    @statement
    async def delete(self, namespace: str, schedule_id: str) -> bool:
        return await DELETE.fetchrow(self.pool, namespace=namespace, schedule_id=schedule_id) is not None

    @statement
    async def page(self, namespace: str, after: str, page_size: int) -> list[ScheduleRow]:
        rows = await PAGE.fetch(self.pool, namespace=namespace, after=after, page_size=page_size)
        return [_row(r) for r in rows]

    @statement
    async def query(self, statement: Statement, params: dict[str, Any]) -> list[ScheduleRow]:
        """A page of schedules by a compiled list query (``Schedules.list``)."""
        return [_row(r) for r in await statement.fetch(self.pool, params)]

    @statement
    async def earliest_wake(self) -> datetime | None:
        value: datetime | None = await EARLIEST.fetchval(self.pool)
        return value

    @statement
    async def delete_namespace(self, namespace: str) -> None:
        await DELETE_NAMESPACE.execute(self.pool, namespace=namespace)

    @statement
    async def tick(self, limit: int, decide: Callable[[list[ScheduleRow]], Awaitable[Sequence[Tick]]]) -> list[Tick]:
        """Claim at most ``limit`` due schedules (none another server holds), let ``decide`` say what
        each does, and commit the runs it starts and the schedules' new state in one transaction."""
        async with self.pool.acquire() as conn, conn.transaction():
            rows = [_row(r) for r in await DUE.fetch(conn, limit=limit)]
            if not rows:
                return []
            ticks = list(await decide(rows))
            for t in ticks:
                t.created = [await self.store.create_run_in(conn, m) for m in t.runs]
                if t.finish is not None:
                    t.finish(t.created)
            await conn.executemany(
                PUT_STATE.sql,
                [
                    PUT_STATE.args({
                        "namespace": t.row.namespace, "schedule_id": t.row.schedule_id,
                        "schedule": t.schedule if t.schedule is not None else t.row.schedule,
                        "state": t.state, "next_wake": t.next_wake,
                    })
                    for t in ticks
                ],
            )
            return ticks
