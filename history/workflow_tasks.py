"""Workflow tasks: handing them to workers, and applying the commands a completed one returns."""

from __future__ import annotations

import dataclasses
import functools
from collections.abc import Awaitable, Callable, Sequence
from datetime import UTC, datetime, timedelta

from google.protobuf.message import Message

from history import retry
from history._core import (
    CompletionResult,
    DirectStart,
    Taker,
    TaskGone,
    _release,
    _user_timer_key,
    copy_message,
    encode_token,
)
from history.activities import activity_task_response
from history.errors import NotFound
from history.interaction import InteractionOps
from history.limits import MAX_DURATION_SECONDS, id_length
from history.mutable_state import Execution, activity_timer_key, duration, is_set
from history.tasks import Handoff, TaskKind, TaskRow, TimerKind
from wf.v1 import command_pb2, common_pb2, history_pb2, internal_pb2, service_pb2

H = history_pb2
C = common_pb2


@dataclasses.dataclass(slots=True)
class _StartedTask:
    """A workflow task just recorded as started: what its poll response is built from."""

    key: tuple[str, str, str]
    workflow_type: str
    task: internal_pb2.WorkflowTaskState
    previous_started_event_id: int
    sticky: bool
    updates: list[C.UpdateRequest]


class WorkflowTaskOps(InteractionOps):
    # -- workflow tasks ---------------------------------------------------------------------------

    async def record_workflow_task_started(
        self, task: TaskRow, identity: str
    ) -> service_pb2.PollWorkflowTaskQueueResponse:
        """Claim a workflow task for a poller and build its response (raises TaskGone if stale)."""
        key = (task.namespace, task.workflow_id, task.run_id)

        def op(ex: Execution) -> _StartedTask:
            if not _workflow_task_waits(ex, task):
                raise TaskGone("stale workflow task")
            ex.claimed_task_ids.append(task.id)
            return self._begin_workflow_task(ex, identity)

        try:
            started = await self._update(key, op)
        except (TaskGone, NotFound):
            await self.store.drop_task(task.id)
            raise TaskGone("stale workflow task") from None
        return await self._workflow_task_response(started)

    @staticmethod
    def _begin_workflow_task(ex: Execution, identity: str) -> _StartedTask:
        """Record the scheduled workflow task as started by ``identity``."""
        wt = ex.state.workflow_task
        event = ex.add_event(
            H.EVENT_TYPE_WORKFLOW_TASK_STARTED,
            workflow_task_started_event_attributes=H.WorkflowTaskStartedEventAttributes(
                scheduled_event_id=wt.scheduled_event_id, identity=identity
            ),
        )
        wt.started_event_id = event.event_id
        wt.started_time.CopyFrom(ex.timestamp())
        ex.set_timer(
            "wft", duration(ex.state.workflow_task_timeout), TimerKind.WORKFLOW_TASK_TIMEOUT, event.event_id, wt.attempt
        )
        started = internal_pb2.WorkflowTaskState()
        started.CopyFrom(wt)
        updates = [
            copy_message(ex.state.pending_updates[uid])
            for uid in ex.state.pending_update_order
            if uid in ex.state.pending_updates
        ]
        return _StartedTask(
            key=ex.key,
            workflow_type=ex.record.workflow_type,
            task=started,
            previous_started_event_id=ex.state.last_completed_workflow_task_started_event_id,
            sticky=wt.task_queue != ex.record.task_queue,
            updates=updates,
        )

    async def _workflow_task_response(self, started: _StartedTask) -> service_pb2.PollWorkflowTaskQueueResponse:
        wt = started.task
        previous = started.previous_started_event_id
        namespace, workflow_id, run_id = started.key
        # Up to this task's WorkflowTaskStarted: events appended since belong to the next task. A
        # sticky task carries only what the worker's cached run has not seen.
        first = previous + 1 if started.sticky and previous else 1
        history = H.History()
        for data in await self._events(started.key, first, wt.started_event_id):
            history.events.add().MergeFromString(data)
        token = internal_pb2.TaskToken(
            namespace=namespace,
            workflow_id=workflow_id,
            run_id=run_id,
            scheduled_event_id=wt.scheduled_event_id,
            started_event_id=wt.started_event_id,
            attempt=wt.attempt,
        )
        return service_pb2.PollWorkflowTaskQueueResponse(
            task_token=encode_token(token),
            workflow_execution=C.WorkflowExecution(workflow_id=workflow_id, run_id=run_id),
            workflow_type=C.WorkflowType(name=started.workflow_type),
            previous_started_event_id=previous,
            started_event_id=wt.started_event_id,
            attempt=wt.attempt,
            history=history,
            update_requests=started.updates,
            scheduled_time=wt.scheduled_time,
            started_time=wt.started_time,
        )

    def _start_directly(self, ex: Execution) -> list[DirectStart]:
        direct: list[DirectStart] = []
        try:
            self._start_for_waiting_pollers(ex, direct)
        except BaseException:
            _release(direct)
            raise
        finally:
            for _, unused in ex.wanted_by:
                unused.release()  # nothing for it in this change
            ex.wanted_by.clear()
        return direct

    def _start_for_waiting_pollers(self, ex: Execution, direct: list[DirectStart]) -> None:
        i = 0
        while i < len(ex.tasks):
            task = ex.tasks[i]
            handoff = (self._wanted(ex, task) or self.reserve(task)) if _can_start_now(ex, task) else None
            if handoff is None:
                i += 1
                continue
            try:
                direct.append(DirectStart(handoff, self._start_task_now(ex, task, handoff.identity)))
            except BaseException:
                handoff.release()
                raise
            del ex.tasks[i]

    @staticmethod
    def _wanted(ex: Execution, task: TaskRow) -> Handoff | None:
        """The caller of this change that asked for a workflow task on ``task``'s queue, if any."""
        if task.kind != TaskKind.WORKFLOW:
            return None
        for j, (queue, handoff) in enumerate(ex.wanted_by):
            if queue == task.task_queue:
                del ex.wanted_by[j]
                return handoff
        return None

    def _start_task_now(
        self, ex: Execution, task: TaskRow, identity: str
    ) -> Callable[[], Awaitable[Message]]:
        """Record ``task`` (scheduled in this change) as started; returns what builds its response."""
        if task.kind == TaskKind.WORKFLOW:
            ex.timers.pop("sticky", None)  # started now: no wait to time out
            started = self._begin_workflow_task(ex, identity)
            return functools.partial(self._workflow_task_response, started)
        a = ex.state.activities[task.scheduled_event_id]
        ex.timers.pop(activity_timer_key(a.scheduled_event_id, "s2s"), None)
        self._start_activity_attempt(ex, a, identity)
        copy = internal_pb2.ActivityState()
        copy.CopyFrom(a)
        return functools.partial(self._activity_task_response, ex.key, ex.record.workflow_type, copy)

    @staticmethod
    def _started_workflow_task(ex: Execution, token: internal_pb2.TaskToken) -> internal_pb2.WorkflowTaskState:
        if not ex.running:
            raise NotFound(f"{ex.describe()} is already closed; its workflow task is gone")
        wt = ex.state.workflow_task if ex.state.HasField("workflow_task") else None
        if (
            wt is None
            or wt.scheduled_event_id != token.scheduled_event_id
            or wt.started_event_id != token.started_event_id
        ):
            raise NotFound(f"workflow task not found for {ex.describe()}: it timed out or was already answered")
        return wt

    async def complete_workflow_task(
        self,
        token: internal_pb2.TaskToken,
        commands: list[command_pb2.Command],
        identity: str,
        update_responses: Sequence[C.UpdateResponse] = (),
        sticky_task_queue: str = "",
        sticky_timeout: timedelta = timedelta(seconds=5),
    ) -> CompletionResult:
        key = (token.namespace, token.workflow_id, token.run_id)

        def op(ex: Execution) -> CompletionResult:
            wt = self._started_workflow_task(ex, token)
            return self._complete_started_task(
                ex, wt, commands, identity, update_responses, sticky_task_queue, sticky_timeout
            )

        return await self._update(key, op)

    async def complete_activity_task_ahead(
        self,
        token: internal_pb2.TaskToken,
        result: common_pb2.Payloads,
        identity: str,
        ahead: Ahead,
        eager_workflow_task_queue: str = "",
    ) -> AheadOutcome:
        """Record an activity's result and, if the history is still where the worker's cached run
        left it, the workflow task the worker ran ahead on it (started and completed in the same
        commit); otherwise the result alone, and the run's next workflow task is started for
        ``eager_workflow_task_queue`` as by :meth:`complete_activity_task`."""
        key = (token.namespace, token.workflow_id, token.run_id)

        def op(ex: Execution) -> tuple[AheadOutcome, Taker | None]:
            a = self._started_activity(ex, token)
            refused = _ahead_refused(ex, a, ahead)
            if refused:
                taker = None
                if eager_workflow_task_queue:
                    taker = Taker(identity)
                    ex.wanted_by.append((eager_workflow_task_queue, taker))
                self._record_activity_completed(ex, a, result, identity)
                return AheadOutcome(server_time=ex.now if refused == "time" else None), taker
            # Recorded at the time the worker had the result and started the task (the workflow's
            # now()), between the attempt's start and this server's clock: the history's times
            # never run back. The task scheduled is started and completed here: no task row for it.
            now, ex.now = ex.now, ahead.started_time
            try:
                self._record_activity_completed(ex, a, result, identity)
                task = ex.tasks.pop()
                assert task.kind == TaskKind.WORKFLOW
                ex.timers.pop("sticky", None)
                self._begin_workflow_task(ex, identity)
            finally:
                ex.now = now
            completion = self._complete_started_task(
                ex, ex.state.workflow_task, ahead.commands, identity, ahead.update_responses,
                ahead.sticky_task_queue, ahead.sticky_timeout,
            )
            completion.first_event_id = ahead.after_event_id + 1  # the worker made up the ones before the task
            return AheadOutcome(completion=completion), None

        outcome, taker = await self._update(key, op)
        if taker is not None:
            outcome.workflow_task = await taker.response  # type: ignore[assignment]
        return outcome

    async def new_events(self, token: internal_pb2.TaskToken, result: CompletionResult) -> H.History:
        """The events a completion appended after the worker's view of the history."""
        history = H.History()
        if result.completed:
            key = (token.namespace, token.workflow_id, token.run_id)
            for data in await self._events(key, result.first_event_id, result.last_event_id):
                history.events.add().MergeFromString(data)
        return history

    def _complete_started_task(
        self,
        ex: Execution,
        wt: internal_pb2.WorkflowTaskState,
        commands: list[command_pb2.Command],
        identity: str,
        update_responses: Sequence[C.UpdateResponse],
        sticky_task_queue: str,
        sticky_timeout: timedelta,
    ) -> CompletionResult:
        """Record the started task ``wt`` as completed with ``commands``, or failed if they are refused."""
        first_event_id = wt.started_event_id + 1
        over = self._over_limit(ex, commands)
        if over is not None:
            return self._fail_for_limit(ex, wt, over, identity)
        error = self._validate_commands(ex, commands)
        if ex.state.workflow_task_needed and (
            (error is None and _closes(commands)) or _cancels_what_is_gone(ex, commands)
        ):
            # New events arrived while the worker ran: it must see them before the run may close.
            return self._fail_task(
                ex, wt, C.WORKFLOW_TASK_FAILED_CAUSE_UNHANDLED_COMMAND,
                C.Failure(message="new events arrived while the workflow task ran"), identity,
                retry_now=True,
            )
        if error is not None:
            return self._fail_task(
                ex, wt, C.WORKFLOW_TASK_FAILED_CAUSE_BAD_COMMAND_ATTRIBUTES,
                C.Failure(message=error, source="wf-server"), identity,
            )
        ex.delete_timer("wft")
        completed = ex.add_event(
            H.EVENT_TYPE_WORKFLOW_TASK_COMPLETED,
            workflow_task_completed_event_attributes=H.WorkflowTaskCompletedEventAttributes(
                scheduled_event_id=wt.scheduled_event_id,
                started_event_id=wt.started_event_id,
                identity=identity,
            ),
        )
        ex.state.last_completed_workflow_task_started_event_id = wt.started_event_id
        ex.state.sticky_task_queue = sticky_task_queue
        ex.state.sticky_timeout.FromTimedelta(sticky_timeout)
        ex.state.ClearField("last_workflow_task_failure")
        ex.state.ClearField("workflow_task")
        result = CompletionResult()
        self._apply_update_responses(ex, update_responses, identity, completions=False)
        for command in commands:
            self._apply_command(ex, command, completed.event_id, result, identity)
            if ex.closes:
                result.eager.clear()
                break
        if not ex.closes:
            self._apply_update_responses(ex, update_responses, identity, completions=True)
        if not ex.closes and ex.state.workflow_task_needed:
            ex.schedule_workflow_task()
        result.completed = True
        result.first_event_id = first_event_id
        result.last_event_id = ex.record.next_event_id - 1
        return result

    async def eager_activity_tasks(
        self, token: internal_pb2.TaskToken, result: CompletionResult
    ) -> list[service_pb2.PollActivityTaskQueueResponse]:
        """Poll responses for the activities a workflow task completion started eagerly."""
        if not result.eager:
            return []
        record = await self._load((token.namespace, token.workflow_id, token.run_id))
        return [
            activity_task_response(token.namespace, token.workflow_id, token.run_id, record.workflow_type, a, input)
            for a, input in result.eager
        ]

    def _fail_task(
        self,
        ex: Execution,
        wt: internal_pb2.WorkflowTaskState,
        cause: int,
        failure: common_pb2.Failure,
        identity: str,
        *,
        retry_now: bool = False,
    ) -> CompletionResult:
        ex.delete_timer("wft")
        ex.unstick()  # whatever the worker cached is in doubt: the next task carries the whole history
        ex.add_event(
            H.EVENT_TYPE_WORKFLOW_TASK_FAILED,
            workflow_task_failed_event_attributes=H.WorkflowTaskFailedEventAttributes(
                scheduled_event_id=wt.scheduled_event_id,
                started_event_id=wt.started_event_id,
                cause=cause,  # type: ignore[arg-type]
                failure=failure,
                identity=identity,
            ),
        )
        ex.state.last_workflow_task_failure.CopyFrom(failure)
        attempt = wt.attempt
        ex.state.workflow_task_needed = False
        if retry_now:
            ex.state.ClearField("workflow_task")
            ex.schedule_workflow_task()
        else:
            ex.retry_workflow_task_later(attempt + 1)
        return CompletionResult(error=failure.message)

    def _over_limit(self, ex: Execution, commands: list[command_pb2.Command]) -> str | None:
        """The hard limit these commands would break, described, or None."""
        limits = self.limits
        for i, command in enumerate(commands):
            if command.ByteSize() <= limits.max_payload_bytes:
                continue  # its payloads are no bigger than the whole command
            size = _payloads_size(command)
            if size > limits.max_payload_bytes:
                return (
                    f"command {i} ({command_pb2.CommandType.Name(command.command_type)}) carries {size:,} "
                    f"bytes of payload, over the {limits.describe('max_payload_bytes')}"
                )
        # Every command adds about one event; the completion and close add two more.
        events = ex.record.next_event_id - 1 + len(commands) + 2
        if events > limits.max_history_events:
            return f"the history would grow to {events:,} events, over the {limits.describe('max_history_events')}"
        if ex.record.history_size > limits.max_history_bytes:
            return (
                f"the history is {ex.record.history_size:,} bytes, over the "
                f"{limits.describe('max_history_bytes')}"
            )
        return None

    def _fail_for_limit(
        self, ex: Execution, wt: internal_pb2.WorkflowTaskState, reason: str, identity: str
    ) -> CompletionResult:
        """Past a hard limit the run fails for good, with a failure that names the limit."""
        ex.delete_timer("wft")
        failure = C.Failure(
            message=reason,
            source="wf-server",
            application_failure_info=C.ApplicationFailureInfo(type="LimitExceeded", non_retryable=True),
        )
        ex.add_event(
            H.EVENT_TYPE_WORKFLOW_TASK_FAILED,
            workflow_task_failed_event_attributes=H.WorkflowTaskFailedEventAttributes(
                scheduled_event_id=wt.scheduled_event_id,
                started_event_id=wt.started_event_id,
                cause=C.WORKFLOW_TASK_FAILED_CAUSE_PAYLOAD_TOO_LARGE,
                failure=failure,
                identity=identity,
            ),
        )
        ex.add_event(
            H.EVENT_TYPE_WORKFLOW_EXECUTION_FAILED,
            workflow_execution_failed_event_attributes=H.WorkflowExecutionFailedEventAttributes(
                failure=failure, retry_state=C.RETRY_STATE_NON_RETRYABLE_FAILURE
            ),
        )
        ex.close(C.WORKFLOW_EXECUTION_STATUS_FAILED)
        return CompletionResult()

    async def fail_workflow_task(
        self, token: internal_pb2.TaskToken, cause: int, failure: common_pb2.Failure, identity: str
    ) -> None:
        key = (token.namespace, token.workflow_id, token.run_id)

        def op(ex: Execution) -> None:
            wt = self._started_workflow_task(ex, token)
            self._fail_task(ex, wt, cause, failure, identity)

        await self._update(key, op)

    # -- commands ---------------------------------------------------------------------------------

    def _validate_commands(self, ex: Execution, commands: list[command_pb2.Command]) -> str | None:
        pending_ids = {a.activity_id for a in ex.state.activities.values()}
        timers = set(ex.state.timers)
        limits = self.limits
        for i, command in enumerate(commands):
            kind = command.WhichOneof("attributes")
            if kind is None:
                return f"command {i} has no attributes (command type {command.command_type})"
            if _is_close(command) and i != len(commands) - 1:
                return f"command {i} closes the workflow but is not the last command"
            if kind == "schedule_activity_task_command_attributes":
                a = command.schedule_activity_task_command_attributes
                if not a.activity_id:
                    return f"command {i}: activity_id is empty"
                if a.activity_id in pending_ids:
                    return f"command {i}: activity id {a.activity_id!r} is already in use by a pending activity"
                pending_ids.add(a.activity_id)
                if not a.activity_type.name:
                    return f"command {i}: activity_type is empty"
                if max(id_length(a.activity_id), id_length(a.activity_type.name)) > limits.max_id_length:
                    return f"command {i}: activity id or type is longer than the {limits.describe('max_id_length')}"
                if id_length(a.task_queue.name) > limits.max_id_length:
                    return f"command {i}: task queue name is longer than the {limits.describe('max_id_length')}"
                if "\x00" in a.task_queue.name:
                    return f"command {i}: task queue name must not contain NUL characters"
                for name in ("schedule_to_close_timeout", "schedule_to_start_timeout",
                             "start_to_close_timeout", "heartbeat_timeout"):
                    d = getattr(a, name)
                    if d.seconds < 0 or d.nanos < 0:
                        return f"command {i}: {name} must not be negative"
                    if d.seconds > MAX_DURATION_SECONDS:
                        return f"command {i}: {name} must not be longer than 100 years"
                if not is_set(a.schedule_to_close_timeout) and not is_set(a.start_to_close_timeout):
                    return f"command {i}: set schedule_to_close_timeout or start_to_close_timeout"
                problem = retry.validate(a.retry_policy)
                if problem:
                    return f"command {i}: {problem}"
                if len(pending_ids) > limits.max_pending_activities:
                    return f"command {i}: more pending activities than the {limits.describe('max_pending_activities')}"
            elif kind == "start_timer_command_attributes":
                t = command.start_timer_command_attributes
                if not t.timer_id or id_length(t.timer_id) > limits.max_id_length:
                    return f"command {i}: timer_id must be 1 to {limits.max_id_length} bytes"
                if t.timer_id in timers:
                    return f"command {i}: timer id {t.timer_id!r} is already in use by a pending timer"
                d = t.start_to_fire_timeout
                if d.seconds < 0 or d.nanos < 0 or not is_set(d):
                    return f"command {i}: start_to_fire_timeout must be positive"
                if d.seconds > MAX_DURATION_SECONDS:
                    return f"command {i}: start_to_fire_timeout must not be longer than 100 years"
                timers.add(t.timer_id)
                if len(timers) > limits.max_pending_timers:
                    return f"command {i}: more pending timers than the {limits.describe('max_pending_timers')}"
            elif kind == "cancel_timer_command_attributes":
                timer_id = command.cancel_timer_command_attributes.timer_id
                if timer_id not in timers:
                    return f"command {i}: no pending timer {timer_id!r} to cancel"
                timers.discard(timer_id)
            elif kind == "record_marker_command_attributes":
                marker = command.record_marker_command_attributes.marker_name
                if not marker or id_length(marker) > limits.max_id_length:
                    return f"command {i}: marker_name must be 1 to {limits.max_id_length} bytes"
            elif kind == "request_cancel_activity_task_command_attributes":
                sid = command.request_cancel_activity_task_command_attributes.scheduled_event_id
                if sid not in ex.state.activities:
                    return f"command {i}: no pending activity scheduled by event {sid} to cancel"
            elif kind not in _KNOWN_COMMANDS:
                return f"command {i}: unknown command {kind}"
        return None

    def _apply_command(
        self,
        ex: Execution,
        command: command_pb2.Command,
        completed_id: int,
        result: CompletionResult,
        identity: str,
    ) -> None:
        kind = command.WhichOneof("attributes")
        if kind == "schedule_activity_task_command_attributes":
            a = command.schedule_activity_task_command_attributes
            state = self._schedule_activity(ex, a, completed_id)
            if a.request_eager_execution and state.task_queue == ex.record.task_queue:
                # Started now, in this same commit, for the worker that asked: no task row, no poll.
                self._start_activity_attempt(ex, state, identity)
                started = internal_pb2.ActivityState()
                started.CopyFrom(state)
                result.eager.append((started, a.input))
            else:
                self._dispatch_activity_attempt(ex, state)
        elif kind == "complete_workflow_execution_command_attributes":
            ex.add_event(
                H.EVENT_TYPE_WORKFLOW_EXECUTION_COMPLETED,
                workflow_execution_completed_event_attributes=H.WorkflowExecutionCompletedEventAttributes(
                    result=command.complete_workflow_execution_command_attributes.result,
                    workflow_task_completed_event_id=completed_id,
                ),
            )
            ex.close(C.WORKFLOW_EXECUTION_STATUS_COMPLETED)
        elif kind == "fail_workflow_execution_command_attributes":
            ex.add_event(
                H.EVENT_TYPE_WORKFLOW_EXECUTION_FAILED,
                workflow_execution_failed_event_attributes=H.WorkflowExecutionFailedEventAttributes(
                    failure=command.fail_workflow_execution_command_attributes.failure,
                    retry_state=C.RETRY_STATE_RETRY_POLICY_NOT_SET,
                    workflow_task_completed_event_id=completed_id,
                ),
            )
            ex.close(C.WORKFLOW_EXECUTION_STATUS_FAILED)
        elif kind == "cancel_workflow_execution_command_attributes":
            ex.add_event(
                H.EVENT_TYPE_WORKFLOW_EXECUTION_CANCELED,
                workflow_execution_canceled_event_attributes=H.WorkflowExecutionCanceledEventAttributes(
                    workflow_task_completed_event_id=completed_id,
                    details=command.cancel_workflow_execution_command_attributes.details,
                ),
            )
            ex.close(C.WORKFLOW_EXECUTION_STATUS_CANCELED)
        elif kind == "record_marker_command_attributes":
            m = command.record_marker_command_attributes
            ex.add_event(
                H.EVENT_TYPE_MARKER_RECORDED,
                marker_recorded_event_attributes=H.MarkerRecordedEventAttributes(
                    marker_name=m.marker_name, details=m.details, workflow_task_completed_event_id=completed_id
                ),
            )
        elif kind == "start_timer_command_attributes":
            t = command.start_timer_command_attributes
            event = ex.add_event(
                H.EVENT_TYPE_TIMER_STARTED,
                timer_started_event_attributes=H.TimerStartedEventAttributes(
                    timer_id=t.timer_id,
                    start_to_fire_timeout=t.start_to_fire_timeout,
                    workflow_task_completed_event_id=completed_id,
                ),
            )
            ex.state.timers[t.timer_id] = event.event_id
            ex.set_timer(
                _user_timer_key(t.timer_id), duration(t.start_to_fire_timeout), TimerKind.USER_TIMER, event.event_id, 1
            )
        elif kind == "cancel_timer_command_attributes":
            timer_id = command.cancel_timer_command_attributes.timer_id
            started_id = ex.state.timers.pop(timer_id)
            ex.add_event(
                H.EVENT_TYPE_TIMER_CANCELED,
                timer_canceled_event_attributes=H.TimerCanceledEventAttributes(
                    timer_id=timer_id,
                    started_event_id=started_id,
                    workflow_task_completed_event_id=completed_id,
                    identity=identity,
                ),
            )
            ex.delete_timer(_user_timer_key(timer_id))
        elif kind == "request_cancel_activity_task_command_attributes":
            sid = command.request_cancel_activity_task_command_attributes.scheduled_event_id
            act = ex.state.activities[sid]
            requested = ex.add_event(
                H.EVENT_TYPE_ACTIVITY_TASK_CANCEL_REQUESTED,
                activity_task_cancel_requested_event_attributes=H.ActivityTaskCancelRequestedEventAttributes(
                    scheduled_event_id=sid, workflow_task_completed_event_id=completed_id
                ),
            )
            if act.HasField("started_time"):
                # The worker learns of it from its next heartbeat, and answers with a cancellation.
                act.cancel_requested = True
                act.cancel_requested_event_id = requested.event_id
            else:
                ex.add_event(
                    H.EVENT_TYPE_ACTIVITY_TASK_CANCELED,
                    activity_task_canceled_event_attributes=H.ActivityTaskCanceledEventAttributes(
                        latest_cancel_requested_event_id=requested.event_id, scheduled_event_id=sid
                    ),
                )
                self._finish_activity(ex, act)


@dataclasses.dataclass(slots=True)
class Ahead:
    """A workflow task a worker ran on its cached run right after completing one of its activities."""

    after_event_id: int
    started_time: datetime
    commands: list[command_pb2.Command]
    update_responses: Sequence[C.UpdateResponse]
    sticky_task_queue: str
    sticky_timeout: timedelta


@dataclasses.dataclass(slots=True)
class AheadOutcome:
    """What became of a workflow task run ahead: its completion when it was taken (which may have
    failed it); else, when its time was out of bounds, this server's clock; and the run's next
    workflow task if it was started for the worker instead."""

    completion: CompletionResult | None = None
    server_time: datetime | None = None
    workflow_task: service_pb2.PollWorkflowTaskQueueResponse | None = None


def _ahead_refused(ex: Execution, a: internal_pb2.ActivityState, ahead: Ahead) -> str:
    """Why the task run ahead cannot be taken: "moved" unless the worker's run saw exactly the history
    as it is, plus this activity's result (no event since, no workflow task scheduled or wanted, no
    update waiting); "time" unless its now() lies between the attempt's start and this server's
    clock, so that time in the workflow never runs back. "" when it can."""
    state = ex.state
    if ex.record.next_event_id - 1 != ahead.after_event_id:
        return "moved"
    if state.HasField("workflow_task") or state.workflow_task_needed or state.pending_update_order:
        return "moved"
    if not a.started_time.ToDatetime(UTC) <= ahead.started_time <= ex.now:
        return "time"
    return ""


def _workflow_task_waits(ex: Execution, task: TaskRow) -> bool:
    """Whether the workflow task ``task`` hands out still waits to be started."""
    wt = ex.state.workflow_task if ex.state.HasField("workflow_task") else None
    return (
        ex.running
        and wt is not None
        and not wt.backing_off
        and wt.scheduled_event_id == task.scheduled_event_id
        and not wt.started_event_id
    )


def _can_start_now(ex: Execution, task: TaskRow) -> bool:
    """Whether ``task`` may be started in the change that creates it: not a query, still wanted (a
    later change of the same group may have moved the run on), and not in a change that consumes a
    timer its start would set anew (one statement cannot do both)."""
    if task.kind == TaskKind.WORKFLOW:
        return _workflow_task_waits(ex, task) and "wft" not in ex.claimed_timers
    if task.kind == TaskKind.ACTIVITY:
        sid = task.scheduled_event_id
        return WorkflowTaskOps._waiting_attempt(ex, task) is not None and all(
            activity_timer_key(sid, what) not in ex.claimed_timers for what in ("stc", "hb")
        )
    return False


def _payloads_size(message: Message) -> int:
    """Bytes of payload data anywhere inside ``message``."""
    if isinstance(message, C.Payload):
        return len(message.data) + sum(len(k) + len(v) for k, v in message.metadata.items())
    total = 0
    for field, value in message.ListFields():
        if field.message_type is None or field.message_type.GetOptions().map_entry:
            continue
        if field.is_repeated:
            total += sum(_payloads_size(v) for v in value)
        else:
            total += _payloads_size(value)
    return total

_KNOWN_COMMANDS = {
    "schedule_activity_task_command_attributes",
    "complete_workflow_execution_command_attributes",
    "fail_workflow_execution_command_attributes",
    "cancel_workflow_execution_command_attributes",
    "start_timer_command_attributes",
    "cancel_timer_command_attributes",
    "request_cancel_activity_task_command_attributes",
    "record_marker_command_attributes",
}
def _cancels_what_is_gone(ex: Execution, commands: list[command_pb2.Command]) -> bool:
    """Whether a command cancels a timer or activity that finished while the workflow task ran."""
    started_here = set()
    for command in commands:
        kind = command.WhichOneof("attributes")
        if kind == "start_timer_command_attributes":
            started_here.add(command.start_timer_command_attributes.timer_id)
        elif kind == "cancel_timer_command_attributes":
            timer_id = command.cancel_timer_command_attributes.timer_id
            if timer_id not in ex.state.timers and timer_id not in started_here:
                return True
        elif kind == "request_cancel_activity_task_command_attributes":
            if command.request_cancel_activity_task_command_attributes.scheduled_event_id not in ex.state.activities:
                return True
    return False


def _is_close(command: command_pb2.Command) -> bool:
    return command.WhichOneof("attributes") in (
        "complete_workflow_execution_command_attributes",
        "fail_workflow_execution_command_attributes",
        "cancel_workflow_execution_command_attributes",
    )


def _closes(commands: list[command_pb2.Command]) -> bool:
    return any(_is_close(c) for c in commands)


