"""What happens when a durable timer fires: user timers, workflow-task and activity timeouts, retry
back-off, the sticky queue's wait, and workflow timeouts. A timer made stale by later events only
goes away (its row is consumed with no event)."""

from __future__ import annotations

from collections.abc import Callable

from wf.history.errors import NotFound, TaskGone
from wf.history.execution import USER_TIMER_PREFIX, Execution
from wf.history.execution_activities import timeout_failure
from wf.history.operations.cross_run import CrossRun
from wf.history.runs import Runs
from wf.history.tasks import CROSS_RUN_KINDS, TimerKind, TimerRow
from wf.v1 import common_pb2

C = common_pb2


def _user_timer(ex: Execution, timer: TimerRow) -> None:
    timer_id = timer.key[len(USER_TIMER_PREFIX):]
    if ex.state.timers.get(timer_id) == timer.event_id:
        ex.add_timer_fired(timer_id)


def _sticky_schedule_to_start(ex: Execution, timer: TimerRow) -> None:
    s = ex.state
    wt = s.workflow_task if s.HasField("workflow_task") else None
    if (
        wt is not None
        and wt.scheduled_event_id == timer.event_id
        and not wt.started_event_id
        and wt.task_queue != ex.record.task_queue
    ):
        ex.move_workflow_task_to_normal_queue()


def _workflow_task_timeout(ex: Execution, timer: TimerRow) -> None:
    wt = ex.state.workflow_task if ex.state.HasField("workflow_task") else None
    if wt is not None and wt.attempt == timer.attempt and wt.started_event_id == timer.event_id:
        ex.add_workflow_task_timed_out(wt)


def _workflow_task_retry(ex: Execution, timer: TimerRow) -> None:
    wt = ex.state.workflow_task if ex.state.HasField("workflow_task") else None
    if wt is not None and wt.attempt == timer.attempt and wt.backing_off:
        ex.add_workflow_task_retry_scheduled(timer.attempt)


def _workflow_timeout(ex: Execution, timer: TimerRow) -> None:
    ex.add_workflow_execution_timed_out()


def _activity_retry(ex: Execution, timer: TimerRow) -> None:
    a = ex.state.activities.get(timer.event_id)
    if a is not None and a.backing_off and a.attempt == timer.attempt:
        ex.add_activity_retry_due(a)


def _activity_attempt_timeout(timeout_type: int) -> Callable[[Execution, TimerRow], None]:
    """A timeout of a started attempt: retried by the activity's policy."""

    def fire(ex: Execution, timer: TimerRow) -> None:
        a = ex.state.activities.get(timer.event_id)
        if a is not None and a.HasField("started_time") and a.attempt == timer.attempt:
            ex.add_activity_task_failed(a, timeout_failure(timeout_type))

    return fire


def _activity_schedule_to_start(ex: Execution, timer: TimerRow) -> None:
    a = ex.state.activities.get(timer.event_id)
    if a is not None and not a.HasField("started_time") and not a.backing_off and a.attempt == timer.attempt:
        ex.add_activity_task_timed_out(a, C.TIMEOUT_TYPE_SCHEDULE_TO_START)


def _activity_schedule_to_close(ex: Execution, timer: TimerRow) -> None:
    a = ex.state.activities.get(timer.event_id)
    if a is not None:
        ex.add_activity_task_timed_out(a, C.TIMEOUT_TYPE_SCHEDULE_TO_CLOSE)


# What each kind of timer does when it fires on a running workflow.
_ON_FIRE: dict[TimerKind, Callable[[Execution, TimerRow], None]] = {
    TimerKind.USER_TIMER: _user_timer,
    TimerKind.STICKY_SCHEDULE_TO_START: _sticky_schedule_to_start,
    TimerKind.WORKFLOW_TASK_TIMEOUT: _workflow_task_timeout,
    TimerKind.WORKFLOW_TASK_RETRY: _workflow_task_retry,
    TimerKind.WORKFLOW_RUN_TIMEOUT: _workflow_timeout,
    TimerKind.WORKFLOW_EXECUTION_TIMEOUT: _workflow_timeout,
    TimerKind.ACTIVITY_RETRY: _activity_retry,
    TimerKind.ACTIVITY_START_TO_CLOSE: _activity_attempt_timeout(C.TIMEOUT_TYPE_START_TO_CLOSE),
    TimerKind.ACTIVITY_HEARTBEAT: _activity_attempt_timeout(C.TIMEOUT_TYPE_HEARTBEAT),
    TimerKind.ACTIVITY_SCHEDULE_TO_START: _activity_schedule_to_start,
    TimerKind.ACTIVITY_SCHEDULE_TO_CLOSE: _activity_schedule_to_close,
}


class Timers:
    def __init__(self, runs: Runs, cross_run: CrossRun) -> None:
        self.runs = runs
        self.cross_run = cross_run

    async def fire(self, timer: TimerRow) -> None:
        """Act on a due timer; a timer made stale by later events only goes away."""
        if timer.kind in CROSS_RUN_KINDS:
            await self.cross_run.fire(timer)
            return
        key = (timer.namespace, timer.workflow_id, timer.run_id)

        def op(ex: Execution) -> None:
            ex.claim_timer(timer)
            if ex.running:
                _ON_FIRE[timer.kind](ex, timer)

        try:
            await self.runs.update(key, op)
        except TaskGone:
            pass  # another server fired it
        except NotFound:
            await self.runs.store.drop_timer(*key, timer.key)
