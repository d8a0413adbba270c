"""The commands a workflow task completes with, one handler per command type, found by the field of
``Command``'s ``attributes`` oneof that the command sets.

Adding a command: its proto messages (``proto/wf/v1/command.proto``, and its event in
``history.proto``); the execution's transition that appends its event and rows
(``history/execution.py``); one module here with a :class:`~wf.history.commands.base.CommandHandler`
subclass; and one line in ``HANDLERS`` below. Nothing else on the server names command kinds.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from wf.history.commands.base import Applying, Batch, CommandHandler, typed_search_attributes
from wf.history.commands.cancel_timer import CancelTimer
from wf.history.commands.cancel_workflow import CancelWorkflow
from wf.history.commands.complete_workflow import CompleteWorkflow
from wf.history.commands.continue_as_new import ContinueAsNew
from wf.history.commands.fail_workflow import FailWorkflow
from wf.history.commands.modify_workflow_properties import ModifyWorkflowProperties
from wf.history.commands.record_marker import RecordMarker
from wf.history.commands.request_cancel_activity import RequestCancelActivity
from wf.history.commands.request_cancel_external import RequestCancelExternal
from wf.history.commands.schedule_activity import ScheduleActivity
from wf.history.commands.signal_external import SignalExternal
from wf.history.commands.start_child import StartChild
from wf.history.commands.start_timer import StartTimer
from wf.history.commands.upsert_search_attributes import UpsertSearchAttributes
from wf.history.execution import Execution
from wf.v1 import command_pb2

HANDLERS: dict[str, CommandHandler[Any]] = {
    h.attribute: h
    for h in (
        ScheduleActivity(),
        RequestCancelActivity(),
        StartTimer(),
        CancelTimer(),
        RecordMarker(),
        CompleteWorkflow(),
        FailWorkflow(),
        CancelWorkflow(),
        StartChild(),
        RequestCancelExternal(),
        SignalExternal(),
        ContinueAsNew(),
        UpsertSearchAttributes(),
        ModifyWorkflowProperties(),
    )
}


def handler_of(command: command_pb2.Command) -> CommandHandler[Any] | None:
    kind = command.WhichOneof("attributes")
    return HANDLERS.get(kind) if kind is not None else None


def validate(
    ex: Execution, commands: Sequence[command_pb2.Command], search_attribute_types: Mapping[str, int] | None = None
) -> str | None:
    """What is wrong with the first command that is refused, or None when all may be applied.

    ``search_attribute_types``: the namespace's registry, for commands that carry search attributes
    (:func:`search_attribute_names`), which are kept typed in place once checked.
    """
    batch = Batch(
        ex=ex,
        limits=ex.limits,
        pending_activity_ids={a.activity_id for a in ex.state.activities.values()},
        pending_timers=set(ex.state.timers),
        pending_external_signals=len(ex.state.pending_external_signals),
        search_attribute_types=search_attribute_types,
    )
    for i, command in enumerate(commands):
        kind = command.WhichOneof("attributes")
        if kind is None:
            return f"command {i} has no attributes (command type {command.command_type})"
        handler = HANDLERS.get(kind)
        if handler is None:
            return f"command {i}: unknown command {kind}"
        if handler.closes and i != len(commands) - 1:
            return f"command {i} closes the workflow but is not the last command"
        attrs = handler.attributes(command)
        problem = _checked_search_attributes(handler, attrs, batch) or handler.validate(attrs, batch)
        if problem is not None:
            return f"command {i}: {problem}"
    return None


def _checked_search_attributes(handler: CommandHandler[Any], attrs: Any, batch: Batch) -> str | None:
    """The search attributes a command starts a run with (continue-as-new, a child's start), checked
    against the namespace's registry and kept typed, as a start's are; an upsert checks its own."""
    if isinstance(handler, UpsertSearchAttributes):
        return None
    if attrs.DESCRIPTOR.fields_by_name.get("search_attributes") is None or not attrs.HasField("search_attributes"):
        return None
    return typed_search_attributes(attrs.search_attributes, batch)


def search_attribute_names(commands: Sequence[command_pb2.Command]) -> set[str]:
    """The search attributes the commands set, which validating them checks against the registry."""
    names: set[str] = set()
    for c in commands:
        kind = c.WhichOneof("attributes")
        attrs = getattr(c, kind) if kind is not None else None
        if attrs is not None and "search_attributes" in attrs.DESCRIPTOR.fields_by_name and attrs.HasField(
            "search_attributes"
        ):
            names.update(attrs.search_attributes.indexed_fields)
    return names


def closes(commands: Sequence[command_pb2.Command]) -> bool:
    """Whether one of the commands closes the run."""
    return any((h := handler_of(c)) is not None and h.closes for c in commands)


def target_gone(ex: Execution, commands: Sequence[command_pb2.Command]) -> bool:
    """Whether a command acts on something that finished while the workflow task ran."""
    started_timers: set[str] = set()
    for command in commands:
        handler = handler_of(command)
        if handler is not None and handler.targets_gone(ex, handler.attributes(command), started_timers):
            return True
    return False


def apply(ex: Execution, commands: Sequence[command_pb2.Command], applying: Applying) -> None:
    """Apply validated commands in order; a command that closes the run is the last one."""
    for command in commands:
        handler = handler_of(command)
        assert handler is not None  # validated
        handler.apply(ex, handler.attributes(command), applying)
        if ex.closes:
            applying.result.eager.clear()
            return


def other_namespaces(commands: Sequence[command_pb2.Command], own: str) -> list[tuple[str, str]]:
    """The namespaces other than ``own`` (the run's) that commands act in, each with the command's
    name, in order."""
    named = []
    for command in commands:
        handler = handler_of(command)
        if handler is not None:
            attrs = handler.attributes(command)
            target = handler.acts_in(attrs)
            if target and target != own:
                named.append((target, handler.name))
    return named


def describe(command: command_pb2.Command) -> str:
    """The command in a message to a person."""
    handler = handler_of(command)
    return handler.describe(handler.attributes(command)) if handler is not None else str(command.command_type)


__all__ = [
    "HANDLERS", "Applying", "CommandHandler", "apply", "search_attribute_names", "closes", "describe",
    "other_namespaces", "target_gone", "validate",
]
