"""Deadlock detection: workflow code that does not yield is stopped, and its stack reported.

Workflow activations run on the worker's workflow thread. One that is still running after the
deadline fails its workflow task with the stack of the stuck code; the thread is then interrupted
(an exception raised into it at its next bytecode), so the worker's other runs go on.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import ctypes
import sys
import threading
import traceback
from collections.abc import Callable
from typing import Any, TypeVar

T = TypeVar("T")


class DeadlockError(Exception):
    """Workflow code ran past the deadlock timeout without yielding."""


class _Interrupted(BaseException):
    """Raised into a stuck workflow thread; a BaseException, so `except Exception` cannot keep it."""


async def run_with_deadline(
    executor: concurrent.futures.Executor, fn: Callable[..., T], *args: Any, timeout: float | None, what: str
) -> T:
    """Run ``fn(*args)`` on ``executor``; past ``timeout`` seconds raise DeadlockError with its stack."""
    thread: dict[str, int] = {}

    def job() -> T:
        thread["id"] = threading.get_ident()
        return fn(*args)

    future = asyncio.get_running_loop().run_in_executor(executor, job)
    if timeout is None:
        return await future
    try:
        return await asyncio.wait_for(asyncio.shield(future), timeout)
    except TimeoutError:
        tid = thread.get("id")
        frame = sys._current_frames().get(tid) if tid is not None else None
        stack = "".join(traceback.format_stack(frame)) if frame is not None else "(stack not available)\n"
        if tid is not None:
            ctypes.pythonapi.PyThreadState_SetAsyncExc(ctypes.c_ulong(tid), ctypes.py_object(_Interrupted))
        future.add_done_callback(lambda f: f.cancelled() or f.exception())  # it ends with _Interrupted
        raise DeadlockError(
            f"{what} did not yield within {timeout:g}s (deadlock detection; raise the worker's "
            f"deadlock_timeout, or set it to None while debugging). Stack of the stuck code:\n{stack}"
        ) from None
