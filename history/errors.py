"""Errors history raises, in domain words; the frontend maps each to its gRPC status.

    HistoryError
    ├── InvalidArgument      bad request (INVALID_ARGUMENT)
    ├── NotFound             no such execution, task or activity (NOT_FOUND)
    ├── AlreadyExists        a running workflow already has this id (ALREADY_EXISTS)
    ├── FailedPrecondition   the execution is closed (FAILED_PRECONDITION)
    ├── LimitExceeded        a configured limit was hit (RESOURCE_EXHAUSTED)
    ├── QueryFailed          the worker could not answer a query (FAILED_PRECONDITION)
    ├── DeadlineExceeded     nobody answered in time (DEADLINE_EXCEEDED)
    └── ConcurrentUpdate     the execution changed since it was read; the operation is retried

    TaskGone                 (not a HistoryError) a task handed to a poller is no longer valid: the
                             poll goes on with the next task
"""

from __future__ import annotations


class HistoryError(Exception):
    """Root of history's errors."""


class InvalidArgument(HistoryError):
    pass


class NotFound(HistoryError):
    pass


class AlreadyExists(HistoryError):
    def __init__(self, message: str, run_id: str) -> None:
        super().__init__(message)
        self.run_id = run_id


class FailedPrecondition(HistoryError):
    pass


class LimitExceeded(HistoryError):
    pass


class ConcurrentUpdate(HistoryError):
    pass


class QueryFailed(HistoryError):
    pass


class DeadlineExceeded(HistoryError):
    pass


class TaskGone(Exception):
    """The task a poller was handed is no longer valid (taken elsewhere, or stale)."""
