"""The determinism guard: calls that would make workflow code nondeterministic are refused while it
runs, each with the deterministic alternative.

No import sandbox: workflow code imports and computes freely. While a workflow activation runs on the
workflow thread, a few functions are intercepted (wall-clock time, the ``random`` module,
``uuid.uuid4``, ``os.urandom``, ``time.sleep``, starting threads) and an audit hook refuses sockets,
subprocesses and file I/O.

Whom the guard trusts: the standard library and the SDK, which use these calls for their own purposes
(``logging`` reads the clock), and the modules a worker passes through (``Worker(passthrough_modules=
[...])``, with their submodules). Every other module is workflow code, wherever it is installed: a
workflow deployed as a package in site-packages is guarded like one in the worker's own source tree.
A call is refused when the code that makes it directly is not trusted; an audited operation when the
first untrusted code on its way (out through trusted code) is.
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
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from types import FrameType
from typing import Any

from worker_sdk.errors import DeterminismViolation

__all__ = ["DeterminismViolation", "install", "active", "passing_through"]

_state = threading.local()
_installed = False
_lock = threading.Lock()

_SDK_DIR = os.path.dirname(os.path.abspath(__file__)) + os.sep
# Where the standard library lives: the interpreter's own, and a virtualenv's view of it. Third-party
# packages installed under one of these (site-packages, dist-packages) are not the standard library.
_STDLIB_DIRS = tuple(
    {
        os.path.realpath(p) + os.sep
        for p in (
            sysconfig.get_paths()["stdlib"],
            sysconfig.get_paths()["platstdlib"],
            os.path.dirname(os.path.abspath(os.__file__)),
        )
    }
)
_PACKAGE_DIRS = ("site-packages", "dist-packages")
# Code filename -> trusted, decided once per file (the answer never changes for a file).
_trusted_files: dict[str, bool] = {}


def _trusted_file(filename: str) -> bool:
    known = _trusted_files.get(filename)
    if known is None:
        known = _decide(filename)
        _trusted_files[filename] = known
    return known


def _decide(filename: str) -> bool:
    if filename.startswith("<frozen "):
        return True  # the import system and other modules frozen into the interpreter
    path = os.path.realpath(filename)
    if path.startswith(_SDK_DIR):
        return True
    for stdlib in _STDLIB_DIRS:
        if path.startswith(stdlib):
            first = path[len(stdlib) :].split(os.sep, 1)[0]
            return first not in _PACKAGE_DIRS
    return False


def _trusted(frame: FrameType) -> bool:
    if _trusted_file(frame.f_code.co_filename):
        return True
    passed: frozenset[str] = getattr(_state, "passthrough", frozenset())
    if not passed:
        return False
    module = frame.f_globals.get("__name__")
    if not isinstance(module, str):
        return False
    while True:
        if module in passed:
            return True
        module, dot, _ = module.rpartition(".")
        if not dot:
            return False


def _from_user_code(depth: int) -> bool:
    return not _trusted(sys._getframe(depth))


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
    # Walk out past trusted code to whoever asked for the operation.
    frame: FrameType | None = sys._getframe(1)
    while frame is not None and _trusted(frame):
        frame = frame.f_back
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


@contextmanager
def passing_through(modules: Iterable[str]) -> Iterator[None]:
    """Trust ``modules`` (and their submodules) on this thread for the duration, as the standard
    library is: their own calls to the clock, ``random``, files… are not refused."""
    previous: frozenset[str] = getattr(_state, "passthrough", frozenset())
    _state.passthrough = previous | frozenset(modules)
    try:
        yield
    finally:
        _state.passthrough = previous
