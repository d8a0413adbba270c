"""Many unary calls over one ``Multiplex`` stream.

grpc.aio spends several hundred microseconds of CPU on each unary RPC, on the server and on the
caller, more than the work of a workflow step itself. A message on an open stream costs about a
quarter of that, and one message carries as many calls (or answers) as are ready. So a worker or
client sends its calls on one stream, and each is run by the very handler its own RPC would reach:
the same validation, the same statuses, the same spans. Calls run concurrently and are answered as
they finish.

A call ends like its RPC would: it is cancelled when the caller cancels it (a ``cancel`` message),
when its deadline passes, or when the stream ends. While the server stops, new calls are refused with
UNAVAILABLE, which callers retry, so a stopping server takes no new work.
"""

from __future__ import annotations

import asyncio
import functools
import logging
import time
from collections import deque
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import grpc

from wf.v1 import service_pb2

log = logging.getLogger(__name__)

Handler = Callable[[Any, Any], Awaitable[Any]]
# The answers one stream message carries at most (beyond its first): a caller's own limit on the
# messages it receives (gRPC's default is 4 MB) applies to the whole message.
MAX_MESSAGE_REPLIES = 1024 * 1024


class CallContext:
    """The part of ``grpc.aio.ServicerContext`` the frontend's handlers use, for one multiplexed call."""

    __slots__ = ("_deadline", "code", "details", "metadata")

    def __init__(self, deadline: float | None) -> None:
        self._deadline = deadline
        self.code = grpc.StatusCode.OK
        self.details = ""
        self.metadata: dict[str, str] = {}

    def time_remaining(self) -> float | None:
        return None if self._deadline is None else max(0.0, self._deadline - time.monotonic())

    async def send_initial_metadata(self, metadata: Any) -> None:
        self.metadata.update((str(k), str(v)) for k, v in metadata)

    async def abort(self, code: grpc.StatusCode, details: str = "", trailing_metadata: Any = ()) -> None:
        self.code = code
        self.details = details
        raise grpc.aio.AbortError()


def unary_methods(servicer: Any) -> dict[str, tuple[Handler, Any]]:
    """The servicer's unary methods by name, each with its request message class."""
    methods = {}
    for m in service_pb2.DESCRIPTOR.services_by_name["WorkflowService"].methods:
        if m.client_streaming or m.server_streaming:
            continue
        methods[m.name] = (getattr(servicer, m.name), getattr(service_pb2, m.input_type.name))
    return methods


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
        self,
        methods: dict[str, tuple[Handler, Any]],
        context: grpc.aio.ServicerContext[Any, Any],
    ) -> None:
        self._methods = methods
        self._context = context
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

    async def serve(self, requests: AsyncIterator[service_pb2.MultiplexRequest]) -> None:
        self._serving = asyncio.current_task()
        writer = asyncio.create_task(self._send())
        try:
            try:
                async for msg in requests:
                    for call in msg.calls:
                        self._take(call)
            except asyncio.CancelledError:
                # drain() stops the reading (and only that: the server's own cancellation goes on).
                task = self._serving
                if not self._stop_sent or task is None or task.cancelling() != 1:
                    raise
                task.uncancel()
            self._serving = None
            # The caller sent all its calls, or the server stops: answer those still running, then
            # end the stream; a caller whose calls were not read sends them again on a new stream.
            while self._running:
                await asyncio.gather(*self._running.values(), return_exceptions=True)
            self._closing = True
            self._ready.set()
            await writer
        finally:
            writer.cancel()
            for task in list(self._running.values()):
                task.cancel()

    def _take(self, call: service_pb2.MultiplexCall) -> None:
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

    async def _call(self, call: service_pb2.MultiplexCall) -> None:
        entry = self._methods.get(call.method)
        if entry is None:
            self._answer(_reply(call.id, grpc.StatusCode.UNIMPLEMENTED,
                                f"no unary method {call.method!r} in wf.v1.WorkflowService"))
            return
        if self._draining:
            self._answer(_reply(call.id, grpc.StatusCode.UNAVAILABLE, "the server is stopping"))
            return
        handler, request_type = entry
        try:
            request = request_type.FromString(call.request)
        except Exception:
            self._answer(_reply(call.id, grpc.StatusCode.INVALID_ARGUMENT,
                                f"the request is not a valid {request_type.__name__}"))
            return
        timeout = call.timeout.seconds + call.timeout.nanos / 1e9 if call.HasField("timeout") else None
        context = CallContext(None if timeout is None else time.monotonic() + timeout)
        try:
            async with asyncio.timeout(timeout):
                response = await handler(request, context)
        except grpc.aio.AbortError:
            self._answer(_reply(call.id, context.code, context.details, context.metadata))
        except TimeoutError:
            self._answer(_reply(call.id, grpc.StatusCode.DEADLINE_EXCEEDED, "deadline exceeded"))
        except Exception as exc:  # the handlers map their errors themselves; this is a last resort
            log.exception("%s failed", call.method)
            self._answer(_reply(call.id, grpc.StatusCode.INTERNAL,
                                f"internal error ({type(exc).__name__}); see the server log"))
        else:
            self._answer(service_pb2.MultiplexReply(
                id=call.id, response=response.SerializeToString(), metadata=context.metadata
            ))

    def _answer(self, reply: service_pb2.MultiplexReply) -> None:
        self._outbox.append(reply)
        self._ready.set()

    def _next_batch(self) -> list[service_pb2.MultiplexReply]:
        """The answers waiting, as many as one message carries (see MAX_MESSAGE_REPLIES)."""
        outbox = self._outbox
        batch = [outbox.popleft()]
        size = len(batch[0].response)
        while outbox and size + len(outbox[0].response) <= MAX_MESSAGE_REPLIES:
            size += len(outbox[0].response)
            batch.append(outbox.popleft())
        if outbox:
            self._ready.set()  # the rest go in the next message
        return batch

    async def _send(self) -> None:
        while True:
            await self._ready.wait()
            self._ready.clear()
            if self._outbox:
                batch = self._next_batch()
                try:
                    await self._context.write(service_pb2.MultiplexResponse(replies=batch))
                except Exception as exc:
                    # The stream is gone (the caller left, or the server stops); serve() ends with it.
                    log.debug("multiplex: %d answers not sent: %r", len(batch), exc)
                    return
            if self._closing and not self._outbox:
                return
