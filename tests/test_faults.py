"""Fault tests: server and worker processes killed with SIGKILL mid-run, then restarted.

Afterwards every workflow has finished with the right result, and every history is contiguous from
event 1, holds exactly one close event (its last), and records each activity's result once.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import subprocess
import sys
import uuid
from collections import Counter
from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path

import psutil

from tests.fault_worker import Steps, expected
from tests.helpers import assert_eventually, free_port, wait_until_serving, wf_executable, wf_server_process
from wf.server.app import Server
from wf.v1 import history_pb2, service_pb2
from worker_sdk import Client, WorkflowHandle, WorkflowHistory

H = history_pb2
CLOSE_EVENTS = {
    H.EVENT_TYPE_WORKFLOW_EXECUTION_COMPLETED,
    H.EVENT_TYPE_WORKFLOW_EXECUTION_FAILED,
    H.EVENT_TYPE_WORKFLOW_EXECUTION_TIMED_OUT,
    H.EVENT_TYPE_WORKFLOW_EXECUTION_CANCELED,
    H.EVENT_TYPE_WORKFLOW_EXECUTION_TERMINATED,
    H.EVENT_TYPE_WORKFLOW_EXECUTION_CONTINUED_AS_NEW,
}
ROOT = Path(__file__).resolve().parent.parent


@contextlib.asynccontextmanager
async def worker_process(address: str, task_queue: str) -> AsyncIterator[subprocess.Popen[bytes]]:
    proc = subprocess.Popen(
        [sys.executable, str(ROOT / "tests" / "fault_worker.py"), address, task_queue],
        cwd=ROOT,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        yield proc
    finally:
        if proc.poll() is None:
            proc.send_signal(signal.SIGKILL)
        await asyncio.to_thread(proc.wait)


def check_history(history: WorkflowHistory) -> None:
    events = history.events
    assert [e.event_id for e in events] == list(range(1, len(events) + 1)), "history is not contiguous"
    closes = [e for e in events if e.event_type in CLOSE_EVENTS]
    assert len(closes) == 1 and closes[0] is events[-1], "history must end in exactly one close event"
    results = Counter(
        e.activity_task_completed_event_attributes.scheduled_event_id
        for e in events
        if e.event_type == H.EVENT_TYPE_ACTIVITY_TASK_COMPLETED
    )
    assert all(n == 1 for n in results.values()), f"an activity result was recorded twice: {results}"


async def finish_all(handles: list[WorkflowHandle], steps: int) -> list[WorkflowHistory]:
    results = await asyncio.gather(*(h.result(timeout=timedelta(seconds=90)) for h in handles))
    assert results == [expected(steps)] * len(handles)
    histories = [await h.fetch_history() for h in handles]
    for history in histories:
        check_history(history)
    return histories


async def completed_activities(client: Client, handles: list[WorkflowHandle]) -> int:
    total = 0
    for h in handles:
        total += sum(
            1 for e in (await h.fetch_history()).events if e.event_type == H.EVENT_TYPE_ACTIVITY_TASK_COMPLETED
        )
    return total


async def test_server_killed_mid_activity_loses_nothing(db_url: str) -> None:
    task_queue = f"fault-server-{uuid.uuid4().hex[:8]}"
    steps, count = 4, 8
    port = free_port()
    async with wf_server_process(db_url, port=port) as first:
        async with worker_process(first.address, task_queue):
            client = await Client.connect(first.address)
            handles = [
                await client.start_workflow(Steps.run, steps, 0.3, id=f"{task_queue}-{i}", task_queue=task_queue)
                for i in range(count)
            ]

            async def some_progress() -> bool:
                return await completed_activities(client, handles) >= count

            await assert_eventually(some_progress, timeout=60)
            await first.kill()  # SIGKILL: mid-activity, mid-poll, mid-commit
            async with wf_server_process(db_url, port=port):
                histories = await finish_all(handles, steps)
            await client.close()
    assert all(len(h.events) >= 4 * steps for h in histories)


async def test_worker_killed_mid_activity_is_replaced(server: Server) -> None:
    task_queue = f"fault-worker-{uuid.uuid4().hex[:8]}"
    steps, count = 3, 5
    client = await Client.connect(server.address)
    async with worker_process(server.address, task_queue) as first:
        handles = [
            await client.start_workflow(Steps.run, steps, 0.5, id=f"{task_queue}-{i}", task_queue=task_queue)
            for i in range(count)
        ]

        async def activity_running() -> bool:
            for h in handles:
                for a in (await h.describe()).pending_activities:
                    if a.state == service_pb2.PENDING_ACTIVITY_STATE_STARTED:
                        return True
            return False

        await assert_eventually(activity_running, timeout=30)
        first.send_signal(signal.SIGKILL)
        await asyncio.to_thread(first.wait)
    async with worker_process(server.address, task_queue):
        histories = await finish_all(handles, steps)
    await client.close()
    retried = [
        e
        for h in histories
        for e in h.events
        if e.event_type == H.EVENT_TYPE_ACTIVITY_TASK_STARTED and e.activity_task_started_event_attributes.attempt > 1
    ]
    # The activity the dead worker held timed out (start-to-close) and ran again on the new worker.
    assert retried, "no activity was retried after the worker was killed"
    assert any("timeout" in e.activity_task_started_event_attributes.last_failure.message for e in retried)


def _postgres_running(pgdata: Path) -> bool:
    for proc in psutil.process_iter(["name", "cmdline"]):
        cmdline = proc.info.get("cmdline") or []
        if proc.info.get("name") == "postgres" and str(pgdata) in cmdline:
            return True
    return False


async def test_start_dev_survives_sigkill_and_stops_cleanly(dev_data_dir: Path) -> None:
    data_dir = dev_data_dir / "data"
    data_dir.mkdir()
    port = free_port()
    log = open(data_dir.parent / f"{data_dir.name}.log", "wb")
    cmd = [wf_executable(), "server", "start-dev", "--port", str(port), "--data-dir", str(data_dir)]

    def launch() -> subprocess.Popen[bytes]:
        return subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)

    proc = launch()
    try:
        await wait_until_serving(f"127.0.0.1:{port}", timeout=60, alive=lambda: proc.poll() is None)
        client = await Client.connect(f"127.0.0.1:{port}")
        handle = await client.start_workflow("Anything", id="kept-across-restarts", task_queue="nobody")
        await client.close()
        proc.send_signal(signal.SIGKILL)
        await asyncio.to_thread(proc.wait)
        # PostgreSQL is its own process: it outlives the killed dev server.
        assert _postgres_running(data_dir / "pgdata")

        proc = launch()
        await wait_until_serving(f"127.0.0.1:{port}", timeout=60, alive=lambda: proc.poll() is None)
        client = await Client.connect(f"127.0.0.1:{port}")
        desc = await client.get_workflow_handle("kept-across-restarts").describe()
        assert desc.run_id == handle.run_id  # the same data, reused
        await client.close()

        proc.send_signal(signal.SIGTERM)
        assert await asyncio.to_thread(proc.wait, 30) == 0
        assert not _postgres_running(data_dir / "pgdata"), "a clean stop must stop PostgreSQL too"
    finally:
        if proc.poll() is None:
            proc.kill()
            await asyncio.to_thread(proc.wait)
        if _postgres_running(data_dir / "pgdata"):
            from wf.server.embedded import EmbeddedPostgres

            pg = EmbeddedPostgres(data_dir)
            pg.start()
            pg.stop()
        log.close()


async def test_update_survives_a_worker_killed_after_accepting_it(server: Server) -> None:
    from tests.fault_worker import Ledger

    task_queue = f"fault-update-{uuid.uuid4().hex[:8]}"
    client = await Client.connect(server.address)
    async with worker_process(server.address, task_queue) as first:
        handle = await client.start_workflow(Ledger.run, id=f"{task_queue}-ledger", task_queue=task_queue)
        # Accepted by the first worker; its handler waits on a 1.5 s activity that worker is running.
        update = await handle.start_update(Ledger.add, 7, 1.5)
        first.send_signal(signal.SIGKILL)
        await asyncio.to_thread(first.wait)
    async with worker_process(server.address, task_queue):
        assert await update.result() == 49
        await handle.signal(Ledger.close)
        assert await handle.result(timeout=timedelta(seconds=60)) == 49
    history = await handle.fetch_history()
    check_history(history)
    names = [e.event_type for e in history.events]
    assert names.count(H.EVENT_TYPE_WORKFLOW_EXECUTION_UPDATE_ACCEPTED) == 1
    assert names.count(H.EVENT_TYPE_WORKFLOW_EXECUTION_UPDATE_COMPLETED) == 1
    await client.close()


async def test_timers_fire_after_a_server_kill_including_ones_due_while_it_was_down(db_url: str) -> None:
    from tests.fault_worker import Napper

    task_queue = f"fault-timers-{uuid.uuid4().hex[:8]}"
    port = free_port()
    async with wf_server_process(db_url, port=port) as first:
        async with worker_process(first.address, task_queue):
            client = await Client.connect(first.address)
            handles = [
                await client.start_workflow(Napper.run, 1.0 + i * 0.2, id=f"{task_queue}-{i}", task_queue=task_queue)
                for i in range(5)
            ]

            async def all_sleeping() -> bool:
                for h in handles:
                    events = (await h.fetch_history()).events
                    if H.EVENT_TYPE_TIMER_STARTED not in [e.event_type for e in events]:
                        return False
                return True

            await assert_eventually(all_sleeping, timeout=30)
            await first.kill()
            # Wall-clock time passes with no server: every timer comes due while it is down.
            await asyncio.sleep(2.5)
            async with wf_server_process(db_url, port=port):
                results = await asyncio.gather(*(h.result(timeout=timedelta(seconds=60)) for h in handles))
                assert results == ["rested"] * len(handles)
                for h in handles:
                    history = await h.fetch_history()
                    check_history(history)
                    fired = [e for e in history.events if e.event_type == H.EVENT_TYPE_TIMER_FIRED]
                    assert len(fired) == 1
            await client.close()
