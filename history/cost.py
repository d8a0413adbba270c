"""What a run costs: the counters the execution keeps as its transitions append events.

A run's events, history bytes and state transitions are its row's (``next_event_id``,
``history_size``, ``db_version``: a committed change is one version). The rest live in
``MutableState.cost`` (:class:`~wf.v1.internal_pb2.RunCost`): workflow task attempts and their
failures, activity attempts, and the bytes of payloads in and out. Payloads are counted as they are
stored, never decoded (a codec may have encrypted them): the bytes of each ``Payload``'s data and of
its metadata's keys and values.

Which payloads of an event count as received and which as sent is one table,
:data:`PAYLOADS_OF`, from the event's attributes field to (direction, the fields that hold
payloads): an event type added later costs nothing until it has a line here.
"""

from __future__ import annotations

from collections.abc import Iterable

from google.protobuf.message import Message

from wf.v1 import common_pb2, history_pb2, internal_pb2

H = history_pb2
IN, OUT = "in", "out"

PAYLOADS_OF: dict[str, tuple[str, tuple[str, ...]]] = {
    # Received: what the run is given.
    "workflow_execution_started_event_attributes": (IN, ("input",)),
    "workflow_execution_signaled_event_attributes": (IN, ("input",)),
    "workflow_execution_update_accepted_event_attributes": (IN, ("input",)),
    "activity_task_completed_event_attributes": (IN, ("result",)),
    "activity_task_canceled_event_attributes": (IN, ("details",)),
    "child_workflow_execution_completed_event_attributes": (IN, ("result",)),
    # Sent: what the run's commands carry.
    "activity_task_scheduled_event_attributes": (OUT, ("input",)),
    "workflow_execution_completed_event_attributes": (OUT, ("result",)),
    "workflow_execution_canceled_event_attributes": (OUT, ("details",)),
    "workflow_execution_continued_as_new_event_attributes": (OUT, ("input",)),
    "workflow_execution_update_completed_event_attributes": (OUT, ("outcome.success",)),
    "signal_external_workflow_execution_initiated_event_attributes": (OUT, ("input",)),
    "start_child_workflow_execution_initiated_event_attributes": (OUT, ("input",)),
    "marker_recorded_event_attributes": (OUT, ("details",)),
}


def payload_bytes(payloads: Iterable[common_pb2.Payload]) -> int:
    """The stored size of payloads: their data and their metadata's keys and values."""
    return sum(len(p.data) + sum(len(k) + len(v) for k, v in p.metadata.items()) for p in payloads)


def _field(message: Message, path: str) -> Message | None:
    for name in path.split("."):
        if not message.HasField(name):
            return None
        message = getattr(message, name)
    return message


def count_event(cost: internal_pb2.RunCost, event: history_pb2.HistoryEvent) -> None:
    """Add what ``event`` says about the run's cost: a workflow task attempt, its failure, payloads."""
    t = event.event_type
    if t == H.EVENT_TYPE_WORKFLOW_TASK_STARTED:
        cost.workflow_tasks += 1
    elif t == H.EVENT_TYPE_WORKFLOW_TASK_TIMED_OUT or (
        t == H.EVENT_TYPE_WORKFLOW_TASK_FAILED
        and event.workflow_task_failed_event_attributes.cause != common_pb2.WORKFLOW_TASK_FAILED_CAUSE_RESET_WORKFLOW
    ):
        cost.workflow_task_failures += 1
    kind = event.WhichOneof("attributes")
    if kind is None or kind not in PAYLOADS_OF:
        return
    direction, paths = PAYLOADS_OF[kind]
    attributes = getattr(event, kind)
    size = 0
    for path in paths:
        if kind == "marker_recorded_event_attributes":  # its details: a map of name → Payloads
            size += sum(payload_bytes(p.payloads) for p in attributes.details.values())
            continue
        value = _field(attributes, path)
        if isinstance(value, common_pb2.Payloads):
            size += payload_bytes(value.payloads)
    if direction == IN:
        cost.payload_bytes_in += size
    else:
        cost.payload_bytes_out += size


def count_activity_attempt(cost: internal_pb2.RunCost) -> None:
    """An activity attempt started (its ActivityTaskStarted event is written only for the last one)."""
    cost.activity_attempts += 1
