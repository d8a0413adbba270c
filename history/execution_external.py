"""The transitions of :class:`wf.history.execution.Execution` that signal or cancel other workflows.

A part of ``Execution`` kept in its own file for size. Each is a cross-run task
(``wf.history.operations.cross_run``, the acts in ``wf.history.operations.external``): the initiated
event writes it, and its outcome comes back as ``ExternalWorkflowExecutionSignaled`` or
``SignalExternalWorkflowExecutionFailed``, ``ExternalWorkflowExecutionCancelRequested`` or
``RequestCancelExternalWorkflowExecutionFailed``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from wf.history.tasks import TimerKind
from wf.v1 import command_pb2, common_pb2, history_pb2, internal_pb2

if TYPE_CHECKING:
    from wf.history.store import ExecutionRecord

H = history_pb2
C = common_pb2


def external_signal_key(initiated_event_id: int) -> str:
    """The key of the cross-run task that delivers the signal initiated by that event."""
    return f"sig:{initiated_event_id}"


def cancel_external_key(initiated_event_id: int) -> str:
    return f"cancel:{initiated_event_id}"


class ExternalTransitions:
    """Signals and cancellation requests this run sends to other workflows."""

    # Provided by Execution.
    record: ExecutionRecord
    state: internal_pb2.MutableState

    if TYPE_CHECKING:

        def _add_event(self, event_type: int, **attributes: Any) -> history_pb2.HistoryEvent: ...

        def _add_cross_run_task(self, key: str, kind: TimerKind, event_id: int) -> None: ...

        def add_workflow_task_scheduled(self, *, attempt: int = 1) -> None: ...

    def add_signal_external_workflow_execution_initiated(
        self, c: command_pb2.SignalExternalWorkflowExecutionCommandAttributes, completed_id: int
    ) -> None:
        event = self._add_event(
            H.EVENT_TYPE_SIGNAL_EXTERNAL_WORKFLOW_EXECUTION_INITIATED,
            signal_external_workflow_execution_initiated_event_attributes=H.SignalExternalWorkflowExecutionInitiatedEventAttributes(
                workflow_task_completed_event_id=completed_id,
                namespace=c.namespace or self.record.namespace,
                workflow_execution=c.execution,
                signal_name=c.signal_name,
                input=c.input,
                child_workflow_only=c.child_workflow_only,
            ),
        )
        self.state.pending_external_signals.append(event.event_id)
        self._add_cross_run_task(external_signal_key(event.event_id), TimerKind.SIGNAL_EXTERNAL, event.event_id)

    def _external_signal_done(self, initiated_event_id: int) -> bool:
        """Forget a pending signal; whether it was pending (its outcome is recorded once)."""
        pending = self.state.pending_external_signals
        if initiated_event_id not in pending:
            return False
        pending.remove(initiated_event_id)
        return True

    def add_external_workflow_execution_signaled(
        self, initiated_event_id: int, namespace: str, target: common_pb2.WorkflowExecution
    ) -> None:
        if not self._external_signal_done(initiated_event_id):
            return
        self._add_event(
            H.EVENT_TYPE_EXTERNAL_WORKFLOW_EXECUTION_SIGNALED,
            external_workflow_execution_signaled_event_attributes=H.ExternalWorkflowExecutionSignaledEventAttributes(
                initiated_event_id=initiated_event_id, namespace=namespace, workflow_execution=target
            ),
        )
        self.add_workflow_task_scheduled()

    def add_signal_external_workflow_execution_failed(
        self, initiated_event_id: int, namespace: str, target: common_pb2.WorkflowExecution, cause: int
    ) -> None:
        if not self._external_signal_done(initiated_event_id):
            return
        self._add_event(
            H.EVENT_TYPE_SIGNAL_EXTERNAL_WORKFLOW_EXECUTION_FAILED,
            signal_external_workflow_execution_failed_event_attributes=H.SignalExternalWorkflowExecutionFailedEventAttributes(
                cause=cause,  # type: ignore[arg-type]
                namespace=namespace,
                workflow_execution=target,
                initiated_event_id=initiated_event_id,
            ),
        )
        self.add_workflow_task_scheduled()

    # -- cancelling other workflows ------------------------------------------------------------------

    def add_request_cancel_external_workflow_execution_initiated(
        self, c: command_pb2.RequestCancelExternalWorkflowExecutionCommandAttributes, completed_id: int
    ) -> None:
        namespace = c.namespace or self.record.namespace
        event = self._add_event(
            H.EVENT_TYPE_REQUEST_CANCEL_EXTERNAL_WORKFLOW_EXECUTION_INITIATED,
            request_cancel_external_workflow_execution_initiated_event_attributes=(
                H.RequestCancelExternalWorkflowExecutionInitiatedEventAttributes(
                    workflow_task_completed_event_id=completed_id,
                    namespace=namespace,
                    workflow_execution=C.WorkflowExecution(workflow_id=c.workflow_id, run_id=c.run_id),
                    child_workflow_only=c.child_workflow_only,
                    reason=c.reason,
                )
            ),
        )
        self.state.cancel_requests[event.event_id].CopyFrom(
            internal_pb2.CancelRequestState(
                initiated_event_id=event.event_id,
                namespace=namespace,
                workflow_id=c.workflow_id,
                run_id=c.run_id,
                child_workflow_only=c.child_workflow_only,
            )
        )
        self._add_cross_run_task(cancel_external_key(event.event_id), TimerKind.CANCEL_EXTERNAL, event.event_id)

    def add_external_workflow_execution_cancel_requested(self, initiated_event_id: int) -> None:
        request = self.state.cancel_requests.get(initiated_event_id)
        if request is None:
            return
        del self.state.cancel_requests[initiated_event_id]
        self._add_event(
            H.EVENT_TYPE_EXTERNAL_WORKFLOW_EXECUTION_CANCEL_REQUESTED,
            external_workflow_execution_cancel_requested_event_attributes=(
                H.ExternalWorkflowExecutionCancelRequestedEventAttributes(
                    initiated_event_id=initiated_event_id,
                    namespace=request.namespace,
                    workflow_execution=C.WorkflowExecution(workflow_id=request.workflow_id, run_id=request.run_id),
                )
            ),
        )
        self.add_workflow_task_scheduled()

    def add_request_cancel_external_workflow_execution_failed(self, initiated_event_id: int, cause: int) -> None:
        request = self.state.cancel_requests.get(initiated_event_id)
        if request is None:
            return
        del self.state.cancel_requests[initiated_event_id]
        self._add_event(
            H.EVENT_TYPE_REQUEST_CANCEL_EXTERNAL_WORKFLOW_EXECUTION_FAILED,
            request_cancel_external_workflow_execution_failed_event_attributes=(
                H.RequestCancelExternalWorkflowExecutionFailedEventAttributes(
                    cause=cause,  # type: ignore[arg-type]
                    namespace=request.namespace,
                    workflow_execution=C.WorkflowExecution(workflow_id=request.workflow_id, run_id=request.run_id),
                    initiated_event_id=initiated_event_id,
                )
            ),
        )
        self.add_workflow_task_scheduled()
