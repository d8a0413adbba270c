"""The determinism guard: calls that would make workflow code nondeterministic are refused while it
runs, each with the deterministic alternative.

No import sandbox: workflow code imports and computes freely. While a workflow activation runs on the
worker (on its event loop thread), a few functions are intercepted (wall-clock time, the ``random`` module,
``uuid.uuid4``, ``os.urandom``, ``time.sleep``, starting threads) and an audit hook refuses sockets,
subprocesses and file I/O. Only calls made directly by user code are refused: the standard library,
installed packages and the SDK may use them for their own purposes (``logging`` reads the clock).
"""

from __future__ import annotations

import functools
import os
import random
import sys
import sysconfig
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from worker_sdk.errors import DeterminismViolation

_state = threading.local()
_installed = False
_lock = threading.Lock()

_TRUSTED = tuple(
    os.path.realpath(p) + os.sep
    for p in {
        sysconfig.get_paths()["stdlib"],
        sysconfig.get_paths()["platstdlib"],
        sysconfig.get_paths()["purelib"],
        sysconfig.get_paths()["platlib"],
        os.path.dirname(os.path.abspath(__file__)),
    }
)


def _from_user_code(depth: int) -> bool:
    frame = sys._getframe(depth)
    filename = os.path.realpath(frame.f_code.co_filename)
    return not filename.startswith(_TRUSTED) and not filename.startswith("<frozen")


def _refuse(what: str, instead: str) -> None:
    raise DeterminismViolation(f"{what} is not allowed in workflow code: {instead}")


def _guard(fn: Callable[..., Any], what: str, instead: str) -> Callable[..., Any]:
    @functools.wraps(fn)
    def guarded(*args: Any, **kwargs: Any) -> Any:
        if getattr(_state, "active", False) and _from_user_code(2):
            _refuse(what, instead)
        return fn(*args, **kwargs)

    return guarded


_RANDOM = "use workflow.random(), which gives the same numbers on every replay"
_PATCHES: list[tuple[Any, str, str, str]] = [
    (time, "time", "time.time()", "use workflow.now()"),
    (time, "time_ns", "time.time_ns()", "use workflow.now()"),
    (time, "sleep", "time.sleep()", "use `await workflow.sleep(...)`: a durable timer"),
    (uuid, "uuid1", "uuid.uuid1()", "use workflow.uuid4()"),
    (uuid, "uuid4", "uuid.uuid4()", "use workflow.uuid4()"),
    (os, "urandom", "os.urandom()", "use workflow.random(), or an activity"),
    (threading.Thread, "start", "starting a thread", "use asyncio tasks, or an activity"),
] + [
    (random, name, f"random.{name}()", _RANDOM)
    for name in ("random", "randint", "randrange", "choice", "choices", "shuffle", "sample", "uniform", "getrandbits")
]

_AUDITED = {
    "socket.connect": ("network I/O", "do it in an activity"),
    "socket.bind": ("network I/O", "do it in an activity"),
    "socket.getaddrinfo": ("a DNS lookup", "do it in an activity"),
    "subprocess.Popen": ("starting a subprocess", "do it in an activity"),
    "os.system": ("os.system()", "do it in an activity"),
    "os.posix_spawn": ("starting a process", "do it in an activity"),
    "os.fork": ("os.fork()", "do it in an activity"),
    "open": ("file I/O", "read and write files in an activity"),
}
_IMPORT_SUFFIXES = (".py", ".pyc", ".so", ".pyd", ".pth")


def _audit(event: str, args: tuple[Any, ...]) -> None:
    if not getattr(_state, "active", False) or event not in _AUDITED:
        return
    if event == "open" and isinstance(args[0], str) and args[0].endswith(_IMPORT_SUFFIXES):
        return  # imports stay free
    # Walk out past the standard library and packages to whoever asked for the operation.
    frame = sys._getframe(1)
    while frame is not None and os.path.realpath(frame.f_code.co_filename).startswith(_TRUSTED):
        frame = frame.f_back  # type: ignore[assignment]
    if frame is None:
        return
    what, instead = _AUDITED[event]
    _refuse(what, instead)


def install() -> None:
    """Install the interceptions (once per process; idle outside workflow activations)."""
    global _installed
    with _lock:
        if _installed:
            return
        for owner, name, what, instead in _PATCHES:
            setattr(owner, name, _guard(getattr(owner, name), what, instead))
        sys.addaudithook(_audit)
        _installed = True


@contextmanager
def active() -> Iterator[None]:
    """Refuse nondeterministic calls from user code on this thread for the duration."""
    previous = getattr(_state, "active", False)
    _state.active = True
    try:
        yield
    finally:
        _state.active = previous
