"""History → activation jobs: the one translation replay and the live path share.

A workflow run is driven the way sdk-core drives it: each history event that resolves something the
workflow awaits (an activity's outcome, a timer, a signal, a cancellation request…) becomes one
*job*, and the jobs gathered since the last activation are handed to the instance with the time of
the workflow task that delivers them (:class:`Activation`). The instance applies each job with one
``_apply_<job>`` method, then runs workflow code until it blocks (``WorkflowInstance.activate``).

Events that record a command (ActivityTaskScheduled, TimerStarted…) are not jobs: replay matches them
against the commands the code asked for (``_commands.COMMANDS``). Events of workflow tasks themselves
(Scheduled, Started, Completed…) only cut the history into activations.

A worker that completes an activity of a run it has cached does not invent the events the server will
record: it applies the :class:`ResolveActivity` job it knows, and later checks that the events the server
authored translate to exactly that job (``Replay.catch_up``).

Adding a kind of job: its dataclass here, its place in :data:`Job`, its translation in ``_EVENT_JOBS``,
and its ``_apply_<job>`` on the instance.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from wf.v1 import common_pb2, history_pb2
from worker_sdk._converter import DataConverter

H = history_pb2

# The name of the marker a patched() branch records, and of its detail holding the patch id.
PATCH_MARKER = "core_patch"


@dataclass(frozen=True, slots=True)
class StartWorkflow:
    """The run begins: make the workflow object and start its run method with ``input``
    (``attributes``: the whole started event, for what ``workflow.info()`` tells, such as the parent)."""

    input: common_pb2.Payloads
    attributes: history_pb2.WorkflowExecutionStartedEventAttributes | None = field(default=None, compare=False)


@dataclass(frozen=True, slots=True)
class ResolveActivity:
    """An activity's outcome: its result, its failure (a timeout is one), or its cancellation."""

    activity_id: str
    result: common_pb2.Payloads | None = None
    failure: common_pb2.Failure | None = None
    scheduled_event_id: int = 0
    started_event_id: int = 0
    retry_state: int = 0
    timed_out: bool = False
    canceled: bool = False


@dataclass(frozen=True, slots=True)
class FireTimer:
    timer_id: str


@dataclass(frozen=True, slots=True)
class SignalWorkflow:
    name: str
    input: common_pb2.Payloads


@dataclass(frozen=True, slots=True)
class CancelWorkflow:
    """Cancellation of the run was requested: its main coroutine gets CancelledError."""


@dataclass(frozen=True, slots=True)
class DoUpdate:
    """Run an update's handler: a new request is validated first; one the history records as
    accepted (on replay) runs without its validator, as it did when it was accepted."""

    update_id: str
    name: str
    input: common_pb2.Payloads
    validate: bool


@dataclass(frozen=True, slots=True)
class UpdateRecorded:
    """The history records this update's outcome: it is not sent to the server again."""

    update_id: str


@dataclass(frozen=True, slots=True)
class NotifyHasPatch:
    """The workflow task being replayed recorded this patch's marker: ``patched()`` answers True."""

    patch_id: str


@dataclass(frozen=True, slots=True)
class ResolveSignalExternalWorkflow:
    """A signal this run sent another workflow was delivered (``failure`` None) or could not be."""

    initiated_event_id: int
    failure: common_pb2.Failure | None = None


@dataclass(frozen=True, slots=True)
class ResolveChildWorkflowExecutionStart:
    """A child this run started is running (``run_id``), or could not start (``failed_cause``, a
    ``StartChildWorkflowExecutionFailedCause``: its id is taken)."""

    initiated_event_id: int
    run_id: str = ""
    failed_cause: int = 0


@dataclass(frozen=True, slots=True)
class ResolveChildWorkflowExecution:
    """A child this run started closed: its result, or a failure with child-workflow info whose cause
    is why it ended (its failure, a cancellation, a termination or a timeout), as sdk-core builds it."""

    initiated_event_id: int
    result: common_pb2.Payloads | None = None
    failure: common_pb2.Failure | None = None


@dataclass(frozen=True, slots=True)
class ResolveRequestCancelExternalWorkflow:
    """A cancellation this run asked of another workflow was delivered (``failure`` None) or could not be."""

    initiated_event_id: int
    failure: common_pb2.Failure | None = None


Job = (
    StartWorkflow | ResolveActivity | FireTimer | SignalWorkflow | CancelWorkflow | DoUpdate | UpdateRecorded
    | NotifyHasPatch | ResolveSignalExternalWorkflow | ResolveChildWorkflowExecutionStart
    | ResolveChildWorkflowExecution | ResolveRequestCancelExternalWorkflow
)


@dataclass(slots=True)
class Activation:
    """One workflow task for the instance: its time (the workflow's now()), whether it is a replay of
    one already recorded, the history length workflow.info() reports, and the jobs to apply first."""

    time: datetime
    replaying: bool
    history_length: int
    jobs: list[Job] = field(default_factory=list)
    # As the task's WorkflowTaskStarted records them (the server decides): workflow.info()'s
    # get_current_history_size() and is_continue_as_new_suggested().
    history_size: int = 0
    suggest_continue_as_new: bool = False


def patch_id_of(details: Mapping[str, common_pb2.Payloads], converter: DataConverter) -> str:
    """The patch id a patch marker's details carry."""
    values = converter.from_payloads(details["patch_id"]) if "patch_id" in details else []
    return str(values[0]) if values else ""


def _activity_completed(event: history_pb2.HistoryEvent, ids: dict[int, str]) -> Job:
    a = event.activity_task_completed_event_attributes
    return ResolveActivity(ids.get(a.scheduled_event_id, ""), result=a.result)


def _activity_failed(event: history_pb2.HistoryEvent, ids: dict[int, str]) -> Job:
    f = event.activity_task_failed_event_attributes
    return ResolveActivity(
        ids.get(f.scheduled_event_id, ""), failure=f.failure, scheduled_event_id=f.scheduled_event_id,
        started_event_id=f.started_event_id, retry_state=f.retry_state,
    )


def _activity_timed_out(event: history_pb2.HistoryEvent, ids: dict[int, str]) -> Job:
    o = event.activity_task_timed_out_event_attributes
    return ResolveActivity(
        ids.get(o.scheduled_event_id, ""), failure=o.failure, scheduled_event_id=o.scheduled_event_id,
        started_event_id=o.started_event_id, retry_state=o.retry_state, timed_out=True,
    )


def _activity_canceled(event: history_pb2.HistoryEvent, ids: dict[int, str]) -> Job:
    return ResolveActivity(ids.get(event.activity_task_canceled_event_attributes.scheduled_event_id, ""), canceled=True)


def _signaled(event: history_pb2.HistoryEvent, ids: dict[int, str]) -> Job:
    s = event.workflow_execution_signaled_event_attributes
    return SignalWorkflow(s.signal_name, s.input)


def _external_signaled(event: history_pb2.HistoryEvent, ids: dict[int, str]) -> Job:
    return ResolveSignalExternalWorkflow(event.external_workflow_execution_signaled_event_attributes.initiated_event_id)


def _external_signal_failed(event: history_pb2.HistoryEvent, ids: dict[int, str]) -> Job:
    f = event.signal_external_workflow_execution_failed_event_attributes
    target = f.workflow_execution.workflow_id
    if f.cause == common_pb2.SIGNAL_EXTERNAL_WORKFLOW_EXECUTION_FAILED_CAUSE_SIGNAL_COUNT_LIMIT_EXCEEDED:
        message, kind = f"workflow {target!r} has received all the signals it may receive", "SignalCountLimitExceeded"
    else:
        message = f"unable to signal workflow {target!r}: it was not found, or it is closed"
        kind = "ExternalWorkflowExecutionNotFound"
    failure = common_pb2.Failure(
        message=message, application_failure_info=common_pb2.ApplicationFailureInfo(type=kind, non_retryable=True)
    )
    return ResolveSignalExternalWorkflow(f.initiated_event_id, failure)


def _child_started(event: history_pb2.HistoryEvent, ids: dict[int, str]) -> Job:
    a = event.child_workflow_execution_started_event_attributes
    return ResolveChildWorkflowExecutionStart(a.initiated_event_id, run_id=a.workflow_execution.run_id)


def _child_start_failed(event: history_pb2.HistoryEvent, ids: dict[int, str]) -> Job:
    a = event.start_child_workflow_execution_failed_event_attributes
    return ResolveChildWorkflowExecutionStart(a.initiated_event_id, failed_cause=a.cause or 1)


def _child_failure(attrs: Any, message: str, cause: common_pb2.Failure) -> common_pb2.Failure:
    """What a parent sees of a child's close other than a result: the child, and why it ended."""
    return common_pb2.Failure(
        message=message,
        source="wf",
        child_workflow_execution_failure_info=common_pb2.ChildWorkflowExecutionFailureInfo(
            namespace=attrs.namespace,
            workflow_execution=attrs.workflow_execution,
            workflow_type=attrs.workflow_type,
            initiated_event_id=attrs.initiated_event_id,
            started_event_id=attrs.started_event_id,
            retry_state=attrs.retry_state if hasattr(attrs, "retry_state") else common_pb2.RETRY_STATE_UNSPECIFIED,
        ),
        cause=cause,
    )


def _child_closed(event: history_pb2.HistoryEvent, ids: dict[int, str]) -> Job:
    kind = event.WhichOneof("attributes")
    a = getattr(event, kind or "")
    if kind == "child_workflow_execution_completed_event_attributes":
        return ResolveChildWorkflowExecution(a.initiated_event_id, result=a.result)
    if kind == "child_workflow_execution_failed_event_attributes":
        cause = a.failure
    elif kind == "child_workflow_execution_canceled_event_attributes":
        cause = common_pb2.Failure(
            message="the child workflow was cancelled",
            canceled_failure_info=common_pb2.CanceledFailureInfo(details=a.details),
        )
    elif kind == "child_workflow_execution_timed_out_event_attributes":
        cause = common_pb2.Failure(
            message="the child workflow timed out",
            timeout_failure_info=common_pb2.TimeoutFailureInfo(timeout_type=common_pb2.TIMEOUT_TYPE_START_TO_CLOSE),
        )
    else:
        cause = common_pb2.Failure(
            message="the child workflow was terminated", terminated_failure_info=common_pb2.TerminatedFailureInfo()
        )
    status = kind.removeprefix("child_workflow_execution_").removesuffix("_event_attributes").replace("_", " ")
    message = f"child workflow {a.workflow_execution.workflow_id!r} {status}"
    return ResolveChildWorkflowExecution(a.initiated_event_id, failure=_child_failure(a, message, cause))


def _cancel_requested(event: history_pb2.HistoryEvent, ids: dict[int, str]) -> Job:
    a = event.external_workflow_execution_cancel_requested_event_attributes
    return ResolveRequestCancelExternalWorkflow(a.initiated_event_id)


def _cancel_failed(event: history_pb2.HistoryEvent, ids: dict[int, str]) -> Job:
    f = event.request_cancel_external_workflow_execution_failed_event_attributes
    failure = common_pb2.Failure(
        message=f"unable to cancel workflow {f.workflow_execution.workflow_id!r}: it was not found, or it is closed",
        application_failure_info=common_pb2.ApplicationFailureInfo(
            type="ExternalWorkflowExecutionNotFound", non_retryable=True
        ),
    )
    return ResolveRequestCancelExternalWorkflow(f.initiated_event_id, failure)


# Each event that resolves something, and the job it becomes (given the activity ids by the id of
# the event that scheduled them).
_EVENT_JOBS: dict[int, Callable[[history_pb2.HistoryEvent, dict[int, str]], Job]] = {
    H.EVENT_TYPE_WORKFLOW_EXECUTION_STARTED: lambda e, _: StartWorkflow(
        e.workflow_execution_started_event_attributes.input, e.workflow_execution_started_event_attributes
    ),
    H.EVENT_TYPE_ACTIVITY_TASK_COMPLETED: _activity_completed,
    H.EVENT_TYPE_ACTIVITY_TASK_FAILED: _activity_failed,
    H.EVENT_TYPE_ACTIVITY_TASK_TIMED_OUT: _activity_timed_out,
    H.EVENT_TYPE_ACTIVITY_TASK_CANCELED: _activity_canceled,
    H.EVENT_TYPE_TIMER_FIRED: lambda e, _: FireTimer(e.timer_fired_event_attributes.timer_id),
    H.EVENT_TYPE_WORKFLOW_EXECUTION_SIGNALED: _signaled,
    H.EVENT_TYPE_WORKFLOW_EXECUTION_CANCEL_REQUESTED: lambda e, _: CancelWorkflow(),
    H.EVENT_TYPE_EXTERNAL_WORKFLOW_EXECUTION_SIGNALED: _external_signaled,
    H.EVENT_TYPE_SIGNAL_EXTERNAL_WORKFLOW_EXECUTION_FAILED: _external_signal_failed,
    H.EVENT_TYPE_CHILD_WORKFLOW_EXECUTION_STARTED: _child_started,
    H.EVENT_TYPE_START_CHILD_WORKFLOW_EXECUTION_FAILED: _child_start_failed,
    H.EVENT_TYPE_CHILD_WORKFLOW_EXECUTION_COMPLETED: _child_closed,
    H.EVENT_TYPE_CHILD_WORKFLOW_EXECUTION_FAILED: _child_closed,
    H.EVENT_TYPE_CHILD_WORKFLOW_EXECUTION_CANCELED: _child_closed,
    H.EVENT_TYPE_CHILD_WORKFLOW_EXECUTION_TIMED_OUT: _child_closed,
    H.EVENT_TYPE_CHILD_WORKFLOW_EXECUTION_TERMINATED: _child_closed,
    H.EVENT_TYPE_EXTERNAL_WORKFLOW_EXECUTION_CANCEL_REQUESTED: _cancel_requested,
    H.EVENT_TYPE_REQUEST_CANCEL_EXTERNAL_WORKFLOW_EXECUTION_FAILED: _cancel_failed,
    H.EVENT_TYPE_WORKFLOW_EXECUTION_UPDATE_COMPLETED: lambda e, _: UpdateRecorded(
        e.workflow_execution_update_completed_event_attributes.update_id
    ),
}

TASK_ENDS = frozenset({
    H.EVENT_TYPE_WORKFLOW_TASK_COMPLETED,
    H.EVENT_TYPE_WORKFLOW_TASK_FAILED,
    H.EVENT_TYPE_WORKFLOW_TASK_TIMED_OUT,
})


class HistoryJobs:
    """Translates one run's events into jobs; remembers which activity each scheduling event was."""

    def __init__(self, converter: DataConverter) -> None:
        self._converter = converter
        self._activity_ids: dict[int, str] = {}

    def activity_scheduled(self, scheduled_event_id: int, activity_id: str) -> None:
        """ActivityTaskScheduled ``scheduled_event_id`` recorded activity ``activity_id``."""
        self._activity_ids[scheduled_event_id] = activity_id

    def of_event(self, event: history_pb2.HistoryEvent) -> Job | None:
        """The job an event becomes; None for an event that resolves nothing."""
        translate = _EVENT_JOBS.get(event.event_type)
        return translate(event, self._activity_ids) if translate is not None else None

    def of_events(self, events: Sequence[history_pb2.HistoryEvent]) -> list[Job]:
        return [job for job in map(self.of_event, events) if job is not None]

    def of_task(self, events: Sequence[history_pb2.HistoryEvent], started: int) -> tuple[int, list[Job]]:
        """For the WorkflowTaskStarted at index ``started``: how its task ended (the type of the next
        WorkflowTaskCompleted, Failed or TimedOut event, 0 if none yet), and, when it completed, the
        jobs its completion implies for a replay of it: the updates it accepted and the patch markers
        it recorded (delivered to the same activation on replay, as they were when it ran for real).
        Events that arrived while the task ran (signals, activity results) sit between Started and
        Completed and belong to the next activation."""
        outcome = 0
        i = started + 1
        while i < len(events):
            t = events[i].event_type
            if t in TASK_ENDS:
                outcome = t
                break
            if t == H.EVENT_TYPE_WORKFLOW_TASK_STARTED:
                break
            i += 1
        jobs: list[Job] = []
        if outcome != H.EVENT_TYPE_WORKFLOW_TASK_COMPLETED:
            return outcome, jobs
        patches: list[Job] = []  # first: they decide what patched() answers in this activation
        for event in events[i + 1:]:
            t = event.event_type
            if t in (H.EVENT_TYPE_WORKFLOW_TASK_SCHEDULED, H.EVENT_TYPE_WORKFLOW_TASK_STARTED):
                break
            if t == H.EVENT_TYPE_WORKFLOW_EXECUTION_UPDATE_ACCEPTED:
                u = event.workflow_execution_update_accepted_event_attributes
                jobs.append(DoUpdate(u.update_id, u.name, u.input, validate=False))
            elif t == H.EVENT_TYPE_MARKER_RECORDED:
                marker = event.marker_recorded_event_attributes
                if marker.marker_name == PATCH_MARKER:
                    patches.append(NotifyHasPatch(patch_id_of(marker.details, self._converter)))
        return outcome, patches + jobs
