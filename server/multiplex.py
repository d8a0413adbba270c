"""Many unary calls over one ``Multiplex`` stream: the call pipeline's second transport.

grpc.aio spends several hundred microseconds of CPU on each unary RPC, on the server and on the
caller, more than the work of a workflow step itself. A message on an open stream costs about a
quarter of that, and one message carries as many calls (or answers) as are ready. So a worker or
client sends its calls on one stream, and each runs through the very pipeline its own RPC would
(``server/pipeline.py``): the same validation, authorization, spans, metrics, handler and statuses.
This module only does what is the transport's own: it decodes each call, builds its
:class:`~wf.server.pipeline.Call` (with the stream's metadata), runs the calls concurrently, and
sends their answers as they finish, several to a message.

A call ends like its RPC would: it is cancelled when the caller cancels it (a ``cancel`` message),
when its deadline passes, or when the stream ends. While the server stops, new calls are refused with
UNAVAILABLE, which callers retry, so a stopping server takes no new work.

What one stream may hold is bounded, so a client cannot take the server's memory by calling without
reading: answers waiting to be sent may hold at most ``max_stream_unsent_bytes`` (the first goes
whatever its size); past it the stream ends with RESOURCE_EXHAUSTED naming the setting, its calls are
cancelled and its answers dropped. At most ``max_stream_polls`` long polls wait on one stream; more
are refused with RESOURCE_EXHAUSTED. At most ``max_stream_calls`` calls run at once: past it the
stream is not read until one ends, so HTTP/2 flow control makes the client wait.

A request or stream message that does not parse is refused with INVALID_ARGUMENT: the call alone, or
the whole stream when its own message is corrupt.
"""

from __future__ import annotations

import asyncio
import functools
import logging
import time
from collections import deque
from collections.abc import AsyncIterator
from typing import Any

import grpc

from wf.history.limits import Limits
from wf.server.pipeline import MULTIPLEX, Call, CallError, Pipeline, Undecodable, undecodable
from wf.v1 import service_pb2

log = logging.getLogger(__name__)

# The bytes of answers one stream message carries at most (beyond its first answer, which goes
# whatever its size): a caller's own limit on the messages it receives (gRPC's default is 4 MB)
# applies to the whole message.
MAX_MESSAGE_REPLY_BYTES = 1024 * 1024


# The calls that wait for something else to happen (a task, a new event), counted against
# max_stream_polls; a history read waits only when it asks to (wait_new_event).
_POLLS = frozenset({"PollWorkflowTaskQueue", "PollActivityTaskQueue"})


def is_poll(method: str, request: Any) -> bool:
    """Whether a call of ``method`` with ``request`` waits for something else to happen (a long poll)."""
    return method in _POLLS or (method == "GetWorkflowExecutionHistory" and request.wait_new_event)


def _size(reply: service_pb2.MultiplexReply) -> int:
    """The bytes an answer holds while it waits (its response and message; the rest is small)."""
    return len(reply.response) + len(reply.message)


def _reply(
    call_id: int, code: grpc.StatusCode, message: str, metadata: dict[str, str] | None = None
) -> service_pb2.MultiplexReply:
    return service_pb2.MultiplexReply(id=call_id, code=code.value[0], message=message, metadata=metadata)


class Multiplexer:
    """Serves one ``Multiplex`` stream.

    Calls run as tasks of their own; their answers go to an outbox, and one writer sends whatever the
    outbox holds as one message, so answers ready together cost one write.
    """

    def __init__(
        self, pipeline: Pipeline, context: grpc.aio.ServicerContext[Any, Any], limits: Limits | None = None
    ) -> None:
        self._limits = limits or Limits()
        self._methods = pipeline.methods
        self._run = pipeline.run
        self._context = context
        # Every call on the stream carries the metadata the stream was opened with (a channel's
        # credentials, say): the calls' own Call.metadata, shared, not copied per call.
        self._metadata = context.invocation_metadata() or ()
        # The stream's connection: every call on it comes from there, with its credentials.
        self._peer = context.peer() or ""
        self._auth_context = context.auth_context() or {}
        self._running: dict[int, asyncio.Task[None]] = {}
        self._outbox: deque[service_pb2.MultiplexReply] = deque()
        self._ready = asyncio.Event()
        # Set once every call is answered: the writer sends what is left and ends.
        self._closing = False
        # Set by drain() when the server stops: new calls are refused, and the reading stops once no
        # call runs. The task reading the stream while it reads; whether drain() cancelled it.
        self._draining = False
        self._serving: asyncio.Task[None] | None = None
        self._stop_sent = False
        # Bytes of the answers not yet handed to gRPC: those in the outbox and the message being
        # written (a client that does not read leaves the write waiting on HTTP/2 flow control).
        self.unsent_bytes = 0
        self._polls = 0
        # Set while fewer than max_stream_calls calls run: the reading of the stream waits for it.
        self._room = asyncio.Event()
        self._room.set()
        # Set (the status message) when the stream ends for holding too much: see _exhaust().
        self._exhausted: str | None = None

    async def serve(self, requests: AsyncIterator[service_pb2.MultiplexRequest]) -> None:
        self._serving = asyncio.current_task()
        writer = asyncio.create_task(self._send())
        try:
            try:
                async for msg in requests:
                    if isinstance(msg, Undecodable):
                        # Which calls the message carried is unknown, so none can be answered alone.
                        await self._context.abort(
                            grpc.StatusCode.INVALID_ARGUMENT, f"a message on the Multiplex stream: {msg.details}"
                        )
                    for call in msg.calls:
                        self._take(call)
                    if len(self._running) >= self._limits.max_stream_calls:
                        self._room.clear()
                        await self._room.wait()
            except asyncio.CancelledError:
                # drain() stops the reading (and only that: the server's own cancellation goes on).
                task = self._serving
                if not self._stop_sent or task is None or task.cancelling() != 1:
                    raise
                task.uncancel()
            self._serving = None
            # The caller sent all its calls, or the server stops: answer those still running, then
            # end the stream; a caller whose calls were not read sends them again on a new stream.
            while self._running and self._exhausted is None:
                await asyncio.gather(*self._running.values(), return_exceptions=True)
            self._closing = True
            self._ready.set()
            # The writer ends once what it writes is written. An exhausted stream waits for that too:
            # gRPC takes no status while a write is pending, so a client that never reads holds that
            # one message (a few MB at most) and its stream open until it reads or leaves.
            await writer
            if self._exhausted is not None:
                await self._context.abort(grpc.StatusCode.RESOURCE_EXHAUSTED, self._exhausted)
        finally:
            writer.cancel()
            for task in list(self._running.values()):
                task.cancel()

    def _take(self, call: service_pb2.MultiplexCall) -> None:
        if self._exhausted is not None:
            return  # the stream ends: the rest of the message it was reading is not served
        if call.cancel:
            task = self._running.get(call.id)
            if task is not None:
                task.cancel()
        elif call.id in self._running:
            self._answer(_reply(call.id, grpc.StatusCode.INVALID_ARGUMENT,
                                f"call id {call.id} is already in flight on this stream"))
        else:
            task = asyncio.create_task(self._call(call))
            self._running[call.id] = task
            task.add_done_callback(functools.partial(self._finished, call.id))

    def _finished(self, call_id: int, task: asyncio.Task[None]) -> None:
        if self._running.get(call_id) is task:
            del self._running[call_id]
            if len(self._running) < self._limits.max_stream_calls:
                self._room.set()
            if self._draining and not self._running:
                self._stop_reading()

    def drain(self) -> None:
        """The server stops: refuse new calls (UNAVAILABLE) and end the stream as soon as no call
        runs on it (the caller then opens a new one, on a server that goes on)."""
        self._draining = True
        if not self._running:
            self._stop_reading()

    def _stop_reading(self) -> None:
        if self._serving is not None and not self._stop_sent:
            self._stop_sent = True
            self._serving.cancel()

    async def _call(self, msg: service_pb2.MultiplexCall) -> None:
        method = self._methods.get(msg.method)
        if method is None:
            self._answer(_reply(msg.id, grpc.StatusCode.UNIMPLEMENTED,
                                f"no unary method {msg.method!r} in wf.v1.WorkflowService"))
            return
        if self._draining:
            self._answer(_reply(msg.id, grpc.StatusCode.UNAVAILABLE, "the server is stopping"))
            return
        try:
            request = method.request_type.FromString(msg.request)
        except Exception as exc:  # DecodeError, and whatever else a hostile input makes protobuf raise
            self._answer(_reply(msg.id, grpc.StatusCode.INVALID_ARGUMENT, undecodable(method.request_type, exc)))
            return
        timeout = msg.timeout.seconds + msg.timeout.nanos / 1e9 if msg.HasField("timeout") else None
        if is_poll(msg.method, request):
            if self._polls >= self._limits.max_stream_polls:
                self._answer(_reply(msg.id, grpc.StatusCode.RESOURCE_EXHAUSTED,
                                    f"{self._polls:,} polls already wait on this stream, the "
                                    f"{self._limits.describe('max_stream_polls')}"))
                return
            self._polls += 1
            try:
                await self._run_call(msg, request, timeout)
            finally:
                self._polls -= 1
        else:
            await self._run_call(msg, request, timeout)

    async def _run_call(self, msg: service_pb2.MultiplexCall, request: Any, timeout: float | None) -> None:
        call = Call(
            msg.method, request, self._metadata, None if timeout is None else time.monotonic() + timeout, MULTIPLEX,
            peer=self._peer, auth_context=self._auth_context,
        )
        try:
            # gRPC core ends an RPC at its deadline; on the stream, the call's own timeout does.
            async with asyncio.timeout(timeout):
                response = await self._run(call)
        except CallError as exc:
            self._answer(_reply(msg.id, exc.code, exc.details, call.response_metadata))
        except TimeoutError:
            self._answer(_reply(msg.id, grpc.StatusCode.DEADLINE_EXCEEDED, "deadline exceeded"))
        else:
            self._answer(service_pb2.MultiplexReply(
                id=msg.id, response=response.SerializeToString(), metadata=call.response_metadata
            ))

    def _answer(self, reply: service_pb2.MultiplexReply) -> None:
        if self._exhausted is not None:
            return
        size = _size(reply)
        limit = self._limits.max_stream_unsent_bytes
        if self.unsent_bytes and self.unsent_bytes + size > limit:
            self._exhaust(size)
            return
        self.unsent_bytes += size
        self._outbox.append(reply)
        self._ready.set()

    def _exhaust(self, size: int) -> None:
        """The client does not read its answers as fast as it asks for them: end the stream.

        Waiting (by not reading more calls) would not bound memory, since the calls running go on
        answering; the stream ends instead, its calls are cancelled and its answers dropped, and the
        client sees RESOURCE_EXHAUSTED naming the setting. Other streams are not touched.
        """
        held = self.unsent_bytes
        self._exhausted = (
            f"the stream's answers waiting to be sent would hold {held + size:,} bytes, over the "
            f"{self._limits.describe('max_stream_unsent_bytes')}; read answers as they come"
        )
        log.warning("multiplex: a stream ended: its client does not read its answers (%s bytes unsent)", f"{held:,}")
        self._outbox.clear()
        self.unsent_bytes = 0
        current = asyncio.current_task()
        for task in self._running.values():
            if task is not current:
                task.cancel()
        self._stop_reading()
        self._ready.set()

    def _next_batch(self) -> tuple[list[service_pb2.MultiplexReply], int]:
        """The answers waiting, as many as one message carries (see MAX_MESSAGE_REPLY_BYTES), and
        their size as counted in ``unsent_bytes``."""
        outbox = self._outbox
        batch = [outbox.popleft()]
        size = len(batch[0].response)
        unsent = _size(batch[0])
        while outbox and size + len(outbox[0].response) <= MAX_MESSAGE_REPLY_BYTES:
            size += len(outbox[0].response)
            unsent += _size(outbox[0])
            batch.append(outbox.popleft())
        if outbox:
            self._ready.set()  # the rest go in the next message
        return batch, unsent

    async def _send(self) -> None:
        while True:
            await self._ready.wait()
            self._ready.clear()
            if self._exhausted is not None:
                return
            if self._outbox:
                batch, unsent = self._next_batch()
                try:
                    await self._context.write(service_pb2.MultiplexResponse(replies=batch))
                except Exception as exc:
                    # The stream is gone (the caller left, or the server stops); serve() ends with it.
                    log.debug("multiplex: %d answers not sent: %r", len(batch), exc)
                    return
                if self._exhausted is not None:
                    return
                self.unsent_bytes -= unsent
            if self._closing and not self._outbox:
                return
