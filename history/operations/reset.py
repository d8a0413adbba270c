"""Reset: a new run of a workflow made from a run's history up to a workflow task, as Temporal's.

``ResetWorkflowExecution`` names a base run and a reset point N: a workflow task's Completed,
Failed, TimedOut or Started event. The new run's history is the base run's events 1 to N−1 (copied,
its own from then on), then ``WorkflowTaskFailed`` with cause ``RESET_WORKFLOW`` for the task pending
at N−1 (started first if it was only scheduled), then the signals and updates the base run received
after the point (per the reapply type and exclusions), then a new workflow task: the current code
decides that task's commands again. The state those events left is rebuilt by
``wf.history.rebuild``; the rows it implies (activity tasks, timers with their remaining time,
signals to deliver, timeouts) are set by the execution.

The workflow id's running run (the base run, or a later one) is terminated in the same transaction
that creates the new run (``Mutation.then_create``, as continue-as-new), its close naming the reset;
its parent close policy does not apply (``Execution.ended_by_reset``). A repeated request id answers
the run the first request made. A run with child workflows pending at the point is refused unless
the request allows it.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime

from wf.history.errors import ConcurrentUpdate, FailedPrecondition, InvalidArgument, TaskGone
from wf.history.execution import RUNNING, Execution
from wf.history.rebuild import rebuild
from wf.history.runs import Runs, now
from wf.history.store import ExecutionRecord, WriteRejected
from wf.v1 import common_pb2, history_pb2, service_pb2

H = history_pb2
C = common_pb2
Event = history_pb2.HistoryEvent

RESET_POINT_TYPES = (
    H.EVENT_TYPE_WORKFLOW_TASK_COMPLETED,
    H.EVENT_TYPE_WORKFLOW_TASK_FAILED,
    H.EVENT_TYPE_WORKFLOW_TASK_TIMED_OUT,
    H.EVENT_TYPE_WORKFLOW_TASK_STARTED,
)
"""The events a run may be reset to."""

_CHILD_INITIATED = H.EVENT_TYPE_START_CHILD_WORKFLOW_EXECUTION_INITIATED
# What ends a child's pending: its start failed, or it closed.
_CHILD_DONE = frozenset({
    H.EVENT_TYPE_START_CHILD_WORKFLOW_EXECUTION_FAILED,
    H.EVENT_TYPE_CHILD_WORKFLOW_EXECUTION_COMPLETED,
    H.EVENT_TYPE_CHILD_WORKFLOW_EXECUTION_FAILED,
    H.EVENT_TYPE_CHILD_WORKFLOW_EXECUTION_CANCELED,
    H.EVENT_TYPE_CHILD_WORKFLOW_EXECUTION_TIMED_OUT,
    H.EVENT_TYPE_CHILD_WORKFLOW_EXECUTION_TERMINATED,
})
_IDENTITY = "wf-server"
_ATTEMPTS = 5


def _name(event_type: int) -> str:
    words = H.EventType.Name(event_type).removeprefix("EVENT_TYPE_").split("_")
    return "".join(w.capitalize() for w in words)


def _ranges(ids: Sequence[int]) -> str:
    if not ids:
        return "none"
    shown = ", ".join(map(str, ids[:12]))
    return f"{shown}, … (from {ids[0]} to {ids[-1]})" if len(ids) > 12 else shown


def check_reset_point(events: Sequence[Event], point: int) -> None:
    """Refuse a reset point that is not a workflow task's Completed, Failed, TimedOut or Started
    event of ``events``, naming the valid ones."""
    valid = [e.event_id for e in events if e.event_type in RESET_POINT_TYPES]
    where = (
        "valid reset points of this run: a workflow task's Completed, Failed, TimedOut or Started event "
        f"({_ranges(valid)})"
    )
    if point <= 1 or point > len(events):
        raise InvalidArgument(f"event {point} is not in the run's history (events 1 to {len(events)}); {where}")
    event = events[point - 1]
    if event.event_type not in RESET_POINT_TYPES:
        raise InvalidArgument(f"event {point} is {_name(event.event_type)}, not a reset point; {where}")


def pending_children(events: Sequence[Event]) -> list[int]:
    """The child workflows initiated in ``events`` and not yet closed: their initiated event ids."""
    pending: set[int] = set()
    for e in events:
        if e.event_type == _CHILD_INITIATED:
            pending.add(e.event_id)
        elif e.event_type in _CHILD_DONE:
            kind = e.WhichOneof("attributes")
            if kind is not None:
                pending.discard(getattr(getattr(e, kind), "initiated_event_id", 0))
    return sorted(pending)


def reapplied(events: Sequence[Event], reapply_type: int, excluded: Sequence[int]) -> list[Event]:
    """The events after the reset point that the new run receives again: signals (unless
    excluded), and with the type All (the default) accepted updates (unless excluded)."""
    if reapply_type == C.RESET_REAPPLY_TYPE_NONE:
        return []
    signals = C.RESET_REAPPLY_EXCLUDE_TYPE_SIGNAL not in excluded
    updates = reapply_type != C.RESET_REAPPLY_TYPE_SIGNAL and C.RESET_REAPPLY_EXCLUDE_TYPE_UPDATE not in excluded
    wanted = set()
    if signals:
        wanted.add(H.EVENT_TYPE_WORKFLOW_EXECUTION_SIGNALED)
    if updates:
        wanted.add(H.EVENT_TYPE_WORKFLOW_EXECUTION_UPDATE_ACCEPTED)
    return [e for e in events if e.event_type in wanted]


class Resets:
    def __init__(self, runs: Runs) -> None:
        self.runs = runs

    async def _events(self, record: ExecutionRecord) -> list[Event]:
        data = await self.runs.store.read_events(record.namespace, record.workflow_id, record.run_id)
        return [Event.FromString(d) for d in data]

    async def _later_events(self, base: ExecutionRecord, events: list[Event], current_run_id: str) -> list[Event]:
        """The events of the runs the base run continued as, up to the current run: their signals
        and updates are reapplied too (as Temporal's reset does for a chain)."""
        found: list[Event] = []
        last = events[-1] if events else None
        seen = {base.run_id}
        while last is not None and last.HasField("workflow_execution_continued_as_new_event_attributes"):
            run_id = last.workflow_execution_continued_as_new_event_attributes.new_execution_run_id
            if run_id in seen:
                break
            seen.add(run_id)
            record = await self.runs.store.load(base.namespace, base.workflow_id, run_id)
            if record is None:
                break
            later = await self._events(record)
            found += later
            if run_id == current_run_id:
                break
            last = later[-1] if later else None
        return found

    async def reset(self, req: service_pb2.ResetWorkflowExecutionRequest) -> str:
        """Make the new run; returns its run id."""
        ns, e = req.namespace, req.workflow_execution
        store = self.runs.store
        if req.request_id:
            existing = await store.run_for_request(ns, e.workflow_id, req.request_id)
            if existing is not None:
                return existing
        base = await self.runs.resolve_run(ns, e.workflow_id, e.run_id)
        events = await self._events(base)
        point = req.workflow_task_finish_event_id
        check_reset_point(events, point)
        prefix, after = events[: point - 1], events[point - 1 :]
        children = pending_children(prefix)
        if children and not req.allow_pending_children:
            raise FailedPrecondition(
                f"workflow {base.workflow_id!r} run {base.run_id} has child workflows pending at event {point} "
                f"(initiated at events {_ranges(children)}): a reset would start them again; allow it explicitly"
            )
        request_id = req.request_id or str(uuid.uuid4())
        for _ in range(_ATTEMPTS):
            current = await store.latest_run(ns, base.workflow_id)
            later = (
                await self._later_events(base, events, current.run_id)
                if current is not None and current.run_id != base.run_id
                else []
            )
            again = reapplied([*after, *later], req.reset_reapply_type, list(req.reset_reapply_exclude_types))
            run_id = str(uuid.uuid4())
            try:
                if current is not None and current.status == RUNNING:
                    key = (ns, current.workflow_id, current.run_id)

                    def op(cur: Execution, run_id: str = run_id, again: list[Event] = again) -> None:
                        if not cur.running:
                            raise ConcurrentUpdate("the run closed meanwhile")
                        new = self._new_run(base, prefix, again, run_id, request_id, req, cur.now)
                        cur.add_workflow_execution_terminated_by_reset(req.reason, req.identity or _IDENTITY, run_id)
                        cur.then_create = new

                    await self.runs.update(key, op)
                else:
                    await self.runs.create(self._new_run(base, prefix, again, run_id, request_id, req, now()))
                return run_id
            except (ConcurrentUpdate, WriteRejected, TaskGone):
                existing = await store.run_for_request(ns, base.workflow_id, request_id)
                if existing is not None:
                    return existing
        raise ConcurrentUpdate(f"workflow {base.workflow_id!r} is changing too fast to reset; try again")

    def _new_run(
        self,
        base: ExecutionRecord,
        prefix: list[Event],
        again: list[Event],
        run_id: str,
        request_id: str,
        req: service_pb2.ResetWorkflowExecutionRequest,
        at: datetime,
    ) -> Execution:
        record = ExecutionRecord(
            namespace=base.namespace,
            workflow_id=base.workflow_id,
            run_id=run_id,
            workflow_type=base.workflow_type,
            task_queue=base.task_queue,
            status=RUNNING,
            start_time=at,
            close_time=None,
            request_id=request_id,
            next_event_id=1,
            history_size=0,
            db_version=0,
            state=b"",
        )
        ex = Execution(record, at, self.runs.limits, new=True)
        rebuilt = rebuild(ex, prefix)
        ex.add_copied_events(prefix)
        s = ex.state
        s.reset_base_run_id = base.run_id
        s.reset_event_id = req.workflow_task_finish_event_id
        s.reset_reason = req.reason
        if not s.HasField("workflow_task") or s.workflow_task.backing_off:
            raise InvalidArgument(
                f"no workflow task is pending before event {req.workflow_task_finish_event_id}: reset to a "
                "workflow task's Completed, Failed, TimedOut or Started event"
            )
        ex.add_workflow_task_failed_for_reset(base.run_id, req.reason, req.identity or _IDENTITY)
        ex.add_rows_of_rebuilt_state(rebuilt.timer_fire_at)
        for e in again:
            if e.HasField("workflow_execution_signaled_event_attributes"):
                a = e.workflow_execution_signaled_event_attributes
                ex.add_signal(a.signal_name, a.input, a.identity, "")
            else:
                u = e.workflow_execution_update_accepted_event_attributes
                if u.update_id not in s.pending_updates and u.update_id not in s.finished_updates:
                    ex.add_update_requested(
                        C.UpdateRequest(update_id=u.update_id, name=u.name, args=u.input, identity=u.identity)
                    )
        ex.add_workflow_task_scheduled()
        return ex
