"""The workflow thread: workflow code runs off the worker's event loop, under a deadlock watch.

Workflow activations (replays, queries) are CPU work. Run on the worker's event loop, a long one
would stall its polls and its activities' heartbeats until it ended; so the worker hands each one to
a thread of its workflow-task executor (as Temporal's ``workflow_task_executor``) and goes on
polling and heartbeating meanwhile. The deterministic workflow loop and the determinism guard live
on that thread for the activation's duration (both are per-thread state).

Deadlock detection is the worker's own wait: it waits for the activation at most the deadlock
timeout, counted from the moment a thread starts it (not from when it was queued for a free
thread). Past it, the workflow task fails with a ``DeadlockError`` carrying the stack of the stuck
code, and the stuck thread is interrupted: an exception is raised into *that* thread at its next
bytecode, never into the worker's loop. The run is not cached again, so whatever state the
interruption leaves it in is dropped.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextvars
import ctypes
import sys
import threading
import time
import traceback
from collections.abc import Callable
from typing import Any, TypeVar, cast

from worker_sdk.errors import DeadlockError

T = TypeVar("T")


class _Interrupted(BaseException):
    """Raised into stuck workflow code; a BaseException, so `except Exception` cannot keep it."""


class _Activation:
    """One activation handed to the workflow thread; the lock orders its end and its interruption."""

    __slots__ = ("lock", "thread_id", "started", "done", "interrupted")

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.thread_id = 0
        self.started: float | None = None  # time.monotonic() when a thread began it
        self.done = False
        self.interrupted = False

    def run(self, fn: Callable[..., T], args: tuple[Any, ...]) -> T | None:
        """On the workflow thread: ``fn(*args)``, or None if the worker interrupted it."""
        with self.lock:
            self.thread_id = threading.get_ident()
            self.started = time.monotonic()
        try:
            try:
                return fn(*args)
            finally:
                with self.lock:
                    self.done = True
                    if self.interrupted:
                        # Fired just as the code finished: take the exception back if still pending.
                        _set_async_exc(self.thread_id, None)
        except _Interrupted:
            return None  # delivered, possibly a few bytecodes late in the lines above

    def interrupt(self) -> str | None:
        """From the worker: the stuck code's stack, and an exception raised into its thread; None
        when the code finished just as its deadline passed."""
        with self.lock:
            if self.done:
                return None
            frame = sys._current_frames().get(self.thread_id)
            stack = "".join(traceback.format_stack(frame)) if frame is not None else "(stack not available)\n"
            self.interrupted = True
            _set_async_exc(self.thread_id, _Interrupted)
            return stack


def _set_async_exc(thread_id: int, exc: type[BaseException] | None) -> None:
    ctypes.pythonapi.PyThreadState_SetAsyncExc(
        ctypes.c_ulong(thread_id), ctypes.py_object(exc) if exc is not None else ctypes.c_void_p(0)
    )


def _retrieve(future: asyncio.Future[Any]) -> None:
    """An abandoned activation's outcome is nobody's: read it so asyncio does not log it as lost."""
    if not future.cancelled():
        future.exception()


async def run_on_workflow_thread(
    executor: concurrent.futures.Executor, fn: Callable[..., T], *args: Any, timeout: float | None, what: str
) -> T:
    """Run ``fn(*args)`` on a thread of ``executor`` in a copy of the caller's context, and wait for it
    while the caller's loop goes on. Past ``timeout`` seconds of running, raise ``DeadlockError``
    with the stuck code's stack (``what`` names that code) and interrupt it."""
    activation = _Activation()
    run = contextvars.copy_context().run
    future = asyncio.get_running_loop().run_in_executor(executor, run, activation.run, fn, args)
    try:
        if timeout is None:
            return cast(T, await asyncio.shield(future))
        wait = timeout
        while wait > 0:
            done, _ = await asyncio.wait((future,), timeout=wait)
            if done:
                return cast(T, future.result())
            started = activation.started
            wait = timeout if started is None else started + timeout - time.monotonic()
    except BaseException:
        future.add_done_callback(_retrieve)  # the caller is cancelled; the thread ends on its own
        raise
    stack = activation.interrupt()
    if stack is None:
        return cast(T, await future)
    future.add_done_callback(_retrieve)
    raise DeadlockError(
        f"{what} did not yield within {timeout:g}s (deadlock detection; raise the worker's "
        f"deadlock_timeout, or set it to None while debugging). Stack of the stuck code:\n{stack}"
    )

