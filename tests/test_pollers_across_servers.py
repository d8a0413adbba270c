"""Pollers seen by every server of a database: a worker polling one server shows on another within the
write interval, in ``describe_task_queue`` and in a workflow's describe; and the table behind it keeps
the newest time per poller, forgets old rows, and keeps polls a failed write did not store.
Real servers, real PostgreSQL, real gRPC."""

from __future__ import annotations

import socket
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import asyncpg
import pytest
import pytest_asyncio

from tests.helpers import assert_eventually
from tests.test_pollers import PolledEcho, hint, polled_echo
from wf.history.errors import Unavailable
from wf.history.store import Store
from wf.history.tasks import TaskKind
from wf.matching.pollers import STORED_IDENTITY_BYTES, WRITE_INTERVAL, PollerInfo, PollerLog, stored_identity
from wf.server.app import Server, asyncpg_dsn
from worker_sdk import Client, Worker

# Another server sees a poll once the server that served it has written it: one write interval, and
# some slack for a loaded machine.
SEEN_WITHIN = 4 * WRITE_INTERVAL


@pytest_asyncio.fixture(loop_scope="session")
async def client_b(server_b: Server) -> AsyncIterator[Client]:
    c = await Client.connect(server_b.address)
    try:
        yield c
    finally:
        await c.close()


@pytest_asyncio.fixture(loop_scope="session")
async def pool(db_url: str) -> AsyncIterator[asyncpg.Pool]:
    p = await asyncpg.create_pool(asyncpg_dsn(db_url), min_size=1, max_size=2)
    try:
        yield p
    finally:
        await p.close()


async def test_a_worker_polling_one_server_shows_on_another(
    client: Client, client_b: Client, task_queue: str
) -> None:
    first = await client.start_workflow(
        PolledEcho.run, "one", id=f"across-{uuid.uuid4().hex[:8]}", task_queue=task_queue
    )
    # Before any worker polled, server B says none did.
    assert (await client_b.describe_task_queue(task_queue)).pollers == []
    assert (await client_b.get_workflow_handle(first.id).describe()).waiting_hint == hint(task_queue)

    # A worker polls server A only; server B lists it once A has written what it saw.
    async with Worker(client, task_queue=task_queue, workflows=[PolledEcho], activities=[polled_echo],
                      identity="on-server-a"):
        assert await first.result() == "one"

        async def listed_on_b() -> None:
            d = await client_b.describe_task_queue(task_queue)
            assert {(p.identity, p.kind) for p in d.pollers} == {
                ("on-server-a", "workflow"), ("on-server-a", "activity")
            }
        await assert_eventually(listed_on_b, timeout=SEEN_WITHIN)

    # The worker stopped moments ago: B does not call a new run's pending task unpolled.
    second = await client.start_workflow(
        PolledEcho.run, "two", id=f"across-{uuid.uuid4().hex[:8]}", task_queue=task_queue
    )
    described = await client_b.get_workflow_handle(second.id).describe()
    assert described.raw.pending_workflow_task.HasField("task_queue_last_poll_time")
    assert described.waiting_hint is None
    await client.get_workflow_handle(second.id).terminate("done with it")


async def test_the_table_keeps_the_newest_poll_and_forgets_old_rows(pool: asyncpg.Pool) -> None:
    store = Store(pool)
    queue = f"tq-{uuid.uuid4().hex[:8]}"
    now = datetime.now(UTC)
    await store.record_pollers([("default", queue, TaskKind.WORKFLOW, "w", now)])
    # A server that saw an older poll of the same worker does not move its time back.
    await store.record_pollers([
        ("default", queue, TaskKind.WORKFLOW, "w", now - timedelta(minutes=1)),
        ("default", queue, TaskKind.ACTIVITY, "old", now - timedelta(hours=2)),
    ])
    assert await store.pollers("default", queue, TaskKind.WORKFLOW, now - timedelta(minutes=5)) == [("w", now)]
    assert await store.pollers("default", queue, TaskKind.ACTIVITY, now - timedelta(hours=3)) == [
        ("old", now - timedelta(hours=2))
    ]
    await store.forget_pollers(now - timedelta(hours=1))
    assert await store.pollers("default", queue, TaskKind.ACTIVITY, now - timedelta(hours=3)) == []
    assert await store.pollers("default", queue, TaskKind.WORKFLOW, now - timedelta(minutes=5)) == [("w", now)]


def closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


async def test_polls_a_failed_write_did_not_store_are_written_by_the_next(pool: asyncpg.Pool) -> None:
    dead = await asyncpg.create_pool(f"postgresql://wf@127.0.0.1:{closed_port()}/wf", min_size=0, max_size=1)
    store = Store(dead)
    log = PollerLog(store)
    queue = f"tq-{uuid.uuid4().hex[:8]}"
    seen = datetime.now(UTC).timestamp()
    log.saw("default", queue, TaskKind.ACTIVITY, "kept", seen)
    with pytest.raises(Unavailable):
        await log.flush()
    await dead.close()
    store.pool = pool  # the database is back
    await log.flush()
    rows = await store.pollers("default", queue, TaskKind.ACTIVITY, datetime.now(UTC) - timedelta(minutes=5))
    assert [(i, t.timestamp()) for i, t in rows] == [("kept", pytest.approx(seen))]


async def test_a_worker_with_a_huge_identity_is_written_and_merged_as_one(pool: asyncpg.Pool) -> None:
    # An identity is whatever a worker sends: 12 KB of it would not fit in the table's key, and a
    # refused write must not stop the writes of every other poller.
    store = Store(pool)
    log = PollerLog(store)
    queue = f"tq-{uuid.uuid4().hex[:8]}"
    huge = "é" * 6_000 + "-worker"
    seen = datetime.now(UTC).timestamp()
    log.saw("default", queue, TaskKind.WORKFLOW, huge, seen)
    log.saw("default", queue, TaskKind.WORKFLOW, "plain", seen)
    await log.flush()
    since = datetime.now(UTC) - timedelta(minutes=5)
    stored = dict(await store.pollers("default", queue, TaskKind.WORKFLOW, since))
    assert set(stored) == {"plain", stored_identity(huge)}
    assert len(stored_identity(huge).encode()) <= STORED_IDENTITY_BYTES and huge.startswith(stored_identity(huge))
    # This server's own record of the worker (full identity) and the table's are one entry.
    merged = await log.merged("default", queue, TaskKind.WORKFLOW, [PollerInfo(huge, seen)], within=300)
    assert sorted(p.identity for p in merged) == sorted(["plain", stored_identity(huge)])
