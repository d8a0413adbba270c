"""Starting a run: the id reuse and conflict policies, signal-with-start, and the new run's first
events and rows, written in one transaction."""

from __future__ import annotations

import asyncio
import uuid
from dataclasses import dataclass

from wf.history.errors import AlreadyExists, ConcurrentUpdate, FailedPrecondition
from wf.history.execution import RUNNING, Execution
from wf.history.new_run import RunSpec, new_run
from wf.history.operations.signals import Signals
from wf.history.runs import Runs, now
from wf.history.store import ExecutionRecord, WriteRejected
from wf.history.visibility.attributes import typed
from wf.history.visibility.registry import Registry
from wf.v1 import common_pb2, service_pb2

C = common_pb2
S = service_pb2
# A start that finds the id taken looks again (the other run may close meanwhile) this many times.
_ATTEMPTS = 5
_FAILED = (
    C.WORKFLOW_EXECUTION_STATUS_FAILED,
    C.WORKFLOW_EXECUTION_STATUS_TIMED_OUT,
    C.WORKFLOW_EXECUTION_STATUS_TERMINATED,
    C.WORKFLOW_EXECUTION_STATUS_CANCELED,
)


def _reuse_refused(workflow_id: str, policy: int, latest: ExecutionRecord) -> str:
    """Why the id reuse policy refuses this start: the id's last run is closed (not running), and
    the policy, named as Temporal's CLI names it, does not allow reusing its id after such a run."""
    status = C.WorkflowExecutionStatus.Name(latest.status).removeprefix("WORKFLOW_EXECUTION_STATUS_")
    closed = f"workflow id {workflow_id!r} belongs to run {latest.run_id}, which closed ({status})"
    if policy == C.WORKFLOW_ID_REUSE_POLICY_REJECT_DUPLICATE:
        return f"{closed}, and the id reuse policy RejectDuplicate refuses reusing the id of a closed run"
    return (
        f"{closed}, and the id reuse policy AllowDuplicateFailedOnly refuses reusing the id of a run "
        "that completed (it allows a new run only after a failed, timed out, terminated or canceled one)"
    )


@dataclass(frozen=True, slots=True)
class Parent:
    """The parent of a run started as a child workflow: recorded in the child's started event and
    its mutable state, so its close reaches the parent and the parent's close policy finds it."""

    namespace: str
    execution: C.WorkflowExecution
    initiated_event_id: int
    root: C.WorkflowExecution
    close_policy: int


class Starts:
    def __init__(self, runs: Runs, signals: Signals, start_concurrency: int = 5) -> None:
        self.runs = runs
        self.signals = signals
        # New runs' starts in progress at once: the rest of the database pool stays free for the runs
        # already going, so a surge of starts slows the starts, not every running workflow.
        self._slots = asyncio.Semaphore(start_concurrency)
        # The namespace's custom search attributes, which a start's values are checked against.
        self.search_attributes: Registry | None = None

    async def start(self, req: S.StartWorkflowExecutionRequest, parent: Parent | None = None) -> tuple[str, bool]:
        """Start a run (a child of ``parent``, if given); returns (run id, started). A repeated
        request id returns the first run.

        Search attributes are checked against the namespace's registry first and kept typed: an
        unregistered name or a value of the wrong type refuses the start before anything is written.
        """
        if req.HasField("search_attributes") and self.search_attributes is not None:
            types = await self.search_attributes.of(req.namespace, req.search_attributes.indexed_fields)
            checked = typed(req.search_attributes, types)
            original, req = req, S.StartWorkflowExecutionRequest()
            req.CopyFrom(original)
            req.ClearField("search_attributes")
            if checked.indexed_fields:
                req.search_attributes.CopyFrom(checked)
        async with self._slots:
            return await self._start(req, parent)

    async def _start(self, req: S.StartWorkflowExecutionRequest, parent: Parent | None) -> tuple[str, bool]:
        store = self.runs.store
        request_id = req.request_id or str(uuid.uuid4())
        policy = req.workflow_id_reuse_policy
        for _ in range(_ATTEMPTS):
            if policy in (
                C.WORKFLOW_ID_REUSE_POLICY_REJECT_DUPLICATE, C.WORKFLOW_ID_REUSE_POLICY_ALLOW_DUPLICATE_FAILED_ONLY
            ):
                latest = await store.latest_run(req.namespace, req.workflow_id)
                if latest is not None and latest.status != RUNNING and latest.request_id != request_id:
                    if policy == C.WORKFLOW_ID_REUSE_POLICY_REJECT_DUPLICATE or latest.status not in _FAILED:
                        raise AlreadyExists(_reuse_refused(req.workflow_id, policy, latest), latest.run_id)
            ex = self._new_execution(req, request_id, parent)
            try:
                await self.runs.create(ex)
            except WriteRejected:
                existing = await store.run_for_request(req.namespace, req.workflow_id, request_id)
                if existing is not None:
                    return existing, False
                latest = await store.latest_run(req.namespace, req.workflow_id)
                if latest is not None and latest.status == RUNNING:
                    conflict = req.workflow_id_conflict_policy
                    try:
                        if req.signal_name:
                            await self.signals.signal_run(
                                latest, req.signal_name, req.signal_input, req.identity, request_id
                            )
                            return latest.run_id, False
                        if conflict == S.WORKFLOW_ID_CONFLICT_POLICY_USE_EXISTING:
                            return latest.run_id, False
                        if conflict == S.WORKFLOW_ID_CONFLICT_POLICY_TERMINATE_EXISTING:
                            await self.signals.terminate(
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
            return ex.record.run_id, True
        raise ConcurrentUpdate(f"workflow id {req.workflow_id!r} is being started concurrently; try again")

    def _new_execution(
        self, req: S.StartWorkflowExecutionRequest, request_id: str, parent: Parent | None = None
    ) -> Execution:
        spec = RunSpec.of_start(req, request_id)
        if parent is not None:
            spec.parent_namespace = parent.namespace
            spec.parent_execution = parent.execution
            spec.parent_initiated_event_id = parent.initiated_event_id
            spec.root_execution = parent.root
        ex = new_run(spec, self.runs.limits, now())
        if parent is not None:
            started = ex.events[0].workflow_execution_started_event_attributes
            started.parent_close_policy = parent.close_policy  # type: ignore[assignment]
        return ex
