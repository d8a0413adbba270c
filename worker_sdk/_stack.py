"""Where a workflow's coroutines wait: the answer to the built-in ``__stack_trace`` query.

Each task on the workflow's loop (its main coroutine, signal and update handlers, and whatever the
code made with ``asyncio.create_task``) is walked from its coroutine down the chain of awaited
coroutines (``cr_await``) to where it is suspended; the frames of workflow code are kept, those of
the SDK and of asyncio left out, so a person reads file:line of their own code.
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import Iterable
from types import FrameType
from typing import Any

_SDK_DIR = os.path.dirname(os.path.abspath(__file__))
_ASYNCIO_DIR = os.path.dirname(os.path.abspath(asyncio.__file__))


def _is_workflow_code(frame: FrameType) -> bool:
    path = os.path.abspath(frame.f_code.co_filename)
    return not (path.startswith(_SDK_DIR + os.sep) or path.startswith(_ASYNCIO_DIR + os.sep))


def _frames(coro: Any) -> list[FrameType]:
    """The frames of a suspended coroutine chain, outermost first."""
    frames: list[FrameType] = []
    seen = 0
    while coro is not None and seen < 1000:
        seen += 1
        frame = getattr(coro, "cr_frame", None) or getattr(coro, "gi_frame", None)
        if frame is not None:
            frames.append(frame)
        coro = getattr(coro, "cr_await", None) or getattr(coro, "gi_yieldfrom", None)
    return frames


def stack_trace(tasks: Iterable[asyncio.Task[Any]]) -> str:
    """One block per pending task: its name, then ``file:line in function`` for each frame of
    workflow code where it waits, innermost last."""
    blocks: list[str] = []
    for task in sorted(tasks, key=lambda t: t.get_name()):
        if task.done():
            continue
        lines = [f"{task.get_name()}:"]
        for frame in _frames(task.get_coro()):
            if _is_workflow_code(frame):
                lines.append(f"    {frame.f_code.co_filename}:{frame.f_lineno} in {frame.f_code.co_name}")
        if len(lines) == 1:
            lines.append("    (not in workflow code)")
        blocks.append("\n".join(lines))
    return "\n\n".join(blocks)


__all__ = ["stack_trace"]
