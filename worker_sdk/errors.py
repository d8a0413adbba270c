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
    ├── ScheduleAlreadyRunningError (client) a schedule with this id exists in the namespace
    ├── WorkflowQueryFailedError    (client) the query could not be answered (unknown name, bad arguments…)
    ├── WorkflowUpdateFailedError   (client) the update was rejected or its handler failed; ``cause`` says why
    ├── ResultTimeoutError          (client) ``result()`` waited past its ``timeout``; also a builtin TimeoutError
    ├── NondeterminismError         (worker) workflow code no longer matches its history
    ├── WorkflowCodeError           (worker) workflow code did what a workflow must not; fails the workflow task
    │   ├── DeterminismViolation    it called the clock, random, I/O…; also a RuntimeError
    │   ├── WorkflowLoopError       it used an event-loop feature a workflow must not (threads, I/O, executors)
    │   └── DeadlockError           it ran past the worker's deadlock timeout without yielding
    ├── NotInWorkflowError          a ``workflow.*`` function was called outside workflow code; also a RuntimeError
    ├── NotInActivityError          an ``activity.*`` function was called outside activity code; also a RuntimeError
    ├── CompleteAsyncError          (activity) raised by ``activity.raise_complete_async()``: the attempt is
    │                               answered later, from outside the worker
    ├── AsyncActivityCancelledError (client) an async activity handle's heartbeat learnt the activity's
    │                               cancellation was requested
    └── RPCError                    a call to the server failed; ``status`` is the gRPC status

    ContinueAsNewError              (workflow) raised by ``workflow.continue_as_new()``: control flow, a
                                    ``BaseException`` so ``except Exception`` in workflow code cannot swallow it

Inside a workflow, an unhandled ``FailureError`` (an ``ApplicationError``, or an ``ActivityError`` left
uncaught) fails the workflow. Any other exception fails only the workflow *task*, which is retried: a
bug fixed and deployed resumes the run where it was. The ``WorkflowCodeError`` family is of that kind:
the worker reports it as the workflow task's failure (``wf workflow describe`` shows it) and retries.

Errors that already had a builtin base keep it (``ResultTimeoutError`` is a ``TimeoutError``,
``NotInWorkflowError`` a ``RuntimeError``…), so code written against the builtin goes on catching them.
Bad arguments are ``ValueError`` and ``TypeError``, as everywhere in Python.
"""

from __future__ import annotations

import builtins
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
    "ScheduleAlreadyRunningError",
    "WorkflowQueryFailedError",
    "WorkflowUpdateFailedError",
    "ResultTimeoutError",
    "NondeterminismError",
    "WorkflowCodeError",
    "DeterminismViolation",
    "WorkflowLoopError",
    "DeadlockError",
    "NotInWorkflowError",
    "NotInActivityError",
    "CompleteAsyncError",
    "AsyncActivityCancelledError",
    "RPCError",
    "ContinueAsNewError",
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
    """A child workflow did not complete: it failed, was cancelled, terminated or timed out; the
    reason is ``cause`` (an ``ApplicationError`` with the child's type and message when it failed,
    ``CancelledError``, ``TerminatedError`` or ``TimeoutError`` otherwise)."""

    def __init__(
        self,
        message: str,
        *,
        workflow_id: str = "",
        run_id: str = "",
        workflow_type: str = "",
        namespace: str = "",
        initiated_event_id: int = 0,
        started_event_id: int = 0,
        retry_state: RetryState = RetryState.UNSPECIFIED,
    ) -> None:
        super().__init__(message)
        self.workflow_id = workflow_id
        self.run_id = run_id
        self.workflow_type = workflow_type
        self.namespace = namespace
        self.initiated_event_id = initiated_event_id
        self.started_event_id = started_event_id
        self.retry_state = retry_state

    @property
    def cause(self) -> BaseException | None:
        return self.__cause__


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

    def __init__(
        self, workflow_id: str, workflow_type: str, *, run_id: str | None = None, message: str | None = None
    ) -> None:
        # ``message``: the server's own reason when it has one (a reuse policy refusing the id of a
        # closed run is not "already started").
        super().__init__(
            message or f"workflow {workflow_id!r} is already started" + (f" (run {run_id})" if run_id else "")
        )
        self.workflow_id = workflow_id
        self.workflow_type = workflow_type
        self.run_id = run_id


class ScheduleAlreadyRunningError(WfError):
    """``create_schedule`` was given an id a schedule of the namespace already has (temporalio's name)."""

    def __init__(self, message: str = "Schedule already running") -> None:
        super().__init__(message)


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


class ResultTimeoutError(WfError, builtins.TimeoutError):
    """``result()`` of a workflow or an update waited past its ``timeout``; the workflow goes on.

    Also the builtin ``TimeoutError`` (and so ``asyncio.TimeoutError``), which it was before it had a
    class of its own. Not to be confused with :class:`TimeoutError` of this module, a timeout that
    fired inside the workflow (an activity's, the workflow's own).
    """


class NondeterminismError(WfError):
    """Workflow code asked for something other than what its history recorded."""


class WorkflowCodeError(WfError):
    """Workflow code did something a workflow must not; its workflow task fails and is retried, so a
    fix deployed to the workers resumes the run."""


class DeterminismViolation(WorkflowCodeError, RuntimeError):  # noqa: N818 - the name users see in failures
    """Workflow code called something whose result would differ on replay (the clock, ``random``,
    file or network I/O…); the message names the call and the deterministic alternative."""


class WorkflowLoopError(WorkflowCodeError):
    """Workflow code used an event-loop feature that would make it nondeterministic."""


class DeadlockError(WorkflowCodeError):
    """Workflow code ran past the worker's deadlock timeout without yielding; the message carries the
    stack of the stuck code."""


class NotInWorkflowError(WfError, RuntimeError):
    """A function that needs a running workflow (``workflow.now()``, ``workflow.execute_activity()``…)
    was called outside workflow code."""


class NotInActivityError(WfError, RuntimeError):
    """A function that needs a running activity (``activity.info()``, ``activity.heartbeat()``…) was
    called outside activity code."""


class CompleteAsyncError(WfError):
    """Raised by ``activity.raise_complete_async()``: the worker sends no outcome for this attempt
    and frees its slot; whoever holds the attempt's task token (or its workflow and activity ids)
    answers it later through ``Client.get_async_activity_handle``. The attempt's start-to-close and
    heartbeat timeouts still run on the server. Let it propagate: an activity that catches it
    and returns answers as usual."""

    def __init__(self) -> None:
        super().__init__("the activity will be completed asynchronously")


class AsyncActivityCancelledError(WfError):
    """``AsyncActivityHandle.heartbeat()`` found that cancellation of the activity was requested:
    answer it with ``report_cancellation()`` (the heartbeat's details were recorded)."""

    def __init__(self) -> None:
        super().__init__("cancellation of the activity was requested")


class RPCError(WfError):
    """A call to the server failed. ``status`` is the ``grpc.StatusCode``."""

    def __init__(self, message: str, status: grpc.StatusCode) -> None:
        super().__init__(message)
        self.message = message
        self.status = status


class ContinueAsNewError(BaseException):
    """Raised by ``workflow.continue_as_new(...)`` to close the run as ContinuedAsNew and start a new
    run of the same workflow id with new arguments, in one transaction on the server.

    A ``BaseException``, as temporalio's: it is control flow, and ``except Exception`` in workflow code
    must not catch it. Raised from the run method (or anything it awaits) it ends the run; raised in a
    signal or update handler it does the same.
    """

    def __init__(self, command: Any, origin: str = "") -> None:
        super().__init__("continue as new")
        # The ContinueAsNewWorkflowExecutionCommandAttributes the run closes with, and where workflow
        # code asked for it (named in a nondeterminism message).
        self.command = command
        self.origin = origin
