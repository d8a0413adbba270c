"""History → activations → commands: the one path both the worker and the replayer take.

A history is cut into activations at each WorkflowTaskStarted that was followed by
WorkflowTaskCompleted (a failed or timed-out workflow task left no trace in the workflow's state), plus
the last one when a workflow task is being answered now. Events between activations resolve pending
operations; the commands an activation produces must match, in order, the command events recorded
after its WorkflowTaskCompleted. Any difference is a :class:`NondeterminismError` naming the event,
what history holds, what the code asked for, and where.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC

from wf.v1 import command_pb2, common_pb2, history_pb2
from worker_sdk._converter import DataConverter
from worker_sdk._definition import WorkflowDefinition
from worker_sdk._instance import PATCH_MARKER, Info, PendingCommand, WorkflowInstance, patch_id_of
from worker_sdk.errors import NondeterminismError

H = history_pb2

# Events that record a command, and the command each records.
_COMMAND_OF_EVENT = {
    H.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED: command_pb2.COMMAND_TYPE_SCHEDULE_ACTIVITY_TASK,
    H.EVENT_TYPE_ACTIVITY_TASK_CANCEL_REQUESTED: command_pb2.COMMAND_TYPE_REQUEST_CANCEL_ACTIVITY_TASK,
    H.EVENT_TYPE_TIMER_STARTED: command_pb2.COMMAND_TYPE_START_TIMER,
    H.EVENT_TYPE_TIMER_CANCELED: command_pb2.COMMAND_TYPE_CANCEL_TIMER,
    H.EVENT_TYPE_WORKFLOW_EXECUTION_COMPLETED: command_pb2.COMMAND_TYPE_COMPLETE_WORKFLOW_EXECUTION,
    H.EVENT_TYPE_WORKFLOW_EXECUTION_FAILED: command_pb2.COMMAND_TYPE_FAIL_WORKFLOW_EXECUTION,
    H.EVENT_TYPE_WORKFLOW_EXECUTION_CANCELED: command_pb2.COMMAND_TYPE_CANCEL_WORKFLOW_EXECUTION,
    H.EVENT_TYPE_MARKER_RECORDED: command_pb2.COMMAND_TYPE_RECORD_MARKER,
}


def event_name(event_type: int) -> str:
    """EVENT_TYPE_ACTIVITY_TASK_SCHEDULED → ActivityTaskScheduled."""
    raw = H.EventType.Name(event_type).removeprefix("EVENT_TYPE_")
    return "".join(part.capitalize() for part in raw.split("_"))


def command_name(command_type: int) -> str:
    raw = command_pb2.CommandType.Name(command_type).removeprefix("COMMAND_TYPE_")
    return "".join(part.capitalize() for part in raw.split("_"))


@dataclass
class WorkflowTaskInput:
    namespace: str
    workflow_id: str
    run_id: str
    workflow_type: str
    history: history_pb2.History
    # Updates the workflow has not accepted or rejected yet, delivered with this task.
    update_requests: Sequence[common_pb2.UpdateRequest] = ()


def _describe_event(event: history_pb2.HistoryEvent) -> str:
    name = event_name(event.event_type)
    if event.HasField("activity_task_scheduled_event_attributes"):
        a = event.activity_task_scheduled_event_attributes
        return f"{name}(activity {a.activity_type.name!r}, id {a.activity_id!r})"
    if event.HasField("timer_started_event_attributes"):
        t = event.timer_started_event_attributes
        return f"{name}(timer {t.timer_id!r}, {t.start_to_fire_timeout.ToTimedelta()})"
    if event.HasField("timer_canceled_event_attributes"):
        return f"{name}(timer {event.timer_canceled_event_attributes.timer_id!r})"
    return name


def _describe_command(pending: PendingCommand) -> str:
    c = pending.command
    name = command_name(c.command_type)
    if c.HasField("schedule_activity_task_command_attributes"):
        a = c.schedule_activity_task_command_attributes
        name = f"{name}(activity {a.activity_type.name!r}, id {a.activity_id!r})"
    elif c.HasField("start_timer_command_attributes"):
        t = c.start_timer_command_attributes
        name = f"{name}(timer {t.timer_id!r}, {t.start_to_fire_timeout.ToTimedelta()})"
    elif c.HasField("cancel_timer_command_attributes"):
        name = f"{name}(timer {c.cancel_timer_command_attributes.timer_id!r})"
    return f"{name} at {pending.origin}"


def _matches(event: history_pb2.HistoryEvent, command: command_pb2.Command) -> bool:
    if _COMMAND_OF_EVENT.get(event.event_type) != command.command_type:
        return False
    if event.HasField("activity_task_scheduled_event_attributes"):
        e = event.activity_task_scheduled_event_attributes
        c = command.schedule_activity_task_command_attributes
        return e.activity_id == c.activity_id and e.activity_type.name == c.activity_type.name
    if event.HasField("timer_started_event_attributes"):
        return event.timer_started_event_attributes.timer_id == command.start_timer_command_attributes.timer_id
    if event.HasField("timer_canceled_event_attributes"):
        return event.timer_canceled_event_attributes.timer_id == command.cancel_timer_command_attributes.timer_id
    if event.HasField("marker_recorded_event_attributes"):
        e_marker = event.marker_recorded_event_attributes
        c_marker = command.record_marker_command_attributes
        return e_marker.marker_name == c_marker.marker_name and dict(e_marker.details) == dict(c_marker.details)
    if event.HasField("activity_task_cancel_requested_event_attributes"):
        return (
            event.activity_task_cancel_requested_event_attributes.scheduled_event_id
            == command.request_cancel_activity_task_command_attributes.scheduled_event_id
        )
    return True


def run_workflow_task(
    task: WorkflowTaskInput,
    lookup: Callable[[str], WorkflowDefinition | None],
    converter: DataConverter,
) -> list[command_pb2.Command]:
    """Replay ``task.history`` and return the commands of its last (current) workflow task.

    For a closed history (the replayer's case) it checks the whole history and returns [].
    """
    commands, _ = _replay(task, lookup, converter, answer_current=True)
    return commands


def run_workflow_activation(
    task: WorkflowTaskInput,
    lookup: Callable[[str], WorkflowDefinition | None],
    converter: DataConverter,
) -> tuple[list[command_pb2.Command], list[common_pb2.UpdateResponse]]:
    """Like :func:`run_workflow_task`, with the answers about updates the worker must send too."""
    commands, instance = _replay(task, lookup, converter, answer_current=True)
    return commands, instance.pending_update_responses()


def run_query(
    task: WorkflowTaskInput,
    lookup: Callable[[str], WorkflowDefinition | None],
    converter: DataConverter,
    query_type: str,
    args: common_pb2.Payloads,
) -> common_pb2.Payloads:
    """Rebuild the run's state as of its last completed workflow task and answer a query on it."""
    _, instance = _replay(task, lookup, converter, answer_current=False)
    return instance.query(query_type, args)


def _replay(
    task: WorkflowTaskInput,
    lookup: Callable[[str], WorkflowDefinition | None],
    converter: DataConverter,
    *,
    answer_current: bool,
) -> tuple[list[command_pb2.Command], WorkflowInstance]:
    events = task.history.events
    if not events or events[0].event_type != H.EVENT_TYPE_WORKFLOW_EXECUTION_STARTED:
        raise NondeterminismError("history does not begin with WorkflowExecutionStarted")
    started = events[0].workflow_execution_started_event_attributes
    defn = lookup(task.workflow_type)
    if defn is None:
        raise LookupError(task.workflow_type)
    info = Info(
        namespace=task.namespace,
        workflow_id=task.workflow_id,
        run_id=task.run_id,
        workflow_type=task.workflow_type,
        task_queue=started.task_queue.name,
        attempt=started.attempt or 1,
        start_time=events[0].event_time.ToDatetime(UTC),
    )
    instance = WorkflowInstance(defn, info, converter)
    instance.start(started.input)
    expected: deque[PendingCommand] = deque()
    activity_ids: dict[int, str] = {}
    last_index = len(events) - 1
    outcomes = _task_outcomes(events)
    accepted = _accepted_updates(events)
    patches = _patch_markers(events, converter)
    for i, event in enumerate(events):
        t = event.event_type
        if t == H.EVENT_TYPE_WORKFLOW_TASK_STARTED:
            is_current = answer_current and i == last_index
            if not is_current and outcomes[i] != H.EVENT_TYPE_WORKFLOW_TASK_COMPLETED:
                continue  # a failed or timed-out attempt (or one still running): it changed nothing
            if expected:
                raise _unmatched(event.event_id, expected[0])
            for update in accepted.get(i, ()):
                instance.deliver_accepted_update(update.update_id, update.name, update.input)
            instance.markers_here = patches.get(i, set())
            if is_current:
                for request in task.update_requests:
                    instance.validate_update(request)
            commands = instance.activate(
                event.event_time.ToDatetime(UTC), replaying=not is_current, history_length=i + 1
            )
            if is_current:
                return [c.command for c in commands], instance
            expected = deque(commands)
        elif t in _COMMAND_OF_EVENT:
            if t == H.EVENT_TYPE_MARKER_RECORDED and _deprecated_marker(event, instance, expected):
                continue  # the marker of a patch whose old branch is gone: its code no longer asks
            if not expected:
                raise NondeterminismError(
                    f"nondeterminism at history event {event.event_id}: history recorded "
                    f"{_describe_event(event)}, but the workflow code issued no such command"
                )
            pending = expected.popleft()
            if not _matches(event, pending.command):
                raise NondeterminismError(
                    f"nondeterminism at history event {event.event_id}: history recorded "
                    f"{_describe_event(event)}, but the workflow code asked for {_describe_command(pending)}"
                )
            if t == H.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED:
                activity_id = event.activity_task_scheduled_event_attributes.activity_id
                activity_ids[event.event_id] = activity_id
                instance.activity_scheduled(activity_id, event.event_id)
        elif t == H.EVENT_TYPE_ACTIVITY_TASK_COMPLETED:
            a = event.activity_task_completed_event_attributes
            instance.resolve_activity(activity_ids.get(a.scheduled_event_id, ""), result=a.result)
        elif t == H.EVENT_TYPE_ACTIVITY_TASK_FAILED:
            f = event.activity_task_failed_event_attributes
            instance.resolve_activity(
                activity_ids.get(f.scheduled_event_id, ""),
                failure=f.failure,
                scheduled_event_id=f.scheduled_event_id,
                started_event_id=f.started_event_id,
                retry_state=f.retry_state,
            )
        elif t == H.EVENT_TYPE_ACTIVITY_TASK_TIMED_OUT:
            o = event.activity_task_timed_out_event_attributes
            instance.resolve_activity(
                activity_ids.get(o.scheduled_event_id, ""),
                failure=o.failure,
                scheduled_event_id=o.scheduled_event_id,
                started_event_id=o.started_event_id,
                retry_state=o.retry_state,
                timed_out=True,
            )
        elif t == H.EVENT_TYPE_ACTIVITY_TASK_CANCELED:
            c = event.activity_task_canceled_event_attributes
            instance.resolve_activity(activity_ids.get(c.scheduled_event_id, ""), canceled=True)
        elif t == H.EVENT_TYPE_TIMER_FIRED:
            instance.fire_timer(event.timer_fired_event_attributes.timer_id)
        elif t == H.EVENT_TYPE_WORKFLOW_EXECUTION_SIGNALED:
            s = event.workflow_execution_signaled_event_attributes
            instance.signal(s.signal_name, s.input)
        elif t == H.EVENT_TYPE_WORKFLOW_EXECUTION_CANCEL_REQUESTED:
            instance.request_cancel()
        elif t == H.EVENT_TYPE_WORKFLOW_EXECUTION_UPDATE_COMPLETED:
            instance.completed_updates.add(event.workflow_execution_update_completed_event_attributes.update_id)
    if expected:
        raise _unmatched(events[-1].event_id + 1, expected[0])
    return [], instance


def _accepted_updates(
    events: Sequence[history_pb2.HistoryEvent],
) -> dict[int, list[history_pb2.WorkflowExecutionUpdateAcceptedEventAttributes]]:
    """For each WorkflowTaskStarted (by index), the updates its completion accepted: on replay they
    are delivered to that same activation, as they were when it ran for real."""
    accepted: dict[int, list[history_pb2.WorkflowExecutionUpdateAcceptedEventAttributes]] = {}
    started = completed = -1
    for i, event in enumerate(events):
        t = event.event_type
        if t == H.EVENT_TYPE_WORKFLOW_TASK_STARTED:
            started = i
        elif t == H.EVENT_TYPE_WORKFLOW_TASK_COMPLETED:
            completed = started
        elif t == H.EVENT_TYPE_WORKFLOW_EXECUTION_UPDATE_ACCEPTED:
            accepted.setdefault(completed, []).append(event.workflow_execution_update_accepted_event_attributes)
    return accepted


def _patch_markers(events: Sequence[history_pb2.HistoryEvent], converter: DataConverter) -> dict[int, set[str]]:
    """For each completed WorkflowTaskStarted (by index), the patch ids its commands recorded."""
    markers: dict[int, set[str]] = {}
    started = completed = -1
    for i, event in enumerate(events):
        t = event.event_type
        if t == H.EVENT_TYPE_WORKFLOW_TASK_STARTED:
            started = i
        elif t == H.EVENT_TYPE_WORKFLOW_TASK_COMPLETED:
            completed = started
        elif t == H.EVENT_TYPE_MARKER_RECORDED and event.marker_recorded_event_attributes.marker_name == PATCH_MARKER:
            patch_id = patch_id_of(event.marker_recorded_event_attributes.details, converter)
            markers.setdefault(completed, set()).add(patch_id)
    return markers


def _deprecated_marker(
    event: history_pb2.HistoryEvent, instance: WorkflowInstance, expected: deque[PendingCommand]
) -> bool:
    attrs = event.marker_recorded_event_attributes
    if attrs.marker_name != PATCH_MARKER:
        return False
    if patch_id_of(attrs.details, instance.converter) not in instance.deprecated_patches:
        return False
    return not expected or not _matches(event, expected[0].command)


def _task_outcomes(events: Sequence[history_pb2.HistoryEvent]) -> dict[int, int]:
    """For each WorkflowTaskStarted (by index), how that task ended: the type of the next
    WorkflowTaskCompleted, Failed or TimedOut event (0 if none yet). Events that arrived while the
    task ran (signals, activity results) sit between the two and belong to the next activation."""
    ends = {
        H.EVENT_TYPE_WORKFLOW_TASK_COMPLETED,
        H.EVENT_TYPE_WORKFLOW_TASK_FAILED,
        H.EVENT_TYPE_WORKFLOW_TASK_TIMED_OUT,
    }
    outcomes: dict[int, int] = {}
    outcome = 0
    for i in range(len(events) - 1, -1, -1):
        t = events[i].event_type
        if t in ends:
            outcome = t
        elif t == H.EVENT_TYPE_WORKFLOW_TASK_STARTED:
            outcomes[i] = outcome
            outcome = 0
    return outcomes


def _unmatched(event_id: int, pending: PendingCommand) -> NondeterminismError:
    return NondeterminismError(
        f"nondeterminism at history event {event_id}: the workflow code asked for "
        f"{_describe_command(pending)}, which the history does not record"
    )
