"""History → activations → commands: the one path both the worker and the replayer take.

A history is cut into activations at each WorkflowTaskStarted that was followed by
WorkflowTaskCompleted (a failed or timed-out workflow task left no trace in the workflow's state), plus
the last one when a workflow task is being answered now. Events between activations become jobs
(``_activation.py``), applied by the next activation; the commands an activation produces must match,
in order, the command events recorded after its WorkflowTaskCompleted (``_commands.py``). Any
difference is a :class:`NondeterminismError` naming the event, what history holds, what the code asked
for, and where.

A cached run may also take a workflow task ahead of the server (:meth:`Replay.run_ahead`): the worker
applies the job it knows (the activity's result) at the time it proposes, and the events the server
then authors must translate to exactly that (:meth:`Replay.catch_up`), or the run is dropped.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

from wf.v1 import command_pb2, common_pb2, history_pb2
from worker_sdk._activation import (
    PATCH_MARKER,
    Activation,
    DoUpdate,
    HistoryJobs,
    Job,
    ResolveActivity,
    patch_id_of,
)
from worker_sdk._commands import BY_EVENT, CommandKind, command_name, describe_command, event_name
from worker_sdk._converter import DataConverter
from worker_sdk._definition import WorkflowDefinition
from worker_sdk._instance import Info, PendingCommand, WorkflowInstance
from worker_sdk._reset import REPLAY_CHECK_QUERY
from worker_sdk._visibility import decode_search_attributes
from worker_sdk.errors import NondeterminismError

__all__ = [
    "AheadInput",
    "Replay",
    "WorkflowTaskInput",
    "command_name",
    "event_name",
    "run_query",
    "run_replay_check",
    "run_workflow_activation",
    "run_workflow_task",
]

H = history_pb2

# Where the workflow task run ahead will start, counted from the cached run's last event: the server
# records ActivityTaskStarted, ActivityTaskCompleted, WorkflowTaskScheduled, then WorkflowTaskStarted
# (see WorkflowTaskAhead.after_event_id). Used for workflow.info() in that task, and checked against
# the events the server returns.
_AHEAD_TASK_OFFSET = 4


@dataclass(frozen=True, slots=True)
class AheadInput:
    """A workflow task a worker runs on its cached run before the server has recorded it: the job
    that resolves the activity it follows from, and the time proposed for its start (the workflow's
    now())."""

    resolve: ResolveActivity
    time: datetime


@dataclass
class WorkflowTaskInput:
    namespace: str
    workflow_id: str
    run_id: str
    workflow_type: str
    history: history_pb2.History
    # Updates the workflow has not accepted or rejected yet, delivered with this task.
    update_requests: Sequence[common_pb2.UpdateRequest] = ()
    # Set for a task run ahead of the server (``history`` is then empty).
    ahead: AheadInput | None = None


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
    to a new replay of the whole history; or, for a task run ahead, run it on ``replay``. The
    commands, the answers about updates, and the replay."""
    if task.ahead is not None:
        if replay is None:
            raise ValueError("a workflow task is run ahead only on a cached run")
        commands = replay.run_ahead(task.ahead)
    else:
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
    if query_type == REPLAY_CHECK_QUERY:
        return run_replay_check(task, lookup, converter, args)
    replay = Replay(task, lookup, converter)
    replay.feed(task.history.events, answer_current=False)
    return replay.instance.query(query_type, args)


def run_replay_check(
    task: WorkflowTaskInput,
    lookup: Callable[[str], WorkflowDefinition | None],
    converter: DataConverter,
    args: common_pb2.Payloads,
) -> common_pb2.Payloads:
    """The built-in query of a reset's replay check: replay the history before the reset point
    (the query's argument) with this worker's code; answer ``{"ok": bool, "message": str}``."""
    (point,) = converter.from_payloads(args, [int])
    cut = history_pb2.History(events=[e for e in task.history.events if e.event_id < point])
    checked = WorkflowTaskInput(task.namespace, task.workflow_id, task.run_id, task.workflow_type, cut)
    try:
        Replay(checked, lookup, converter).feed(cut.events, answer_current=False)
    except NondeterminismError as exc:
        return converter.to_payloads([{"ok": False, "message": str(exc)}])
    except Exception as exc:  # the code failed otherwise while replaying: that is a refusal too
        return converter.to_payloads([{"ok": False, "message": f"{type(exc).__name__}: {exc}"}])
    return converter.to_payloads([{"ok": True, "message": f"events 1 to {point - 1} replayed"}])


@dataclass(frozen=True, slots=True)
class _Ahead:
    """A task run ahead, until the server's events for it arrive: what they must record."""

    input: AheadInput
    started_event_id: int


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
            continued_run_id=started.continued_execution_run_id or None,
            first_execution_run_id=started.first_execution_run_id or task.run_id,
            search_attributes=decode_search_attributes(started.search_attributes.indexed_fields),
        )
        self.converter = converter
        self.instance = WorkflowInstance(defn, info, converter)
        self.instance.memo.update(started.memo.fields)
        if started.HasField("last_completion_result"):
            self.instance.last_completion_result = started.last_completion_result
        if started.HasField("continued_failure"):
            self.instance.last_failure = started.continued_failure
        self.translator = HistoryJobs(converter)  # events → jobs, for this run
        self.events: list[history_pb2.HistoryEvent] = []
        # Jobs translated from the events since the last activation: the next one applies them.
        self.jobs: list[Job] = []
        # Commands of the last activation, still to be matched against the events that record them.
        self.expected: deque[PendingCommand] = deque()
        self._ahead: _Ahead | None = None

    @property
    def last_event_id(self) -> int:
        return self.events[-1].event_id if self.events else 0

    def activity_scheduled(self, scheduled_event_id: int, activity_id: str) -> None:
        """An ActivityTaskScheduled recorded one of this run's commands (see ``_commands.Recorder``)."""
        self.translator.activity_scheduled(scheduled_event_id, activity_id)
        self.instance.activity_scheduled(activity_id, scheduled_event_id)

    def feed(
        self,
        new_events: Sequence[history_pb2.HistoryEvent],
        *,
        answer_current: bool,
        update_requests: Sequence[common_pb2.UpdateRequest] = (),
    ) -> list[command_pb2.Command]:
        """Apply events that follow the ones seen so far; with ``answer_current``, the last event is
        the WorkflowTaskStarted of the task being answered now, and its commands are returned."""
        first = self._extend(new_events)
        return self._run(first, answer_current, update_requests)

    def run_ahead(self, ahead: AheadInput) -> list[command_pb2.Command]:
        """Run the workflow task that follows an activity's result before the server records it:
        apply the job resolving the activity, at the time proposed. The run must be level with its
        history (every command of its last activation recorded); :meth:`catch_up` takes the events
        the server then records for it."""
        if self._ahead is not None or self.expected:
            raise NondeterminismError("a workflow task is run ahead only on a run level with its history")
        position = self.last_event_id + _AHEAD_TASK_OFFSET
        # The server takes a task run ahead only when it suggests continue-as-new as the run's last
        # task did; its history size only the server knows, so code that reads it cannot run ahead
        # (the run is dropped).
        self.instance.history_size_read = False
        info = self.instance.info
        commands = self._activate(
            Activation(
                ahead.time, replaying=False, history_length=position, jobs=[ahead.resolve],
                history_size=info.history_size, suggest_continue_as_new=info.continue_as_new_suggested,
            ),
            position,
        )
        if self.instance.history_size_read:
            raise NondeterminismError("workflow code read the history size, which a task run ahead cannot know")
        self._ahead = _Ahead(ahead, position)
        return [c.command for c in commands]

    def catch_up(self, recorded: Sequence[history_pb2.HistoryEvent]) -> None:
        """Take the events the server recorded after a workflow task this run answered, or ran ahead.

        For a task run ahead, the events before its WorkflowTaskStarted must resolve exactly the
        activity it was run for, and that event must be where and when the task was run; otherwise
        the run has run code the history does not record, and a NondeterminismError says why (the
        worker then drops the run). The rest is fed as any new events."""
        ahead, self._ahead = self._ahead, None
        if ahead is None:
            self.feed(recorded, answer_current=False)
            return
        if not recorded or recorded[0].event_id != self.last_event_id + 1:
            raise NondeterminismError(f"the events recorded do not follow event {self.last_event_id} of the cached run")
        index = next((i for i, e in enumerate(recorded) if e.event_type == H.EVENT_TYPE_WORKFLOW_TASK_STARTED), -1)
        if index < 0:
            raise NondeterminismError("the events recorded hold no WorkflowTaskStarted for the task run ahead")
        jobs = self.translator.of_events(recorded[:index])
        if jobs != [ahead.input.resolve]:
            held = ", ".join(type(job).__name__ for job in jobs) or "nothing"
            raise NondeterminismError(
                f"before the task run ahead, history holds {held}, not the result of activity "
                f"{ahead.input.resolve.activity_id!r} alone as it was applied"
            )
        started = recorded[index]
        started_time = started.event_time.ToDatetime(UTC)
        if started.event_id != ahead.started_event_id or started_time != ahead.input.time:
            raise NondeterminismError(
                f"the task run ahead was recorded as event {started.event_id} at {started_time.isoformat()}, "
                f"not as event {ahead.started_event_id} at {ahead.input.time.isoformat()}"
            )
        first = self._extend(recorded)
        self._run(first + index + 1, answer_current=False, update_requests=())

    def _extend(self, new_events: Sequence[history_pb2.HistoryEvent]) -> int:
        """Append events that follow the ones seen so far; the index of the first."""
        if new_events and self.events and new_events[0].event_id != self.last_event_id + 1:
            raise NondeterminismError(
                f"history continues at event {new_events[0].event_id}, after event {self.last_event_id}"
            )
        first = len(self.events)
        self.events.extend(new_events)
        return first

    def _run(
        self, first: int, answer_current: bool, update_requests: Sequence[common_pb2.UpdateRequest]
    ) -> list[command_pb2.Command]:
        events = self.events
        last_index = len(events) - 1
        for i in range(first, len(events)):
            event = events[i]
            t = event.event_type
            if t == H.EVENT_TYPE_WORKFLOW_TASK_STARTED:
                is_current = answer_current and i == last_index
                outcome, task_jobs = self.translator.of_task(events, i)
                if not is_current and outcome != H.EVENT_TYPE_WORKFLOW_TASK_COMPLETED:
                    continue  # a failed or timed-out attempt (or one still running): it changed nothing
                if is_current:
                    task_jobs += [DoUpdate(r.update_id, r.name, r.args, validate=True) for r in update_requests]
                recorded = event.workflow_task_started_event_attributes
                activation = Activation(
                    event.event_time.ToDatetime(UTC), not is_current, i + 1, task_jobs,
                    history_size=recorded.history_size_bytes,
                    suggest_continue_as_new=recorded.suggest_continue_as_new,
                )
                commands = self._activate(activation, event.event_id)
                if is_current:
                    return [c.command for c in commands]
            elif (kind := BY_EVENT.get(t)) is not None:
                self._match(event, kind)
            elif (job := self.translator.of_event(event)) is not None:
                self.jobs.append(job)
        if self.expected:
            raise _unmatched(events[-1].event_id + 1, self.expected[0])
        return []

    def _activate(self, activation: Activation, event_id: int) -> list[PendingCommand]:
        """Activate the instance with the jobs gathered from history first, then the task's own."""
        if self.expected:
            raise _unmatched(event_id, self.expected[0])
        activation.jobs[:0] = self.jobs
        self.jobs = []
        commands = self.instance.activate(activation)
        self.expected = deque(commands)
        return commands

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
        if pending.recorded is not None:
            pending.recorded(event.event_id)


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
