"""Signalling and cancelling another workflow from workflow code: the ``SIGNAL_EXTERNAL`` and
``CANCEL_EXTERNAL`` cross-run tasks.

The ``SignalExternalWorkflowExecution`` command records ``SignalExternalWorkflowExecutionInitiated``
and a cross-run task (``wf.history.operations.cross_run``). Firing it signals the target through the
ordinary signal path, with a request id made of the sending run and the initiated event, so a second
firing after a crash is recorded once by the target; then the sender records
``ExternalWorkflowExecutionSignaled``, or ``SignalExternalWorkflowExecutionFailed`` when the target
does not exist, is closed, is not the sender's child though ``child_workflow_only`` asked for one, or
has had all the signals it may receive. A cancellation request goes the same way through
``Signals.request_cancel`` (recorded once however often it is asked) and comes back as
``ExternalWorkflowExecutionCancelRequested`` or ``RequestCancelExternalWorkflowExecutionFailed``. As in
Temporal, a signal or request whose sender closed before it was delivered is not delivered.
"""

from __future__ import annotations

from wf.history.errors import FailedPrecondition, LimitExceeded, NotFound
from wf.history.execution import RUNNING, Execution
from wf.history.operations.cross_run import Record, event_of, state_of
from wf.history.operations.signals import Signals
from wf.history.runs import Runs
from wf.history.store import ExecutionRecord
from wf.history.tasks import TimerRow
from wf.v1 import common_pb2

C = common_pb2
_NOT_FOUND = C.SIGNAL_EXTERNAL_WORKFLOW_EXECUTION_FAILED_CAUSE_EXTERNAL_WORKFLOW_EXECUTION_NOT_FOUND
_TOO_MANY = C.SIGNAL_EXTERNAL_WORKFLOW_EXECUTION_FAILED_CAUSE_SIGNAL_COUNT_LIMIT_EXCEEDED


def is_child_of(target: ExecutionRecord, parent: ExecutionRecord) -> bool:
    """Whether ``target`` is a run of a child workflow that ``parent`` started."""
    state = state_of(target)
    p = state.parent_execution
    return (
        state.parent_namespace == parent.namespace and p.workflow_id == parent.workflow_id
        and p.run_id == parent.run_id
    )


class SignalExternal:
    """The act of a ``SIGNAL_EXTERNAL`` task."""

    def __init__(self, runs: Runs, signals: Signals) -> None:
        self.runs = runs
        self.signals = signals

    async def act(self, source: ExecutionRecord, task: TimerRow) -> Record | None:
        if source.status != RUNNING:
            return None
        event = await event_of(self.runs, source, task.event_id)
        initiated = event.signal_external_workflow_execution_initiated_event_attributes
        namespace, target = initiated.namespace, initiated.workflow_execution
        cause = 0
        try:
            record = await self.runs.resolve_run(namespace, target.workflow_id, target.run_id)
            if initiated.child_workflow_only and not is_child_of(record, source):
                raise NotFound(f"workflow {target.workflow_id!r} is not a child of {source.workflow_id!r}")
            await self.signals.signal_run(
                record, initiated.signal_name, initiated.input, source.workflow_id,
                f"{source.run_id}/{task.event_id}",
            )
        except (NotFound, FailedPrecondition):
            cause = _NOT_FOUND
        except LimitExceeded:
            cause = _TOO_MANY
        initiated_id = task.event_id

        def record_outcome(ex: Execution) -> None:
            if cause:
                ex.add_signal_external_workflow_execution_failed(initiated_id, namespace, target, cause)
            else:
                ex.add_external_workflow_execution_signaled(initiated_id, namespace, target)

        return record_outcome


class CancelExternal:
    """``CANCEL_EXTERNAL``: ask another workflow to cancel, record whether it was asked."""

    def __init__(self, runs: Runs, signals: Signals) -> None:
        self.runs = runs
        self.signals = signals

    async def act(self, source: ExecutionRecord, task: TimerRow) -> Record | None:
        request = state_of(source).cancel_requests.get(task.event_id)
        if request is None or source.status != RUNNING:
            return None  # as in Temporal, a request whose sender closed first is not delivered
        initiated_id = task.event_id
        failed: Record = lambda ex: ex.add_request_cancel_external_workflow_execution_failed(  # noqa: E731
            initiated_id, C.CANCEL_EXTERNAL_WORKFLOW_EXECUTION_FAILED_CAUSE_EXTERNAL_WORKFLOW_EXECUTION_NOT_FOUND
        )
        try:
            target = await self.runs.resolve_run(request.namespace, request.workflow_id, request.run_id)
        except NotFound:
            return failed
        if target.status != RUNNING:
            return failed
        if request.child_workflow_only and not is_child_of(target, source):
            return failed
        initiated = await event_of(self.runs, source, initiated_id)
        a = initiated.request_cancel_external_workflow_execution_initiated_event_attributes
        reason = a.reason or f"requested by workflow {source.workflow_id!r} (run {source.run_id})"
        try:
            await self.signals.request_cancel(
                request.namespace, request.workflow_id, target.run_id, reason, f"workflow {source.workflow_id}"
            )
        except (FailedPrecondition, NotFound):
            return failed
        return lambda ex: ex.add_external_workflow_execution_cancel_requested(initiated_id)
