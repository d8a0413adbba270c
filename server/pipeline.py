"""One pipeline for every call to ``wf.v1.WorkflowService``, whichever transport carried it.

A call reaches the server as its own gRPC RPC or as a message on a ``Multiplex`` stream
(``server/multiplex.py``). Each transport decodes the request and builds a :class:`Call`; from there on
both run the same chain of interceptors, assembled once where the server is (``server/app.py``):

    decode (the transport)
    → map errors      every failure leaves the chain as one CallError (a gRPC status)
    → telemetry       the call's OpenTelemetry span and its duration metric
    → validate        the request's fields (``server/checks.py``)
    → namespace       the request's namespace is registered (:class:`NamespaceCheck`)
    → authorize       interceptors added at assembly: authentication, authorization, other checks
    → handler         the frontend's method (``server/frontend.py``)

Telemetry sits outside validation and authorization so that every call, refused ones too, is traced
and counted (an operator wants to see refused calls above all); validation comes before
authorization so a malformed request is refused before any credential is looked at.

Each transport then turns the outcome into its own shape: an RPC's response or status, a stream
reply. Deadlines and cancellation are asyncio's in both: the transport cancels the task running the
call when the caller gives up or its deadline passes (gRPC core does it for an RPC, the stream's
reader for a call on it), and :attr:`Call.deadline` tells handlers how long they may wait.
"""

from __future__ import annotations

import asyncio
import functools
import logging
import time
import uuid
from collections.abc import Awaitable, Callable, Collection, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, Final

import grpc
from opentelemetry import metrics, trace

from wf.history import errors
from wf.history.outage import DatabaseHealth
from wf.v1 import service_pb2

log = logging.getLogger(__name__)

SERVICE: Final = "wf.v1.WorkflowService"
# Call.transport: how the call arrived.
RPC: Final = "rpc"
MULTIPLEX: Final = "multiplex"

# Response metadata: the run a start found already running (with ALREADY_EXISTS), and the mark of a
# query whose handler in the worker failed (see _status_of).
RUN_ID_KEY: Final = "wf-run-id"
QUERY_FAILED_KEY: Final = "wf-query-failed"


@dataclass(slots=True, eq=False)
class Call:
    """One call of a WorkflowService method, as every stage of the pipeline sees it.

    Both transports build it; nothing in it is gRPC's servicer context, so whatever a stage does
    applies to a call on a Multiplex stream exactly as to an RPC.
    """

    method: str
    """The method's name, e.g. ``"StartWorkflowExecution"``."""
    request: Any
    """The decoded request message."""
    metadata: Collection[tuple[str, str | bytes]] = field(repr=False)
    """Incoming metadata: the RPC's, or that of the stream that carries the call. Not in the call's
    repr: it holds the caller's credentials (``authorization: Bearer wf_…``), which no log may show."""
    deadline: float | None
    """When the caller gives up, on ``time.monotonic()``'s clock; None for never."""
    transport: str
    """:data:`RPC` or :data:`MULTIPLEX`."""
    response_metadata: dict[str, str] | None = None
    """Metadata the answer carries (sent first, as gRPC initial metadata), e.g. ``wf-run-id``."""
    task: asyncio.Task[Any] | None = field(default_factory=asyncio.current_task)
    """The task running the call, which the transport cancels when the caller gives up."""
    peer: str = ""
    """Where the call came from, as gRPC names the peer (``ipv4:127.0.0.1:50412``)."""
    auth_context: Mapping[str, Iterable[bytes]] = field(default_factory=dict)
    """gRPC's authentication context of the connection (with mutual TLS: ``x509_subject``,
    ``x509_common_name``, ...); empty on a plaintext connection."""
    principal: Any = None
    """Who makes the call, once the authentication link of the pipeline has decided it."""

    def time_remaining(self) -> float | None:
        """Seconds until the caller's deadline (never negative), or None without one."""
        return None if self.deadline is None else max(0.0, self.deadline - time.monotonic())

    def cancelled(self) -> bool:
        """Whether the caller gave up (its deadline passed, it cancelled, or its stream ended)."""
        return self.task is not None and self.task.cancelling() > 0

    def header(self, key: str) -> str | bytes | None:
        """The value of incoming metadata ``key`` (lower case, as gRPC keeps keys), if sent."""
        for k, v in self.metadata:
            if k == key:
                return v
        return None

    def set_response_metadata(self, key: str, value: str) -> None:
        if self.response_metadata is None:
            self.response_metadata = {}
        self.response_metadata[key] = value


class Undecodable:
    """What a transport's deserializer gives for bytes that do not parse as the expected message
    (corrupt or truncated, invalid UTF-8 in a string field, nested too deep), instead of raising.

    A deserializer that raises makes grpc.aio answer UNKNOWN and log a traceback, for what is the
    caller's mistake; with this the transport answers INVALID_ARGUMENT, saying what was wrong.
    """

    __slots__ = ("details",)

    def __init__(self, details: str) -> None:
        self.details = details


def undecodable(message_type: Any, exc: Exception) -> str:
    """The message for bytes that are not a valid ``message_type``: its name and protobuf's reason."""
    reason = str(exc)
    # protobuf says "Error parsing message with type 'wf.v1.X': <reason>"; the type is named already.
    if reason.startswith("Error parsing message") and ": " in reason:
        reason = reason.split(": ", 1)[1]
    if "MaxDepth" in reason:
        # upb's own words ("Exceeded upb_DecodeOptions_MaxDepth") name its internals, not the request.
        reason = "it is nested more than 100 levels deep (each cause of a failure is one level)"
    elif "upb_" in reason:
        reason = "its bytes do not parse"
    name = message_type.DESCRIPTOR.full_name
    return f"the request is not a valid {name}" + (f": {reason}" if reason else "")


def decoder(message_type: Any) -> Callable[[bytes], Any]:
    """A deserializer for gRPC that never raises: the message, or :class:`Undecodable`."""
    parse = message_type.FromString

    def decode(data: bytes) -> Any:
        try:
            return parse(data)
        except Exception as exc:  # DecodeError, and whatever else a hostile input makes protobuf raise
            return Undecodable(undecodable(message_type, exc))

    return decode


class CallError(Exception):
    """How a call ends when it does not answer: a gRPC status and its message.

    Interceptors raise it to refuse a call (say PERMISSION_DENIED); the pipeline turns every other
    failure into one, so it is all a transport ever sees.
    """

    def __init__(self, code: grpc.StatusCode, details: str) -> None:
        super().__init__(details)
        self.code = code
        self.details = details


CallHandler = Callable[[Call], Awaitable[Any]]


class Interceptor:
    """One link of the pipeline, registered once when the server is assembled.

    ``intercept`` gets the :class:`Call` (one input: fields added to it later break no interceptor)
    and the rest of the chain; it may refuse the call (raise :class:`CallError` or a history error),
    pass it on, or wrap what follows. The default passes it on.
    """

    async def intercept(self, call: Call, next: CallHandler) -> Any:
        return await next(call)


# History's errors, in the order they are tried, and their statuses.
_STATUS: list[tuple[type[Exception], grpc.StatusCode]] = [
    (errors.InvalidArgument, grpc.StatusCode.INVALID_ARGUMENT),
    (errors.NotFound, grpc.StatusCode.NOT_FOUND),
    (errors.AlreadyExists, grpc.StatusCode.ALREADY_EXISTS),
    (errors.FailedPrecondition, grpc.StatusCode.FAILED_PRECONDITION),
    (errors.LimitExceeded, grpc.StatusCode.RESOURCE_EXHAUSTED),
    (errors.ConcurrentUpdate, grpc.StatusCode.ABORTED),
    # The query reached a worker and its handler failed (or the worker had no handler of that
    # name): the request was well formed, so INVALID_ARGUMENT would wrongly blame the caller, and
    # the server did nothing wrong either (INTERNAL, UNKNOWN). FAILED_PRECONDITION says the workflow
    # is not in a state that answers this query, which retrying will not change until the workflow
    # or its code does; the wf-query-failed mark (Temporal's QueryFailed detail) lets a client tell
    # it from other refusals.
    (errors.QueryFailed, grpc.StatusCode.FAILED_PRECONDITION),
    (errors.DeadlineExceeded, grpc.StatusCode.DEADLINE_EXCEEDED),
    # The database cannot serve now (down, restarting, out of connections, a lost serialization
    # conflict): clients retry UNAVAILABLE, and the call may be repeated safely.
    (errors.Unavailable, grpc.StatusCode.UNAVAILABLE),
]


def _history_error(exc: BaseException) -> errors.HistoryError | None:
    """``exc`` as one of history's errors: itself, or what a driver error means (a driver error
    normally becomes one in the store; this catches one raised anywhere else)."""
    if isinstance(exc, errors.HistoryError):
        return exc
    return errors.from_driver(exc)


def status_of(exc: BaseException) -> grpc.StatusCode:
    """The status a call that raised ``exc`` ends with."""
    if isinstance(exc, CallError):
        return exc.code
    if isinstance(exc, asyncio.CancelledError):
        return grpc.StatusCode.CANCELLED
    known = _history_error(exc)
    if known is not None:
        for kind, code in _STATUS:
            if isinstance(known, kind):
                return code
    return grpc.StatusCode.INTERNAL


class MapErrors(Interceptor):
    """The outermost link, the one place a failure becomes a status: whatever fails inside leaves
    as a :class:`CallError` with a message a person can act on.

    - History's errors keep their message and get their status (:data:`_STATUS`); a driver error
      is one of them too (``errors.from_driver``): UNAVAILABLE when the database cannot serve now,
      INVALID_ARGUMENT when the request holds a value it refuses.
    - Anything else is a bug: INTERNAL "internal error" with an id, logged with its traceback under
      that id, so the caller's report finds the log line and no internal text reaches the caller.
    - A database outage is not logged per call: the process's :class:`DatabaseHealth` logs it once
      per kind of failure per interval (the store tells it of each failed statement).
    """

    def __init__(self, health: DatabaseHealth | None = None) -> None:
        self.health = health or DatabaseHealth()

    async def intercept(self, call: Call, next: CallHandler) -> Any:
        try:
            return await next(call)
        except CallError:
            raise
        except Exception as exc:
            known = _history_error(exc)
            code = grpc.StatusCode.INTERNAL if known is None else status_of(known)
            if known is None or code == grpc.StatusCode.INTERNAL:
                error_id = uuid.uuid4().hex[:12]
                log.error("%s failed (error id %s)", call.method, error_id, exc_info=exc)
                raise CallError(code, f"internal error (error id {error_id}); see the server log") from exc
            if known is not exc and isinstance(known, errors.Unavailable):
                self.health.failed(call.method, exc)  # a driver error the store did not see
            if isinstance(known, errors.AlreadyExists):
                call.set_response_metadata(RUN_ID_KEY, known.run_id)
            elif isinstance(known, errors.QueryFailed):
                call.set_response_metadata(QUERY_FAILED_KEY, "true")
            raise CallError(code, str(known)) from exc


class Telemetry(Interceptor):
    """Each call's OpenTelemetry span (``wf.v1.WorkflowService/<method>``) and its duration in the
    ``rpc.server.call.duration`` histogram, labelled by method, transport and status.

    Both go to the process's providers (configured by ``wf server start --otel-console`` or an
    OpenTelemetry distro) unless others are given.
    """

    def __init__(
        self,
        tracer_provider: trace.TracerProvider | None = None,
        meter_provider: metrics.MeterProvider | None = None,
    ) -> None:
        self._tracer = trace.get_tracer("wf.server", tracer_provider=tracer_provider)
        self._own_tracer = tracer_provider is not None
        meter = metrics.get_meter("wf.server", meter_provider=meter_provider)
        self._duration = meter.create_histogram(
            "rpc.server.call.duration", unit="s", description="How long the server took to answer a call."
        )
        self._labels: dict[tuple[str, str, grpc.StatusCode], dict[str, str | int]] = {}

    def _tracing(self) -> bool:
        # With no provider configured a span would go nowhere, and making one costs more than a
        # small call's own work.
        return self._own_tracer or not isinstance(trace.get_tracer_provider(), trace.ProxyTracerProvider)

    async def intercept(self, call: Call, next: CallHandler) -> Any:
        start = time.perf_counter()
        code = grpc.StatusCode.OK
        try:
            if not self._tracing():
                return await next(call)
            with self._tracer.start_as_current_span(
                f"{SERVICE}/{call.method}",
                kind=trace.SpanKind.SERVER,
                attributes={"rpc.system": "grpc", "rpc.service": SERVICE, "rpc.method": call.method,
                            "wf.transport": call.transport},
            ):
                return await next(call)
        except BaseException as exc:
            code = status_of(exc)
            if code == grpc.StatusCode.CANCELLED and call.deadline is not None and time.monotonic() >= call.deadline:
                # The transport cancelled the call because its deadline passed: the caller saw that.
                code = grpc.StatusCode.DEADLINE_EXCEEDED
            raise
        finally:
            self._duration.record(time.perf_counter() - start, self._labels_of(call, code))

    def _labels_of(self, call: Call, code: grpc.StatusCode) -> dict[str, str | int]:
        key = (call.method, call.transport, code)
        labels = self._labels.get(key)
        if labels is None:
            labels = self._labels[key] = {
                "rpc.system": "grpc", "rpc.service": SERVICE, "rpc.method": call.method,
                "rpc.grpc.status_code": code.value[0], "wf.transport": call.transport,
            }
        return labels


class Validation(Interceptor):
    """Refuses a request whose fields are wrong (INVALID_ARGUMENT, RESOURCE_EXHAUSTED for limits)
    before anything else looks at it, with the method's check from ``checks``."""

    def __init__(self, checks: Mapping[str, Callable[[Any], None]]) -> None:
        self._checks = dict(checks)

    async def intercept(self, call: Call, next: CallHandler) -> Any:
        check = self._checks.get(call.method)
        if check is not None:
            check(call.request)
        return await next(call)


class NamespaceCheck(Interceptor):
    """Refuses a call whose request names a namespace that is not registered: NOT_FOUND "namespace X
    not found", the same on both transports, after authorization (so only a caller with a role in a
    namespace learns whether it exists) and before the handler.

    The methods checked are those whose request has a ``namespace`` field, found from the service's
    descriptor, so a method added later is checked too; ``RegisterNamespace`` names the namespace it
    creates and is left out. Calls answered by task token carry no namespace: the token names the
    run, which a deleted namespace no longer has. ``known`` answers from the server's registry with
    no statement; ``check`` reads the registry again before it refuses (a namespace registered on
    another server a moment ago), and raises history's NotFound.
    """

    def __init__(self, known: Callable[[str], bool], check: Callable[[str], Awaitable[None]]) -> None:
        self._known = known
        self._check = check
        service = service_pb2.DESCRIPTOR.services_by_name["WorkflowService"]
        self.methods = frozenset(
            m.name for m in service.methods
            if "namespace" in m.input_type.fields_by_name and m.name != "RegisterNamespace"
        )

    # Methods whose empty namespace means "none" or "every namespace" (the caller's identity, keys
    # and audit events of the whole cluster), not a namespace to look up.
    EMPTY_MEANS_ALL: Final = frozenset({"GetCallerIdentity", "ListApiKeys", "ListAuditEvents"})

    async def intercept(self, call: Call, next: CallHandler) -> Any:
        if call.method in self.methods:
            name = call.request.namespace
            if not name and call.method in self.EMPTY_MEANS_ALL:
                return await next(call)
            if not self._known(name):
                await self._check(name)
        return await next(call)


@dataclass(frozen=True, slots=True)
class Method:
    """A unary method of the service: its handler and its message types."""

    handler: Callable[[Any, Call], Awaitable[Any]]
    request_type: Any
    response_type: Any


def unary_methods(handlers: object) -> dict[str, Method]:
    """The service's unary methods, each with ``handlers``'s method of that name.

    Every unary method in the proto must have one, so a method added to the proto without its
    handler stops the server at start rather than failing its callers.
    """
    methods = {}
    for m in service_pb2.DESCRIPTOR.services_by_name["WorkflowService"].methods:
        if m.client_streaming or m.server_streaming:
            continue
        handler = getattr(handlers, m.name, None)
        if handler is None:
            raise TypeError(f"{type(handlers).__name__} has no handler for {SERVICE}/{m.name}")
        methods[m.name] = Method(
            handler, getattr(service_pb2, m.input_type.name), getattr(service_pb2, m.output_type.name)
        )
    return methods


class Pipeline:
    """The chain every call runs, built once from the interceptors and the methods' handlers."""

    def __init__(
        self,
        methods: Mapping[str, Method],
        interceptors: Iterable[Interceptor],
        *,
        health: DatabaseHealth | None = None,
    ) -> None:
        """``health``: the process's log of database outages, shared with its store."""
        self.methods = dict(methods)
        handlers = {name: m.handler for name, m in self.methods.items()}

        async def handle(call: Call) -> Any:
            return await handlers[call.method](call.request, call)

        run: CallHandler = handle
        for interceptor in reversed([MapErrors(health), *interceptors]):
            run = functools.partial(interceptor.intercept, next=run)
        self.run: CallHandler = run
        """Run one call: its response, or CallError."""

    def grpc_handlers(self) -> dict[str, grpc.RpcMethodHandler[Any, Any]]:
        """Each unary method as gRPC serves it: the RPC's context becomes a Call."""
        return {
            name: grpc.unary_unary_rpc_method_handler(
                self._rpc_entry(name),
                request_deserializer=decoder(m.request_type),
                response_serializer=m.response_type.SerializeToString,
            )
            for name, m in self.methods.items()
        }

    def _rpc_entry(self, method: str) -> Callable[[Any, grpc.aio.ServicerContext[Any, Any]], Awaitable[Any]]:
        run = self.run

        async def entry(request: Any, context: grpc.aio.ServicerContext[Any, Any]) -> Any:
            if isinstance(request, Undecodable):
                await context.abort(grpc.StatusCode.INVALID_ARGUMENT, request.details)
            remaining = context.time_remaining()
            call = Call(
                method, request, context.invocation_metadata() or (),
                None if remaining is None else time.monotonic() + remaining, RPC,
                peer=context.peer() or "", auth_context=context.auth_context() or {},
            )
            try:
                response = await run(call)
            except CallError as exc:
                if call.response_metadata:
                    await context.send_initial_metadata(tuple(call.response_metadata.items()))
                await context.abort(exc.code, exc.details)
            if call.response_metadata:
                await context.send_initial_metadata(tuple(call.response_metadata.items()))
            return response

        return entry


__all__ = [
    "Call", "CallError", "CallHandler", "Interceptor", "MapErrors", "Method", "MULTIPLEX", "NamespaceCheck", "Pipeline",
    "QUERY_FAILED_KEY", "RPC", "RUN_ID_KEY", "SERVICE", "Telemetry", "Undecodable", "Validation", "decoder",
    "status_of", "unary_methods", "undecodable",
]
