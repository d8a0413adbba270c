"""Child workflows in workflow code: the handle, the policies, and each child's state machine.

A child goes through the states sdk-core's child workflow state machine has: its command asked for
in an activation (not sent yet), recorded (``StartChildWorkflowExecutionInitiated``: the instance is
told the event id through ``PendingCommand.recorded``), started or failed to start (the job
``ResolveChildWorkflowExecutionStart``), and closed (``ResolveChildWorkflowExecution``). Cancelling
what workflow code awaits follows the child's :class:`ChildWorkflowCancellationType`, as temporalio
does; a cancellation sent to the child is a ``RequestCancelExternalWorkflowExecution`` command with
``child_workflow_only``, resolved by ``ResolveRequestCancelExternalWorkflow``.
"""

from __future__ import annotations

import asyncio
import enum
from collections.abc import Callable, Generator, Mapping
from dataclasses import dataclass
from datetime import timedelta
from typing import TYPE_CHECKING, Any

from wf.v1 import command_pb2, common_pb2
from worker_sdk._activation import (
    ResolveChildWorkflowExecution,
    ResolveChildWorkflowExecutionStart,
    ResolveRequestCancelExternalWorkflow,
)
from worker_sdk._converter import encode_named_payloads
from worker_sdk._definition import WorkflowDefinition, signal_name
from worker_sdk._failure import from_failure
from worker_sdk._retry import RetryPolicy
from worker_sdk.errors import WorkflowAlreadyStartedError

if TYPE_CHECKING:
    from worker_sdk._instance import PendingCommand, WorkflowInstance


class ParentClosePolicy(enum.IntEnum):
    """What happens to a child when its parent closes, for any reason (continue-as-new included)."""

    #: The child is terminated (the default, as Temporal).
    TERMINATE = 1
    #: The child runs on.
    ABANDON = 2
    #: The child is asked to cancel.
    REQUEST_CANCEL = 3


class ChildWorkflowCancellationType(enum.IntEnum):
    """What cancelling an awaited child (or the parent code awaiting it) does."""

    #: Ask the child to cancel, and raise CancelledError in the parent at once.
    TRY_CANCEL = 0
    #: Ask the child to cancel, and wait until it has closed (the default, as Temporal).
    WAIT_CANCELLATION_COMPLETED = 1
    #: Ask the child to cancel, and wait until the request is recorded in the child.
    WAIT_CANCELLATION_REQUESTED = 2
    #: Raise CancelledError in the parent at once and leave the child running.
    ABANDON = 3


@dataclass(frozen=True)
class ParentInfo:
    """The run that started this one as its child (``workflow.info().parent``)."""

    namespace: str
    run_id: str
    workflow_id: str


@dataclass(frozen=True)
class RootInfo:
    """The run at the top of this run's chain of parents (``workflow.info().root``)."""

    run_id: str
    workflow_id: str


@dataclass
class _Child:
    workflow_id: str
    workflow_type: str
    cancellation_type: ChildWorkflowCancellationType
    return_hint: Any
    command: PendingCommand
    start: _StartFuture
    handle: ChildWorkflowHandle
    initiated_event_id: int = 0
    # Set once the parent's code cancelled it; the request goes out once the child has started.
    cancel_wanted: bool = False
    cancel_sent: bool = False


class _StartFuture(asyncio.Future["ChildWorkflowHandle"]):
    """What ``await workflow.start_child_workflow(...)`` waits for: the child's start."""

    def __init__(self, children: Children, loop: asyncio.AbstractEventLoop) -> None:
        super().__init__(loop=loop)
        self._children = children
        self.child: _Child | None = None

    def cancel(self, msg: Any = None) -> bool:
        if self.done() or self.child is None:
            return super().cancel(msg)
        self._children.cancel_before_start(self.child)
        return super().cancel(msg)


class _ResultFuture(asyncio.Future[Any]):
    """The child's result, as workflow code awaits it: cancelling it follows the cancellation type."""

    def __init__(self, children: Children) -> None:
        super().__init__(loop=children.instance.loop)
        self._children = children
        self.child: _Child | None = None

    def cancel(self, msg: Any = None) -> bool:
        if self.done() or self.child is None:
            return False
        return self._children.cancel_started(self.child, msg)

    def cancel_now(self, msg: Any = None) -> bool:
        """Raise CancelledError in whoever awaits the child."""
        return super().cancel(msg)


class ChildWorkflowHandle:
    """A started child workflow: ``await handle`` (or ``await handle.result()``) for its result.

    Raises (when awaited):
        ChildWorkflowError: the child failed, was cancelled, terminated or timed out; ``cause`` says
            which (an ``ApplicationError`` with the child's type and message when it failed).
    """

    def __init__(self, children: Children, workflow_id: str) -> None:
        self._children = children
        self._future = _ResultFuture(children)
        self.id = workflow_id
        #: The run the child started as (set once it started).
        self.first_execution_run_id: str | None = None

    @property
    def run_id(self) -> str | None:
        """The child's run (the first one of its chain, if it continues as new)."""
        return self.first_execution_run_id

    def __await__(self) -> Generator[Any, None, Any]:
        return self._future.__await__()

    async def result(self) -> Any:
        return await self._future

    def cancel(self) -> bool:
        """Cancel the child as its cancellation type says (what cancelling the code awaiting it does)."""
        return self._future.cancel()

    def done(self) -> bool:
        return self._future.done()

    async def signal(self, signal: Any, *args: Any) -> None:
        """Signal the child: a handler method (``Child.approve``) or a signal name, and its arguments.
        Returns once the signal is recorded in the child's history.

        Raises:
            ApplicationError: type ``ExternalWorkflowExecutionNotFound`` when the child has closed.
        """
        await self._children.instance.signal_external(
            self.id, "", signal_name(signal), args, child_workflow_only=True
        )


class Children:
    """The children of one workflow run, and its cancellations of other workflows."""

    def __init__(self, instance: WorkflowInstance) -> None:
        self.instance = instance
        self._seq = 0
        self._by_initiated: dict[int, _Child] = {}
        # Cancellations asked of other workflows, awaiting their outcome, by initiated event id.
        self._cancels: dict[int, Callable[[common_pb2.Failure | None], None]] = {}

    # -- starting ----------------------------------------------------------------------------------

    def start(
        self,
        workflow: Any,
        args: tuple[Any, ...],
        *,
        id: str | None,
        task_queue: str | None,
        parent_close_policy: ParentClosePolicy,
        cancellation_type: ChildWorkflowCancellationType,
        id_reuse_policy: int,
        retry_policy: RetryPolicy | None,
        execution_timeout: timedelta | None,
        run_timeout: timedelta | None,
        task_timeout: timedelta | None,
        search_attributes: Mapping[str, Any] | None,
        memo: Mapping[str, Any] | None,
        result_type: Any,
    ) -> _StartFuture:
        instance = self.instance
        if isinstance(workflow, str):
            if not workflow.strip():
                raise ValueError("start_child_workflow() needs a workflow type: a run method or a type name")
            name, return_hint = workflow, result_type
        else:
            defn = WorkflowDefinition.of(workflow)
            name, return_hint = defn.name, result_type or defn.return_hint
        for label, value in (
            ("execution_timeout", execution_timeout), ("run_timeout", run_timeout), ("task_timeout", task_timeout)
        ):
            if value is not None and value <= timedelta(0):
                raise ValueError(f"child workflow {name!r}: {label} must be positive, got {value}")
        self._seq += 1
        info = instance.info
        # Deterministic: the same on every replay (even of a history saved under another workflow id),
        # and different in each run of a continue-as-new chain.
        workflow_id = id or f"{info.run_id}-child-{self._seq}"
        attrs = command_pb2.StartChildWorkflowExecutionCommandAttributes(
            workflow_id=workflow_id,
            workflow_type=common_pb2.WorkflowType(name=name),
            task_queue=common_pb2.TaskQueue(name=task_queue or info.task_queue),
            input=instance.converter.to_payloads(args),
            parent_close_policy=int(parent_close_policy),  # type: ignore[arg-type]
            workflow_id_reuse_policy=int(id_reuse_policy),  # type: ignore[arg-type]
            memo=common_pb2.Memo(fields=encode_named_payloads(instance.converter, memo)),
            search_attributes=common_pb2.SearchAttributes(
                indexed_fields=encode_named_payloads(instance.converter, search_attributes)
            ),
        )
        for label, value in (
            ("workflow_execution_timeout", execution_timeout),
            ("workflow_run_timeout", run_timeout),
            ("workflow_task_timeout", task_timeout),
        ):
            if value is not None:
                getattr(attrs, label).FromTimedelta(value)
        if retry_policy is not None:
            attrs.retry_policy.CopyFrom(retry_policy.to_proto())
        command = instance._add(
            command_pb2.Command(
                command_type=command_pb2.COMMAND_TYPE_START_CHILD_WORKFLOW_EXECUTION,
                start_child_workflow_execution_command_attributes=attrs,
            )
        )
        start = _StartFuture(self, instance.loop)
        handle = ChildWorkflowHandle(self, workflow_id)
        child = _Child(workflow_id, name, cancellation_type, return_hint, command, start, handle)
        start.child = handle._future.child = child
        command.recorded = lambda event_id: self._initiated(child, event_id)
        return start

    def _initiated(self, child: _Child, event_id: int) -> None:
        child.initiated_event_id = event_id
        self._by_initiated[event_id] = child

    def resolve_start(self, job: ResolveChildWorkflowExecutionStart) -> None:
        child = self._by_initiated.get(job.initiated_event_id)
        if child is None:
            return
        if not job.run_id:
            del self._by_initiated[job.initiated_event_id]
            if not child.start.done():
                child.start.set_exception(
                    WorkflowAlreadyStartedError(
                        child.workflow_id, child.workflow_type,
                        message=f"child workflow {child.workflow_id!r} could not start: a workflow with this id "
                        "is already running (or its id reuse policy refuses the id)",
                    )
                )
            return
        child.handle.first_execution_run_id = job.run_id
        if not child.start.done():
            child.start.set_result(child.handle)
        if child.cancel_wanted and child.cancellation_type != ChildWorkflowCancellationType.ABANDON:
            self._send_cancel(child)

    def resolve(self, job: ResolveChildWorkflowExecution) -> None:
        child = self._by_initiated.pop(job.initiated_event_id, None)
        if child is None:
            return
        if not child.start.done():
            child.start.set_result(child.handle)  # a close recorded with its start in one workflow task
        result = child.handle._future
        if result.done():
            return
        if job.failure is None:
            values = self.instance.converter.from_payloads(job.result or common_pb2.Payloads(), [child.return_hint])
            result.set_result(values[0] if values else None)
        else:
            result.set_exception(from_failure(job.failure, self.instance.converter))

    # -- cancelling ----------------------------------------------------------------------------------

    def cancel_before_start(self, child: _Child) -> None:
        """The code awaiting the start was cancelled: the child never starts if its command was not
        sent; otherwise it is asked to cancel once it started (unless its type is ABANDON)."""
        child.cancel_wanted = True
        if self.instance._unsent(child.command):
            child.command.recorded = None

    def cancel_started(self, child: _Child, msg: Any) -> bool:
        """The code awaiting the result was cancelled (or ``handle.cancel()``), per the child's type."""
        kind = child.cancellation_type
        if kind == ChildWorkflowCancellationType.ABANDON:
            return child.handle._future.cancel_now(msg)
        self._send_cancel(child)
        if kind == ChildWorkflowCancellationType.TRY_CANCEL:
            return child.handle._future.cancel_now(msg)
        return False  # resolved when the history records the request (or the child's close)

    def _send_cancel(self, child: _Child) -> None:
        if child.cancel_sent:
            return
        child.cancel_sent = True

        def outcome(failure: common_pb2.Failure | None) -> None:
            if child.cancellation_type == ChildWorkflowCancellationType.WAIT_CANCELLATION_REQUESTED:
                child.handle._future.cancel_now()

        self.request_cancel(child.workflow_id, "", child_workflow_only=True, outcome=outcome)

    def request_cancel(
        self,
        workflow_id: str,
        run_id: str,
        *,
        child_workflow_only: bool,
        outcome: Callable[[common_pb2.Failure | None], None],
    ) -> None:
        """Send RequestCancelExternalWorkflowExecution; ``outcome`` is told whether it was delivered."""
        pending = self.instance._add(
            command_pb2.Command(
                command_type=command_pb2.COMMAND_TYPE_REQUEST_CANCEL_EXTERNAL_WORKFLOW_EXECUTION,
                request_cancel_external_workflow_execution_command_attributes=(
                    command_pb2.RequestCancelExternalWorkflowExecutionCommandAttributes(
                        workflow_id=workflow_id, run_id=run_id, child_workflow_only=child_workflow_only
                    )
                ),
            )
        )
        pending.recorded = lambda event_id: self._cancels.__setitem__(event_id, outcome)

    def cancel_external(self, workflow_id: str, run_id: str) -> asyncio.Future[None]:
        """``ExternalWorkflowHandle.cancel()``: resolves once the request is recorded in the target,
        or fails with an ApplicationError naming it when it is missing or closed."""
        future: asyncio.Future[None] = self.instance.loop.create_future()

        def outcome(failure: common_pb2.Failure | None) -> None:
            if future.done():
                return
            if failure is None:
                future.set_result(None)
            else:
                future.set_exception(from_failure(failure, self.instance.converter))

        self.request_cancel(workflow_id, run_id, child_workflow_only=False, outcome=outcome)
        return future

    def resolve_cancel(self, job: ResolveRequestCancelExternalWorkflow) -> None:
        outcome = self._cancels.pop(job.initiated_event_id, None)
        if outcome is not None:
            outcome(job.failure)


__all__ = [
    "ChildWorkflowCancellationType",
    "ChildWorkflowHandle",
    "Children",
    "ParentClosePolicy",
    "ParentInfo",
    "RootInfo",
]
