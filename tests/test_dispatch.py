"""Tasks started in the change that creates them, for a poller already waiting in the process.

A waiting poller is set aside before the commit, the task is recorded as started in that same commit
(no task row, no second commit), and the poller gets the response once it is durable. These tests
look at what that leaves behind (one commit: the same event time for scheduled and started, no task
row) and at the poller's side of it: a poller that left, one whose poll timed out meanwhile, and a
change that did not commit.
"""

from __future__ import annotations

import asyncio
from datetime import timedelta

import asyncpg
import grpc

from tests.helpers import (
    Stub,
    assert_eventually,
    complete_workflow,
    complete_workflow_task,
    event_types,
    events_of,
    fetch_history,
    new_id,
    next_activity_task,
    next_workflow_task,
    payloads,
    poll_activity_task,
    poll_workflow_task,
    rpc_error,
    schedule_activity,
    start_request,
    task_rows,
    waiting_polls,
)
from wf.history.errors import FailedPrecondition
from wf.history.execution import Execution
from wf.history.tasks import TaskKind, TaskRow, TimerKind, TimerRow
from wf.matching import Matcher
from wf.server.app import Server
from wf.v1 import common_pb2, service_pb2

S = service_pb2
NS = "default"


def _matcher(server: Server) -> Matcher:
    assert server.matcher is not None
    return server.matcher


async def _wait_for_pollers(server: Server, task_queue: str, kind: TaskKind, n: int = 1) -> None:
    await assert_eventually(lambda: waiting_polls(server, task_queue, kind) >= n)


async def test_a_waiting_poller_gets_the_first_workflow_task_started_by_the_start_itself(
    server: Server, stub: Stub, db_url: str, task_queue: str
) -> None:
    poll = asyncio.ensure_future(poll_workflow_task(stub, task_queue, timeout=30, identity="poller-1"))
    await _wait_for_pollers(server, task_queue, TaskKind.WORKFLOW)
    wid = new_id()
    await stub.StartWorkflowExecution(start_request(wid, task_queue), timeout=10)
    task = await asyncio.wait_for(poll, 20)

    assert task.workflow_execution.workflow_id == wid
    assert event_types(task.history) == ["WorkflowExecutionStarted", "WorkflowTaskScheduled", "WorkflowTaskStarted"]
    scheduled, started = task.history.events[1], task.history.events[2]
    assert started.workflow_task_started_event_attributes.identity == "poller-1"
    assert started.workflow_task_started_event_attributes.scheduled_event_id == scheduled.event_id
    # One change recorded both: they carry the same time, and no task row was ever needed.
    assert started.event_time == scheduled.event_time
    assert await task_rows(db_url, wid) == 0

    await complete_workflow_task(stub, task.task_token, complete_workflow(b"done"))
    history = await fetch_history(stub, wid)
    assert events_of(history, "WorkflowExecutionCompleted")


async def test_a_waiting_activity_poller_gets_the_activity_started_by_the_completion(
    server: Server, stub: Stub, task_queue: str
) -> None:
    wid = new_id()
    await stub.StartWorkflowExecution(start_request(wid, task_queue), timeout=10)
    task = await next_workflow_task(stub, task_queue)
    poll = asyncio.ensure_future(poll_activity_task(stub, task_queue, timeout=30, identity="act-poller"))
    await _wait_for_pollers(server, task_queue, TaskKind.ACTIVITY)
    await complete_workflow_task(stub, task.task_token, schedule_activity("a1", input=b"payload"))
    act = await asyncio.wait_for(poll, 20)
    assert (act.activity_id, act.input.payloads[0].data, act.attempt) == ("a1", b"payload", 1)
    assert act.started_time == act.scheduled_time  # started in the commit that scheduled it

    await stub.RespondActivityTaskCompleted(
        S.RespondActivityTaskCompletedRequest(task_token=act.task_token, identity="act-poller"), timeout=10
    )
    task = await next_workflow_task(stub, task_queue)
    await complete_workflow_task(stub, task.task_token, complete_workflow())
    history = await fetch_history(stub, wid)
    (started,) = events_of(history, "ActivityTaskStarted")
    assert started.activity_task_started_event_attributes.identity == "act-poller"
    assert events_of(history, "ActivityTaskCompleted")


# -- the poller's side, on the server's own matcher -----------------------------------------------------


def _task(task_queue: str) -> TaskRow:
    return TaskRow(NS, task_queue, TaskKind.WORKFLOW, "wf-x", "run-x", 2, 1, id=0)


async def _never_started(task: TaskRow) -> S.PollWorkflowTaskQueueResponse:
    raise AssertionError(f"the poll should have been handed a started task, not {task}")


async def test_a_started_task_whose_poller_left_goes_to_the_next_poller(server: Server, task_queue: str) -> None:
    matcher = _matcher(server)
    first = asyncio.ensure_future(matcher.poll(NS, task_queue, TaskKind.WORKFLOW, "p1", 30, _never_started))
    await _wait_for_pollers(server, task_queue, TaskKind.WORKFLOW)
    handoff = matcher.reserve(_task(task_queue))
    assert handoff is not None and handoff.identity == "p1"
    first.cancel()  # the poller leaves while "its" change commits
    await asyncio.gather(first, return_exceptions=True)
    response = S.PollWorkflowTaskQueueResponse(task_token=b"started-for-p1")
    handoff.deliver(response)
    got = await matcher.poll(NS, task_queue, TaskKind.WORKFLOW, "p2", 5, _never_started)
    assert got == response


async def test_a_poll_that_times_out_while_set_aside_still_gets_its_task(server: Server, task_queue: str) -> None:
    matcher = _matcher(server)
    poll = asyncio.ensure_future(matcher.poll(NS, task_queue, TaskKind.WORKFLOW, "p1", 0.5, _never_started))
    await _wait_for_pollers(server, task_queue, TaskKind.WORKFLOW)
    handoff = matcher.reserve(_task(task_queue))
    assert handoff is not None
    await asyncio.sleep(1.0)  # the poll's own 0.5 s timeout passes while the change "commits"
    assert not poll.done()
    response = S.PollWorkflowTaskQueueResponse(task_token=b"late")
    handoff.deliver(response)
    assert await asyncio.wait_for(poll, 5) == response


async def test_a_poller_set_aside_for_a_change_that_failed_goes_back_to_waiting(
    server: Server, task_queue: str
) -> None:
    matcher = _matcher(server)
    poll = asyncio.ensure_future(matcher.poll(NS, task_queue, TaskKind.WORKFLOW, "p1", 30, _never_started))
    await _wait_for_pollers(server, task_queue, TaskKind.WORKFLOW)
    handoff = matcher.reserve(_task(task_queue))
    assert handoff is not None
    assert matcher.reserve(_task(task_queue)) is None  # set aside: nobody else gets it
    handoff.release()
    await _wait_for_pollers(server, task_queue, TaskKind.WORKFLOW)
    assert not poll.done()
    again = matcher.reserve(_task(task_queue))
    assert again is not None
    response = S.PollWorkflowTaskQueueResponse(task_token=b"second-try")
    again.deliver(response)
    assert await asyncio.wait_for(poll, 5) == response


# -- group commit: changes of one run that queue up are committed together -------------------------


async def _signal(stub: Stub, wid: str, i: int) -> None:
    await stub.SignalWorkflowExecution(
        S.SignalWorkflowExecutionRequest(
            namespace=NS,
            workflow_execution=common_pb2.WorkflowExecution(workflow_id=wid),
            signal_name="s",
            input=payloads(str(i).encode()),
            request_id=f"sig-{wid}-{i}",
        ),
        timeout=20,
    )


async def test_concurrent_changes_of_one_run_are_committed_together_each_exactly_once(
    stub: Stub, task_queue: str
) -> None:
    wid = new_id()
    await stub.StartWorkflowExecution(start_request(wid, task_queue), timeout=10)
    n = 60
    await asyncio.gather(*(_signal(stub, wid, i) for i in range(n)))
    history = await fetch_history(stub, wid)
    signaled = events_of(history, "WorkflowExecutionSignaled")
    got = sorted(int(e.workflow_execution_signaled_event_attributes.input.payloads[0].data) for e in signaled)
    assert got == list(range(n))
    # Events of one commit share its time: fewer commits than signals.
    assert len({(e.event_time.seconds, e.event_time.nanos) for e in signaled}) < n


async def test_a_change_that_fails_in_a_group_fails_alone(stub: Stub, task_queue: str) -> None:
    wid = new_id()
    await stub.StartWorkflowExecution(start_request(wid, task_queue), timeout=10)
    task = await next_workflow_task(stub, task_queue)
    await complete_workflow_task(stub, task.task_token, schedule_activity("a1"))
    act = await next_activity_task(stub, task_queue)
    complete = S.RespondActivityTaskCompletedRequest(task_token=act.task_token, result=payloads(b"r"))
    # Two completions of the same attempt among signals: one wins, the other is refused, and
    # every signal is recorded.
    calls = [_signal(stub, wid, i) for i in range(20)]
    calls += [stub.RespondActivityTaskCompleted(complete, timeout=20) for _ in range(2)]
    outcomes = await asyncio.gather(*calls, return_exceptions=True)
    errors = [o for o in outcomes if isinstance(o, BaseException)]
    assert len(errors) == 1, outcomes
    assert isinstance(errors[0], grpc.aio.AioRpcError) and errors[0].code() == grpc.StatusCode.NOT_FOUND
    history = await fetch_history(stub, wid)
    assert len(events_of(history, "WorkflowExecutionSignaled")) == 20
    assert len(events_of(history, "ActivityTaskCompleted")) == 1


async def test_a_stale_firing_does_not_consume_the_timer_set_anew(
    server: Server, stub: Stub, db_url: str, task_queue: str
) -> None:
    # The timer processor read a timer row that the run has since set anew under the same key (a
    # new workflow-task timeout): firing the old one must leave the new row alone.
    wid = new_id()
    started = await stub.StartWorkflowExecution(start_request(wid, task_queue), timeout=10)
    await next_workflow_task(stub, task_queue)
    conn = await asyncpg.connect(db_url)
    try:
        row = await conn.fetchrow("SELECT * FROM timers WHERE workflow_id = $1 AND timer_key = 'wft'", wid)
        assert row is not None
        stale = TimerRow(
            NS, wid, started.run_id, "wft", row["fire_at"] - timedelta(seconds=30),
            TimerKind.WORKFLOW_TASK_TIMEOUT, row["event_id"] - 1, row["attempt"],
        )
        assert server.history is not None
        await server.history.fire_timer(stale)
        after = await conn.fetchrow("SELECT * FROM timers WHERE workflow_id = $1 AND timer_key = 'wft'", wid)
    finally:
        await conn.close()
    assert after is not None and after["fire_at"] == row["fire_at"]


# -- the next workflow task, returned with an activity's completion ---------------------------------


async def _to_activity_on_sticky_queue(stub: Stub, task_queue: str, sticky: str) -> tuple[str, bytes]:
    """A run whose workflow task scheduled activity a1 and left the run sticky to ``sticky``."""
    wid = new_id()
    await stub.StartWorkflowExecution(start_request(wid, task_queue), timeout=10)
    task = await next_workflow_task(stub, task_queue)
    await stub.RespondWorkflowTaskCompleted(
        S.RespondWorkflowTaskCompletedRequest(
            task_token=task.task_token, commands=[schedule_activity("a1")], identity="w1", sticky_task_queue=sticky
        ),
        timeout=10,
    )
    act = await next_activity_task(stub, task_queue)
    return wid, act.task_token


async def test_an_activity_completion_brings_back_the_next_workflow_task(stub: Stub, task_queue: str) -> None:
    sticky = f"{task_queue}-sticky"
    wid, token = await _to_activity_on_sticky_queue(stub, task_queue, sticky)
    completed = await stub.RespondActivityTaskCompleted(
        S.RespondActivityTaskCompletedRequest(
            task_token=token, result=payloads(b"r"), identity="w1", eager_workflow_task_queue=sticky
        ),
        timeout=10,
    )
    task = completed.workflow_task
    assert task.task_token and task.workflow_execution.workflow_id == wid
    # Only what the sticky worker has not seen, up to the task's start, recorded in the same commit.
    assert event_types(task.history) == [
        "WorkflowTaskCompleted", "ActivityTaskScheduled", "ActivityTaskStarted", "ActivityTaskCompleted",
        "WorkflowTaskScheduled", "WorkflowTaskStarted",
    ]
    assert task.history.events[-1].workflow_task_started_event_attributes.identity == "w1"
    assert task.history.events[-1].event_time == task.history.events[-3].event_time
    await complete_workflow_task(stub, task.task_token, complete_workflow(b"done"))
    assert events_of(await fetch_history(stub, wid), "WorkflowExecutionCompleted")


async def test_an_activity_completion_asking_on_another_queue_leaves_the_task_to_its_queue(
    stub: Stub, task_queue: str
) -> None:
    sticky = f"{task_queue}-sticky"
    wid, token = await _to_activity_on_sticky_queue(stub, task_queue, sticky)
    completed = await stub.RespondActivityTaskCompleted(
        S.RespondActivityTaskCompletedRequest(
            task_token=token, result=payloads(b"r"), identity="w2", eager_workflow_task_queue=f"{task_queue}-other"
        ),
        timeout=10,
    )
    assert not completed.HasField("workflow_task")
    task = await next_workflow_task(stub, sticky)
    assert task.workflow_execution.workflow_id == wid
    await complete_workflow_task(stub, task.task_token, complete_workflow())


# -- the next activity task, returned with an activity's completion --------------------------------


async def test_an_activity_completion_brings_back_the_next_activity_task_waiting(
    stub: Stub, task_queue: str
) -> None:
    wid = new_id()
    await stub.StartWorkflowExecution(start_request(wid, task_queue), timeout=10)
    task = await next_workflow_task(stub, task_queue)
    await complete_workflow_task(stub, task.task_token, schedule_activity("a1"), schedule_activity("a2"))
    first = await next_activity_task(stub, task_queue)

    def completion(token: bytes, queue: str) -> S.RespondActivityTaskCompletedRequest:
        return S.RespondActivityTaskCompletedRequest(
            task_token=token, result=payloads(b"r"), identity="w1", next_activity_task_queue=queue
        )

    err = await rpc_error(stub.RespondActivityTaskCompleted(completion(first.task_token, "bad\x00queue"), timeout=10))
    assert err.code() == grpc.StatusCode.INVALID_ARGUMENT  # refused before anything changed
    done = await stub.RespondActivityTaskCompleted(completion(first.task_token, task_queue), timeout=10)
    second = done.activity_task
    assert second.task_token and {first.activity_id, second.activity_id} == {"a1", "a2"}
    done = await stub.RespondActivityTaskCompleted(completion(second.task_token, task_queue), timeout=10)
    assert not done.HasField("activity_task")  # nothing else waits: an empty answer, no waiting
    history = await fetch_history(stub, wid)
    assert len(events_of(history, "ActivityTaskCompleted")) == 2
    started = events_of(history, "ActivityTaskStarted")
    assert [e.activity_task_started_event_attributes.identity for e in started] == ["tests", "w1"]


async def test_a_change_refused_in_a_group_is_refused_only_once_those_before_it_are_durable(
    server: Server, stub: Stub, task_queue: str
) -> None:
    # Two pollers claiming one task row at once, say: the loser is refused because the winner
    # started the task, and then deletes the stale row. Were it refused before the winner's change
    # was committed, that clean-up could take the row from under the winner.
    wid = new_id()
    started = await stub.StartWorkflowExecution(start_request(wid, task_queue), timeout=10)
    history = server.history
    assert history is not None
    key = (NS, wid, started.run_id)
    first_free_id = (await history.runs.load(key)).next_event_id

    def signal(ex: Execution) -> int:
        ex.add_signal("s", common_pb2.Payloads(), "tests", f"r-{wid}")
        return ex.record.next_event_id

    def needs_the_signal_absent(ex: Execution) -> None:
        if ex.record.next_event_id != first_free_id:
            raise FailedPrecondition("the run moved on")

    finished: list[str] = []
    calls = [
        asyncio.ensure_future(history.runs.update(key, signal)),
        asyncio.ensure_future(history.runs.update(key, needs_the_signal_absent)),
    ]
    for name, call in zip(("signal", "refused"), calls, strict=True):
        call.add_done_callback(lambda c, name=name: finished.append(name))
    outcomes = await asyncio.gather(*calls, return_exceptions=True)
    assert isinstance(outcomes[0], int) and isinstance(outcomes[1], FailedPrecondition), outcomes
    assert finished == ["signal", "refused"]
    assert len(events_of(await fetch_history(stub, wid), "WorkflowExecutionSignaled")) == 1
