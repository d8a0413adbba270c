"""Activity tasks: scheduling, starting, heartbeats, completion, failure with retries, cancellation
and timeouts."""

from __future__ import annotations

from datetime import UTC

from history import retry
from history._core import ExecutionOps, Taker, TaskGone, encode_token
from history.errors import NotFound
from history.mutable_state import Execution, activity_timer_key, duration, is_set
from history.tasks import TaskKind, TaskRow, TimerKind
from wf.v1 import command_pb2, common_pb2, history_pb2, internal_pb2, service_pb2

H = history_pb2
C = common_pb2


class ActivityOps(ExecutionOps):
    def _schedule_activity(
        self, ex: Execution, a: command_pb2.ScheduleActivityTaskCommandAttributes, completed_id: int
    ) -> internal_pb2.ActivityState:
        attrs = H.ActivityTaskScheduledEventAttributes(
            activity_id=a.activity_id,
            activity_type=a.activity_type,
            task_queue=C.TaskQueue(name=a.task_queue.name or ex.record.task_queue, kind=C.TASK_QUEUE_KIND_NORMAL),
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
        event = ex.add_event(H.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED, activity_task_scheduled_event_attributes=attrs)
        sid = event.event_id
        state = ex.state.activities[sid]
        state.scheduled_event_id = sid
        state.activity_id = a.activity_id
        state.activity_type = a.activity_type.name
        state.task_queue = attrs.task_queue.name
        state.scheduled_time.CopyFrom(ex.timestamp())
        state.current_attempt_scheduled_time.CopyFrom(ex.timestamp())
        state.schedule_to_close_timeout.CopyFrom(attrs.schedule_to_close_timeout)
        state.schedule_to_start_timeout.CopyFrom(attrs.schedule_to_start_timeout)
        state.start_to_close_timeout.CopyFrom(attrs.start_to_close_timeout)
        state.heartbeat_timeout.CopyFrom(attrs.heartbeat_timeout)
        state.retry_policy.CopyFrom(attrs.retry_policy)
        state.attempt = 1
        if is_set(state.schedule_to_close_timeout):
            ex.set_timer(
                activity_timer_key(sid, "s2c"),
                duration(state.schedule_to_close_timeout),
                TimerKind.ACTIVITY_SCHEDULE_TO_CLOSE,
                sid,
                1,
            )
        return state

    @staticmethod
    def _start_activity_attempt(ex: Execution, a: internal_pb2.ActivityState, identity: str) -> None:
        a.started_time.CopyFrom(ex.timestamp())
        a.last_worker_identity = identity
        ex.delete_timer(activity_timer_key(a.scheduled_event_id, "s2s"))
        ex.set_timer(
            activity_timer_key(a.scheduled_event_id, "stc"),
            duration(a.start_to_close_timeout),
            TimerKind.ACTIVITY_START_TO_CLOSE,
            a.scheduled_event_id,
            a.attempt,
        )
        ActivityOps._set_heartbeat_timer(ex, a)

    @staticmethod
    def _set_heartbeat_timer(ex: Execution, a: internal_pb2.ActivityState) -> None:
        """The attempt times out unless it heartbeats again within its heartbeat timeout."""
        if is_set(a.heartbeat_timeout):
            ex.set_timer(
                activity_timer_key(a.scheduled_event_id, "hb"),
                duration(a.heartbeat_timeout),
                TimerKind.ACTIVITY_HEARTBEAT,
                a.scheduled_event_id,
                a.attempt,
            )

    @staticmethod
    def _dispatch_activity_attempt(ex: Execution, a: internal_pb2.ActivityState) -> None:
        ex.add_task(TaskKind.ACTIVITY, a.task_queue, a.scheduled_event_id, a.attempt)
        if is_set(a.schedule_to_start_timeout):
            ex.set_timer(
                activity_timer_key(a.scheduled_event_id, "s2s"),
                duration(a.schedule_to_start_timeout),
                TimerKind.ACTIVITY_SCHEDULE_TO_START,
                a.scheduled_event_id,
                a.attempt,
            )

    # -- activity tasks ---------------------------------------------------------------------------

    async def record_activity_task_started(
        self, task: TaskRow, identity: str
    ) -> service_pb2.PollActivityTaskQueueResponse:
        key = (task.namespace, task.workflow_id, task.run_id)

        def op(ex: Execution) -> internal_pb2.ActivityState:
            a = self._waiting_attempt(ex, task)
            if a is None:
                raise TaskGone("stale activity task")
            ex.claimed_task_ids.append(task.id)
            self._start_activity_attempt(ex, a, identity)
            result = internal_pb2.ActivityState()
            result.CopyFrom(a)
            return result

        try:
            a = await self._update(key, op)
        except (TaskGone, NotFound):
            await self.store.drop_task(task.id)
            raise TaskGone("stale activity task") from None
        record = await self._load(key)
        return await self._activity_task_response(key, record.workflow_type, a)

    async def _activity_task_response(
        self, key: tuple[str, str, str], workflow_type: str, a: internal_pb2.ActivityState
    ) -> service_pb2.PollActivityTaskQueueResponse:
        """The response for a started attempt; its input is in the ActivityTaskScheduled event."""
        events = await self._events(key, a.scheduled_event_id, a.scheduled_event_id)
        scheduled = H.HistoryEvent.FromString(events[0] if events else b"").activity_task_scheduled_event_attributes
        return activity_task_response(*key, workflow_type, a, scheduled.input)

    @staticmethod
    def _waiting_attempt(ex: Execution, task: TaskRow) -> internal_pb2.ActivityState | None:
        """The activity attempt ``task`` hands out, if it still waits to be started."""
        a = ex.state.activities.get(task.scheduled_event_id) if ex.running else None
        if a is None or a.attempt != task.attempt or a.HasField("started_time") or a.backing_off:
            return None
        return a

    @staticmethod
    def _started_activity(ex: Execution, token: internal_pb2.TaskToken) -> internal_pb2.ActivityState:
        if not ex.running:
            raise NotFound(f"{ex.describe()} is already closed; its activity is no longer wanted")
        a = ex.state.activities.get(token.scheduled_event_id)
        if a is None or a.attempt != token.attempt or not a.HasField("started_time"):
            raise NotFound(
                f"activity task not found for {ex.describe()}: it timed out, was retried or already answered"
            )
        return a

    def _record_activity_started_event(self, ex: Execution, a: internal_pb2.ActivityState) -> int:
        event = ex.add_event(
            H.EVENT_TYPE_ACTIVITY_TASK_STARTED,
            activity_task_started_event_attributes=H.ActivityTaskStartedEventAttributes(
                scheduled_event_id=a.scheduled_event_id,
                identity=a.last_worker_identity,
                attempt=a.attempt,
                last_failure=a.last_failure if a.HasField("last_failure") else None,
            ),
        )
        return event.event_id

    def _finish_activity(self, ex: Execution, a: internal_pb2.ActivityState) -> None:
        sid = a.scheduled_event_id
        for what in ("stc", "s2s", "s2c", "retry", "hb"):
            ex.delete_timer(activity_timer_key(sid, what))
        del ex.state.activities[sid]
        ex.schedule_workflow_task()

    def _record_activity_completed(
        self, ex: Execution, a: internal_pb2.ActivityState, result: common_pb2.Payloads, identity: str
    ) -> None:
        """ActivityTaskStarted and ActivityTaskCompleted, and the workflow task that follows."""
        started_id = self._record_activity_started_event(ex, a)
        ex.add_event(
            H.EVENT_TYPE_ACTIVITY_TASK_COMPLETED,
            activity_task_completed_event_attributes=H.ActivityTaskCompletedEventAttributes(
                result=result, scheduled_event_id=a.scheduled_event_id, started_event_id=started_id,
                identity=identity,
            ),
        )
        self._finish_activity(ex, a)

    async def complete_activity_task(
        self,
        token: internal_pb2.TaskToken,
        result: common_pb2.Payloads,
        identity: str,
        eager_workflow_task_queue: str = "",
    ) -> service_pb2.PollWorkflowTaskQueueResponse | None:
        """Record the result; with ``eager_workflow_task_queue`` (the worker's sticky queue), the
        run's next workflow task if it was scheduled there, started for this worker."""
        key = (token.namespace, token.workflow_id, token.run_id)

        def op(ex: Execution) -> Taker | None:
            taker = None
            if eager_workflow_task_queue:
                taker = Taker(identity)
                ex.wanted_by.append((eager_workflow_task_queue, taker))
            self._record_activity_completed(ex, self._started_activity(ex, token), result, identity)
            return taker

        taker = await self._update(key, op)
        return await taker.response if taker is not None else None  # type: ignore[return-value]

    async def fail_activity_task(
        self, token: internal_pb2.TaskToken, failure: common_pb2.Failure, identity: str
    ) -> None:
        key = (token.namespace, token.workflow_id, token.run_id)

        def op(ex: Execution) -> None:
            a = self._started_activity(ex, token)
            a.last_worker_identity = identity or a.last_worker_identity
            self._activity_attempt_failed(ex, a, failure)

        await self._update(key, op)

    async def heartbeat_activity_task(
        self, token: internal_pb2.TaskToken, details: common_pb2.Payloads, identity: str
    ) -> bool:
        """Record progress details; returns whether cancellation of the activity was requested."""
        key = (token.namespace, token.workflow_id, token.run_id)

        def op(ex: Execution) -> bool:
            a = self._started_activity(ex, token)
            a.heartbeat_details.CopyFrom(details)
            a.last_heartbeat_time.FromDatetime(ex.now)
            ex.changed = True
            self._set_heartbeat_timer(ex, a)
            return a.cancel_requested

        return await self._update(key, op)

    async def cancel_activity_task(
        self, token: internal_pb2.TaskToken, details: common_pb2.Payloads, identity: str
    ) -> None:
        """The activity stopped because its cancellation was requested."""
        key = (token.namespace, token.workflow_id, token.run_id)

        def op(ex: Execution) -> None:
            a = self._started_activity(ex, token)
            started_id = self._record_activity_started_event(ex, a)
            ex.add_event(
                H.EVENT_TYPE_ACTIVITY_TASK_CANCELED,
                activity_task_canceled_event_attributes=H.ActivityTaskCanceledEventAttributes(
                    details=details,
                    latest_cancel_requested_event_id=a.cancel_requested_event_id,
                    scheduled_event_id=a.scheduled_event_id,
                    started_event_id=started_id,
                    identity=identity,
                ),
            )
            self._finish_activity(ex, a)

        await self._update(key, op)

    def _activity_attempt_failed(
        self, ex: Execution, a: internal_pb2.ActivityState, failure: common_pb2.Failure
    ) -> None:
        """Retry the activity after its back-off, or record its final failure or timeout."""
        deadline = (
            a.scheduled_time.ToDatetime(UTC) + duration(a.schedule_to_close_timeout)
            if is_set(a.schedule_to_close_timeout)
            else None
        )
        delay, retry_state = retry.next_delay(a.retry_policy, a.attempt, failure, ex.now, deadline)
        sid = a.scheduled_event_id
        if delay is not None:
            a.last_failure.CopyFrom(failure)
            a.ClearField("started_time")
            a.backing_off = True
            a.attempt += 1
            ex.delete_timer(activity_timer_key(sid, "stc"))
            ex.delete_timer(activity_timer_key(sid, "hb"))
            a.cancel_requested = False
            ex.set_timer(activity_timer_key(sid, "retry"), delay, TimerKind.ACTIVITY_RETRY, sid, a.attempt)
            return
        started_id = self._record_activity_started_event(ex, a) if a.HasField("started_time") else 0
        if failure.HasField("timeout_failure_info"):
            if a.HasField("last_failure") and not failure.HasField("cause"):
                failure.cause.CopyFrom(a.last_failure)
            ex.add_event(
                H.EVENT_TYPE_ACTIVITY_TASK_TIMED_OUT,
                activity_task_timed_out_event_attributes=H.ActivityTaskTimedOutEventAttributes(
                    failure=failure, scheduled_event_id=sid, started_event_id=started_id,
                    retry_state=retry_state,  # type: ignore[arg-type]
                ),
            )
        else:
            ex.add_event(
                H.EVENT_TYPE_ACTIVITY_TASK_FAILED,
                activity_task_failed_event_attributes=H.ActivityTaskFailedEventAttributes(
                    failure=failure, scheduled_event_id=sid, started_event_id=started_id,
                    identity=a.last_worker_identity, retry_state=retry_state,  # type: ignore[arg-type]
                ),
            )
        self._finish_activity(ex, a)

    def _activity_timed_out(self, ex: Execution, a: internal_pb2.ActivityState, timeout_type: int) -> None:
        failure = _timeout_failure(timeout_type)
        if a.HasField("last_failure"):
            failure.cause.CopyFrom(a.last_failure)
        started_id = self._record_activity_started_event(ex, a) if a.HasField("started_time") else 0
        ex.add_event(
            H.EVENT_TYPE_ACTIVITY_TASK_TIMED_OUT,
            activity_task_timed_out_event_attributes=H.ActivityTaskTimedOutEventAttributes(
                failure=failure, scheduled_event_id=a.scheduled_event_id, started_event_id=started_id,
                retry_state=C.RETRY_STATE_TIMEOUT,
            ),
        )
        self._finish_activity(ex, a)


def activity_task_response(
    namespace: str,
    workflow_id: str,
    run_id: str,
    workflow_type: str,
    a: internal_pb2.ActivityState,
    input: common_pb2.Payloads,
) -> service_pb2.PollActivityTaskQueueResponse:
    """What a worker gets for a started activity attempt, by poll or eagerly."""
    token = internal_pb2.TaskToken(
        namespace=namespace,
        workflow_id=workflow_id,
        run_id=run_id,
        scheduled_event_id=a.scheduled_event_id,
        attempt=a.attempt,
    )
    return service_pb2.PollActivityTaskQueueResponse(
        task_token=encode_token(token),
        workflow_type=C.WorkflowType(name=workflow_type),
        workflow_execution=C.WorkflowExecution(workflow_id=workflow_id, run_id=run_id),
        activity_type=C.ActivityType(name=a.activity_type),
        activity_id=a.activity_id,
        input=input,
        scheduled_time=a.scheduled_time,
        current_attempt_scheduled_time=a.current_attempt_scheduled_time,
        started_time=a.started_time,
        attempt=a.attempt,
        schedule_to_close_timeout=a.schedule_to_close_timeout,
        start_to_close_timeout=a.start_to_close_timeout,
        heartbeat_timeout=a.heartbeat_timeout,
        retry_policy=a.retry_policy,
        heartbeat_details=a.heartbeat_details if a.HasField("heartbeat_details") else None,
        workflow_namespace=namespace,
    )

def _timeout_failure(timeout_type: int) -> common_pb2.Failure:
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
