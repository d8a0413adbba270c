"""The schedule classes of ``worker_sdk.schedules``: temporalio's defaults, and every class's
conversion to the wire and back (property-based where the values are free)."""

from __future__ import annotations

import asyncio
import inspect
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from wf.v1 import common_pb2, schedule_pb2, service_pb2
from worker_sdk import DataConverter, RetryPolicy, workflow
from worker_sdk import schedules as S
from worker_sdk._schedule_client import ScheduleDescription, ScheduleListDescription

# -- defaults: temporalio's -------------------------------------------------------------------------


def test_defaults_are_temporalios() -> None:
    cal = S.ScheduleCalendarSpec()
    assert cal.second == (S.ScheduleRange(0),) and cal.minute == (S.ScheduleRange(0),)
    assert cal.hour == (S.ScheduleRange(0),)
    assert cal.day_of_month == (S.ScheduleRange(1, 31),) and cal.month == (S.ScheduleRange(1, 12),)
    assert cal.year == () and cal.day_of_week == (S.ScheduleRange(0, 6),) and cal.comment is None
    assert S.ScheduleRange(5) == S.ScheduleRange(5, 5, 1)  # end below start is start, step 0 is 1
    assert S.ScheduleRange(5, 2, 0) == S.ScheduleRange(5, 5, 1)
    pol = S.SchedulePolicy()
    assert (pol.overlap, pol.catchup_window, pol.pause_on_failure) == (
        S.ScheduleOverlapPolicy.SKIP, timedelta(days=365), False)
    assert S.ScheduleState() == S.ScheduleState(note=None, paused=False, limited_actions=False, remaining_actions=0)
    spec = S.ScheduleSpec()
    assert (spec.calendars, spec.intervals, spec.cron_expressions, spec.skip) == ([], [], [], [])
    assert (spec.start_at, spec.end_at, spec.jitter, spec.time_zone_name) == (None, None, None, None)
    assert S.ScheduleIntervalSpec(timedelta(1)).offset is None
    assert S.ScheduleBackfill(datetime(2026, 1, 1, tzinfo=UTC), datetime(2026, 1, 2, tzinfo=UTC)).overlap is None
    # The enum's names and numbers are temporalio's (and Temporal's wire numbers).
    assert {p.name: int(p) for p in S.ScheduleOverlapPolicy} == {
        "SKIP": 1, "BUFFER_ONE": 2, "BUFFER_ALL": 3, "CANCEL_OTHER": 4, "TERMINATE_OTHER": 5, "ALLOW_ALL": 6}
    sched = S.Schedule(action=_action(), spec=spec)
    assert sched.policy == S.SchedulePolicy() and sched.state == S.ScheduleState()


def test_constructor_parameters_are_temporalios() -> None:
    params = inspect.signature(S.ScheduleActionStartWorkflow).parameters
    for name in ("id", "task_queue", "execution_timeout", "run_timeout", "task_timeout", "retry_policy", "memo",
                 "search_attributes"):
        assert params[name].kind is inspect.Parameter.KEYWORD_ONLY, name
    create = inspect.signature(_client_method("create_schedule")).parameters
    assert list(create)[1:3] == ["id", "schedule"]
    assert create["trigger_immediately"].default is False
    assert list(create["backfill"].default) == []
    listing = inspect.signature(_client_method("list_schedules")).parameters
    assert listing["query"].default is None


def _client_method(name: str) -> Any:
    from worker_sdk import Client

    return getattr(Client, name)


# -- the action -----------------------------------------------------------------------------------


@workflow.defn(name="Report")
class Report:
    @workflow.run
    async def run(self, kind: str, n: int) -> str:
        return f"{kind}:{n}"


def _action(**kw: Any) -> S.ScheduleActionStartWorkflow:
    return S.ScheduleActionStartWorkflow(Report.run, "daily", 3, id="report", task_queue="q", **kw)


def test_action_names_the_workflow_as_start_workflow_does() -> None:
    for workflow_ref in (Report.run, Report, "Report"):
        a = S.ScheduleActionStartWorkflow(workflow_ref, "x", id="r", task_queue="q")
        assert (a.workflow, a.args) == ("Report", ["x"])
    assert S.ScheduleActionStartWorkflow("Report", args=["a", 1], id="r", task_queue="q").args == ["a", 1]
    with pytest.raises(ValueError, match="id"):
        S.ScheduleActionStartWorkflow("Report", id="", task_queue="q")
    with pytest.raises(ValueError, match="task queue"):
        S.ScheduleActionStartWorkflow("Report", id="r", task_queue="")
    with pytest.raises(ValueError, match="not both"):
        S.ScheduleActionStartWorkflow("Report", 1, args=[2], id="r", task_queue="q")
    with pytest.raises(TypeError, match="not a workflow"):
        S.ScheduleActionStartWorkflow(len, id="r", task_queue="q")
    with pytest.raises(ValueError, match="run_timeout"):
        S.ScheduleActionStartWorkflow("Report", id="r", task_queue="q", run_timeout=timedelta(0))


def test_action_round_trips_through_the_wire() -> None:
    converter = DataConverter.default
    a = _action(
        execution_timeout=timedelta(hours=1), run_timeout=timedelta(minutes=5), task_timeout=timedelta(seconds=7),
        retry_policy=RetryPolicy(maximum_attempts=3, non_retryable_error_types=["Bad"]),
        memo={"owner": "ops", "n": 2}, search_attributes={"CustomerId": "c-1", "Priority": 3},
    )
    wire = asyncio.run(a._to_proto(converter))
    info = wire.start_workflow
    assert (info.workflow_id, info.workflow_type.name, info.task_queue.name) == ("report", "Report", "q")
    assert converter.payload_converter.from_payload(info.input.payloads[1], None) == 3
    back = S.ScheduleAction._from_proto(wire)
    assert isinstance(back, S.ScheduleActionStartWorkflow)
    # Arguments and memo come back as the stored payloads, which go back unchanged.
    assert [converter.payload_converter.from_payload(p, None) for p in back.args] == ["daily", 3]
    assert back.memo is not None
    assert {k: converter.payload_converter.from_payload(v, None) for k, v in back.memo.items()} == a.memo
    assert back.search_attributes == {"CustomerId": "c-1", "Priority": 3}
    assert (back.execution_timeout, back.run_timeout, back.task_timeout) == (
        a.execution_timeout, a.run_timeout, a.task_timeout)
    assert back.retry_policy == RetryPolicy(maximum_attempts=3, non_retryable_error_types=("Bad",))
    assert asyncio.run(back._to_proto(converter)) == wire


def test_action_without_options_sends_none() -> None:
    wire = asyncio.run(S.ScheduleActionStartWorkflow("W", id="w", task_queue="q")._to_proto(DataConverter.default))
    info = wire.start_workflow
    for name in ("input", "workflow_execution_timeout", "workflow_run_timeout", "workflow_task_timeout",
                 "retry_policy", "memo", "search_attributes"):
        assert not info.HasField(name), name
    back = S.ScheduleAction._from_proto(wire)
    assert back == S.ScheduleActionStartWorkflow("W", id="w", task_queue="q")


# -- specs, property-based ------------------------------------------------------------------------

_ranges = st.builds(
    S.ScheduleRange, st.integers(0, 59), st.integers(0, 59), st.integers(0, 10)
)
_range_tuples = st.lists(_ranges, max_size=3).map(tuple)
_calendars = st.builds(
    S.ScheduleCalendarSpec,
    second=_range_tuples, minute=_range_tuples, hour=_range_tuples, day_of_month=_range_tuples,
    month=_range_tuples, year=_range_tuples, day_of_week=_range_tuples,
    comment=st.none() | st.text(min_size=1, max_size=10),
)
_seconds = st.integers(1, 10 ** 7).map(lambda s: timedelta(seconds=s))
_intervals = st.builds(S.ScheduleIntervalSpec, every=_seconds, offset=st.none() | _seconds)
_times = st.datetimes(min_value=datetime(1971, 1, 1), max_value=datetime(2200, 1, 1)).map(
    lambda d: d.replace(tzinfo=UTC))
_specs = st.builds(
    S.ScheduleSpec,
    calendars=st.lists(_calendars, max_size=2),
    intervals=st.lists(_intervals, max_size=2),
    cron_expressions=st.lists(st.sampled_from(["0 12 * * MON-FRI", "@hourly", "@every 10s/2s", "*/5 * * * *"]),
                              max_size=2),
    skip=st.lists(_calendars, max_size=2),
    start_at=st.none() | _times,
    end_at=st.none() | _times,
    jitter=st.none() | _seconds,
    time_zone_name=st.none() | st.sampled_from(["Europe/Berlin", "America/New_York"]),
)
_policies = st.builds(
    S.SchedulePolicy, overlap=st.sampled_from(list(S.ScheduleOverlapPolicy)), catchup_window=_seconds,
    pause_on_failure=st.booleans(),
)
_states = st.builds(
    S.ScheduleState, note=st.none() | st.text(min_size=1, max_size=20), paused=st.booleans(),
    limited_actions=st.booleans(), remaining_actions=st.integers(0, 1000),
)


@given(_ranges)
def test_range_round_trips(r: S.ScheduleRange) -> None:
    assert S.ScheduleRange._from_proto(r._to_proto()) == r


@given(_calendars)
def test_calendar_round_trips(c: S.ScheduleCalendarSpec) -> None:
    assert S.ScheduleCalendarSpec._from_proto(c._to_proto()) == c


@given(_intervals)
def test_interval_round_trips(i: S.ScheduleIntervalSpec) -> None:
    assert S.ScheduleIntervalSpec._from_proto(i._to_proto()) == i


@settings(max_examples=60)
@given(_specs)
def test_spec_round_trips(spec: S.ScheduleSpec) -> None:
    assert S.ScheduleSpec._from_proto(spec._to_proto()) == spec


@given(_policies)
def test_policy_round_trips(p: S.SchedulePolicy) -> None:
    assert S.SchedulePolicy._from_proto(p._to_proto()) == p


@given(_states)
def test_state_round_trips(s: S.ScheduleState) -> None:
    assert S.ScheduleState._from_proto(s._to_proto()) == s


@given(_times, _times, st.none() | st.sampled_from(list(S.ScheduleOverlapPolicy)))
def test_backfill_round_trips(a: datetime, b: datetime, overlap: S.ScheduleOverlapPolicy | None) -> None:
    backfill = S.ScheduleBackfill(a, b, overlap)
    assert S.ScheduleBackfill._from_proto(backfill._to_proto()) == backfill


@settings(max_examples=30)
@given(_specs, _policies, _states)
def test_schedule_round_trips(spec: S.ScheduleSpec, policy: S.SchedulePolicy, state: S.ScheduleState) -> None:
    converter = DataConverter.default
    sched = S.Schedule(action=S.ScheduleActionStartWorkflow("W", id="w", task_queue="q"), spec=spec,
                       policy=policy, state=state)
    wire = asyncio.run(sched._to_proto(converter))
    assert S.Schedule._from_proto(wire) == sched
    assert asyncio.run(S.Schedule._from_proto(wire)._to_proto(converter)) == wire


def test_naive_times_are_utc_and_unset_wire_values_read_as_defaults() -> None:
    spec = S.ScheduleSpec(start_at=datetime(2026, 12, 5, 10), end_at=datetime(2026, 12, 6, 10, tzinfo=UTC))
    back = S.ScheduleSpec._from_proto(spec._to_proto())
    assert back.start_at == datetime(2026, 12, 5, 10, tzinfo=UTC)
    assert S.SchedulePolicy._from_proto(schedule_pb2.SchedulePolicies()) == S.SchedulePolicy()
    assert S.ScheduleIntervalSpec._from_proto(schedule_pb2.IntervalSpec(phase={"seconds": 0})).offset is None


# -- what describe and list return ----------------------------------------------------------------


def _ts(seconds: int) -> Any:
    from google.protobuf.timestamp_pb2 import Timestamp

    return Timestamp(seconds=seconds)


def test_description_from_the_wire() -> None:
    converter = DataConverter.default
    hourly = S.ScheduleSpec(intervals=[S.ScheduleIntervalSpec(timedelta(hours=1))])
    wire_schedule = asyncio.run(S.Schedule(action=_action(), spec=hourly)._to_proto(converter))
    run = common_pb2.WorkflowExecution(workflow_id="report-2026-12-05T10:00:00Z", run_id="r1")
    resp = service_pb2.DescribeScheduleResponse(
        schedule=wire_schedule,
        info=schedule_pb2.ScheduleInfo(
            action_count=4, missed_catchup_window=2, overlap_skipped=1, running_workflows=[run],
            recent_actions=[schedule_pb2.ScheduleActionResult(
                schedule_time=_ts(1_796_464_800), actual_time=_ts(1_796_464_801), start_workflow_result=run)],
            future_action_times=[_ts(1_796_468_400)], create_time=_ts(1_796_400_000),
        ),
        memo=common_pb2.Memo(fields={"owner": converter.payload_converter.to_payload("ops")}),
        search_attributes=common_pb2.SearchAttributes(indexed_fields={
            "Team": common_pb2.Payload(metadata={"encoding": b"json/plain", "type": b"Keyword"}, data=b'"ops"')}),
        conflict_token=b"t1",
    )
    d = ScheduleDescription._from_proto("report", resp, converter)
    assert d.id == "report" and d.search_attributes == {"Team": "ops"}
    assert asyncio.run(d.memo()) == {"owner": "ops"}
    assert asyncio.run(d.memo_value("owner")) == "ops" and asyncio.run(d.memo_value("x", None)) is None
    i = d.info
    assert (i.num_actions, i.num_actions_missed_catchup_window, i.num_actions_skipped_overlap) == (4, 2, 1)
    assert i.running_actions == [S.ScheduleActionExecutionStartWorkflow("report-2026-12-05T10:00:00Z", "r1")]
    assert i.recent_actions[0].scheduled_at == datetime.fromtimestamp(1_796_464_800, UTC)
    assert i.recent_actions[0].started_at == datetime.fromtimestamp(1_796_464_801, UTC)
    assert i.next_action_times == [datetime.fromtimestamp(1_796_468_400, UTC)]
    assert i.created_at == datetime.fromtimestamp(1_796_400_000, UTC) and i.last_updated_at is None
    assert d.schedule.spec.intervals == [S.ScheduleIntervalSpec(timedelta(hours=1))]


def test_list_entry_from_the_wire() -> None:
    entry = schedule_pb2.ScheduleListEntry(
        schedule_id="s1",
        info=schedule_pb2.ScheduleListInfo(
            spec=schedule_pb2.ScheduleSpec(interval=[S.ScheduleIntervalSpec(timedelta(minutes=1))._to_proto()]),
            workflow_type=common_pb2.WorkflowType(name="Report"), notes="why", paused=True,
            future_action_times=[_ts(60)],
        ),
    )
    e = ScheduleListDescription._from_proto(entry, DataConverter.default)
    assert e.id == "s1" and e.schedule is not None and e.info is not None
    assert e.schedule.action == S.ScheduleListActionStartWorkflow("Report")
    assert e.schedule.state == S.ScheduleListState(note="why", paused=True)
    assert e.schedule.spec.intervals == [S.ScheduleIntervalSpec(timedelta(minutes=1))]
    assert e.info.next_action_times == [datetime.fromtimestamp(60, UTC)]
    bare = ScheduleListDescription._from_proto(schedule_pb2.ScheduleListEntry(schedule_id="s2"), DataConverter.default)
    assert bare.schedule is None and bare.info is None
