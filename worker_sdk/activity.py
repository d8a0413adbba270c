"""Writing activities: the decorator, and what activity code can ask about itself."""

from __future__ import annotations

import contextvars
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, NoReturn, TypeVar, overload

from worker_sdk._definition import define_activity
from worker_sdk.errors import CompleteAsyncError, NotInActivityError

__all__ = ["defn", "info", "Info", "in_activity", "heartbeat", "is_cancelled", "raise_complete_async"]

T = TypeVar("T")


@dataclass(frozen=True)
class Info:
    """What an activity attempt knows about itself (``activity.info()``)."""

    activity_id: str
    activity_type: str
    attempt: int
    task_queue: str
    workflow_namespace: str
    workflow_id: str
    workflow_run_id: str
    workflow_type: str
    scheduled_time: datetime
    current_attempt_scheduled_time: datetime
    started_time: datetime
    schedule_to_close_timeout: timedelta | None
    start_to_close_timeout: timedelta | None
    heartbeat_timeout: timedelta | None
    task_token: bytes
    # What the previous attempt last passed to activity.heartbeat(), to resume from.
    heartbeat_details: Sequence[Any] = ()


@dataclass
class _Context:
    info: Info
    heartbeat: Callable[[tuple[Any, ...]], None]
    cancelled: threading.Event = field(default_factory=threading.Event)


_current: contextvars.ContextVar[_Context] = contextvars.ContextVar("wf_activity")


@overload
def defn(fn: T) -> T: ...
@overload
def defn(*, name: str | None = None) -> Callable[[T], T]: ...
def defn(fn: Any = None, *, name: str | None = None) -> Any:
    """Declare an activity: an ``async def`` (run on the worker's loop) or a ``def`` (run in a thread).

    Args:
        name: the activity type name; defaults to the function name.
    """
    if fn is not None:
        return define_activity(fn, None)
    return lambda f: define_activity(f, name)


def _context(what: str) -> _Context:
    try:
        return _current.get()
    except LookupError:
        raise NotInActivityError(f"{what} can only be called from activity code") from None


def info() -> Info:
    """The running activity attempt's info: ids, ``attempt`` (1 on the first try), timeouts, and
    the previous attempt's last ``heartbeat_details``."""
    return _context("activity.info()").info


def heartbeat(*details: Any) -> None:
    """Report progress (``details`` are kept for the next attempt) and that the activity is alive.

    Heartbeats reach the server at most every 0.8 × heartbeat_timeout (30 s without one); the answer
    tells whether cancellation was requested: then :func:`is_cancelled` turns true, and an ``async``
    activity gets ``asyncio.CancelledError`` at its next await.
    """
    _context("activity.heartbeat()").heartbeat(details)


def is_cancelled() -> bool:
    """Whether cancellation of this activity was requested (learnt through heartbeats)."""
    return _context("activity.is_cancelled()").cancelled.is_set()


def raise_complete_async() -> NoReturn:
    """End the activity function without answering its attempt: the worker sends no outcome and
    frees the slot, and the attempt waits for an answer from elsewhere, through
    ``client.get_async_activity_handle(task_token=activity.info().task_token)`` (or by workflow and
    activity id) and its ``complete``, ``fail``, ``heartbeat`` or ``report_cancellation``. The
    attempt's start-to-close and heartbeat timeouts still apply on the server, so set them to how
    long the answer may take (a person approving may take days).

    Raises:
        CompleteAsyncError: always; let it propagate out of the activity.
    """
    _context("activity.raise_complete_async()")
    raise CompleteAsyncError()


def in_activity() -> bool:
    return _current.get(None) is not None
