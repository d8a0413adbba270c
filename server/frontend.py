"""The gRPC frontend: validates every request and hands it to history or matching.

Each RPC is one small method. Domain errors become gRPC statuses here, at the boundary:
InvalidArgument → INVALID_ARGUMENT, NotFound → NOT_FOUND, AlreadyExists → ALREADY_EXISTS,
FailedPrecondition → FAILED_PRECONDITION, LimitExceeded → RESOURCE_EXHAUSTED, an unreachable
database → UNAVAILABLE. Nothing a client sends can crash the server.
"""

from __future__ import annotations

import functools
import logging
import re
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import UTC, datetime, timedelta
from typing import Any, TypeVar

import asyncpg
import grpc
from google.protobuf.duration_pb2 import Duration
from google.protobuf.timestamp_pb2 import Timestamp
from opentelemetry import trace

from history import errors, retry
from history.limits import MAX_DURATION_SECONDS, Limits, id_length
from history.service import Ahead, HistoryService, TaskGone, decode_token
from history.tasks import TaskKind, TaskRow
from matching import Matcher
from server.config import ServerConfig
from server.multiplex import Multiplexer, unary_methods
from wf.v1 import common_pb2, service_pb2, service_pb2_grpc

log = logging.getLogger(__name__)
# Spans go wherever the process's TracerProvider sends them (nowhere unless one is configured, e.g. by
# `wf server start --otel-console` or an OpenTelemetry distro).
tracer = trace.get_tracer("wf.server")

# The times a request may carry: years 1 to 9999, as Python's datetime can hold them.
_MIN_SECONDS = int(datetime(1, 1, 1, tzinfo=UTC).timestamp())
_MAX_SECONDS = int(datetime(9999, 12, 31, tzinfo=UTC).timestamp())

Req = TypeVar("Req")
Resp = TypeVar("Resp")

_STATUS: list[tuple[type[Exception], grpc.StatusCode]] = [
    (errors.InvalidArgument, grpc.StatusCode.INVALID_ARGUMENT),
    (errors.NotFound, grpc.StatusCode.NOT_FOUND),
    (errors.AlreadyExists, grpc.StatusCode.ALREADY_EXISTS),
    (errors.FailedPrecondition, grpc.StatusCode.FAILED_PRECONDITION),
    (errors.LimitExceeded, grpc.StatusCode.RESOURCE_EXHAUSTED),
    (errors.ConcurrentUpdate, grpc.StatusCode.ABORTED),
    (errors.QueryFailed, grpc.StatusCode.INVALID_ARGUMENT),
    (errors.DeadlineExceeded, grpc.StatusCode.DEADLINE_EXCEEDED),
]


def rpc(
    method: Callable[[Any, Req, grpc.aio.ServicerContext[Any, Any]], Awaitable[Resp]],
) -> Callable[[Any, Req, grpc.aio.ServicerContext[Any, Any]], Awaitable[Resp]]:
    """Map errors raised by one RPC handler to gRPC statuses."""

    span_name = f"wf.v1.WorkflowService/{method.__name__}"

    @functools.wraps(method)
    async def handler(self: Any, request: Req, context: grpc.aio.ServicerContext[Any, Any]) -> Resp:
        if isinstance(trace.get_tracer_provider(), trace.ProxyTracerProvider):
            # No provider configured: a span would go nowhere, and making one costs more than a
            # small RPC's own work.
            return await _handle(self, request, context)
        with tracer.start_as_current_span(span_name, kind=trace.SpanKind.SERVER):
            return await _handle(self, request, context)

    async def _handle(self: Any, request: Req, context: grpc.aio.ServicerContext[Any, Any]) -> Resp:
        try:
            return await method(self, request, context)
        except errors.HistoryError as exc:
            for kind, code in _STATUS:
                if isinstance(exc, kind):
                    if isinstance(exc, errors.AlreadyExists):
                        await context.send_initial_metadata((("wf-run-id", exc.run_id),))
                    await context.abort(code, str(exc))
            raise
        except (OSError, asyncpg.PostgresConnectionError, asyncpg.InterfaceError,
                asyncpg.CannotConnectNowError) as exc:
            log.warning("%s: database unavailable: %s", method.__name__, exc)
            await context.abort(grpc.StatusCode.UNAVAILABLE, f"database unavailable: {exc}")
            raise
        except asyncpg.PostgresError as exc:
            log.exception("%s failed in the database", method.__name__)
            await context.abort(grpc.StatusCode.INTERNAL, f"database error: {exc}")
            raise
        except grpc.aio.AbortError:
            raise
        except Exception as exc:
            log.exception("%s failed", method.__name__)
            await context.abort(grpc.StatusCode.INTERNAL, f"internal error ({type(exc).__name__}); see the server log")
            raise

    return handler


class Validator:
    """Request checks shared by the RPCs; each raises InvalidArgument or LimitExceeded."""

    def __init__(self, limits: Limits) -> None:
        self.limits = limits

    def name(self, value: str, what: str) -> str:
        if not value or not value.strip():
            raise errors.InvalidArgument(f"{what} is required")
        if "\x00" in value:
            raise errors.InvalidArgument(f"{what} must not contain NUL characters")
        size = id_length(value)
        if size > self.limits.max_id_length:
            raise errors.InvalidArgument(
                f"{what} is {size:,} bytes (UTF-8), over the {self.limits.describe('max_id_length')}"
            )
        return value

    def duration(self, d: Duration, what: str) -> None:
        if d.seconds < 0 or d.nanos < 0:
            raise errors.InvalidArgument(f"{what} must not be negative")
        if d.seconds > MAX_DURATION_SECONDS:
            raise errors.InvalidArgument(f"{what} must not be longer than 100 years")

    def sticky(self, queue: str, timeout: Duration) -> timedelta:
        """Check a completion's sticky queue; its schedule-to-start timeout (5 s when unset)."""
        if not queue:
            return timedelta(seconds=5)
        self.name(queue, "sticky_task_queue")
        self.duration(timeout, "sticky_schedule_to_start_timeout")
        return timeout.ToTimedelta() if timeout.seconds or timeout.nanos else timedelta(seconds=5)

    def timestamp(self, t: Timestamp, what: str) -> datetime:
        if not _MIN_SECONDS <= t.seconds <= _MAX_SECONDS or not 0 <= t.nanos < 1_000_000_000:
            raise errors.InvalidArgument(f"{what} is not a valid time")
        return t.ToDatetime(UTC)

    def payloads(self, p: common_pb2.Payloads, what: str) -> None:
        size = sum(len(x.data) + sum(len(k) + len(v) for k, v in x.metadata.items()) for x in p.payloads)
        if size > self.limits.max_payload_bytes:
            raise errors.LimitExceeded(
                f"{what} is {size:,} bytes, over the {self.limits.describe('max_payload_bytes')}"
            )
        if size > self.limits.warn_payload_bytes:
            log.warning(
                "%s is %s bytes (warning threshold %s)", what, f"{size:,}", f"{self.limits.warn_payload_bytes:,}"
            )

    def token(self, data: bytes) -> Any:
        if not data:
            raise errors.InvalidArgument("task_token is required")
        return decode_token(data)


_QUERY_FIELDS = {
    "WorkflowId": "workflow_id",
    "WorkflowType": "workflow_type",
    "ExecutionStatus": "status",
    "TaskQueue": "task_queue",
    "RunId": "run_id",
}
# ExecutionStatus values as list queries write them (``Running``, ``ContinuedAsNew``…), from the wire enum.
_STATUS_WORDS = {
    "".join(w.capitalize() for w in name.removeprefix("WORKFLOW_EXECUTION_STATUS_").split("_")): number
    for name, number in common_pb2.WorkflowExecutionStatus.items()
    if number != common_pb2.WORKFLOW_EXECUTION_STATUS_UNSPECIFIED
}
_STATUS_NAMES = {word.lower(): number for word, number in _STATUS_WORDS.items()}
_CONDITION = re.compile(r"""\s*(\w+)\s*=\s*(?:'([^']*)'|"([^"]*)")\s*""")


def parse_list_query(query: str) -> list[tuple[str, object]]:
    """``Field = 'value' AND …`` → [(column, value)]; raises InvalidArgument naming what is wrong."""
    if not query.strip():
        return []
    conditions: list[tuple[str, object]] = []
    for part in re.split(r"\s+AND\s+", query.strip(), flags=re.IGNORECASE):
        m = _CONDITION.fullmatch(part)
        if not m:
            raise errors.InvalidArgument(
                f"cannot read the list query at {part!r}: write conditions as Field = 'value' joined by AND"
            )
        field, value = m.group(1), m.group(2) if m.group(2) is not None else m.group(3)
        if field not in _QUERY_FIELDS:
            raise errors.InvalidArgument(
                f"unknown list query field {field!r}; known: {', '.join(sorted(_QUERY_FIELDS))}"
            )
        column = _QUERY_FIELDS[field]
        if column == "status":
            code = _STATUS_NAMES.get(value.replace("_", "").lower())
            if code is None:
                raise errors.InvalidArgument(f"unknown ExecutionStatus {value!r}; known: {', '.join(_STATUS_WORDS)}")
            conditions.append((column, code))
        else:
            conditions.append((column, value))
    return conditions


class WorkflowService(service_pb2_grpc.WorkflowServiceServicer):
    def __init__(self, config: ServerConfig, history: HistoryService, matcher: Matcher) -> None:
        self.config = config
        self.history = history
        self.matcher = matcher
        self.check = Validator(config.limits)
        # Set when the server begins to stop: new Multiplex streams are refused (UNAVAILABLE); the
        # streams already open drain.
        self.stopping = False
        self._unary = unary_methods(self)
        self._streams: set[Multiplexer] = set()

    def _poll_timeout(self, context: grpc.aio.ServicerContext[Any, Any]) -> float:
        remaining = context.time_remaining()
        timeout = self.config.long_poll_timeout
        if remaining is not None:
            # Answer empty a little before the caller's own deadline, so it gets an answer, not an error.
            timeout = min(timeout, max(0.0, remaining - 1.0))
        return timeout

    async def Multiplex(
        self, requests: AsyncIterator[service_pb2.MultiplexRequest], context: grpc.aio.ServicerContext[Any, Any]
    ) -> None:
        if self.stopping:
            await context.abort(grpc.StatusCode.UNAVAILABLE, "the server is stopping")
        mux = Multiplexer(self._unary, context)
        self._streams.add(mux)
        try:
            await mux.serve(requests)
        finally:
            self._streams.discard(mux)

    def stop_streams(self) -> None:
        """The server stops: refuse new calls on Multiplex streams, and end each stream once the
        calls running on it are answered."""
        self.stopping = True
        for mux in list(self._streams):
            mux.drain()

    @rpc
    async def GetSystemInfo(self, request: Any, context: Any) -> service_pb2.GetSystemInfoResponse:
        from server import __version__

        return service_pb2.GetSystemInfoResponse(server_version=__version__)

    @rpc
    async def StartWorkflowExecution(
        self, request: service_pb2.StartWorkflowExecutionRequest, context: Any
    ) -> service_pb2.StartWorkflowExecutionResponse:
        c = self.check
        c.name(request.namespace, "namespace")
        c.name(request.workflow_id, "workflow_id")
        c.name(request.workflow_type.name, "workflow_type")
        c.name(request.task_queue.name, "task_queue")
        if request.request_id:
            c.name(request.request_id, "request_id")
        c.duration(request.workflow_execution_timeout, "workflow_execution_timeout")
        c.duration(request.workflow_run_timeout, "workflow_run_timeout")
        c.duration(request.workflow_task_timeout, "workflow_task_timeout")
        if request.HasField("retry_policy") and (problem := retry.validate(request.retry_policy)):
            raise errors.InvalidArgument(problem)
        c.payloads(request.input, "workflow input")
        if request.signal_name:
            c.name(request.signal_name, "signal_name")
            c.payloads(request.signal_input, "signal input")
        run_id, started = await self.history.start_workflow(request)
        return service_pb2.StartWorkflowExecutionResponse(run_id=run_id, started=started)

    @rpc
    async def GetWorkflowExecutionHistory(
        self, request: service_pb2.GetWorkflowExecutionHistoryRequest, context: Any
    ) -> service_pb2.GetWorkflowExecutionHistoryResponse:
        self.check.name(request.namespace, "namespace")
        self.check.name(request.execution.workflow_id, "execution.workflow_id")
        if request.next_page_token and len(request.next_page_token) != 8:
            raise errors.InvalidArgument("next_page_token is malformed")
        wait = self._poll_timeout(context) if request.wait_new_event else 0.0
        return await self.history.get_history(request, wait)

    @rpc
    async def DescribeWorkflowExecution(
        self, request: service_pb2.DescribeWorkflowExecutionRequest, context: Any
    ) -> service_pb2.DescribeWorkflowExecutionResponse:
        self.check.name(request.namespace, "namespace")
        self.check.name(request.execution.workflow_id, "execution.workflow_id")
        return await self.history.describe(
            request.namespace, request.execution.workflow_id, request.execution.run_id
        )

    @rpc
    async def ListWorkflowExecutions(
        self, request: service_pb2.ListWorkflowExecutionsRequest, context: Any
    ) -> service_pb2.ListWorkflowExecutionsResponse:
        self.check.name(request.namespace, "namespace")
        if request.page_size < 0:
            raise errors.InvalidArgument("page_size must not be negative")
        conditions = parse_list_query(request.query)
        return await self.history.list_executions(
            request.namespace, conditions, request.page_size, request.next_page_token
        )

    @rpc
    async def PollWorkflowTaskQueue(
        self, request: service_pb2.PollWorkflowTaskQueueRequest, context: Any
    ) -> service_pb2.PollWorkflowTaskQueueResponse:
        self.check.name(request.namespace, "namespace")
        self.check.name(request.task_queue.name, "task_queue")

        async def start(task: TaskRow) -> service_pb2.PollWorkflowTaskQueueResponse:
            if task.kind == TaskKind.QUERY:
                return await self.history.start_query_task(task)
            return await self.history.record_workflow_task_started(task, request.identity)

        response = await self.matcher.poll(
            request.namespace, request.task_queue.name, TaskKind.WORKFLOW, request.identity,
            self._poll_timeout(context), start,
        )
        return response or service_pb2.PollWorkflowTaskQueueResponse()

    @rpc
    async def RespondWorkflowTaskCompleted(
        self, request: service_pb2.RespondWorkflowTaskCompletedRequest, context: Any
    ) -> service_pb2.RespondWorkflowTaskCompletedResponse:
        token = self.check.token(request.task_token)
        # Payload and history limits are checked by history: past one, the workflow fails cleanly.
        sticky_timeout = self.check.sticky(request.sticky_task_queue, request.sticky_schedule_to_start_timeout)
        result = await self.history.complete_workflow_task(
            token, list(request.commands), request.identity, request.update_responses,
            request.sticky_task_queue, sticky_timeout,
        )
        if result.error:
            raise errors.InvalidArgument(f"workflow task failed: {result.error}")
        return service_pb2.RespondWorkflowTaskCompletedResponse(
            activity_tasks=await self.history.eager_activity_tasks(token, result),
            new_events=await self.history.new_events(token, result) if request.return_new_events else None,
        )

    @rpc
    async def RespondWorkflowTaskFailed(
        self, request: service_pb2.RespondWorkflowTaskFailedRequest, context: Any
    ) -> service_pb2.RespondWorkflowTaskFailedResponse:
        token = self.check.token(request.task_token)
        await self.history.fail_workflow_task(token, request.cause, request.failure, request.identity)
        return service_pb2.RespondWorkflowTaskFailedResponse()

    @rpc
    async def PollActivityTaskQueue(
        self, request: service_pb2.PollActivityTaskQueueRequest, context: Any
    ) -> service_pb2.PollActivityTaskQueueResponse:
        self.check.name(request.namespace, "namespace")
        self.check.name(request.task_queue.name, "task_queue")

        response = await self._poll_activity(
            request.namespace, request.task_queue.name, request.identity, self._poll_timeout(context)
        )
        return response or service_pb2.PollActivityTaskQueueResponse()

    async def _poll_activity(
        self, namespace: str, task_queue: str, identity: str, timeout: float
    ) -> service_pb2.PollActivityTaskQueueResponse | None:
        async def start(task: TaskRow) -> service_pb2.PollActivityTaskQueueResponse:
            return await self.history.record_activity_task_started(task, identity)

        return await self.matcher.poll(namespace, task_queue, TaskKind.ACTIVITY, identity, timeout, start)

    @rpc
    async def RespondActivityTaskCompleted(
        self, request: service_pb2.RespondActivityTaskCompletedRequest, context: Any
    ) -> service_pb2.RespondActivityTaskCompletedResponse:
        token = self.check.token(request.task_token)
        self.check.payloads(request.result, "activity result")
        if request.eager_workflow_task_queue:
            self.check.name(request.eager_workflow_task_queue, "eager_workflow_task_queue")
        if request.next_activity_task_queue:
            self.check.name(request.next_activity_task_queue, "next_activity_task_queue")
        response = service_pb2.RespondActivityTaskCompletedResponse()
        if request.HasField("workflow_task_ahead"):
            a = request.workflow_task_ahead
            ahead = Ahead(
                after_event_id=a.after_event_id,
                started_time=self.check.timestamp(a.started_time, "workflow_task_ahead.started_time"),
                commands=list(a.commands),
                update_responses=a.update_responses,
                sticky_task_queue=a.sticky_task_queue,
                sticky_timeout=self.check.sticky(a.sticky_task_queue, a.sticky_schedule_to_start_timeout),
            )
            outcome = await self.history.complete_activity_task_ahead(
                token, request.result, request.identity, ahead, request.eager_workflow_task_queue
            )
            workflow_task = outcome.workflow_task
            completion = outcome.completion
            if completion is not None and completion.completed:
                response.workflow_task_ahead_completed = True
                response.new_events.CopyFrom(await self.history.new_events(token, completion))
                response.activity_tasks.extend(await self.history.eager_activity_tasks(token, completion))
            if outcome.server_time is not None:
                response.server_time.FromDatetime(outcome.server_time)
        else:
            workflow_task = await self.history.complete_activity_task(
                token, request.result, request.identity, request.eager_workflow_task_queue
            )
        if workflow_task is not None:
            response.workflow_task.CopyFrom(workflow_task)
        activity_task = None
        if request.next_activity_task_queue:
            # As a poll that does not wait: a task already waiting, or nothing.
            activity_task = await self._poll_activity(
                token.namespace, request.next_activity_task_queue, request.identity, 0.0
            )
        if activity_task is not None:
            response.activity_task.CopyFrom(activity_task)
        return response

    @rpc
    async def RespondActivityTaskFailed(
        self, request: service_pb2.RespondActivityTaskFailedRequest, context: Any
    ) -> service_pb2.RespondActivityTaskFailedResponse:
        token = self.check.token(request.task_token)
        await self.history.fail_activity_task(token, request.failure, request.identity)
        return service_pb2.RespondActivityTaskFailedResponse()



    # -- activity heartbeats and cancellation ------------------------------------------------------

    @rpc
    async def RecordActivityTaskHeartbeat(
        self, request: service_pb2.RecordActivityTaskHeartbeatRequest, context: Any
    ) -> service_pb2.RecordActivityTaskHeartbeatResponse:
        token = self.check.token(request.task_token)
        self.check.payloads(request.details, "heartbeat details")
        cancel = await self.history.heartbeat_activity_task(token, request.details, request.identity)
        return service_pb2.RecordActivityTaskHeartbeatResponse(cancel_requested=cancel)

    @rpc
    async def RespondActivityTaskCanceled(
        self, request: service_pb2.RespondActivityTaskCanceledRequest, context: Any
    ) -> service_pb2.RespondActivityTaskCanceledResponse:
        token = self.check.token(request.task_token)
        self.check.payloads(request.details, "cancellation details")
        await self.history.cancel_activity_task(token, request.details, request.identity)
        return service_pb2.RespondActivityTaskCanceledResponse()

    # -- talking to running workflows --------------------------------------------------------------

    @rpc
    async def SignalWorkflowExecution(
        self, request: service_pb2.SignalWorkflowExecutionRequest, context: Any
    ) -> service_pb2.SignalWorkflowExecutionResponse:
        c = self.check
        c.name(request.namespace, "namespace")
        c.name(request.workflow_execution.workflow_id, "workflow_execution.workflow_id")
        c.name(request.signal_name, "signal_name")
        if request.request_id:
            c.name(request.request_id, "request_id")
        c.payloads(request.input, "signal input")
        await self.history.signal(request)
        return service_pb2.SignalWorkflowExecutionResponse()

    @rpc
    async def RequestCancelWorkflowExecution(
        self, request: service_pb2.RequestCancelWorkflowExecutionRequest, context: Any
    ) -> service_pb2.RequestCancelWorkflowExecutionResponse:
        self.check.name(request.namespace, "namespace")
        self.check.name(request.workflow_execution.workflow_id, "workflow_execution.workflow_id")
        e = request.workflow_execution
        await self.history.request_cancel(request.namespace, e.workflow_id, e.run_id, request.reason, request.identity)
        return service_pb2.RequestCancelWorkflowExecutionResponse()

    @rpc
    async def TerminateWorkflowExecution(
        self, request: service_pb2.TerminateWorkflowExecutionRequest, context: Any
    ) -> service_pb2.TerminateWorkflowExecutionResponse:
        self.check.name(request.namespace, "namespace")
        self.check.name(request.workflow_execution.workflow_id, "workflow_execution.workflow_id")
        self.check.payloads(request.details, "termination details")
        e = request.workflow_execution
        await self.history.terminate(
            request.namespace, e.workflow_id, e.run_id, request.reason, request.details, request.identity
        )
        return service_pb2.TerminateWorkflowExecutionResponse()


    # -- queries -----------------------------------------------------------------------------------

    @rpc
    async def QueryWorkflow(
        self, request: service_pb2.QueryWorkflowRequest, context: Any
    ) -> service_pb2.QueryWorkflowResponse:
        self.check.name(request.namespace, "namespace")
        self.check.name(request.execution.workflow_id, "execution.workflow_id")
        self.check.name(request.query.query_type, "query.query_type")
        self.check.payloads(request.query.query_args, "query arguments")
        e = request.execution
        timeout = min(self.config.query_timeout, self._poll_timeout(context))
        result = await self.history.query(
            request.namespace, e.workflow_id, e.run_id, request.query.query_type, request.query.query_args, timeout
        )
        return service_pb2.QueryWorkflowResponse(query_result=result)

    @rpc
    async def RespondQueryTaskCompleted(
        self, request: service_pb2.RespondQueryTaskCompletedRequest, context: Any
    ) -> service_pb2.RespondQueryTaskCompletedResponse:
        token = self.check.token(request.task_token)
        self.check.payloads(request.query_result, "query result")
        await self.history.answer_query(token, request.query_result, request.error_message)
        return service_pb2.RespondQueryTaskCompletedResponse()


    # -- updates -----------------------------------------------------------------------------------

    @rpc
    async def UpdateWorkflowExecution(
        self, request: service_pb2.UpdateWorkflowExecutionRequest, context: Any
    ) -> service_pb2.UpdateWorkflowExecutionResponse:
        c = self.check
        c.name(request.namespace, "namespace")
        c.name(request.execution.workflow_id, "execution.workflow_id")
        c.name(request.update_id, "update_id")
        c.name(request.name, "name")
        c.payloads(request.args, "update arguments")
        if request.wait_stage not in (
            service_pb2.UPDATE_WAIT_STAGE_ACCEPTED, service_pb2.UPDATE_WAIT_STAGE_COMPLETED
        ):
            raise errors.InvalidArgument("wait_stage must be ACCEPTED or COMPLETED")
        return await self.history.update(request, self._poll_timeout(context))


__all__ = ["WorkflowService", "parse_list_query", "TaskGone"]
