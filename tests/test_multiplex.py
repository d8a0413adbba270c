"""Unary calls carried on one ``Multiplex`` stream, as ``Client.service`` sends them.

Each call must behave exactly as its own RPC would: the same answers and the same errors, deadlines
that end it, and cancellation (by the caller or by the stream closing) that leaves nothing behind,
above all no task taken by a poll nobody waits for any more. The rest of the suite runs the SDK over
the stream too; these tests look at the stream's own edges.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import grpc
import pytest

from tests.helpers import (
    Stub,
    assert_eventually,
    events_of,
    fetch_history,
    new_id,
    payloads,
    poll_workflow_task,
    rpc_error,
    start_request,
    waiting_polls,
)
from wf.server.app import Server
from wf.server.config import ServerConfig
from wf.server.frontend import WorkflowService
from wf.v1 import service_pb2, service_pb2_grpc
from worker_sdk import Client

S = service_pb2
NS = "default"


@pytest.fixture
async def unary(server: Server) -> AsyncIterator[Client]:
    """A client that sends every call as its own RPC."""
    c = await Client.connect(server.address, multiplex=False)
    yield c
    await c.close()


async def test_calls_on_the_stream_answer_as_their_rpcs_do(client: Client, unary: Client, task_queue: str) -> None:
    wid = new_id()
    started = await client.service.StartWorkflowExecution(start_request(wid, task_queue), timeout=10)
    assert started.started and started.run_id

    # The same run, described over the stream and as an RPC.
    req = S.DescribeWorkflowExecutionRequest(namespace=NS, execution={"workflow_id": wid})
    assert await client.service.DescribeWorkflowExecution(req, timeout=10) == \
        await unary.service.DescribeWorkflowExecution(req, timeout=10)

    # Refusals carry the same status and message either way.
    refused = [
        ("StartWorkflowExecution", start_request("", task_queue)),
        ("StartWorkflowExecution", start_request(wid, task_queue)),
        ("DescribeWorkflowExecution",
         S.DescribeWorkflowExecutionRequest(namespace=NS, execution={"workflow_id": new_id()})),
        ("RespondActivityTaskCompleted", S.RespondActivityTaskCompletedRequest(task_token=b"x")),
    ]
    for method, request in refused:
        a = await rpc_error(getattr(client.service, method)(request, timeout=10))
        b = await rpc_error(getattr(unary.service, method)(request, timeout=10))
        assert (a.code(), a.details()) == (b.code(), b.details())
        assert a.code() in (grpc.StatusCode.INVALID_ARGUMENT, grpc.StatusCode.ALREADY_EXISTS,
                            grpc.StatusCode.NOT_FOUND)
    # ALREADY_EXISTS names the running run in its metadata, as the RPC does.
    dup = await rpc_error(client.service.StartWorkflowExecution(start_request(wid, task_queue), timeout=10))
    assert dict(dup.initial_metadata())["wf-run-id"] == started.run_id


async def test_many_concurrent_calls_each_get_their_own_answer(client: Client, task_queue: str) -> None:
    ids = [new_id() for _ in range(50)]
    runs = await asyncio.gather(*(
        client.service.StartWorkflowExecution(start_request(wid, task_queue, input=wid.encode()), timeout=10)
        for wid in ids
    ))
    described = await asyncio.gather(*(
        client.service.DescribeWorkflowExecution(
            S.DescribeWorkflowExecutionRequest(namespace=NS, execution={"workflow_id": wid}), timeout=10)
        for wid in ids
    ))
    assert [d.workflow_execution_info.execution.run_id for d in described] == [r.run_id for r in runs]
    assert [d.workflow_execution_info.execution.workflow_id for d in described] == ids


async def test_calls_adding_up_past_the_message_limit_all_go_through(
    server: Server, client: Client, task_queue: str
) -> None:
    # Each request is small enough for the stream, and together they are far over the server's
    # message limit: sent at once, they are spread over several messages, none over the limit.
    size = 60 * 1024
    count = 2 * server.config.max_grpc_message_bytes // size
    ids = [new_id() for _ in range(count)]
    started = await asyncio.gather(*(
        client.service.StartWorkflowExecution(start_request(wid, task_queue, input=b"x" * size), timeout=30)
        for wid in ids
    ))
    assert all(s.started for s in started)


async def test_a_cancelled_poll_takes_no_task(server: Server, client: Client, task_queue: str) -> None:
    poll = asyncio.ensure_future(poll_workflow_task(client.service, task_queue, timeout=60))
    await assert_eventually(lambda: waiting_polls(server, task_queue) == 1)
    poll.cancel()
    await asyncio.gather(poll, return_exceptions=True)
    await assert_eventually(lambda: waiting_polls(server, task_queue) == 0)

    wid = new_id()
    await client.service.StartWorkflowExecution(start_request(wid, task_queue), timeout=10)
    task = await poll_workflow_task(client.service, task_queue, timeout=30)
    # The first start of the task, not one after a start that nobody received timed out.
    assert task.workflow_execution.workflow_id == wid and task.attempt == 1


async def test_a_call_that_waits_out_its_deadline_ends_as_the_rpc_does(
    client: Client, unary: Client, task_queue: str
) -> None:
    # A query of a run no worker serves waits for as long as the call's deadline allows.
    wid = new_id()
    await client.service.StartWorkflowExecution(start_request(wid, task_queue), timeout=10)
    query = S.QueryWorkflowRequest(namespace=NS, execution={"workflow_id": wid}, query={"query_type": "q"})
    over_stream = await rpc_error(client.service.QueryWorkflow(query, timeout=2.2))
    as_rpc = await rpc_error(unary.service.QueryWorkflow(query, timeout=2.2))
    assert over_stream.code() == as_rpc.code() == grpc.StatusCode.DEADLINE_EXCEEDED
    assert over_stream.details() == as_rpc.details()
    # The stream is still good for the next call.
    assert (await client.service.GetSystemInfo(S.GetSystemInfoRequest(), timeout=5)).server_version


async def test_closing_the_stream_cancels_its_calls(
    server: Server, stub: Stub, client: Client, task_queue: str
) -> None:
    stream = stub.Multiplex()
    poll = S.PollWorkflowTaskQueueRequest(namespace=NS, task_queue={"name": task_queue}, identity="gone")
    call = S.MultiplexCall(id=1, method="PollWorkflowTaskQueue", request=poll.SerializeToString())
    await stream.write(S.MultiplexRequest(calls=[call]))
    await assert_eventually(lambda: waiting_polls(server, task_queue) == 1)
    stream.cancel()
    await assert_eventually(lambda: waiting_polls(server, task_queue) == 0)

    wid = new_id()
    await client.service.StartWorkflowExecution(start_request(wid, task_queue), timeout=10)
    task = await poll_workflow_task(client.service, task_queue, timeout=30)
    assert task.workflow_execution.workflow_id == wid and task.attempt == 1


async def test_bad_calls_on_the_stream_are_refused_one_by_one(stub: Stub, task_queue: str) -> None:
    stream = stub.Multiplex()
    wid = new_id()
    start = start_request(wid, task_queue).SerializeToString()
    await stream.write(S.MultiplexRequest(calls=[
        S.MultiplexCall(id=1, method="NoSuchMethod", request=b""),
        S.MultiplexCall(id=2, method="Multiplex", request=b""),
        S.MultiplexCall(id=3, method="StartWorkflowExecution", request=b"\xff\xff"),
    ]))
    good = S.MultiplexCall(id=4, method="StartWorkflowExecution", request=start)
    await stream.write(S.MultiplexRequest(calls=[good]))
    await stream.done_writing()
    replies = {}
    async for response in stream:
        for reply in response.replies:
            replies[reply.id] = reply
    assert sorted(replies) == [1, 2, 3, 4]
    assert replies[1].code == replies[2].code == grpc.StatusCode.UNIMPLEMENTED.value[0]
    assert "NoSuchMethod" in replies[1].message
    assert replies[3].code == grpc.StatusCode.INVALID_ARGUMENT.value[0]
    assert "StartWorkflowExecutionRequest" in replies[3].message
    # The good call among them went through.
    assert replies[4].code == 0
    assert S.StartWorkflowExecutionResponse.FromString(replies[4].response).started


async def test_a_request_over_the_message_limit_fails_alone(
    server: Server, client: Client, task_queue: str
) -> None:
    # Over the server's 4 MB message limit: that call fails, as its own RPC would; the calls beside
    # it, on the stream, are untouched.
    limit = server.config.max_grpc_message_bytes
    huge = client.service.StartWorkflowExecution(
        start_request(new_id(), task_queue, input=b"x" * (limit + 1)), timeout=10)
    wid = new_id()
    small = client.service.StartWorkflowExecution(start_request(wid, task_queue, input=b"ok"), timeout=10)
    err, ok = await asyncio.gather(rpc_error(huge), small)
    assert err.code() == grpc.StatusCode.RESOURCE_EXHAUSTED
    assert ok.started
    history = await fetch_history(client.service, wid)
    started = events_of(history, "WorkflowExecutionStarted")[0]
    assert started.workflow_execution_started_event_attributes.input == payloads(b"ok")


async def test_a_server_without_the_stream_gets_every_call_as_an_rpc(
    db_url: str, monkeypatch: pytest.MonkeyPatch, task_queue: str
) -> None:
    # A server from before Multiplex: the method answers UNIMPLEMENTED, as gRPC does for one unknown.
    monkeypatch.setattr(WorkflowService, "Multiplex", service_pb2_grpc.WorkflowServiceServicer.Multiplex)
    old = Server(ServerConfig(db_url=db_url, port=0))
    await old.start()
    try:
        c = await Client.connect(old.address)
        try:
            wid = new_id()
            started = await c.service.StartWorkflowExecution(start_request(wid, task_queue), timeout=10)
            err = await rpc_error(c.service.StartWorkflowExecution(start_request(wid, task_queue), timeout=10))
            described = await c.service.DescribeWorkflowExecution(
                S.DescribeWorkflowExecutionRequest(namespace=NS, execution={"workflow_id": wid}), timeout=10)
        finally:
            await c.close()
    finally:
        await old.stop()
    assert started.started
    assert err.code() == grpc.StatusCode.ALREADY_EXISTS
    assert described.workflow_execution_info.execution.run_id == started.run_id


async def test_a_stopping_server_answers_waiting_polls_and_ends_its_streams(db_url: str, task_queue: str) -> None:
    # A server being stopped (say, in a rolling restart) hands its workers and clients back at once:
    # their waiting polls (for tasks, and for a run's result) answer empty and their streams end,
    # rather than hanging on until the end of the grace period, so they go on with another server.
    srv = Server(ServerConfig(db_url=db_url, port=0))
    await srv.start()
    stopping: asyncio.Task[None] | None = None
    try:
        c = await Client.connect(srv.address)
        try:
            wid = new_id()
            await c.service.StartWorkflowExecution(start_request(wid, task_queue), timeout=10)
            result_wait = asyncio.ensure_future(c.service.GetWorkflowExecutionHistory(
                S.GetWorkflowExecutionHistoryRequest(
                    namespace=NS, execution={"workflow_id": wid}, wait_new_event=True,
                    history_event_filter_type=S.HISTORY_EVENT_FILTER_TYPE_CLOSE_EVENT,
                ),
                timeout=60,
            ))
            # The run's first task is taken, so the next poll waits.
            assert (await poll_workflow_task(c.service, task_queue)).workflow_execution.workflow_id == wid
            poll = asyncio.ensure_future(poll_workflow_task(c.service, task_queue, timeout=60))
            await assert_eventually(lambda: waiting_polls(srv, task_queue) == 1)
            stopping = asyncio.ensure_future(srv.stop(grace=120))
            answer = await asyncio.wait_for(poll, 30)
            assert not answer.task_token
            no_result = await asyncio.wait_for(result_wait, 30)
            assert not no_result.history.events and no_result.next_page_token
            # Well within the grace period: the stream ended when its last call was answered.
            await asyncio.wait_for(asyncio.shield(stopping), 30)
            err = await rpc_error(poll_workflow_task(c.service, task_queue, timeout=5))
            assert err.code() == grpc.StatusCode.UNAVAILABLE
        finally:
            await c.close()
    finally:
        if stopping is None:
            await srv.stop()
        else:
            await stopping


async def test_answers_adding_up_past_the_callers_message_limit_all_arrive(stub: Stub, task_queue: str) -> None:
    # A caller on a plain channel takes messages up to gRPC's default 4 MB. Twenty histories of
    # about 500 KB each, asked for in one message, are answered together: they come back spread
    # over several messages, none over that limit.
    ids = [new_id() for _ in range(20)]
    for wid in ids:
        await stub.StartWorkflowExecution(start_request(wid, task_queue, input=b"x" * 500_000), timeout=10)
    stream = stub.Multiplex()
    await stream.write(S.MultiplexRequest(calls=[
        S.MultiplexCall(
            id=i, method="GetWorkflowExecutionHistory",
            request=S.GetWorkflowExecutionHistoryRequest(namespace=NS, execution={"workflow_id": wid})
            .SerializeToString(),
        )
        for i, wid in enumerate(ids, 1)
    ]))
    await stream.done_writing()
    replies = [reply async for response in stream for reply in response.replies]
    assert sorted(r.id for r in replies) == list(range(1, 21))
    assert all(r.code == 0 for r in replies)
    for r in replies:
        history = S.GetWorkflowExecutionHistoryResponse.FromString(r.response).history
        started = events_of(history, "WorkflowExecutionStarted")[0]
        assert len(started.workflow_execution_started_event_attributes.input.payloads[0].data) == 500_000
