"""Exceptions ⇄ ``wf.v1.Failure``: how errors cross the wire with their type, details and causes."""

from __future__ import annotations

import itertools
import traceback
from typing import Any

from wf.v1 import common_pb2
from worker_sdk._converter import DataConverter
from worker_sdk.errors import (
    ActivityError,
    ApplicationError,
    CancelledError,
    ChildWorkflowError,
    FailureError,
    RetryState,
    ServerError,
    TerminatedError,
    TimeoutError,
    TimeoutType,
)

SOURCE = "PythonSDK"

# What a failure carries at most, the server's default limits (``wf server start --max-failure-depth``
# and so on), applied before anything is sent: a cause chain as deep as a recursive helper makes
# would otherwise nest past what protobuf parses (100 levels) once stored in a history and returned.
MAX_FAILURE_DEPTH = 32
MAX_MESSAGE_LENGTH = 8_192
MAX_STACK_TRACE_LENGTH = 16_384
# Kinds of dropped causes named in the summary, and characters of the innermost one's message.
_SUMMARY_KINDS = 8
_SUMMARY_MESSAGE = 200


def to_failure(exc: BaseException, converter: DataConverter) -> common_pb2.Failure:
    """Describe ``exc`` and its ``__cause__`` chain as a Failure, within the limits above: past
    ``MAX_FAILURE_DEPTH`` failures, the causes are summarized in the innermost kept one's message."""
    chain = _chain(exc)
    kept = [_level(link, converter) for link in chain[:MAX_FAILURE_DEPTH]]
    dropped = chain[MAX_FAILURE_DEPTH:]
    note = ""
    if dropped:
        note = f"\n{_summary(dropped)}\n[causes cut at {MAX_FAILURE_DEPTH}, the most a failure carries]"
    for level in kept:
        level.message = shorten(level.message, MAX_MESSAGE_LENGTH)
        level.stack_trace = shorten(level.stack_trace, MAX_STACK_TRACE_LENGTH, keep_end=True)
    kept[-1].message = shorten(kept[-1].message, MAX_MESSAGE_LENGTH - len(note)) + note
    root = current = kept[0]
    for level in kept[1:]:
        current.cause.CopyFrom(level)
        current = current.cause
    return root


def shorten(text: str, limit: int = MAX_MESSAGE_LENGTH, *, keep_end: bool = False) -> str:
    """``text`` within ``limit`` characters, with a note of what was cut (its end kept too with
    ``keep_end``, for a stack trace, whose end says where the exception was raised)."""
    if len(text) <= limit:
        return text
    note = f"\n… [cut from {len(text):,} characters] …\n"
    room = max(limit - len(note), 0)
    head = room // 4 if keep_end else room
    return text[:head] + note + text[len(text) - (room - head) :]


# One link of a chain: an exception raised here, or a failure received (and its causes, received too).
_Link = BaseException | common_pb2.Failure


def _chain(exc: BaseException) -> list[_Link]:
    """``exc`` and its causes, outermost first; a failure received from the server and raised again
    brings its own causes. A cycle of causes ends at the first repetition."""
    links: list[_Link] = []
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        if isinstance(current, FailureError) and current.failure is not None:
            f: common_pb2.Failure | None = current.failure
            while f is not None:
                links.append(f)
                f = f.cause if f.HasField("cause") else None
            break
        links.append(current)
        current = current.__cause__
    return links


def _level(link: _Link, converter: DataConverter) -> common_pb2.Failure:
    """One failure of a chain, without its cause."""
    failure = common_pb2.Failure(source=SOURCE)
    if isinstance(link, common_pb2.Failure):
        # A failure received and raised again: keep what it said, stack trace included.
        failure.CopyFrom(link)
        failure.ClearField("cause")
        return failure
    exc = link
    failure.message = getattr(exc, "message", None) or str(exc) or type(exc).__name__
    failure.stack_trace = "".join(traceback.format_exception(type(exc), exc, exc.__traceback__, chain=False))
    if isinstance(exc, ApplicationError):
        info = failure.application_failure_info
        info.type = exc.type
        info.non_retryable = exc.non_retryable
        if exc.details:
            info.details.CopyFrom(converter.to_payloads(exc.details))
    elif isinstance(exc, TimeoutError):
        failure.timeout_failure_info.timeout_type = int(exc.type)  # type: ignore[assignment]
    elif isinstance(exc, CancelledError):
        failure.canceled_failure_info.SetInParent()
        if exc.details:
            failure.canceled_failure_info.details.CopyFrom(converter.to_payloads(exc.details))
    elif isinstance(exc, TerminatedError):
        failure.terminated_failure_info.SetInParent()
    elif isinstance(exc, ServerError):
        failure.server_failure_info.non_retryable = exc.non_retryable
    elif isinstance(exc, ActivityError):
        info_a = failure.activity_failure_info
        info_a.activity_type.name = exc.activity_type
        info_a.activity_id = exc.activity_id
        info_a.scheduled_event_id = exc.scheduled_event_id
        info_a.started_event_id = exc.started_event_id
        info_a.retry_state = int(exc.retry_state)  # type: ignore[assignment]
    else:
        # Any other exception: an application failure named after its class.
        failure.application_failure_info.type = type(exc).__name__
    return failure


def _kind_and_message(link: _Link) -> tuple[str, str]:
    if isinstance(link, common_pb2.Failure):
        kind = link.WhichOneof("failure_info") or "failure"
        if kind == "application_failure_info" and link.application_failure_info.type:
            kind = link.application_failure_info.type
        return kind, link.message
    if isinstance(link, ApplicationError):
        return link.type, link.message
    return type(link).__name__, str(link)


def _summary(dropped: list[_Link]) -> str:
    """The causes cut from a chain in one line: how many, their kinds (a run of one kind counted
    once), and the innermost, which is often what went wrong first."""
    described = [_kind_and_message(link) for link in dropped]
    runs = [(k, len(list(group))) for k, group in itertools.groupby(k[:64] for k, _ in described)]
    kinds = ", ".join(f"{k} ×{n}" if n > 1 else k for k, n in runs[:_SUMMARY_KINDS])
    if len(runs) > _SUMMARY_KINDS:
        kinds += ", …"
    kind, message = described[-1]
    more = "cause" if len(dropped) == 1 else "causes"
    innermost = message if len(message) <= _SUMMARY_MESSAGE else message[:_SUMMARY_MESSAGE] + "…"
    return f"… and {len(dropped):,} more {more}: {kinds}; the innermost: {kind[:64]}: {innermost}"


def from_failure(failure: common_pb2.Failure, converter: DataConverter) -> FailureError:
    """The exception a Failure stands for, with its causes chained as ``__cause__``."""
    kind = failure.WhichOneof("failure_info")
    message = failure.message
    exc: FailureError
    if kind == "application_failure_info":
        info = failure.application_failure_info
        details: list[Any] = converter.from_payloads(info.details) if info.details.payloads else []
        exc = ApplicationError(message, *details, type=info.type, non_retryable=info.non_retryable)
    elif kind == "timeout_failure_info":
        exc = TimeoutError(message, type=TimeoutType(failure.timeout_failure_info.timeout_type))
    elif kind == "canceled_failure_info":
        cd = failure.canceled_failure_info.details
        exc = CancelledError(message, *(converter.from_payloads(cd) if cd.payloads else []))
    elif kind == "terminated_failure_info":
        exc = TerminatedError(message)
    elif kind == "server_failure_info":
        exc = ServerError(message, non_retryable=failure.server_failure_info.non_retryable)
    elif kind == "activity_failure_info":
        a = failure.activity_failure_info
        exc = ActivityError(
            message,
            activity_type=a.activity_type.name,
            activity_id=a.activity_id,
            scheduled_event_id=a.scheduled_event_id,
            started_event_id=a.started_event_id,
            retry_state=RetryState(a.retry_state),
            identity=a.identity,
        )
    elif kind == "child_workflow_execution_failure_info":
        c = failure.child_workflow_execution_failure_info
        exc = ChildWorkflowError(
            message,
            workflow_id=c.workflow_execution.workflow_id,
            run_id=c.workflow_execution.run_id,
            workflow_type=c.workflow_type.name,
            namespace=c.namespace,
            initiated_event_id=c.initiated_event_id,
            started_event_id=c.started_event_id,
            retry_state=RetryState(c.retry_state),
        )
    else:
        exc = ApplicationError(message, type="UnknownFailure")
    exc.failure = failure
    if failure.HasField("cause"):
        exc.__cause__ = from_failure(failure.cause, converter)
    return exc


def describe(failure: common_pb2.Failure) -> str:
    """One line per failure in the chain: "type: message"."""
    lines = []
    f: common_pb2.Failure | None = failure
    while f is not None:
        kind = f.WhichOneof("failure_info") or "failure"
        if kind == "application_failure_info":
            kind = f.application_failure_info.type or "ApplicationError"
        elif kind == "activity_failure_info":
            kind = f"ActivityError({f.activity_failure_info.activity_type.name})"
        lines.append(f"{kind}: {f.message}")
        f = f.cause if f.HasField("cause") else None
    return "\n  caused by ".join(lines)
