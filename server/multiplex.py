"""Many unary calls over one ``Multiplex`` stream.

grpc.aio spends several hundred microseconds of CPU on each unary RPC, on the server and on the
caller, more than the work of a workflow step itself. A message on an open stream costs about a
quarter of that. So a worker or client sends its calls as ``MultiplexRequest`` messages on one stream,
and each is run by the very handler its own RPC would reach: the same validation, the same statuses,
the same spans. Calls run concurrently and are answered as they finish.

A call ends like its RPC would: it is cancelled when the caller cancels it (a ``cancel`` message),
when its deadline passes, or when the stream ends. While the server stops, new calls are refused with
UNAVAILABLE, which callers retry, so a stopping server takes no new work.
"""

from __future__ import annotations

import asyncio
import functools
import logging
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import grpc

from wf.v1 import service_pb2

log = logging.getLogger(__name__)

Handler = Callable[[Any, Any], Awaitable[Any]]


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


def _reply(call_id: int, code: grpc.StatusCode, message: str, metadata: dict[str, str] | None = None) -> Any:
    return service_pb2.MultiplexResponse(id=call_id, code=code.value[0], message=message, metadata=metadata)


class Multiplexer:
    """Serves one ``Multiplex`` stream."""

    def __init__(
        self,
        methods: dict[str, tuple[Handler, Any]],
        context: grpc.aio.ServicerContext[Any, Any],
        stopping: Callable[[], bool],
    ) -> None:
        self._methods = methods
        self._context = context
        self._stopping = stopping
        self._running: dict[int, asyncio.Task[None]] = {}
        self._write_lock = asyncio.Lock()

    async def serve(self, requests: AsyncIterator[service_pb2.MultiplexRequest]) -> None:
        try:
            async for msg in requests:
                if msg.cancel:
                    task = self._running.get(msg.id)
                    if task is not None:
                        task.cancel()
                    continue
                if msg.id in self._running:
                    await self._write(_reply(msg.id, grpc.StatusCode.INVALID_ARGUMENT,
                                             f"call id {msg.id} is already in flight on this stream"))
                    continue
                task = asyncio.create_task(self._call(msg))
                self._running[msg.id] = task
                task.add_done_callback(functools.partial(self._finished, msg.id))
            # The caller sent all its calls: answer those still running, then end the stream.
            if self._running:
                await asyncio.gather(*self._running.values(), return_exceptions=True)
        finally:
            for task in list(self._running.values()):
                task.cancel()

    def _finished(self, call_id: int, task: asyncio.Task[None]) -> None:
        if self._running.get(call_id) is task:
            del self._running[call_id]

    async def _call(self, msg: service_pb2.MultiplexRequest) -> None:
        entry = self._methods.get(msg.method)
        if entry is None:
            await self._write(_reply(msg.id, grpc.StatusCode.UNIMPLEMENTED,
                                     f"no unary method {msg.method!r} in wf.v1.WorkflowService"))
            return
        if self._stopping():
            await self._write(_reply(msg.id, grpc.StatusCode.UNAVAILABLE, "the server is stopping"))
            return
        handler, request_type = entry
        try:
            request = request_type.FromString(msg.request)
        except Exception:
            await self._write(_reply(msg.id, grpc.StatusCode.INVALID_ARGUMENT,
                                     f"the request is not a valid {request_type.__name__}"))
            return
        timeout = msg.timeout.seconds + msg.timeout.nanos / 1e9 if msg.HasField("timeout") else None
        context = CallContext(None if timeout is None else time.monotonic() + timeout)
        try:
            async with asyncio.timeout(timeout):
                response = await handler(request, context)
        except grpc.aio.AbortError:
            await self._write(_reply(msg.id, context.code, context.details, context.metadata))
            return
        except TimeoutError:
            await self._write(_reply(msg.id, grpc.StatusCode.DEADLINE_EXCEEDED, "deadline exceeded"))
            return
        except Exception as exc:  # the handlers map their errors themselves; this is a last resort
            log.exception("%s failed", msg.method)
            await self._write(_reply(msg.id, grpc.StatusCode.INTERNAL,
                                     f"internal error ({type(exc).__name__}); see the server log"))
            return
        await self._write(
            service_pb2.MultiplexResponse(id=msg.id, response=response.SerializeToString(), metadata=context.metadata)
        )

    async def _write(self, reply: service_pb2.MultiplexResponse) -> None:
        async with self._write_lock:
            try:
                await self._context.write(reply)
            except Exception as exc:
                # The stream is gone (the caller left or the server stops); serve() ends with it.
                log.debug("multiplex: answer %d not sent: %r", reply.id, exc)
