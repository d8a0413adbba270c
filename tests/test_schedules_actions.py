"""What one tick of a schedule decides (``wf.history.schedules.actions``), as pure functions: the
catch-up window, the overlap policies over a buffer, paused times, and limited actions."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from google.protobuf.duration_pb2 import Duration

from wf.history.schedules import actions
from wf.history.schedules.spec import SpecTimes
from wf.v1 import common_pb2, internal_pb2, schedule_pb2

P = schedule_pb2
T0 = datetime(2026, 6, 1, 12, 0, 0, tzinfo=UTC)


def every_second(overlap: int = 0, catchup: float | None = None, **state: object) -> P.Schedule:
    s = P.Schedule(
        spec=P.ScheduleSpec(interval=[P.IntervalSpec(interval=Duration(seconds=1))]),
        policies=P.SchedulePolicies(overlap_policy=overlap),  # type: ignore[arg-type]
        state=P.ScheduleState(**state),  # type: ignore[arg-type]
    )
    if catchup is not None:
        s.policies.catchup_window.FromTimedelta(timedelta(seconds=catchup))
    return s


def runtime(high_water: datetime, running: int = 0) -> internal_pb2.ScheduleRuntime:
    rt = internal_pb2.ScheduleRuntime()
    rt.high_water.FromDatetime(high_water)
    for i in range(running):
        rt.running_workflows.add(workflow_id=f"w{i}", run_id=f"r{i}")
    return rt


def tick(s: P.Schedule, rt: internal_pb2.ScheduleRuntime, now: datetime) -> actions.BufferOutcome:
    actions.take_due_times(s, rt, SpecTimes(s.spec), "key", now)
    return actions.process_buffer(s, rt)


def test_under_skip_the_first_missed_time_starts_and_the_rest_are_skipped() -> None:
    s, rt = every_second(), runtime(T0)
    out = tick(s, rt, T0 + timedelta(seconds=5.5))
    assert [x.nominal_time.ToDatetime(UTC) for x in out.starts] == [T0 + timedelta(seconds=1)]
    assert rt.overlap_skipped == 4 and rt.missed_catchup_window == 0
    assert rt.high_water.ToDatetime(UTC) == T0 + timedelta(seconds=5)


def test_times_older_than_the_catchup_window_are_counted_missed() -> None:
    s, rt = every_second(P.SCHEDULE_OVERLAP_POLICY_ALLOW_ALL, catchup=10), runtime(T0)
    out = tick(s, rt, T0 + timedelta(seconds=20.5))
    assert rt.missed_catchup_window == 10
    assert [x.nominal_time.ToDatetime(UTC) for x in out.starts] == [
        T0 + timedelta(seconds=n) for n in range(11, 21)
    ]


def test_a_catchup_window_under_10_seconds_is_10_seconds() -> None:
    assert actions.catchup_window(every_second(catchup=1).policies) == timedelta(seconds=10)
    assert actions.catchup_window(every_second().policies) == timedelta(days=365)


def test_paused_times_pass_uncounted() -> None:
    s, rt = every_second(paused=True), runtime(T0)
    out = tick(s, rt, T0 + timedelta(seconds=30))
    assert not out.starts and rt.missed_catchup_window == 0 and rt.overlap_skipped == 0
    assert rt.high_water.ToDatetime(UTC) == T0 + timedelta(seconds=30)


def test_buffer_policies_while_a_run_runs() -> None:
    now = T0 + timedelta(seconds=3.5)
    one = runtime(T0, running=1)
    assert not tick(every_second(P.SCHEDULE_OVERLAP_POLICY_BUFFER_ONE), one, now).starts
    assert len(one.buffered_starts) == 1 and one.overlap_skipped == 2
    every = runtime(T0, running=1)
    assert not tick(every_second(P.SCHEDULE_OVERLAP_POLICY_BUFFER_ALL), every, now).starts
    assert len(every.buffered_starts) == 3 and every.overlap_skipped == 0
    cancel = runtime(T0, running=1)
    out = tick(every_second(P.SCHEDULE_OVERLAP_POLICY_CANCEL_OTHER), cancel, now)
    assert out.cancel and not out.starts and len(cancel.buffered_starts) == 3
    # Once the run closed, only the latest of them starts (it replaces the others).
    del cancel.running_workflows[:]
    out = actions.process_buffer(every_second(P.SCHEDULE_OVERLAP_POLICY_CANCEL_OTHER), cancel)
    assert [x.nominal_time.ToDatetime(UTC) for x in out.starts] == [T0 + timedelta(seconds=3)]
    assert not cancel.buffered_starts
    terminate = runtime(T0, running=1)
    assert tick(every_second(P.SCHEDULE_OVERLAP_POLICY_TERMINATE_OTHER), terminate, now).terminate
    allow = runtime(T0, running=1)
    assert len(tick(every_second(P.SCHEDULE_OVERLAP_POLICY_ALLOW_ALL), allow, now).starts) == 3


def test_limited_actions_take_only_what_remains_but_manual_starts_always() -> None:
    s, rt = every_second(P.SCHEDULE_OVERLAP_POLICY_ALLOW_ALL, limited_actions=True, remaining_actions=2), runtime(T0)
    actions.add_start(rt, T0, T0, manual=True)
    out = tick(s, rt, T0 + timedelta(seconds=5.5))
    taken = actions.takeable(s, out.starts)
    assert [x.manual for x in taken] == [True, False, False]
    for start in taken:
        actions.record_start(s, rt, start, common_pb2.WorkflowExecution(workflow_id="w"), T0)
    assert s.state.remaining_actions == 0 and rt.action_count == 3
