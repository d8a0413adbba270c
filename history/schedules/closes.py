"""A scheduled run's close, brought back to its schedule: the cross-run task ``SCHEDULE_CLOSED``.

``Execution._close`` writes it when the run has a schedule (not at a continue-as-new: the next run
keeps the schedule, so the chain's last close counts, as in Temporal). Its act changes the schedule's
row in one transaction, idempotently: the run leaves the running runs (a close already recorded
finds it gone and changes nothing), its recent action gets the close status, a completion's result
or a failure is kept for the next run (only when newer than the one kept; not for ALLOW_ALL runs,
which Temporal does not track), ``pause_on_failure`` pauses the schedule with Temporal's note, and a
schedule with starts waiting in its buffer is woken at once.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from wf.history.operations.cross_run import Record, state_of
from wf.history.runs import Runs
from wf.history.schedules import actions
from wf.history.schedules.scheduler import Scheduler
from wf.history.schedules.store import ScheduleRow, ScheduleStore, search_document
from wf.history.store import ExecutionRecord
from wf.history.tasks import TimerRow
from wf.v1 import common_pb2, history_pb2, internal_pb2, schedule_pb2

C = common_pb2
H = history_pb2
_FAILED = (C.WORKFLOW_EXECUTION_STATUS_FAILED, C.WORKFLOW_EXECUTION_STATUS_TIMED_OUT)


def failure_of(event: H.HistoryEvent | None) -> C.Failure:
    """The failure a failed or timed-out run's close event holds."""
    if event is not None and event.HasField("workflow_execution_failed_event_attributes"):
        return event.workflow_execution_failed_event_attributes.failure
    timeout = C.TimeoutFailureInfo(timeout_type=C.TIMEOUT_TYPE_START_TO_CLOSE)
    return C.Failure(message="workflow timed out", timeout_failure_info=timeout)


def _record(
    rt: internal_pb2.ScheduleRuntime, schedule: schedule_pb2.Schedule, workflow_id: str, status: int,
    event: H.HistoryEvent | None, closed_at: datetime,
) -> None:
    """As Temporal's scheduler: a completion's result is kept and clears the failure; a failed run's
    failure is kept (the last result stays); a failed or timed-out run pauses the schedule under
    pause_on_failure, with Temporal's note. Only a close newer than the one kept counts."""
    if status == C.WORKFLOW_EXECUTION_STATUS_COMPLETED and event is not None:
        if not rt.HasField("last_completion_time") or actions.utc(rt.last_completion_time) <= closed_at:
            rt.last_completion_result.CopyFrom(event.workflow_execution_completed_event_attributes.result)
            rt.last_completion_time.FromDatetime(closed_at)
            rt.ClearField("last_failure")
    elif status in _FAILED:
        failure = failure_of(event)
        fresh = not rt.HasField("last_failure_time") or actions.utc(rt.last_failure_time) <= closed_at
        if status == C.WORKFLOW_EXECUTION_STATUS_FAILED and fresh:
            rt.last_failure.CopyFrom(failure)
            rt.last_failure_time.FromDatetime(closed_at)
        if schedule.policies.pause_on_failure and not schedule.state.paused:
            schedule.state.paused = True
            if status == C.WORKFLOW_EXECUTION_STATUS_FAILED:
                schedule.state.notes = f"paused due to workflow failure: {workflow_id}: {failure.message}"
            else:
                schedule.state.notes = f"paused due to workflow timeout: {workflow_id}"


class ScheduleClosed:
    """The act of ``TimerKind.SCHEDULE_CLOSED``; nothing is recorded on the closed run."""

    def __init__(self, runs: Runs, store: ScheduleStore, scheduler: Scheduler) -> None:
        self.runs = runs
        self.store = store
        self.scheduler = scheduler

    async def act(self, source: ExecutionRecord, task: TimerRow) -> Record | None:
        schedule_id = state_of(source).schedule_id
        status = source.status
        closed_at = source.close_time or datetime.now(UTC)
        event = await self.runs.last_event(source)
        woken = False

        async def change(row: ScheduleRow) -> dict[str, Any] | None:
            nonlocal woken
            rt = internal_pb2.ScheduleRuntime.FromString(row.state)
            kind = actions.closed(rt, source.workflow_id, status)
            if kind is None:
                return None  # recorded already, or a run the schedule no longer follows
            schedule = schedule_pb2.Schedule.FromString(row.schedule)
            if kind == actions.TRACKED:
                _record(rt, schedule, source.workflow_id, status, event, closed_at)
            wake = row.next_wake
            if rt.buffered_starts and not rt.running_workflows:
                now = datetime.now(UTC)
                wake = now if wake is None else min(wake, now)
                woken = True
            attributes = C.SearchAttributes.FromString(row.search_attributes)
            return {
                "state": rt.SerializeToString(), "schedule": schedule.SerializeToString(), "next_wake": wake,
                "search_document": search_document(row.schedule_id, attributes, schedule.state.paused),
            }

        await self.store.change(source.namespace, schedule_id, change)
        if woken:
            self.scheduler.changed()
        return None
