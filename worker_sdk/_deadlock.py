"""Deadlock detection: workflow code that does not yield is stopped, and its stack reported.

Workflow activations run on the worker's event loop thread, one at a time: replay is CPU work, and
running it in place saves the two thread hand-offs per workflow task that a separate thread costs.
A watchdog thread looks at the running activation a few times a second. One still running after its
deadline is interrupted (an exception raised into the loop thread at its next bytecode), and its
workflow task fails with the stack of the stuck code, so the worker's other runs go on.
"""

from __future__ import annotations

import ctypes
import sys
import threading
import time
import traceback
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar

from worker_sdk.errors import DeadlockError

T = TypeVar("T")

# How often the watchdog looks: the deadline is kept to within this much.
_TICK = 0.05


class _Interrupted(BaseException):
    """Raised into stuck workflow code; a BaseException, so `except Exception` cannot keep it."""


@dataclass(slots=True)
class _Running:
    thread_id: int
    deadline: float
    fired: bool = False
    stack: str = ""


class _Watchdog:
    """One daemon thread per process, watching the activation that is running (if any)."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.running: _Running | None = None
        threading.Thread(target=self._watch, name="wf-deadlock-watchdog", daemon=True).start()

    def _watch(self) -> None:
        while True:
            time.sleep(_TICK)
            with self.lock:
                r = self.running
                if r is None or r.fired or time.monotonic() < r.deadline:
                    continue
                frame = sys._current_frames().get(r.thread_id)
                r.stack = "".join(traceback.format_stack(frame)) if frame is not None else "(stack not available)\n"
                r.fired = True
                _set_async_exc(r.thread_id, _Interrupted)


def _set_async_exc(thread_id: int, exc: type[BaseException] | None) -> None:
    ctypes.pythonapi.PyThreadState_SetAsyncExc(
        ctypes.c_ulong(thread_id), ctypes.py_object(exc) if exc is not None else ctypes.c_void_p(0)
    )


_watchdog: _Watchdog | None = None
_watchdog_lock = threading.Lock()


def _get_watchdog() -> _Watchdog:
    global _watchdog
    with _watchdog_lock:
        if _watchdog is None:
            _watchdog = _Watchdog()
        return _watchdog


def run_with_deadline(fn: Callable[..., T], *args: Any, timeout: float | None, what: str) -> T:
    """Run ``fn(*args)`` here; past ``timeout`` seconds interrupt it and raise DeadlockError with its stack."""
    if timeout is None:
        return fn(*args)
    watchdog = _get_watchdog()
    running = _Running(threading.get_ident(), time.monotonic() + timeout)
    try:
        with watchdog.lock:
            watchdog.running = running
        try:
            result = fn(*args)
        except _Interrupted:
            pass
        finally:
            with watchdog.lock:
                watchdog.running = None
                if running.fired:
                    # Fired just as the code finished: take back the exception if it is still pending.
                    _set_async_exc(running.thread_id, None)
    except _Interrupted:
        pass  # delivered a few bytecodes late, in the lines above
    if running.fired:
        raise DeadlockError(
            f"{what} did not yield within {timeout:g}s (deadlock detection; raise the worker's "
            f"deadlock_timeout, or set it to None while debugging). Stack of the stuck code:\n{running.stack}"
        )
    return result
