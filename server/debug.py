"""A dump of a running server's in-memory state, for finding runs that stay stuck.

``wf server start`` logs it (at WARNING, one message) when the process gets SIGUSR1: the timer
processor (timers read and not fired, how far it has read), the matcher (every task queue's waiting
polls and backlog) and the notifier (its LISTEN connection, pending notifications, tasks). Everything a
server needs is in the database; what this shows is what the process believes, so a run that waits
forever although its rows are due shows here as a timer never read, a backlog never refilled, or a
dead notifier task. The dump walks the objects' attributes generically, so it stays true as they change.
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from typing import Any

_MAX_ITEMS = 50


def _summary(value: Any, depth: int) -> str:
    if isinstance(value, asyncio.Event):
        return f"Event(set={value.is_set()})"
    if isinstance(value, asyncio.Task):
        if not value.done():
            return f"Task({value.get_name()}, running)"
        if value.cancelled():
            return f"Task({value.get_name()}, cancelled)"
        return f"Task({value.get_name()}, ended: {value.exception()!r})"
    if isinstance(value, asyncio.TimerHandle):
        return f"TimerHandle(at={value.when():.3f}, cancelled={value.cancelled()})"
    if isinstance(value, asyncio.Future):
        return f"Future(done={value.done()})"
    if isinstance(value, Mapping):
        if depth <= 0:
            return f"{type(value).__name__}(len={len(value)})"
        items = list(value.items())
        shown = ", ".join(f"{k!r}: {_summary(v, depth - 1)}" for k, v in items[:_MAX_ITEMS])
        more = f", … {len(items) - _MAX_ITEMS} more" if len(items) > _MAX_ITEMS else ""
        return f"{{{shown}{more}}} (len={len(items)})"
    if isinstance(value, list | tuple | set | frozenset) or type(value).__name__ == "deque":
        seq = list(value)
        if depth <= 0 or not seq:
            return f"{type(value).__name__}(len={len(seq)})"
        shown = ", ".join(_summary(v, depth - 1) for v in seq[:_MAX_ITEMS])
        return f"[{shown}{', …' if len(seq) > _MAX_ITEMS else ''}] (len={len(seq)})"
    if isinstance(value, str | bytes | int | float | bool) or value is None:
        return repr(value)[:200]
    if hasattr(value, "__dict__") or hasattr(value, "__slots__"):
        if depth <= 0:
            return type(value).__name__
        return f"{type(value).__name__}({', '.join(f'{k}={_summary(v, depth - 1)}' for k, v in _fields(value))})"
    return repr(value)[:200]


def _fields(obj: Any) -> list[tuple[str, Any]]:
    names = list(getattr(obj, "__dict__", {}))
    for cls in type(obj).__mro__:
        names += [n for n in getattr(cls, "__slots__", ()) if n not in names]
    return [(n, getattr(obj, n)) for n in names if hasattr(obj, n) and not callable(getattr(obj, n))]


def describe_state(parts: Mapping[str, Any]) -> str:
    """One line per part, each attribute summarized (containers to a few levels)."""
    lines = []
    for name, part in parts.items():
        if part is None:
            lines.append(f"{name}: not running")
            continue
        if isinstance(part, list | tuple | Mapping):
            lines.append(f"{name}: {_summary(part, 3)}")
            continue
        lines.append(f"{name}:")
        lines.extend(f"  {k} = {_summary(v, 3)}" for k, v in _fields(part) if not k.startswith("__"))
    return "\n".join(lines)
