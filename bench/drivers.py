"""The driver side of each workload: start workflows through a Client, check results, time them.

Each ``run_*`` function does one run and returns its figures (a flat dict of numbers); a wrong
result raises :class:`CheckFailed`, so a broken build never prints a figure.
"""

from __future__ import annotations

import asyncio
import math
import statistics
import time
import uuid
from collections import Counter
from typing import Any

from bench.harness import Database, Stack, postgres_cpu_seconds
from bench.limit import DbCounters
from bench.workloads import (
    ChildrenWorkflow,
    ContinueWorkflow,
    FanoutWorkflow,
    HelloWorkflow,
    LongWorkflow,
    TimerWorkflow,
    fanout_result,
    hello_result,
)
from wf.v1 import history_pb2
from worker_sdk import Client, DataConverter
from worker_sdk._definition import WorkflowDefinition
from worker_sdk._replay import WorkflowTaskInput, run_workflow_task
from worker_sdk.errors import WorkflowFailureError

Figures = dict[str, Any]


class CheckFailed(Exception):
    """A workload's result was wrong: the run measured nothing worth printing."""


def percentile(values: list[float], p: float) -> float:
    """Nearest-rank percentile (p in 0..100)."""
    ordered = sorted(values)
    return ordered[max(0, math.ceil(p / 100 * len(ordered)) - 1)]


def _tag() -> str:
    return uuid.uuid4().hex[:8]


async def _result(client: Client, workflow: Any, arg: Any, *, id: str, task_queue: str) -> Any:
    try:
        return await client.execute_workflow(workflow, arg, id=id, task_queue=task_queue)
    except WorkflowFailureError as exc:
        raise CheckFailed(f"workflow {id} failed: {exc} (cause: {exc.cause!r})") from exc


# -- counting transactions and RPCs ----------------------------------------------------------------


class Meter:
    """Database transactions, RPCs and CPU time over one run, per unit of work (workflow or activity).

    ``pg_stat_database`` is updated lazily: a busy backend publishes its counts at most once a
    second and an idle one within 10 s, so every reading waits ``settle`` seconds first. The
    server's idle background (its timer processor looks at the timer table every second) is
    measured once by :meth:`calibrate` and subtracted. RPCs are those the driver's client and the
    worker sent: every RPC the benchmark's server received. CPU time is read from /proc for the
    server, the worker, this process and (when embedded) every PostgreSQL process.
    """

    def __init__(self, db: Database, stack: Stack, client_rpcs: Counter[str], settle: float) -> None:
        self.db = db
        self.url = db.url
        self.stack = stack
        self.client_rpcs = client_rpcs
        self.settle = settle
        self.background_commits_per_s = 0.0
        self.background_xids_per_s = 0.0
        self._db: DbCounters | None = None
        self._rpcs: Counter[str] = Counter()
        self._cpu: dict[str, float] = {}

    async def calibrate(self) -> None:
        if self.settle <= 0:
            return
        await asyncio.sleep(self.settle)  # what starting up did is published
        before = await DbCounters.read(self.url)
        await asyncio.sleep(self.settle)
        after = await DbCounters.read(self.url)
        elapsed = after.at - before.at
        # Each reading is itself one (read-only) transaction, published by the next.
        self.background_commits_per_s = max(0, after.commits - before.commits - 1) / elapsed
        self.background_xids_per_s = (after.next_xid - before.next_xid) / elapsed

    async def _rpc_total(self) -> Counter[str]:
        return self.client_rpcs + await self.stack.worker_rpcs()

    def _cpu_total(self) -> dict[str, float]:
        cpu = {**self.stack.cpu_seconds(), "driver": time.process_time()}
        if self.db.postmaster_pid is not None:
            cpu["postgres"] = postgres_cpu_seconds(self.db.postmaster_pid)
        return cpu

    async def begin(self) -> None:
        self._db = await DbCounters.read(self.url)
        self._rpcs = await self._rpc_total()
        self._cpu = self._cpu_total()

    async def end(self, units: int, unit: str) -> Figures:
        cpu_now = self._cpu_total()
        cpu = {k: (cpu_now[k] - self._cpu[k]) * 1000 / units for k in cpu_now}
        rpcs = await self._rpc_total() - self._rpcs
        await asyncio.sleep(self.settle)
        assert self._db is not None
        db = await DbCounters.read(self.url)
        elapsed = db.at - self._db.at
        commits = db.commits - self._db.commits - 1 - self.background_commits_per_s * elapsed
        xids = db.next_xid - self._db.next_xid - self.background_xids_per_s * elapsed
        return {
            f"transactions_per_{unit}": round(commits / units, 3),
            f"write_transactions_per_{unit}": round(xids / units, 3),
            f"rpcs_per_{unit}": round(sum(rpcs.values()) / units, 3),
            f"rpcs_by_method_per_{unit}": {k: round(v / units, 3) for k, v in sorted(rpcs.items())},
            f"cpu_ms_per_{unit}": {k: round(v, 3) for k, v in cpu.items()},
        }


# -- workloads -------------------------------------------------------------------------------------


async def run_hello(client: Client, stack: Stack, meter: Meter, n: int, concurrency: int) -> Figures:
    """``n`` one-activity workflows, at most ``concurrency`` in flight (1: one after another)."""
    tag = _tag()
    slots = asyncio.Semaphore(concurrency)
    latencies: list[float] = []

    async def one(i: int) -> None:
        name = f"{tag}-{i}"
        async with slots:
            began = time.perf_counter()
            result = await _result(client, HelloWorkflow.run, name, id=f"hello-{name}", task_queue=stack.task_queue)
            latencies.append(time.perf_counter() - began)
        if result != hello_result(name):
            raise CheckFailed(f"workflow hello-{name} returned {result!r}, expected {hello_result(name)!r}")

    await meter.begin()
    began = time.perf_counter()
    if concurrency == 1:
        for i in range(n):
            await one(i)
    else:
        await asyncio.gather(*(one(i) for i in range(n)))
    elapsed = time.perf_counter() - began
    counts = await meter.end(n, "workflow")
    return {
        "workflows_per_s": round(n / elapsed, 2),
        "p50_ms": round(percentile(latencies, 50) * 1000, 2),
        "p99_ms": round(percentile(latencies, 99) * 1000, 2),
        "elapsed_s": round(elapsed, 3),
        **counts,
    }


async def _long(client: Client, stack: Stack, steps: int) -> tuple[list[float], float, str]:
    """Run one LongWorkflow of ``steps`` activities; its checked result, seconds taken, and id."""
    wid = f"long-{_tag()}"
    began = time.perf_counter()
    stamps = await _result(client, LongWorkflow.run, steps, id=wid, task_queue=stack.task_queue)
    elapsed = time.perf_counter() - began
    if not isinstance(stamps, list) or len(stamps) != steps:
        got = len(stamps) if isinstance(stamps, list) else type(stamps).__name__
        raise CheckFailed(f"workflow {wid} returned {got} timestamps, expected {steps}")
    if any(b < a for a, b in zip(stamps, stamps[1:], strict=False)):
        raise CheckFailed(f"workflow {wid}: activity timestamps are not in order: the steps were not sequential")
    return stamps, elapsed, wid


async def run_long(client: Client, stack: Stack, meter: Meter, steps: int) -> Figures:
    """One workflow of ``steps`` sequential activities: is a step as fast at the end as at the start?"""
    await meter.begin()
    stamps, elapsed, _ = await _long(client, stack, steps)
    counts = await meter.end(steps, "activity")
    deltas = [(b - a) * 1000 for a, b in zip(stamps, stamps[1:], strict=False)]
    window = min(100, len(deltas)) or 1
    first = statistics.fmean(deltas[:window]) if deltas else 0.0
    last = statistics.fmean(deltas[-window:]) if deltas else 0.0
    return {
        "first_100_ms_per_step": round(first, 3),
        "last_100_ms_per_step": round(last, 3),
        "last_over_first": round(last / first, 3) if first else None,
        "ms_per_step": round(elapsed * 1000 / steps, 3),
        "total_s": round(elapsed, 3),
        **counts,
    }


async def run_fanout(client: Client, stack: Stack, meter: Meter, width: int) -> Figures:
    """One workflow awaiting ``width`` parallel activities."""
    wid = f"fanout-{_tag()}"
    await meter.begin()
    began = time.perf_counter()
    total = await _result(client, FanoutWorkflow.run, width, id=wid, task_queue=stack.task_queue)
    elapsed = time.perf_counter() - began
    counts = await meter.end(width, "activity")
    if total != fanout_result(width):
        raise CheckFailed(f"workflow {wid} returned {total!r}, expected {fanout_result(width)}")
    return {
        "total_s": round(elapsed, 3),
        "activities_per_s": round(width / elapsed, 2),
        **counts,
    }


async def run_children(client: Client, stack: Stack, meter: Meter, count: int) -> Figures:
    """One workflow starting ``count`` children of one activity each, at once, and awaiting them."""
    wid = f"children-{_tag()}"
    await meter.begin()
    began = time.perf_counter()
    good = await _result(client, ChildrenWorkflow.run, count, id=wid, task_queue=stack.task_queue)
    elapsed = time.perf_counter() - began
    counts = await meter.end(count, "child")
    if good != count:
        raise CheckFailed(f"workflow {wid}: {good} of {count} children returned what they should")
    return {"total_s": round(elapsed, 3), "children_per_s": round(count / elapsed, 2), **counts}


async def run_continue(client: Client, stack: Stack, meter: Meter, runs: int) -> Figures:
    """One workflow of one activity per run, continuing as new until ``runs`` runs have run."""
    wid = f"continue-{_tag()}"
    await meter.begin()
    began = time.perf_counter()
    handle = await client.start_workflow(ContinueWorkflow.run, runs, id=wid, task_queue=stack.task_queue)
    try:
        done = await handle.result()  # follows the chain of runs to the last one
    except WorkflowFailureError as exc:
        raise CheckFailed(f"workflow {wid} failed: {exc} (cause: {exc.cause!r})") from exc
    elapsed = time.perf_counter() - began
    counts = await meter.end(runs, "run")
    if done != runs:
        raise CheckFailed(f"workflow {wid} returned {done!r}, expected {runs}")
    return {"total_s": round(elapsed, 3), "ms_per_run": round(elapsed * 1000 / runs, 3), **counts}


def timer_seconds(i: int, n: int) -> float:
    """The sleep of the ``i``-th of ``n`` timer workflows: spread evenly over 1 to 5 s."""
    return round(1 + 4 * i / n, 3)


# Histories read at once after a timers run, to split each timer's lateness.
TIMER_HISTORY_READS = 64


async def _timer_lateness(client: Client, wid: str, seconds: float) -> tuple[float, float]:
    """How late the timer of ``wid`` fired (its TimerFired event) and how late the workflow went on
    (the start of the workflow task after it), both against the TimerStarted event's time +
    ``seconds``: the server's clock, from the moment the timer was set."""
    events = (await client.get_workflow_handle(wid).fetch_history()).events
    set_at = [e for e in events if e.event_type == history_pb2.EVENT_TYPE_TIMER_STARTED]
    fired = [e for e in events if e.event_type == history_pb2.EVENT_TYPE_TIMER_FIRED]
    if len(set_at) != 1 or len(fired) != 1:
        raise CheckFailed(f"workflow {wid}: expected one TimerStarted and one TimerFired in its history")
    resumed = [
        e for e in events
        if e.event_type == history_pb2.EVENT_TYPE_WORKFLOW_TASK_STARTED and e.event_id > fired[0].event_id
    ]
    if not resumed:
        raise CheckFailed(f"workflow {wid}: no workflow task started after its TimerFired")
    due_ns = set_at[0].event_time.ToNanoseconds() + round(seconds * 1e9)
    return (
        (fired[0].event_time.ToNanoseconds() - due_ns) / 1e6,
        (resumed[0].event_time.ToNanoseconds() - due_ns) / 1e6,
    )


# Timer lateness below this (in ms) is not clock granularity but a timer that fired early.
EARLY_TOLERANCE_MS = -50.0


async def run_timers(client: Client, stack: Stack, meter: Meter, n: int, concurrency: int) -> Figures:
    """``n`` workflows each sleeping 1-5 s (started at most ``concurrency`` at a time): timer lateness."""
    tag = _tag()
    slots = asyncio.Semaphore(concurrency)
    waits = asyncio.Semaphore(concurrency)
    lateness: list[float] = []

    async def one(i: int) -> None:
        wid = f"timers-{tag}-{i}"
        seconds = timer_seconds(i, n)
        async with slots:
            try:
                handle = await client.start_workflow(TimerWorkflow.run, seconds, id=wid, task_queue=stack.task_queue)
            except Exception as exc:
                raise CheckFailed(f"starting workflow {wid} failed: {exc}") from exc
        # At most ``concurrency`` result long polls too (the lateness is measured in the workflow, so
        # collecting a result late changes only elapsed_s). The sleeps grow with i, so the earliest
        # started close first.
        try:
            async with waits:
                result = await handle.result()
        except WorkflowFailureError as exc:
            raise CheckFailed(f"workflow {wid} failed: {exc} (cause: {exc.cause!r})") from exc
        if not (isinstance(result, list) and len(result) == 2 and result[0] == seconds):
            raise CheckFailed(f"workflow {wid} returned {result!r}, expected [{seconds}, lateness_ms]")
        late = float(result[1])
        if late < EARLY_TOLERANCE_MS:
            raise CheckFailed(f"workflow {wid}: its {seconds} s timer fired {-late:.1f} ms early")
        lateness.append(late)

    await meter.begin()
    began = time.perf_counter()
    await asyncio.gather(*(one(i) for i in range(n)))
    elapsed = time.perf_counter() - began
    counts = await meter.end(n, "workflow")
    if len(lateness) != n:
        raise CheckFailed(f"{len(lateness)} of {n} timer workflows returned")
    # Every history, for the lateness from the moment each timer was set (``workflow.now()`` before
    # the sleep is the start of the workflow task that set it, which adds that task's own time).
    reads = asyncio.Semaphore(TIMER_HISTORY_READS)

    async def split(i: int) -> tuple[float, float]:
        async with reads:
            return await _timer_lateness(client, f"timers-{tag}-{i}", timer_seconds(i, n))

    splits = await asyncio.gather(*(split(i) for i in range(n)))
    fire = [f for f, _ in splits]
    resume = [r for _, r in splits]
    if min(fire) < EARLY_TOLERANCE_MS:
        raise CheckFailed(f"a timer fired {-min(fire):.1f} ms early (by its TimerStarted and TimerFired events)")
    return {
        "p50_lateness_ms": round(percentile(resume, 50), 2),
        "p99_lateness_ms": round(percentile(resume, 99), 2),
        "max_lateness_ms": round(max(resume), 2),
        "p50_fire_lateness_ms": round(percentile(fire, 50), 2),
        "p99_fire_lateness_ms": round(percentile(fire, 99), 2),
        "max_fire_lateness_ms": round(max(fire), 2),
        "p50_workflow_view_ms": round(percentile(lateness, 50), 2),
        "p99_workflow_view_ms": round(percentile(lateness, 99), 2),
        "elapsed_s": round(elapsed, 3),
        **counts,
    }


async def make_replay_history(client: Client, stack: Stack, steps: int) -> tuple[WorkflowTaskInput, Figures]:
    """Run one LongWorkflow of ``steps`` activities and fetch its (closed) history."""
    _, elapsed, wid = await _long(client, stack, steps)
    handle = client.get_workflow_handle(wid)
    history = await handle.fetch_history()
    events = history.events
    if not events or events[-1].event_type != history_pb2.EVENT_TYPE_WORKFLOW_EXECUTION_COMPLETED:
        raise CheckFailed(f"the history of {wid} does not end with WorkflowExecutionCompleted")
    task = WorkflowTaskInput(
        client.namespace, wid, handle.run_id or "", "LongWorkflow", history_pb2.History(events=events)
    )
    size = task.history.ByteSize()
    return task, {
        "steps": steps,
        "events": len(events),
        "history_bytes": size,
        "generate_s": round(elapsed, 3),
    }


def replay_once(task: WorkflowTaskInput) -> float:
    """Seconds for one cold replay of ``task``'s closed history (a fresh workflow instance each time)."""
    lookup = {"LongWorkflow": WorkflowDefinition.of(LongWorkflow)}.get
    began = time.perf_counter()
    commands = run_workflow_task(task, lookup, DataConverter())
    elapsed = time.perf_counter() - began
    if commands:
        raise CheckFailed(f"replaying a closed history returned {len(commands)} commands, expected none")
    return elapsed


def replay_figures(task: WorkflowTaskInput) -> Figures:
    seconds = replay_once(task)
    events = len(task.history.events)
    return {
        "replay_ms": round(seconds * 1000, 2),
        "replay_us_per_event": round(seconds * 1e6 / events, 3),
    }
