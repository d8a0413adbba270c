"""Several wf servers on one database: any server takes any request, each task and timer counts once.

Workers here are raw gRPC pollers (tests.helpers), so the tests exercise only the servers.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import grpc
import pytest
import pytest_asyncio

from tests.helpers import (
    Deliveries,
    Stub,
    background,
    complete_workflow,
    complete_workflow_task,
    describe,
    dur,
    event_types,
    events_of,
    fetch_history,
    list_all,
    new_id,
    payloads,
    poll_activity_task,
    poll_workflow_task,
    raw_activity_worker,
    raw_workflow_worker,
    retry_policy,
    rpc_error,
    schedule_activity,
    start_request,
    wf_server_process,
)
from wf.server.app import Server
from wf.v1 import command_pb2, common_pb2, history_pb2, service_pb2, service_pb2_grpc

C = common_pb2
S = service_pb2


@pytest_asyncio.fixture(loop_scope="session")
async def stub_b(server_b: Server) -> AsyncIterator[Stub]:
    async with grpc.aio.insecure_channel(server_b.address) as channel:
        yield service_pb2_grpc.WorkflowServiceStub(channel)


async def wait_closed(stub: Stub, workflow_id: str, run_id: str, timeout: float = 30.0) -> history_pb2.HistoryEvent:
    """Long-poll a run's close event."""
    resp = await stub.GetWorkflowExecutionHistory(
        S.GetWorkflowExecutionHistoryRequest(
            namespace="default",
            execution=C.WorkflowExecution(workflow_id=workflow_id, run_id=run_id),
            wait_new_event=True,
            history_event_filter_type=S.HISTORY_EVENT_FILTER_TYPE_CLOSE_EVENT,
        ),
        timeout=timeout,
    )
    assert len(resp.history.events) == 1, f"{workflow_id} did not close within {timeout}s"
    return resp.history.events[0]


async def assert_completed_once(stub: Stub, runs: dict[str, tuple[str, bytes]]) -> None:
    """Every run closed with exactly one completion, carrying its expected result."""
    for wid, (run_id, expected) in runs.items():
        history = await fetch_history(stub, wid, run_id)
        types = event_types(history)
        assert types.count("WorkflowExecutionCompleted") == 1, (wid, types)
        assert types[-1] == "WorkflowExecutionCompleted", (wid, types)
        assert (await describe(stub, wid, run_id)).result.payloads[0].data == expected


@pytest.mark.parametrize(
    ("starts_on", "works_on"),
    [("A", "B"), ("B", "A"), ("both", "both")],
    ids=["start on A, work on B", "start on B, work on A", "both on both"],
)
async def test_workflows_complete_once_whichever_server_starts_and_works_them(
    stub: Stub, stub_b: Stub, task_queue: str, starts_on: str, works_on: str
) -> None:
    stubs = {"A": [stub], "B": [stub_b], "both": [stub, stub_b]}
    deliveries = Deliveries()
    workers = []
    for i, s in enumerate(stubs[works_on] * 2):
        workers.append(raw_workflow_worker(s, task_queue, deliveries, identity=f"wf-{i}"))
        workers.append(raw_activity_worker(s, task_queue, deliveries, identity=f"act-{i}"))

    n = 12
    starters = stubs[starts_on]
    async with background(*workers):
        runs: dict[str, tuple[str, bytes]] = {}
        for i in range(n):
            wid, data = new_id(f"multi{i}"), f"input-{i}".encode()
            started = await starters[i % len(starters)].StartWorkflowExecution(
                start_request(wid, task_queue, input=data), timeout=10
            )
            runs[wid] = (started.run_id, data)
        # Each run's close is awaited on a server that did not necessarily close it.
        closes = await asyncio.gather(
            *(
                wait_closed(starters[i % len(starters)], wid, run_id)
                for i, (wid, (run_id, _)) in enumerate(runs.items())
            )
        )
    assert all(e.event_type == history_pb2.EVENT_TYPE_WORKFLOW_EXECUTION_COMPLETED for e in closes)
    await assert_completed_once(stub, runs)
    await assert_completed_once(stub_b, runs)
    assert deliveries.duplicates() == []
    assert len(deliveries.workflow_tasks) == 2 * n  # schedule the activity, then complete
    assert sorted((wid, run) for wid, run, _, _ in deliveries.activity_tasks) == sorted(
        (wid, run_id) for wid, (run_id, _) in runs.items()
    )


async def test_a_poller_waiting_on_one_server_gets_a_task_committed_on_the_other(
    stub: Stub, stub_b: Stub, task_queue: str
) -> None:
    for round_ in range(3):
        poll = asyncio.ensure_future(poll_workflow_task(stub_b, task_queue, timeout=30))
        # A round trip to B through the database, so B has most likely put the poll to wait by now.
        await list_all(stub_b, f"TaskQueue = '{task_queue}'")
        assert not poll.done()
        wid = new_id(f"hint{round_}")
        started = await stub.StartWorkflowExecution(start_request(wid, task_queue), timeout=10)
        # Well before the poll's own deadline: B was told, it did not wait the poll out.
        task = await asyncio.wait_for(poll, 15)
        assert task.task_token, "the poll on B ended without the task started on A"
        assert (task.workflow_execution.workflow_id, task.workflow_execution.run_id) == (wid, started.run_id)

        # The same for an activity scheduled through A, and for the close event B's client waits for.
        act_poll = asyncio.ensure_future(poll_activity_task(stub_b, task_queue, timeout=30))
        await complete_workflow_task(stub, task.task_token, schedule_activity("a", input=b"x"))
        act = await asyncio.wait_for(act_poll, 15)
        assert (act.workflow_execution.workflow_id, act.activity_id) == (wid, "a")
        await stub.RespondActivityTaskCompleted(
            S.RespondActivityTaskCompletedRequest(task_token=act.task_token, result=act.input), timeout=10
        )
        task = await poll_workflow_task(stub, task_queue, timeout=15)
        closed = asyncio.ensure_future(wait_closed(stub_b, wid, started.run_id))
        await complete_workflow_task(stub, task.task_token, complete_workflow(b"r"))
        event = await asyncio.wait_for(closed, 15)
        assert event.event_type == history_pb2.EVENT_TYPE_WORKFLOW_EXECUTION_COMPLETED


async def test_tasks_polled_on_one_server_are_answered_on_the_other(stub: Stub, stub_b: Stub, task_queue: str) -> None:
    # Every step alternates servers, so each one acts on a run the other changed last.
    wid = new_id()
    started = await stub.StartWorkflowExecution(start_request(wid, task_queue), timeout=10)
    task = await poll_workflow_task(stub_b, task_queue, timeout=10)
    assert task.task_token
    await complete_workflow_task(stub, task.task_token, schedule_activity("a", input=b"ping"))
    act = await poll_activity_task(stub_b, task_queue, timeout=10)
    assert act.task_token
    await stub.RespondActivityTaskCompleted(
        S.RespondActivityTaskCompletedRequest(task_token=act.task_token, result=payloads(b"pong")), timeout=10
    )
    task = await poll_workflow_task(stub_b, task_queue, timeout=10)
    assert task.task_token
    assert event_types(task.history)[-3:] == ["ActivityTaskCompleted", "WorkflowTaskScheduled", "WorkflowTaskStarted"]
    await complete_workflow_task(stub, task.task_token, complete_workflow(b"done"))
    await assert_completed_once(stub_b, {wid: (started.run_id, b"done")})


async def test_a_server_that_saw_a_run_earlier_still_delivers_its_new_tasks(
    stub: Stub, stub_b: Stub, task_queue: str
) -> None:
    # A starts the run (and remembers it); B moves it on; A's pollers must still get its next tasks.
    wid = new_id()
    started = await stub.StartWorkflowExecution(start_request(wid, task_queue), timeout=10)
    task = await poll_workflow_task(stub_b, task_queue, timeout=10)
    await complete_workflow_task(stub_b, task.task_token, schedule_activity("a", input=b"ping"))
    act = await poll_activity_task(stub, task_queue, timeout=10)
    assert act.task_token, "A lost the activity task B scheduled"
    await stub_b.RespondActivityTaskCompleted(
        S.RespondActivityTaskCompletedRequest(task_token=act.task_token, result=payloads(b"pong")), timeout=10
    )
    task = await poll_workflow_task(stub, task_queue, timeout=10)
    assert task.task_token, "A lost the workflow task B scheduled"
    await complete_workflow_task(stub_b, task.task_token, complete_workflow(b"done"))
    await assert_completed_once(stub, {wid: (started.run_id, b"done")})


async def test_a_result_awaited_on_the_server_that_started_the_run_comes_when_another_closes_it(
    stub: Stub, stub_b: Stub, task_queue: str
) -> None:
    # A started the run and keeps a copy of it (running); the wait for its result on A starts from
    # that copy. B closes the run: A must still answer with the close event.
    wid = new_id()
    started = await stub.StartWorkflowExecution(start_request(wid, task_queue), timeout=10)
    waiting = asyncio.ensure_future(wait_closed(stub, wid, started.run_id))
    task = await poll_workflow_task(stub_b, task_queue, timeout=10)
    assert task.task_token
    await complete_workflow_task(stub_b, task.task_token, complete_workflow(b"from B"))
    close = await waiting
    assert close.event_type == history_pb2.EVENT_TYPE_WORKFLOW_EXECUTION_COMPLETED
    assert close.workflow_execution_completed_event_attributes.result.payloads[0].data == b"from B"


async def test_concurrent_starts_of_one_id_on_both_servers_make_one_run(
    stub: Stub, stub_b: Stub, task_queue: str
) -> None:
    # Retries of one logical start (same request id): one run, started once, the same run for all.
    wid, request_id = new_id(), new_id("req")
    same = await asyncio.gather(
        *(
            (stub, stub_b)[i % 2].StartWorkflowExecution(
                start_request(wid, task_queue, request_id=request_id), timeout=10
            )
            for i in range(10)
        )
    )
    assert len({r.run_id for r in same}) == 1
    assert [r.started for r in same].count(True) == 1

    # Different request ids for a new id: one wins, every other is told it already exists.
    wid = new_id()
    results = await asyncio.gather(
        *(
            (stub, stub_b)[i % 2].StartWorkflowExecution(
                start_request(wid, task_queue, request_id=new_id("req")), timeout=10
            )
            for i in range(10)
        ),
        return_exceptions=True,
    )
    winners = [r for r in results if isinstance(r, S.StartWorkflowExecutionResponse)]
    losers = [r for r in results if isinstance(r, grpc.aio.AioRpcError)]
    assert len(winners) == 1 and winners[0].started
    assert len(losers) == 9
    assert {e.code() for e in losers} == {grpc.StatusCode.ALREADY_EXISTS}
    assert [e.execution.run_id for e in await list_all(stub, f"WorkflowId = '{wid}'")] == [winners[0].run_id]


def _until_activity_timed_out(history: history_pb2.History) -> list[command_pb2.Command]:
    """Schedule one activity (1 s start-to-close, 2 attempts); complete once it has timed out."""
    if events_of(history, "ActivityTaskTimedOut"):
        return [complete_workflow(b"timed out")]
    if events_of(history, "ActivityTaskScheduled"):
        return []
    return [schedule_activity("slow", start_to_close=1, retry=retry_policy(initial=0.1, maximum_attempts=2))]


async def test_timeouts_fire_once_with_two_servers(stub: Stub, stub_b: Stub, task_queue: str) -> None:
    deliveries = Deliveries()
    workers = [
        raw_workflow_worker(stub, task_queue, deliveries, identity="wf-a", decide=_until_activity_timed_out),
        raw_workflow_worker(stub_b, task_queue, deliveries, identity="wf-b", decide=_until_activity_timed_out),
        # Both take activity tasks and never answer: only the servers' timers move the runs on.
        raw_activity_worker(stub, task_queue, deliveries, identity="act-a", answer=False),
        raw_activity_worker(stub_b, task_queue, deliveries, identity="act-b", answer=False),
    ]
    n = 10
    async with background(*workers):
        runs = {}
        for i in range(n):
            wid = new_id(f"timer{i}")
            starter = (stub, stub_b)[i % 2]
            runs[wid] = (await starter.StartWorkflowExecution(start_request(wid, task_queue), timeout=10)).run_id
        await asyncio.gather(*(wait_closed(stub, wid, run_id) for wid, run_id in runs.items()))

    assert deliveries.duplicates() == []
    assert sorted(deliveries.activity_tasks) == sorted(
        (wid, run_id, "slow", attempt) for wid, run_id in runs.items() for attempt in (1, 2)
    )
    for wid, run_id in runs.items():
        history = await fetch_history(stub, wid, run_id)
        types = event_types(history)
        assert types.count("ActivityTaskTimedOut") == 1, (wid, types)
        assert types.count("WorkflowTaskScheduled") == 2, (wid, types)
        assert types.count("WorkflowExecutionCompleted") == 1, (wid, types)
        timed_out = events_of(history, "ActivityTaskTimedOut")[0].activity_task_timed_out_event_attributes
        assert timed_out.retry_state == C.RETRY_STATE_MAXIMUM_ATTEMPTS_REACHED


async def test_wf_server_processes_share_work_and_survive_one_being_killed(db_url: str, task_queue: str) -> None:
    async with wf_server_process(db_url) as p1, wf_server_process(db_url) as p2:
        async with grpc.aio.insecure_channel(p1.address) as c1, grpc.aio.insecure_channel(p2.address) as c2:
            s1, s2 = service_pb2_grpc.WorkflowServiceStub(c1), service_pb2_grpc.WorkflowServiceStub(c2)

            # Started through one process, worked through the other.
            deliveries = Deliveries()
            first: dict[str, tuple[str, bytes]] = {}
            async with background(
                raw_workflow_worker(s2, task_queue, deliveries, identity="wf-p2"),
                raw_activity_worker(s2, task_queue, deliveries, identity="act-p2"),
            ):
                for i in range(5):
                    wid, data = new_id(f"proc{i}"), f"first-{i}".encode()
                    started = await s1.StartWorkflowExecution(start_request(wid, task_queue, input=data), timeout=10)
                    first[wid] = (started.run_id, data)
                await asyncio.gather(*(wait_closed(s1, wid, run_id) for wid, (run_id, _) in first.items()))
            await assert_completed_once(s1, first)

            # Process 2 takes workflow tasks and dies (SIGKILL) holding them.
            second: dict[str, tuple[str, bytes]] = {}
            for i in range(5):
                wid, data = new_id(f"killed{i}"), f"second-{i}".encode()
                started = await s1.StartWorkflowExecution(
                    start_request(wid, task_queue, input=data, workflow_task_timeout=dur(1)), timeout=10
                )
                second[wid] = (started.run_id, data)
            held = [await poll_workflow_task(s2, task_queue, timeout=10) for _ in range(2)]
            assert all(t.task_token for t in held)
            await p2.kill()

            # Process 1 alone finishes everything; the held tasks come back after their timeout.
            async with background(
                raw_workflow_worker(s1, task_queue, deliveries, identity="wf-p1"),
                raw_activity_worker(s1, task_queue, deliveries, identity="act-p1"),
            ):
                await asyncio.gather(*(wait_closed(s1, wid, run_id) for wid, (run_id, _) in second.items()))
            await assert_completed_once(s1, {**first, **second})
            assert deliveries.duplicates() == []
            for t in held:
                types = event_types(await fetch_history(s1, t.workflow_execution.workflow_id))
                assert "WorkflowTaskTimedOut" in types
                err = await rpc_error(complete_workflow_task(s1, t.task_token, complete_workflow(b"late")))
                assert err.code() == grpc.StatusCode.NOT_FOUND

        assert await p1.terminate() == 0, p1.output()
