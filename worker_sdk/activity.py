"""Writing activities: the decorator, and what activity code can ask about itself."""

from __future__ import annotations

import contextvars
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, TypeVar, overload

from worker_sdk._definition import define_activity

__all__ = ["defn", "info", "Info", "in_activity"]

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


_current: contextvars.ContextVar[Info] = contextvars.ContextVar("wf_activity_info")


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


def info() -> Info:
    """The running activity attempt's info: ids, ``attempt`` (1 on the first try), timeouts."""
    try:
        return _current.get()
    except LookupError:
        raise RuntimeError("activity.info() can only be called from activity code") from None


def in_activity() -> bool:
    return _current.get(None) is not None
