"""One entry per command type: the event that records it, how the two match, how both are described.

Replay matches each command an activation produced, in order, against the next event of the history
that records a command. The entry of the command's type says which event that must be, which fields
must agree (ids and types, never payloads: those may change between deployments), and how the event
and the command are named in a :class:`~worker_sdk.errors.NondeterminismError`.

Adding a command is one entry in :data:`COMMANDS` (and, when history later resolves what the command
started, the job that resolves it: see ``_activation.py``).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Protocol

from wf.v1 import command_pb2, history_pb2

H = history_pb2
C = command_pb2


def event_name(event_type: int) -> str:
    """EVENT_TYPE_ACTIVITY_TASK_SCHEDULED → ActivityTaskScheduled."""
    return _camel(H.EventType.Name(event_type).removeprefix("EVENT_TYPE_"))


def command_name(command_type: int) -> str:
    """COMMAND_TYPE_START_TIMER → StartTimer."""
    return _camel(C.CommandType.Name(command_type).removeprefix("COMMAND_TYPE_"))


def _camel(raw: str) -> str:
    return "".join(part.capitalize() for part in raw.split("_"))


class Recorder(Protocol):
    """What a replayed run is told when an event records one of its commands."""

    def activity_scheduled(self, scheduled_event_id: int, activity_id: str) -> None: ...


def _always(event: Any, command: Any) -> bool:
    return True


@dataclass(frozen=True, slots=True)
class CommandKind:
    """How one command type is recorded in history.

    Attributes:
        command_type: the command's type.
        event_type: the type of the event that records it.
        command_field: the command's attributes field.
        event_field: the event's attributes field.
        same: whether the event's attributes record the command's (event attributes, command
            attributes); only the types already agree when it is called.
        detail: what to show of either's attributes in a message, or None (their fields share
            names, so one function describes both).
        on_recorded: called with the event once it has matched, for what the run must remember of
            it (such as the id of the event that scheduled an activity).
    """

    command_type: int
    event_type: int
    command_field: str
    event_field: str
    same: Callable[[Any, Any], bool] = _always
    detail: Callable[[Any], str] | None = None
    on_recorded: Callable[[history_pb2.HistoryEvent, Recorder], None] | None = None

    def matches(self, event: history_pb2.HistoryEvent, command: command_pb2.Command) -> bool:
        """Whether ``event`` (of this kind's event type) records ``command``."""
        return command.command_type == self.command_type and self.same(
            getattr(event, self.event_field), getattr(command, self.command_field)
        )

    def describe_event(self, event: history_pb2.HistoryEvent) -> str:
        return _with_detail(event_name(self.event_type), self.detail, getattr(event, self.event_field))

    def describe_command(self, command: command_pb2.Command) -> str:
        return _with_detail(command_name(self.command_type), self.detail, getattr(command, self.command_field))


def _with_detail(name: str, detail: Callable[[Any], str] | None, attrs: Any) -> str:
    return f"{name}({detail(attrs)})" if detail is not None else name


def _target(attrs: Any) -> Any:
    """The workflow a command or event acting on another workflow names (their fields differ)."""
    return attrs.execution if hasattr(attrs, "execution") else attrs.workflow_execution


def _cancel_target(attrs: Any) -> str:
    """The workflow id a cancellation command or its event names (their fields differ)."""
    return attrs.workflow_execution.workflow_id if hasattr(attrs, "workflow_execution") else attrs.workflow_id  # type: ignore[no-any-return]


def _activity_recorded(event: history_pb2.HistoryEvent, run: Recorder) -> None:
    run.activity_scheduled(event.event_id, event.activity_task_scheduled_event_attributes.activity_id)


COMMANDS: tuple[CommandKind, ...] = (
    CommandKind(
        C.COMMAND_TYPE_SCHEDULE_ACTIVITY_TASK,
        H.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED,
        "schedule_activity_task_command_attributes",
        "activity_task_scheduled_event_attributes",
        same=lambda e, c: e.activity_id == c.activity_id and e.activity_type.name == c.activity_type.name,
        detail=lambda a: f"activity {a.activity_type.name!r}, id {a.activity_id!r}",
        on_recorded=_activity_recorded,
    ),
    CommandKind(
        C.COMMAND_TYPE_REQUEST_CANCEL_ACTIVITY_TASK,
        H.EVENT_TYPE_ACTIVITY_TASK_CANCEL_REQUESTED,
        "request_cancel_activity_task_command_attributes",
        "activity_task_cancel_requested_event_attributes",
        same=lambda e, c: e.scheduled_event_id == c.scheduled_event_id,
    ),
    CommandKind(
        C.COMMAND_TYPE_START_TIMER,
        H.EVENT_TYPE_TIMER_STARTED,
        "start_timer_command_attributes",
        "timer_started_event_attributes",
        same=lambda e, c: e.timer_id == c.timer_id,
        detail=lambda t: f"timer {t.timer_id!r}, {t.start_to_fire_timeout.ToTimedelta()}",
    ),
    CommandKind(
        C.COMMAND_TYPE_CANCEL_TIMER,
        H.EVENT_TYPE_TIMER_CANCELED,
        "cancel_timer_command_attributes",
        "timer_canceled_event_attributes",
        same=lambda e, c: e.timer_id == c.timer_id,
        detail=lambda t: f"timer {t.timer_id!r}",
    ),
    CommandKind(
        C.COMMAND_TYPE_COMPLETE_WORKFLOW_EXECUTION,
        H.EVENT_TYPE_WORKFLOW_EXECUTION_COMPLETED,
        "complete_workflow_execution_command_attributes",
        "workflow_execution_completed_event_attributes",
    ),
    CommandKind(
        C.COMMAND_TYPE_FAIL_WORKFLOW_EXECUTION,
        H.EVENT_TYPE_WORKFLOW_EXECUTION_FAILED,
        "fail_workflow_execution_command_attributes",
        "workflow_execution_failed_event_attributes",
    ),
    CommandKind(
        C.COMMAND_TYPE_CANCEL_WORKFLOW_EXECUTION,
        H.EVENT_TYPE_WORKFLOW_EXECUTION_CANCELED,
        "cancel_workflow_execution_command_attributes",
        "workflow_execution_canceled_event_attributes",
    ),
    CommandKind(
        C.COMMAND_TYPE_CONTINUE_AS_NEW_WORKFLOW_EXECUTION,
        H.EVENT_TYPE_WORKFLOW_EXECUTION_CONTINUED_AS_NEW,
        "continue_as_new_workflow_execution_command_attributes",
        "workflow_execution_continued_as_new_event_attributes",
        # The event names the type the new run has; a command that named none kept the run's own.
        same=lambda e, c: not c.workflow_type.name or e.workflow_type.name == c.workflow_type.name,
        detail=lambda a: f"workflow type {a.workflow_type.name!r}" if a.workflow_type.name else "same workflow type",
    ),
    CommandKind(
        C.COMMAND_TYPE_RECORD_MARKER,
        H.EVENT_TYPE_MARKER_RECORDED,
        "record_marker_command_attributes",
        "marker_recorded_event_attributes",
        # A marker is its name and details (a patch's id): both are what the code decided.
        same=lambda e, c: e.marker_name == c.marker_name and dict(e.details) == dict(c.details),
    ),
    CommandKind(
        C.COMMAND_TYPE_SIGNAL_EXTERNAL_WORKFLOW_EXECUTION,
        H.EVENT_TYPE_SIGNAL_EXTERNAL_WORKFLOW_EXECUTION_INITIATED,
        "signal_external_workflow_execution_command_attributes",
        "signal_external_workflow_execution_initiated_event_attributes",
        same=lambda e, c: (
            e.workflow_execution.workflow_id == c.execution.workflow_id
            and e.workflow_execution.run_id == c.execution.run_id
            and e.signal_name == c.signal_name
        ),
        detail=lambda a: f"signal {a.signal_name!r} to workflow {_target(a).workflow_id!r}",
    ),
    CommandKind(
        C.COMMAND_TYPE_START_CHILD_WORKFLOW_EXECUTION,
        H.EVENT_TYPE_START_CHILD_WORKFLOW_EXECUTION_INITIATED,
        "start_child_workflow_execution_command_attributes",
        "start_child_workflow_execution_initiated_event_attributes",
        same=lambda e, c: e.workflow_id == c.workflow_id and e.workflow_type.name == c.workflow_type.name,
        detail=lambda a: f"workflow {a.workflow_type.name!r}, id {a.workflow_id!r}",
    ),
    CommandKind(
        C.COMMAND_TYPE_REQUEST_CANCEL_EXTERNAL_WORKFLOW_EXECUTION,
        H.EVENT_TYPE_REQUEST_CANCEL_EXTERNAL_WORKFLOW_EXECUTION_INITIATED,
        "request_cancel_external_workflow_execution_command_attributes",
        "request_cancel_external_workflow_execution_initiated_event_attributes",
        same=lambda e, c: (
            e.workflow_execution.workflow_id == c.workflow_id
            and e.workflow_execution.run_id == c.run_id
            and e.child_workflow_only == c.child_workflow_only
        ),
        detail=lambda a: f"workflow {_cancel_target(a)!r}" + (" (a child)" if a.child_workflow_only else ""),
    ),
    CommandKind(
        C.COMMAND_TYPE_UPSERT_WORKFLOW_SEARCH_ATTRIBUTES,
        H.EVENT_TYPE_UPSERT_WORKFLOW_SEARCH_ATTRIBUTES,
        "upsert_workflow_search_attributes_command_attributes",
        "upsert_workflow_search_attributes_event_attributes",
        # The names the code upserted (the server keeps the values typed, so those are not compared).
        same=lambda e, c: set(e.search_attributes.indexed_fields) == set(c.search_attributes.indexed_fields),
        detail=lambda a: ", ".join(sorted(a.search_attributes.indexed_fields)),
    ),
    CommandKind(
        C.COMMAND_TYPE_MODIFY_WORKFLOW_PROPERTIES,
        H.EVENT_TYPE_WORKFLOW_PROPERTIES_MODIFIED,
        "modify_workflow_properties_command_attributes",
        "workflow_properties_modified_event_attributes",
        same=lambda e, c: set(e.upserted_memo.fields) == set(c.upserted_memo.fields),
        detail=lambda a: "memo " + ", ".join(sorted(a.upserted_memo.fields)),
    ),
)

# The entry of each event type that records a command, and of each command type.
BY_EVENT: dict[int, CommandKind] = {kind.event_type: kind for kind in COMMANDS}
BY_COMMAND: dict[int, CommandKind] = {kind.command_type: kind for kind in COMMANDS}


def describe_command(command: command_pb2.Command) -> str:
    """The command as a nondeterminism message names it (its type alone when it has no entry)."""
    kind = BY_COMMAND.get(command.command_type)
    return kind.describe_command(command) if kind is not None else command_name(command.command_type)
