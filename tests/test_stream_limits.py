"""What one client's Multiplex stream may hold: a client cannot take the server's memory, or slow
other clients, by calling without reading its answers, or by leaving polls waiting without end."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import AsyncIterator

import grpc
import psutil
import pytest

from tests.helpers import (
    assert_eventually,
    new_id,
    start_request,
    waiting_polls,
    wf_server_process,
)
from wf.history.limits import Limits
from wf.history.tasks import TaskKind
from wf.server.app import Server
from wf.server.config import ServerConfig
from wf.v1 import service_pb2
from worker_sdk import Client

S = service_pb2
NS = "default"
MB = 1024 * 1024


def _history_call(call_id: int, workflow_id: str) -> S.MultiplexCall:
    request = S.GetWorkflowExecutionHistoryRequest(namespace=NS, execution={"workflow_id": workflow_id})
    return S.MultiplexCall(id=call_id, method="GetWorkflowExecutionHistory", request=request.SerializeToString())


def _open_stream(channel: grpc.aio.Channel) -> grpc.aio.StreamStreamCall:
    return channel.stream_stream(
        "/wf.v1.WorkflowService/Multiplex",
        request_serializer=S.MultiplexRequest.SerializeToString,
        response_deserializer=S.MultiplexResponse.FromString,
    )()


async def _call_without_reading(stream: grpc.aio.StreamStreamCall, calls: list[S.MultiplexCall]) -> None:
    """Send ``calls`` on a Multiplex stream in one message, and read no answer.

    One message, so the write is done before the server can end the stream: a write after that fails
    in the client, which then reports its own INTERNAL in place of the server's status.
    """
    await stream.write(S.MultiplexRequest(calls=calls))


async def _drain(stream: grpc.aio.StreamStreamCall) -> tuple[int, grpc.aio.AioRpcError]:
    """Read what the server sent on ``stream`` after all: the answers, and the error it ended with."""
    answered = 0
    try:
        while True:
            response = await stream.read()
            if response is grpc.aio.EOF:
                raise AssertionError("the stream ended without an error")
            answered += len(response.replies)
    except grpc.aio.AioRpcError as exc:
        return answered, exc


async def test_a_client_that_never_reads_cannot_take_the_servers_memory(db_url: str, task_queue: str) -> None:
    """300 answers of 1.5 MB each (450 MB) asked for on one stream that is never read: the server
    ends the stream at its default cap of 16 MB unsent, its memory stays within a small bound of
    where it was, and another client's calls answer promptly all the while."""
    async with wf_server_process(db_url) as proc:
        server = psutil.Process(proc.popen.pid)
        client = await Client.connect(proc.address)
        try:
            wid = new_id()
            start = start_request(wid, task_queue, input=b"x" * (3 * MB // 2))
            await client.service.StartWorkflowExecution(start, timeout=30)
            # The server's memory once it has read the run's history and answered it.
            read = S.GetWorkflowExecutionHistoryRequest(namespace=NS, execution={"workflow_id": wid})
            for _ in range(3):
                history = await client.service.GetWorkflowExecutionHistory(read, timeout=30)
                assert history.ByteSize() > MB
            before = server.memory_info().rss
            peak = before
            latencies: list[float] = []

            async def bystander() -> None:
                describe = S.DescribeWorkflowExecutionRequest(namespace=NS, execution={"workflow_id": wid})
                while True:
                    began = time.monotonic()
                    await client.service.DescribeWorkflowExecution(describe, timeout=30)
                    latencies.append(time.monotonic() - began)

            async def sample() -> None:
                nonlocal peak
                while True:
                    peak = max(peak, server.memory_info().rss)
                    await asyncio.sleep(0.02)

            tasks = [asyncio.create_task(bystander()), asyncio.create_task(sample())]
            try:
                async with grpc.aio.insecure_channel(proc.address) as channel:
                    stream = _open_stream(channel)
                    await _call_without_reading(stream, [_history_call(i, wid) for i in range(1, 301)])
                    # The server ends the stream: its status reaches the client behind the answers
                    # sent before, which the client has not read, so the server's log tells first.
                    await assert_eventually(lambda: "a stream ended" in proc.output(), timeout=60)
                    answered, error = await _drain(stream)
                    assert error.code() == grpc.StatusCode.RESOURCE_EXHAUSTED, error
                    assert "--max-stream-unsent-bytes" in (error.details() or ""), error.details()
                    assert answered < 300
                # After it, the server still answers as before.
                latencies.clear()
                while len(latencies) < 5:
                    await asyncio.sleep(0.05)
            finally:
                for task in tasks:
                    task.cancel()
                await asyncio.gather(*tasks, return_exceptions=True)
            grown = (peak - before) / MB
            assert grown < 120, f"the server's memory grew by {grown:.0f} MB"
            assert max(latencies) < 1.0, latencies
        finally:
            await client.close()


@pytest.fixture
async def small_server(db_url: str) -> AsyncIterator[Server]:
    """A server whose streams hold at most 64 KB of answers unsent and 3 waiting polls."""
    limits = Limits(max_stream_unsent_bytes=64 * 1024, max_stream_polls=3)
    s = Server(ServerConfig(db_url=db_url, port=0, limits=limits))
    await s.start()
    yield s
    await s.stop()


def _poll_call(call_id: int, task_queue: str, kind: str = "PollActivityTaskQueue") -> S.MultiplexCall:
    request = getattr(S, f"{kind}Request")(namespace=NS, task_queue={"name": task_queue})
    return S.MultiplexCall(id=call_id, method=kind, request=request.SerializeToString())


async def test_past_its_cap_a_stream_ends_and_its_calls_are_cancelled(
    small_server: Server, task_queue: str, caplog: pytest.LogCaptureFixture
) -> None:
    async with await Client.connect(small_server.address) as client:
        wid = new_id()
        await client.service.StartWorkflowExecution(start_request(wid, task_queue, input=b"x" * 40_000), timeout=10)
        async with grpc.aio.insecure_channel(small_server.address) as channel:
            stream = _open_stream(channel)
            # A poll that waits, then answers of 40 KB each that are never read: far more than gRPC
            # takes before the client's flow control window is full, so the stream ends while a
            # write waits on it.
            await _call_without_reading(stream, [_poll_call(1, task_queue)])
            await assert_eventually(lambda: waiting_polls(small_server, task_queue, TaskKind.ACTIVITY) == 1)
            await _call_without_reading(stream, [_history_call(i, wid) for i in range(2, 300)])
            await assert_eventually(lambda: "a stream ended" in caplog.text)
            # The waiting poll was cancelled with its stream: it takes no task.
            await assert_eventually(lambda: waiting_polls(small_server, task_queue, TaskKind.ACTIVITY) == 0)
            answered, error = await _drain(stream)
        assert error.code() == grpc.StatusCode.RESOURCE_EXHAUSTED
        assert "max stream unsent bytes of 65,536" in (error.details() or "")
        assert "--max-stream-unsent-bytes" in (error.details() or "")
        assert answered < 298
        # Ended cleanly: gRPC took the status (no error of its own in the log).
        assert not [r.getMessage() for r in caplog.records if r.levelno >= logging.ERROR]
        # The client's own stream on the same server goes on.
        assert (await client.service.GetSystemInfo(S.GetSystemInfoRequest(), timeout=5)).server_version


async def test_waiting_polls_per_stream_are_capped(small_server: Server, task_queue: str) -> None:
    async with grpc.aio.insecure_channel(small_server.address) as channel:
        stream = _open_stream(channel)
        await stream.write(S.MultiplexRequest(calls=[
            _poll_call(1, task_queue), _poll_call(2, task_queue, "PollWorkflowTaskQueue"), _poll_call(3, task_queue)
        ]))
        await assert_eventually(lambda: waiting_polls(small_server, task_queue, TaskKind.ACTIVITY) == 2)
        await stream.write(S.MultiplexRequest(calls=[_poll_call(4, task_queue)]))
        refused = (await stream.read()).replies[0]
        assert refused.id == 4 and refused.code == grpc.StatusCode.RESOURCE_EXHAUSTED.value[0]
        assert "3 polls already wait on this stream" in refused.message
        assert "--max-stream-polls" in refused.message
        # Other calls on the stream are not polls, and go on.
        await stream.write(S.MultiplexRequest(calls=[S.MultiplexCall(id=5, method="GetSystemInfo")]))
        assert (await stream.read()).replies[0].id == 5
        # Once a poll ends, another may wait.
        await stream.write(S.MultiplexRequest(calls=[S.MultiplexCall(id=1, cancel=True), _poll_call(6, task_queue)]))
        await assert_eventually(lambda: waiting_polls(small_server, task_queue, TaskKind.ACTIVITY) == 2)
        # A history read that does not wait is no poll; one that waits is.
        wid = new_id()
        await stream.write(S.MultiplexRequest(calls=[_history_call(7, wid)]))
        assert (await stream.read()).replies[0].code == grpc.StatusCode.NOT_FOUND.value[0]
        await stream.done_writing()


async def test_past_its_calls_in_flight_a_stream_is_read_only_as_calls_end(db_url: str, task_queue: str) -> None:
    s = Server(ServerConfig(db_url=db_url, port=0, limits=Limits(max_stream_calls=3)))
    await s.start()
    try:
        async with grpc.aio.insecure_channel(s.address) as channel:
            stream = _open_stream(channel)
            # Three queries of a run no worker serves: each waits until its 1 s timeout.
            wid = new_id()
            async with await Client.connect(s.address) as client:
                await client.service.StartWorkflowExecution(start_request(wid, task_queue), timeout=10)
            query = S.QueryWorkflowRequest(namespace=NS, execution={"workflow_id": wid}, query={"query_type": "q"})
            waiting = [
                S.MultiplexCall(id=i, method="QueryWorkflow", request=query.SerializeToString(), timeout={"seconds": 1})
                for i in (1, 2, 3)
            ]
            await stream.write(S.MultiplexRequest(calls=waiting))
            await stream.write(S.MultiplexRequest(calls=[S.MultiplexCall(id=4, method="GetSystemInfo")]))
            order = []
            while len(order) < 4:
                order += [(r.id, r.code) for r in (await stream.read()).replies]
            # The fourth call was read only once a query had ended: without the cap it would have
            # been answered at once, long before any query's timeout.
            assert order[0] != (4, 0) and (4, 0) in order, order
            assert {code for i, code in order if i != 4} == {grpc.StatusCode.DEADLINE_EXCEEDED.value[0]}
            await stream.done_writing()
    finally:
        await s.stop()
