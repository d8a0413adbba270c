"""What one tick of a schedule decides, as Temporal's scheduler decides it: which nominal times are
due, which are taken, buffered, skipped by the overlap policy or missed past the catch-up window,
and whether the runs in the way are cancelled or terminated.

Pure functions of the schedule, its run-time state (``wf.v1.ScheduleRuntime``) and the time; the loop
(``wf.history.schedules.scheduler``) starts what they decide and commits the state they leave.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from google.protobuf.timestamp_pb2 import Timestamp

from wf.history.schedules.spec import SpecTimes
from wf.v1 import common_pb2, internal_pb2, schedule_pb2

P = schedule_pb2
C = common_pb2
SKIP = P.SCHEDULE_OVERLAP_POLICY_SKIP
BUFFER_ONE = P.SCHEDULE_OVERLAP_POLICY_BUFFER_ONE
BUFFER_ALL = P.SCHEDULE_OVERLAP_POLICY_BUFFER_ALL
CANCEL_OTHER = P.SCHEDULE_OVERLAP_POLICY_CANCEL_OTHER
TERMINATE_OTHER = P.SCHEDULE_OVERLAP_POLICY_TERMINATE_OTHER
ALLOW_ALL = P.SCHEDULE_OVERLAP_POLICY_ALLOW_ALL

DEFAULT_CATCHUP_WINDOW = timedelta(days=365)
MIN_CATCHUP_WINDOW = timedelta(seconds=10)
# Temporal's limit of starts waiting in a schedule's buffer; more are counted in buffer_dropped.
MAX_BUFFER = 1000
# Nominal times one tick looks at; a schedule further behind goes on at the next tick, at once.
MAX_TIMES_PER_TICK = 10_000
RECENT_ACTIONS = 10


def catchup_window(policies: P.SchedulePolicies) -> timedelta:
    """The schedule's catch-up window: one year when unset, at least 10 s (Temporal's rules)."""
    if not policies.HasField("catchup_window"):
        return DEFAULT_CATCHUP_WINDOW
    return max(policies.catchup_window.ToTimedelta(), MIN_CATCHUP_WINDOW)


def resolve(policy: int, schedule: P.Schedule) -> int:
    """A start's overlap policy: its own, else the schedule's, else SKIP."""
    return policy or schedule.policies.overlap_policy or SKIP


def utc(ts: Timestamp) -> datetime:
    return ts.ToDatetime(UTC)


def add_start(
    rt: internal_pb2.ScheduleRuntime, nominal: datetime, actual: datetime, policy: int = 0, manual: bool = False
) -> None:
    """Put a start in the buffer (or count it dropped when the buffer is full)."""
    if len(rt.buffered_starts) >= MAX_BUFFER:
        rt.buffer_dropped += 1
        return
    b = rt.buffered_starts.add(overlap_policy=policy, manual=manual)
    b.nominal_time.FromDatetime(nominal)
    b.actual_time.FromDatetime(actual)


def take_due_times(
    schedule: P.Schedule, rt: internal_pb2.ScheduleRuntime, times: SpecTimes, key: str, now: datetime
) -> datetime | None:
    """Decide every nominal time after the high-water mark whose action is due by ``now`` (nominal
    time plus jitter): buffered when inside the catch-up window, else counted missed. While paused,
    or with no actions remaining, times pass untaken and uncounted. Returns when the next one is
    due (None: never, or the schedule is paused or used up)."""
    hw = utc(rt.high_water)
    state = schedule.state
    idle = state.paused or (state.limited_actions and state.remaining_actions <= 0)
    if idle:
        if now > hw:
            rt.high_water.FromDatetime(now)
        return None
    window = catchup_window(schedule.policies)
    for _ in range(MAX_TIMES_PER_TICK):
        t = times.next_after(hw)
        if t is None:
            rt.high_water.FromDatetime(hw)
            return None
        actual = t + times.jitter(t, key)
        if actual > now:
            rt.high_water.FromDatetime(hw)
            return actual
        if now - actual > window:
            rt.missed_catchup_window += 1
        else:
            add_start(rt, t, actual)
        hw = t
    rt.high_water.FromDatetime(hw)
    return now  # more to look at: again at once


@dataclass(slots=True)
class BufferOutcome:
    """What the buffer lets start now, and what must happen to the runs in the way."""

    starts: list[internal_pb2.ScheduleBufferedStart] = field(default_factory=list)
    cancel: bool = False
    terminate: bool = False


def process_buffer(schedule: P.Schedule, rt: internal_pb2.ScheduleRuntime) -> BufferOutcome:
    """Temporal's buffer rules (``ProcessBuffer``): ALLOW_ALL starts at once; with nothing running,
    one start goes (the first, or under CANCEL_OTHER / TERMINATE_OTHER the latest); while a run runs,
    SKIP counts skipped, BUFFER_ONE keeps the first and skips the rest, BUFFER_ALL keeps all, and
    CANCEL_OTHER / TERMINATE_OTHER keep theirs and cancel or terminate what runs (no ALLOW_ALL start
    goes then). The buffer left is what waits for the running run's close."""
    out = BufferOutcome()
    running = len(rt.running_workflows) > 0
    single: internal_pb2.ScheduleBufferedStart | None = None
    overlapping: list[internal_pb2.ScheduleBufferedStart] = []
    kept: list[internal_pb2.ScheduleBufferedStart] = []
    for start in rt.buffered_starts:
        policy = resolve(start.overlap_policy, schedule)
        if policy == ALLOW_ALL:
            overlapping.append(start)
        elif not running and single is None:
            single = start
        elif policy == SKIP:
            rt.overlap_skipped += 1
        elif policy == BUFFER_ONE:
            if kept:
                rt.overlap_skipped += 1
            else:
                kept.append(start)
        elif policy == BUFFER_ALL:
            kept.append(start)
        elif running:  # CANCEL_OTHER, TERMINATE_OTHER: what runs goes, this one waits for its close
            out.cancel = out.cancel or policy == CANCEL_OTHER
            out.terminate = out.terminate or policy == TERMINATE_OTHER
            kept.append(start)
        else:  # nothing runs yet: this one replaces the one that was going to start
            single = start
    if out.cancel or out.terminate:
        overlapping = []
    chosen = ([single] if single is not None else []) + overlapping
    chosen.sort(key=lambda b: b.nominal_time.ToNanoseconds())
    out.starts = [_copy(b) for b in chosen]
    left = [_copy(b) for b in kept]
    del rt.buffered_starts[:]
    rt.buffered_starts.extend(left)
    return out


def _copy(b: internal_pb2.ScheduleBufferedStart) -> internal_pb2.ScheduleBufferedStart:
    c = internal_pb2.ScheduleBufferedStart()
    c.CopyFrom(b)
    return c


def takeable(
    schedule: P.Schedule, starts: list[internal_pb2.ScheduleBufferedStart]
) -> list[internal_pb2.ScheduleBufferedStart]:
    """The starts that may be taken now, in order: a manual one always; a scheduled one not while
    paused, and with limited actions only as many as remain (the others are dropped, as Temporal's)."""
    state = schedule.state
    budget = state.remaining_actions if state.limited_actions else len(starts)
    out = []
    for start in starts:
        if start.manual:
            out.append(start)
        elif not state.paused and budget > 0:
            out.append(start)
            budget -= 1
    return out


def record_start(
    schedule: P.Schedule,
    rt: internal_pb2.ScheduleRuntime,
    start: internal_pb2.ScheduleBufferedStart,
    execution: C.WorkflowExecution,
    at: datetime,
) -> None:
    """A start taken: counted, among the running runs (an ALLOW_ALL one among the untracked, as
    Temporal does not track overlapping starts) and the recent actions, and one fewer remaining."""
    rt.action_count += 1
    if not start.manual and schedule.state.limited_actions:
        schedule.state.remaining_actions = max(schedule.state.remaining_actions - 1, 0)
    if overlapping(schedule, start):
        rt.untracked_workflows.add().CopyFrom(execution)
    else:
        rt.running_workflows.add().CopyFrom(execution)
    recent = rt.recent_actions.add(start_workflow_status=C.WORKFLOW_EXECUTION_STATUS_RUNNING)
    recent.schedule_time.CopyFrom(start.nominal_time)
    recent.actual_time.FromDatetime(at)
    recent.start_workflow_result.CopyFrom(execution)
    while len(rt.recent_actions) > RECENT_ACTIONS:
        del rt.recent_actions[0]


def overlapping(schedule: P.Schedule, start: internal_pb2.ScheduleBufferedStart) -> bool:
    """Whether a start is an ALLOW_ALL one, which Temporal neither tracks nor hands the last result."""
    return resolve(start.overlap_policy, schedule) == ALLOW_ALL


TRACKED, UNTRACKED = "tracked", "untracked"


def closed(rt: internal_pb2.ScheduleRuntime, workflow_id: str, status: int) -> str | None:
    """A run of the schedule closed: dropped from the running (or untracked) runs, its recent
    action's status set. Which list it was in, or None when in neither (its close was recorded
    already, or the schedule no longer follows it)."""
    found = None
    for kind, runs in ((TRACKED, rt.running_workflows), (UNTRACKED, rt.untracked_workflows)):
        for i, ex in enumerate(runs):
            if ex.workflow_id == workflow_id:
                del runs[i]
                found = kind
                break
        if found:
            break
    if found is None:
        return None
    for action in rt.recent_actions:
        if action.start_workflow_result.workflow_id == workflow_id:
            action.start_workflow_status = status  # type: ignore[assignment]
    return found


def next_wake(due: datetime | None, rt: internal_pb2.ScheduleRuntime, now: datetime) -> datetime | None:
    """When the loop must look again: at the next due time, or at once when starts wait in the
    buffer with nothing running (a close that frees the way wakes the schedule itself)."""
    if rt.buffered_starts and not rt.running_workflows:
        return now
    return due
