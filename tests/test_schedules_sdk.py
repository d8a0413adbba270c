"""The schedule classes of ``worker_sdk.schedules``: temporalio's defaults, every class's conversion
to the wire and back (property-based where the values are free), and the client's schedule calls
against a real server with a worker running the scheduled workflow."""

from __future__ import annotations

import asyncio
import dataclasses
import inspect
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any

import grpc
import pytest
import pytest_asyncio
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.helpers import assert_eventually
from wf.v1 import common_pb2, schedule_pb2, service_pb2
from worker_sdk import Client, DataConverter, RetryPolicy, Worker, workflow
from worker_sdk import schedules as S
from worker_sdk._schedule_client import ScheduleDescription, ScheduleListDescription
from worker_sdk.errors import ApplicationError, RPCError, WorkflowFailureError

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


# -- against a real server ------------------------------------------------------------------------

HOURLY = S.ScheduleSpec(intervals=[S.ScheduleIntervalSpec(timedelta(hours=1))])


@workflow.defn
class Stamped:
    """Returns its argument and what the schedule handed over from the run before."""

    @workflow.run
    async def run(self, tag: str) -> dict[str, Any]:
        last = workflow.get_last_completion_result()
        n = (last["n"] if last else 0) + 1
        failure = workflow.get_last_failure()
        if tag == "chain" and n == 2 and failure is None:
            raise ApplicationError("second run fails", non_retryable=True)
        return {"tag": tag, "n": n, "failure": str(failure) if failure else None,
                "has_last": workflow.has_last_completion_result()}


def _sid(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:8]}"


def _stamp(t: datetime) -> str:
    return t.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


async def _result(client: Client, workflow_id: str) -> Any:
    """The result of a run the schedule starts (the server starts it in the background, after the
    call that asked for it returned)."""

    async def started() -> None:
        try:
            await client.get_workflow_handle(workflow_id).describe()
        except RPCError as exc:
            assert exc.status != grpc.StatusCode.NOT_FOUND, f"{workflow_id} not started yet"
            raise

    await assert_eventually(started, timeout=20)
    return await client.get_workflow_handle(workflow_id).result()


async def _idle(handle: S.ScheduleHandle, actions: int | None = None) -> S.ScheduleDescription:
    """The description once the schedule took ``actions`` actions (None: any number) and no run of
    it is running (the schedule saw each close)."""

    async def check() -> S.ScheduleDescription:
        d = await handle.describe()
        assert actions is None or d.info.num_actions == actions, d.info.num_actions
        assert not d.info.running_actions, d.info.running_actions
        return d

    return await assert_eventually(check, timeout=20)


@pytest_asyncio.fixture(loop_scope="session")
async def sched_worker(client: Client, task_queue: str) -> AsyncIterator[Worker]:
    async with Worker(client, task_queue=task_queue, workflows=[Stamped]) as w:
        yield w


async def test_schedule_lifecycle(client: Client, sched_worker: Worker, task_queue: str) -> None:
    sid, wid = _sid("sched"), _sid("stamped")
    action = S.ScheduleActionStartWorkflow(Stamped.run, "hello", id=wid, task_queue=task_queue)
    weekday_noon = S.ScheduleSpec(cron_expressions=["0 12 * * MON-FRI"])
    handle = await client.create_schedule(sid, S.Schedule(action=action, spec=weekday_noon), memo={"owner": "ops"})
    assert handle.id == sid
    with pytest.raises(S.ScheduleAlreadyRunningError):
        await client.create_schedule(sid, S.Schedule(action=action, spec=weekday_noon))

    # The cron string comes back compiled into a calendar.
    d = await handle.describe()
    assert d.id == sid and d.schedule.spec.cron_expressions == []
    assert d.schedule.spec.calendars == [S.ScheduleCalendarSpec(
        second=(S.ScheduleRange(0),), minute=(S.ScheduleRange(0),), hour=(S.ScheduleRange(12),),
        day_of_month=(S.ScheduleRange(1, 31),), month=(S.ScheduleRange(1, 12),), year=(),
        day_of_week=(S.ScheduleRange(1, 5),))]
    assert isinstance(d.schedule.action, S.ScheduleActionStartWorkflow)
    assert (d.schedule.action.workflow, d.schedule.action.id, d.schedule.action.task_queue) == (
        "Stamped", wid, task_queue)
    assert await d.memo() == {"owner": "ops"}
    assert d.schedule.policy == S.SchedulePolicy() and d.schedule.state == S.ScheduleState()
    assert len(d.info.next_action_times) == 10
    for t in d.info.next_action_times:
        assert (t.hour, t.minute, t.second) == (12, 0, 0) and t.isoweekday() <= 5 and t > datetime.now(UTC)
    assert d.info.num_actions == 0 and d.info.created_at <= datetime.now(UTC)

    # Paused, a trigger still acts, and the schedule stays paused.
    await handle.pause(note="maintenance")
    d = await handle.describe()
    assert d.schedule.state.paused and d.schedule.state.note == "maintenance"
    await handle.trigger()
    d = await _idle(handle, 1)
    assert d.schedule.state.paused
    (first,) = d.info.recent_actions
    assert isinstance(first.action, S.ScheduleActionExecutionStartWorkflow)
    assert first.action.workflow_id == f"{wid}-{_stamp(first.scheduled_at)}"
    run = client.get_workflow_handle(first.action.workflow_id)
    assert (await run.result())["tag"] == "hello"
    described = await run.describe()
    assert described.search_attributes["TemporalScheduledById"] == sid
    assert described.search_attributes["TemporalScheduledStartTime"] == first.scheduled_at
    await handle.unpause(note="back")
    d = await handle.describe()
    assert not d.schedule.state.paused and d.schedule.state.note == "back"

    # A backfill takes every time in its window, both ends included.
    monday, tuesday = datetime(2026, 11, 30, 12, tzinfo=UTC), datetime(2026, 12, 1, 12, tzinfo=UTC)
    await handle.backfill(S.ScheduleBackfill(monday, tuesday, overlap=S.ScheduleOverlapPolicy.ALLOW_ALL))
    for t in (monday, tuesday):
        await _result(client, f"{wid}-{_stamp(t)}")
    await _idle(handle, 3)

    # An update replaces the spec and keeps what the schedule did.
    async def to_hourly(u: S.ScheduleUpdateInput) -> S.ScheduleUpdate:
        u.description.schedule.spec = HOURLY
        u.description.schedule.policy.catchup_window = timedelta(minutes=5)
        return S.ScheduleUpdate(schedule=u.description.schedule)

    await handle.update(to_hourly)
    d = await handle.describe()
    assert d.schedule.spec.intervals == HOURLY.intervals and d.schedule.spec.calendars == []
    assert d.schedule.policy.catchup_window == timedelta(minutes=5)
    assert d.info.num_actions == 3 and d.info.last_updated_at is not None
    assert await d.memo() == {"owner": "ops"}  # the memo is not part of an update
    await handle.update(lambda _: None)  # None leaves it as it is
    assert (await handle.describe()).schedule.spec.intervals == HOURLY.intervals

    async def listed() -> None:
        entries = {e.id: e async for e in await client.list_schedules()}
        e = entries[sid]
        assert e.schedule is not None and e.schedule.action == S.ScheduleListActionStartWorkflow("Stamped")
        assert e.schedule.spec.intervals == HOURLY.intervals
        assert await e.memo() == {"owner": "ops"}

    await assert_eventually(listed)
    await handle.delete()
    with pytest.raises(RPCError) as caught:
        await handle.describe()
    assert caught.value.status == grpc.StatusCode.NOT_FOUND


async def _chain(client: Client, task_queue: str, runs: int) -> list[Any]:
    """The outcomes of ``runs`` runs of a paused schedule, one backfilled time at a time, each after
    the run before it closed (under SKIP nothing overlaps): results, or a failure's message."""
    sid, wid = _sid("sched-last"), _sid("last")
    handle = await client.create_schedule(sid, S.Schedule(
        action=S.ScheduleActionStartWorkflow(Stamped.run, "chain", id=wid, task_queue=task_queue), spec=HOURLY,
        state=S.ScheduleState(paused=True),
    ))
    results: list[Any] = []
    try:
        for hour in range(1, runs + 1):
            t = datetime(2026, 1, 1, hour, tzinfo=UTC)
            await handle.backfill(S.ScheduleBackfill(t, t))
            try:
                results.append(await _result(client, f"{wid}-{_stamp(t)}"))
            except WorkflowFailureError as exc:
                results.append(str(exc.cause))
            await _idle(handle, hour)
    finally:
        await handle.delete()
    return results


async def test_runs_see_the_last_result_and_failure(client: Client, sched_worker: Worker, task_queue: str) -> None:
    results = await _chain(client, task_queue, 3)
    assert results[0] == {"tag": "chain", "n": 1, "failure": None, "has_last": False}
    assert "second run fails" in results[1]
    # The failed run did not clear the last result; its failure is handed on.
    assert results[2]["n"] == 2 and results[2]["has_last"] is True
    assert "second run fails" in results[2]["failure"]


async def test_a_success_clears_the_last_failure(client: Client, sched_worker: Worker, task_queue: str) -> None:
    """As Temporal: the failure is handed on until a run completes; the run after that sees none."""
    results = await _chain(client, task_queue, 4)
    assert "second run fails" in results[2]["failure"]
    assert results[3] == {"tag": "chain", "n": 3, "failure": None, "has_last": True}


async def test_allow_all_runs_get_no_last_result(client: Client, sched_worker: Worker, task_queue: str) -> None:
    """As Temporal: runs that may overlap (ALLOW_ALL) take no part in the last result and failure."""
    sid, wid = _sid("sched-overlap"), _sid("overlap")
    handle = await client.create_schedule(sid, S.Schedule(
        action=S.ScheduleActionStartWorkflow(Stamped.run, "x", id=wid, task_queue=task_queue), spec=HOURLY,
        state=S.ScheduleState(paused=True),
    ))
    try:
        first, second = datetime(2026, 1, 1, 1, tzinfo=UTC), datetime(2026, 1, 1, 2, tzinfo=UTC)
        await handle.backfill(S.ScheduleBackfill(first, first))
        assert (await _result(client, f"{wid}-{_stamp(first)}"))["n"] == 1
        await _idle(handle, 1)
        await handle.backfill(S.ScheduleBackfill(second, second, overlap=S.ScheduleOverlapPolicy.ALLOW_ALL))
        assert (await _result(client, f"{wid}-{_stamp(second)}"))["has_last"] is False
    finally:
        await handle.delete()


async def test_interval_fires_at_whole_seconds(client: Client, sched_worker: Worker, task_queue: str) -> None:
    sid, wid = _sid("sched-every"), _sid("every")
    handle = await client.create_schedule(sid, S.Schedule(
        action=S.ScheduleActionStartWorkflow(Stamped.run, "tick", id=wid, task_queue=task_queue),
        spec=S.ScheduleSpec(intervals=[S.ScheduleIntervalSpec(timedelta(seconds=1))]),
        policy=S.SchedulePolicy(overlap=S.ScheduleOverlapPolicy.ALLOW_ALL),
    ))
    try:
        async def two_actions() -> S.ScheduleDescription:
            d = await handle.describe()
            assert d.info.num_actions >= 2, d.info.num_actions
            return d

        d = await assert_eventually(two_actions, timeout=20)
    finally:
        await handle.delete()
    for r in d.info.recent_actions:
        assert r.scheduled_at.microsecond == 0 and r.started_at >= r.scheduled_at
        assert isinstance(r.action, S.ScheduleActionExecutionStartWorkflow)
        assert r.action.workflow_id == f"{wid}-{_stamp(r.scheduled_at)}"
    assert len({r.scheduled_at for r in d.info.recent_actions}) == len(d.info.recent_actions)


async def test_update_retries_when_the_schedule_changed_under_it(client: Client, task_queue: str) -> None:
    sid = _sid("sched-conflict")
    handle = await client.create_schedule(sid, S.Schedule(
        action=S.ScheduleActionStartWorkflow("Stamped", "x", id=sid, task_queue=task_queue), spec=HOURLY,
        state=S.ScheduleState(paused=True),
    ))
    calls = []

    async def note_it(u: S.ScheduleUpdateInput) -> S.ScheduleUpdate:
        calls.append(u.description.schedule.state.note)
        if len(calls) == 1:  # somebody else changes the schedule between our read and our write
            await client.get_schedule_handle(sid).update(lambda v: S.ScheduleUpdate(
                schedule=dataclasses.replace(v.description.schedule, state=S.ScheduleState(note="theirs",
                                                                                         paused=True))))
        s = u.description.schedule
        s.state = S.ScheduleState(note=f"ours after {s.state.note}", paused=True)
        return S.ScheduleUpdate(schedule=s)

    try:
        await handle.update(note_it)
        assert calls == [None, "theirs"]
        assert (await handle.describe()).schedule.state.note == "ours after theirs"
    finally:
        await handle.delete()


async def test_bad_schedules_are_refused_and_nothing_is_stored(client: Client, task_queue: str) -> None:
    action = S.ScheduleActionStartWorkflow("Stamped", "x", id="bad", task_queue=task_queue)
    bad_specs = {
        "cron_string": S.ScheduleSpec(cron_expressions=["not a cron"]),
        "interval": S.ScheduleSpec(intervals=[S.ScheduleIntervalSpec(timedelta(0))]),
        "timezone_name": S.ScheduleSpec(intervals=HOURLY.intervals, time_zone_name="Mars/Olympus"),
        "end_time": S.ScheduleSpec(intervals=HOURLY.intervals, start_at=datetime(2027, 1, 1, tzinfo=UTC),
                                   end_at=datetime(2026, 1, 1, tzinfo=UTC)),
    }
    for field_name, spec in bad_specs.items():
        sid = _sid("sched-bad")
        with pytest.raises(RPCError) as caught:
            await client.create_schedule(sid, S.Schedule(action=action, spec=spec))
        assert caught.value.status == grpc.StatusCode.INVALID_ARGUMENT, field_name
        assert field_name in caught.value.message, (field_name, caught.value.message)
        with pytest.raises(RPCError) as missing:
            await client.get_schedule_handle(sid).describe()
        assert missing.value.status == grpc.StatusCode.NOT_FOUND
    with pytest.raises(ValueError, match="limited actions"):
        await client.create_schedule(_sid("sched-bad"), S.Schedule(
            action=action, spec=HOURLY, state=S.ScheduleState(remaining_actions=3)))


async def test_the_readme_schedule_snippet_runs_as_written(client: Client, task_queue: str) -> None:
    from tests.test_readme import python_block

    namespace: dict[str, object] = {}
    exec(compile(python_block(r"^class DailyReport:").text, "README.md", "exec"), namespace)  # noqa: S102
    async with Worker(client, task_queue=task_queue, workflows=[namespace["DailyReport"]]):
        await namespace["schedule_reports"](client, task_queue)  # type: ignore[operator]

        async def a_report_ran() -> None:
            runs = [r async for r in client.list_workflows("WorkflowType = 'DailyReport'")]
            assert runs and all(r.id.startswith("report-") for r in runs), runs
            results = [await client.get_workflow_handle(r.id).result() for r in runs]
            assert 1 in results, results  # the first run had no previous result

        await assert_eventually(a_report_ran, timeout=20)
    with pytest.raises(RPCError) as caught:
        await client.get_schedule_handle("daily-report").describe()
    assert caught.value.status == grpc.StatusCode.NOT_FOUND
