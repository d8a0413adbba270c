"""A run's mutable state rebuilt from its events: what a reset gives the run it makes.

A reset (``wf.history.operations.reset``) copies a run's events up to the reset point into a new run;
the new run needs the state those events left (pending activities, timers, signals sent to other
workflows, accepted updates, the workflow task, the counters), as if its own transitions had
appended them. :func:`rebuild` applies each event's effect to a fresh
:class:`~wf.history.execution.Execution`'s state without appending anything, through one table from
event type to function (:data:`APPLY`), mirroring the ``add_*`` transition that appended the event
live. ``tests/test_reset.py`` holds each line against the state the live path produced.

What history does not hold is not rebuilt, as in Temporal: which activity attempt was running (its
ActivityTaskStarted is written with its outcome, so every pending activity is rebuilt as scheduled,
attempt 1), the sticky queue, the request ids of recent signals, updates not yet accepted, and the
run's cost (the new run counts its own work from the reset on). The rows (task rows, timers) follow
from the rebuilt state in :meth:`Execution.add_rows_of_rebuilt_state`, at the fire times
:class:`Rebuilt` gathers.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Sequence
from datetime import UTC, datetime

from wf.history.durations import duration
from wf.history.errors import InvalidArgument
from wf.history.execution import Execution
from wf.v1 import history_pb2, internal_pb2

H = history_pb2
Event = history_pb2.HistoryEvent


@dataclasses.dataclass(slots=True)
class Rebuilt:
    """What rebuilding gathers beside the state: when each pending user timer fires (its start
    plus its duration: a reset keeps a timer's remaining time)."""

    ex: Execution
    timer_fire_at: dict[str, datetime] = dataclasses.field(default_factory=dict)


def _time(event: Event) -> datetime:
    return event.event_time.ToDatetime(UTC)


def _wakes(r: Rebuilt) -> None:
    """An event the workflow must see arrived: if a workflow task runs, another must follow it (as
    ``add_workflow_task_scheduled`` notes live)."""
    s = r.ex.state
    if s.HasField("workflow_task") and s.workflow_task.started_event_id and not s.workflow_task.backing_off:
        s.workflow_task_needed = True


# -- the run and its workflow tasks -----------------------------------------------------------------


def _started(r: Rebuilt, e: Event) -> None:
    a = e.workflow_execution_started_event_attributes
    s = r.ex.state
    s.workflow_type = a.workflow_type.name
    s.task_queue = a.task_queue.name
    s.workflow_task_timeout.CopyFrom(a.workflow_task_timeout)
    s.workflow_run_timeout.CopyFrom(a.workflow_run_timeout)
    s.workflow_execution_timeout.CopyFrom(a.workflow_execution_timeout)
    s.first_execution_run_id = a.first_execution_run_id
    if a.HasField("parent_workflow_execution"):
        s.parent_namespace = a.parent_workflow_namespace
        s.parent_execution.CopyFrom(a.parent_workflow_execution)
        s.parent_initiated_event_id = a.parent_initiated_event_id
        s.root_execution.CopyFrom(a.root_workflow_execution)
    if a.HasField("retry_policy"):
        s.workflow_retry_policy.CopyFrom(a.retry_policy)
    if a.HasField("memo"):
        s.memo.CopyFrom(a.memo)
    if a.HasField("search_attributes"):
        s.search_attributes.CopyFrom(a.search_attributes)
    if a.HasField("workflow_execution_expiration_time"):
        s.workflow_execution_expiration_time.CopyFrom(a.workflow_execution_expiration_time)


def _task_scheduled(r: Rebuilt, e: Event) -> None:
    a = e.workflow_task_scheduled_event_attributes
    s = r.ex.state
    wt = s.workflow_task
    wt.Clear()
    wt.scheduled_event_id = e.event_id
    wt.attempt = a.attempt
    wt.task_queue = a.task_queue.name
    wt.scheduled_time.CopyFrom(e.event_time)
    s.workflow_task_needed = False


def _task_started(r: Rebuilt, e: Event) -> None:
    s = r.ex.state
    s.workflow_task.started_event_id = e.event_id
    s.workflow_task.started_time.CopyFrom(e.event_time)
    s.continue_as_new_suggested = e.workflow_task_started_event_attributes.suggest_continue_as_new


def _task_completed(r: Rebuilt, e: Event) -> None:
    s = r.ex.state
    s.last_completed_workflow_task_started_event_id = e.workflow_task_completed_event_attributes.started_event_id
    s.ClearField("last_workflow_task_failure")
    s.ClearField("workflow_task")


def _task_retried(r: Rebuilt, attempt: int) -> None:
    """After a failed or timed-out attempt: the next one (its WorkflowTaskScheduled follows, at once
    or after a back-off)."""
    s = r.ex.state
    s.workflow_task_needed = False
    s.ClearField("workflow_task")
    if attempt > 2:
        s.workflow_task.backing_off = True
        s.workflow_task.attempt = attempt


def _task_failed(r: Rebuilt, e: Event) -> None:
    a = e.workflow_task_failed_event_attributes
    s = r.ex.state
    attempt = s.workflow_task.attempt
    s.last_workflow_task_failure.CopyFrom(a.failure)
    _task_retried(r, attempt + 1)


def _task_timed_out(r: Rebuilt, e: Event) -> None:
    _task_retried(r, r.ex.state.workflow_task.attempt + 1)


# -- activities -----------------------------------------------------------------------------------------


def _activity_scheduled(r: Rebuilt, e: Event) -> None:
    a = e.activity_task_scheduled_event_attributes
    state = r.ex.state.activities[e.event_id]
    state.scheduled_event_id = e.event_id
    state.activity_id = a.activity_id
    state.activity_type = a.activity_type.name
    state.task_queue = a.task_queue.name
    state.scheduled_time.CopyFrom(e.event_time)
    state.current_attempt_scheduled_time.CopyFrom(e.event_time)
    state.schedule_to_close_timeout.CopyFrom(a.schedule_to_close_timeout)
    state.schedule_to_start_timeout.CopyFrom(a.schedule_to_start_timeout)
    state.start_to_close_timeout.CopyFrom(a.start_to_close_timeout)
    state.heartbeat_timeout.CopyFrom(a.heartbeat_timeout)
    state.retry_policy.CopyFrom(a.retry_policy)
    state.attempt = 1


def _activity_cancel_requested(r: Rebuilt, e: Event) -> None:
    a = e.activity_task_cancel_requested_event_attributes
    activity = r.ex.state.activities.get(a.scheduled_event_id)
    if activity is not None:  # not started: ActivityTaskCanceled follows at once
        activity.cancel_requested = True
        activity.cancel_requested_event_id = e.event_id


def _activity_finished(scheduled_event_id: Callable[[Event], int]) -> Callable[[Rebuilt, Event], None]:
    def apply(r: Rebuilt, e: Event) -> None:
        r.ex.state.activities.pop(scheduled_event_id(e), None)
        _wakes(r)

    return apply


# -- timers, signals, cancellation, updates, other workflows --------------------------------------------


def _timer_started(r: Rebuilt, e: Event) -> None:
    a = e.timer_started_event_attributes
    r.ex.state.timers[a.timer_id] = e.event_id
    r.timer_fire_at[a.timer_id] = _time(e) + duration(a.start_to_fire_timeout)


def _timer_fired(r: Rebuilt, e: Event) -> None:
    timer_id = e.timer_fired_event_attributes.timer_id
    r.ex.state.timers.pop(timer_id, None)
    r.timer_fire_at.pop(timer_id, None)
    _wakes(r)


def _timer_canceled(r: Rebuilt, e: Event) -> None:
    timer_id = e.timer_canceled_event_attributes.timer_id
    r.ex.state.timers.pop(timer_id, None)
    r.timer_fire_at.pop(timer_id, None)


def _signaled(r: Rebuilt, e: Event) -> None:
    r.ex.state.signal_count += 1
    _wakes(r)


def _cancel_requested(r: Rebuilt, e: Event) -> None:
    r.ex.state.cancel_requested = True
    _wakes(r)


def _update_accepted(r: Rebuilt, e: Event) -> None:
    r.ex.state.accepted_updates[e.workflow_execution_update_accepted_event_attributes.update_id] = e.event_id


def _update_completed(r: Rebuilt, e: Event) -> None:
    uid = e.workflow_execution_update_completed_event_attributes.update_id
    r.ex.state.accepted_updates.pop(uid, None)
    r.ex.state.finished_updates[uid] = e.event_id


def _external_signal_initiated(r: Rebuilt, e: Event) -> None:
    r.ex.state.pending_external_signals.append(e.event_id)


def _external_signal_done(initiated_event_id: Callable[[Event], int]) -> Callable[[Rebuilt, Event], None]:
    def apply(r: Rebuilt, e: Event) -> None:
        pending = r.ex.state.pending_external_signals
        if initiated_event_id(e) in pending:
            pending.remove(initiated_event_id(e))
        _wakes(r)

    return apply


# -- children and cancelling other workflows -----------------------------------------------------------


def _child_initiated(r: Rebuilt, e: Event) -> None:
    a = e.start_child_workflow_execution_initiated_event_attributes
    r.ex.state.children[e.event_id].CopyFrom(
        internal_pb2.ChildState(
            initiated_event_id=e.event_id, namespace=a.namespace, workflow_id=a.workflow_id,
            workflow_type=a.workflow_type.name, parent_close_policy=a.parent_close_policy,
        )
    )


def _child_started(r: Rebuilt, e: Event) -> None:
    a = e.child_workflow_execution_started_event_attributes
    child = r.ex.state.children.get(a.initiated_event_id)
    if child is not None:
        child.run_id = a.workflow_execution.run_id
        child.started_event_id = e.event_id
    _wakes(r)


def _child_done(field: str) -> Callable[[Rebuilt, Event], None]:
    """A child's start failed or the child closed (``field``: the event's attributes): no longer pending."""

    def apply(r: Rebuilt, e: Event) -> None:
        r.ex.state.children.pop(getattr(e, field).initiated_event_id, None)
        _wakes(r)

    return apply


def _cancel_external_initiated(r: Rebuilt, e: Event) -> None:
    a = e.request_cancel_external_workflow_execution_initiated_event_attributes
    r.ex.state.cancel_requests[e.event_id].CopyFrom(
        internal_pb2.CancelRequestState(
            initiated_event_id=e.event_id, namespace=a.namespace, workflow_id=a.workflow_execution.workflow_id,
            run_id=a.workflow_execution.run_id, child_workflow_only=a.child_workflow_only,
        )
    )


def _cancel_external_done(field: str) -> Callable[[Rebuilt, Event], None]:
    def apply(r: Rebuilt, e: Event) -> None:
        r.ex.state.cancel_requests.pop(getattr(e, field).initiated_event_id, None)
        _wakes(r)

    return apply


def _nothing(r: Rebuilt, e: Event) -> None:
    """The event changes no state (a marker; ActivityTaskStarted, whose outcome follows it)."""


APPLY: dict[int, Callable[[Rebuilt, Event], None]] = {
    H.EVENT_TYPE_WORKFLOW_EXECUTION_STARTED: _started,
    H.EVENT_TYPE_WORKFLOW_TASK_SCHEDULED: _task_scheduled,
    H.EVENT_TYPE_WORKFLOW_TASK_STARTED: _task_started,
    H.EVENT_TYPE_WORKFLOW_TASK_COMPLETED: _task_completed,
    H.EVENT_TYPE_WORKFLOW_TASK_FAILED: _task_failed,
    H.EVENT_TYPE_WORKFLOW_TASK_TIMED_OUT: _task_timed_out,
    H.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED: _activity_scheduled,
    H.EVENT_TYPE_ACTIVITY_TASK_STARTED: _nothing,
    H.EVENT_TYPE_ACTIVITY_TASK_COMPLETED: _activity_finished(
        lambda e: e.activity_task_completed_event_attributes.scheduled_event_id
    ),
    H.EVENT_TYPE_ACTIVITY_TASK_FAILED: _activity_finished(
        lambda e: e.activity_task_failed_event_attributes.scheduled_event_id
    ),
    H.EVENT_TYPE_ACTIVITY_TASK_TIMED_OUT: _activity_finished(
        lambda e: e.activity_task_timed_out_event_attributes.scheduled_event_id
    ),
    H.EVENT_TYPE_ACTIVITY_TASK_CANCEL_REQUESTED: _activity_cancel_requested,
    H.EVENT_TYPE_ACTIVITY_TASK_CANCELED: _activity_finished(
        lambda e: e.activity_task_canceled_event_attributes.scheduled_event_id
    ),
    H.EVENT_TYPE_TIMER_STARTED: _timer_started,
    H.EVENT_TYPE_TIMER_FIRED: _timer_fired,
    H.EVENT_TYPE_TIMER_CANCELED: _timer_canceled,
    H.EVENT_TYPE_MARKER_RECORDED: _nothing,
    H.EVENT_TYPE_WORKFLOW_EXECUTION_SIGNALED: _signaled,
    H.EVENT_TYPE_WORKFLOW_EXECUTION_CANCEL_REQUESTED: _cancel_requested,
    H.EVENT_TYPE_WORKFLOW_EXECUTION_UPDATE_ACCEPTED: _update_accepted,
    H.EVENT_TYPE_WORKFLOW_EXECUTION_UPDATE_COMPLETED: _update_completed,
    H.EVENT_TYPE_SIGNAL_EXTERNAL_WORKFLOW_EXECUTION_INITIATED: _external_signal_initiated,
    H.EVENT_TYPE_EXTERNAL_WORKFLOW_EXECUTION_SIGNALED: _external_signal_done(
        lambda e: e.external_workflow_execution_signaled_event_attributes.initiated_event_id
    ),
    H.EVENT_TYPE_SIGNAL_EXTERNAL_WORKFLOW_EXECUTION_FAILED: _external_signal_done(
        lambda e: e.signal_external_workflow_execution_failed_event_attributes.initiated_event_id
    ),
    H.EVENT_TYPE_START_CHILD_WORKFLOW_EXECUTION_INITIATED: _child_initiated,
    H.EVENT_TYPE_START_CHILD_WORKFLOW_EXECUTION_FAILED: _child_done(
        "start_child_workflow_execution_failed_event_attributes"
    ),
    H.EVENT_TYPE_CHILD_WORKFLOW_EXECUTION_STARTED: _child_started,
    H.EVENT_TYPE_CHILD_WORKFLOW_EXECUTION_COMPLETED: _child_done(
        "child_workflow_execution_completed_event_attributes"
    ),
    H.EVENT_TYPE_CHILD_WORKFLOW_EXECUTION_FAILED: _child_done(
        "child_workflow_execution_failed_event_attributes"
    ),
    H.EVENT_TYPE_CHILD_WORKFLOW_EXECUTION_CANCELED: _child_done(
        "child_workflow_execution_canceled_event_attributes"
    ),
    H.EVENT_TYPE_CHILD_WORKFLOW_EXECUTION_TIMED_OUT: _child_done(
        "child_workflow_execution_timed_out_event_attributes"
    ),
    H.EVENT_TYPE_CHILD_WORKFLOW_EXECUTION_TERMINATED: _child_done(
        "child_workflow_execution_terminated_event_attributes"
    ),
    H.EVENT_TYPE_REQUEST_CANCEL_EXTERNAL_WORKFLOW_EXECUTION_INITIATED: _cancel_external_initiated,
    H.EVENT_TYPE_EXTERNAL_WORKFLOW_EXECUTION_CANCEL_REQUESTED: _cancel_external_done(
        "external_workflow_execution_cancel_requested_event_attributes"
    ),
    H.EVENT_TYPE_REQUEST_CANCEL_EXTERNAL_WORKFLOW_EXECUTION_FAILED: _cancel_external_done(
        "request_cancel_external_workflow_execution_failed_event_attributes"
    ),
}
"""Event type → its effect on the state. A type missing here cannot be rebuilt: a reset over it is
refused rather than made with a state that forgets it."""


def rebuild(ex: Execution, events: Sequence[Event]) -> Rebuilt:
    """Apply ``events`` (a run's first events, in order) to ``ex``'s fresh state; nothing is appended.

    Raises:
        InvalidArgument: an event of a type :data:`APPLY` does not know.
    """
    r = Rebuilt(ex)
    for e in events:
        apply = APPLY.get(e.event_type)
        if apply is None:
            raise InvalidArgument(
                f"event {e.event_id} ({H.EventType.Name(e.event_type).removeprefix('EVENT_TYPE_')}) cannot be "
                "rebuilt by a reset yet: reset to a workflow task before it"
            )
        apply(r, e)
    return r


__all__ = ["APPLY", "Rebuilt", "rebuild"]
