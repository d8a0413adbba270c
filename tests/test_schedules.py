"""Schedules over real gRPC on a real server and PostgreSQL: runs started at their times with the
right ids and search attributes, the overlap policies, pause/unpause, trigger, backfill, update,
delete, remaining actions, pause_on_failure, the last result and failure handed on, and bad input.

Intervals are 1 s; every wait awaits what the server reports (describe, a run's close), never a
fixed sleep.
"""

from __future__ import annotations

import asyncio
import json
import uuid
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from typing import Any, TypeVar

import grpc
import pytest
from google.protobuf.duration_pb2 import Duration
from google.protobuf.timestamp_pb2 import Timestamp

from wf.history.schedules.store import statements as schedule_statements
from wf.server.app import Server
from wf.v1 import common_pb2, history_pb2, schedule_pb2, service_pb2, service_pb2_grpc
from worker_sdk import Client, Worker, workflow
from worker_sdk.errors import ApplicationError

C = common_pb2
H = history_pb2
P = schedule_pb2
S = service_pb2
T = TypeVar("T")
pytestmark = pytest.mark.asyncio(loop_scope="session")
NS = "default"


# -- workflows the schedules start --------------------------------------------------------------------


@workflow.defn
class Quick:
    @workflow.run
    async def run(self, n: int = 0) -> int:
        return n + 1


@workflow.defn
class Blocking:
    """Runs until signalled ``release`` (or cancelled)."""

    def __init__(self) -> None:
        self.released = False

    @workflow.run
    async def run(self) -> str:
        await workflow.wait_condition(lambda: self.released)
        return "released"

    @workflow.signal
    def release(self) -> None:
        self.released = True


@workflow.defn
class Failing:
    @workflow.run
    async def run(self) -> None:
        raise ApplicationError("scheduled failure", non_retryable=True)


@workflow.defn
class Echo:
    """Returns what the schedule handed it: the last completion result and the last failure's message."""

    @workflow.run
    async def run(self) -> str:
        return "done"


@workflow.defn
class ContinueOnce:
    """Continues as new once, then completes: the chain's last close is the schedule's."""

    @workflow.run
    async def run(self, n: int = 0) -> str:
        if n == 0:
            workflow.continue_as_new(1)
        return "end"


WORKFLOWS = [Quick, Blocking, Failing, Echo, ContinueOnce]
TRIGGER = P.SchedulePatch(trigger_immediately=P.TriggerImmediatelyRequest())


# -- helpers ----------------------------------------------------------------------------------------


def payloads(*values: Any) -> C.Payloads:
    return C.Payloads(
        payloads=[C.Payload(metadata={"encoding": b"json/plain"}, data=json.dumps(v).encode()) for v in values]
    )


def seconds(n: float) -> Duration:
    d = Duration()
    d.FromTimedelta(timedelta(seconds=n))
    return d


def stamp(t: datetime) -> Timestamp:
    ts = Timestamp()
    ts.FromDatetime(t)
    return ts


def schedule(
    workflow_id: str, task_queue: str, workflow_type: str = "Quick", *, every: float = 1.0,
    overlap: int = 0, input: C.Payloads | None = None, **state: Any,
) -> P.Schedule:
    s = P.Schedule(
        spec=P.ScheduleSpec(interval=[P.IntervalSpec(interval=seconds(every))]),
        action=P.ScheduleAction(
            start_workflow=P.NewWorkflowExecutionInfo(
                workflow_id=workflow_id,
                workflow_type=C.WorkflowType(name=workflow_type),
                task_queue=C.TaskQueue(name=task_queue),
                input=input if input is not None else C.Payloads(),
            )
        ),
        policies=P.SchedulePolicies(overlap_policy=overlap),  # type: ignore[arg-type]
        state=P.ScheduleState(**state),
    )
    return s


async def eventually(fn: Callable[[], Awaitable[T | None]], timeout: float = 20.0) -> T:
    """Ask ``fn`` until it answers something (not None/False), up to ``timeout`` seconds."""
    deadline = asyncio.get_running_loop().time() + timeout
    while True:
        got = await fn()
        if got:
            return got
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError("the awaited state was not reached in time")
        await asyncio.sleep(0.05)


async def describe(stub: service_pb2_grpc.WorkflowServiceStub, sid: str, ns: str = NS) -> S.DescribeScheduleResponse:
    return await stub.DescribeSchedule(S.DescribeScheduleRequest(namespace=ns, schedule_id=sid))


async def create(
    stub: service_pb2_grpc.WorkflowServiceStub, sid: str, s: P.Schedule, **kw: Any
) -> S.CreateScheduleResponse:
    return await stub.CreateSchedule(
        S.CreateScheduleRequest(namespace=kw.pop("namespace", NS), schedule_id=sid, schedule=s,
                                request_id=str(uuid.uuid4()), **kw)
    )


async def delete(stub: service_pb2_grpc.WorkflowServiceStub, sid: str) -> None:
    await stub.DeleteSchedule(S.DeleteScheduleRequest(namespace=NS, schedule_id=sid))


async def history(
    stub: service_pb2_grpc.WorkflowServiceStub, workflow_id: str, run_id: str = ""
) -> list[H.HistoryEvent]:
    r = await stub.GetWorkflowExecutionHistory(S.GetWorkflowExecutionHistoryRequest(
        namespace=NS, execution=C.WorkflowExecution(workflow_id=workflow_id, run_id=run_id)
    ))
    return list(r.history.events)


def sid() -> str:
    return f"sched-{uuid.uuid4().hex[:8]}"


# -- tests ------------------------------------------------------------------------------------------


async def test_runs_start_at_their_times_with_ids_and_search_attributes(
    server: Server, stub: service_pb2_grpc.WorkflowServiceStub, client: Client, task_queue: str
) -> None:
    schedule_id = sid()
    async with Worker(client, task_queue=task_queue, workflows=WORKFLOWS):
        await create(stub, schedule_id, schedule("report", task_queue, input=payloads(41)))
        d = await eventually(lambda: _done_actions(stub, schedule_id, 2))
        await delete(stub, schedule_id)
    times = [a.schedule_time.ToDatetime(UTC) for a in d.info.recent_actions]
    assert len(set(times)) == len(times)
    for t, a in zip(times, d.info.recent_actions, strict=True):
        assert t.microsecond == 0 and t.timestamp() % 1 == 0
        assert a.start_workflow_result.workflow_id == "report-" + t.strftime("%Y-%m-%dT%H:%M:%SZ")
        assert a.actual_time.ToDatetime(UTC) >= t
    first = d.info.recent_actions[0].start_workflow_result.workflow_id
    found = [w async for w in client.list_workflows(f"TemporalScheduledById = '{schedule_id}'")]
    assert first in {w.id for w in found}
    nominal = times[0].strftime("%Y-%m-%dT%H:%M:%SZ")
    found = [
        w async for w in client.list_workflows(
            f"TemporalScheduledById = '{schedule_id}' AND TemporalScheduledStartTime = '{nominal}'"
        )
    ]
    assert [w.id for w in found] == [first]
    assert await client.get_workflow_handle(first).result() == 42


async def _done_actions(
    stub: service_pb2_grpc.WorkflowServiceStub, schedule_id: str, n: int
) -> S.DescribeScheduleResponse | None:
    d = await describe(stub, schedule_id)
    done = [a for a in d.info.recent_actions if a.start_workflow_status == C.WORKFLOW_EXECUTION_STATUS_COMPLETED]
    return d if len(done) >= n else None


async def _released_first(
    stub: service_pb2_grpc.WorkflowServiceStub, client: Client, schedule_id: str
) -> None:
    """Let the schedule's first run go once a second time was due."""
    d = await describe(stub, schedule_id)
    first = d.info.recent_actions[0].start_workflow_result.workflow_id
    await client.get_workflow_handle(first).signal(Blocking.release)


async def test_overlap_policies_with_a_run_that_blocks(
    server: Server, stub: service_pb2_grpc.WorkflowServiceStub, client: Client, task_queue: str
) -> None:
    ids = {policy: sid() for policy in (1, 2, 3, 4, 5, 6)}

    async def info(policy: int) -> P.ScheduleInfo:
        return (await describe(stub, ids[policy])).info

    async def skip() -> None:
        # A time while the run blocks is skipped and counted; the running run is the only one.
        i = await eventually(lambda: _when(info(1), lambda i: i.overlap_skipped >= 2))
        assert i.action_count == 1 and len(i.running_workflows) == 1 and i.buffer_size == 0
        await _released_first(stub, client, ids[1])
        i = await eventually(lambda: _when(info(1), lambda i: i.action_count >= 2))
        assert i.recent_actions[0].start_workflow_status == C.WORKFLOW_EXECUTION_STATUS_COMPLETED

    async def buffer_one() -> None:
        # One start waits in the buffer; the later ones are skipped; it starts when the run closes.
        i = await eventually(lambda: _when(info(2), lambda i: i.overlap_skipped >= 1))
        assert i.buffer_size == 1 and i.action_count == 1
        first_time = i.recent_actions[0].schedule_time.ToDatetime(UTC)
        await _released_first(stub, client, ids[2])
        i = await eventually(lambda: _when(info(2), lambda i: i.action_count >= 2))
        # The buffered start is the time right after the first: it was kept, not a later one.
        assert i.recent_actions[1].schedule_time.ToDatetime(UTC) == first_time + timedelta(seconds=1)

    async def buffer_all() -> None:
        i = await eventually(lambda: _when(info(3), lambda i: i.buffer_size >= 2))
        assert i.overlap_skipped == 0 and i.action_count == 1
        await _released_first(stub, client, ids[3])
        await eventually(lambda: _when(info(3), lambda i: i.action_count >= 2))

    async def cancel_other() -> None:
        # The running run is asked to cancel; the next start goes once its close came back.
        i = await eventually(lambda: _when(info(4), lambda i: i.action_count >= 2))
        assert i.recent_actions[0].start_workflow_status == C.WORKFLOW_EXECUTION_STATUS_CANCELED

    async def terminate_other() -> None:
        i = await eventually(lambda: _when(info(5), lambda i: i.action_count >= 2))
        assert i.recent_actions[0].start_workflow_status == C.WORKFLOW_EXECUTION_STATUS_TERMINATED
        assert len(i.running_workflows) == 1

    async def allow_all() -> None:
        # Runs that may overlap are not tracked as running (as Temporal): they all start.
        i = await eventually(lambda: _when(info(6), lambda i: i.action_count >= 2))
        assert i.overlap_skipped == 0 and i.buffer_size == 0 and not i.running_workflows
        running = C.WORKFLOW_EXECUTION_STATUS_RUNNING
        assert [a.start_workflow_status for a in i.recent_actions[:2]] == [running, running]

    async with Worker(client, task_queue=task_queue, workflows=WORKFLOWS):
        for policy, schedule_id in ids.items():
            await create(stub, schedule_id, schedule(f"block-{policy}-{schedule_id}", task_queue, "Blocking",
                                                     overlap=policy))
        try:
            await asyncio.gather(skip(), buffer_one(), buffer_all(), cancel_other(), terminate_other(), allow_all())
        finally:
            for schedule_id in ids.values():
                await _stop(stub, client, schedule_id)


async def _when(got: Awaitable[T], ok: Callable[[T], bool]) -> T | None:
    value = await got
    return value if ok(value) else None


async def _stop(stub: service_pb2_grpc.WorkflowServiceStub, client: Client, schedule_id: str) -> None:
    """Delete the schedule and end the runs it left running."""
    d = await describe(stub, schedule_id)
    await delete(stub, schedule_id)
    running = {ex.workflow_id for ex in d.info.running_workflows} | {
        a.start_workflow_result.workflow_id for a in d.info.recent_actions
        if a.start_workflow_status == C.WORKFLOW_EXECUTION_STATUS_RUNNING
    }
    for workflow_id in running:
        try:
            await client.get_workflow_handle(workflow_id).terminate(reason="test over")
        except Exception:
            pass


async def test_pause_skips_times_uncounted_and_trigger_works_while_paused(
    server: Server, stub: service_pb2_grpc.WorkflowServiceStub, client: Client, task_queue: str
) -> None:
    schedule_id = sid()
    async with Worker(client, task_queue=task_queue, workflows=WORKFLOWS):
        await create(stub, schedule_id, schedule("paused", task_queue, paused=True, notes="held"))
        created = datetime.now(UTC)
        await stub.PatchSchedule(S.PatchScheduleRequest(
            namespace=NS, schedule_id=schedule_id, patch=TRIGGER
        ))
        d = await eventually(lambda: _done_actions(stub, schedule_id, 1))
        assert d.schedule.state.paused and d.schedule.state.notes == "held"
        # Times pass while paused: nothing starts, nothing is counted.
        await eventually(lambda: _after(created + timedelta(seconds=2.2)))
        d = await describe(stub, schedule_id)
        assert d.info.action_count == 1
        assert d.info.missed_catchup_window == 0 and d.info.overlap_skipped == 0
        await stub.PatchSchedule(S.PatchScheduleRequest(
            namespace=NS, schedule_id=schedule_id, patch=P.SchedulePatch(unpause="go on")
        ))
        unpaused = datetime.now(UTC)
        d = await eventually(lambda: _done_actions(stub, schedule_id, 2))
        await delete(stub, schedule_id)
    assert not d.schedule.state.paused and d.schedule.state.notes == "go on"
    assert d.info.missed_catchup_window == 0 and d.info.overlap_skipped == 0
    scheduled = [a.schedule_time.ToDatetime(UTC) for a in d.info.recent_actions[1:]]
    assert all(t >= unpaused - timedelta(seconds=1) for t in scheduled)


async def _after(t: datetime) -> bool:
    return datetime.now(UTC) >= t


async def test_backfill_takes_both_ends_while_paused(
    server: Server, stub: service_pb2_grpc.WorkflowServiceStub, client: Client, task_queue: str
) -> None:
    schedule_id = sid()
    start = datetime(2026, 1, 1, 10, 0, 0, tzinfo=UTC)
    async with Worker(client, task_queue=task_queue, workflows=WORKFLOWS):
        await create(stub, schedule_id, schedule("filled", task_queue, every=60, paused=True))
        await stub.PatchSchedule(S.PatchScheduleRequest(namespace=NS, schedule_id=schedule_id, patch=P.SchedulePatch(
            backfill_request=[P.BackfillRequest(
                start_time=stamp(start), end_time=stamp(start + timedelta(minutes=3)),
                overlap_policy=P.SCHEDULE_OVERLAP_POLICY_ALLOW_ALL,
            )]
        )))
        d = await eventually(lambda: _done_actions(stub, schedule_id, 4))
        await delete(stub, schedule_id)
    assert d.schedule.state.paused
    assert [a.schedule_time.ToDatetime(UTC) for a in d.info.recent_actions] == [
        start + timedelta(minutes=m) for m in range(4)
    ]
    assert d.info.recent_actions[0].start_workflow_result.workflow_id == "filled-2026-01-01T10:00:00Z"


async def test_update_with_conflict_token_and_delete(
    server: Server, stub: service_pb2_grpc.WorkflowServiceStub, task_queue: str
) -> None:
    schedule_id = sid()
    await create(stub, schedule_id, schedule("upd", task_queue, every=3600, paused=True))
    d = await describe(stub, schedule_id)
    changed = schedule("upd2", task_queue, "Echo", every=1800, paused=True)
    await stub.UpdateSchedule(S.UpdateScheduleRequest(
        namespace=NS, schedule_id=schedule_id, schedule=changed, conflict_token=d.conflict_token
    ))
    with pytest.raises(grpc.aio.AioRpcError) as refused:
        await stub.UpdateSchedule(S.UpdateScheduleRequest(
            namespace=NS, schedule_id=schedule_id, schedule=schedule("upd3", task_queue),
            conflict_token=d.conflict_token,
        ))
    assert refused.value.code() == grpc.StatusCode.FAILED_PRECONDITION
    after = await describe(stub, schedule_id)
    assert after.schedule.action.start_workflow.workflow_id == "upd2"
    assert after.schedule.spec.interval[0].interval.ToTimedelta() == timedelta(minutes=30)
    assert after.conflict_token != d.conflict_token
    assert after.info.create_time == d.info.create_time
    assert after.info.update_time.ToDatetime() >= d.info.update_time.ToDatetime()
    await delete(stub, schedule_id)
    for call in (describe(stub, schedule_id), delete(stub, schedule_id)):
        with pytest.raises(grpc.aio.AioRpcError) as gone:
            await call
        assert gone.value.code() == grpc.StatusCode.NOT_FOUND


async def test_remaining_actions_run_out(
    server: Server, stub: service_pb2_grpc.WorkflowServiceStub, client: Client, task_queue: str
) -> None:
    schedule_id = sid()
    async with Worker(client, task_queue=task_queue, workflows=WORKFLOWS):
        await create(stub, schedule_id, schedule("limited", task_queue, limited_actions=True, remaining_actions=2))
        d = await eventually(lambda: _done_actions(stub, schedule_id, 2))
        last = datetime.now(UTC)
        await eventually(lambda: _after(last + timedelta(seconds=1.5)))
        d = await describe(stub, schedule_id)
        await delete(stub, schedule_id)
    assert d.info.action_count == 2
    assert d.schedule.state.remaining_actions == 0
    assert not d.info.future_action_times


async def test_pause_on_failure_and_last_failure_handed_on(
    server: Server, stub: service_pb2_grpc.WorkflowServiceStub, client: Client, task_queue: str
) -> None:
    schedule_id = sid()
    s = schedule("failing", task_queue, "Failing")
    s.policies.pause_on_failure = True
    async with Worker(client, task_queue=task_queue, workflows=WORKFLOWS):
        await create(stub, schedule_id, s)
        d = await eventually(lambda: _when(describe(stub, schedule_id), lambda d: d.schedule.state.paused))
        failed = d.info.recent_actions[0].start_workflow_result.workflow_id
        assert d.schedule.state.notes == f"paused due to workflow failure: {failed}: scheduled failure"
        assert d.info.action_count == 1
        assert d.info.recent_actions[0].start_workflow_status == C.WORKFLOW_EXECUTION_STATUS_FAILED
        await stub.PatchSchedule(S.PatchScheduleRequest(
            namespace=NS, schedule_id=schedule_id, patch=TRIGGER
        ))
        d = await eventually(lambda: _when(describe(stub, schedule_id), lambda d: d.info.action_count >= 2))
        await delete(stub, schedule_id)
    second = d.info.recent_actions[1].start_workflow_result.workflow_id
    started = (await history(stub, second))[0].workflow_execution_started_event_attributes
    assert started.continued_failure.message == "scheduled failure"


async def test_last_completion_result_handed_to_the_next_run(
    server: Server, stub: service_pb2_grpc.WorkflowServiceStub, client: Client, task_queue: str
) -> None:
    schedule_id = sid()
    async with Worker(client, task_queue=task_queue, workflows=WORKFLOWS):
        await create(stub, schedule_id, schedule("chain", task_queue, input=payloads(41)))
        d = await eventually(lambda: _done_actions(stub, schedule_id, 3))
        await delete(stub, schedule_id)
    first = (await history(stub, d.info.recent_actions[0].start_workflow_result.workflow_id))[0]
    assert not first.workflow_execution_started_event_attributes.HasField("last_completion_result")
    handed = [
        (await history(stub, a.start_workflow_result.workflow_id))[0].workflow_execution_started_event_attributes
        for a in d.info.recent_actions[1:]
    ]
    results = [json.loads(h.last_completion_result.payloads[0].data) for h in handed
               if h.last_completion_result.payloads]
    assert results and set(results) == {42}


async def _refused(call: Awaitable[Any], code: grpc.StatusCode, *words: str) -> None:
    with pytest.raises(grpc.aio.AioRpcError) as refused:
        await call
    assert refused.value.code() == code, refused.value.details()
    for w in words:
        assert w in (refused.value.details() or ""), refused.value.details()


async def test_bad_input_refused_with_nothing_stored(
    server: Server, stub: service_pb2_grpc.WorkflowServiceStub, task_queue: str
) -> None:
    bad_interval = schedule("x", task_queue)
    bad_interval.spec.interval[0].interval.CopyFrom(seconds(0))
    no_action = schedule("x", task_queue)
    no_action.ClearField("action")
    no_id = schedule("", task_queue)
    no_type = schedule("x", task_queue, "")
    no_queue = schedule("x", "")
    backwards = schedule("x", task_queue)
    backwards.spec.start_time.CopyFrom(stamp(datetime(2026, 2, 1, tzinfo=UTC)))
    backwards.spec.end_time.CopyFrom(stamp(datetime(2026, 1, 1, tzinfo=UTC)))
    builtin_attribute = schedule("x", task_queue)
    builtin_attribute.action.start_workflow.search_attributes.indexed_fields["TemporalScheduledById"].CopyFrom(
        payloads("mine").payloads[0]
    )
    cases = [
        (bad_interval, "schedule.spec.interval[0].interval"),
        (no_action, "schedule.action.start_workflow"),
        (no_id, "schedule.action.start_workflow.workflow_id"),
        (no_type, "schedule.action.start_workflow.workflow_type"),
        (no_queue, "schedule.action.start_workflow.task_queue"),
        (backwards, "schedule.spec.end_time"),
        (builtin_attribute, "TemporalScheduledById"),
    ]
    for s, field in cases:
        schedule_id = sid()
        await _refused(create(stub, schedule_id, s), grpc.StatusCode.INVALID_ARGUMENT, field)
        await _refused(describe(stub, schedule_id), grpc.StatusCode.NOT_FOUND)
    await _refused(create(stub, "x" * 1001, schedule("x", task_queue)), grpc.StatusCode.INVALID_ARGUMENT, "schedule_id")
    await _refused(create(stub, sid(), schedule("x" * 990, task_queue)), grpc.StatusCode.INVALID_ARGUMENT,
                   "schedule.action.start_workflow.workflow_id")
    await _refused(create(stub, sid(), schedule("x", task_queue), namespace="no-such-namespace"),
                   grpc.StatusCode.NOT_FOUND, "no-such-namespace")
    # A taken id: ALREADY_EXISTS, and the schedule stays as it was; a retried create succeeds again.
    schedule_id = sid()
    first = S.CreateScheduleRequest(namespace=NS, schedule_id=schedule_id, schedule=schedule("one", task_queue,
                                    paused=True), request_id="create-1")
    token = (await stub.CreateSchedule(first)).conflict_token
    assert (await stub.CreateSchedule(first)).conflict_token == token
    await _refused(create(stub, schedule_id, schedule("two", task_queue)),
                   grpc.StatusCode.ALREADY_EXISTS, schedule_id)
    assert (await describe(stub, schedule_id)).schedule.action.start_workflow.workflow_id == "one"
    # A backfill that would produce too many times names its limit; nothing changes.
    await _refused(
        stub.PatchSchedule(S.PatchScheduleRequest(namespace=NS, schedule_id=schedule_id, patch=P.SchedulePatch(
            backfill_request=[P.BackfillRequest(start_time=stamp(datetime(2026, 1, 1, tzinfo=UTC)),
                                                end_time=stamp(datetime(2026, 1, 2, tzinfo=UTC)))]
        ))),
        grpc.StatusCode.INVALID_ARGUMENT, "MAX_BACKFILL_TIMES",
    )
    d = await describe(stub, schedule_id)
    assert d.info.buffer_size == 0 and d.conflict_token == token
    await delete(stub, schedule_id)


async def test_list_query_and_namespaces(
    server: Server, stub: service_pb2_grpc.WorkflowServiceStub, client: Client, task_queue: str
) -> None:
    other = f"ns-{uuid.uuid4().hex[:8]}"
    await client.register_namespace(other)
    mine = [sid() for _ in range(3)]
    for i, schedule_id in enumerate(mine):
        await create(stub, schedule_id, schedule(f"l{i}", task_queue, every=3600, paused=i == 0))
    hidden = sid()
    await create(stub, hidden, schedule("hidden", task_queue, every=3600), namespace=other)
    await _refused(describe(stub, hidden), grpc.StatusCode.NOT_FOUND)
    assert (await describe(stub, hidden, other)).schedule.action.start_workflow.workflow_id == "hidden"

    async def listed(query: str = "", page_size: int = 2) -> list[str]:
        found: list[str] = []
        token = b""
        while True:
            r = await stub.ListSchedules(S.ListSchedulesRequest(
                namespace=NS, query=query, maximum_page_size=page_size, next_page_token=token
            ))
            found += [e.schedule_id for e in r.schedules]
            if not r.next_page_token:
                return found
            token = r.next_page_token

    everything = await listed()
    assert set(mine) <= set(everything) and hidden not in everything
    assert await listed(f"ScheduleId = '{mine[1]}'") == [mine[1]]
    paused = await listed("TemporalSchedulePaused = true", page_size=100)
    assert mine[0] in paused and mine[1] not in paused
    # The schedule's own custom search attributes, typed and listed by.
    await stub.AddSearchAttributes(S.AddSearchAttributesRequest(
        namespace=NS, search_attributes={"ScheduleTeam": S.INDEXED_VALUE_TYPE_KEYWORD}
    ))
    tagged = sid()
    team = C.SearchAttributes(indexed_fields={"ScheduleTeam": payloads("payments").payloads[0]})
    await create(stub, tagged, schedule("t", task_queue, every=3600), search_attributes=team)
    assert await listed("ScheduleTeam = 'payments'", page_size=100) == [tagged]
    d = await describe(stub, tagged)
    assert json.loads(d.search_attributes.indexed_fields["ScheduleTeam"].data) == "payments"
    mine.append(tagged)
    r = await stub.ListSchedules(S.ListSchedulesRequest(namespace=NS, query=f"ScheduleId = '{mine[2]}'"))
    entry = r.schedules[0]
    assert entry.info.workflow_type.name == "Quick" and len(entry.info.future_action_times) == 10
    await _refused(stub.ListSchedules(S.ListSchedulesRequest(namespace=NS, query="WorkflowId = 'x'")),
                   grpc.StatusCode.INVALID_ARGUMENT, "schedule query")
    for schedule_id in mine:
        await delete(stub, schedule_id)
    await stub.DeleteSchedule(S.DeleteScheduleRequest(namespace=other, schedule_id=hidden))


async def test_matching_times(server: Server, stub: service_pb2_grpc.WorkflowServiceStub, task_queue: str) -> None:
    schedule_id = sid()
    await create(stub, schedule_id, schedule("m", task_queue, every=600, paused=True))
    start = datetime(2026, 3, 1, 10, 0, tzinfo=UTC)
    r = await stub.ListScheduleMatchingTimes(S.ListScheduleMatchingTimesRequest(
        namespace=NS, schedule_id=schedule_id, start_time=stamp(start), end_time=stamp(start + timedelta(minutes=30))
    ))
    assert [t.ToDatetime(UTC) for t in r.start_time] == [start + timedelta(minutes=m) for m in (0, 10, 20, 30)]
    await delete(stub, schedule_id)


async def test_a_continued_run_keeps_its_schedule_until_the_chain_closes(
    server: Server, stub: service_pb2_grpc.WorkflowServiceStub, client: Client, task_queue: str
) -> None:
    schedule_id = sid()
    async with Worker(client, task_queue=task_queue, workflows=WORKFLOWS):
        await create(stub, schedule_id, schedule("chained", task_queue, "ContinueOnce", every=3600))
        await stub.PatchSchedule(S.PatchScheduleRequest(namespace=NS, schedule_id=schedule_id, patch=TRIGGER))
        d = await eventually(lambda: _done_actions(stub, schedule_id, 1))
        await stub.PatchSchedule(S.PatchScheduleRequest(namespace=NS, schedule_id=schedule_id, patch=TRIGGER))
        d = await eventually(lambda: _when(describe(stub, schedule_id), lambda d: d.info.action_count >= 2))
        await delete(stub, schedule_id)
    first = d.info.recent_actions[0].start_workflow_result
    assert d.info.recent_actions[0].start_workflow_status == C.WORKFLOW_EXECUTION_STATUS_COMPLETED
    continued = (await history(stub, first.workflow_id, first.run_id))[-1]
    assert continued.event_type == H.EVENT_TYPE_WORKFLOW_EXECUTION_CONTINUED_AS_NEW
    new_run = continued.workflow_execution_continued_as_new_event_attributes.new_execution_run_id
    events = await history(stub, first.workflow_id, new_run)
    assert events[-1].event_type == H.EVENT_TYPE_WORKFLOW_EXECUTION_COMPLETED
    # The chain's result is what the next run of the schedule is handed.
    second = d.info.recent_actions[1].start_workflow_result
    handed = (await history(stub, second.workflow_id, second.run_id))[0].workflow_execution_started_event_attributes
    assert json.loads(handed.last_completion_result.payloads[0].data) == "end"


async def test_every_schedule_statement_prepares_on_the_migrated_database(server: Server) -> None:
    assert server.history is not None
    async with server.history.store.pool.acquire() as conn:
        for statement in schedule_statements():
            prepared = await conn.prepare(statement.sql)
            assert len(prepared.get_parameters()) == len(statement.names), statement.sql


async def test_two_servers_take_each_time_once(
    server: Server, server_b: Server, stub: service_pb2_grpc.WorkflowServiceStub, client: Client, task_queue: str
) -> None:
    ids = [sid() for _ in range(5)]
    assert server.history is not None and server_b.history is not None
    loops = [server.history.schedules.scheduler, server_b.history.schedules.scheduler]
    before = sum(loop.started for loop in loops)
    async with Worker(client, task_queue=task_queue, workflows=WORKFLOWS):
        for schedule_id in ids:
            await create(stub, schedule_id, schedule(schedule_id, task_queue,
                                                     overlap=P.SCHEDULE_OVERLAP_POLICY_ALLOW_ALL))
        await eventually(lambda: _all_done(stub, ids, 3))
        for schedule_id in ids:
            await stub.PatchSchedule(S.PatchScheduleRequest(namespace=NS, schedule_id=schedule_id,
                                                            patch=P.SchedulePatch(pause="enough")))
        described = [await describe(stub, schedule_id) for schedule_id in ids]
        for schedule_id in ids:
            await delete(stub, schedule_id)
    total = 0
    for d in described:
        times = [a.schedule_time.ToDatetime(UTC) for a in d.info.recent_actions]
        # Every second once: no gap, no duplicate, and as many actions as times.
        assert times == [times[0] + timedelta(seconds=n) for n in range(len(times))]
        assert d.info.action_count == len(times) and d.info.overlap_skipped == 0
        total += d.info.action_count
    assert sum(loop.started for loop in loops) - before == total


async def _all_done(stub: service_pb2_grpc.WorkflowServiceStub, ids: list[str], n: int) -> bool:
    return all([await _done_actions(stub, schedule_id, n) is not None for schedule_id in ids])


async def test_deleting_a_namespace_deletes_its_schedules(
    server: Server, stub: service_pb2_grpc.WorkflowServiceStub, client: Client, task_queue: str
) -> None:
    assert server.history is not None
    name = f"ns-{uuid.uuid4().hex[:8]}"
    await client.register_namespace(name)
    schedule_id = sid()
    await create(stub, schedule_id, schedule("gone", task_queue, every=3600), namespace=name)
    await stub.DeleteNamespace(S.DeleteNamespaceRequest(namespace=name))
    while await server.history.retention.delete_due():
        pass
    assert await server.history.schedules.store.get(name, schedule_id) is None


async def test_the_debug_state_shows_the_schedules_loop(server: Server) -> None:
    state = server.debug_state()
    assert "schedules" in state and "Scheduler" in state
