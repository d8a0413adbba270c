"""``python -m bench schedules``: how late schedules start their runs, and what one start costs.

``--schedules`` (500) interval schedules, each firing every ``--every`` (10) s, jitter off, overlap
policy ALLOW_ALL, each run a :class:`~bench.workloads.HelloWorkflow` (one activity the benchmark
worker completes at once). Schedule ``i`` fires at epoch + n·every + (i mod every) s, so the default
is 50 starts due at every whole second (cron-like: each second's starts are due at once). Every
schedule is created before its window opens, and its spec's start and end times bracket the window
(``--minutes``, 2), so the nominal times each must take are computed here, independently of the
server's spec code.

After the window, the runs are listed (``WorkflowId STARTS_WITH``) and every run must complete. The
figures: lateness of each start (the run's start time minus its nominal time, the search attribute
``TemporalScheduledStartTime``), p50/p99/max; ``missed`` (nominal times without a run) and
``duplicates`` (runs beyond one per nominal time), both must be 0; the server's CPU per start and the
database transactions per start (:class:`bench.drivers.Meter`); the reference ``limit`` is measured
by ``bench_wf`` in the same invocation and gives the ratios.

``--find-max``: levels of ``--schedules`` doubling from the given number (each ``--minutes``, 1 by
default in this mode) until p99 lateness passes 1 s or a time is missed, then halving the gap between
the last level that held and the first that did not, while it is wider than a tenth of the former:
``max_schedules`` is the most this machine sustained.
"""

from __future__ import annotations

import asyncio
import logging
import math
import random
import time
import uuid
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import grpc
from google.protobuf.duration_pb2 import Duration
from google.protobuf.timestamp_pb2 import Timestamp

from bench.drivers import CheckFailed, Figures, Meter, percentile
from bench.harness import Stack
from bench.workloads import hello_result
from wf.v1 import common_pb2, history_pb2, schedule_pb2, service_pb2, service_pb2_grpc
from worker_sdk import DataConverter

log = logging.getLogger("bench")

C = common_pb2
H = history_pb2
P = schedule_pb2
S = service_pb2

DEFAULT_SCHEDULES = 500
DEFAULT_EVERY = 10.0
DEFAULT_MINUTES = 2.0
FIND_MAX_MINUTES = 1.0
LATENESS_BAR_MS = 1000.0
"""The bar: p99 lateness of the start under 1 s."""
CREATES_IN_FLIGHT = 32
ASSUMED_CREATES_PER_S = 200.0
"""How fast schedules are assumed to be created when choosing how far ahead the window opens."""
DRAIN_S = 60.0
"""After the window: how long the last starts may take to appear, and then the runs to complete."""
IDLE_S = 600.0
"""How long a level that fell behind may take to finish its runs before the next level."""
MAX_LEVELS = 8
HISTORY_SAMPLE = 200
"""Runs whose history is read for the lateness as a worker sees it."""

SCHEDULED_AT = "TemporalScheduledStartTime"


def _duration(seconds: float) -> Duration:
    d = Duration()
    d.FromTimedelta(timedelta(seconds=seconds))
    return d


def _timestamp(t: datetime) -> Timestamp:
    stamp = Timestamp()
    stamp.FromDatetime(t)
    return stamp


def phase_of(i: int, every: float) -> float:
    """Schedule ``i``'s phase: whole seconds spread over the interval."""
    return float(i % max(1, int(every)))


def nominal_times(first: datetime, last: datetime, every: float, phase: float) -> list[float]:
    """Every epoch + n·every + phase in [first, last], as POSIX seconds."""
    n = math.ceil((first.timestamp() - phase) / every)
    out = []
    while (t := n * every + phase) <= last.timestamp():
        out.append(t)
        n += 1
    return out


@dataclass(frozen=True)
class Window:
    """One level's schedules and the nominal times they must take: every time in [first, last]."""

    tag: str
    schedules: int
    every: float
    first: datetime
    last: datetime

    def schedule_id(self, i: int) -> str:
        return f"bs-{self.tag}-{i}"

    def expected(self) -> dict[str, list[float]]:
        """Action workflow id → its nominal times."""
        return {
            self.schedule_id(i): nominal_times(self.first, self.last, self.every, phase_of(i, self.every))
            for i in range(self.schedules)
        }


def _schedule(window: Window, i: int, task_queue: str) -> P.Schedule:
    name = window.schedule_id(i)
    spec = P.ScheduleSpec(
        interval=[P.IntervalSpec(interval=_duration(window.every), phase=_duration(phase_of(i, window.every)))],
        # Half a second around the window, so neither end's inclusiveness matters.
        start_time=_timestamp(window.first - timedelta(seconds=0.5)),
        end_time=_timestamp(window.last + timedelta(seconds=0.5)),
    )
    return P.Schedule(
        spec=spec,
        action=P.ScheduleAction(
            start_workflow=P.NewWorkflowExecutionInfo(
                workflow_id=name,
                workflow_type=C.WorkflowType(name="HelloWorkflow"),
                task_queue=C.TaskQueue(name=task_queue),
                input=DataConverter().to_payloads([name]),
            )
        ),
        policies=P.SchedulePolicies(overlap_policy=P.SCHEDULE_OVERLAP_POLICY_ALLOW_ALL),
    )


async def _create(stub: service_pb2_grpc.WorkflowServiceStub, window: Window, task_queue: str) -> float:
    """Create every schedule of the window; the seconds it took."""
    slots = asyncio.Semaphore(CREATES_IN_FLIGHT)

    async def one(i: int) -> None:
        async with slots:
            await stub.CreateSchedule(
                S.CreateScheduleRequest(
                    namespace="default",
                    schedule_id=window.schedule_id(i),
                    schedule=_schedule(window, i, task_queue),
                    request_id=uuid.uuid4().hex,
                ),
                timeout=60,
            )

    began = time.monotonic()
    await asyncio.gather(*(one(i) for i in range(window.schedules)))
    return time.monotonic() - began


async def _delete(stub: service_pb2_grpc.WorkflowServiceStub, window: Window) -> None:
    slots = asyncio.Semaphore(CREATES_IN_FLIGHT)

    async def one(i: int) -> None:
        async with slots:
            await stub.DeleteSchedule(
                S.DeleteScheduleRequest(namespace="default", schedule_id=window.schedule_id(i)), timeout=60
            )

    await asyncio.gather(*(one(i) for i in range(window.schedules)))


@dataclass(frozen=True)
class Run:
    workflow_id: str
    started: float  # POSIX seconds
    nominal: float
    status: int


async def _runs(stub: service_pb2_grpc.WorkflowServiceStub, window: Window) -> list[Run]:
    """Every run of the window's schedules, listed."""
    query = f"WorkflowId STARTS_WITH 'bs-{window.tag}-'"
    runs: list[Run] = []
    token = b""
    while True:
        resp = await stub.ListWorkflowExecutions(
            S.ListWorkflowExecutionsRequest(namespace="default", query=query, page_size=1000, next_page_token=token),
            timeout=60,
        )
        for info in resp.executions:
            raw = info.search_attributes.indexed_fields.get(SCHEDULED_AT)
            if raw is None:
                raise CheckFailed(f"run {info.execution.workflow_id} has no {SCHEDULED_AT}")
            nominal = DataConverter().payload_converter.from_payload(raw)
            at = datetime.fromisoformat(str(nominal).replace("Z", "+00:00")).timestamp()
            runs.append(Run(info.execution.workflow_id, info.start_time.ToNanoseconds() / 1e9, at, info.status))
        token = resp.next_page_token
        if not token:
            return runs


async def _count(stub: service_pb2_grpc.WorkflowServiceStub, window: Window, *, running: bool = False) -> int:
    query = f"WorkflowId STARTS_WITH 'bs-{window.tag}-'" + (" AND ExecutionStatus = 'Running'" if running else "")
    resp = await stub.CountWorkflowExecutions(S.CountWorkflowExecutionsRequest(namespace="default", query=query))
    return int(resp.count)


async def _wait_idle(stub: service_pb2_grpc.WorkflowServiceStub, window: Window) -> None:
    """Unmeasured: the window's runs all closed, so the next level starts on an idle system."""
    deadline = time.monotonic() + IDLE_S
    while await _count(stub, window, running=True):
        if time.monotonic() > deadline:
            raise CheckFailed(f"runs of {window.schedules} schedules still open {IDLE_S:.0f}s after their window")
        await asyncio.sleep(2.0)


def _id_of(schedule_id: str, nominal: float) -> str:
    return f"{schedule_id}-{datetime.fromtimestamp(nominal, UTC).strftime('%Y-%m-%dT%H:%M:%SZ')}"


def _tally(window: Window, runs: Sequence[Run]) -> tuple[int, int, int]:
    """(missed, duplicates, unexpected): nominal times without a run, runs beyond one per nominal
    time, and runs whose id or time is not one the window expects."""
    expected = {_id_of(sid, t): t for sid, times in window.expected().items() for t in times}
    seen = Counter(r.workflow_id for r in runs)
    duplicates = sum(n - 1 for n in seen.values())
    unexpected = sum(1 for r in runs if expected.get(r.workflow_id) != r.nominal)
    missed = sum(1 for wid in expected if wid not in seen)
    return missed, duplicates, unexpected


async def run_level(
    stub: service_pb2_grpc.WorkflowServiceStub, stack: Stack, meter: Meter, schedules: int, every: float,
    minutes: float,
) -> Figures:
    """One window of ``schedules`` schedules for ``minutes``: lateness, accounting and cost per start."""
    lead = 5.0 + schedules / ASSUMED_CREATES_PER_S
    first = datetime.fromtimestamp(math.ceil(time.time() + lead), UTC)
    window = Window(uuid.uuid4().hex[:8], schedules, every, first, first + timedelta(seconds=minutes * 60 - 1))
    expected = sum(len(t) for t in window.expected().values())
    log.info("schedules: creating %d schedules every %.0fs; window %s + %.1f min, %d starts",
             schedules, every, first.isoformat(), minutes, expected)
    create_s = await _create(stub, window, stack.task_queue)
    if time.time() > first.timestamp() - 0.5:
        raise CheckFailed(f"creating {schedules} schedules took {create_s:.1f}s, longer than the lead of {lead:.0f}s")
    log.info("schedules: created in %.1fs (%.0f/s)", create_s, schedules / create_s)
    await asyncio.sleep(first.timestamp() - 0.5 - time.time())
    await meter.begin()
    cpu_before = stack.cpu_seconds()["server"]
    await asyncio.sleep(max(0.0, window.last.timestamp() - time.time()))
    stack.check_alive()
    cpu_window = stack.cpu_seconds()["server"] - cpu_before

    # The last starts, then every run's completion (counted while waiting; listed once after).
    deadline = time.monotonic() + DRAIN_S
    while await _count(stub, window) < expected and time.monotonic() < deadline:
        await asyncio.sleep(2.0)
    while await _count(stub, window, running=True) and time.monotonic() < deadline:
        await asyncio.sleep(2.0)
    runs = await _runs(stub, window)
    counts = await meter.end(max(1, len(runs)), "start")
    missed, duplicates, unexpected = _tally(window, runs)
    if duplicates or unexpected:
        raise CheckFailed(f"{duplicates} duplicate and {unexpected} unexpected runs: a nominal time taken twice")
    completed = [r for r in runs if r.status == C.WORKFLOW_EXECUTION_STATUS_COMPLETED]
    if len(completed) < len(runs):
        log.warning("schedules: %d of %d runs did not complete within %.0fs of the window's end",
                    len(runs) - len(completed), len(runs), DRAIN_S)
    late = [(r.started - r.nominal) * 1000 for r in runs] or [math.nan]
    in_hand = await _first_task_lateness(stub, completed) or [math.nan]
    await _check_results(stub, window, completed[:5])
    await _wait_idle(stub, window)
    await _delete(stub, window)
    return {
        "schedules": schedules,
        "interval_seconds": every,
        "minutes": minutes,
        "expected_starts": expected,
        "starts": len(runs),
        "starts_per_s": round(schedules / every, 2),
        "missed": missed,
        "duplicates": duplicates,
        # Runs still open DRAIN_S after the window: the system did not keep up with its starts.
        "not_completed": len(runs) - len(completed),
        "p50_lateness_ms": round(percentile(late, 50), 2),
        "p99_lateness_ms": round(percentile(late, 99), 2),
        "max_lateness_ms": round(max(late), 2),
        "min_lateness_ms": round(min(late), 2),
        "p50_first_task_lateness_ms": round(percentile(in_hand, 50), 2),
        "p99_first_task_lateness_ms": round(percentile(in_hand, 99), 2),
        "create_seconds": round(create_s, 2),
        # The server's CPU in the window alone (the drain's completions excluded), per start and as
        # a share of one core.
        "server_cpu_ms_per_start": round(cpu_window * 1000 / max(1, len(runs)), 3),
        "server_cpu_cores": round(cpu_window / (minutes * 60), 3),
        **counts,
    }


async def _check_results(stub: service_pb2_grpc.WorkflowServiceStub, window: Window, runs: Sequence[Run]) -> None:
    """A few runs' results: the greeting of their schedule's input."""
    converter = DataConverter()
    for r in runs:
        execution = C.WorkflowExecution(workflow_id=r.workflow_id)
        resp = await stub.DescribeWorkflowExecution(
            S.DescribeWorkflowExecutionRequest(namespace="default", execution=execution), timeout=30
        )
        name = r.workflow_id.rsplit("-", 3)[0]  # the schedule id: before "-YYYY-MM-DDTHH:MM:SSZ"
        got = converter.from_payloads(resp.result) if resp.HasField("result") else None
        if got != [hello_result(name)]:
            raise CheckFailed(f"run {r.workflow_id} returned {got!r}, expected {hello_result(name)!r}")


async def _first_task_lateness(
    stub: service_pb2_grpc.WorkflowServiceStub, runs: Sequence[Run]
) -> list[float]:
    """For a sample of runs: their first WorkflowTaskStarted minus their nominal time (ms), i.e. when
    a worker had the run in hand. A run's start time is the moment its tick decided to start it;
    the tick's transaction commits its starts together a little later, so this includes that."""
    sample = random.Random(0).sample(list(runs), min(HISTORY_SAMPLE, len(runs)))
    reads = asyncio.Semaphore(16)

    async def one(r: Run) -> float:
        async with reads:
            resp = await stub.GetWorkflowExecutionHistory(
                S.GetWorkflowExecutionHistoryRequest(
                    namespace="default", execution=C.WorkflowExecution(workflow_id=r.workflow_id)
                ),
                timeout=30,
            )
        for e in resp.history.events:
            if e.event_type == H.EVENT_TYPE_WORKFLOW_TASK_STARTED:
                return (e.event_time.ToNanoseconds() / 1e9 - r.nominal) * 1000
        raise CheckFailed(f"run {r.workflow_id} has no WorkflowTaskStarted")

    return list(await asyncio.gather(*(one(r) for r in sample)))


def holds(figures: Figures) -> bool:
    """The bar: p99 lateness under 1 s, no missed time, and the runs kept up with (all completed)."""
    return bool(
        figures["p99_lateness_ms"] < LATENESS_BAR_MS and figures["missed"] == 0 and figures["not_completed"] == 0
    )


def next_level(held: int | None, failed: int | None, n: int) -> int | None:
    """The next number of schedules to try after ``n``, knowing the largest that held and the
    smallest that failed so far; None when the gap is down to a tenth of what held (or nothing holds)."""
    if failed is None:
        return n * 2
    if held is None:
        return n // 2 or None
    if failed - held > max(held // 10, 1):
        return (held + failed) // 2
    return None


async def run_schedules(
    address: str, stack: Stack, meter: Meter, *, schedules: int, every: float, minutes: float, find_max: bool
) -> Figures:
    async with grpc.aio.insecure_channel(address) as channel:
        stub = service_pb2_grpc.WorkflowServiceStub(channel)
        if not find_max:
            figures = await run_level(stub, stack, meter, schedules, every, minutes)
            return {**figures, "meets_bar": holds(figures)}
        levels: list[Figures] = []
        held: int | None = None
        failed: int | None = None
        n = schedules
        while len(levels) < MAX_LEVELS:
            log.info("schedules --find-max: level %d, %d schedules", len(levels) + 1, n)
            figures = await run_level(stub, stack, meter, n, every, minutes)
            ok = holds(figures)
            levels.append({**figures, "meets_bar": ok})
            if ok:
                held = n
            else:
                failed = n
            step = next_level(held, failed, n)
            if step is None:
                break
            n = step
        return {
            "mode": "find-max",
            "interval_seconds": every,
            "minutes_per_level": minutes,
            "max_schedules": held,
            "max_starts_per_s": round(held / every, 2) if held else None,
            "first_failing_schedules": failed,
            # False: every level held up to MAX_LEVELS, so max_schedules is only a lower bound.
            "reached_the_bar": failed is not None,
            # The bar applied to the runs too: the largest level that met it with the first workflow
            # task of its runs also under 1 s late (beyond it, starts are on time but runs queue).
            "max_schedules_runs_in_hand": max(
                (f["schedules"] for f in levels
                 if f["meets_bar"] and f["p99_first_task_lateness_ms"] < LATENESS_BAR_MS),
                default=None,
            ),
            "levels": [
                {k: v for k, v in f.items() if not k.startswith("rpcs_by_method")} for f in levels
            ],
        }


__all__ = [
    "DEFAULT_EVERY", "DEFAULT_MINUTES", "DEFAULT_SCHEDULES", "FIND_MAX_MINUTES", "next_level", "run_schedules",
]
