"""A workflow task run ahead: a worker that completes an activity of a run it has cached runs the
run's next workflow task at once and sends its commands with the result, and the server records the
result, that task and its completion in one commit, if the history has not moved on meanwhile.

The server's side is tested through raw RPCs (what it records, what it refuses and what it ignores);
the SDK's side with a real worker: one RPC per step, now() as recorded, and a signal that arrives
while an activity runs.
"""

from __future__ import annotations

import asyncio
from collections import Counter
from datetime import UTC, datetime, timedelta

import grpc
import pytest
from google.protobuf.timestamp_pb2 import Timestamp

from bench.rpcs import count_rpcs
from tests.helpers import (
    Stub,
    complete_workflow,
    event_types,
    fetch_history,
    new_id,
    next_activity_task,
    next_workflow_task,
    payloads,
    rpc_error,
    schedule_activity,
    start_request,
    task_rows,
)
from wf.server.app import Server
from wf.v1 import command_pb2, common_pb2, history_pb2, service_pb2
from worker_sdk import Client, Worker, WorkflowHandle, activity, workflow
from worker_sdk._activation import ResolveActivity
from worker_sdk._converter import DataConverter
from worker_sdk._definition import WorkflowDefinition
from worker_sdk._replay import AheadInput, Replay, WorkflowTaskInput, run_workflow_activation
from worker_sdk.errors import NondeterminismError
from worker_sdk.testing import Replayer

S = service_pb2
NS = "default"
SECONDS_5 = timedelta(seconds=5)


def _at(t: datetime) -> Timestamp:
    ts = Timestamp()
    ts.FromDatetime(t)
    return ts


async def _activity_running(
    stub: Stub, task_queue: str, sticky: str
) -> tuple[str, int, S.PollActivityTaskQueueResponse]:
    """A run whose first workflow task scheduled activity a1, now started: (workflow id, the last
    event id the worker that cached the run has seen, the activity task)."""
    wid = new_id()
    await stub.StartWorkflowExecution(start_request(wid, task_queue), timeout=10)
    task = await next_workflow_task(stub, task_queue)
    done = await stub.RespondWorkflowTaskCompleted(
        S.RespondWorkflowTaskCompletedRequest(
            task_token=task.task_token, commands=[schedule_activity("a1")], identity="w1",
            sticky_task_queue=sticky, return_new_events=True,
        ),
        timeout=10,
    )
    act = await next_activity_task(stub, task_queue)
    return wid, done.new_events.events[-1].event_id, act


def _ahead(after: int, started: datetime, *commands: command_pb2.Command, sticky: str = "") -> S.WorkflowTaskAhead:
    return S.WorkflowTaskAhead(
        after_event_id=after, started_time=_at(started), commands=commands, sticky_task_queue=sticky
    )


async def _complete(
    stub: Stub, token: bytes, ahead: S.WorkflowTaskAhead, **fields: object
) -> S.RespondActivityTaskCompletedResponse:
    return await stub.RespondActivityTaskCompleted(  # type: ignore[no-any-return]
        S.RespondActivityTaskCompletedRequest(
            task_token=token, result=payloads(b"r"), identity="w1", workflow_task_ahead=ahead, **fields
        ),
        timeout=10,
    )


# -- the server's side -----------------------------------------------------------------------------


async def test_a_completion_asked_for_them_returns_the_events_it_appended(stub: Stub, task_queue: str) -> None:
    wid = new_id()
    await stub.StartWorkflowExecution(start_request(wid, task_queue), timeout=10)
    task = await next_workflow_task(stub, task_queue)
    done = await stub.RespondWorkflowTaskCompleted(
        S.RespondWorkflowTaskCompletedRequest(
            task_token=task.task_token, commands=[schedule_activity("a1"), schedule_activity("a2")],
            identity="w1", return_new_events=True,
        ),
        timeout=10,
    )
    assert event_types(done.new_events) == ["WorkflowTaskCompleted", "ActivityTaskScheduled", "ActivityTaskScheduled"]
    assert list(done.new_events.events) == list((await fetch_history(stub, wid)).events[3:])


async def test_the_result_and_the_task_run_ahead_are_recorded_in_one_commit(
    stub: Stub, task_queue: str, db_url: str
) -> None:
    sticky = f"{task_queue}-sticky"
    wid, after, act = await _activity_running(stub, task_queue, sticky)
    started = datetime.now(UTC)
    next_activity = schedule_activity("a2")
    next_activity.schedule_activity_task_command_attributes.request_eager_execution = True
    done = await _complete(stub, act.task_token, _ahead(after, started, next_activity, sticky=sticky))

    assert done.workflow_task_ahead_completed
    assert event_types(done.new_events) == [
        "ActivityTaskStarted", "ActivityTaskCompleted", "WorkflowTaskScheduled", "WorkflowTaskStarted",
        "WorkflowTaskCompleted", "ActivityTaskScheduled",
    ]
    history = await fetch_history(stub, wid)
    assert list(history.events[after:]) == list(done.new_events.events)
    # The workflow's now() in that task is the worker's time, and nothing before it is later.
    recorded = [e.event_time.ToDatetime(UTC) for e in done.new_events.events[:4]]
    assert recorded == [started] * 4
    # The next activity came back started; no workflow task or activity task row was written.
    assert [t.activity_id for t in done.activity_tasks] == ["a2"]
    assert not done.HasField("workflow_task")
    assert await task_rows(db_url, wid) == 0

    # The run goes on from there as from any completed workflow task.
    last = _ahead(after + 6, datetime.now(UTC), complete_workflow(b"ok"))
    finish = await _complete(stub, done.activity_tasks[0].task_token, last)
    assert finish.workflow_task_ahead_completed
    assert event_types(await fetch_history(stub, wid))[-2:] == ["WorkflowTaskCompleted", "WorkflowExecutionCompleted"]


async def test_a_task_run_ahead_of_a_history_that_moved_on_is_ignored_and_the_result_kept(
    stub: Stub, task_queue: str
) -> None:
    sticky = f"{task_queue}-sticky"
    wid, after, act = await _activity_running(stub, task_queue, sticky)
    await stub.SignalWorkflowExecution(
        S.SignalWorkflowExecutionRequest(
            namespace=NS, workflow_execution=common_pb2.WorkflowExecution(workflow_id=wid), signal_name="s1"
        ),
        timeout=10,
    )
    done = await _complete(stub, act.task_token, _ahead(after, datetime.now(UTC), complete_workflow(), sticky=sticky))

    assert not done.workflow_task_ahead_completed and not done.new_events.events
    assert not done.HasField("server_time")  # not a matter of the worker's clock
    history = await fetch_history(stub, wid)
    assert event_types(history)[after:] == [
        "WorkflowExecutionSignaled", "WorkflowTaskScheduled", "ActivityTaskStarted", "ActivityTaskCompleted",
    ]
    # The next workflow task sees both, as if no task had been run ahead.
    task = await next_workflow_task(stub, sticky)
    assert event_types(task.history)[-4:] == [
        "WorkflowTaskScheduled", "ActivityTaskStarted", "ActivityTaskCompleted", "WorkflowTaskStarted",
    ]


@pytest.mark.parametrize("when", ["before the attempt started", "after the server's clock"])
async def test_a_task_run_ahead_at_a_time_out_of_bounds_is_ignored(stub: Stub, task_queue: str, when: str) -> None:
    sticky = f"{task_queue}-sticky"
    wid, after, act = await _activity_running(stub, task_queue, sticky)
    offset = timedelta(hours=-1) if when.startswith("before") else timedelta(hours=1)
    done = await _complete(
        stub, act.task_token, _ahead(after, datetime.now(UTC) + offset, complete_workflow(), sticky=sticky),
        eager_workflow_task_queue=sticky,
    )

    assert not done.workflow_task_ahead_completed
    # The server tells its time, for the worker to correct its own by.
    assert abs(done.server_time.ToDatetime(UTC) - datetime.now(UTC)) < timedelta(minutes=1)
    # The result alone is recorded, and the next workflow task comes back as without a task ahead.
    assert event_types(done.workflow_task.history)[-3:] == [
        "ActivityTaskCompleted", "WorkflowTaskScheduled", "WorkflowTaskStarted",
    ]
    assert "WorkflowExecutionCompleted" not in event_types(await fetch_history(stub, wid))


async def test_a_task_run_ahead_with_an_invalid_time_is_refused_and_changes_nothing(
    stub: Stub, task_queue: str
) -> None:
    sticky = f"{task_queue}-sticky"
    wid, after, act = await _activity_running(stub, task_queue, sticky)
    ahead = _ahead(after, datetime.now(UTC), complete_workflow(), sticky=sticky)
    ahead.started_time.seconds = 10**12
    err = await rpc_error(_complete(stub, act.task_token, ahead))
    assert err.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert "workflow_task_ahead.started_time" in (err.details() or "")
    assert len((await fetch_history(stub, wid)).events) == after
    # The activity is still waiting for its result.
    done = await _complete(stub, act.task_token, _ahead(after, datetime.now(UTC), complete_workflow(), sticky=sticky))
    assert done.workflow_task_ahead_completed


async def test_a_task_run_ahead_with_a_refused_command_fails_like_any_workflow_task(
    stub: Stub, task_queue: str
) -> None:
    sticky = f"{task_queue}-sticky"
    wid, after, act = await _activity_running(stub, task_queue, sticky)
    bad = schedule_activity("a2", activity_type="")  # an activity needs a type
    done = await _complete(stub, act.task_token, _ahead(after, datetime.now(UTC), bad, sticky=sticky))

    assert not done.workflow_task_ahead_completed
    assert event_types(await fetch_history(stub, wid))[after:] == [
        "ActivityTaskStarted", "ActivityTaskCompleted", "WorkflowTaskScheduled", "WorkflowTaskStarted",
        "WorkflowTaskFailed", "WorkflowTaskScheduled",
    ]
    # What the worker cached is in doubt: the retry goes to the task queue, with the whole history.
    task = await next_workflow_task(stub, task_queue)
    assert task.history.events[0].event_id == 1


# -- the SDK's side --------------------------------------------------------------------------------


@activity.defn
async def step(i: int) -> int:
    return i * 10


@workflow.defn
class Steps:
    @workflow.run
    async def run(self, n: int) -> tuple[list[int], list[str]]:
        results, times = [], []
        for i in range(n):
            results.append(await workflow.execute_activity(step, i, start_to_close_timeout=SECONDS_5))
            times.append(workflow.now().isoformat())
        return results, times


async def _five_steps(
    client: Client, server: Server, task_queue: str, *, clock_offset: timedelta = timedelta(0)
) -> tuple[WorkflowHandle, list[str], Counter[str], Worker]:
    """Run ``Steps`` of 5 on a worker of its own (with ``clock_offset`` as if its clock were off the
    server's by that much); the handle, the workflow's now() after each step, the worker's RPCs by
    method and the worker."""
    worker_client = await Client.connect(server.address)
    try:
        rpcs = count_rpcs(worker_client)
        worker = Worker(worker_client, task_queue=task_queue, workflows=[Steps], activities=[step])
        worker._server_clock.offset = clock_offset
        async with worker:
            handle = await client.start_workflow(Steps.run, 5, id=new_id(), task_queue=task_queue)
            results, times = await handle.result()
    finally:
        await worker_client.close()
    assert results == [0, 10, 20, 30, 40]
    assert (await Replayer(workflows=[Steps]).replay_workflow(await handle.fetch_history())).ok
    return handle, times, rpcs, worker


async def test_each_step_of_a_cached_run_costs_one_rpc_and_now_is_as_recorded(
    client: Client, server: Server, task_queue: str
) -> None:
    handle, times, rpcs, _ = await _five_steps(client, server, task_queue)
    # The first task answers the start; every later one went with the result of the step before.
    assert rpcs["RespondWorkflowTaskCompleted"] == 1
    assert rpcs["RespondActivityTaskCompleted"] == 5
    # Each next activity came back started with the answer: the two activity polls sent at the
    # start never got a task (a poll that gets one is sent again).
    assert rpcs["PollActivityTaskQueue"] == 2
    history = await handle.fetch_history()
    started = [e for e in history.events if e.event_type == history_pb2.EVENT_TYPE_WORKFLOW_TASK_STARTED][1:]
    assert times == [e.event_time.ToDatetime(UTC).isoformat() for e in started]


_released = asyncio.Event()
_running = asyncio.Event()


@activity.defn
async def wait_for_release() -> str:
    _running.set()
    await _released.wait()
    return "released"


@workflow.defn
class Listens:
    def __init__(self) -> None:
        self.heard: list[str] = []

    @workflow.signal
    async def hear(self, what: str) -> None:
        self.heard.append(what)

    @workflow.run
    async def run(self) -> tuple[str, list[str]]:
        first = await workflow.execute_activity(wait_for_release, start_to_close_timeout=SECONDS_5)
        await workflow.execute_activity(step, 1, start_to_close_timeout=SECONDS_5)
        return first, self.heard


async def test_a_signal_while_an_activity_runs_is_seen_by_the_workflow(
    client: Client, task_queue: str
) -> None:
    _released.clear()
    _running.clear()
    async with Worker(client, task_queue=task_queue, workflows=[Listens], activities=[wait_for_release, step]):
        handle = await client.start_workflow(Listens.run, id=new_id(), task_queue=task_queue)
        await _running.wait()
        await handle.signal(Listens.hear, "hello")
        _released.set()
        assert await handle.result() == ("released", ["hello"])
    history = await handle.fetch_history()
    assert (await Replayer(workflows=[Listens]).replay_workflow(history)).ok


async def test_a_worker_whose_clock_is_ahead_learns_the_servers_time_from_one_refusal(
    client: Client, server: Server, task_queue: str
) -> None:
    # As if this machine's clock were an hour ahead of the server's.
    _, times, rpcs, worker = await _five_steps(client, server, task_queue, clock_offset=timedelta(hours=1))
    # The first task run ahead was refused and ran again from the history; the rest were taken.
    assert rpcs["RespondWorkflowTaskCompleted"] == 2
    assert abs(worker._server_clock.offset) < timedelta(seconds=1)
    assert times == sorted(times) and datetime.fromisoformat(times[-1]) <= datetime.now(UTC)


# -- a cached run and the events the server authors for the task it ran ahead ------------------------

_STEPS = {"Steps": WorkflowDefinition.of(Steps)}.get


async def _cached_steps_run(stub: Stub, task_queue: str) -> tuple[Replay, S.PollActivityTaskQueueResponse]:
    """A run of ``Steps`` of 2 whose first workflow task was answered from a Replay, kept level with
    the history as a worker's cache keeps it; its first activity is now started."""
    conv = DataConverter()
    request = start_request(new_id(), task_queue, workflow_type="Steps")
    request.input.CopyFrom(conv.to_payloads([2]))
    await stub.StartWorkflowExecution(request, timeout=10)
    task = await next_workflow_task(stub, task_queue)
    execution = task.workflow_execution
    commands, _, replay = run_workflow_activation(
        WorkflowTaskInput(NS, execution.workflow_id, execution.run_id, "Steps", task.history), _STEPS, conv
    )
    done = await stub.RespondWorkflowTaskCompleted(
        S.RespondWorkflowTaskCompletedRequest(
            task_token=task.task_token, commands=commands, identity="w1", return_new_events=True
        ),
        timeout=10,
    )
    replay.catch_up(done.new_events.events)
    return replay, await next_activity_task(stub, task_queue)


def _resolve(act: S.PollActivityTaskQueueResponse, result: int) -> ResolveActivity:
    return ResolveActivity(act.activity_id, result=DataConverter().to_payloads([result]))


async def _report(
    stub: Stub, act: S.PollActivityTaskQueueResponse, result: int, ahead: S.WorkflowTaskAhead | None = None
) -> S.RespondActivityTaskCompletedResponse:
    return await stub.RespondActivityTaskCompleted(  # type: ignore[no-any-return]
        S.RespondActivityTaskCompletedRequest(
            task_token=act.task_token, result=DataConverter().to_payloads([result]), identity="w1",
            workflow_task_ahead=ahead,
        ),
        timeout=10,
    )


async def test_a_cached_run_takes_the_events_the_server_recorded_for_the_task_it_ran_ahead(
    stub: Stub, task_queue: str
) -> None:
    replay, act = await _cached_steps_run(stub, task_queue)
    after = replay.last_event_id
    resolve, started = _resolve(act, 0), datetime.now(UTC)
    commands = replay.run_ahead(AheadInput(resolve, started))
    # The workflow went on from the result applied, at the time proposed: its next step.
    assert [c.schedule_activity_task_command_attributes.input for c in commands] == [DataConverter().to_payloads([1])]
    assert replay.instance.now == started
    assert replay.last_event_id == after  # nothing made up: the history is still the server's alone

    done = await _report(stub, act, 0, _ahead(after, started, *commands))
    assert done.workflow_task_ahead_completed
    replay.catch_up(done.new_events.events)
    history = await fetch_history(stub, act.workflow_execution.workflow_id)
    assert list(replay.events) == list(history.events)
    assert not replay.expected and not replay.jobs


@pytest.mark.parametrize("what", ["a signal came first", "another result", "another time"])
async def test_a_cached_run_refuses_recorded_events_that_differ_from_what_it_applied(
    stub: Stub, task_queue: str, what: str
) -> None:
    replay, act = await _cached_steps_run(stub, task_queue)
    after = replay.last_event_id
    wid = act.workflow_execution.workflow_id
    # Run ahead at the attempt's start, a time the server's own start of the task cannot match.
    started = act.started_time.ToDatetime(UTC)
    replay.run_ahead(AheadInput(_resolve(act, 0), started if what == "another time" else datetime.now(UTC)))
    if what == "a signal came first":
        await stub.SignalWorkflowExecution(
            S.SignalWorkflowExecutionRequest(
                namespace=NS, workflow_execution=common_pb2.WorkflowExecution(workflow_id=wid), signal_name="s1"
            ),
            timeout=10,
        )
    # The result goes alone, and the server starts the next task itself: its events are what a
    # worker would be handed if the server's events disagreed with the task it ran ahead.
    await _report(stub, act, 10 if what == "another result" else 0)
    task = await next_workflow_task(stub, task_queue)
    recorded = [e for e in task.history.events if e.event_id > after]

    expected = {
        "a signal came first": "holds SignalWorkflow, ResolveActivity, not the result of activity '1' alone",
        "another result": "holds ResolveActivity, not the result of activity '1' alone",
        "another time": "recorded as event",
    }[what]
    with pytest.raises(NondeterminismError, match=expected):
        replay.catch_up(recorded)
