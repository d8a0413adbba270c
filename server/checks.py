"""The validation stage of the call pipeline: each method's request checks.

A check raises InvalidArgument (a field is missing or wrong) or LimitExceeded (a configured limit is
passed) with a message naming the field; it runs before authorization and before the handler, so a
handler sees only requests of the right shape.

Every method's check begins with one that no string the server stores or queries with holds a NUL
character, which PostgreSQL's text cannot: it covers every singular string field of the request and of
its singular messages (ids, run ids, names, queries, identities, reasons, request ids), found from the
request's descriptor so a field added later is covered too. Payloads and failures are left out: the
server keeps them as serialized bytes, never as text, and a failure's message may hold any character.
Strings that are not valid UTF-8 never get this far: the transport refuses a request that does not
parse (``server/pipeline.py``). What a handler derives from a field (a decoded task
token, a sticky timeout) it derives itself; the check only makes sure it can. A failure is the one
thing a check changes rather than refuses: it is bounded in place (``wf.history.failures`` says why).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

from google.protobuf.descriptor import Descriptor, FieldDescriptor
from google.protobuf.duration_pb2 import Duration
from google.protobuf.timestamp_pb2 import Timestamp

from wf.history import errors, retry
from wf.history.failures import bound_failure, bound_text
from wf.history.limits import MAX_DURATION_SECONDS, Limits, id_length
from wf.v1 import common_pb2, schedule_pb2, service_pb2

log = logging.getLogger(__name__)

S = service_pb2

# The times a request may carry: years 1 to 9999, as Python's datetime can hold them.
_MIN_SECONDS = int(datetime(1, 1, 1, tzinfo=UTC).timestamp())
_MAX_SECONDS = int(datetime(9999, 12, 31, tzinfo=UTC).timestamp())
# The sticky queue's schedule-to-start timeout when a completion leaves it unset.
_STICKY_TIMEOUT = timedelta(seconds=5)


# Messages the server keeps as bytes and never puts into a text column: not searched for NUL.
_OPAQUE = frozenset({"wf.v1.Payloads", "wf.v1.Payload", "wf.v1.Failure"})


def text_fields(descriptor: Descriptor, prefix: tuple[str, ...] = ()) -> list[tuple[str, ...]]:
    """The paths of the singular string fields of ``descriptor``'s message and of its singular
    messages (those in :data:`_OPAQUE` left out), e.g. ``("execution", "run_id")``."""
    found: list[tuple[str, ...]] = []
    for f in descriptor.fields:
        if f.is_repeated:
            continue
        if f.type == FieldDescriptor.TYPE_STRING:
            found.append((*prefix, f.name))
        elif (inner := f.message_type) is not None and inner.full_name not in _OPAQUE:
            found.extend(text_fields(inner, (*prefix, f.name)))
    return found


def sticky_timeout(queue: str, timeout: Duration) -> timedelta:
    """A completion's sticky schedule-to-start timeout (5 s when unset)."""
    if not queue or not (timeout.seconds or timeout.nanos):
        return _STICKY_TIMEOUT
    return timeout.ToTimedelta()


class Validator:
    """Checks of single fields, shared by the methods' checks."""

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

    def no_nul(self, message: Any, paths: list[tuple[str, ...]]) -> None:
        """Refuses a NUL character in any of the string fields at ``paths`` (see :func:`text_fields`)."""
        for path in paths:
            value: Any = message
            for name in path:
                value = getattr(value, name)
            if "\x00" in value:
                raise errors.InvalidArgument(f"{'.'.join(path)} must not contain NUL characters")

    def duration(self, d: Duration, what: str) -> None:
        if d.seconds < 0 or d.nanos < 0:
            raise errors.InvalidArgument(f"{what} must not be negative")
        if d.seconds > MAX_DURATION_SECONDS:
            raise errors.InvalidArgument(f"{what} must not be longer than 100 years")

    def sticky(self, queue: str, timeout: Duration) -> None:
        """A completion's sticky queue, when it names one, and its schedule-to-start timeout."""
        if queue:
            self.name(queue, "sticky_task_queue")
            self.duration(timeout, "sticky_schedule_to_start_timeout")

    def timestamp(self, t: Timestamp, what: str) -> None:
        if not _MIN_SECONDS <= t.seconds <= _MAX_SECONDS or not 0 <= t.nanos < 1_000_000_000:
            raise errors.InvalidArgument(f"{what} is not a valid time")

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

    def failure(self, f: common_pb2.Failure, what: str) -> None:
        """Bound a failure in place: causes past the depth summarized, long texts and details cut
        (``wf.history.failures`` says why it truncates rather than refuses)."""
        if bound_failure(f, self.limits):
            log.debug("%s was cut to the failure limits", what)

    def update_responses(self, responses: Sequence[common_pb2.UpdateResponse]) -> None:
        """The failures of a worker's update answers (a rejection, a handler's failure), bounded."""
        for r in responses:
            if r.HasField("rejected"):
                self.failure(r.rejected, f"rejection of update {r.update_id!r}")
            elif r.HasField("completed") and r.completed.HasField("failure"):
                self.failure(r.completed.failure, f"failure of update {r.update_id!r}")

    def token(self, data: bytes) -> None:
        # Decoding it is the handler's (a malformed token is refused there, as INVALID_ARGUMENT too):
        # decoding it here as well would cost every completion a second parse.
        if not data:
            raise errors.InvalidArgument("task_token is required")


class RequestChecks(Validator):
    """One check per method, named after it; a method without one takes any request."""

    def by_method(self) -> dict[str, Callable[[Any], None]]:
        """The checks by method name, for the pipeline's validation stage: for each, the NUL check
        of its request's strings, then the method's own check if it has one."""
        checks = {}
        for m in S.DESCRIPTOR.services_by_name["WorkflowService"].methods:
            if m.client_streaming or m.server_streaming:
                continue
            own: Callable[[Any], None] | None = getattr(self, m.name, None)
            paths = text_fields(m.input_type)
            if paths:
                checks[m.name] = self._checked_text(paths, own)
            elif own is not None:
                checks[m.name] = own
        return checks

    def _checked_text(
        self, paths: list[tuple[str, ...]], own: Callable[[Any], None] | None
    ) -> Callable[[Any], None]:
        def check(request: Any) -> None:
            self.no_nul(request, paths)
            if own is not None:
                own(request)

        return check

    # -- workflows ---------------------------------------------------------------------------------

    def StartWorkflowExecution(self, r: S.StartWorkflowExecutionRequest) -> None:
        self.name(r.namespace, "namespace")
        self.name(r.workflow_id, "workflow_id")
        self.name(r.workflow_type.name, "workflow_type")
        self.name(r.task_queue.name, "task_queue")
        if r.request_id:
            self.name(r.request_id, "request_id")
        self.duration(r.workflow_execution_timeout, "workflow_execution_timeout")
        self.duration(r.workflow_run_timeout, "workflow_run_timeout")
        self.duration(r.workflow_task_timeout, "workflow_task_timeout")
        if r.HasField("retry_policy") and (problem := retry.validate(r.retry_policy)):
            raise errors.InvalidArgument(problem)
        self.payloads(r.input, "workflow input")
        if r.signal_name:
            self.name(r.signal_name, "signal_name")
            self.payloads(r.signal_input, "signal input")

    def GetWorkflowExecutionHistory(self, r: S.GetWorkflowExecutionHistoryRequest) -> None:
        self.name(r.namespace, "namespace")
        self.name(r.execution.workflow_id, "execution.workflow_id")
        if r.next_page_token and len(r.next_page_token) != 8:
            raise errors.InvalidArgument("next_page_token is malformed")

    def DescribeWorkflowExecution(self, r: S.DescribeWorkflowExecutionRequest) -> None:
        self.name(r.namespace, "namespace")
        self.name(r.execution.workflow_id, "execution.workflow_id")

    def DescribeTaskQueue(self, r: S.DescribeTaskQueueRequest) -> None:
        self.name(r.namespace, "namespace")
        self.name(r.task_queue.name, "task_queue")

    def ListWorkflowExecutions(self, r: S.ListWorkflowExecutionsRequest) -> None:
        self.name(r.namespace, "namespace")
        if r.page_size < 0:
            raise errors.InvalidArgument("page_size must not be negative")

    # -- visibility: counts and the search attributes registry --------------------------------------

    def CountWorkflowExecutions(self, r: S.CountWorkflowExecutionsRequest) -> None:
        self.name(r.namespace, "namespace")

    def AddSearchAttributes(self, r: S.AddSearchAttributesRequest) -> None:
        self.name(r.namespace, "namespace")
        for name in r.search_attributes:
            self.name(name, "search attribute name")

    def RemoveSearchAttributes(self, r: S.RemoveSearchAttributesRequest) -> None:
        self.name(r.namespace, "namespace")
        for name in r.search_attributes:
            self.name(name, "search attribute name")

    def ListSearchAttributes(self, r: S.ListSearchAttributesRequest) -> None:
        self.name(r.namespace, "namespace")

    # -- workflow tasks ----------------------------------------------------------------------------

    def PollWorkflowTaskQueue(self, r: S.PollWorkflowTaskQueueRequest) -> None:
        self.name(r.namespace, "namespace")
        self.name(r.task_queue.name, "task_queue")

    def RespondWorkflowTaskCompleted(self, r: S.RespondWorkflowTaskCompletedRequest) -> None:
        self.token(r.task_token)
        # Payload and history limits are checked by history: past one, the workflow fails cleanly.
        # The failure a FailWorkflowExecution command carries is bounded by its handler.
        self.sticky(r.sticky_task_queue, r.sticky_schedule_to_start_timeout)
        self.update_responses(r.update_responses)

    def RespondWorkflowTaskFailed(self, r: S.RespondWorkflowTaskFailedRequest) -> None:
        self.token(r.task_token)
        self.failure(r.failure, "workflow task failure")

    # -- activity tasks ----------------------------------------------------------------------------

    def PollActivityTaskQueue(self, r: S.PollActivityTaskQueueRequest) -> None:
        self.name(r.namespace, "namespace")
        self.name(r.task_queue.name, "task_queue")

    def RespondActivityTaskCompleted(self, r: S.RespondActivityTaskCompletedRequest) -> None:
        self.token(r.task_token)
        self.payloads(r.result, "activity result")
        if r.eager_workflow_task_queue:
            self.name(r.eager_workflow_task_queue, "eager_workflow_task_queue")
        if r.next_activity_task_queue:
            self.name(r.next_activity_task_queue, "next_activity_task_queue")
        if r.HasField("workflow_task_ahead"):
            a = r.workflow_task_ahead
            self.timestamp(a.started_time, "workflow_task_ahead.started_time")
            self.sticky(a.sticky_task_queue, a.sticky_schedule_to_start_timeout)
            self.update_responses(a.update_responses)

    def RespondActivityTaskFailed(self, r: S.RespondActivityTaskFailedRequest) -> None:
        self.token(r.task_token)
        self.failure(r.failure, "activity failure")

    def RecordActivityTaskHeartbeat(self, r: S.RecordActivityTaskHeartbeatRequest) -> None:
        self.token(r.task_token)
        self.payloads(r.details, "heartbeat details")

    def RespondActivityTaskCanceled(self, r: S.RespondActivityTaskCanceledRequest) -> None:
        self.token(r.task_token)
        self.payloads(r.details, "cancellation details")

    # -- activity tasks answered by id -------------------------------------------------------------

    def activity_by_id(self, namespace: str, workflow_id: str, activity_id: str) -> None:
        """The activity an answer by id names (its run id may be empty: the workflow's running run)."""
        self.name(namespace, "namespace")
        self.name(workflow_id, "workflow_id")
        self.name(activity_id, "activity_id")

    def RespondActivityTaskCompletedById(self, r: S.RespondActivityTaskCompletedByIdRequest) -> None:
        self.activity_by_id(r.namespace, r.workflow_id, r.activity_id)
        self.payloads(r.result, "activity result")

    def RespondActivityTaskFailedById(self, r: S.RespondActivityTaskFailedByIdRequest) -> None:
        self.activity_by_id(r.namespace, r.workflow_id, r.activity_id)
        self.failure(r.failure, "activity failure")

    def RecordActivityTaskHeartbeatById(self, r: S.RecordActivityTaskHeartbeatByIdRequest) -> None:
        self.activity_by_id(r.namespace, r.workflow_id, r.activity_id)
        self.payloads(r.details, "heartbeat details")

    def RespondActivityTaskCanceledById(self, r: S.RespondActivityTaskCanceledByIdRequest) -> None:
        self.activity_by_id(r.namespace, r.workflow_id, r.activity_id)
        self.payloads(r.details, "cancellation details")

    # -- talking to running workflows --------------------------------------------------------------

    def SignalWorkflowExecution(self, r: S.SignalWorkflowExecutionRequest) -> None:
        self.name(r.namespace, "namespace")
        self.name(r.workflow_execution.workflow_id, "workflow_execution.workflow_id")
        self.name(r.signal_name, "signal_name")
        if r.request_id:
            self.name(r.request_id, "request_id")
        self.payloads(r.input, "signal input")

    def RequestCancelWorkflowExecution(self, r: S.RequestCancelWorkflowExecutionRequest) -> None:
        self.name(r.namespace, "namespace")
        self.name(r.workflow_execution.workflow_id, "workflow_execution.workflow_id")

    def TerminateWorkflowExecution(self, r: S.TerminateWorkflowExecutionRequest) -> None:
        self.name(r.namespace, "namespace")
        self.name(r.workflow_execution.workflow_id, "workflow_execution.workflow_id")
        self.payloads(r.details, "termination details")

    def ResetWorkflowExecution(self, r: S.ResetWorkflowExecutionRequest) -> None:
        self.name(r.namespace, "namespace")
        self.name(r.workflow_execution.workflow_id, "workflow_execution.workflow_id")
        if not r.reason:
            raise errors.InvalidArgument("reason is required: say why the run is reset")
        r.reason = bound_text(r.reason, self.limits)
        if r.request_id:
            self.name(r.request_id, "request_id")
        if r.workflow_task_finish_event_id <= 1:
            raise errors.InvalidArgument(
                "workflow_task_finish_event_id must name a workflow task's Completed, Failed, TimedOut or "
                "Started event (an event id above 1)"
            )
        if r.reset_reapply_type not in common_pb2.ResetReapplyType.values():
            raise errors.InvalidArgument(f"reset_reapply_type {r.reset_reapply_type} is not a ResetReapplyType")
        for excluded in r.reset_reapply_exclude_types:
            if excluded not in common_pb2.ResetReapplyExcludeType.values():
                raise errors.InvalidArgument(
                    f"reset_reapply_exclude_types: {excluded} is not a ResetReapplyExcludeType"
                )

    def QueryWorkflow(self, r: S.QueryWorkflowRequest) -> None:
        self.name(r.namespace, "namespace")
        self.name(r.execution.workflow_id, "execution.workflow_id")
        self.name(r.query.query_type, "query.query_type")
        self.payloads(r.query.query_args, "query arguments")

    def RespondQueryTaskCompleted(self, r: S.RespondQueryTaskCompletedRequest) -> None:
        self.token(r.task_token)
        self.payloads(r.query_result, "query result")
        r.error_message = bound_text(r.error_message, self.limits)

    def UpdateWorkflowExecution(self, r: S.UpdateWorkflowExecutionRequest) -> None:
        self.name(r.namespace, "namespace")
        self.name(r.execution.workflow_id, "execution.workflow_id")
        self.name(r.update_id, "update_id")
        self.name(r.name, "name")
        self.payloads(r.args, "update arguments")
        if r.wait_stage not in (S.UPDATE_WAIT_STAGE_ACCEPTED, S.UPDATE_WAIT_STAGE_COMPLETED):
            raise errors.InvalidArgument("wait_stage must be ACCEPTED or COMPLETED")


    # -- namespaces and deleting runs --------------------------------------------------------------

    def RegisterNamespace(self, r: S.RegisterNamespaceRequest) -> None:
        self.name(r.namespace, "namespace")
        if r.HasField("workflow_execution_retention_period"):
            self.duration(r.workflow_execution_retention_period, "workflow_execution_retention_period")

    def DescribeNamespace(self, r: S.DescribeNamespaceRequest) -> None:
        self.name(r.namespace, "namespace")

    def ListNamespaces(self, r: S.ListNamespacesRequest) -> None:
        if r.page_size < 0:
            raise errors.InvalidArgument("page_size must not be negative")

    def UpdateNamespace(self, r: S.UpdateNamespaceRequest) -> None:
        self.name(r.namespace, "namespace")
        if r.HasField("workflow_execution_retention_ttl"):
            self.duration(r.workflow_execution_retention_ttl, "workflow_execution_retention_ttl")

    def DeleteNamespace(self, r: S.DeleteNamespaceRequest) -> None:
        self.name(r.namespace, "namespace")

    def DeleteWorkflowExecution(self, r: S.DeleteWorkflowExecutionRequest) -> None:
        self.name(r.namespace, "namespace")
        self.name(r.workflow_execution.workflow_id, "workflow_execution.workflow_id")

    # -- schedules ---------------------------------------------------------------------------------

    def schedule(self, s: schedule_pb2.Schedule, what: str = "schedule") -> None:
        """A schedule's action and the shape of its fields; its spec is checked and compiled by the
        server (``wf.history.schedules.spec.canonical_spec``)."""
        if not s.action.HasField("start_workflow"):
            raise errors.InvalidArgument(f"{what}.action.start_workflow is required")
        a = s.action.start_workflow
        at = f"{what}.action.start_workflow"
        self.name(a.workflow_id, f"{at}.workflow_id")
        # The runs are named <workflow_id>-<time, 20 characters>: that name must fit the id limit.
        if id_length(a.workflow_id) + 21 > self.limits.max_id_length:
            raise errors.InvalidArgument(
                f"{at}.workflow_id is too long: with the 21 characters of the nominal time the schedule "
                f"appends, the run's id would be over the {self.limits.describe('max_id_length')}"
            )
        self.name(a.workflow_type.name, f"{at}.workflow_type.name")
        self.name(a.task_queue.name, f"{at}.task_queue.name")
        self.duration(a.workflow_execution_timeout, f"{at}.workflow_execution_timeout")
        self.duration(a.workflow_run_timeout, f"{at}.workflow_run_timeout")
        self.duration(a.workflow_task_timeout, f"{at}.workflow_task_timeout")
        if a.HasField("retry_policy") and (problem := retry.validate(a.retry_policy)):
            raise errors.InvalidArgument(f"{at}.retry_policy: {problem}")
        self.payloads(a.input, f"{at}.input")
        if s.policies.HasField("catchup_window"):
            self.duration(s.policies.catchup_window, f"{what}.policies.catchup_window")
        if s.policies.overlap_policy not in schedule_pb2.ScheduleOverlapPolicy.values():
            raise errors.InvalidArgument(f"{what}.policies.overlap_policy: unknown policy {s.policies.overlap_policy}")
        if s.state.remaining_actions < 0:
            raise errors.InvalidArgument(f"{what}.state.remaining_actions must not be negative")
        for field in ("start_time", "end_time"):
            if s.spec.HasField(field):
                self.timestamp(getattr(s.spec, field), f"{what}.spec.{field}")
        self.duration(s.spec.jitter, f"{what}.spec.jitter")

    def schedule_patch(self, p: schedule_pb2.SchedulePatch, what: str = "patch") -> None:
        for i, b in enumerate(p.backfill_request):
            self.timestamp(b.start_time, f"{what}.backfill_request[{i}].start_time")
            self.timestamp(b.end_time, f"{what}.backfill_request[{i}].end_time")
            if b.end_time.ToDatetime() < b.start_time.ToDatetime():
                raise errors.InvalidArgument(f"{what}.backfill_request[{i}].end_time: before start_time")

    def CreateSchedule(self, r: S.CreateScheduleRequest) -> None:
        self.name(r.namespace, "namespace")
        self.name(r.schedule_id, "schedule_id")
        if r.request_id:
            self.name(r.request_id, "request_id")
        self.schedule(r.schedule)
        self.schedule_patch(r.initial_patch, "initial_patch")

    def DescribeSchedule(self, r: S.DescribeScheduleRequest) -> None:
        self.name(r.namespace, "namespace")
        self.name(r.schedule_id, "schedule_id")

    def UpdateSchedule(self, r: S.UpdateScheduleRequest) -> None:
        self.name(r.namespace, "namespace")
        self.name(r.schedule_id, "schedule_id")
        self.schedule(r.schedule)

    def PatchSchedule(self, r: S.PatchScheduleRequest) -> None:
        self.name(r.namespace, "namespace")
        self.name(r.schedule_id, "schedule_id")
        self.schedule_patch(r.patch)

    def ListScheduleMatchingTimes(self, r: S.ListScheduleMatchingTimesRequest) -> None:
        self.name(r.namespace, "namespace")
        self.name(r.schedule_id, "schedule_id")
        self.timestamp(r.start_time, "start_time")
        self.timestamp(r.end_time, "end_time")
        if r.end_time.ToDatetime() < r.start_time.ToDatetime():
            raise errors.InvalidArgument("end_time: before start_time")

    def ListAuditEvents(self, r: S.ListAuditEventsRequest) -> None:
        if r.HasField("start_time"):
            self.timestamp(r.start_time, "start_time")

    def CreateApiKey(self, r: S.CreateApiKeyRequest) -> None:
        if r.HasField("expire_time"):
            self.timestamp(r.expire_time, "expire_time")

    def DeleteSchedule(self, r: S.DeleteScheduleRequest) -> None:
        self.name(r.namespace, "namespace")
        self.name(r.schedule_id, "schedule_id")

    def ListSchedules(self, r: S.ListSchedulesRequest) -> None:
        self.name(r.namespace, "namespace")
        if r.maximum_page_size < 0:
            raise errors.InvalidArgument("maximum_page_size must not be negative")


__all__ = ["RequestChecks", "Validator", "sticky_timeout", "text_fields"]
