"""The execution store: wf's persistence in domain words, with the SQL behind it.

Every state change of an execution is written by one SQL statement (data-modifying CTEs), so one
round trip and one commit: the execution row is updated only if its ``db_version`` still is the one
that was read (optimistic concurrency), and the events, task rows and timer rows of the change are
written only if that update happened. A change that claims a task or a fired timer deletes that row in
the same statement and happens only if the row was still there, so a task or timer is claimed once
across all server processes.

The hot path uses asyncpg directly with prepared statements; the schema itself lives in
``history.schema`` and changes only through migrations.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import asyncpg

from history.errors import ConcurrentUpdate
from history.tasks import TaskKind, TaskRow, TimerKind, TimerRow


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


class WriteRejected(Exception):
    """A create whose workflow id is taken, or a change whose claimed row was already gone."""


_EXEC_COLUMNS = (
    "namespace, workflow_id, run_id, workflow_type, task_queue, status, start_time, close_time, "
    "request_id, next_event_id, history_size, db_version, state"
)

# Parameters shared by both statements: $1-$3 the run, $4.. the parts of the change.
_CHILD_WRITES = """
, ev AS (
  INSERT INTO history_events (namespace, workflow_id, run_id, event_id, event_type, data)
  SELECT $1, $2, $3, e.id, e.t, e.d FROM unnest($4::bigint[], $5::smallint[], $6::bytea[]) AS e(id, t, d)
  WHERE EXISTS (SELECT 1 FROM {gate})
), tk AS (
  INSERT INTO tasks (namespace, task_queue, kind, workflow_id, run_id, scheduled_event_id, attempt)
  SELECT $1, t.q, t.k, $2, $3, t.s, t.a
  FROM unnest($7::text[], $8::smallint[], $9::bigint[], $10::int[]) WITH ORDINALITY AS t(q, k, s, a, n)
  WHERE EXISTS (SELECT 1 FROM {gate})
  ORDER BY t.n
  RETURNING id
), tm AS (
  INSERT INTO timers (namespace, workflow_id, run_id, timer_key, fire_at, kind, event_id, attempt)
  SELECT $1, $2, $3, m.key, m.f, m.k, m.e, m.a
  FROM unnest($11::text[], $12::timestamptz[], $13::smallint[], $14::bigint[], $15::int[]) AS m(key, f, k, e, a)
  WHERE EXISTS (SELECT 1 FROM {gate})
  ON CONFLICT (namespace, workflow_id, run_id, timer_key) DO UPDATE
    SET fire_at = EXCLUDED.fire_at, kind = EXCLUDED.kind, event_id = EXCLUDED.event_id,
        attempt = EXCLUDED.attempt
), tm_del AS (
  DELETE FROM timers
  WHERE namespace = $1 AND workflow_id = $2 AND run_id = $3 AND timer_key = ANY($16::text[])
    AND EXISTS (SELECT 1 FROM {gate})
)
"""

_CREATE = (
    """
WITH ins AS (
  INSERT INTO executions ("""
    + _EXEC_COLUMNS
    + """)
  SELECT $1, $2, $3, $17, $18, $19, $20, NULL, $21, $22, $23, 1, $24
  WHERE NOT EXISTS (
    SELECT 1 FROM executions WHERE namespace = $1 AND workflow_id = $2 AND request_id = $21
  )
  ON CONFLICT DO NOTHING
  RETURNING 1
)"""
    + _CHILD_WRITES.format(gate="ins")
    + """
SELECT (SELECT count(*) FROM ins) AS written, ARRAY(SELECT id FROM tk ORDER BY id) AS task_ids
"""
)


def _update_sql(claims_task: bool, claims_timer: bool, closes: bool) -> str:
    claims = []
    sql = "WITH "
    if claims_task:
        sql += (
            "claim_task AS (DELETE FROM tasks WHERE id IN "
            "(SELECT id FROM tasks WHERE id = ANY($24::bigint[]) FOR UPDATE SKIP LOCKED) RETURNING 1), "
        )
        claims.append("AND (SELECT count(*) FROM claim_task) = cardinality($24::bigint[])")
    if claims_timer:
        sql += (
            "claim_timer AS (DELETE FROM timers WHERE ctid IN (SELECT ctid FROM timers "
            "WHERE namespace = $1 AND workflow_id = $2 AND run_id = $3 AND timer_key = ANY($25::text[]) "
            "AND (timer_key, fire_at) IN (SELECT * FROM unnest($25::text[], $26::timestamptz[])) "
            "FOR UPDATE SKIP LOCKED) RETURNING 1), "
        )
        claims.append("AND (SELECT count(*) FROM claim_timer) = cardinality($25::text[])")
    sql += (
        "upd AS (UPDATE executions SET status = $17, close_time = $18, next_event_id = $19, "
        "history_size = $20, state = $21, db_version = db_version + 1 "
        "WHERE namespace = $1 AND workflow_id = $2 AND run_id = $3 AND db_version = $22 "
        + " ".join(claims)
        + " RETURNING 1)"
    )
    sql += _CHILD_WRITES.format(gate="upd")
    if closes:
        sql += (
            ", close_tasks AS (DELETE FROM tasks WHERE namespace = $1 AND workflow_id = $2 "
            "AND run_id = $3 AND EXISTS (SELECT 1 FROM upd))"
            ", close_timers AS (DELETE FROM timers WHERE namespace = $1 AND workflow_id = $2 "
            "AND run_id = $3 AND EXISTS (SELECT 1 FROM upd))"
        )
    # $23-$26 are always sent so every variant takes the same parameters. When the update did not
    # happen, wf_abort() raises, so nothing of the statement (a claim included) is kept.
    reason = "'version'"
    if claims_task:
        reason = (
            "CASE WHEN (SELECT count(*) FROM claim_task) < cardinality($24::bigint[]) THEN 'claim' ELSE 'version' END"
        )
    elif claims_timer:
        reason = (
            "CASE WHEN (SELECT count(*) FROM claim_timer) < cardinality($25::text[]) THEN 'claim' ELSE 'version' END"
        )
    sql += (
        " SELECT CASE WHEN (SELECT count(*) FROM upd) = 0 THEN wf_abort(" + reason + ") ELSE 1 END AS written,"
        " ARRAY(SELECT id FROM tk ORDER BY id) AS task_ids,"
        " $23::int AS unused, $24::bigint[] AS task_ids_claimed, $25::text[] AS timer_keys_claimed,"
        " $26::timestamptz[] AS timer_times_claimed"
    )
    return sql


_UPDATE_SQL = {
    (t, m, c): _update_sql(t, m, c) for t in (False, True) for m in (False, True) for c in (False, True)
}


def _child_params(m: Mutation) -> list[Any]:
    r = m.record
    return [
        r.namespace,
        r.workflow_id,
        r.run_id,
        [e[0] for e in m.events],
        [e[1] for e in m.events],
        [e[2] for e in m.events],
        [t.task_queue for t in m.tasks],
        [int(t.kind) for t in m.tasks],
        [t.scheduled_event_id for t in m.tasks],
        [t.attempt for t in m.tasks],
        [t.key for t in m.timers],
        [t.fire_at for t in m.timers],
        [int(t.kind) for t in m.timers],
        [t.event_id for t in m.timers],
        [t.attempt for t in m.timers],
        m.deleted_timer_keys,
    ]


class Store:
    """wf's persistence: executions, history events, task rows and timer rows."""

    def __init__(self, pool: asyncpg.Pool) -> None:
        self.pool = pool

    async def write(self, m: Mutation) -> list[int]:
        """Write one change atomically; returns the ids given to ``m.tasks``, in order.

        Raises:
            WriteRejected: a create found the id taken (or the request id used), or a claimed task or
                timer row was already gone.
            ConcurrentUpdate: the execution's version is no longer ``m.expected_version``.
        """
        r = m.record
        params = _child_params(m)
        if m.expected_version == 0:
            params += [
                r.workflow_type,
                r.task_queue,
                r.status,
                r.start_time,
                r.request_id,
                r.next_event_id,
                r.history_size,
                r.state,
            ]
            row = await self.pool.fetchrow(_CREATE, *params)
            assert row is not None
            if not row["written"]:
                raise WriteRejected("workflow id taken or request id already used")
            return list(row["task_ids"])
        sql = _UPDATE_SQL[(bool(m.claimed_task_ids), bool(m.claimed_timers), m.closes)]
        params += [
            r.status,
            r.close_time,
            r.next_event_id,
            r.history_size,
            r.state,
            m.expected_version,
            0,
            m.claimed_task_ids,
            list(m.claimed_timers),
            list(m.claimed_timers.values()),
        ]
        try:
            row = await self.pool.fetchrow(sql, *params)
        except asyncpg.PostgresError as exc:
            if getattr(exc, "sqlstate", None) != "WF001":
                raise
            if str(exc) == "claim":
                raise WriteRejected("task or timer already taken") from None
            raise ConcurrentUpdate(f"{r.workflow_id}/{r.run_id} changed since it was read") from None
        assert row is not None
        return list(row["task_ids"])

    async def load(self, namespace: str, workflow_id: str, run_id: str) -> ExecutionRecord | None:
        row = await self.pool.fetchrow(
            f"SELECT {_EXEC_COLUMNS} FROM executions WHERE namespace = $1 AND workflow_id = $2 AND run_id = $3",
            namespace,
            workflow_id,
            run_id,
        )
        return ExecutionRecord(**dict(row)) if row is not None else None

    async def latest_run(self, namespace: str, workflow_id: str) -> ExecutionRecord | None:
        """The running run of a workflow id, or else its most recently started one."""
        row = await self.pool.fetchrow(
            f"SELECT {_EXEC_COLUMNS} FROM executions WHERE namespace = $1 AND workflow_id = $2 "
            "ORDER BY (status = 1) DESC, start_time DESC LIMIT 1",
            namespace,
            workflow_id,
        )
        return ExecutionRecord(**dict(row)) if row is not None else None

    async def run_for_request(self, namespace: str, workflow_id: str, request_id: str) -> str | None:
        return await self.pool.fetchval(  # type: ignore[no-any-return]
            "SELECT run_id FROM executions WHERE namespace = $1 AND workflow_id = $2 AND request_id = $3",
            namespace,
            workflow_id,
            request_id,
        )

    async def read_events(
        self, namespace: str, workflow_id: str, run_id: str, first_event_id: int = 1, limit: int = 0
    ) -> list[bytes]:
        """Serialized events from ``first_event_id`` on, in order (``limit`` 0: all)."""
        rows = await self.pool.fetch(
            "SELECT data FROM history_events WHERE namespace = $1 AND workflow_id = $2 AND run_id = $3 "
            "AND event_id >= $4 ORDER BY event_id LIMIT $5",
            namespace,
            workflow_id,
            run_id,
            first_event_id,
            limit if limit > 0 else None,
        )
        return [r["data"] for r in rows]

    async def read_event(self, namespace: str, workflow_id: str, run_id: str, event_id: int) -> bytes | None:
        return await self.pool.fetchval(  # type: ignore[no-any-return]
            "SELECT data FROM history_events WHERE namespace = $1 AND workflow_id = $2 AND run_id = $3 "
            "AND event_id = $4",
            namespace,
            workflow_id,
            run_id,
            event_id,
        )

    async def backlog(
        self, namespace: str, task_queue: str, kind: TaskKind, after_id: int, limit: int
    ) -> list[TaskRow]:
        """Task rows of a queue in id order, past ``after_id`` (claimed later, by :meth:`write`).

        Workflow pollers also take query tasks: both come back for ``TaskKind.WORKFLOW``.
        """
        kinds = [int(TaskKind.WORKFLOW), int(TaskKind.QUERY)] if kind == TaskKind.WORKFLOW else [int(kind)]
        # One ordered range of the queue index per kind, merged: `kind = ANY(...)` would not use the
        # index's order, and would walk the whole table (deleted rows too) by primary key instead.
        rows = await self.pool.fetch(
            "SELECT t.* FROM unnest($3::smallint[]) AS k(kind), LATERAL ("
            " SELECT id, kind, workflow_id, run_id, scheduled_event_id, attempt FROM tasks"
            " WHERE namespace = $1 AND task_queue = $2 AND tasks.kind = k.kind AND id > $4"
            " ORDER BY id LIMIT $5) AS t ORDER BY t.id LIMIT $5",
            namespace,
            task_queue,
            kinds,
            after_id,
            limit,
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

    async def backlog_size(self, namespace: str, task_queue: str, kind: TaskKind) -> int:
        return await self.pool.fetchval(  # type: ignore[no-any-return]
            "SELECT count(*) FROM tasks WHERE namespace = $1 AND task_queue = $2 AND kind = $3",
            namespace,
            task_queue,
            int(kind),
        )

    async def due_timers(self, until: datetime, limit: int) -> list[TimerRow]:
        """The first ``limit`` timers due at or before ``until``, soonest first."""
        rows = await self.pool.fetch(
            "SELECT namespace, workflow_id, run_id, timer_key, fire_at, kind, event_id, attempt "
            "FROM timers WHERE fire_at <= $1 ORDER BY fire_at LIMIT $2",
            until,
            limit,
        )
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

    async def list_executions(
        self,
        namespace: str,
        conditions: Sequence[tuple[str, Any]],
        page_size: int,
        before: tuple[datetime, str, str] | None,
    ) -> list[ExecutionRecord]:
        """Executions newest first, filtered by equality on whitelisted columns."""
        allowed = {"workflow_id", "workflow_type", "status", "task_queue", "run_id"}
        where = ["namespace = $1"]
        params: list[Any] = [namespace]
        for column, value in conditions:
            if column not in allowed:
                raise ValueError(f"cannot filter on {column}")
            params.append(value)
            where.append(f"{column} = ${len(params)}")
        if before is not None:
            params.extend(before)
            n = len(params)
            where.append(f"(start_time, workflow_id, run_id) < (${n - 2}, ${n - 1}, ${n})")
        params.append(page_size)
        rows = await self.pool.fetch(
            f"SELECT {_EXEC_COLUMNS} FROM executions WHERE {' AND '.join(where)} "
            f"ORDER BY start_time DESC, workflow_id DESC, run_id DESC LIMIT ${len(params)}",
            *params,
        )
        return [ExecutionRecord(**dict(r)) for r in rows]

    async def drop_task(self, task_id: int) -> None:
        """Remove a task row whose task is gone (its run closed, or it was answered elsewhere)."""
        await self.pool.execute("DELETE FROM tasks WHERE id = $1", task_id)

    async def drop_timer(self, namespace: str, workflow_id: str, run_id: str, timer_key: str) -> None:
        """Remove a timer row whose run is gone."""
        await self.pool.execute(
            "DELETE FROM timers WHERE namespace = $1 AND workflow_id = $2 AND run_id = $3 AND timer_key = $4",
            namespace, workflow_id, run_id, timer_key,
        )

    # -- queries ------------------------------------------------------------------------------------

    async def create_query(
        self, namespace: str, workflow_id: str, run_id: str, task_queue: str, query_type: str, args: bytes
    ) -> tuple[int, int]:
        """A query and the task row that hands it to a workflow worker; returns (query id, task id)."""
        row = await self.pool.fetchrow(
            "WITH q AS (INSERT INTO queries (namespace, workflow_id, run_id, query_type, args) "
            "VALUES ($1, $2, $3, $5, $6) RETURNING id) "
            "INSERT INTO tasks (namespace, task_queue, kind, workflow_id, run_id, scheduled_event_id, attempt) "
            "SELECT $1, $4, $7, $2, $3, q.id, 0 FROM q RETURNING scheduled_event_id, id",
            namespace, workflow_id, run_id, task_queue, query_type, args, int(TaskKind.QUERY),
        )
        assert row is not None
        return int(row["scheduled_event_id"]), int(row["id"])

    async def claim_query(self, task_id: int, query_id: int) -> tuple[str, bytes] | None:
        """Take a query's task row; (query type, args) if both were still there."""
        row = await self.pool.fetchrow(
            "WITH t AS (DELETE FROM tasks WHERE id = (SELECT id FROM tasks WHERE id = $1 FOR UPDATE SKIP LOCKED) "
            "RETURNING id) SELECT query_type, args FROM queries WHERE id = $2 AND EXISTS (SELECT 1 FROM t)",
            task_id, query_id,
        )
        return (row["query_type"], row["args"]) if row is not None else None

    async def answer_query(self, query_id: int, result: bytes, error: str) -> bool:
        status = await self.pool.execute(
            "UPDATE queries SET answered = true, result = $2, error = $3 WHERE id = $1 AND NOT answered",
            query_id, result, error or None,
        )
        return bool(status.endswith(" 1"))

    async def take_query(self, query_id: int, task_id: int) -> tuple[bool, bytes | None, str | None]:
        """Remove a query (and its task row if still waiting); (answered, result, error)."""
        row = await self.pool.fetchrow(
            "WITH t AS (DELETE FROM tasks WHERE id = $2) "
            "DELETE FROM queries WHERE id = $1 RETURNING answered, result, error",
            query_id, task_id,
        )
        if row is None:
            return False, None, None
        return bool(row["answered"]), row["result"], row["error"]
