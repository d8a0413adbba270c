"""The transitions of :class:`wf.history.execution.Execution` for child workflows and for cancelling
other workflows.

A part of ``Execution`` kept in its own file for size. Every effect on another run is a cross-run
task (``wf.history.operations.cross_run``) written with the event that asks for it: starting a child
(``START_CHILD``), telling a parent its child closed (``CHILD_CLOSED``), applying a parent's close
policy to a child (``PARENT_CLOSE_POLICY``), and cancelling another workflow (``CANCEL_EXTERNAL``).
The outcomes come back as events appended here, each with a workflow task.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from wf.history.tasks import TimerKind
from wf.v1 import command_pb2, common_pb2, history_pb2, internal_pb2

if TYPE_CHECKING:
    from wf.history.store import ExecutionRecord

H = history_pb2
C = common_pb2

# The policies that make a parent's close act on its child (ABANDON leaves it alone).
ACTING_POLICIES = (C.PARENT_CLOSE_POLICY_TERMINATE, C.PARENT_CLOSE_POLICY_REQUEST_CANCEL)


def start_child_key(initiated_event_id: int) -> str:
    return f"child:{initiated_event_id}"


def parent_close_policy_key(initiated_event_id: int) -> str:
    return f"pcp:{initiated_event_id}"


CHILD_CLOSED_KEY = "child-closed"


def effective_policy(policy: int) -> int:
    """A policy left unspecified is TERMINATE, as in Temporal."""
    return policy or C.PARENT_CLOSE_POLICY_TERMINATE


class ChildTransitions:
    """Children this run starts and the cancellations of other workflows it asks for."""

    # Provided by Execution.
    record: ExecutionRecord
    state: internal_pb2.MutableState

    if TYPE_CHECKING:

        def _add_event(self, event_type: int, **attributes: Any) -> history_pb2.HistoryEvent: ...

        def _add_cross_run_task(self, key: str, kind: TimerKind, event_id: int) -> None: ...

        def add_workflow_task_scheduled(self, *, attempt: int = 1) -> None: ...

        ended_by_reset: bool

    # -- children --------------------------------------------------------------------------------

    def add_start_child_workflow_execution_initiated(
        self, c: command_pb2.StartChildWorkflowExecutionCommandAttributes, completed_id: int
    ) -> None:
        """Record the start of a child (the defaults filled in) and the task that starts it."""
        policy = effective_policy(c.parent_close_policy)
        attributes = H.StartChildWorkflowExecutionInitiatedEventAttributes(
            namespace=c.namespace or self.record.namespace,
            workflow_id=c.workflow_id,
            workflow_type=c.workflow_type,
            task_queue=C.TaskQueue(name=c.task_queue.name or self.record.task_queue, kind=C.TASK_QUEUE_KIND_NORMAL),
            input=c.input,
            workflow_execution_timeout=c.workflow_execution_timeout,
            workflow_run_timeout=c.workflow_run_timeout,
            workflow_task_timeout=c.workflow_task_timeout,
            parent_close_policy=policy,  # type: ignore[arg-type]
            workflow_task_completed_event_id=completed_id,
            workflow_id_reuse_policy=c.workflow_id_reuse_policy,
            memo=c.memo,
            search_attributes=c.search_attributes,
        )
        if c.HasField("retry_policy"):
            attributes.retry_policy.CopyFrom(c.retry_policy)
        event = self._add_event(
            H.EVENT_TYPE_START_CHILD_WORKFLOW_EXECUTION_INITIATED,
            start_child_workflow_execution_initiated_event_attributes=attributes,
        )
        self.state.children[event.event_id].CopyFrom(
            internal_pb2.ChildState(
                initiated_event_id=event.event_id,
                namespace=attributes.namespace,
                workflow_id=c.workflow_id,
                workflow_type=c.workflow_type.name,
                parent_close_policy=policy,  # type: ignore[arg-type]
            )
        )
        self._add_cross_run_task(start_child_key(event.event_id), TimerKind.START_CHILD, event.event_id)

    def add_child_workflow_execution_started(self, initiated_event_id: int, run_id: str) -> None:
        child = self.state.children.get(initiated_event_id)
        if child is None or child.run_id:
            return  # recorded already
        event = self._add_event(
            H.EVENT_TYPE_CHILD_WORKFLOW_EXECUTION_STARTED,
            child_workflow_execution_started_event_attributes=H.ChildWorkflowExecutionStartedEventAttributes(
                namespace=child.namespace,
                initiated_event_id=initiated_event_id,
                workflow_execution=C.WorkflowExecution(workflow_id=child.workflow_id, run_id=run_id),
                workflow_type=C.WorkflowType(name=child.workflow_type),
            ),
        )
        child.run_id = run_id
        child.started_event_id = event.event_id
        self.add_workflow_task_scheduled()

    def add_start_child_workflow_execution_failed(self, initiated_event_id: int, cause: int) -> None:
        child = self.state.children.get(initiated_event_id)
        if child is None or child.run_id:
            return
        initiated = self.state.children.pop(initiated_event_id)
        self._add_event(
            H.EVENT_TYPE_START_CHILD_WORKFLOW_EXECUTION_FAILED,
            start_child_workflow_execution_failed_event_attributes=H.StartChildWorkflowExecutionFailedEventAttributes(
                namespace=initiated.namespace,
                workflow_id=initiated.workflow_id,
                workflow_type=C.WorkflowType(name=initiated.workflow_type),
                cause=cause,  # type: ignore[arg-type]
                initiated_event_id=initiated_event_id,
            ),
        )
        self.add_workflow_task_scheduled()

    def add_child_workflow_execution_closed(
        self, initiated_event_id: int, child_run_id: str, close: history_pb2.HistoryEvent
    ) -> None:
        """Record the child's close, from its close event (``child_run_id``: the run that closed,
        the last of its continue-as-new chain), and a workflow task."""
        child = self.state.children.pop(initiated_event_id)
        common: dict[str, Any] = {
            "namespace": child.namespace,
            "workflow_execution": C.WorkflowExecution(workflow_id=child.workflow_id, run_id=child_run_id),
            "workflow_type": C.WorkflowType(name=child.workflow_type),
            "initiated_event_id": initiated_event_id,
            "started_event_id": child.started_event_id,
        }
        kind = close.WhichOneof("attributes")
        if kind == "workflow_execution_completed_event_attributes":
            self._add_event(
                H.EVENT_TYPE_CHILD_WORKFLOW_EXECUTION_COMPLETED,
                child_workflow_execution_completed_event_attributes=H.ChildWorkflowExecutionCompletedEventAttributes(
                    result=close.workflow_execution_completed_event_attributes.result, **common
                ),
            )
        elif kind == "workflow_execution_failed_event_attributes":
            f = close.workflow_execution_failed_event_attributes
            self._add_event(
                H.EVENT_TYPE_CHILD_WORKFLOW_EXECUTION_FAILED,
                child_workflow_execution_failed_event_attributes=H.ChildWorkflowExecutionFailedEventAttributes(
                    failure=f.failure, retry_state=f.retry_state, **common
                ),
            )
        elif kind == "workflow_execution_canceled_event_attributes":
            self._add_event(
                H.EVENT_TYPE_CHILD_WORKFLOW_EXECUTION_CANCELED,
                child_workflow_execution_canceled_event_attributes=H.ChildWorkflowExecutionCanceledEventAttributes(
                    details=close.workflow_execution_canceled_event_attributes.details, **common
                ),
            )
        elif kind == "workflow_execution_timed_out_event_attributes":
            self._add_event(
                H.EVENT_TYPE_CHILD_WORKFLOW_EXECUTION_TIMED_OUT,
                child_workflow_execution_timed_out_event_attributes=H.ChildWorkflowExecutionTimedOutEventAttributes(
                    retry_state=close.workflow_execution_timed_out_event_attributes.retry_state, **common
                ),
            )
        else:
            self._add_event(
                H.EVENT_TYPE_CHILD_WORKFLOW_EXECUTION_TERMINATED,
                child_workflow_execution_terminated_event_attributes=H.ChildWorkflowExecutionTerminatedEventAttributes(
                    **common
                ),
            )
        self.add_workflow_task_scheduled()

    # -- at the close ------------------------------------------------------------------------------

    def _close_reaches_other_runs(self, status: int) -> None:
        """What this run's close asks of other runs: its parent told (unless it continued as new:
        the new run is the child now), and each pending child whose close policy acts on it. A run a
        reset ends asks nothing: the reset's new run carries on the same work, as in Temporal."""
        if self.ended_by_reset:
            return
        if self.state.HasField("parent_execution") and status != C.WORKFLOW_EXECUTION_STATUS_CONTINUED_AS_NEW:
            self._add_cross_run_task(CHILD_CLOSED_KEY, TimerKind.CHILD_CLOSED, self.state.parent_initiated_event_id)
        for initiated_id, child in self.state.children.items():
            if effective_policy(child.parent_close_policy) in ACTING_POLICIES:
                self._add_cross_run_task(
                    parent_close_policy_key(initiated_id), TimerKind.PARENT_CLOSE_POLICY, initiated_id
                )
