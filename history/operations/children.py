"""The cross-run tasks of child workflows and of cancelling other workflows: what each does to the
other run (``act``) and how its outcome is recorded on the task's own run.

- ``START_CHILD`` (the parent's, written with StartChildWorkflowExecutionInitiated): start the child
  through the ordinary start path, as a child of this run, with a request id derived from the parent
  run and the initiated event (a second attempt gets the same run). Records ChildWorkflowExecution
  Started, or StartChildWorkflowExecutionFailed when the id is taken (a running run, or the reuse
  policy). A parent that closed first starts no child, unless the child's policy is ABANDON (as
  Temporal); a parent that closes while the child starts has its close policy applied at once.
- ``CHILD_CLOSED`` (the child's, written by its close unless it continued as new): record the close
  on the parent, if the parent runs and still waits for that child. A start not recorded yet is
  recorded in the same change (the child's close proves it started).
- ``PARENT_CLOSE_POLICY`` (the parent's, one per pending child whose policy is TERMINATE or
  REQUEST_CANCEL, written by the parent's close): terminate or ask to cancel the child's running
  run, if it is this parent's child (its mutable state names the parent run and initiated event).
- ``CANCEL_EXTERNAL`` (written with RequestCancelExternalWorkflowExecutionInitiated): ask the target
  to cancel, unless the sender closed first (as in Temporal: the sender awaits the request to be
  sure). Records ExternalWorkflowExecutionCancelRequested, or RequestCancelExternalWorkflowExecution
  Failed (EXTERNAL_WORKFLOW_EXECUTION_NOT_FOUND) for a target missing, closed, or, with
  ``child_workflow_only``, not this run's child.
"""

from __future__ import annotations

from wf.history.errors import AlreadyExists, FailedPrecondition, NotFound
from wf.history.execution import RUNNING, Execution
from wf.history.execution_children import ACTING_POLICIES, effective_policy
from wf.history.operations.cross_run import CrossRun, Record, event_of, state_of
from wf.history.operations.external import is_child_of
from wf.history.operations.signals import Signals
from wf.history.operations.start import Parent, Starts
from wf.history.runs import Runs
from wf.history.store import ExecutionRecord
from wf.history.tasks import TimerKind, TimerRow
from wf.v1 import common_pb2, history_pb2, internal_pb2, service_pb2

C = common_pb2
H = history_pb2
# Who the server says acted, in the events and failures its acts record on other runs.
IDENTITY = "wf-server"


def _execution(record: ExecutionRecord) -> C.WorkflowExecution:
    return C.WorkflowExecution(workflow_id=record.workflow_id, run_id=record.run_id)


def started_by(target: ExecutionRecord, parent: ExecutionRecord, initiated_event_id: int) -> bool:
    """Whether ``target`` is a run of the child that ``parent``'s event ``initiated_event_id`` started
    (or a run it continued as)."""
    return is_child_of(target, parent) and state_of(target).parent_initiated_event_id == initiated_event_id


class ParentClosePolicies:
    """Applies a closed parent's close policy to one child."""

    def __init__(self, runs: Runs, signals: Signals) -> None:
        self.runs = runs
        self.signals = signals

    async def apply(self, parent: ExecutionRecord, child: internal_pb2.ChildState) -> None:
        """Terminate or ask to cancel the child's running run, if it is this parent's child (the
        latest run of its id: continue-as-new keeps the parent)."""
        policy = effective_policy(child.parent_close_policy)
        if policy not in ACTING_POLICIES:
            return
        try:
            target = await self.runs.resolve_run(child.namespace, child.workflow_id, "")
        except NotFound:
            return
        if target.status != RUNNING or not started_by(target, parent, child.initiated_event_id):
            return
        name = C.ParentClosePolicy.Name(policy).removeprefix("PARENT_CLOSE_POLICY_")
        reason = (
            f"parent workflow {parent.workflow_id!r} (run {parent.run_id}) closed "
            f"({C.WorkflowExecutionStatus.Name(parent.status).removeprefix('WORKFLOW_EXECUTION_STATUS_')}); "
            f"parent close policy {name}"
        )
        try:
            if policy == C.PARENT_CLOSE_POLICY_TERMINATE:
                await self.signals.terminate(
                    child.namespace, child.workflow_id, target.run_id, reason, C.Payloads(), IDENTITY
                )
            else:
                await self.signals.request_cancel(child.namespace, child.workflow_id, target.run_id, reason, IDENTITY)
        except (FailedPrecondition, NotFound):
            pass  # it closed meanwhile


class StartChild:
    """``START_CHILD``: start the child, record its start (or why it could not start)."""

    def __init__(self, runs: Runs, starts: Starts, policies: ParentClosePolicies) -> None:
        self.runs = runs
        self.starts = starts
        self.policies = policies

    async def act(self, source: ExecutionRecord, task: TimerRow) -> Record | None:
        state = state_of(source)
        child = state.children.get(task.event_id)
        if child is None or child.run_id:
            return None  # resolved already
        if source.status != RUNNING and effective_policy(child.parent_close_policy) != C.PARENT_CLOSE_POLICY_ABANDON:
            return None  # the parent closed first: a child its close would end is not started
        a = (await event_of(self.runs, source, task.event_id)).start_child_workflow_execution_initiated_event_attributes
        req = service_pb2.StartWorkflowExecutionRequest(
            namespace=a.namespace,
            workflow_id=a.workflow_id,
            workflow_type=a.workflow_type,
            task_queue=a.task_queue,
            input=a.input,
            workflow_execution_timeout=a.workflow_execution_timeout,
            workflow_run_timeout=a.workflow_run_timeout,
            workflow_task_timeout=a.workflow_task_timeout,
            identity=f"parent {source.workflow_id}",
            request_id=f"child:{source.run_id}:{task.event_id}",
            workflow_id_reuse_policy=a.workflow_id_reuse_policy,
            memo=a.memo,
            search_attributes=a.search_attributes,
        )
        if a.HasField("retry_policy"):
            req.retry_policy.CopyFrom(a.retry_policy)
        root = state.root_execution if state.HasField("root_execution") else _execution(source)
        parent = Parent(source.namespace, _execution(source), task.event_id, root, child.parent_close_policy)
        try:
            run_id, _ = await self.starts.start(req, parent)
        except AlreadyExists:
            cause = C.START_CHILD_WORKFLOW_EXECUTION_FAILED_CAUSE_WORKFLOW_ALREADY_EXISTS
            return lambda ex: ex.add_start_child_workflow_execution_failed(task.event_id, cause)
        latest = await self.runs.store.load(source.namespace, source.workflow_id, source.run_id)
        if latest is not None and latest.status != RUNNING:
            # The parent closed while the child started: its close policy (written before the child
            # existed) may have found nothing, so it is applied here.
            await self.policies.apply(latest, child)
        return lambda ex: ex.add_child_workflow_execution_started(task.event_id, run_id)


class ChildClosed:
    """``CHILD_CLOSED``: record the child's close on its parent."""

    def __init__(self, runs: Runs) -> None:
        self.runs = runs

    async def act(self, source: ExecutionRecord, task: TimerRow) -> Record | None:
        # From the database: a record cached by this server may predate the close another made.
        closed = await self.runs.store.load(source.namespace, source.workflow_id, source.run_id)
        if closed is None or closed.status == RUNNING:
            return None
        source = closed
        state = state_of(source)
        close = await self.runs.last_event(source)
        if close is None:
            return None
        first_run_id = state.first_execution_run_id or source.run_id
        initiated_id = task.event_id

        def op(ex: Execution) -> None:
            child = ex.state.children.get(initiated_id)
            if not ex.running or child is None or child.workflow_id != source.workflow_id:
                return  # the parent closed, or recorded this already
            if not child.run_id:
                ex.add_child_workflow_execution_started(initiated_id, first_run_id)
            ex.add_child_workflow_execution_closed(initiated_id, source.run_id, close)

        parent = state.parent_execution
        try:
            await self.runs.update((state.parent_namespace, parent.workflow_id, parent.run_id), op)
        except NotFound:
            pass  # the parent is gone (retention)
        return None


class ParentClosePolicy:
    """``PARENT_CLOSE_POLICY``: the closed parent's policy, applied to one pending child."""

    def __init__(self, policies: ParentClosePolicies) -> None:
        self.policies = policies

    async def act(self, source: ExecutionRecord, task: TimerRow) -> Record | None:
        child = state_of(source).children.get(task.event_id)
        if child is not None:
            await self.policies.apply(source, child)
        return None


def register(cross_run: CrossRun, runs: Runs, starts: Starts, signals: Signals) -> None:
    """Register the acts of this module's kinds of cross-run task."""
    policies = ParentClosePolicies(runs, signals)
    cross_run.register(TimerKind.START_CHILD, StartChild(runs, starts, policies))
    cross_run.register(TimerKind.CHILD_CLOSED, ChildClosed(runs))
    cross_run.register(TimerKind.PARENT_CLOSE_POLICY, ParentClosePolicy(policies))
