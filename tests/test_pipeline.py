"""The server's one call pipeline: what it does to a call, it does whichever transport carried it.

A check added where the server is assembled (as an API-key check or an authorizer would be) refuses
the calls it should on plain RPCs and on a Multiplex stream alike, and without it both go through;
telemetry sees both; a query the worker could not answer is not blamed on the caller's request.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import grpc
import pytest
from opentelemetry.sdk.metrics import MeterProvider
from opentelemetry.sdk.metrics.export import InMemoryMetricReader
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from tests.helpers import assert_eventually, events_of, fetch_history, new_id, rpc_error, start_request
from tests.test_cli import wf
from wf.server.app import Server
from wf.server.config import ServerConfig
from wf.server.pipeline import Call, CallError, CallHandler, Interceptor, Telemetry
from wf.v1 import service_pb2, service_pb2_grpc
from worker_sdk import Client, Worker, workflow
from worker_sdk.errors import RPCError, WorkflowQueryFailedError

S = service_pb2
NS = "default"
REFUSE_KEY = "x-test-refuse"


class Refuse(Interceptor):
    """Refuses DescribeWorkflowExecution, and any call whose metadata carries REFUSE_KEY, as an
    authorizer and an API-key check would; notes every call it sees."""

    def __init__(self) -> None:
        self.seen: list[tuple[str, str]] = []

    async def intercept(self, call: Call, next: CallHandler) -> Any:
        self.seen.append((call.method, call.transport))
        if call.header(REFUSE_KEY) is not None:
            raise CallError(grpc.StatusCode.UNAUTHENTICATED, "refused: the caller presented a refused key")
        if call.method == "DescribeWorkflowExecution":
            raise CallError(grpc.StatusCode.PERMISSION_DENIED, "refused: describing runs is not allowed")
        return await next(call)


async def started_server(db_url: str, *interceptors: Interceptor) -> Server:
    server = Server(ServerConfig(db_url=db_url, port=0), interceptors=interceptors)
    await server.start()
    return server


@pytest.fixture
async def refusing(db_url: str) -> AsyncIterator[tuple[Server, Refuse]]:
    refuse = Refuse()
    server = await started_server(db_url, refuse)
    try:
        yield server, refuse
    finally:
        await server.stop()


async def stream_call(stub: service_pb2_grpc.WorkflowServiceStub, method: str, request: Any,
                      metadata: tuple[tuple[str, str], ...] = ()) -> S.MultiplexReply:
    """One call on a Multiplex stream of its own, opened with ``metadata``; its reply."""
    stream = stub.Multiplex(metadata=metadata)
    await stream.write(S.MultiplexRequest(calls=[
        S.MultiplexCall(id=1, method=method, request=request.SerializeToString())
    ]))
    await stream.done_writing()
    replies = [reply async for response in stream for reply in response.replies]
    assert [r.id for r in replies] == [1]
    return replies[0]


def describe_request(workflow_id: str) -> S.DescribeWorkflowExecutionRequest:
    return S.DescribeWorkflowExecutionRequest(namespace=NS, execution={"workflow_id": workflow_id})


async def test_a_check_added_to_the_pipeline_refuses_rpcs_and_stream_calls_alike(
    refusing: tuple[Server, Refuse], server: Server, task_queue: str
) -> None:
    srv, refuse = refusing
    wid = new_id()
    async with grpc.aio.insecure_channel(srv.address) as channel:
        stub = service_pb2_grpc.WorkflowServiceStub(channel)
        # Calls the check lets through are served, on either transport.
        assert (await stub.StartWorkflowExecution(start_request(wid, task_queue), timeout=10)).started
        reply = await stream_call(stub, "GetSystemInfo", S.GetSystemInfoRequest())
        assert reply.code == 0 and S.GetSystemInfoResponse.FromString(reply.response).server_version

        # A refused method: as an RPC and as a call on the stream, the same status and message.
        err = await rpc_error(stub.DescribeWorkflowExecution(describe_request(wid), timeout=10))
        reply = await stream_call(stub, "DescribeWorkflowExecution", describe_request(wid))
        assert err.code() == grpc.StatusCode.PERMISSION_DENIED
        assert (reply.code, reply.message) == (err.code().value[0], err.details())

        # A refused credential (metadata sent with the RPC, or with the stream its calls travel on).
        refused = ((REFUSE_KEY, "k"),)
        err = await rpc_error(stub.GetSystemInfo(S.GetSystemInfoRequest(), metadata=refused, timeout=10))
        reply = await stream_call(stub, "GetSystemInfo", S.GetSystemInfoRequest(), metadata=refused)
        assert err.code() == grpc.StatusCode.UNAUTHENTICATED
        assert (reply.code, reply.message) == (err.code().value[0], err.details())

    # The SDK's client, which sends its calls on a stream, and one that sends them as RPCs.
    for multiplex in (True, False):
        async with await Client.connect(srv.address, multiplex=multiplex) as client:
            with pytest.raises(RPCError) as refused_describe:
                await client.get_workflow_handle(wid).describe()
            assert refused_describe.value.status == grpc.StatusCode.PERMISSION_DENIED
    assert ("DescribeWorkflowExecution", "rpc") in refuse.seen
    assert ("DescribeWorkflowExecution", "multiplex") in refuse.seen
    # Malformed requests are refused by validation, before the check is asked.
    async with grpc.aio.insecure_channel(srv.address) as channel:
        stub = service_pb2_grpc.WorkflowServiceStub(channel)
        before = len(refuse.seen)
        err = await rpc_error(stub.DescribeWorkflowExecution(describe_request(""), timeout=10))
        reply = await stream_call(stub, "DescribeWorkflowExecution", describe_request(""))
        assert err.code() == grpc.StatusCode.INVALID_ARGUMENT and reply.code == err.code().value[0]
        assert len(refuse.seen) == before

    # Without the check (the session's server), both transports let the same calls through.
    async with grpc.aio.insecure_channel(server.address) as channel:
        stub = service_pb2_grpc.WorkflowServiceStub(channel)
        described = await stub.DescribeWorkflowExecution(describe_request(wid), metadata=refused, timeout=10)
        reply = await stream_call(stub, "DescribeWorkflowExecution", describe_request(wid), metadata=refused)
        assert reply.code == 0
        assert S.DescribeWorkflowExecutionResponse.FromString(reply.response) == described
        assert described.workflow_execution_info.execution.workflow_id == wid


async def test_telemetry_traces_and_measures_calls_of_both_transports(db_url: str, task_queue: str) -> None:
    spans = InMemorySpanExporter()
    tracer_provider = TracerProvider()
    tracer_provider.add_span_processor(SimpleSpanProcessor(spans))
    reader = InMemoryMetricReader()
    telemetry = Telemetry(tracer_provider=tracer_provider, meter_provider=MeterProvider(metric_readers=[reader]))
    srv = await started_server(db_url, telemetry)
    try:
        unknown = new_id()
        for multiplex in (True, False):
            async with await Client.connect(srv.address, multiplex=multiplex) as client:
                with pytest.raises(RPCError):
                    await client.get_workflow_handle(unknown).describe()
        # A call whose deadline passes while it waits for the database: the stream ends it.
        async with grpc.aio.insecure_channel(srv.address) as channel:
            stream = service_pb2_grpc.WorkflowServiceStub(channel).Multiplex()
            start = start_request(new_id(), task_queue).SerializeToString()
            await stream.write(S.MultiplexRequest(calls=[
                S.MultiplexCall(id=1, method="StartWorkflowExecution", request=start, timeout={"nanos": 1000})
            ]))
            await stream.done_writing()
            replies = [reply async for response in stream for reply in response.replies]
            assert [r.code for r in replies] == [grpc.StatusCode.DEADLINE_EXCEEDED.value[0]]
    finally:
        await srv.stop()

    described = [s for s in spans.get_finished_spans() if s.name == "wf.v1.WorkflowService/DescribeWorkflowExecution"]
    assert sorted(str((s.attributes or {})["wf.transport"]) for s in described) == ["multiplex", "rpc"]
    points = [
        point
        for rm in reader.get_metrics_data().resource_metrics  # type: ignore[union-attr]
        for sm in rm.scope_metrics
        for metric in sm.metrics
        if metric.name == "rpc.server.call.duration"
        for point in metric.data.data_points
    ]
    labels = {
        (p.attributes["rpc.method"], p.attributes["wf.transport"], p.attributes["rpc.grpc.status_code"])
        for p in points if p.attributes
    }
    not_found = grpc.StatusCode.NOT_FOUND.value[0]
    deadline = grpc.StatusCode.DEADLINE_EXCEEDED.value[0]
    assert {("DescribeWorkflowExecution", "multiplex", not_found),
            ("DescribeWorkflowExecution", "rpc", not_found),
            ("StartWorkflowExecution", "multiplex", deadline)} <= labels


# -- a query the worker could not answer -----------------------------------------------------------


@workflow.defn
class Picky:
    def __init__(self) -> None:
        self.done = False

    @workflow.run
    async def run(self) -> None:
        await workflow.wait_condition(lambda: self.done)

    @workflow.signal
    def finish(self) -> None:
        self.done = True

    @workflow.query
    def state(self) -> str:
        raise ValueError("the state is not ready to be read")


async def first_task_completed(client: Client, workflow_id: str) -> bool:
    """Whether the run's first workflow task is completed: before it, a query has no state to read."""
    return bool(events_of(await fetch_history(client.service, workflow_id), "WorkflowTaskCompleted"))


async def test_a_failed_query_handler_is_not_blamed_on_the_request(
    server: Server, client: Client, task_queue: str
) -> None:
    async with Worker(client, task_queue=task_queue, workflows=[Picky]):
        handle = await client.start_workflow(Picky.run, id=new_id("picky"), task_queue=task_queue)
        await assert_eventually(lambda: first_task_completed(client, handle.id))
        for multiplex in (True, False):
            async with await Client.connect(server.address, multiplex=multiplex) as c:
                with pytest.raises(WorkflowQueryFailedError, match="the state is not ready to be read") as failed:
                    await c.get_workflow_handle(handle.id).query(Picky.state)
            cause = failed.value.__cause__
            assert isinstance(cause, RPCError) and cause.status == grpc.StatusCode.FAILED_PRECONDITION

        # wf workflow query says what the handler said, and not that the request was wrong.
        done = await wf("query", "-w", handle.id, "--name", "state", address=server.address)
        assert done.returncode == 1
        assert done.stderr.startswith("error: query 'state' failed")
        assert "the state is not ready to be read" in done.stderr
        assert "INVALID_ARGUMENT" not in done.stderr and "(FAILED_PRECONDITION)" in done.stderr

        # A malformed query request is still the caller's: INVALID_ARGUMENT, an RPCError, on both.
        bad = S.QueryWorkflowRequest(namespace=NS, execution={"workflow_id": handle.id}, query={"query_type": ""})
        for multiplex in (True, False):
            async with await Client.connect(server.address, multiplex=multiplex) as c:
                with pytest.raises(RPCError) as refused:
                    await c.call(c.service.QueryWorkflow, bad, timeout=10)
            assert refused.value.status == grpc.StatusCode.INVALID_ARGUMENT
            assert "query.query_type is required" in refused.value.message
        await handle.signal(Picky.finish)
        await handle.result()
