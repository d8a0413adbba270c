"""The scheduler loop: a background task of every server that takes each schedule's nominal times
exactly once across all servers of the database.

One tick claims the due schedules (``next_wake`` passed) with ``FOR UPDATE SKIP LOCKED``, decides
what each does (``wf.history.schedules.actions``), and commits in the same transaction the runs it
starts and the schedule's new state (the high-water mark of its decided times, its counters, its
running runs, its next wake). A server killed before that commit leaves the rows as they were, and
another server (or this one, restarted) takes them again; after it, the high-water mark says the
times are done. Cancelling or terminating the runs an overlap policy puts aside happens before the
commit, through the ordinary operations, which are idempotent: a tick repeated after a crash
repeats nothing visible.

The loop wakes at the earliest ``next_wake`` it knows of, when a schedule is created or changed or
a scheduled run closes (on any server: ``sc`` on the ``wf`` channel), and at least every second.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta

from wf.history.errors import FailedPrecondition, NotFound, Unavailable
from wf.history.execution import Execution
from wf.history.new_run import RunSpec, new_run
from wf.history.operations.signals import Signals
from wf.history.runs import Runs
from wf.history.schedules import actions
from wf.history.schedules.spec import SpecTimes
from wf.history.schedules.store import ScheduleRow, ScheduleStore, Tick
from wf.history.visibility.attributes import DATETIME, KEYWORD, format_datetime, type_name
from wf.v1 import common_pb2, internal_pb2, schedule_pb2

C = common_pb2
log = logging.getLogger(__name__)
CHANGED = "sc"
"""The notification that a schedule changed or a scheduled run closed: every server's loop looks."""
MAX_WAIT = 1.0
"""The loop looks at least this often (seconds), whatever it was told."""
RETRY_BROKEN = timedelta(minutes=1)
"""When a schedule whose tick failed (a bug, logged) is looked at again."""


def scheduled_workflow_id(action_workflow_id: str, nominal: datetime) -> str:
    """``<action workflow id>-<nominal time, RFC 3339, seconds, Z>``, as Temporal names the runs."""
    return f"{action_workflow_id}-{nominal.astimezone(UTC).strftime('%Y-%m-%dT%H:%M:%SZ')}"


def request_id(namespace: str, schedule_id: str, start: internal_pb2.ScheduleBufferedStart) -> str:
    """The start's request id, derived from the schedule and the nominal time (and, for a trigger or
    a backfill, when it was asked for), so a tick repeated after a crash starts nothing twice."""
    parts = [namespace, schedule_id, start.nominal_time.ToJsonString()]
    if start.manual:
        parts.append(start.actual_time.ToJsonString())
    return "sched:" + hashlib.sha256("\x1f".join(parts).encode()).hexdigest()[:32]


def _attribute(value_type: int, data: str) -> C.Payload:
    return C.Payload(metadata={"encoding": b"json/plain", "type": type_name(value_type).encode()}, data=data.encode())


def run_spec(
    row: ScheduleRow, schedule: schedule_pb2.Schedule, rt: internal_pb2.ScheduleRuntime,
    start: internal_pb2.ScheduleBufferedStart,
) -> RunSpec:
    """The run a start makes: the action's workflow with the schedule's id and nominal time as the
    built-in search attributes TemporalScheduledById and TemporalScheduledStartTime, and the last
    completion result and failure of the schedule's earlier runs (not for an ALLOW_ALL start, as
    Temporal's: runs that may overlap take no part in them)."""
    a = schedule.action.start_workflow
    nominal = start.nominal_time.ToDatetime(UTC)
    untracked = actions.overlapping(schedule, start)  # ALLOW_ALL: no last result or failure handed on
    attributes = C.SearchAttributes()
    attributes.CopyFrom(a.search_attributes)
    attributes.indexed_fields["TemporalScheduledById"].CopyFrom(
        _attribute(KEYWORD, '"' + row.schedule_id.replace("\\", "\\\\").replace('"', '\\"') + '"')
    )
    attributes.indexed_fields["TemporalScheduledStartTime"].CopyFrom(
        _attribute(DATETIME, f'"{format_datetime(nominal)}"')
    )
    return RunSpec(
        namespace=row.namespace,
        workflow_id=scheduled_workflow_id(a.workflow_id, nominal),
        workflow_type=a.workflow_type.name,
        task_queue=a.task_queue.name,
        input=a.input,
        request_id=request_id(row.namespace, row.schedule_id, start),
        identity=f"schedule {row.schedule_id}",
        run_timeout=a.workflow_run_timeout,
        task_timeout=a.workflow_task_timeout,
        execution_timeout=a.workflow_execution_timeout,
        retry_policy=a.retry_policy if a.HasField("retry_policy") else None,
        memo=a.memo if a.HasField("memo") else None,
        search_attributes=attributes,
        schedule_id=row.schedule_id,
        schedule_nominal_time=nominal,
        last_completion_result=(
            rt.last_completion_result if rt.HasField("last_completion_result") and not untracked else None
        ),
        continued_failure=rt.last_failure if rt.HasField("last_failure") and not untracked else None,
    )


@dataclass(slots=True)
class _Decided:
    tick: Tick
    schedule: schedule_pb2.Schedule
    rt: internal_pb2.ScheduleRuntime
    starts: list[internal_pb2.ScheduleBufferedStart]
    runs: list[Execution]
    due: datetime | None
    now: datetime


class Scheduler:
    """The loop of one server (``run``), and what one tick of one schedule does (``decide``)."""

    def __init__(
        self, store: ScheduleStore, runs: Runs, signals: Signals, *, batch: int = 50, parallel: int = 4
    ) -> None:
        self.store = store
        self.runs = runs
        self.signals = signals
        # Schedules one tick takes at most, and ticks run at once (each its own transaction) while
        # more are due: a burst of due times (every schedule of an interval fires at the same
        # instant) commits in overlapping transactions rather than one after another.
        self.batch = batch
        self.parallel = parallel
        self._wake = asyncio.Event()
        # Ticks committed by this server and runs started (for tests and the debug state).
        self.ticks = 0
        self.started = 0
        runs.notifier.subscribe(CHANGED, lambda body: self.wake())

    def wake(self) -> None:
        self._wake.set()

    def changed(self) -> None:
        """A schedule changed (or a scheduled run closed): every server's loop looks now."""
        self.wake()
        self.runs.notifier.publish(CHANGED, "")

    async def run(self) -> None:
        """The background task: tick while schedules are due, then sleep until the earliest wake
        (at most :data:`MAX_WAIT`) or a notification; a database away is waited out, a bug logged.
        It ends when the server cancels it (a tick cut off rolls back)."""
        delay = 0.05
        while True:
            self._wake.clear()
            try:
                taken = await self.tick()
                while taken >= self.batch:  # more are due
                    taken = max(await asyncio.gather(*(self.tick() for _ in range(self.parallel))))
                earliest = await self.store.earliest_wake()
                delay = 0.05
            except Unavailable:
                await asyncio.sleep(delay)
                delay = min(delay * 2, MAX_WAIT)
                continue
            except Exception:
                log.exception("the scheduler's tick failed")
                await asyncio.sleep(MAX_WAIT)
                continue
            wait = MAX_WAIT
            if earliest is not None:
                wait = min(max((earliest - datetime.now(UTC)).total_seconds(), 0.005), MAX_WAIT)
            try:
                await asyncio.wait_for(self._wake.wait(), wait)
            except TimeoutError:
                pass

    async def tick(self) -> int:
        """Claim the due schedules, decide and commit; returns how many were taken."""
        decided: list[_Decided] = []

        async def decide(rows: list[ScheduleRow]) -> Sequence[Tick]:
            now = datetime.now(UTC)
            ticks: list[Tick] = []
            for row in rows:
                try:
                    d = await self.decide(row, now)
                except Unavailable:
                    raise
                except Exception:
                    # One schedule that cannot be decided must not hold back the others of its batch:
                    # it is looked at again in a minute, and the error is in the log.
                    log.exception("schedule %r of namespace %r could not be decided", row.schedule_id, row.namespace)
                    ticks.append(Tick(row, row.state, now + RETRY_BROKEN, row.schedule))
                    continue
                decided.append(d)
                ticks.append(d.tick)
            return ticks

        taken = await self.store.tick(self.batch, decide)
        for d in decided:
            self._after_commit(d)
        self.ticks += 1 if taken else 0
        return len(taken)

    async def decide(self, row: ScheduleRow, now: datetime) -> _Decided:
        schedule = schedule_pb2.Schedule.FromString(row.schedule)
        rt = internal_pb2.ScheduleRuntime.FromString(row.state)
        times = SpecTimes(schedule.spec)
        due = actions.take_due_times(schedule, rt, times, row.schedule_id, now)
        outcome = actions.process_buffer(schedule, rt)
        if outcome.terminate:
            await self._put_aside(row, rt, terminate=True)
            outcome.starts += actions.process_buffer(schedule, rt).starts
        elif outcome.cancel:
            await self._put_aside(row, rt, terminate=False)
        starts = actions.takeable(schedule, outcome.starts)
        runs = [new_run(run_spec(row, schedule, rt, s), self.runs.limits, now) for s in starts]
        tick = Tick(row, b"", None, runs=[ex.mutation() for ex in runs])
        d = _Decided(tick, schedule, rt, starts, runs, due, now)
        tick.finish = lambda created: self._finish(d, created)
        return d

    def _finish(self, d: _Decided, created: list[list[int] | None]) -> None:
        """The runs are written (or refused): the schedule's state records those that started."""
        for start, ex, ids in zip(d.starts, d.runs, created, strict=True):
            if ids is None:
                log.info("schedule %r: run %r is already running; its start at %s is not taken",
                         d.tick.row.schedule_id, ex.record.workflow_id, start.nominal_time.ToJsonString())
                continue
            execution = C.WorkflowExecution(workflow_id=ex.record.workflow_id, run_id=ex.record.run_id)
            actions.record_start(d.schedule, d.rt, start, execution, d.now)
        d.tick.state = d.rt.SerializeToString()
        d.tick.schedule = d.schedule.SerializeToString()
        d.tick.next_wake = actions.next_wake(d.due, d.rt, d.now)

    async def _put_aside(self, row: ScheduleRow, rt: internal_pb2.ScheduleRuntime, *, terminate: bool) -> None:
        """Cancel or terminate the schedule's running runs for a start that waits (CANCEL_OTHER,
        TERMINATE_OTHER), through the ordinary operations (a repeat changes nothing). A terminated
        run is no longer running: its start goes in this same tick."""
        for ex in list(rt.running_workflows):
            policy = "TERMINATE_OTHER" if terminate else "CANCEL_OTHER"
            reason = f"schedule {row.schedule_id!r}: overlap policy {policy}"
            try:
                if terminate:
                    await self.signals.terminate(row.namespace, ex.workflow_id, ex.run_id, reason, C.Payloads(), "")
                else:
                    await self.signals.request_cancel(row.namespace, ex.workflow_id, ex.run_id, reason, "")
            except (FailedPrecondition, NotFound):
                pass  # closed already: its close comes back to the schedule
            if terminate:
                actions.closed(rt, ex.workflow_id, C.WORKFLOW_EXECUTION_STATUS_TERMINATED)

    def _after_commit(self, d: _Decided) -> None:
        """As after any start: the new runs cached, matching told of their task rows, the timer
        processor of their timers."""
        for ex, mutation, ids in zip(d.runs, d.tick.runs, d.tick.created, strict=True):
            if ids is None:
                continue
            self.started += 1
            record = replace(mutation.record, db_version=1)
            self.runs.cache.put(ex.key, record, mutation.events)
            tasks = ex.new_tasks()
            if tasks:
                self.runs.on_tasks([replace(t, id=i) for t, i in zip(tasks, ids, strict=True)])
            first = ex.earliest_new_timer()
            if first is not None:
                self.runs.on_timer(first)


def jittered_times(times: SpecTimes, key: str, after: datetime, count: int) -> list[datetime]:
    """The next ``count`` action times after ``after`` (nominal plus jitter)."""
    out: list[datetime] = []
    t: datetime | None = after
    while len(out) < count and t is not None:
        t = times.next_after(t)
        if t is not None:
            out.append(t + times.jitter(t, key))
    return out


__all__ = ["CHANGED", "Scheduler", "jittered_times", "request_id", "run_spec", "scheduled_workflow_id"]
