"""The deterministic event loop that workflow code runs on.

It advances only when the worker feeds it history: a ready queue run to exhaustion per activation,
time taken from the history (``time()`` is the workflow clock), and no I/O. Loop methods a workflow
must not use raise an error naming the call and what to use instead.

Sections: scheduling, time, futures and tasks, errors, refused methods.
"""

from __future__ import annotations

import asyncio
import collections
import contextvars
from collections.abc import Callable, Coroutine
from typing import Any

from worker_sdk import _guard
from worker_sdk.errors import WorkflowLoopError

TimerFactory = Callable[[float, Callable[..., Any], tuple[Any, ...], Any], asyncio.TimerHandle]


class WorkflowLoop(asyncio.AbstractEventLoop):
    """A single-threaded loop whose only inputs are history events."""

    def __init__(self) -> None:
        _guard.install()
        self._ready: collections.deque[asyncio.Handle] = collections.deque()
        self._time = 0.0
        self._closed = False
        self._running = False
        # Strong references: a workflow task must not vanish because user code dropped it.
        self.tasks: set[asyncio.Task[Any]] = set()
        self.errors: list[BaseException] = []
        # Turns a delay into a durable timer (set by the workflow instance that owns the loop).
        self.timer_factory: TimerFactory | None = None

    # -- scheduling ------------------------------------------------------------------------------

    def call_soon(  # type: ignore[override]
        self, callback: Callable[..., Any], *args: Any, context: contextvars.Context | None = None
    ) -> asyncio.Handle:
        handle = asyncio.Handle(callback, args, self, context)
        self._ready.append(handle)
        return handle

    def call_soon_threadsafe(  # type: ignore[override]
        self, callback: Callable[..., Any], *args: Any, context: contextvars.Context | None = None
    ) -> asyncio.Handle:
        raise WorkflowLoopError("call_soon_threadsafe: workflows are single-threaded; use an activity")

    def run_ready(self) -> None:
        """Run callbacks until none is ready: every coroutine is blocked on history."""
        previous = asyncio.events._get_running_loop()
        asyncio.events._set_running_loop(self)
        self._running = True
        try:
            with _guard.active():
                while self._ready:
                    handle = self._ready.popleft()
                    if not handle._cancelled:
                        handle._run()
        finally:
            self._running = False
            asyncio.events._set_running_loop(previous)

    def is_running(self) -> bool:
        return self._running

    def is_closed(self) -> bool:
        return self._closed

    def close(self) -> None:
        self._closed = True
        self._ready.clear()

    def get_debug(self) -> bool:
        return False

    # -- time ------------------------------------------------------------------------------------

    def time(self) -> float:
        return self._time

    def set_time(self, seconds: float) -> None:
        self._time = seconds

    def call_later(  # type: ignore[override]
        self, delay: float, callback: Callable[..., Any], *args: Any, context: contextvars.Context | None = None
    ) -> asyncio.TimerHandle:
        """A durable timer: recorded in the history, it fires after restarts and replays alike."""
        if self.timer_factory is None:
            raise WorkflowLoopError("timers need a running workflow")
        return self.timer_factory(delay, callback, args, context)

    def _timer_handle_cancelled(self, handle: asyncio.TimerHandle) -> None:
        """The instance has already turned the cancellation into a command (or there was none)."""

    def call_at(  # type: ignore[override]
        self, when: float, callback: Callable[..., Any], *args: Any, context: contextvars.Context | None = None
    ) -> asyncio.TimerHandle:
        return self.call_later(when - self._time, callback, *args, context=context)

    # -- futures and tasks -----------------------------------------------------------------------

    def create_future(self) -> asyncio.Future[Any]:
        return asyncio.Future(loop=self)

    def create_task(  # type: ignore[override]
        self, coro: Coroutine[Any, Any, Any], *, name: str | None = None, context: contextvars.Context | None = None
    ) -> asyncio.Task[Any]:
        task: asyncio.Task[Any] = asyncio.Task(coro, loop=self, name=name, context=context)
        self.tasks.add(task)
        task.add_done_callback(self.tasks.discard)
        return task

    # -- errors ----------------------------------------------------------------------------------

    def call_exception_handler(self, context: dict[str, Any]) -> None:
        exc = context.get("exception")
        if isinstance(exc, BaseException):
            self.errors.append(exc)

    def default_exception_handler(self, context: dict[str, Any]) -> None:
        self.call_exception_handler(context)

    def get_exception_handler(self) -> None:
        return None

    def set_exception_handler(self, handler: Any) -> None:
        raise WorkflowLoopError("set_exception_handler is not available in workflows")

    # -- refused methods -------------------------------------------------------------------------

    def _refuse(name: str, instead: str) -> Callable[..., Any]:  # type: ignore[misc]
        def refused(self: WorkflowLoop, *args: Any, **kwargs: Any) -> Any:
            raise WorkflowLoopError(f"{name}() is not allowed in workflow code: {instead}")

        refused.__name__ = name
        return refused

    _io = "do I/O in an activity"
    run_in_executor = _refuse("run_in_executor", "run blocking work in an activity")  # type: ignore[assignment]
    getaddrinfo = _refuse("getaddrinfo", _io)
    getnameinfo = _refuse("getnameinfo", _io)
    create_connection = _refuse("create_connection", _io)
    create_server = _refuse("create_server", _io)
    create_datagram_endpoint = _refuse("create_datagram_endpoint", _io)
    create_unix_connection = _refuse("create_unix_connection", _io)
    create_unix_server = _refuse("create_unix_server", _io)
    connect_read_pipe = _refuse("connect_read_pipe", _io)
    connect_write_pipe = _refuse("connect_write_pipe", _io)
    subprocess_exec = _refuse("subprocess_exec", "run subprocesses in an activity")
    subprocess_shell = _refuse("subprocess_shell", "run subprocesses in an activity")
    add_reader = _refuse("add_reader", _io)  # type: ignore[assignment]
    remove_reader = _refuse("remove_reader", _io)
    add_writer = _refuse("add_writer", _io)  # type: ignore[assignment]
    remove_writer = _refuse("remove_writer", _io)
    sock_recv = _refuse("sock_recv", _io)
    sock_sendall = _refuse("sock_sendall", _io)
    sock_connect = _refuse("sock_connect", _io)
    sock_accept = _refuse("sock_accept", _io)
    add_signal_handler = _refuse("add_signal_handler", "workflows do not receive OS signals")  # type: ignore[assignment]
    remove_signal_handler = _refuse("remove_signal_handler", "workflows do not receive OS signals")
    run_forever = _refuse("run_forever", "the worker runs the workflow loop")
    run_until_complete = _refuse("run_until_complete", "await the coroutine instead")
    shutdown_asyncgens = _refuse("shutdown_asyncgens", "the worker owns the workflow loop")
    shutdown_default_executor = _refuse("shutdown_default_executor", "the worker owns the workflow loop")
    set_default_executor = _refuse("set_default_executor", "run blocking work in an activity")
    del _refuse, _io
