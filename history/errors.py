"""Errors history raises, in domain words; the frontend maps each to its gRPC status.

    HistoryError
    ├── InvalidArgument      bad request (INVALID_ARGUMENT)
    ├── NotFound             no such execution, task or activity (NOT_FOUND)
    ├── AlreadyExists        a running workflow already has this id (ALREADY_EXISTS)
    ├── FailedPrecondition   the execution is closed (FAILED_PRECONDITION)
    ├── LimitExceeded        a configured limit was hit (RESOURCE_EXHAUSTED)
    ├── QueryFailed          the worker could not answer a query (FAILED_PRECONDITION)
    ├── DeadlineExceeded     nobody answered in time (DEADLINE_EXCEEDED)
    ├── ConcurrentUpdate     the execution changed since it was read; the operation is retried
    └── Unavailable          the database cannot serve now; the call may be repeated (UNAVAILABLE)

    TaskGone                 (not a HistoryError) a task handed to a poller is no longer valid: the
                             poll goes on with the next task
"""

from __future__ import annotations

import asyncpg


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


class Unavailable(HistoryError):
    """The database could not serve the request now (it is down, restarting, out of connections,
    or the transaction lost a conflict): repeating the call later is safe and expected to work.

    ``in_doubt``: the statement was sent and the connection died before its answer came, so it may
    have been committed (see ``Runs``, which then looks before it answers).
    """

    def __init__(self, message: str, *, in_doubt: bool = False) -> None:
        super().__init__(message)
        self.in_doubt = in_doubt


class TaskGone(Exception):
    """The task a poller was handed is no longer valid (taken elsewhere, or stale)."""


# What the database driver's errors mean. asyncpg raises three families: PostgresError (the server's
# SQLSTATE), InterfaceError (the client side: a closed connection or pool, a bad argument) and
# InternalClientError (its protocol state machine, e.g. "cannot switch to state 12" when the server
# dies mid-statement). Sockets fail with OSError (refused, reset, timed out).

# SQLSTATE classes after which the same statement may succeed: 08 connection exception, 40
# transaction rollback (serialization failure, deadlock), 53 insufficient resources (too many
# connections, disk full), 57 operator intervention (shutdown, cannot connect now, statement
# cancelled), 58 system error (I/O), and 25006 (read-only: a standby answered during a failover) and
# 55P03 (lock not available).
_TRANSIENT_SQLSTATE_CLASSES = frozenset({"08", "40", "53", "57", "58"})
_TRANSIENT_SQLSTATES = frozenset({"25006", "55P03"})


def from_driver(exc: BaseException) -> HistoryError | None:
    """What a database driver error means to a caller: :class:`Unavailable` when trying again may
    work, :class:`InvalidArgument` when the request held a value the database refuses (a NUL
    character, an invalid byte sequence), or None for anything else (a bug, to be logged).

    The messages say what to do, never the database's own text: that stays in the server's log.
    """
    if isinstance(exc, asyncpg.PostgresError):
        state = str(getattr(exc, "sqlstate", "") or "")
        if state[:2] in _TRANSIENT_SQLSTATE_CLASSES or state in _TRANSIENT_SQLSTATES:
            return _unavailable(exc)
        if state[:2] == "22":
            return InvalidArgument(
                "the request holds a value the database cannot store "
                "(e.g. a NUL character, or text that is not valid UTF-8)"
            )
        return None
    if isinstance(exc, asyncpg.InterfaceError) and isinstance(exc, ValueError):
        # asyncpg's client-side DataError: an argument it cannot encode.
        return InvalidArgument("the request holds a value the database cannot store")
    if isinstance(exc, (asyncpg.InterfaceError, asyncpg.exceptions.InternalClientError, OSError)):
        return _unavailable(exc)
    return None


def _unavailable(exc: BaseException) -> Unavailable:
    return Unavailable(f"the database is unavailable ({type(exc).__name__}); try again", in_doubt=_in_doubt(exc))


def _in_doubt(exc: BaseException) -> bool:
    """Whether ``exc`` cut off a statement already sent: the connection closed in the middle of the
    operation, asyncpg's protocol was caught mid-way, or the server was shut down under it. Errors
    of connecting (refused, cannot connect now, too many connections) or of a connection known to
    be closed mean the statement never ran."""
    if isinstance(exc, (asyncpg.exceptions.ConnectionDoesNotExistError, asyncpg.exceptions.InternalClientError,
                        ConnectionResetError)):
        return True
    return isinstance(exc, asyncpg.PostgresError) and getattr(exc, "sqlstate", None) in ("57P01", "57P02")
