"""What a caller sees when a call fails, whichever transport carried it: a status it can act on, and
never the server's internal text (exception names, messages, the database's own errors).

A bug in the server is INTERNAL "internal error (error id …)", and the same id is on the server's
log line with the traceback, so a caller's report leads to it. A value the database refuses is
INVALID_ARGUMENT, not INTERNAL with PostgreSQL's message.
"""

from __future__ import annotations

import logging
import re
from typing import Any

import grpc
import pytest

from wf.server.app import Server
from wf.server.config import ServerConfig
from wf.server.pipeline import Call, CallHandler, Interceptor
from wf.v1 import common_pb2, service_pb2, service_pb2_grpc
from worker_sdk import Client
from worker_sdk.errors import RPCError

SECRET = "secret internal detail 7f3a"


class Broken(Interceptor):
    """A link with a bug: every DescribeWorkflowExecution raises an exception wf does not expect."""

    async def intercept(self, call: Call, next: CallHandler) -> Any:
        if call.method == "DescribeWorkflowExecution":
            raise KeyError(SECRET)
        return await next(call)


def _describe(workflow_id: str = "any", run_id: str = "") -> service_pb2.DescribeWorkflowExecutionRequest:
    return service_pb2.DescribeWorkflowExecutionRequest(
        namespace="default", execution=common_pb2.WorkflowExecution(workflow_id=workflow_id, run_id=run_id)
    )


async def test_a_bug_answers_internal_error_with_an_id_that_is_in_the_log(
    db_url: str, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.ERROR, logger="wf")
    server = Server(ServerConfig(db_url=db_url, port=0), interceptors=[Broken()])
    await server.start()
    try:
        details = []
        async with grpc.aio.insecure_channel(server.address) as channel:
            with pytest.raises(grpc.aio.AioRpcError) as rpc:
                await service_pb2_grpc.WorkflowServiceStub(channel).DescribeWorkflowExecution(_describe())
            assert rpc.value.code() == grpc.StatusCode.INTERNAL
            details.append(rpc.value.details() or "")
        async with await Client.connect(server.address) as client:  # on its Multiplex stream
            with pytest.raises(RPCError) as stream:
                await client.call(client.service.DescribeWorkflowExecution, _describe())
            assert stream.value.status == grpc.StatusCode.INTERNAL
            details.append(stream.value.message)
    finally:
        await server.stop()
    for text in details:
        found = re.fullmatch(r"internal error \(error id ([0-9a-f]{12})\); see the server log", text)
        assert found, text
        logged = [r for r in caplog.records if found.group(1) in r.getMessage()]
        assert len(logged) == 1, [r.getMessage() for r in caplog.records]
        assert logged[0].exc_info is not None and isinstance(logged[0].exc_info[1], KeyError)
        assert SECRET not in text and "KeyError" not in text


async def test_a_value_the_database_refuses_is_invalid_argument_without_its_text(server: Server) -> None:
    async with grpc.aio.insecure_channel(server.address) as channel:
        stub = service_pb2_grpc.WorkflowServiceStub(channel)
        for request in (_describe(run_id="\x00"), _describe(workflow_id="a\x00b")):
            with pytest.raises(grpc.aio.AioRpcError) as refused:
                await stub.DescribeWorkflowExecution(request)
            assert refused.value.code() == grpc.StatusCode.INVALID_ARGUMENT, refused.value.details()
            assert "0x00" not in (refused.value.details() or "")
            assert "UTF8" not in (refused.value.details() or "")
