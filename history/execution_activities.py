"""The activity transitions of :class:`wf.history.execution.Execution`.

A part of ``Execution`` kept in its own file for size: every method appends its events and sets or
drops the task and timer rows that follow, through the execution's own row helpers.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

from wf.history import retry
from wf.history.cost import count_activity_attempt
from wf.history.durations import duration, is_set
from wf.history.errors import NotFound
from wf.history.tasks import TaskKind, TaskRow, TimerKind
from wf.v1 import command_pb2, common_pb2, history_pb2, internal_pb2

if TYPE_CHECKING:
    from google.protobuf.timestamp_pb2 import Timestamp

    from wf.history.store import ExecutionRecord

H = history_pb2
C = common_pb2
# The timers an activity may have, by the suffix of their key.
_ACTIVITY_TIMERS = ("stc", "s2s", "s2c", "retry", "hb")


def activity_timer_key(scheduled_event_id: int, what: str) -> str:
    return f"a{scheduled_event_id}:{what}"


def timeout_failure(timeout_type: int) -> common_pb2.Failure:
    names: dict[int, str] = {
        C.TIMEOUT_TYPE_START_TO_CLOSE: "start-to-close",
        C.TIMEOUT_TYPE_SCHEDULE_TO_START: "schedule-to-start",
        C.TIMEOUT_TYPE_SCHEDULE_TO_CLOSE: "schedule-to-close",
        C.TIMEOUT_TYPE_HEARTBEAT: "heartbeat",
    }
    return C.Failure(
        message=f"activity {names.get(timeout_type, 'unknown')} timeout",
        source="wf-server",
        timeout_failure_info=C.TimeoutFailureInfo(timeout_type=timeout_type),  # type: ignore[arg-type]
    )


class ActivityTransitions:
    """Scheduling, starting, heartbeats, results, retries, timeouts and cancellation of activities."""

    # Provided by Execution.
    record: ExecutionRecord
    state: internal_pb2.MutableState
    now: datetime
    changed: bool

    if TYPE_CHECKING:

        @property
        def running(self) -> bool: ...

        def describe(self) -> str: ...

        def timestamp(self) -> Timestamp: ...

        def _add_event(self, event_type: int, **attributes: Any) -> history_pb2.HistoryEvent: ...

        def _add_task(self, kind: TaskKind, task_queue: str, scheduled_event_id: int, attempt: int) -> TaskRow: ...

        def _set_timer(self, key: str, after: timedelta, kind: TimerKind, event_id: int, attempt: int) -> None: ...

        def _delete_timer(self, key: str) -> None: ...

        def add_workflow_task_scheduled(self, *, attempt: int = 1) -> None: ...

    # -- reading ---------------------------------------------------------------------------------

    def waiting_activity(self, task: TaskRow) -> internal_pb2.ActivityState | None:
        """The activity attempt ``task`` hands out, if it still waits to be started."""
        a = self.state.activities.get(task.scheduled_event_id) if self.running else None
        if a is None or a.attempt != task.attempt or a.HasField("started_time") or a.backing_off:
            return None
        return a

    def started_activity(self, token: internal_pb2.TaskToken) -> internal_pb2.ActivityState:
        """The started attempt ``token`` names (NotFound when it timed out, was retried or answered)."""
        if not self.running:
            raise NotFound(f"{self.describe()} is already closed; its activity is no longer wanted")
        a = self.state.activities.get(token.scheduled_event_id)
        if a is None or a.attempt != token.attempt or not a.HasField("started_time"):
            raise NotFound(
                f"activity task not found for {self.describe()}: it timed out, was retried or already answered"
            )
        return a

    # -- scheduling and starting -----------------------------------------------------------------

    def add_activity_task_scheduled(
        self, a: command_pb2.ScheduleActivityTaskCommandAttributes, completed_id: int
    ) -> internal_pb2.ActivityState:
        """Record the activity as scheduled (its attempts' rows are set by :meth:`add_activity_task`
        or by a start in this same change)."""
        attrs = H.ActivityTaskScheduledEventAttributes(
            activity_id=a.activity_id,
            activity_type=a.activity_type,
            task_queue=C.TaskQueue(name=a.task_queue.name or self.record.task_queue, kind=C.TASK_QUEUE_KIND_NORMAL),
            input=a.input,
            schedule_to_close_timeout=a.schedule_to_close_timeout,
            schedule_to_start_timeout=a.schedule_to_start_timeout,
            start_to_close_timeout=a.start_to_close_timeout,
            heartbeat_timeout=a.heartbeat_timeout,
            workflow_task_completed_event_id=completed_id,
            retry_policy=retry.with_defaults(a.retry_policy),
        )
        s2c = duration(a.schedule_to_close_timeout)
        if not is_set(attrs.start_to_close_timeout):
            attrs.start_to_close_timeout.CopyFrom(a.schedule_to_close_timeout)
        elif is_set(a.schedule_to_close_timeout) and duration(attrs.start_to_close_timeout) > s2c:
            attrs.start_to_close_timeout.CopyFrom(a.schedule_to_close_timeout)
        if is_set(a.schedule_to_close_timeout) and duration(a.schedule_to_start_timeout) > s2c:
            attrs.schedule_to_start_timeout.CopyFrom(a.schedule_to_close_timeout)
        event = self._add_event(H.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED, activity_task_scheduled_event_attributes=attrs)
        sid = event.event_id
        state = self.state.activities[sid]
        state.scheduled_event_id = sid
        state.activity_id = a.activity_id
        state.activity_type = a.activity_type.name
        state.task_queue = attrs.task_queue.name
        state.scheduled_time.CopyFrom(self.timestamp())
        state.current_attempt_scheduled_time.CopyFrom(self.timestamp())
        state.schedule_to_close_timeout.CopyFrom(attrs.schedule_to_close_timeout)
        state.schedule_to_start_timeout.CopyFrom(attrs.schedule_to_start_timeout)
        state.start_to_close_timeout.CopyFrom(attrs.start_to_close_timeout)
        state.heartbeat_timeout.CopyFrom(attrs.heartbeat_timeout)
        state.retry_policy.CopyFrom(attrs.retry_policy)
        state.attempt = 1
        if is_set(state.schedule_to_close_timeout):
            self._set_timer(
                activity_timer_key(sid, "s2c"), duration(state.schedule_to_close_timeout),
                TimerKind.ACTIVITY_SCHEDULE_TO_CLOSE, sid, 1,
            )
        return state

    def add_activity_task(self, a: internal_pb2.ActivityState) -> None:
        """The attempt waits in its task queue (and times out if nobody starts it in time)."""
        self._add_task(TaskKind.ACTIVITY, a.task_queue, a.scheduled_event_id, a.attempt)
        if is_set(a.schedule_to_start_timeout):
            self._set_timer(
                activity_timer_key(a.scheduled_event_id, "s2s"), duration(a.schedule_to_start_timeout),
                TimerKind.ACTIVITY_SCHEDULE_TO_START, a.scheduled_event_id, a.attempt,
            )

    def add_activity_task_started(self, a: internal_pb2.ActivityState, identity: str) -> None:
        """The attempt is started by ``identity``. Its ActivityTaskStarted event is written with its
        outcome (as Temporal does), so retries leave no trace but the last attempt."""
        a.started_time.CopyFrom(self.timestamp())
        a.last_worker_identity = identity
        count_activity_attempt(self.state.cost)
        self._delete_timer(activity_timer_key(a.scheduled_event_id, "s2s"))
        self._set_timer(
            activity_timer_key(a.scheduled_event_id, "stc"), duration(a.start_to_close_timeout),
            TimerKind.ACTIVITY_START_TO_CLOSE, a.scheduled_event_id, a.attempt,
        )
        self._set_heartbeat_timer(a)

    def add_activity_retry_due(self, a: internal_pb2.ActivityState) -> None:
        """The attempt's back-off is over: it waits in its task queue again."""
        a.backing_off = False
        a.current_attempt_scheduled_time.FromDatetime(self.now)
        self.add_activity_task(a)

    def record_activity_heartbeat(self, a: internal_pb2.ActivityState, details: common_pb2.Payloads) -> None:
        a.heartbeat_details.CopyFrom(details)
        a.last_heartbeat_time.FromDatetime(self.now)
        self.changed = True
        self._set_heartbeat_timer(a)

    def _set_heartbeat_timer(self, a: internal_pb2.ActivityState) -> None:
        """The attempt times out unless it heartbeats again within its heartbeat timeout."""
        if is_set(a.heartbeat_timeout):
            self._set_timer(
                activity_timer_key(a.scheduled_event_id, "hb"), duration(a.heartbeat_timeout),
                TimerKind.ACTIVITY_HEARTBEAT, a.scheduled_event_id, a.attempt,
            )

    # -- outcomes --------------------------------------------------------------------------------

    def _add_activity_started_event(self, a: internal_pb2.ActivityState) -> int:
        event = self._add_event(
            H.EVENT_TYPE_ACTIVITY_TASK_STARTED,
            activity_task_started_event_attributes=H.ActivityTaskStartedEventAttributes(
                scheduled_event_id=a.scheduled_event_id,
                identity=a.last_worker_identity,
                attempt=a.attempt,
                last_failure=a.last_failure if a.HasField("last_failure") else None,
            ),
        )
        return event.event_id

    def _finish_activity(self, a: internal_pb2.ActivityState) -> None:
        sid = a.scheduled_event_id
        for what in _ACTIVITY_TIMERS:
            self._delete_timer(activity_timer_key(sid, what))
        del self.state.activities[sid]
        self.add_workflow_task_scheduled()

    def add_activity_task_completed(
        self, a: internal_pb2.ActivityState, result: common_pb2.Payloads, identity: str
    ) -> None:
        """ActivityTaskStarted and ActivityTaskCompleted, and the workflow task that follows."""
        started_id = self._add_activity_started_event(a)
        self._add_event(
            H.EVENT_TYPE_ACTIVITY_TASK_COMPLETED,
            activity_task_completed_event_attributes=H.ActivityTaskCompletedEventAttributes(
                result=result, scheduled_event_id=a.scheduled_event_id, started_event_id=started_id,
                identity=identity,
            ),
        )
        self._finish_activity(a)

    def add_activity_task_failed(
        self, a: internal_pb2.ActivityState, failure: common_pb2.Failure, identity: str = ""
    ) -> None:
        """The attempt failed (or timed out): retry after its back-off, or record the final outcome.
        ``identity`` is the worker that reported the failure (none for a timeout)."""
        a.last_worker_identity = identity or a.last_worker_identity
        deadline = (
            a.scheduled_time.ToDatetime(UTC) + duration(a.schedule_to_close_timeout)
            if is_set(a.schedule_to_close_timeout)
            else None
        )
        delay, retry_state = retry.next_delay(a.retry_policy, a.attempt, failure, self.now, deadline)
        sid = a.scheduled_event_id
        if delay is not None:
            a.last_failure.CopyFrom(failure)
            a.ClearField("started_time")
            a.backing_off = True
            a.attempt += 1
            # The next attempt is scheduled when its back-off ends (describe's next_attempt_schedule_time).
            a.current_attempt_scheduled_time.FromDatetime(self.now + delay)
            self._delete_timer(activity_timer_key(sid, "stc"))
            self._delete_timer(activity_timer_key(sid, "hb"))
            a.cancel_requested = False
            self._set_timer(activity_timer_key(sid, "retry"), delay, TimerKind.ACTIVITY_RETRY, sid, a.attempt)
            return
        started_id = self._add_activity_started_event(a) if a.HasField("started_time") else 0
        if failure.HasField("timeout_failure_info"):
            if a.HasField("last_failure") and not failure.HasField("cause"):
                failure.cause.CopyFrom(a.last_failure)
            self._add_event(
                H.EVENT_TYPE_ACTIVITY_TASK_TIMED_OUT,
                activity_task_timed_out_event_attributes=H.ActivityTaskTimedOutEventAttributes(
                    failure=failure, scheduled_event_id=sid, started_event_id=started_id,
                    retry_state=retry_state,  # type: ignore[arg-type]
                ),
            )
        else:
            self._add_event(
                H.EVENT_TYPE_ACTIVITY_TASK_FAILED,
                activity_task_failed_event_attributes=H.ActivityTaskFailedEventAttributes(
                    failure=failure, scheduled_event_id=sid, started_event_id=started_id,
                    identity=a.last_worker_identity, retry_state=retry_state,  # type: ignore[arg-type]
                ),
            )
        self._finish_activity(a)

    def add_activity_task_timed_out(self, a: internal_pb2.ActivityState, timeout_type: int) -> None:
        """A timeout no retry can cure (schedule-to-start, schedule-to-close)."""
        failure = timeout_failure(timeout_type)
        if a.HasField("last_failure"):
            failure.cause.CopyFrom(a.last_failure)
        started_id = self._add_activity_started_event(a) if a.HasField("started_time") else 0
        self._add_event(
            H.EVENT_TYPE_ACTIVITY_TASK_TIMED_OUT,
            activity_task_timed_out_event_attributes=H.ActivityTaskTimedOutEventAttributes(
                failure=failure, scheduled_event_id=a.scheduled_event_id, started_event_id=started_id,
                retry_state=C.RETRY_STATE_TIMEOUT,
            ),
        )
        self._finish_activity(a)

    def add_activity_task_cancel_requested(self, scheduled_event_id: int, completed_id: int) -> None:
        """The workflow asks to cancel the activity: a started attempt learns of it from its next
        heartbeat (and answers with a cancellation); one not started is canceled at once."""
        a = self.state.activities[scheduled_event_id]
        requested = self._add_event(
            H.EVENT_TYPE_ACTIVITY_TASK_CANCEL_REQUESTED,
            activity_task_cancel_requested_event_attributes=H.ActivityTaskCancelRequestedEventAttributes(
                scheduled_event_id=scheduled_event_id, workflow_task_completed_event_id=completed_id
            ),
        )
        if a.HasField("started_time"):
            a.cancel_requested = True
            a.cancel_requested_event_id = requested.event_id
            return
        self._add_event(
            H.EVENT_TYPE_ACTIVITY_TASK_CANCELED,
            activity_task_canceled_event_attributes=H.ActivityTaskCanceledEventAttributes(
                latest_cancel_requested_event_id=requested.event_id, scheduled_event_id=scheduled_event_id
            ),
        )
        self._finish_activity(a)

    def add_activity_task_canceled(
        self, a: internal_pb2.ActivityState, details: common_pb2.Payloads, identity: str
    ) -> None:
        """The started attempt stopped because its cancellation was requested."""
        started_id = self._add_activity_started_event(a)
        self._add_event(
            H.EVENT_TYPE_ACTIVITY_TASK_CANCELED,
            activity_task_canceled_event_attributes=H.ActivityTaskCanceledEventAttributes(
                details=details,
                latest_cancel_requested_event_id=a.cancel_requested_event_id,
                scheduled_event_id=a.scheduled_event_id,
                started_event_id=started_id,
                identity=identity,
            ),
        )
        self._finish_activity(a)
