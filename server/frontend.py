"""The gRPC frontend: one handler per WorkflowService method, handing the work to history or matching.

Calls reach these handlers through the call pipeline (``server/pipeline.py``), whichever transport
carried them: a handler gets a validated request and the :class:`~wf.server.pipeline.Call`, and raises
history's domain errors, which the pipeline maps to gRPC statuses (InvalidArgument →
INVALID_ARGUMENT, NotFound → NOT_FOUND, AlreadyExists → ALREADY_EXISTS, FailedPrecondition →
FAILED_PRECONDITION, LimitExceeded → RESOURCE_EXHAUSTED, an unreachable database → UNAVAILABLE).
Nothing a client sends can crash the server.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import UTC, datetime
from typing import Any, TypeVar

import grpc
from google.protobuf.timestamp_pb2 import Timestamp

from wf.history import errors
from wf.history.service import Ahead, HistoryService, TaskGone
from wf.history.tasks import TaskKind, TaskRow
from wf.history.visibility.attributes import BUILT_IN
from wf.matching import Matcher
from wf.server.auth_handlers import AuthHandlers
from wf.server.checks import sticky_timeout
from wf.server.config import ServerConfig
from wf.server.multiplex import Multiplexer
from wf.server.namespace_handlers import NamespaceHandlers
from wf.server.pipeline import Call, Pipeline
from wf.server.schedule_handlers import ScheduleHandlers
from wf.v1 import service_pb2

log = logging.getLogger(__name__)


Handler = TypeVar("Handler", bound=Callable[..., Awaitable[Any]])


def rpc(method: Handler) -> Handler:
    """Marks the handler of the WorkflowService method of the same name.

    A handler takes the decoded request and the :class:`~wf.server.pipeline.Call`, and runs as the last
    link of the call pipeline (``server/pipeline.py``): by then the request is validated (by its
    check in ``server/checks.py``) and authorized, and whatever it raises is mapped to a status there.
    """
    return method


class WorkflowService(NamespaceHandlers, ScheduleHandlers, AuthHandlers):
    """The handlers of ``wf.v1.WorkflowService``, and its ``Multiplex`` stream (those of namespaces
    and of deleting a run are in ``server/namespace_handlers.py``).

    The server (``server/app.py``) builds the call pipeline over these handlers and serves it both
    as the service's RPCs and on the streams ``Multiplex`` opens (see :meth:`attach`).
    """

    def __init__(self, config: ServerConfig, history: HistoryService, matcher: Matcher) -> None:
        self.config = config
        self.history = history
        self.matcher = matcher
        # Set when the server begins to stop: new Multiplex streams are refused (UNAVAILABLE); the
        # streams already open drain.
        self.stopping = False
        self._pipeline: Pipeline | None = None
        self._streams: set[Multiplexer] = set()

    def attach(self, pipeline: Pipeline) -> None:
        """The pipeline the calls on ``Multiplex`` streams run through (the RPCs' own)."""
        self._pipeline = pipeline

    def _poll_timeout(self, call: Call) -> float:
        remaining = call.time_remaining()
        timeout = self.config.long_poll_timeout
        if remaining is not None:
            # Answer empty a little before the caller's own deadline, so it gets an answer, not an error.
            timeout = min(timeout, max(0.0, remaining - 1.0))
        return timeout

    async def Multiplex(
        self, requests: AsyncIterator[service_pb2.MultiplexRequest], context: grpc.aio.ServicerContext[Any, Any]
    ) -> None:
        """Unary calls carried on one stream (``server/multiplex.py``), each run through the pipeline."""
        if self.stopping or self._pipeline is None:
            await context.abort(grpc.StatusCode.UNAVAILABLE, "the server is stopping")
        assert self._pipeline is not None
        mux = Multiplexer(self._pipeline, context, self.config.limits)
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
    async def GetSystemInfo(
        self, request: service_pb2.GetSystemInfoRequest, call: Call
    ) -> service_pb2.GetSystemInfoResponse:
        from wf.server import __version__

        return service_pb2.GetSystemInfoResponse(server_version=__version__)

    @rpc
    async def StartWorkflowExecution(
        self, request: service_pb2.StartWorkflowExecutionRequest, call: Call
    ) -> service_pb2.StartWorkflowExecutionResponse:
        run_id, started = await self.history.start_workflow(request)
        return service_pb2.StartWorkflowExecutionResponse(run_id=run_id, started=started)

    @rpc
    async def GetWorkflowExecutionHistory(
        self, request: service_pb2.GetWorkflowExecutionHistoryRequest, call: Call
    ) -> service_pb2.GetWorkflowExecutionHistoryResponse:
        wait = self._poll_timeout(call) if request.wait_new_event else 0.0
        return await self.history.get_history(request, wait)

    @rpc
    async def DescribeWorkflowExecution(
        self, request: service_pb2.DescribeWorkflowExecutionRequest, call: Call
    ) -> service_pb2.DescribeWorkflowExecutionResponse:
        resp = await self.history.describe(
            request.namespace, request.execution.workflow_id, request.execution.run_id
        )
        # Whether a worker polls the queue each pending task waits on: a task nobody polls for waits
        # silently until a worker comes, which describe says rather than leave it to be guessed.
        # Polls on any server of the database count; each queue is read once per describe.
        ns = request.namespace
        read: dict[tuple[str, TaskKind], float | None] = {}

        async def last_poll(into: Timestamp, task_queue: str, kind: TaskKind) -> None:
            if not task_queue:
                return
            if (task_queue, kind) not in read:
                read[task_queue, kind] = await self.matcher.last_poll_anywhere(ns, task_queue, kind)
            if (seen := read[task_queue, kind]) is not None:
                into.FromDatetime(datetime.fromtimestamp(seen, UTC))

        if resp.HasField("pending_workflow_task"):
            wt = resp.pending_workflow_task
            wt.task_queue = resp.workflow_execution_info.task_queue
            await last_poll(wt.task_queue_last_poll_time, wt.task_queue, TaskKind.WORKFLOW)
        for a in resp.pending_activities:
            await last_poll(a.task_queue_last_poll_time, a.task_queue, TaskKind.ACTIVITY)
        return resp

    @rpc
    async def DescribeTaskQueue(
        self, request: service_pb2.DescribeTaskQueueRequest, call: Call
    ) -> service_pb2.DescribeTaskQueueResponse:
        """The workers any server of the database saw polling the queue recently, and its backlog (as
        Temporal's)."""
        ns, name = request.namespace, request.task_queue.name
        kinds = {
            service_pb2.TASK_QUEUE_TYPE_WORKFLOW: TaskKind.WORKFLOW,
            service_pb2.TASK_QUEUE_TYPE_ACTIVITY: TaskKind.ACTIVITY,
        }
        wanted = [request.task_queue_type] if request.task_queue_type in kinds else list(kinds)
        resp = service_pb2.DescribeTaskQueueResponse()
        seen = []
        for qtype in wanted:
            kind = kinds[qtype]
            seen += [(p, qtype) for p in await self.matcher.pollers_anywhere(ns, name, kind)]
            backlog = await self.history.store.backlog_size(ns, name, kind)
            if kind == TaskKind.WORKFLOW:
                resp.workflow_task_backlog = backlog
            else:
                resp.activity_task_backlog = backlog
        for p, qtype in sorted(seen, key=lambda s: s[0].last_seen, reverse=True):
            info = resp.pollers.add(identity=p.identity, task_queue_type=qtype)
            info.last_access_time.FromDatetime(datetime.fromtimestamp(p.last_seen, UTC))
        return resp

    @rpc
    async def ListWorkflowExecutions(
        self, request: service_pb2.ListWorkflowExecutionsRequest, call: Call
    ) -> service_pb2.ListWorkflowExecutionsResponse:
        return await self.history.list_executions(
            request.namespace, request.query, request.page_size, request.next_page_token
        )

    # -- visibility: counts and the search attributes registry ------------------------------------

    @rpc
    async def CountWorkflowExecutions(
        self, request: service_pb2.CountWorkflowExecutionsRequest, call: Call
    ) -> service_pb2.CountWorkflowExecutionsResponse:
        return await self.history.count_executions(request.namespace, request.query)

    @rpc
    async def AddSearchAttributes(
        self, request: service_pb2.AddSearchAttributesRequest, call: Call
    ) -> service_pb2.AddSearchAttributesResponse:
        await self.history.search_attributes.add(request.namespace, dict(request.search_attributes))
        return service_pb2.AddSearchAttributesResponse()

    @rpc
    async def RemoveSearchAttributes(
        self, request: service_pb2.RemoveSearchAttributesRequest, call: Call
    ) -> service_pb2.RemoveSearchAttributesResponse:
        await self.history.search_attributes.remove(request.namespace, list(request.search_attributes))
        return service_pb2.RemoveSearchAttributesResponse()

    @rpc
    async def ListSearchAttributes(
        self, request: service_pb2.ListSearchAttributesRequest, call: Call
    ) -> service_pb2.ListSearchAttributesResponse:
        custom = await self.history.search_attributes.of(request.namespace)
        return service_pb2.ListSearchAttributesResponse(
            custom_attributes=custom,  # type: ignore[arg-type]
            system_attributes={name: value_type for name, (_, value_type) in BUILT_IN.items()},  # type: ignore[misc]
        )

    @rpc
    async def PollWorkflowTaskQueue(
        self, request: service_pb2.PollWorkflowTaskQueueRequest, call: Call
    ) -> service_pb2.PollWorkflowTaskQueueResponse:
        async def start(task: TaskRow) -> service_pb2.PollWorkflowTaskQueueResponse:
            if task.kind == TaskKind.QUERY:
                return await self.history.start_query_task(task)
            return await self.history.record_workflow_task_started(task, request.identity)

        response = await self.matcher.poll(
            request.namespace, request.task_queue.name, TaskKind.WORKFLOW, request.identity,
            self._poll_timeout(call), start,
        )
        return response or service_pb2.PollWorkflowTaskQueueResponse()

    @rpc
    async def RespondWorkflowTaskCompleted(
        self, request: service_pb2.RespondWorkflowTaskCompletedRequest, call: Call
    ) -> service_pb2.RespondWorkflowTaskCompletedResponse:
        token = await self.history.tokens.verify(request.task_token)
        result = await self.history.complete_workflow_task(
            token, list(request.commands), request.identity, request.update_responses,
            request.sticky_task_queue,
            sticky_timeout(request.sticky_task_queue, request.sticky_schedule_to_start_timeout),
        )
        if result.error:
            raise errors.InvalidArgument(f"workflow task failed: {result.error}")
        return service_pb2.RespondWorkflowTaskCompletedResponse(
            activity_tasks=await self.history.eager_activity_tasks(token, result),
            new_events=await self.history.new_events(token, result) if request.return_new_events else None,
        )

    @rpc
    async def RespondWorkflowTaskFailed(
        self, request: service_pb2.RespondWorkflowTaskFailedRequest, call: Call
    ) -> service_pb2.RespondWorkflowTaskFailedResponse:
        token = await self.history.tokens.verify(request.task_token)
        await self.history.fail_workflow_task(token, request.cause, request.failure, request.identity)
        return service_pb2.RespondWorkflowTaskFailedResponse()

    @rpc
    async def PollActivityTaskQueue(
        self, request: service_pb2.PollActivityTaskQueueRequest, call: Call
    ) -> service_pb2.PollActivityTaskQueueResponse:
        response = await self._poll_activity(
            request.namespace, request.task_queue.name, request.identity, self._poll_timeout(call)
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
        self, request: service_pb2.RespondActivityTaskCompletedRequest, call: Call
    ) -> service_pb2.RespondActivityTaskCompletedResponse:
        token = await self.history.tokens.verify(request.task_token)
        response = service_pb2.RespondActivityTaskCompletedResponse()
        if request.HasField("workflow_task_ahead"):
            a = request.workflow_task_ahead
            ahead = Ahead(
                after_event_id=a.after_event_id,
                started_time=a.started_time.ToDatetime(UTC),
                commands=list(a.commands),
                update_responses=a.update_responses,
                sticky_task_queue=a.sticky_task_queue,
                sticky_timeout=sticky_timeout(a.sticky_task_queue, a.sticky_schedule_to_start_timeout),
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
        self, request: service_pb2.RespondActivityTaskFailedRequest, call: Call
    ) -> service_pb2.RespondActivityTaskFailedResponse:
        token = await self.history.tokens.verify(request.task_token)
        await self.history.fail_activity_task(token, request.failure, request.identity)
        return service_pb2.RespondActivityTaskFailedResponse()

    # -- activity heartbeats and cancellation ------------------------------------------------------

    @rpc
    async def RecordActivityTaskHeartbeat(
        self, request: service_pb2.RecordActivityTaskHeartbeatRequest, call: Call
    ) -> service_pb2.RecordActivityTaskHeartbeatResponse:
        token = await self.history.tokens.verify(request.task_token)
        cancel = await self.history.heartbeat_activity_task(token, request.details, request.identity)
        return service_pb2.RecordActivityTaskHeartbeatResponse(cancel_requested=cancel)

    @rpc
    async def RespondActivityTaskCanceled(
        self, request: service_pb2.RespondActivityTaskCanceledRequest, call: Call
    ) -> service_pb2.RespondActivityTaskCanceledResponse:
        token = await self.history.tokens.verify(request.task_token)
        await self.history.cancel_activity_task(token, request.details, request.identity)
        return service_pb2.RespondActivityTaskCanceledResponse()

    # -- activities answered by id: completed from outside the worker --------------------------------

    @rpc
    async def RespondActivityTaskCompletedById(
        self, request: service_pb2.RespondActivityTaskCompletedByIdRequest, call: Call
    ) -> service_pb2.RespondActivityTaskCompletedByIdResponse:
        r = request
        await self.history.complete_activity_by_id(
            r.namespace, r.workflow_id, r.run_id, r.activity_id, r.result, r.identity
        )
        return service_pb2.RespondActivityTaskCompletedByIdResponse()

    @rpc
    async def RespondActivityTaskFailedById(
        self, request: service_pb2.RespondActivityTaskFailedByIdRequest, call: Call
    ) -> service_pb2.RespondActivityTaskFailedByIdResponse:
        r = request
        await self.history.fail_activity_by_id(
            r.namespace, r.workflow_id, r.run_id, r.activity_id, r.failure, r.identity
        )
        return service_pb2.RespondActivityTaskFailedByIdResponse()

    @rpc
    async def RecordActivityTaskHeartbeatById(
        self, request: service_pb2.RecordActivityTaskHeartbeatByIdRequest, call: Call
    ) -> service_pb2.RecordActivityTaskHeartbeatByIdResponse:
        r = request
        cancel = await self.history.heartbeat_activity_by_id(
            r.namespace, r.workflow_id, r.run_id, r.activity_id, r.details, r.identity
        )
        return service_pb2.RecordActivityTaskHeartbeatByIdResponse(cancel_requested=cancel)

    @rpc
    async def RespondActivityTaskCanceledById(
        self, request: service_pb2.RespondActivityTaskCanceledByIdRequest, call: Call
    ) -> service_pb2.RespondActivityTaskCanceledByIdResponse:
        r = request
        await self.history.cancel_activity_by_id(
            r.namespace, r.workflow_id, r.run_id, r.activity_id, r.details, r.identity
        )
        return service_pb2.RespondActivityTaskCanceledByIdResponse()

    # -- talking to running workflows --------------------------------------------------------------

    @rpc
    async def SignalWorkflowExecution(
        self, request: service_pb2.SignalWorkflowExecutionRequest, call: Call
    ) -> service_pb2.SignalWorkflowExecutionResponse:
        await self.history.signal(request)
        return service_pb2.SignalWorkflowExecutionResponse()

    @rpc
    async def RequestCancelWorkflowExecution(
        self, request: service_pb2.RequestCancelWorkflowExecutionRequest, call: Call
    ) -> service_pb2.RequestCancelWorkflowExecutionResponse:
        e = request.workflow_execution
        await self.history.request_cancel(request.namespace, e.workflow_id, e.run_id, request.reason, request.identity)
        return service_pb2.RequestCancelWorkflowExecutionResponse()

    @rpc
    async def TerminateWorkflowExecution(
        self, request: service_pb2.TerminateWorkflowExecutionRequest, call: Call
    ) -> service_pb2.TerminateWorkflowExecutionResponse:
        e = request.workflow_execution
        await self.history.terminate(
            request.namespace, e.workflow_id, e.run_id, request.reason, request.details, request.identity
        )
        return service_pb2.TerminateWorkflowExecutionResponse()

    @rpc
    async def ResetWorkflowExecution(
        self, request: service_pb2.ResetWorkflowExecutionRequest, call: Call
    ) -> service_pb2.ResetWorkflowExecutionResponse:
        run_id = await self.history.reset(request)
        return service_pb2.ResetWorkflowExecutionResponse(run_id=run_id)

    # -- queries -----------------------------------------------------------------------------------

    @rpc
    async def QueryWorkflow(
        self, request: service_pb2.QueryWorkflowRequest, call: Call
    ) -> service_pb2.QueryWorkflowResponse:
        e = request.execution
        timeout = min(self.config.query_timeout, self._poll_timeout(call))
        result = await self.history.query(
            request.namespace, e.workflow_id, e.run_id, request.query.query_type, request.query.query_args, timeout
        )
        return service_pb2.QueryWorkflowResponse(query_result=result)

    @rpc
    async def RespondQueryTaskCompleted(
        self, request: service_pb2.RespondQueryTaskCompletedRequest, call: Call
    ) -> service_pb2.RespondQueryTaskCompletedResponse:
        token = await self.history.tokens.verify(request.task_token)
        await self.history.answer_query(token, request.query_result, request.error_message)
        return service_pb2.RespondQueryTaskCompletedResponse()

    # -- updates -----------------------------------------------------------------------------------

    @rpc
    async def UpdateWorkflowExecution(
        self, request: service_pb2.UpdateWorkflowExecutionRequest, call: Call
    ) -> service_pb2.UpdateWorkflowExecutionResponse:
        return await self.history.update(request, self._poll_timeout(call))


__all__ = ["WorkflowService", "TaskGone"]
