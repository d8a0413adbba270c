"""What every command handler is: validation with its limits, application through the execution,
whether it closes the run or targets something gone, and how it is described."""

from __future__ import annotations

import dataclasses
from abc import ABC, abstractmethod
from collections.abc import Mapping
from typing import ClassVar, Generic, TypeVar

from google.protobuf.message import Message

from wf.history.errors import InvalidArgument
from wf.history.execution import Execution
from wf.history.limits import MAX_DURATION_SECONDS, Limits
from wf.history.responses import CompletionResult
from wf.history.visibility.attributes import typed
from wf.v1 import command_pb2, common_pb2

A = TypeVar("A", bound=Message)


@dataclasses.dataclass(slots=True)
class Batch:
    """What validating one workflow task's commands has seen so far, in order: the ids in use once
    the commands before this one are applied."""

    ex: Execution
    limits: Limits
    pending_activity_ids: set[str]
    pending_timers: set[str]
    # Children started and cancellations of other workflows asked for by the commands before this
    # one (those already pending are in the run's state).
    new_children: int = 0
    new_cancel_requests: int = 0
    # Signals to other workflows not yet delivered, counting those of the commands before this one.
    pending_external_signals: int = 0
    # The namespace's custom search attributes (name → IndexedValueType), which commands carrying
    # search attributes are checked against; None when the caller did not load them.
    search_attribute_types: Mapping[str, int] | None = None


@dataclasses.dataclass(slots=True)
class Applying:
    """What applying one workflow task's commands shares: the WorkflowTaskCompleted event the
    commands' events refer to, the worker, and what the completion answers."""

    completed_id: int
    identity: str
    result: CompletionResult


class CommandHandler(ABC, Generic[A]):
    """One command type. ``attribute`` is its field in ``Command``'s ``attributes`` oneof, the key of
    the registry; ``command_type`` its wire enum value."""

    attribute: ClassVar[str]
    command_type: ClassVar[int]
    # Whether the command closes the run (then it must be the last of its workflow task).
    closes: ClassVar[bool] = False

    @property
    def name(self) -> str:
        """The command's name as Temporal's API spells it: ``SignalExternalWorkflowExecution``."""
        return "".join(w.title() for w in self.attribute.removesuffix("_command_attributes").split("_"))

    def attributes(self, command: command_pb2.Command) -> A:
        return getattr(command, self.attribute)  # type: ignore[no-any-return]

    @abstractmethod
    def validate(self, attrs: A, batch: Batch) -> str | None:
        """What is wrong with the command, or None; on success, note what it takes in ``batch``."""

    @abstractmethod
    def apply(self, ex: Execution, attrs: A, applying: Applying) -> None:
        """Record the command through the execution's transitions (it was validated)."""

    def targets_gone(self, ex: Execution, attrs: A, started_timers: set[str]) -> bool:
        """Whether the command acts on something that finished while its workflow task ran (a timer
        that fired, an activity that completed): the worker must see that first."""
        return False

    def acts_in(self, attrs: A) -> str:
        """The namespace the command acts in, when it names one ("": the run's own). A caller
        completing the workflow task must be allowed to act there (the authorization link checks)."""
        return ""

    def describe(self, attrs: A) -> str:
        """The command in a message to a person: its type and what tells it apart."""
        return command_pb2.CommandType.Name(self.command_type)


def duration_problem(name: str, seconds: int, nanos: int) -> str | None:
    """A timeout field that is negative or beyond 100 years, described."""
    if seconds < 0 or nanos < 0:
        return f"{name} must not be negative"
    if seconds > MAX_DURATION_SECONDS:
        return f"{name} must not be longer than 100 years"
    return None


def typed_search_attributes(
    attributes: common_pb2.SearchAttributes, batch: Batch, *, removals: bool = False
) -> str | None:
    """Check a command's search attributes against the namespace's registry and keep them typed, in
    place (so the handler's apply records the typed values); what is wrong, or None."""
    try:
        checked = typed(attributes, batch.search_attribute_types or {}, removals=removals)
    except InvalidArgument as exc:
        return str(exc)
    attributes.CopyFrom(checked)
    return None
