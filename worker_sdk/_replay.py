"""History → activations → commands: the one path both the worker and the replayer take.

A history is cut into activations at each WorkflowTaskStarted that was followed by
WorkflowTaskCompleted (a failed or timed-out workflow task left no trace in the workflow's state), plus
the last one when a workflow task is being answered now. Events between activations resolve pending
operations; the commands an activation produces must match, in order, the command events recorded
after its WorkflowTaskCompleted (``_commands.py`` says which event records which command). Any
difference is a :class:`NondeterminismError` naming the event, what history holds, what the code
asked for, and where.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC

from wf.v1 import command_pb2, common_pb2, history_pb2
from worker_sdk._commands import BY_EVENT, CommandKind, command_name, describe_command, event_name
from worker_sdk._converter import DataConverter
from worker_sdk._definition import WorkflowDefinition
from worker_sdk._instance import PATCH_MARKER, Info, PendingCommand, WorkflowInstance, patch_id_of
from worker_sdk.errors import NondeterminismError

__all__ = [
    "Replay",
    "WorkflowTaskInput",
    "command_name",
    "event_name",
    "run_query",
    "run_workflow_activation",
    "run_workflow_task",
]

H = history_pb2

@dataclass
class WorkflowTaskInput:
    namespace: str
    workflow_id: str
    run_id: str
    workflow_type: str
    history: history_pb2.History
    # Updates the workflow has not accepted or rejected yet, delivered with this task.
    update_requests: Sequence[common_pb2.UpdateRequest] = ()


def run_workflow_task(
    task: WorkflowTaskInput,
    lookup: Callable[[str], WorkflowDefinition | None],
    converter: DataConverter,
) -> list[command_pb2.Command]:
    """Replay ``task.history`` and return the commands of its last (current) workflow task.

    For a closed history (the replayer's case) it checks the whole history and returns [].
    """
    replay = Replay(task, lookup, converter)
    return replay.feed(task.history.events, answer_current=True)


def run_workflow_activation(
    task: WorkflowTaskInput,
    lookup: Callable[[str], WorkflowDefinition | None],
    converter: DataConverter,
    replay: Replay | None = None,
) -> tuple[list[command_pb2.Command], list[common_pb2.UpdateResponse], Replay]:
    """Feed the task's events to ``replay`` (a cached run that has seen the history before them) or
    to a new replay of the whole history; the commands, the answers about updates, and the replay."""
    if replay is None:
        replay = Replay(task, lookup, converter)
    commands = replay.feed(task.history.events, answer_current=True, update_requests=task.update_requests)
    return commands, replay.instance.pending_update_responses(), replay


def run_query(
    task: WorkflowTaskInput,
    lookup: Callable[[str], WorkflowDefinition | None],
    converter: DataConverter,
    query_type: str,
    args: common_pb2.Payloads,
) -> common_pb2.Payloads:
    """Rebuild the run's state as of its last completed workflow task and answer a query on it."""
    replay = Replay(task, lookup, converter)
    replay.feed(task.history.events, answer_current=False)
    return replay.instance.query(query_type, args)


class Replay:
    """One run rebuilt from its history; a worker keeps it and feeds it only the new events."""

    def __init__(
        self,
        task: WorkflowTaskInput,
        lookup: Callable[[str], WorkflowDefinition | None],
        converter: DataConverter,
    ) -> None:
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
        self.converter = converter
        self.instance = WorkflowInstance(defn, info, converter)
        self.instance.start(started.input)
        self.events: list[history_pb2.HistoryEvent] = []
        # Commands of the last activation, still to be matched against the events that record them.
        self.expected: deque[PendingCommand] = deque()
        self.activity_ids: dict[int, str] = {}

    @property
    def last_event_id(self) -> int:
        return self.events[-1].event_id if self.events else 0

    def feed(
        self,
        new_events: Sequence[history_pb2.HistoryEvent],
        *,
        answer_current: bool,
        update_requests: Sequence[common_pb2.UpdateRequest] = (),
    ) -> list[command_pb2.Command]:
        """Apply events that follow the ones seen so far; with ``answer_current``, the last event is
        the WorkflowTaskStarted of the task being answered now, and its commands are returned."""
        if new_events and self.events and new_events[0].event_id != self.last_event_id + 1:
            raise NondeterminismError(
                f"history continues at event {new_events[0].event_id}, after event {self.last_event_id}"
            )
        first = len(self.events)
        self.events.extend(new_events)
        events = self.events
        instance = self.instance
        last_index = len(events) - 1
        for i in range(first, len(events)):
            event = events[i]
            t = event.event_type
            if t == H.EVENT_TYPE_WORKFLOW_TASK_STARTED:
                is_current = answer_current and i == last_index
                outcome, accepted, patches = _activation_batch(events, i, self.converter)
                if not is_current and outcome != H.EVENT_TYPE_WORKFLOW_TASK_COMPLETED:
                    continue  # a failed or timed-out attempt (or one still running): it changed nothing
                if self.expected:
                    raise _unmatched(event.event_id, self.expected[0])
                for update in accepted:
                    instance.deliver_accepted_update(update.update_id, update.name, update.input)
                instance.markers_here = patches
                if is_current:
                    for request in update_requests:
                        instance.validate_update(request)
                commands = instance.activate(
                    event.event_time.ToDatetime(UTC), replaying=not is_current, history_length=i + 1
                )
                self.expected = deque(commands)
                if is_current:
                    return [c.command for c in commands]
            elif (kind := BY_EVENT.get(t)) is not None:
                self._match(event, kind)
            else:
                self._apply(event)
        if self.expected:
            raise _unmatched(events[-1].event_id + 1, self.expected[0])
        return []

    def catch_up(self, recorded: Sequence[history_pb2.HistoryEvent]) -> None:
        """Take the events the server recorded after a workflow task this run answered: the ones it
        already holds (made up when it ran a task ahead of the server) are replaced by the recorded
        ones, which must be of the same types; the rest are fed to it."""
        if not recorded:
            return
        start = recorded[0].event_id - 1  # the index of the first in self.events
        held = len(self.events) - start
        if start < 0 or held < 0 or held > len(recorded):
            raise NondeterminismError(
                f"recorded events {recorded[0].event_id}-{recorded[-1].event_id} do not follow "
                f"event {self.last_event_id} of the cached run"
            )
        for i in range(held):
            if self.events[start + i].event_type != recorded[i].event_type:
                raise NondeterminismError(
                    f"history event {recorded[i].event_id} is {event_name(recorded[i].event_type)}, "
                    f"not {event_name(self.events[start + i].event_type)} as the worker expected"
                )
            self.events[start + i] = recorded[i]
        self.feed(recorded[held:], answer_current=False)

    def activity_scheduled(self, scheduled_event_id: int, activity_id: str) -> None:
        """An ActivityTaskScheduled recorded one of this run's commands (see ``_commands.Recorder``)."""
        self.activity_ids[scheduled_event_id] = activity_id
        self.instance.activity_scheduled(activity_id, scheduled_event_id)

    def _match(self, event: history_pb2.HistoryEvent, kind: CommandKind) -> None:
        if kind.event_type == H.EVENT_TYPE_MARKER_RECORDED and _deprecated_marker(
            event, kind, self.instance, self.expected
        ):
            return  # the marker of a patch whose old branch is gone: its code no longer asks
        if not self.expected:
            raise NondeterminismError(
                f"nondeterminism at history event {event.event_id}: history recorded "
                f"{kind.describe_event(event)}, but the workflow code issued no such command"
            )
        pending = self.expected.popleft()
        if not kind.matches(event, pending.command):
            raise NondeterminismError(
                f"nondeterminism at history event {event.event_id}: history recorded "
                f"{kind.describe_event(event)}, but the workflow code asked for {_describe(pending)}"
            )
        if kind.on_recorded is not None:
            kind.on_recorded(event, self)

    def _apply(self, event: history_pb2.HistoryEvent) -> None:
        """An event that is not a command's record: it resolves something the workflow awaits."""
        t = event.event_type
        instance = self.instance
        ids = self.activity_ids
        if t == H.EVENT_TYPE_ACTIVITY_TASK_COMPLETED:
            a = event.activity_task_completed_event_attributes
            instance.resolve_activity(ids.get(a.scheduled_event_id, ""), result=a.result)
        elif t == H.EVENT_TYPE_ACTIVITY_TASK_FAILED:
            f = event.activity_task_failed_event_attributes
            instance.resolve_activity(
                ids.get(f.scheduled_event_id, ""),
                failure=f.failure,
                scheduled_event_id=f.scheduled_event_id,
                started_event_id=f.started_event_id,
                retry_state=f.retry_state,
            )
        elif t == H.EVENT_TYPE_ACTIVITY_TASK_TIMED_OUT:
            o = event.activity_task_timed_out_event_attributes
            instance.resolve_activity(
                ids.get(o.scheduled_event_id, ""),
                failure=o.failure,
                scheduled_event_id=o.scheduled_event_id,
                started_event_id=o.started_event_id,
                retry_state=o.retry_state,
                timed_out=True,
            )
        elif t == H.EVENT_TYPE_ACTIVITY_TASK_CANCELED:
            c = event.activity_task_canceled_event_attributes
            instance.resolve_activity(ids.get(c.scheduled_event_id, ""), canceled=True)
        elif t == H.EVENT_TYPE_TIMER_FIRED:
            instance.fire_timer(event.timer_fired_event_attributes.timer_id)
        elif t == H.EVENT_TYPE_WORKFLOW_EXECUTION_SIGNALED:
            s = event.workflow_execution_signaled_event_attributes
            instance.signal(s.signal_name, s.input)
        elif t == H.EVENT_TYPE_WORKFLOW_EXECUTION_CANCEL_REQUESTED:
            instance.request_cancel()
        elif t == H.EVENT_TYPE_WORKFLOW_EXECUTION_UPDATE_COMPLETED:
            instance.completed_updates.add(event.workflow_execution_update_completed_event_attributes.update_id)


_TASK_ENDS = {
    H.EVENT_TYPE_WORKFLOW_TASK_COMPLETED,
    H.EVENT_TYPE_WORKFLOW_TASK_FAILED,
    H.EVENT_TYPE_WORKFLOW_TASK_TIMED_OUT,
}


def _activation_batch(
    events: Sequence[history_pb2.HistoryEvent], started: int, converter: DataConverter
) -> tuple[int, list[history_pb2.WorkflowExecutionUpdateAcceptedEventAttributes], set[str]]:
    """For the WorkflowTaskStarted at index ``started``: how its task ended (the type of the next
    WorkflowTaskCompleted, Failed or TimedOut event, 0 if none yet), and, when it completed, the
    updates it accepted and the patch markers it recorded (delivered to the same activation on
    replay, as they were when it ran for real). Events that arrived while the task ran (signals,
    activity results) sit between Started and Completed and belong to the next activation."""
    outcome = 0
    i = started + 1
    while i < len(events):
        t = events[i].event_type
        if t in _TASK_ENDS:
            outcome = t
            break
        if t == H.EVENT_TYPE_WORKFLOW_TASK_STARTED:
            break
        i += 1
    accepted: list[history_pb2.WorkflowExecutionUpdateAcceptedEventAttributes] = []
    patches: set[str] = set()
    if outcome == H.EVENT_TYPE_WORKFLOW_TASK_COMPLETED:
        for j in range(i + 1, len(events)):
            event = events[j]
            t = event.event_type
            if t in (H.EVENT_TYPE_WORKFLOW_TASK_SCHEDULED, H.EVENT_TYPE_WORKFLOW_TASK_STARTED):
                break
            if t == H.EVENT_TYPE_WORKFLOW_EXECUTION_UPDATE_ACCEPTED:
                accepted.append(event.workflow_execution_update_accepted_event_attributes)
            elif t == H.EVENT_TYPE_MARKER_RECORDED:
                marker = event.marker_recorded_event_attributes
                if marker.marker_name == PATCH_MARKER:
                    patches.add(patch_id_of(marker.details, converter))
    return outcome, accepted, patches


def _deprecated_marker(
    event: history_pb2.HistoryEvent, kind: CommandKind, instance: WorkflowInstance, expected: deque[PendingCommand]
) -> bool:
    attrs = event.marker_recorded_event_attributes
    if attrs.marker_name != PATCH_MARKER:
        return False
    if patch_id_of(attrs.details, instance.converter) not in instance.deprecated_patches:
        return False
    return not expected or not kind.matches(event, expected[0].command)


def _describe(pending: PendingCommand) -> str:
    return f"{describe_command(pending.command)} at {pending.origin}"


def _unmatched(event_id: int, pending: PendingCommand) -> NondeterminismError:
    return NondeterminismError(
        f"nondeterminism at history event {event_id}: the workflow code asked for "
        f"{_describe(pending)}, which the history does not record"
    )
