"""Turning the wire's messages into what a page shows: status words, times, payloads, events.

Payloads are shown as JSON when their ``encoding`` says ``json/plain``; anything else is shown as
base64 with its encoding, never an error. With a codec endpoint configured the page also carries
each payload raw (``Payload.raw``) for ``static/codec.js`` to decode in the browser: this process
never decodes what a codec encoded.
"""

from __future__ import annotations

import base64
import json
import os
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from google.protobuf import duration_pb2, timestamp_pb2
from google.protobuf.descriptor import EnumDescriptor, FieldDescriptor
from google.protobuf.message import Message

from wf.v1 import common_pb2, history_pb2
from worker_sdk import WorkflowExecutionStatus

# The status word people read, as Temporal's UI writes it, and the word list queries take.
STATUS_WORDS: dict[WorkflowExecutionStatus, str] = {
    WorkflowExecutionStatus.RUNNING: "Running",
    WorkflowExecutionStatus.COMPLETED: "Completed",
    WorkflowExecutionStatus.FAILED: "Failed",
    WorkflowExecutionStatus.CANCELED: "Canceled",
    WorkflowExecutionStatus.TERMINATED: "Terminated",
    WorkflowExecutionStatus.TIMED_OUT: "Timed out",
    WorkflowExecutionStatus.CONTINUED_AS_NEW: "Continued as new",
}
QUERY_WORDS: dict[WorkflowExecutionStatus, str] = {
    WorkflowExecutionStatus.RUNNING: "Running",
    WorkflowExecutionStatus.COMPLETED: "Completed",
    WorkflowExecutionStatus.FAILED: "Failed",
    WorkflowExecutionStatus.CANCELED: "Canceled",
    WorkflowExecutionStatus.TERMINATED: "Terminated",
    WorkflowExecutionStatus.TIMED_OUT: "TimedOut",
    WorkflowExecutionStatus.CONTINUED_AS_NEW: "ContinuedAsNew",
}
# A payload's JSON shown whole up to this many characters; longer ones start collapsed.
COLLAPSE_OVER = 400


def status_word(status: WorkflowExecutionStatus | int) -> str:
    return STATUS_WORDS.get(WorkflowExecutionStatus(status), "Unknown")


def status_class(status: WorkflowExecutionStatus | int) -> str:
    """The CSS class of a status badge (its colour; the word is always beside it)."""
    return "st-" + QUERY_WORDS.get(WorkflowExecutionStatus(status), "unknown").lower()


def when(t: datetime | None) -> str:
    """A time as people read it in a table: UTC, to the second."""
    return t.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S UTC") if t is not None else ""


def duration(seconds: float | None) -> str:
    """2d 1h / 1h 2m 3s / 2m / 3.2s / 45ms."""
    if seconds is None:
        return ""
    if seconds < 1:
        return f"{seconds * 1000:.0f}ms"
    if seconds < 60:
        return f"{seconds:.1f}s"
    total = int(seconds)
    d, rest = divmod(total, 86400)
    h, rest = divmod(rest, 3600)
    m, s = divmod(rest, 60)
    return " ".join(f"{n}{unit}" for n, unit in ((d, "d"), (h, "h"), (m, "m"), (s, "s")) if n) or "0s"


def between(start: datetime | None, end: datetime | None) -> str:
    if start is None:
        return ""
    return duration(((end or datetime.now(UTC)) - start).total_seconds())


@dataclass(frozen=True)
class Payload:
    """One payload as a page shows it: ``text`` is pretty JSON or base64; ``raw`` is the codec
    server protocol's form of the payload (set only when the browser decodes with a codec)."""

    encoding: str
    is_json: bool
    text: str
    raw: str | None = None

    @property
    def collapsed(self) -> bool:
        return len(self.text) > COLLAPSE_OVER


def payload(p: common_pb2.Payload, *, raw: bool = False) -> Payload:
    encoding = p.metadata.get("encoding", b"").decode("utf-8", "replace")
    text: str | None = None
    if encoding == "json/plain":
        try:
            text = json.dumps(json.loads(p.data), indent=2, ensure_ascii=False)
        except ValueError:
            text = None
    if encoding == "binary/null":
        text = "null"
    is_json = text is not None
    if text is None:
        text = base64.b64encode(p.data).decode()
    codec_form = None
    if raw:
        codec_form = json.dumps({
            "metadata": {k: base64.b64encode(v).decode() for k, v in p.metadata.items()},
            "data": base64.b64encode(p.data).decode(),
        })
    return Payload(encoding or "(none)", is_json, text, codec_form)


def undecodable(exc: ValueError) -> str:
    """What a page says of an answer (a query's, an update's, the stack) it could not decode: the
    workers encoded it with a payload codec (encryption, say) this process does not hold, and must
    not. The CLI decodes it through a codec server."""
    return (f"the answer could not be decoded here ({exc}): the workers encode it with a payload codec this UI "
            "does not hold; `wf workflow query --codec-endpoint URL` shows it through your codec server")


def payloads(ps: common_pb2.Payloads | None, *, raw: bool = False) -> list[Payload]:
    return [payload(p, raw=raw) for p in ps.payloads] if ps is not None else []


# -- events -----------------------------------------------------------------------------------------

_EVENT_NAMES = {
    number: "".join(w.capitalize() for w in name.removeprefix("EVENT_TYPE_").split("_"))
    for name, number in history_pb2.EventType.items()
}


def event_name(event: history_pb2.HistoryEvent) -> str:
    """``ActivityTaskScheduled``, as Temporal names event types."""
    return _EVENT_NAMES.get(event.event_type, f"Event{event.event_type}")


def event_attributes(event: history_pb2.HistoryEvent) -> Message | None:
    kind = event.WhichOneof("attributes")
    return getattr(event, kind) if kind else None


def event_time(event: history_pb2.HistoryEvent) -> datetime:
    return event.event_time.ToDatetime(UTC)


def tree(msg: Message, *, raw: bool = False) -> dict[str, Any]:
    """A message as nested plain values for the page, with each payload a :class:`Payload` (decoded
    when it is JSON), times and durations as text, enums by name; unset fields left out."""
    out: dict[str, Any] = {}
    for field, value in msg.ListFields():
        out[field.name] = _value(field, value, raw)
    return out


def _value(field: FieldDescriptor, value: Any, raw: bool) -> Any:
    if field.message_type is not None and field.message_type.GetOptions().map_entry:
        value_field = field.message_type.fields_by_name["value"]
        return {k: _single(value_field, v, raw) for k, v in value.items()}
    if field.is_repeated:
        return [_single(field, v, raw) for v in value]
    return _single(field, value, raw)


def _single(field: FieldDescriptor, value: Any, raw: bool) -> Any:
    if isinstance(value, common_pb2.Payload):
        return payload(value, raw=raw)
    if isinstance(value, common_pb2.Payloads):
        return [payload(p, raw=raw) for p in value.payloads]
    if isinstance(value, timestamp_pb2.Timestamp):
        return when(value.ToDatetime(UTC))
    if isinstance(value, duration_pb2.Duration):
        return duration(value.ToTimedelta() / timedelta(seconds=1))
    if isinstance(value, Message):
        return tree(value, raw=raw)
    if field.enum_type is not None:
        return enum_word(field.enum_type, value)
    if isinstance(value, bytes):
        return base64.b64encode(value).decode()
    return value


def enum_word(enum: EnumDescriptor, number: int) -> str:
    """An enum value as Temporal's CLI writes it: ``SCHEDULE_OVERLAP_POLICY_BUFFER_ONE`` → ``BufferOne``."""
    names = [v.name for v in enum.values]
    prefix = os.path.commonprefix(names) if len(names) > 1 else ""
    prefix = prefix[: prefix.rfind("_") + 1]
    value = enum.values_by_number.get(number)
    if value is None:
        return str(number)
    return "".join(w.capitalize() for w in value.name.removeprefix(prefix).split("_"))


def summary(event: history_pb2.HistoryEvent) -> str:
    """A few words of the event for the compact view: the name, id or type people look for."""
    attrs = event_attributes(event)
    if attrs is None:
        return ""
    parts: list[str] = []
    for key in ("activity_type", "workflow_type", "signal_name", "timer_id", "marker_name", "activity_id",
                "scheduled_event_id", "attempt", "identity", "reason"):
        field = attrs.DESCRIPTOR.fields_by_name.get(key)
        if field is None:
            continue
        value = getattr(attrs, key)
        if isinstance(value, Message):
            value = getattr(value, "name", "")
        if value:
            parts.append(f"{key.replace('_', ' ')}: {value}")
    failure = getattr(attrs, "failure", None)
    if isinstance(failure, common_pb2.Failure) and failure.message:
        parts.append(f"failure: {failure.message}")
    return ", ".join(parts)


@dataclass(frozen=True)
class FailureView:
    """One link of a failure chain: its message, kind, and stack trace."""

    message: str
    kind: str
    stack_trace: str
    details: list[Payload]


def failure_chain(failure: common_pb2.Failure | None, *, raw: bool = False) -> list[FailureView]:
    """The failure and its causes, outermost first."""
    chain: list[FailureView] = []
    seen = 0
    while failure is not None and (failure.message or failure.WhichOneof("failure_info")) and seen < 20:
        info = failure.WhichOneof("failure_info") or ""
        kind = info.removesuffix("_failure_info").replace("_", " ")
        details: list[Payload] = []
        if info == "application_failure_info":
            app = failure.application_failure_info
            kind = f"application: {app.type}" if app.type else "application"
            if app.non_retryable:
                kind += " (non-retryable)"
            details = payloads(app.details, raw=raw)
        chain.append(FailureView(failure.message, kind, failure.stack_trace, details))
        failure = failure.cause if failure.HasField("cause") else None
        seen += 1
    return chain
