"""A new run of a workflow id, as one place builds it: a start, and the run a continue-as-new makes.

Both begin the same way (Temporal's ``AddWorkflowExecutionStartedEvent``): the execution row, its
``WorkflowExecutionStarted`` event, the mutable state the run keeps, the first workflow task and the
timers of its timeouts. What differs is where the values come from: a start takes them from the
request (:meth:`RunSpec.of_start`), a continue-as-new from the command, falling back to the closing
run's own (:meth:`RunSpec.continuing`), and carries over what belongs to the whole chain: its first run,
its parent and root, and when the chain as a whole times out.
"""

from __future__ import annotations

import dataclasses
import uuid
from datetime import datetime, timedelta

from google.protobuf.duration_pb2 import Duration

from wf.history.durations import duration, is_set
from wf.history.execution import RUNNING, Execution
from wf.history.limits import Limits
from wf.history.store import ExecutionRecord
from wf.v1 import command_pb2, common_pb2, history_pb2, internal_pb2, service_pb2

H = history_pb2
C = common_pb2


@dataclasses.dataclass(slots=True)
class RunSpec:
    """Everything a new run is made of; the fields a caller leaves unset keep their defaults."""

    namespace: str
    workflow_id: str
    workflow_type: str
    task_queue: str
    input: C.Payloads
    request_id: str
    identity: str = ""
    run_timeout: Duration = dataclasses.field(default_factory=Duration)
    task_timeout: Duration = dataclasses.field(default_factory=Duration)
    execution_timeout: Duration = dataclasses.field(default_factory=Duration)
    # When the chain times out: set by a continue-as-new (carried over); None for a first run, whose
    # expiration is its start time plus ``execution_timeout``.
    execution_expiration: datetime | None = None
    retry_policy: C.RetryPolicy | None = None
    memo: C.Memo | None = None
    search_attributes: C.SearchAttributes | None = None
    # The chain of continue-as-new: the run this one continues, and the chain's first run ("": this one).
    continued_execution_run_id: str = ""
    first_execution_run_id: str = ""
    initiator: int = C.CONTINUE_AS_NEW_INITIATOR_UNSPECIFIED
    # Set for a child workflow's runs: its parent and the root of the parent chain.
    parent_namespace: str = ""
    parent_execution: C.WorkflowExecution | None = None
    parent_initiated_event_id: int = 0
    root_execution: C.WorkflowExecution | None = None
    # Signal-with-start: the signal delivered with the start.
    signal_name: str = ""
    signal_input: C.Payloads | None = None
    run_id: str = dataclasses.field(default_factory=lambda: str(uuid.uuid4()))
    # Set for a run a schedule starts (``wf.history.schedules``): the schedule, the nominal time, and
    # what the schedule's last completed and failed runs left, handed to this one's started event.
    schedule_id: str = ""
    schedule_nominal_time: datetime | None = None
    last_completion_result: C.Payloads | None = None
    continued_failure: C.Failure | None = None

    @staticmethod
    def of_start(req: service_pb2.StartWorkflowExecutionRequest, request_id: str) -> RunSpec:
        """The first run of a chain, as ``StartWorkflowExecution`` asks for it."""
        return RunSpec(
            namespace=req.namespace,
            workflow_id=req.workflow_id,
            workflow_type=req.workflow_type.name,
            task_queue=req.task_queue.name,
            input=req.input,
            request_id=request_id,
            identity=req.identity,
            run_timeout=req.workflow_run_timeout,
            task_timeout=req.workflow_task_timeout,
            execution_timeout=req.workflow_execution_timeout,
            retry_policy=req.retry_policy if req.HasField("retry_policy") else None,
            memo=req.memo if req.HasField("memo") else None,
            search_attributes=req.search_attributes if req.HasField("search_attributes") else None,
            signal_name=req.signal_name,
            signal_input=req.signal_input,
        )

    @staticmethod
    def continuing(ex: Execution, c: command_pb2.ContinueAsNewWorkflowExecutionCommandAttributes) -> RunSpec:
        """The run that ``ex`` continues as: the command's values, else the closing run's own (type,
        task queue, run and task timeouts, retry policy, memo, search attributes); the execution
        timeout, its expiration, the first run, the parent and the root always carry over."""
        s = ex.state
        r = ex.record
        return RunSpec(
            namespace=r.namespace,
            workflow_id=r.workflow_id,
            workflow_type=c.workflow_type.name or r.workflow_type,
            task_queue=c.task_queue.name or r.task_queue,
            input=c.input,
            request_id=str(uuid.uuid4()),
            run_timeout=c.workflow_run_timeout if is_set(c.workflow_run_timeout) else s.workflow_run_timeout,
            task_timeout=c.workflow_task_timeout if is_set(c.workflow_task_timeout) else s.workflow_task_timeout,
            execution_timeout=s.workflow_execution_timeout,
            execution_expiration=(
                s.workflow_execution_expiration_time.ToDatetime(ex.now.tzinfo)
                if s.HasField("workflow_execution_expiration_time")
                else None
            ),
            retry_policy=(
                c.retry_policy if c.HasField("retry_policy")
                else s.workflow_retry_policy if s.HasField("workflow_retry_policy")
                else None
            ),
            memo=c.memo if c.HasField("memo") else s.memo if s.HasField("memo") else None,
            search_attributes=(
                c.search_attributes if c.HasField("search_attributes")
                else s.search_attributes if s.HasField("search_attributes")
                else None
            ),
            continued_execution_run_id=r.run_id,
            first_execution_run_id=s.first_execution_run_id or r.run_id,
            initiator=C.CONTINUE_AS_NEW_INITIATOR_WORKFLOW,
            parent_namespace=s.parent_namespace,
            parent_execution=s.parent_execution if s.HasField("parent_execution") else None,
            parent_initiated_event_id=s.parent_initiated_event_id,
            root_execution=s.root_execution if s.HasField("root_execution") else None,
            schedule_id=s.schedule_id,
            schedule_nominal_time=(
                s.schedule_nominal_time.ToDatetime(ex.now.tzinfo) if s.HasField("schedule_nominal_time") else None
            ),
        )


def new_run(spec: RunSpec, limits: Limits, at: datetime) -> Execution:
    """A new run's execution as of ``at``: started, with its first workflow task scheduled and the
    timers of its timeouts set; its caller writes it (``Runs.create``, or with the run it continues)."""
    record = ExecutionRecord(
        namespace=spec.namespace,
        workflow_id=spec.workflow_id,
        run_id=spec.run_id,
        workflow_type=spec.workflow_type,
        task_queue=spec.task_queue,
        status=RUNNING,
        start_time=at,
        close_time=None,
        request_id=spec.request_id,
        next_event_id=1,
        history_size=0,
        db_version=0,
        state=b"",
    )
    ex = Execution(record, at, limits, new=True)
    s = ex.state
    s.workflow_type = spec.workflow_type
    s.task_queue = spec.task_queue
    task_timeout = duration(spec.task_timeout) if is_set(spec.task_timeout) else limits.default_workflow_task_timeout
    s.workflow_task_timeout.FromTimedelta(min(task_timeout, limits.max_workflow_task_timeout))
    s.workflow_run_timeout.CopyFrom(spec.run_timeout)
    s.workflow_execution_timeout.CopyFrom(spec.execution_timeout)
    first_run_id = spec.first_execution_run_id or record.run_id
    s.first_execution_run_id = first_run_id
    root = spec.root_execution or C.WorkflowExecution(workflow_id=record.workflow_id, run_id=record.run_id)
    started = H.WorkflowExecutionStartedEventAttributes(
        workflow_type=C.WorkflowType(name=spec.workflow_type),
        task_queue=C.TaskQueue(name=spec.task_queue, kind=C.TASK_QUEUE_KIND_NORMAL),
        input=spec.input,
        workflow_execution_timeout=spec.execution_timeout,
        workflow_run_timeout=spec.run_timeout,
        workflow_task_timeout=s.workflow_task_timeout,
        identity=spec.identity,
        original_execution_run_id=record.run_id,
        first_execution_run_id=first_run_id,
        attempt=1,
        request_id=spec.request_id,
        continued_execution_run_id=spec.continued_execution_run_id,
        initiator=spec.initiator,  # type: ignore[arg-type]
        parent_workflow_namespace=spec.parent_namespace,
        parent_initiated_event_id=spec.parent_initiated_event_id,
    )
    started.root_workflow_execution.CopyFrom(root)
    if spec.parent_execution is not None:
        started.parent_workflow_execution.CopyFrom(spec.parent_execution)
        s.parent_namespace = spec.parent_namespace
        s.parent_execution.CopyFrom(spec.parent_execution)
        s.parent_initiated_event_id = spec.parent_initiated_event_id
        s.root_execution.CopyFrom(root)
    if spec.retry_policy is not None:
        started.retry_policy.CopyFrom(spec.retry_policy)
        s.workflow_retry_policy.CopyFrom(spec.retry_policy)
    if spec.memo is not None:
        started.memo.CopyFrom(spec.memo)
        s.memo.CopyFrom(spec.memo)
    if spec.search_attributes is not None:
        started.search_attributes.CopyFrom(spec.search_attributes)
        s.search_attributes.CopyFrom(spec.search_attributes)
    _scheduled(spec, started, s)
    expiration = spec.execution_expiration
    if expiration is None and is_set(spec.execution_timeout):
        expiration = at + duration(spec.execution_timeout)
    if expiration is not None:
        started.workflow_execution_expiration_time.FromDatetime(expiration)
        s.workflow_execution_expiration_time.FromDatetime(expiration)
    ex.add_workflow_execution_started(started)
    if spec.signal_name:
        ex.add_signal(spec.signal_name, spec.signal_input or C.Payloads(), spec.identity, spec.request_id)
    ex.add_workflow_task_scheduled()
    ex.add_workflow_timeouts(
        duration(spec.run_timeout) if is_set(spec.run_timeout) else None,
        # What is left of the chain's time (at least a moment: a chain already past it times out now).
        max(expiration - at, timedelta(microseconds=1)) if expiration is not None else None,
    )
    return ex


def _scheduled(spec: RunSpec, started: H.WorkflowExecutionStartedEventAttributes, s: internal_pb2.MutableState) -> None:
    """A scheduled run keeps its schedule (its close goes back to it) and reads, from its started
    event, the last completion result and failure of the schedule's earlier runs, as Temporal's."""
    if spec.schedule_id:
        s.schedule_id = spec.schedule_id
        if spec.schedule_nominal_time is not None:
            s.schedule_nominal_time.FromDatetime(spec.schedule_nominal_time)
    if spec.last_completion_result is not None:
        started.last_completion_result.CopyFrom(spec.last_completion_result)
    if spec.continued_failure is not None:
        started.continued_failure.CopyFrom(spec.continued_failure)
