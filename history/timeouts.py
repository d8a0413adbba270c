"""What happens when a durable timer fires: user timers, workflow-task and activity timeouts,
retry back-off and workflow timeouts."""

from __future__ import annotations

from history._core import _USER_TIMER_PREFIX, TaskGone
from history.activities import ActivityOps, _timeout_failure
from history.errors import NotFound
from history.mutable_state import Execution
from history.tasks import TaskKind, TimerKind, TimerRow
from wf.v1 import common_pb2, history_pb2

H = history_pb2
C = common_pb2


class TimerOps(ActivityOps):
    # -- timers -----------------------------------------------------------------------------------

    async def fire_timer(self, timer: TimerRow) -> None:
        """Act on a due timer; a timer made stale by later events only goes away."""
        key = (timer.namespace, timer.workflow_id, timer.run_id)

        def op(ex: Execution) -> None:
            ex.claimed_timers[timer.key] = timer.fire_at
            ex.changed = True
            if ex.running:
                self._on_timer(ex, timer)

        try:
            await self._update(key, op)
        except TaskGone:
            pass  # another server fired it
        except NotFound:
            await self.store.drop_timer(*key, timer.key)

    def _on_timer(self, ex: Execution, timer: TimerRow) -> None:
        kind = timer.kind
        s = ex.state
        if kind == TimerKind.USER_TIMER:
            timer_id = timer.key[len(_USER_TIMER_PREFIX):]
            if s.timers.get(timer_id) == timer.event_id:
                del s.timers[timer_id]
                ex.add_event(
                    H.EVENT_TYPE_TIMER_FIRED,
                    timer_fired_event_attributes=H.TimerFiredEventAttributes(
                        timer_id=timer_id, started_event_id=timer.event_id
                    ),
                )
                ex.schedule_workflow_task()
            return
        if kind == TimerKind.STICKY_SCHEDULE_TO_START:
            wt = s.workflow_task if s.HasField("workflow_task") else None
            if (
                wt is not None
                and wt.scheduled_event_id == timer.event_id
                and not wt.started_event_id
                and wt.task_queue != ex.record.task_queue
            ):
                # Nobody on the sticky queue took it: hand it to every worker, with the whole history.
                ex.unstick()
                wt.task_queue = ex.record.task_queue
                ex.add_task(TaskKind.WORKFLOW, ex.record.task_queue, wt.scheduled_event_id, wt.attempt)
            return
        if kind in (TimerKind.WORKFLOW_TASK_TIMEOUT, TimerKind.WORKFLOW_TASK_RETRY):
            wt = s.workflow_task if s.HasField("workflow_task") else None
            if wt is None or wt.attempt != timer.attempt:
                return
            if kind == TimerKind.WORKFLOW_TASK_RETRY and wt.backing_off:
                s.ClearField("workflow_task")
                ex.schedule_workflow_task(attempt=timer.attempt)
            elif kind == TimerKind.WORKFLOW_TASK_TIMEOUT and wt.started_event_id == timer.event_id:
                ex.add_event(
                    H.EVENT_TYPE_WORKFLOW_TASK_TIMED_OUT,
                    workflow_task_timed_out_event_attributes=H.WorkflowTaskTimedOutEventAttributes(
                        scheduled_event_id=wt.scheduled_event_id,
                        started_event_id=wt.started_event_id,
                        timeout_type=C.TIMEOUT_TYPE_START_TO_CLOSE,
                    ),
                )
                s.workflow_task_needed = False
                ex.unstick()
                ex.retry_workflow_task_later(wt.attempt + 1)
            return
        if kind in (TimerKind.WORKFLOW_RUN_TIMEOUT, TimerKind.WORKFLOW_EXECUTION_TIMEOUT):
            ex.add_event(
                H.EVENT_TYPE_WORKFLOW_EXECUTION_TIMED_OUT,
                workflow_execution_timed_out_event_attributes=H.WorkflowExecutionTimedOutEventAttributes(
                    retry_state=C.RETRY_STATE_TIMEOUT
                ),
            )
            ex.close(C.WORKFLOW_EXECUTION_STATUS_TIMED_OUT)
            return
        a = s.activities.get(timer.event_id)
        if a is None:
            return
        started = a.HasField("started_time")
        if kind == TimerKind.ACTIVITY_RETRY:
            if a.backing_off and a.attempt == timer.attempt:
                a.backing_off = False
                a.current_attempt_scheduled_time.FromDatetime(ex.now)
                self._dispatch_activity_attempt(ex, a)
        elif kind == TimerKind.ACTIVITY_START_TO_CLOSE:
            if started and a.attempt == timer.attempt:
                self._activity_attempt_failed(ex, a, _timeout_failure(C.TIMEOUT_TYPE_START_TO_CLOSE))
        elif kind == TimerKind.ACTIVITY_HEARTBEAT:
            if started and a.attempt == timer.attempt:
                self._activity_attempt_failed(ex, a, _timeout_failure(C.TIMEOUT_TYPE_HEARTBEAT))
        elif kind == TimerKind.ACTIVITY_SCHEDULE_TO_START:
            if not started and not a.backing_off and a.attempt == timer.attempt:
                self._activity_timed_out(ex, a, C.TIMEOUT_TYPE_SCHEDULE_TO_START)
        elif kind == TimerKind.ACTIVITY_SCHEDULE_TO_CLOSE:
            self._activity_timed_out(ex, a, C.TIMEOUT_TYPE_SCHEDULE_TO_CLOSE)
