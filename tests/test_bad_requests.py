"""Requests the server cannot decode or store: INVALID_ARGUMENT on both transports, never UNKNOWN or
INTERNAL, never a traceback in the log, never a database error.

Two kinds: bytes that are not the method's message at all (invalid UTF-8 in a string field, a
truncated or corrupt message) and strings PostgreSQL's text cannot hold (a NUL character).
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import AsyncIterator, Callable
from typing import Any

import grpc
import pytest

from tests.helpers import Stub, new_id, rpc_error, start_request
from wf.server.app import Server
from wf.server.checks import text_fields
from wf.v1 import service_pb2
from worker_sdk import Client

S = service_pb2
NS = "default"
METHOD = S.DESCRIPTOR.services_by_name["WorkflowService"].methods_by_name


def _bad_utf8() -> bytes:
    """A DescribeWorkflowExecutionRequest whose workflow id is not UTF-8."""
    good = S.DescribeWorkflowExecutionRequest(namespace=NS, execution={"workflow_id": "ab"}).SerializeToString()
    return good.replace(b"ab", b"a\xff")


UNDECODABLE = {
    "invalid UTF-8": _bad_utf8(),
    "truncated": S.DescribeWorkflowExecutionRequest(namespace=NS * 20).SerializeToString()[:-5],
    "corrupt": b"\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff",
}


@pytest.fixture
async def channel(server: Server) -> AsyncIterator[grpc.aio.Channel]:
    async with grpc.aio.insecure_channel(server.address) as channel:
        yield channel


@pytest.fixture
def no_tracebacks(caplog: pytest.LogCaptureFixture) -> Callable[[], None]:
    """A check, for the end of a test, that the server logged no error or traceback meanwhile."""
    caplog.set_level(logging.WARNING)

    def check() -> None:
        bad = [r for r in caplog.records if r.exc_info or r.levelno >= logging.ERROR]
        assert not bad, [r.getMessage() for r in bad]

    return check


@pytest.mark.parametrize("data", list(UNDECODABLE.values()), ids=list(UNDECODABLE))
async def test_an_undecodable_rpc_is_an_invalid_argument(
    channel: grpc.aio.Channel, data: bytes, no_tracebacks: Callable[[], None]
) -> None:
    describe = channel.unary_unary("/wf.v1.WorkflowService/DescribeWorkflowExecution")
    err = await rpc_error(describe(data, timeout=10))
    assert err.code() == grpc.StatusCode.INVALID_ARGUMENT, err.details()
    assert "not a valid wf.v1.DescribeWorkflowExecutionRequest" in (err.details() or "")
    no_tracebacks()


@pytest.mark.parametrize("data", list(UNDECODABLE.values()), ids=list(UNDECODABLE))
async def test_an_undecodable_call_on_the_stream_is_an_invalid_argument_alone(
    stub: Stub, data: bytes, no_tracebacks: Callable[[], None]
) -> None:
    stream = stub.Multiplex()
    await stream.write(S.MultiplexRequest(calls=[
        S.MultiplexCall(id=1, method="DescribeWorkflowExecution", request=data),
        S.MultiplexCall(id=2, method="GetSystemInfo", request=b""),
    ]))
    replies: dict[int, S.MultiplexReply] = {}
    while len(replies) < 2:
        for reply in (await stream.read()).replies:
            replies[reply.id] = reply
    await stream.done_writing()
    assert replies[1].code == grpc.StatusCode.INVALID_ARGUMENT.value[0], replies[1].message
    assert "not a valid wf.v1.DescribeWorkflowExecutionRequest" in replies[1].message
    # The stream and the other call in its message go on.
    assert replies[2].code == 0 and S.GetSystemInfoResponse.FromString(replies[2].response).server_version
    no_tracebacks()


async def test_an_undecodable_stream_message_ends_the_stream_with_invalid_argument(
    channel: grpc.aio.Channel, no_tracebacks: Callable[[], None]
) -> None:
    stream = channel.stream_stream("/wf.v1.WorkflowService/Multiplex")()
    # A MultiplexRequest whose call names its method in bytes that are not UTF-8.
    good = S.MultiplexRequest(calls=[S.MultiplexCall(id=1, method="GetSystemInfo")]).SerializeToString()
    await stream.write(good.replace(b"GetSystemInfo", b"GetSystemInf\xff"))
    err = await rpc_error(stream.read())
    assert err.code() == grpc.StatusCode.INVALID_ARGUMENT, err.details()
    assert "not a valid wf.v1.MultiplexRequest" in (err.details() or "")
    no_tracebacks()


# -- NUL characters ---------------------------------------------------------------------------------


def _set(message: Any, path: tuple[str, ...], value: str) -> None:
    for name in path[:-1]:
        message = getattr(message, name)
    setattr(message, path[-1], value)


def _nul_cases() -> list[tuple[str, tuple[str, ...]]]:
    """Every string field the server may store or query with, of every method's request."""
    return [
        (m.name, path)
        for m in S.DESCRIPTOR.services_by_name["WorkflowService"].methods
        if not m.client_streaming
        for path in text_fields(m.input_type)
    ]


@pytest.fixture
async def unary(server: Server) -> AsyncIterator[Client]:
    c = await Client.connect(server.address, multiplex=False)
    yield c
    await c.close()


@pytest.mark.parametrize("transport", ["stream", "rpc"])
async def test_a_nul_in_any_string_field_is_an_invalid_argument_naming_it(
    client: Client, unary: Client, transport: str, task_queue: str, no_tracebacks: Callable[[], None]
) -> None:
    service = (client if transport == "stream" else unary).service
    cases = _nul_cases()
    assert len(cases) > 40  # the descriptors were read, not an empty list
    for method, path in cases:
        request = getattr(S, METHOD[method].input_type.name)()
        # An otherwise plausible request, so nothing but the NUL is wrong with it.
        for field in ("namespace",):
            if field in request.DESCRIPTOR.fields_by_name:
                setattr(request, field, NS)
        _set(request, path, "a\x00b")
        err = await rpc_error(getattr(service, method)(request, timeout=10))
        where = f"{method}.{'.'.join(path)}"
        assert err.code() == grpc.StatusCode.INVALID_ARGUMENT, (where, err.code(), err.details())
        assert f"{'.'.join(path)} must not contain NUL" in (err.details() or ""), (where, err.details())
    no_tracebacks()


async def test_run_ids_and_list_queries_never_reach_the_database_as_bad_text(
    stub: Stub, task_queue: str, no_tracebacks: Callable[[], None]
) -> None:
    wid = new_id()
    await stub.StartWorkflowExecution(start_request(wid, task_queue), timeout=10)
    run = S.DescribeWorkflowExecutionRequest(namespace=NS, execution={"workflow_id": wid, "run_id": "\x00"})
    err = await rpc_error(stub.DescribeWorkflowExecution(run, timeout=10))
    assert err.code() == grpc.StatusCode.INVALID_ARGUMENT and "run_id" in (err.details() or "")
    listing = S.ListWorkflowExecutionsRequest(namespace=NS, query=f"WorkflowId = '{wid}\x00'")
    err = await rpc_error(stub.ListWorkflowExecutions(listing, timeout=10))
    assert err.code() == grpc.StatusCode.INVALID_ARGUMENT and "query" in (err.details() or "")

    # A run id that is not a UUID, or one of no run, is simply not found.
    for run_id in ("not-a-uuid", "' OR 1=1 --", str(uuid.uuid4())):
        execution = {"workflow_id": wid, "run_id": run_id}
        calls = [
            stub.DescribeWorkflowExecution(S.DescribeWorkflowExecutionRequest(namespace=NS, execution=execution)),
            stub.GetWorkflowExecutionHistory(S.GetWorkflowExecutionHistoryRequest(namespace=NS, execution=execution)),
            stub.SignalWorkflowExecution(S.SignalWorkflowExecutionRequest(
                namespace=NS, workflow_execution=execution, signal_name="s")),
            stub.TerminateWorkflowExecution(S.TerminateWorkflowExecutionRequest(
                namespace=NS, workflow_execution=execution, reason="r")),
        ]
        for call in calls:
            err = await rpc_error(call)
            assert err.code() == grpc.StatusCode.NOT_FOUND, (run_id, err.details())
    no_tracebacks()
