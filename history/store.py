"""The execution store: wf's persistence in domain words, with the SQL behind it.

Every state change of an execution is written by one SQL statement (data-modifying CTEs), so one
round trip and one commit: the execution row is updated only if its ``db_version`` still is the one
that was read (optimistic concurrency), and the events, task rows and timer rows of the change are
written only if that update happened. A change that claims a task or a fired timer deletes that row in
the same statement and happens only if the row was still there, so a task or timer is claimed once
across all server processes.

The statements are built in ``wf.history.statements`` from the SQLAlchemy Core tables of
``wf.history.schema`` (which changes only through migrations), compiled once, and run with asyncpg
directly: asyncpg prepares each once per connection. Callers here pass parameters by name.
"""

from __future__ import annotations

import functools
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, Concatenate, ParamSpec, Protocol, TypeVar

import asyncpg

from wf.history import statements as S
from wf.history.errors import ConcurrentUpdate, Unavailable, from_driver
from wf.history.outage import DatabaseHealth
from wf.history.tasks import TaskKind, TaskRow, TimerKind, TimerRow

P = ParamSpec("P")
R = TypeVar("R")


@dataclass(slots=True)
class ExecutionRecord:
    """One execution row as read (``state`` is the serialized wf.v1.MutableState)."""

    namespace: str
    workflow_id: str
    run_id: str
    workflow_type: str
    task_queue: str
    status: int
    start_time: datetime
    close_time: datetime | None
    request_id: str
    next_event_id: int
    history_size: int
    db_version: int
    state: bytes
    # Visibility: the built-in search attributes that are not columns above, and the custom ones as
    # a JSON document (``wf.history.visibility.attributes.document``), set by ``Execution.mutation``.
    execution_time: datetime | None = None
    parent_workflow_id: str | None = None
    parent_run_id: str | None = None
    root_workflow_id: str | None = None
    root_run_id: str | None = None
    search_attributes: str | None = None
    # What the run cost (``MutableState.cost`` mirrored, the built-in search attributes of cost).
    workflow_task_attempts: int = 0
    activity_attempts: int = 0
    payload_bytes_in: int = 0
    payload_bytes_out: int = 0


@dataclass(slots=True)
class Mutation:
    """Everything one operation changes, written atomically by :meth:`Store.write`."""

    record: ExecutionRecord
    # The version that was read; 0 creates the execution.
    expected_version: int
    events: list[tuple[int, int, bytes]] = field(default_factory=list)
    tasks: list[TaskRow] = field(default_factory=list)
    timers: list[TimerRow] = field(default_factory=list)
    deleted_timer_keys: list[str] = field(default_factory=list)
    # Task rows and fired timers this change consumes: the change happens only if all still exist.
    claimed_task_ids: list[int] = field(default_factory=list)
    # Fired timers by key, with the fire time of the row that fired: a row set anew since is not consumed.
    claimed_timers: dict[str, datetime] = field(default_factory=dict)
    # The run closes: its remaining task and timer rows go.
    closes: bool = False
    # A new run of the same workflow id created in the same transaction, once this run has closed
    # (continue-as-new); its create is refused, and the whole change with it, as any create's.
    then_create: Mutation | None = None


@dataclass(slots=True)
class NamespaceRecord:
    """One namespace row as read (``state``: wf.v1.NamespaceState's number)."""

    name: str
    state: int
    description: str
    owner_email: str
    retention: timedelta
    created_at: datetime
    updated_at: datetime


class WriteRejected(Exception):
    """A create whose workflow id is taken, or a change whose claimed row was already gone."""


def _change(m: Mutation) -> dict[str, Any]:
    """The parameters every write of ``m`` takes: its run and the parallel arrays of its rows."""
    r = m.record
    return {
        "namespace": r.namespace,
        "workflow_id": r.workflow_id,
        "run_id": r.run_id,
        "event_ids": [e[0] for e in m.events],
        "event_types": [e[1] for e in m.events],
        "event_data": [e[2] for e in m.events],
        "task_queues": [t.task_queue for t in m.tasks],
        "task_kinds": [int(t.kind) for t in m.tasks],
        "task_scheduled_event_ids": [t.scheduled_event_id for t in m.tasks],
        "task_attempts": [t.attempt for t in m.tasks],
        "timer_keys": [t.key for t in m.timers],
        "timer_fire_ats": [t.fire_at for t in m.timers],
        "timer_kinds": [int(t.kind) for t in m.timers],
        "timer_event_ids": [t.event_id for t in m.timers],
        "timer_attempts": [t.attempt for t in m.timers],
        "deleted_timer_keys": m.deleted_timer_keys,
        "status": r.status,
        "next_event_id": r.next_event_id,
        "history_size": r.history_size,
        "state": r.state,
        "search_attributes": r.search_attributes,
        **{name: getattr(r, name) for name in S.COST_COLUMNS},
    }


class HasHealth(Protocol):
    """A store of statements: it tells the process's :class:`DatabaseHealth` how each one went."""

    @property
    def health(self) -> DatabaseHealth: ...


H_ = TypeVar("H_", bound=HasHealth)


def statement(
    method: Callable[Concatenate[H_, P], Awaitable[R]],
) -> Callable[Concatenate[H_, P], Awaitable[R]]:
    """The driver's errors of a store method, in history's words (``errors.from_driver``), and the
    method's outcome told to the store's :class:`DatabaseHealth`.

    Every statement runs in a store (``Store`` here, and the stores of schedules and of the audit
    log), so this is the one place a driver error is translated: above it, a database that cannot
    serve now is :class:`~wf.history.errors.Unavailable` (which callers retry), a value the database
    refuses is ``InvalidArgument``, and anything else stays what it was, a bug to be logged in full.
    """

    @functools.wraps(method)
    async def run(self: H_, /, *args: P.args, **kwargs: P.kwargs) -> R:
        health = self.health
        started = health.now()
        try:
            result = await method(self, *args, **kwargs)
        except Exception as exc:
            error = from_driver(exc)
            if error is None:
                raise
            if isinstance(error, Unavailable):
                health.failed(f"{type(self).__name__}.{method.__name__}", exc)
            raise error from exc
        health.ok(started)
        return result

    return run




class Store:
    """wf's persistence: executions, history events, task rows and timer rows.

    Every statement it runs is in :mod:`wf.history.statements`, built from the schema's tables.
    Each method raises history's errors, never the driver's (see :func:`statement`).
    """

    def __init__(self, pool: asyncpg.Pool, health: DatabaseHealth | None = None) -> None:
        self.pool = pool
        # Told of every statement's outcome: the process's one log of database outages.
        self.health = health or DatabaseHealth()

    @statement
    async def write(self, m: Mutation) -> list[int]:
        """Write one change atomically; returns the ids given to ``m.tasks``, in order, followed by
        those given to ``m.then_create.tasks`` when it creates a run too.

        A change alone is one statement. A change that also creates the run it continues as is two,
        in one transaction on one connection: the update closes the run first, so that it has left
        the running runs of its workflow id (the partial unique index ``executions_one_running``)
        before the create enters the new one; either refused rolls both back.

        Raises:
            WriteRejected: a create found the id taken (or the request id used), or a claimed task or
                timer row was already gone.
            ConcurrentUpdate: the execution's version is no longer ``m.expected_version``.
        """
        if m.then_create is None:
            return await self._write(self.pool, m)
        async with self.pool.acquire() as conn, conn.transaction():
            closed = await self._write(conn, m)
            return closed + await self._write(conn, m.then_create)

    async def _write(self, db: S.Executor, m: Mutation) -> list[int]:
        r = m.record
        params = _change(m)
        if m.expected_version == 0:
            params["workflow_type"] = r.workflow_type
            params["task_queue"] = r.task_queue
            params["start_time"] = r.start_time
            params["request_id"] = r.request_id
            params.update((name, getattr(r, name)) for name in S.VISIBILITY_COLUMNS)
            row = await S.CREATE.fetchrow(db, params)
            assert row is not None
            if not row["written"]:
                raise WriteRejected("workflow id taken or request id already used")
            return list(row["task_ids"] or ())
        statement = S.UPDATE[(bool(m.claimed_task_ids), bool(m.claimed_timers), m.closes)]
        params["close_time"] = r.close_time
        params["expected_version"] = m.expected_version
        params["claimed_task_ids"] = m.claimed_task_ids
        params["claimed_timer_keys"] = list(m.claimed_timers)
        params["claimed_timer_fire_ats"] = list(m.claimed_timers.values())
        try:
            row = await statement.fetchrow(db, params)
        except asyncpg.PostgresError as exc:
            if getattr(exc, "sqlstate", None) != "WF001":
                raise
            if str(exc) == "claim":
                raise WriteRejected("task or timer already taken") from None
            raise ConcurrentUpdate(f"{r.workflow_id}/{r.run_id} changed since it was read") from None
        assert row is not None
        return list(row["task_ids"] or ())

    @statement
    async def load(self, namespace: str, workflow_id: str, run_id: str) -> ExecutionRecord | None:
        row = await S.LOAD.fetchrow(self.pool, namespace=namespace, workflow_id=workflow_id, run_id=run_id)
        return ExecutionRecord(**dict(row)) if row is not None else None

    @statement
    async def latest_run(self, namespace: str, workflow_id: str) -> ExecutionRecord | None:
        """The running run of a workflow id, or else its most recently started one."""
        row = await S.LATEST_RUN.fetchrow(self.pool, namespace=namespace, workflow_id=workflow_id)
        return ExecutionRecord(**dict(row)) if row is not None else None

    @statement
    async def run_for_request(self, namespace: str, workflow_id: str, request_id: str) -> str | None:
        return await S.RUN_FOR_REQUEST.fetchval(  # type: ignore[no-any-return]
            self.pool, namespace=namespace, workflow_id=workflow_id, request_id=request_id
        )

    @statement
    async def read_events(
        self, namespace: str, workflow_id: str, run_id: str, first_event_id: int = 1, limit: int = 0
    ) -> list[bytes]:
        """Serialized events from ``first_event_id`` on, in order (``limit`` 0: all)."""
        rows = await S.READ_EVENTS.fetch(
            self.pool,
            namespace=namespace,
            workflow_id=workflow_id,
            run_id=run_id,
            first_event_id=first_event_id,
            limit=limit if limit > 0 else None,
        )
        return [r["data"] for r in rows]

    @statement
    async def read_event(self, namespace: str, workflow_id: str, run_id: str, event_id: int) -> bytes | None:
        return await S.READ_EVENT.fetchval(  # type: ignore[no-any-return]
            self.pool, namespace=namespace, workflow_id=workflow_id, run_id=run_id, event_id=event_id
        )

    @statement
    async def backlog(
        self, namespace: str, task_queue: str, kind: TaskKind, after_id: int, limit: int
    ) -> list[TaskRow]:
        """Task rows of a queue in id order, past ``after_id`` (claimed later, by :meth:`write`).

        Workflow pollers also take query tasks: both come back for ``TaskKind.WORKFLOW``.
        """
        kinds = [int(TaskKind.WORKFLOW), int(TaskKind.QUERY)] if kind == TaskKind.WORKFLOW else [int(kind)]
        rows = await S.BACKLOG.fetch(
            self.pool, namespace=namespace, task_queue=task_queue, kinds=kinds, after_id=after_id, limit=limit
        )
        return [
            TaskRow(
                namespace,
                task_queue,
                TaskKind(r["kind"]),
                r["workflow_id"],
                r["run_id"],
                r["scheduled_event_id"],
                r["attempt"],
                r["id"],
            )
            for r in rows
        ]

    @statement
    async def backlog_size(self, namespace: str, task_queue: str, kind: TaskKind) -> int:
        return await S.BACKLOG_SIZE.fetchval(  # type: ignore[no-any-return]
            self.pool, namespace=namespace, task_queue=task_queue, kind=int(kind)
        )

    @statement
    async def due_timers(self, until: datetime, limit: int) -> list[TimerRow]:
        """The first ``limit`` timers due at or before ``until``, soonest first."""
        rows = await S.DUE_TIMERS.fetch(self.pool, until=until, limit=limit)
        return [
            TimerRow(
                r["namespace"],
                r["workflow_id"],
                r["run_id"],
                r["timer_key"],
                r["fire_at"],
                TimerKind(r["kind"]),
                r["event_id"],
                r["attempt"],
            )
            for r in rows
        ]

    @statement
    async def list_executions(
        self, namespace: str, statement: S.Statement, params: Mapping[str, Any], page_size: int
    ) -> list[ExecutionRecord]:
        """A page of runs by a statement of :func:`wf.history.statements.visible_runs`."""
        rows = await statement.fetch(self.pool, {**params, "namespace": namespace, "page_size": page_size})
        return [ExecutionRecord(**dict(r)) for r in rows]

    @statement
    async def count_executions(
        self, namespace: str, statement: S.Statement, params: Mapping[str, Any]
    ) -> list[tuple[int | None, int]]:
        """(status or None, count) rows of a statement of :func:`wf.history.statements.count_runs`."""
        rows = await statement.fetch(self.pool, {**params, "namespace": namespace})
        return [(r["status"] if "status" in r else None, r["count"]) for r in rows]

    # -- the search attributes registry -----------------------------------------------------------

    @statement
    async def search_attributes(self, namespace: str) -> dict[str, int]:
        """The custom search attributes registered in ``namespace``: name → IndexedValueType."""
        rows = await S.SEARCH_ATTRIBUTES.fetch(self.pool, namespace=namespace)
        return {r["name"]: r["type"] for r in rows}

    @statement
    async def all_search_attributes(self) -> dict[str, dict[str, int]]:
        """Every namespace's custom search attributes: namespace → name → IndexedValueType."""
        found: dict[str, dict[str, int]] = {}
        for r in await S.ALL_SEARCH_ATTRIBUTES.fetch(self.pool):
            found.setdefault(r["namespace"], {})[r["name"]] = r["type"]
        return found

    @statement
    async def add_search_attributes(self, namespace: str, types: Mapping[str, int]) -> dict[str, int]:
        """Register names not registered yet; returns each asked name with the type it now has."""
        names = sorted(types)
        rows = await S.ADD_SEARCH_ATTRIBUTES.fetch(
            self.pool, namespace=namespace, names=names, types=[types[n] for n in names]
        )
        return {r["name"]: r["type"] for r in rows}

    @statement
    async def remove_search_attributes(self, namespace: str, names: Sequence[str]) -> list[str]:
        """Unregister names; returns those that were registered."""
        rows = await S.REMOVE_SEARCH_ATTRIBUTES.fetch(self.pool, namespace=namespace, names=list(names))
        return [r["name"] for r in rows]

    @statement
    async def drop_task(self, task_id: int) -> None:
        """Remove a task row whose task is gone (its run closed, or it was answered elsewhere)."""
        await S.DROP_TASK.execute(self.pool, task_id=task_id)

    @statement
    async def drop_timer(self, namespace: str, workflow_id: str, run_id: str, timer_key: str) -> None:
        """Remove a timer row whose run is gone."""
        await S.DROP_TIMER.execute(
            self.pool, namespace=namespace, workflow_id=workflow_id, run_id=run_id, timer_key=timer_key
        )

    # -- queries ------------------------------------------------------------------------------------

    @statement
    async def create_query(
        self, namespace: str, workflow_id: str, run_id: str, task_queue: str, query_type: str, args: bytes
    ) -> tuple[int, int]:
        """A query and the task row that hands it to a workflow worker; returns (query id, task id)."""
        created = await self._create_query(
            S.CREATE_QUERY, TaskKind.QUERY, namespace, workflow_id, run_id, task_queue, query_type, args
        )
        assert created is not None
        return created

    @statement
    async def create_waiting_query(
        self, namespace: str, workflow_id: str, run_id: str, task_queue: str, query_type: str, args: bytes,
        at_most: int,
    ) -> tuple[int, int] | None:
        """A query that waits for the run's workflow task, unless ``at_most`` wait already (None
        then); returns (query id, task id). Its task row is handed out once :meth:`release_query`."""
        return await self._create_query(
            S.CREATE_WAITING_QUERY, TaskKind.QUERY_AFTER_TASK, namespace, workflow_id, run_id, task_queue,
            query_type, args, at_most=at_most,
        )

    async def _create_query(
        self, statement: S.Statement, kind: TaskKind, namespace: str, workflow_id: str, run_id: str,
        task_queue: str, query_type: str, args: bytes, **more: int,
    ) -> tuple[int, int] | None:
        row = await statement.fetchrow(
            self.pool,
            namespace=namespace,
            workflow_id=workflow_id,
            run_id=run_id,
            task_queue=task_queue,
            query_type=query_type,
            args=args,
            kind=int(kind),
            **more,
        )
        return None if row is None else (int(row["scheduled_event_id"]), int(row["id"]))

    @statement
    async def release_query(self, task_id: int) -> bool:
        """A waiting query's task row becomes one workflow pollers take; False if it was not waiting."""
        released = await S.RELEASE_QUERY.fetchval(
            self.pool, task_id=task_id, waiting_kind=int(TaskKind.QUERY_AFTER_TASK), kind=int(TaskKind.QUERY)
        )
        return released is not None

    @statement
    async def claim_query(self, task_id: int, query_id: int) -> tuple[str, bytes] | None:
        """Take a query's task row; (query type, args) if both were still there."""
        row = await S.CLAIM_QUERY.fetchrow(self.pool, task_id=task_id, query_id=query_id)
        return (row["query_type"], row["args"]) if row is not None else None

    @statement
    async def answer_query(self, query_id: int, result: bytes, error: str) -> bool:
        """Record a worker's answer; False when the query is gone or was already answered."""
        answered = await S.ANSWER_QUERY.fetchval(self.pool, query_id=query_id, result=result, error=error or None)
        return answered is not None

    @statement
    async def take_query(self, query_id: int, task_id: int) -> tuple[bool, bytes | None, str | None]:
        """Remove a query (and its task row if still waiting); (answered, result, error)."""
        row = await S.TAKE_QUERY.fetchrow(self.pool, query_id=query_id, task_id=task_id)
        if row is None:
            return False, None, None
        return bool(row["answered"]), row["result"], row["error"]

    # -- task-token keys ----------------------------------------------------------------------------

    @statement
    async def token_keys(self) -> list[tuple[int, bytes, datetime, datetime | None]]:
        """Every task-token key, oldest first: (id, secret, created at, retire at)."""
        rows = await S.TOKEN_KEYS.fetch(self.pool)
        return [(r["id"], r["secret"], r["created_at"], r["retire_at"]) for r in rows]

    @statement
    async def add_first_token_key(self, secret: bytes) -> None:
        """Add key 1 with ``secret``, unless the database has a key already."""
        await S.FIRST_TOKEN_KEY.execute(self.pool, secret=secret)

    @statement
    async def rotate_token_key(self, secret: bytes, grace: timedelta) -> tuple[int, datetime] | None:
        """Add the next key with ``secret`` and retire the others ``grace`` from now, telling every
        server; (new key id, when the others retire), or None if another rotation took the id."""
        row = await S.ROTATE_TOKEN_KEY.fetchrow(self.pool, secret=secret, grace=grace)
        return None if row is None else (int(row["id"]), row["retire_at"])

    # -- pollers --------------------------------------------------------------------------------------

    @statement
    async def record_pollers(self, seen: Sequence[tuple[str, str, TaskKind, str, datetime]]) -> None:
        """Upsert the polls of ``seen`` (namespace, task queue, kind, identity, last poll) in one
        statement; a row already later than its poll here keeps its time."""
        await S.RECORD_POLLERS.execute(
            self.pool,
            namespaces=[s[0] for s in seen],
            task_queues=[s[1] for s in seen],
            kinds=[int(s[2]) for s in seen],
            identities=[s[3] for s in seen],
            last_polls=[s[4] for s in seen],
        )

    @statement
    async def pollers(
        self, namespace: str, task_queue: str, kind: TaskKind, since: datetime
    ) -> list[tuple[str, datetime]]:
        """The (identity, last poll) of the workers any server saw polling the queue since ``since``."""
        rows = await S.POLLERS.fetch(
            self.pool, namespace=namespace, task_queue=task_queue, kind=int(kind), since=since
        )
        return [(r["identity"], r["last_poll"]) for r in rows]

    @statement
    async def forget_pollers(self, before: datetime) -> None:
        """Delete the pollers last seen before ``before``."""
        await S.FORGET_POLLERS.execute(self.pool, before=before)

    # -- namespaces -----------------------------------------------------------------------------------

    @statement
    async def namespaces(self) -> list[NamespaceRecord]:
        """Every namespace row, deleted ones too, by name."""
        return [NamespaceRecord(**dict(r)) for r in await S.NAMESPACES.fetch(self.pool)]

    @statement
    async def list_namespaces(self, after: str, page_size: int) -> list[NamespaceRecord]:
        """Namespaces not deleted whose name sorts after ``after``, by name, at most ``page_size``."""
        rows = await S.LIST_NAMESPACES.fetch(self.pool, after=after, page_size=page_size)
        return [NamespaceRecord(**dict(r)) for r in rows]

    @statement
    async def register_namespace(self, name: str, description: str, owner_email: str, retention: timedelta) -> bool:
        """Add a namespace and tell every server; False when the name is taken."""
        row = await S.REGISTER_NAMESPACE.fetchrow(
            self.pool, name=name, description=description, owner_email=owner_email, retention=retention
        )
        return row is not None

    @statement
    async def update_namespace(
        self, name: str, description: str | None, owner_email: str | None, retention: timedelta | None
    ) -> NamespaceRecord | None:
        """Change what is not None of a registered namespace and tell every server; None if there is none."""
        row = await S.UPDATE_NAMESPACE.fetchrow(
            self.pool, name=name, description=description, owner_email=owner_email, retention=retention
        )
        if row is None:
            return None
        values = dict(row)
        values.pop("told")
        return NamespaceRecord(**values)

    @statement
    async def delete_namespace(self, name: str) -> bool:
        """Mark a registered namespace deleted and tell every server; False if there is none."""
        return await S.DELETE_NAMESPACE.fetchrow(self.pool, name=name) is not None

    # -- deleting runs --------------------------------------------------------------------------------

    @statement
    async def delete_due_runs(self, batch: int) -> list[tuple[str, str, str]]:
        """Delete at most ``batch`` closed runs past their namespace's retention, with their rows,
        in one statement (its own transaction); the runs deleted."""
        return [(r[0], r[1], r[2]) for r in await S.DELETE_DUE_RUNS.fetch(self.pool, batch=batch)]

    @statement
    async def delete_namespace_runs(self, namespace: str, batch: int) -> list[tuple[str, str, str]]:
        """Delete at most ``batch`` runs of the deleted ``namespace``; the runs deleted."""
        rows = await S.DELETE_NAMESPACE_RUNS.fetch(self.pool, namespace=namespace, batch=batch)
        return [(r[0], r[1], r[2]) for r in rows]

    @statement
    async def deleted_namespaces(self) -> list[str]:
        """The namespaces marked deleted whose runs may still be there."""
        return [r[0] for r in await S.DELETED_NAMESPACES.fetch(self.pool)]

    @statement
    async def drop_deleted_namespace(self, namespace: str) -> bool:
        """Remove a deleted namespace that has no runs left; False while it has some."""
        return await S.DROP_DELETED_NAMESPACE.fetchrow(self.pool, namespace=namespace) is not None

    @statement
    async def delete_closed_run(self, namespace: str, workflow_id: str, run_id: str) -> bool:
        """Delete a closed run with its rows; False if it is running, gone, or its close still has
        a cross-run task to deliver."""
        row = await S.DELETE_CLOSED_RUN.fetchrow(self.pool, namespace=namespace, workflow_id=workflow_id, run_id=run_id)
        return row is not None

    # -- schedules (``wf.history.schedules.store``) ------------------------------------------------------

    async def create_run_in(self, db: S.Executor, m: Mutation) -> list[int] | None:
        """Create a new run on ``db``, a connection in a transaction its caller holds (a schedule's
        tick writes the runs it starts with the schedule's new state); the ids of its task rows, or
        None when its workflow id has a running run or its request id was used (nothing written).
        The caller translates the driver's errors."""
        try:
            return await self._write(db, m)
        except WriteRejected:
            return None
