"""Errors raised by wf's SDK.

    WfError                         root of every error the SDK raises
    ├── FailureError                a failure that crosses the wire (it has a ``failure`` proto)
    │   ├── ApplicationError        raised by user code; fails the workflow or the activity attempt
    │   ├── ActivityError           an activity failed for good; ``cause`` says why
    │   ├── ChildWorkflowError      a child workflow failed; ``cause`` says why
    │   ├── CancelledError          the workflow or activity was cancelled
    │   ├── TerminatedError         the workflow was terminated
    │   ├── TimeoutError            a timeout fired; ``type`` says which
    │   └── ServerError             the server failed something on its own
    ├── WorkflowFailureError        (client) the workflow ended without a result; ``cause`` says why
    ├── WorkflowAlreadyStartedError (client) a running workflow already has this id
    ├── WorkflowQueryFailedError    (client) the query could not be answered (unknown name, bad arguments…)
    ├── WorkflowUpdateFailedError   (client) the update was rejected or its handler failed; ``cause`` says why
    ├── NondeterminismError         (worker) workflow code no longer matches its history
    └── RPCError                    a call to the server failed; ``status`` is the gRPC status

Inside a workflow, an unhandled ``FailureError`` (an ``ApplicationError``, or an ``ActivityError`` left
uncaught) fails the workflow. Any other exception fails only the workflow *task*, which is retried: a
bug fixed and deployed resumes the run where it was.
"""

from __future__ import annotations

import enum
from collections.abc import Sequence
from typing import Any

import grpc

__all__ = [
    "WfError",
    "FailureError",
    "ApplicationError",
    "ActivityError",
    "ChildWorkflowError",
    "CancelledError",
    "TerminatedError",
    "TimeoutError",
    "TimeoutType",
    "RetryState",
    "ServerError",
    "WorkflowFailureError",
    "WorkflowAlreadyStartedError",
    "WorkflowQueryFailedError",
    "WorkflowUpdateFailedError",
    "NondeterminismError",
    "RPCError",
]


class WfError(Exception):
    """Root of the SDK's errors."""


class FailureError(WfError):
    """An error that crosses the wire as a ``wf.v1.Failure``."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message
        # Set when the error was built from a failure received from the server.
        self.failure: Any = None


class ApplicationError(FailureError):
    """An error raised on purpose by workflow or activity code.

    Args:
        message: what went wrong.
        *details: values (encoded by the data converter) that travel with the error.
        type: a name for the kind of error; retry policies list non-retryable types by this name.
            Defaults to the class name of the exception it was converted from, or "ApplicationError".
        non_retryable: when True, an activity raising it is not retried whatever its retry policy.
    """

    def __init__(
        self, message: str, *details: Any, type: str | None = None, non_retryable: bool = False
    ) -> None:
        super().__init__(message)
        self.details: Sequence[Any] = details
        self.type = type or "ApplicationError"
        self.non_retryable = non_retryable

    def __str__(self) -> str:
        return self.message


class RetryState(enum.IntEnum):
    """Why a retried operation stopped (wire numbers)."""

    UNSPECIFIED = 0
    IN_PROGRESS = 1
    NON_RETRYABLE_FAILURE = 2
    TIMEOUT = 3
    MAXIMUM_ATTEMPTS_REACHED = 4
    RETRY_POLICY_NOT_SET = 5
    INTERNAL_SERVER_ERROR = 6
    CANCEL_REQUESTED = 7


class ActivityError(FailureError):
    """An activity failed (after its retries); the reason is ``__cause__``."""

    def __init__(
        self,
        message: str,
        *,
        activity_type: str,
        activity_id: str,
        scheduled_event_id: int = 0,
        started_event_id: int = 0,
        retry_state: RetryState = RetryState.UNSPECIFIED,
        identity: str = "",
    ) -> None:
        super().__init__(message)
        self.activity_type = activity_type
        self.activity_id = activity_id
        self.scheduled_event_id = scheduled_event_id
        self.started_event_id = started_event_id
        self.retry_state = retry_state
        self.identity = identity

    @property
    def cause(self) -> BaseException | None:
        return self.__cause__


class ChildWorkflowError(FailureError):
    """A child workflow failed; the reason is ``__cause__``."""

    def __init__(self, message: str, *, workflow_id: str = "", run_id: str = "", workflow_type: str = "") -> None:
        super().__init__(message)
        self.workflow_id = workflow_id
        self.run_id = run_id
        self.workflow_type = workflow_type


class CancelledError(FailureError):
    """The operation was cancelled."""

    def __init__(self, message: str = "cancelled", *details: Any) -> None:
        super().__init__(message)
        self.details = details


class TerminatedError(FailureError):
    """The workflow was terminated."""


class TimeoutType(enum.IntEnum):
    UNSPECIFIED = 0
    START_TO_CLOSE = 1
    SCHEDULE_TO_START = 2
    SCHEDULE_TO_CLOSE = 3
    HEARTBEAT = 4


class TimeoutError(FailureError):  # noqa: A001 - the name Temporal users know
    """A timeout fired; ``type`` says which."""

    def __init__(self, message: str, *, type: TimeoutType = TimeoutType.UNSPECIFIED) -> None:
        super().__init__(message)
        self.type = type


class ServerError(FailureError):
    """The server failed an operation on its own."""

    def __init__(self, message: str, *, non_retryable: bool = False) -> None:
        super().__init__(message)
        self.non_retryable = non_retryable


class WorkflowFailureError(WfError):
    """The workflow ended without a result: failed, timed out, cancelled or terminated.

    ``cause`` (also ``__cause__``) is the FailureError that ended it, with its own causes chained.
    """

    def __init__(self, message: str, *, cause: BaseException, status: Any = None) -> None:
        super().__init__(message)
        self.__cause__ = cause
        self.status = status

    @property
    def cause(self) -> BaseException:
        assert self.__cause__ is not None
        return self.__cause__


class WorkflowAlreadyStartedError(WfError):
    """A workflow with this id is already running (or the reuse policy refuses the id)."""

    def __init__(self, workflow_id: str, workflow_type: str, *, run_id: str | None = None) -> None:
        super().__init__(f"workflow {workflow_id!r} is already started" + (f" (run {run_id})" if run_id else ""))
        self.workflow_id = workflow_id
        self.workflow_type = workflow_type
        self.run_id = run_id


class WorkflowQueryFailedError(WfError):
    """A query could not be answered: unknown query name, arguments that do not fit, or the handler
    raised or tried to change the workflow."""


class WorkflowUpdateFailedError(WfError):
    """An update was rejected by its validator, or its handler raised; the reason is ``cause``."""

    def __init__(self, message: str, *, cause: BaseException) -> None:
        super().__init__(message)
        self.__cause__ = cause

    @property
    def cause(self) -> BaseException:
        assert self.__cause__ is not None
        return self.__cause__


class NondeterminismError(WfError):
    """Workflow code asked for something other than what its history recorded."""


class RPCError(WfError):
    """A call to the server failed. ``status`` is the ``grpc.StatusCode``."""

    def __init__(self, message: str, status: grpc.StatusCode) -> None:
        super().__init__(message)
        self.message = message
        self.status = status
