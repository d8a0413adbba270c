"""The history service: every operation that changes an execution.

Each operation is a small function of an :class:`~history.mutable_state.Execution`; the shared helper
:meth:`HistoryService._update` loads the execution (from the in-memory cache or the database), lets the
operation change it, and commits the change as one statement guarded by the execution's version. A
version conflict (another server changed the run) reloads and runs the operation again. Operations on
one run that queue up while a change commits are applied together and committed as one.
"""

from __future__ import annotations

import uuid

from history._core import CompletionResult, TaskGone, _now, _release, decode_token, encode_token
from history.errors import (
    AlreadyExists,
    ConcurrentUpdate,
    FailedPrecondition,
)
from history.mutable_state import RUNNING, Execution, duration, is_set
from history.store import ExecutionRecord, WriteRejected
from history.tasks import TimerKind
from history.workflow_tasks import Ahead, WorkflowTaskOps
from wf.v1 import common_pb2, history_pb2, service_pb2

H = history_pb2
C = common_pb2


class HistoryService(WorkflowTaskOps):
    """Durable state machine of executions over :class:`Store`: the operations of ``history``.

    The operations live by subject in ``history._core`` (the shared helper and reading),
    ``activities``, ``timeouts``, ``interaction`` (signals, cancellation, queries, updates) and
    ``workflow_tasks``; starting a run is here.
    """

    # -- starting ---------------------------------------------------------------------------------

    async def start_workflow(self, req: service_pb2.StartWorkflowExecutionRequest) -> tuple[str, bool]:
        """Start a run; returns (run id, started). A repeated request id returns the first run."""
        async with self._start_slots:
            return await self._start_workflow(req)

    async def _start_workflow(self, req: service_pb2.StartWorkflowExecutionRequest) -> tuple[str, bool]:
        request_id = req.request_id or str(uuid.uuid4())
        policy = req.workflow_id_reuse_policy
        for _ in range(5):
            if policy in (
                service_pb2.WORKFLOW_ID_REUSE_POLICY_REJECT_DUPLICATE,
                service_pb2.WORKFLOW_ID_REUSE_POLICY_ALLOW_DUPLICATE_FAILED_ONLY,
            ):
                latest = await self.store.latest_run(req.namespace, req.workflow_id)
                if latest is not None and latest.status != RUNNING and latest.request_id != request_id:
                    failed = latest.status in (
                        C.WORKFLOW_EXECUTION_STATUS_FAILED,
                        C.WORKFLOW_EXECUTION_STATUS_TIMED_OUT,
                        C.WORKFLOW_EXECUTION_STATUS_TERMINATED,
                        C.WORKFLOW_EXECUTION_STATUS_CANCELED,
                    )
                    if policy == service_pb2.WORKFLOW_ID_REUSE_POLICY_REJECT_DUPLICATE or not failed:
                        raise AlreadyExists(
                            f"workflow id {req.workflow_id!r} was already used by run {latest.run_id} "
                            "and its id reuse policy does not allow another",
                            latest.run_id,
                        )
            ex = self._new_execution(req, request_id)
            direct = self._start_directly(ex)
            try:
                mutation = ex.mutation()
                task_ids = await self.store.write(mutation)
            except BaseException as exc:
                _release(direct)
                if not isinstance(exc, WriteRejected):
                    raise
                existing = await self.store.run_for_request(req.namespace, req.workflow_id, request_id)
                if existing is not None:
                    return existing, False
                latest = await self.store.latest_run(req.namespace, req.workflow_id)
                if latest is not None and latest.status == RUNNING:
                    conflict = req.workflow_id_conflict_policy
                    try:
                        if req.signal_name:
                            await self._signal_run(latest, req.signal_name, req.signal_input, req.identity, request_id)
                            return latest.run_id, False
                        if conflict == service_pb2.WORKFLOW_ID_CONFLICT_POLICY_USE_EXISTING:
                            return latest.run_id, False
                        if conflict == service_pb2.WORKFLOW_ID_CONFLICT_POLICY_TERMINATE_EXISTING:
                            await self.terminate(
                                req.namespace, req.workflow_id, latest.run_id,
                                f"terminated by a new start of {req.workflow_id!r} (conflict policy TerminateExisting)",
                                C.Payloads(), req.identity,
                            )
                            continue
                    except FailedPrecondition:
                        continue  # it closed meanwhile: start anew
                    raise AlreadyExists(
                        f"workflow {req.workflow_id!r} is already running (run {latest.run_id})",
                        latest.run_id,
                    ) from None
                continue  # it closed meanwhile: try again
            await self._committed(ex, mutation, task_ids, direct)
            return ex.record.run_id, True
        raise ConcurrentUpdate(f"workflow id {req.workflow_id!r} is being started concurrently; try again")

    def _new_execution(self, req: service_pb2.StartWorkflowExecutionRequest, request_id: str) -> Execution:
        now = _now()
        record = ExecutionRecord(
            namespace=req.namespace,
            workflow_id=req.workflow_id,
            run_id=str(uuid.uuid4()),
            workflow_type=req.workflow_type.name,
            task_queue=req.task_queue.name,
            status=RUNNING,
            start_time=now,
            close_time=None,
            request_id=request_id,
            next_event_id=1,
            history_size=0,
            db_version=0,
            state=b"",
        )
        ex = Execution(record, now, self.limits, new=True)
        s = ex.state
        s.workflow_type = req.workflow_type.name
        s.task_queue = req.task_queue.name
        task_timeout = (
            duration(req.workflow_task_timeout)
            if is_set(req.workflow_task_timeout)
            else self.limits.default_workflow_task_timeout
        )
        s.workflow_task_timeout.FromTimedelta(min(task_timeout, self.limits.max_workflow_task_timeout))
        s.workflow_run_timeout.CopyFrom(req.workflow_run_timeout)
        s.workflow_execution_timeout.CopyFrom(req.workflow_execution_timeout)
        started = H.WorkflowExecutionStartedEventAttributes(
            workflow_type=req.workflow_type,
            task_queue=C.TaskQueue(name=req.task_queue.name, kind=C.TASK_QUEUE_KIND_NORMAL),
            input=req.input,
            workflow_execution_timeout=req.workflow_execution_timeout,
            workflow_run_timeout=req.workflow_run_timeout,
            workflow_task_timeout=s.workflow_task_timeout,
            identity=req.identity,
            original_execution_run_id=record.run_id,
            first_execution_run_id=record.run_id,
            attempt=1,
            request_id=request_id,
        )
        if req.HasField("retry_policy"):
            started.retry_policy.CopyFrom(req.retry_policy)
        if is_set(req.workflow_execution_timeout):
            started.workflow_execution_expiration_time.FromDatetime(
                now + duration(req.workflow_execution_timeout)
            )
        ex.add_event(H.EVENT_TYPE_WORKFLOW_EXECUTION_STARTED, workflow_execution_started_event_attributes=started)
        if req.signal_name:
            self._append_signal(ex, req.signal_name, req.signal_input, req.identity, request_id)
        ex.schedule_workflow_task()
        if is_set(req.workflow_run_timeout):
            ex.set_timer("run-timeout", duration(req.workflow_run_timeout), TimerKind.WORKFLOW_RUN_TIMEOUT, 0, 1)
        if is_set(req.workflow_execution_timeout):
            ex.set_timer(
                "execution-timeout",
                duration(req.workflow_execution_timeout),
                TimerKind.WORKFLOW_EXECUTION_TIMEOUT,
                0,
                1,
            )
        return ex


__all__ = ["Ahead", "HistoryService", "TaskGone", "CompletionResult", "decode_token", "encode_token"]
