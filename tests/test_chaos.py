"""Chaos: a mixed workload while the server and the workers are SIGKILLed at random moments.

Twenty ``Mixed`` workflows (tests/chaos_worker.py) run activities that fail and are retried, sleep on
a durable timer and wait for signals sent from the test, while a seeded schedule kills the server
(restarted on the same port) and each of two worker processes (replaced). Afterwards every workflow
has closed once with the right result; every history is contiguous with one close event, last; no
activity result, timer or signal is recorded twice; every stored history passes the checker of
tests/history_check.py; and no task or timer row is left for the runs.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import random
import re
import signal
import subprocess
import sys
import time
import uuid
from collections import Counter
from datetime import timedelta
from pathlib import Path
from typing import Any

import asyncpg
import pytest

from tests.chaos_worker import STEPS, Mixed, expected
from tests.helpers import ServerProcess, assert_eventually, free_port, wf_server_process
from tests.history_check import check_stored_histories
from wf.server.app import asyncpg_dsn
from wf.v1 import history_pb2
from worker_sdk import Client, WorkflowHandle
from worker_sdk.errors import RPCError

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

SEED = 1234
WORKFLOWS = 20
K = 3  # signals per workflow
SERVER_KILLS = 3
KILLS_PER_WORKER = 2
WORKERS = 2


class RestartableServer:
    """``wf server start`` on a fixed port, killed with SIGKILL and started again on that port; each
    process's output is kept in ``log_dir``."""

    def __init__(self, db_url: str, port: int, log_dir: Path) -> None:
        self.db_url = db_url
        self.log_dir = log_dir
        self.port = port
        self.address = f"127.0.0.1:{port}"
        self._cm: contextlib.AbstractAsyncContextManager[ServerProcess] | None = None
        self._proc: ServerProcess | None = None
        self.generation = 0

    async def start(self) -> None:
        self.generation += 1
        cm = wf_server_process(self.db_url, port=self.port)
        self._proc = await cm.__aenter__()
        self._cm = cm

    async def kill(self) -> None:
        assert self._proc is not None
        await self._proc.kill()
        await self.stop()

    async def stop(self) -> None:
        """Stop the running process (SIGTERM, unless it is dead already), saving its output."""
        if self._proc is not None:
            (self.log_dir / f"server-{self.generation}.log").write_text(self._proc.output())
        if self._cm is not None:
            cm, self._cm, self._proc = self._cm, None, None
            await cm.__aexit__(None, None, None)


class WorkerSlot:
    """One worker process of tests/chaos_worker.py; killed with SIGKILL and replaced."""

    def __init__(self, name: str, address: str, task_queue: str, log_dir: Path) -> None:
        self.name = name
        self.address = address
        self.task_queue = task_queue
        self.log_dir = log_dir
        self.generation = 0
        self.proc: subprocess.Popen[bytes] | None = None
        self.log_path: Path | None = None

    async def start(self) -> None:
        self.generation += 1
        self.log_path = self.log_dir / f"{self.name}-{self.generation}.log"
        with open(self.log_path, "wb") as log:
            self.proc = subprocess.Popen(
                [sys.executable, str(ROOT / "tests" / "chaos_worker.py"), self.address, self.task_queue],
                cwd=ROOT,
                env={**os.environ, "PYTHONPATH": str(ROOT), "PYTHONUNBUFFERED": "1"},
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        proc, log_path = self.proc, self.log_path

        def ready() -> bool:
            assert proc.poll() is None, f"{self.name} exited:\n{log_path.read_text(errors='replace')}"
            return "worker ready" in log_path.read_text(errors="replace")

        await assert_eventually(ready, timeout=45, interval=0.1)

    async def kill(self) -> None:
        if self.proc is not None:
            if self.proc.poll() is None:
                self.proc.send_signal(signal.SIGKILL)
            await asyncio.to_thread(self.proc.wait)
            self.proc = None


async def total_events(conn: asyncpg.Connection, ids: list[str]) -> int:
    return int(await conn.fetchval("SELECT count(*) FROM history_events WHERE workflow_id = ANY($1)", ids))


async def open_runs(conn: asyncpg.Connection, ids: list[str]) -> int:
    return int(await conn.fetchval("SELECT count(*) FROM executions WHERE workflow_id = ANY($1) AND status = 1", ids))


async def progress_since(conn: asyncpg.Connection, ids: list[str], mark: int, at_least: int) -> None:
    """Wait until the workflows' histories have grown by ``at_least`` events since ``mark`` (or all
    have closed, the workload having outrun the chaos schedule)."""

    async def grew() -> bool:
        now = await total_events(conn, ids)
        if now - mark < at_least:
            assert await open_runs(conn, ids) == 0, f"only {now - mark} new history events since the last kill"
        return True

    await assert_eventually(grew, timeout=45, interval=0.1)


async def signal_record(handle: WorkflowHandle, client: Client) -> str:
    """The signals a run's history records, and how it ends."""
    events = (await handle.fetch_history()).events
    values = []
    for e in events:
        if e.event_type == H.EVENT_TYPE_WORKFLOW_EXECUTION_SIGNALED:
            values.extend(
                await client.data_converter.decode(e.workflow_execution_signaled_event_attributes.input, [int])
            )
    last = H.EventType.Name(events[-1].event_type) if events else "nothing"
    return f"{handle.id}: the history records signals {values} and its last event is {last}"


async def diagnose(conn: asyncpg.Connection, handles: dict[str, WorkflowHandle]) -> str:
    """What the runs that have not closed are waiting for: their histories and their rows."""
    lines = []
    for wid, handle in handles.items():
        desc = await handle.describe()
        if desc.close_time is not None:
            continue
        events = (await handle.fetch_history()).events
        names = [H.EventType.Name(e.event_type).removeprefix("EVENT_TYPE_") for e in events]
        lines.append(f"{wid} still open; history: {names}")
        lines.append(f"  pending activities: {[(a.activity_id, a.state, a.attempt) for a in desc.pending_activities]}")
        if desc.raw.HasField("pending_workflow_task"):
            lines.append(f"  pending workflow task: {desc.raw.pending_workflow_task}")
        for table in ("tasks", "timers"):
            rows = await conn.fetch(f"SELECT * FROM {table} WHERE workflow_id = $1", wid)
            lines.append(f"  {table}: {[dict(r) for r in rows]}")
    return "\n".join(lines)


async def check_run(handle: WorkflowHandle, sent: list[int], client: Client, seen: Counter[str]) -> None:
    events = (await handle.fetch_history()).events
    for e in events:  # what the chaos did to this run, for the test's log
        if e.event_type == H.EVENT_TYPE_ACTIVITY_TASK_STARTED and e.activity_task_started_event_attributes.attempt > 1:
            why = re.sub(r"\d+", "N", e.activity_task_started_event_attributes.last_failure.message[:60])
            seen[f"activity retried after: {why}"] += 1
        elif e.event_type == H.EVENT_TYPE_WORKFLOW_TASK_FAILED:
            seen[f"workflow task failed: {e.workflow_task_failed_event_attributes.failure.message[:60]}"] += 1
        elif e.event_type == H.EVENT_TYPE_WORKFLOW_TASK_TIMED_OUT:
            seen["workflow task timed out"] += 1
    wid = handle.id
    assert [e.event_id for e in events] == list(range(1, len(events) + 1)), f"{wid}: history is not contiguous"
    closes = [e for e in events if e.event_type in CLOSE_EVENTS]
    assert len(closes) == 1 and closes[0] is events[-1], f"{wid}: history must end in exactly one close event"
    assert events[-1].event_type == H.EVENT_TYPE_WORKFLOW_EXECUTION_COMPLETED, f"{wid}: closed as {events[-1]}"

    results = Counter(
        e.activity_task_completed_event_attributes.scheduled_event_id
        for e in events
        if e.event_type == H.EVENT_TYPE_ACTIVITY_TASK_COMPLETED
    )
    assert all(n == 1 for n in results.values()), f"{wid}: an activity result was recorded twice: {results}"
    assert len(results) == STEPS, f"{wid}: {len(results)} activities completed, expected {STEPS}"

    fired = Counter(e.timer_fired_event_attributes.timer_id for e in events if e.event_type == H.EVENT_TYPE_TIMER_FIRED)
    assert all(n == 1 for n in fired.values()), f"{wid}: a timer fired twice: {fired}"
    assert len(fired) == 1, f"{wid}: expected the one durable timer to fire, got {fired}"

    signaled = [e for e in events if e.event_type == H.EVENT_TYPE_WORKFLOW_EXECUTION_SIGNALED]
    values: list[Any] = []
    for e in signaled:
        attrs = e.workflow_execution_signaled_event_attributes
        assert attrs.signal_name == "add"
        values.extend(await client.data_converter.decode(attrs.input, [int]))
    assert len(signaled) == K, f"{wid}: {len(signaled)} signals recorded ({values}), {K} sent ({sent})"
    assert sorted(values) == sorted(sent), f"{wid}: signals recorded {values}, sent {sent}"


@pytest.mark.timeout(180)
async def test_chaos_mixed_workload_survives_random_sigkills(db_url: str, tmp_path: Path) -> None:
    rng = random.Random(SEED)
    task_queue = f"chaos-{uuid.uuid4().hex[:8]}"
    ids = [f"{task_queue}-{i}" for i in range(WORKFLOWS)]
    # The schedule, all drawn from the seeded generator up front: when each workflow starts, the
    # values of its K signals and the pause before each; which process dies in what order, and the
    # pauses around the kills.
    sent: dict[str, list[int]] = {wid: [rng.randint(1, 1000) for _ in range(K)] for wid in ids}
    start_after = {wid: rng.uniform(0.0, 10.0) for wid in ids}
    signal_pauses = {wid: [rng.uniform(0.5, 3.5) for _ in range(K)] for wid in ids}
    chaos = ["server"] * SERVER_KILLS + [f"worker{w}" for w in range(WORKERS) for _ in range(KILLS_PER_WORKER)]
    rng.shuffle(chaos)
    pauses = [(rng.uniform(0.3, 1.5), rng.uniform(0.5, 1.0)) for _ in chaos]
    log: list[str] = []
    began = time.monotonic()

    def note(what: str) -> None:
        log.append(f"{time.monotonic() - began:6.2f}s {what}")

    server = RestartableServer(db_url, free_port(), tmp_path)
    workers = {f"worker{w}": WorkerSlot(f"worker{w}", server.address, task_queue, tmp_path) for w in range(WORKERS)}
    conn = await asyncpg.connect(asyncpg_dsn(db_url))
    client: Client | None = None
    drivers: list[asyncio.Task[WorkflowHandle]] = []
    try:
        await server.start()
        await asyncio.gather(*(w.start() for w in workers.values()))
        client = await Client.connect(server.address)
        note("server and workers up")

        async def drive(i: int, wid: str) -> WorkflowHandle:
            """Start one workflow and signal it K times, at the schedule's moments: some of these calls
            meet a dead server, and the client retries them (same request id) until it is back."""
            assert client is not None
            await asyncio.sleep(start_after[wid])
            handle = await client.start_workflow(
                Mixed.run, i, K, id=wid, task_queue=task_queue, task_timeout=timedelta(seconds=3)
            )
            for n, pause in zip(sent[wid], signal_pauses[wid], strict=True):
                await asyncio.sleep(pause)
                try:
                    await handle.signal(Mixed.add, n)
                except RPCError as exc:
                    raise AssertionError(
                        f"signal add({n}) to {wid} failed at {time.monotonic() - began:.2f}s with "
                        f"{exc.status.name}: {exc.message}\n{await signal_record(handle, client)}"
                    ) from exc
            return handle

        drivers = [asyncio.create_task(drive(i, wid)) for i, wid in enumerate(ids)]

        mark = 0
        for victim, (before, down) in zip(chaos, pauses, strict=True):
            # Every kill comes after the workload has moved on since the one before it.
            await progress_since(conn, ids, mark, at_least=10)
            await asyncio.sleep(before)
            mark = await total_events(conn, ids)
            state = f"history events so far: {mark}, open runs: {await open_runs(conn, ids)}"
            if victim == "server":
                note(f"kill server ({state})")
                await server.kill()
                await asyncio.sleep(down)
                await server.start()
                note("server restarted")
            else:
                note(f"kill {victim} ({state})")
                await workers[victim].kill()
                await workers[victim].start()
                note(f"{victim} replaced")

        handles = dict(zip(ids, await asyncio.gather(*drivers), strict=True))
        note("all started and signalled")
        try:
            results = await asyncio.gather(*(handles[wid].result(timeout=timedelta(seconds=60)) for wid in ids))
        except TimeoutError:
            raise AssertionError(f"some workflows did not close:\n{await diagnose(conn, handles)}") from None
        note("all results in")
        assert results == [expected(i, sent[wid]) for i, wid in enumerate(ids)]
        seen: Counter[str] = Counter()
        for wid in ids:
            await check_run(handles[wid], sent[wid], client, seen)
        log.extend(f"        {n:3} x {what}" for what, n in sorted(seen.items()))
        checked, problems = await check_stored_histories(conn, workflow_ids=ids)
        assert checked == WORKFLOWS and not problems, "\n".join(problems)

        assert await conn.fetchval("SELECT count(*) FROM tasks WHERE workflow_id = ANY($1)", ids) == 0
        assert await conn.fetchval("SELECT count(*) FROM timers WHERE workflow_id = ANY($1)", ids) == 0
        note("checked")
    finally:
        print("\n".join(log))
        for t in drivers:
            t.cancel()
        await asyncio.gather(*drivers, return_exceptions=True)
        if client is not None:
            await client.close()
        for w in workers.values():
            await w.kill()
        await server.stop()
        await conn.close()
