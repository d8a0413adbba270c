"""The store: its statements come from the schema and run on the migrated database, and its writes keep
their guarantees (all or nothing, optimistic concurrency, a claimed row taken once).

Each test works on runs of its own (fresh workflow ids) in the session's database.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import asyncpg
import pytest
import pytest_asyncio
from google.protobuf.message import DecodeError
from sqlalchemy import Column, MetaData, Table, Text, select

from wf.history import statements as S
from wf.history.errors import ConcurrentUpdate, InvalidArgument
from wf.history.operations.reading import execution_info
from wf.history.schema import executions, metadata
from wf.history.store import ExecutionRecord, Mutation, Store, WriteRejected
from wf.history.tasks import TaskKind, TaskRow, TimerKind, TimerRow
from wf.history.visibility.query import compile_query
from wf.server.app import asyncpg_dsn
from wf.v1 import common_pb2, internal_pb2

# The store's rows are written here without a server, their state a placeholder no server can read:
# a namespace of their own keeps them out of what the session's server lists in "default".
NAMESPACE = "test-store"

RUNNING = common_pb2.WORKFLOW_EXECUTION_STATUS_RUNNING
COMPLETED = common_pb2.WORKFLOW_EXECUTION_STATUS_COMPLETED


@pytest_asyncio.fixture(loop_scope="session")
async def pool(db_url: str) -> AsyncIterator[asyncpg.Pool]:
    p = await asyncpg.create_pool(asyncpg_dsn(db_url), min_size=1, max_size=4)
    try:
        yield p
    finally:
        await p.close()


def record(workflow_id: str, *, request_id: str = "", status: int = RUNNING) -> ExecutionRecord:
    return ExecutionRecord(
        namespace=NAMESPACE,
        workflow_id=workflow_id,
        run_id=uuid.uuid4().hex,
        workflow_type="T",
        task_queue="q",
        status=status,
        start_time=datetime.now(UTC),
        close_time=None,
        request_id=request_id or uuid.uuid4().hex,
        next_event_id=2,
        history_size=10,
        db_version=1,
        state=b"state",
    )


def task(r: ExecutionRecord, event_id: int, kind: TaskKind = TaskKind.ACTIVITY) -> TaskRow:
    return TaskRow(r.namespace, r.task_queue, kind, r.workflow_id, r.run_id, event_id, 1)


def timer(r: ExecutionRecord, key: str, fire_at: datetime) -> TimerRow:
    return TimerRow(r.namespace, r.workflow_id, r.run_id, key, fire_at, TimerKind.USER_TIMER, 1, 1)


async def create(store: Store, r: ExecutionRecord, **parts: object) -> list[int]:
    return await store.write(Mutation(r, 0, events=[(1, 1, b"started")], **parts))  # type: ignore[arg-type]


# -- the statements and the schema ----------------------------------------------------------------


async def test_every_statement_prepares_on_the_migrated_database(pool: asyncpg.Pool) -> None:
    # PostgreSQL checks every table, column and type a statement names when it prepares it: a statement
    # that names something a migration did not create fails here, not in production.
    async with pool.acquire() as conn:
        for statement in S.every_statement():
            prepared = await conn.prepare(statement.sql)
            assert len(prepared.get_parameters()) == len(statement.names), statement.sql


def test_a_statement_can_only_name_columns_of_the_schema() -> None:
    # Statements are built from the schema's Table objects: a column the schema lacks is an error when
    # the statement is built (so when wf.history is imported), before any SQL is sent.
    with pytest.raises(AttributeError):
        select(executions.c.no_such_column)
    # And a column the schema gains is in every statement that reads the whole row.
    grown = MetaData()
    for table in metadata.sorted_tables:
        table.to_metadata(grown)
    wider: Table = grown.tables["executions"]
    wider.append_column(Column("a_column_added_later", Text))
    assert "executions.a_column_added_later" in S.Statement(select(wider).where(wider.c.run_id == "x")).sql


def test_a_call_passes_parameters_by_name_in_any_order() -> None:
    statement = S.READ_EVENT
    assert statement.names == ("namespace", "workflow_id", "run_id", "event_id")
    given = {"event_id": 7, "run_id": "r", "namespace": "n", "workflow_id": "w"}
    assert statement.args(given) == ("n", "w", "r", 7)
    with pytest.raises(KeyError, match="event_id"):
        statement.args({"namespace": "n", "workflow_id": "w", "run_id": "r"})


def test_constants_are_written_into_the_statement_not_sent() -> None:
    # The running-first order and LIMIT 1 of the latest run are part of the text; only ids are sent.
    assert S.LATEST_RUN.names == ("namespace", "workflow_id")
    assert f"status = {RUNNING}" in S.LATEST_RUN.sql
    # A list query's statement is the same text every time, so asyncpg's cache prepares it once.
    again = [S.visible_runs(compile_query("ExecutionStatus = 'Running'", {}).where, None, False, True) for _ in "ab"]
    assert again[0].sql == again[1].sql


# -- writes ----------------------------------------------------------------------------------------


async def test_create_writes_the_run_its_events_tasks_and_timers(pool: asyncpg.Pool) -> None:
    store = Store(pool)
    r = record(f"w-{uuid.uuid4().hex}")
    fire = datetime.now(UTC) + timedelta(hours=1)
    ids = await create(store, r, tasks=[task(r, 1), task(r, 2)], timers=[timer(r, "t1", fire)])
    assert len(ids) == 2 and ids[0] < ids[1]
    loaded = await store.load(r.namespace, r.workflow_id, r.run_id)
    assert loaded == r
    assert await store.read_events(r.namespace, r.workflow_id, r.run_id) == [b"started"]
    assert await store.run_for_request(r.namespace, r.workflow_id, r.request_id) == r.run_id

    # The same request again, or a second running run of the id: refused, and nothing written.
    again = record(r.workflow_id, request_id=r.request_id)
    with pytest.raises(WriteRejected):
        await create(store, again)
    with pytest.raises(WriteRejected):
        await create(store, record(r.workflow_id), tasks=[task(r, 3)])
    assert await store.load(again.namespace, again.workflow_id, again.run_id) is None
    assert await pool.fetchval("SELECT count(*) FROM tasks WHERE workflow_id = $1", r.workflow_id) == 2


async def test_an_update_is_all_or_nothing_on_its_version(pool: asyncpg.Pool) -> None:
    store = Store(pool)
    r = record(f"w-{uuid.uuid4().hex}")
    await create(store, r)
    r.next_event_id = 3
    await store.write(Mutation(r, 1, events=[(2, 2, b"second")], tasks=[task(r, 2)]))
    with pytest.raises(ConcurrentUpdate):
        await store.write(Mutation(r, 1, events=[(3, 2, b"stale")], tasks=[task(r, 3)]))
    assert await store.read_events(r.namespace, r.workflow_id, r.run_id) == [b"started", b"second"]
    assert await store.read_events(r.namespace, r.workflow_id, r.run_id, 2, 1) == [b"second"]
    assert await store.read_event(r.namespace, r.workflow_id, r.run_id, 2) == b"second"
    loaded = await store.load(r.namespace, r.workflow_id, r.run_id)
    assert loaded is not None and (loaded.db_version, loaded.next_event_id) == (2, 3)


async def test_a_claimed_task_is_taken_once(pool: asyncpg.Pool) -> None:
    store = Store(pool)
    r = record(f"w-{uuid.uuid4().hex}")
    [task_id] = await create(store, r, tasks=[task(r, 1)])
    await store.write(Mutation(r, 1, events=[(2, 3, b"started")], claimed_task_ids=[task_id]))
    # A second claim of the same row, even on the right version, is refused and keeps nothing.
    with pytest.raises(WriteRejected):
        await store.write(Mutation(r, 2, events=[(3, 3, b"twice")], claimed_task_ids=[task_id]))
    assert len(await store.read_events(r.namespace, r.workflow_id, r.run_id)) == 2


async def test_a_fired_timer_is_claimed_only_as_it_fired(pool: asyncpg.Pool) -> None:
    store = Store(pool)
    r = record(f"w-{uuid.uuid4().hex}")
    fire = datetime.now(UTC) - timedelta(seconds=1)
    await create(store, r, timers=[timer(r, "t", fire)])
    assert timer(r, "t", fire) in await store.due_timers(datetime.now(UTC), 10_000)
    # Set anew since it fired: the old firing no longer consumes it.
    later = fire + timedelta(hours=1)
    await store.write(Mutation(r, 1, timers=[timer(r, "t", later)]))
    with pytest.raises(WriteRejected):
        await store.write(Mutation(r, 2, events=[(2, 4, b"fired")], claimed_timers={"t": fire}))
    await store.write(Mutation(r, 2, events=[(2, 4, b"fired")], claimed_timers={"t": later}))
    assert not [t for t in await store.due_timers(later, 10_000) if t.workflow_id == r.workflow_id]


async def test_closing_a_run_drops_its_rows(pool: asyncpg.Pool) -> None:
    store = Store(pool)
    r = record(f"w-{uuid.uuid4().hex}")
    await create(store, r, tasks=[task(r, 1)], timers=[timer(r, "t", datetime.now(UTC))])
    r.status, r.close_time = COMPLETED, datetime.now(UTC)
    await store.write(Mutation(r, 1, events=[(2, 5, b"completed")], closes=True))
    assert await pool.fetchval("SELECT count(*) FROM tasks WHERE workflow_id = $1", r.workflow_id) == 0
    assert await pool.fetchval("SELECT count(*) FROM timers WHERE workflow_id = $1", r.workflow_id) == 0
    # A closed run is the latest; a running one of the same id comes first.
    latest = await store.latest_run(r.namespace, r.workflow_id)
    assert latest is not None and (latest.run_id, latest.status, latest.db_version) == (r.run_id, COMPLETED, 2)
    newer = record(r.workflow_id)
    newer.start_time = r.start_time - timedelta(days=1)
    await create(store, newer)
    latest = await store.latest_run(r.namespace, r.workflow_id)
    assert latest is not None and latest.run_id == newer.run_id


async def test_backlog_and_list_filters(pool: asyncpg.Pool) -> None:
    store = Store(pool)
    queue = f"q-{uuid.uuid4().hex}"
    runs = []
    for i in range(3):
        r = record(f"w-{uuid.uuid4().hex}")
        r.task_queue = queue
        r.workflow_type = f"T-{queue}"
        r.start_time = datetime.now(UTC) + timedelta(seconds=i)
        await create(store, r, tasks=[task(r, 1, TaskKind.WORKFLOW), task(r, 2, TaskKind.ACTIVITY)])
        runs.append(r)
    workflow_tasks = await store.backlog(NAMESPACE, queue, TaskKind.WORKFLOW, 0, 10)
    assert [t.workflow_id for t in workflow_tasks] == [r.workflow_id for r in runs]
    assert await store.backlog_size(NAMESPACE, queue, TaskKind.ACTIVITY) == 3
    query_id, query_task = await store.create_query(NAMESPACE, runs[0].workflow_id, runs[0].run_id, queue, "q", b"a")
    both = await store.backlog(NAMESPACE, queue, TaskKind.WORKFLOW, 0, 10)
    assert [t.id for t in both][-1] == query_task and both[-1].kind == TaskKind.QUERY
    assert await store.backlog(NAMESPACE, queue, TaskKind.WORKFLOW, workflow_tasks[0].id, 1) == workflow_tasks[1:2]

    of_type = compile_query(f"WorkflowType = 'T-{queue}'", {})
    first_page = S.visible_runs(of_type.where, None, False, paged=False)
    listed = await store.list_executions(NAMESPACE, first_page, of_type.params, 2)
    assert [e.workflow_id for e in listed] == [runs[2].workflow_id, runs[1].workflow_id]
    last = listed[-1]
    running = compile_query(f"WorkflowType = 'T-{queue}' AND ExecutionStatus = 'Running'", {})
    after = {"after_order": last.close_time, "after_start_time": last.start_time, "after_run_id": last.run_id}
    next_page = S.visible_runs(running.where, None, False, paged=True)
    rest = await store.list_executions(NAMESPACE, next_page, {**running.params, **after}, 2)
    assert [e.workflow_id for e in rest] == [runs[0].workflow_id]
    with pytest.raises(InvalidArgument, match="state"):
        compile_query("state = ''", {})

    assert await store.claim_query(query_task, query_id) == ("q", b"a")
    assert await store.claim_query(query_task, query_id) is None
    assert await store.answer_query(query_id, b"r", "")
    assert not await store.answer_query(query_id, b"again", "")
    assert await store.take_query(query_id, query_task) == (True, b"r", None)
    assert await store.take_query(query_id, query_task) == (False, None, None)


async def test_a_waiting_query_is_handed_out_only_once_released(pool: asyncpg.Pool) -> None:
    store = Store(pool)
    queue = f"q-{uuid.uuid4().hex}"
    r = record(f"w-{uuid.uuid4().hex}")
    r.task_queue = queue
    await create(store, r)
    key = (r.namespace, r.workflow_id, r.run_id)
    first = await store.create_waiting_query(*key, queue, "q", b"a", 2)
    second = await store.create_waiting_query(*key, queue, "q", b"b", 2)
    assert first is not None and second is not None
    assert await store.create_waiting_query(*key, queue, "q", b"c", 2) is None  # two wait already
    assert await store.backlog(NAMESPACE, queue, TaskKind.WORKFLOW, 0, 10) == []
    assert await store.release_query(first[1])
    assert not await store.release_query(first[1])  # released once
    handed = await store.backlog(NAMESPACE, queue, TaskKind.WORKFLOW, 0, 10)
    assert [(t.id, t.kind, t.scheduled_event_id) for t in handed] == [(first[1], TaskKind.QUERY, first[0])]
    assert await store.claim_query(first[1], first[0]) == ("q", b"a")
    assert await store.take_query(second[0], second[1]) == (False, None, None)  # it timed out waiting
    assert await store.create_waiting_query(*key, queue, "q", b"d", 2) is not None


def test_a_run_whose_state_cannot_be_read_still_lists() -> None:
    # One damaged row must not make every list of its namespace fail: it lists with its columns.
    damaged = record("damaged")
    with pytest.raises(DecodeError):
        internal_pb2.MutableState.FromString(damaged.state)
    info = execution_info(damaged)
    assert (info.execution.workflow_id, info.type.name, info.task_queue) == ("damaged", "T", "q")
    assert info.cost.workflow_tasks == 0
