"""A client's unary calls, sent over one ``Multiplex`` stream.

Each unary RPC costs grpc.aio several hundred microseconds of CPU on both ends; a message on an open
stream costs about a quarter of that, and one message carries every call ready to go. So
``Client.service`` sends its calls on one stream, opened on first use and again after it breaks, and
they behave as the RPCs would: the same responses, the same ``grpc.aio.AioRpcError`` with the same
status codes, deadlines and cancellation.

A call goes as its own RPC instead when the stream cannot carry it: a request over 64 KB (the
server's message limit applies to a whole stream message, and one refused would end the stream for
every call on it), a call with an option only an RPC has (``wait_for_ready``, ``metadata``,
``credentials``, ``compression``), or a server without ``Multiplex``.
"""

from __future__ import annotations

import asyncio
import itertools
import logging
from collections import deque
from collections.abc import Callable
from typing import Any

import grpc
from grpc.aio import AioRpcError, Metadata

from wf.v1 import service_pb2

log = logging.getLogger(__name__)

# Requests of more bytes go as their own RPC (see the module's docstring).
MAX_MULTIPLEXED_REQUEST_BYTES = 64 * 1024
# The bytes of requests one stream message carries at most (beyond its first request), far under the
# server's message limit (4 MB by default), which a message of many calls must not reach.
MAX_MESSAGE_REQUEST_BYTES = 1024 * 1024


class _NotServed(Exception):
    """The server has no Multiplex method: send the call as its own RPC."""


def _error(code: grpc.StatusCode, details: str, metadata: Metadata | None = None) -> AioRpcError:
    return AioRpcError(code, metadata or Metadata(), Metadata(), details)


def _being_cancelled() -> bool:
    task = asyncio.current_task()
    return task is not None and task.cancelling() > 0


class _Stream:
    """One open ``Multiplex`` stream: the calls waiting to be sent on it, its writer and its reader."""

    def __init__(self, call: Any) -> None:
        self.call = call
        self.outbox: deque[service_pb2.MultiplexCall] = deque()
        self.ready = asyncio.Event()
        self.tasks: list[asyncio.Task[None]] = []

    def send(self, call: service_pb2.MultiplexCall) -> None:
        self.outbox.append(call)
        self.ready.set()

    def next_message(self) -> service_pb2.MultiplexRequest:
        """The calls waiting, as many as one message carries (see MAX_MESSAGE_REQUEST_BYTES)."""
        outbox = self.outbox
        calls = [outbox.popleft()]
        size = len(calls[0].request)
        while outbox and size + len(outbox[0].request) <= MAX_MESSAGE_REQUEST_BYTES:
            size += len(outbox[0].request)
            calls.append(outbox.popleft())
        if outbox:
            self.ready.set()  # the rest go in the next message
        return service_pb2.MultiplexRequest(calls=calls)


class Multiplexer:
    """A channel's ``Multiplex`` stream and the calls in flight on it.

    Calls go to the stream's outbox and one writer sends whatever the outbox holds as one message, so
    calls made together cost one write; one reader hands each answer to its call. When the stream
    breaks, every call on it fails as an RPC would on a broken connection (UNAVAILABLE, which
    ``Client.call`` retries), and the next call opens a new stream.
    """

    def __init__(self, channel: grpc.aio.Channel) -> None:
        self._open = channel.stream_stream(
            "/wf.v1.WorkflowService/Multiplex",
            request_serializer=service_pb2.MultiplexRequest.SerializeToString,
            response_deserializer=service_pb2.MultiplexResponse.FromString,
        )
        self._stream: _Stream | None = None
        self._pending: dict[int, asyncio.Future[service_pb2.MultiplexReply]] = {}
        self._ids = itertools.count(1)
        # Set once the server answers UNIMPLEMENTED: every call goes as its own RPC from then on.
        self.unsupported = False
        self._closed = False

    async def call(self, method: str, request_bytes: bytes, timeout: float | None) -> service_pb2.MultiplexReply:
        """Send one call and wait for its answer; raises AioRpcError as the RPC would, or _NotServed."""
        if self._closed:
            raise _error(grpc.StatusCode.CANCELLED, "the client is closed")
        loop = asyncio.get_running_loop()
        stream = self._stream or self._start(loop)
        call_id = next(self._ids)
        future: asyncio.Future[service_pb2.MultiplexReply] = loop.create_future()
        self._pending[call_id] = future
        call = service_pb2.MultiplexCall(id=call_id, method=method, request=request_bytes)
        timer = None
        if timeout is not None:
            whole = int(timeout)
            call.timeout.seconds = whole
            call.timeout.nanos = int((timeout - whole) * 1e9)
            timer = loop.call_later(timeout, self._expire, call_id, future)
        stream.send(call)
        try:
            return await future
        except asyncio.CancelledError:
            # The caller was cancelled (which cancelled the future): stop the call in the server, as
            # a cancelled RPC would.
            if future.cancelled() and self._stream is stream:
                stream.send(service_pb2.MultiplexCall(id=call_id, cancel=True))
            raise
        finally:
            self._pending.pop(call_id, None)
            if timer is not None:
                timer.cancel()

    def _start(self, loop: asyncio.AbstractEventLoop) -> _Stream:
        stream = _Stream(self._open())
        self._stream = stream
        stream.tasks = [
            loop.create_task(self._write(stream), name="wf-multiplex-writer"),
            loop.create_task(self._read(stream), name="wf-multiplex-reader"),
        ]
        return stream

    def _expire(self, call_id: int, future: asyncio.Future[service_pb2.MultiplexReply]) -> None:
        if future.done():
            return
        future.set_exception(_error(grpc.StatusCode.DEADLINE_EXCEEDED, "Deadline Exceeded"))
        if self._stream is not None:
            self._stream.send(service_pb2.MultiplexCall(id=call_id, cancel=True))

    async def _write(self, stream: _Stream) -> None:
        error: Exception | None = None
        try:
            while True:
                await stream.ready.wait()
                stream.ready.clear()
                if stream.outbox:
                    await stream.call.write(stream.next_message())
        except AioRpcError as exc:
            error = self._classify(exc, answered=False)
        except asyncio.CancelledError:
            # grpc.aio raises CancelledError from a write to a stream cancelled already (it broke,
            # or the client closed); only a cancellation of this task itself goes on up.
            if _being_cancelled():
                raise
        except (asyncio.InvalidStateError, grpc.aio.UsageError):
            pass
        finally:
            self._stream_failed(stream, error or self._ended())

    async def _read(self, stream: _Stream) -> None:
        answered = False
        error: Exception | None = None
        try:
            while True:
                response = await stream.call.read()
                if response is grpc.aio.EOF:
                    break
                answered = True
                for reply in response.replies:
                    future = self._pending.get(reply.id)
                    if future is not None and not future.done():
                        future.set_result(reply)
        except AioRpcError as exc:
            error = self._classify(exc, answered)
        except asyncio.CancelledError:
            if _being_cancelled():
                raise
        finally:
            self._stream_failed(stream, error or self._ended())

    def _ended(self) -> AioRpcError:
        """The error of a call on a stream that ended under it."""
        if self._closed:
            return _error(grpc.StatusCode.CANCELLED, "the client is closed")
        return _error(grpc.StatusCode.UNAVAILABLE, "the stream to the server ended")

    def _classify(self, exc: AioRpcError, answered: bool) -> Exception:
        if exc.code() == grpc.StatusCode.UNIMPLEMENTED and not answered:
            # A server without Multiplex: its calls, and all later ones, go as their own RPCs.
            self.unsupported = True
            return _NotServed()
        return exc

    def _stream_failed(self, stream: _Stream, error: Exception) -> None:
        """Fail every call waiting on ``stream`` (once); the next call opens a new stream."""
        if self._stream is not stream:
            return
        self._stream = None
        for future in self._pending.values():
            if not future.done():
                future.set_exception(error)
        stream.call.cancel()
        current = asyncio.current_task()
        for task in stream.tasks:
            if task is not current:
                task.cancel()

    async def close(self) -> None:
        self._closed = True
        stream, self._stream = self._stream, None
        if stream is not None:
            for future in self._pending.values():
                if not future.done():
                    future.set_exception(self._ended())
            stream.call.cancel()
            for task in stream.tasks:
                task.cancel()
            await asyncio.gather(*stream.tasks, return_exceptions=True)


class MultiplexedMethod:
    """A stub's unary method whose calls go over the client's stream (see the module's docstring)."""

    def __init__(self, mux: Multiplexer, name: str, response_type: Any, unary: Callable[..., Any]) -> None:
        self._mux = mux
        self._name = name
        self._response_type = response_type
        self._unary = unary

    def __repr__(self) -> str:
        return f"/wf.v1.WorkflowService/{self._name}"

    async def __call__(self, request: Any, *, timeout: float | None = None, **kwargs: Any) -> Any:
        mux = self._mux
        if mux.unsupported or any(kwargs.values()):
            # A call option (wait_for_ready, metadata, credentials, compression) only an RPC has.
            return await self._unary(request, timeout=timeout, **kwargs)
        data = request.SerializeToString()
        if len(data) > MAX_MULTIPLEXED_REQUEST_BYTES:
            return await self._unary(request, timeout=timeout, **kwargs)
        try:
            reply = await mux.call(self._name, data, timeout)
        except _NotServed:
            return await self._unary(request, timeout=timeout, **kwargs)
        if reply.code:
            code = _CODES.get(reply.code, grpc.StatusCode.UNKNOWN)
            raise _error(code, reply.message, Metadata(*reply.metadata.items()))
        return self._response_type.FromString(reply.response)


# StatusCode members by their numeric value.
_CODES = {code.value[0]: code for code in grpc.StatusCode}


class MultiplexedService:
    """``Client.service``: the WorkflowService stub, with its unary calls sent over one stream."""

    def __init__(self, channel: grpc.aio.Channel, stub: Any) -> None:
        self._mux = Multiplexer(channel)
        self.Multiplex = stub.Multiplex
        for m in service_pb2.DESCRIPTOR.services_by_name["WorkflowService"].methods:
            if m.client_streaming or m.server_streaming:
                continue
            response_type = getattr(service_pb2, m.output_type.name)
            setattr(self, m.name, MultiplexedMethod(self._mux, m.name, response_type, getattr(stub, m.name)))

    async def close(self) -> None:
        await self._mux.close()
