"""Exceptions ⇄ ``wf.v1.Failure``: how errors cross the wire with their type, details and causes."""

from __future__ import annotations

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


def to_failure(exc: BaseException, converter: DataConverter) -> common_pb2.Failure:
    """Describe ``exc`` (and its ``__cause__`` chain) as a Failure."""
    failure = common_pb2.Failure(source=SOURCE)
    failure.message = getattr(exc, "message", None) or str(exc) or type(exc).__name__
    failure.stack_trace = "".join(traceback.format_exception(type(exc), exc, exc.__traceback__, chain=False))
    if isinstance(exc, FailureError) and exc.failure is not None:
        # A failure received from the server and raised again: keep what it said, stack trace included.
        failure.CopyFrom(exc.failure)
        return failure
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
    cause = exc.__cause__
    if cause is not None:
        failure.cause.CopyFrom(to_failure(cause, converter))
    return failure


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
