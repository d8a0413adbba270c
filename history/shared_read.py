"""A cache read from the database that callers asking at the same time share, and that a
notification refreshes in the background: the pattern of the task-token keys and the namespaces.

Each server keeps a few small tables in memory (``wf.history.tokens``, ``wf.history.namespaces``)
and reads them again when another server announces a change, when its listener reconnects, and when
a caller meets something it does not know. Reads asked for while one runs share the next one that
begins after they asked, so a burst of callers costs one or two reads, never one each.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable

log = logging.getLogger(__name__)


class SharedRead:
    """Runs ``read`` for every caller of :meth:`__call__`, shared among those that ask together."""

    def __init__(self, read: Callable[[], Awaitable[None]], what: str) -> None:
        """``what`` names what is read, for the warning when a background read fails."""
        self._read = read
        self._what = what
        self._lock = asyncio.Lock()
        self._read_at = float("-inf")  # when the last completed read began (time.monotonic())
        self._background: set[asyncio.Task[None]] = set()

    async def __call__(self) -> None:
        """Read, unless a read that began after this call was made has completed meanwhile."""
        asked = time.monotonic()
        async with self._lock:
            if self._read_at >= asked:
                return
            began = time.monotonic()
            await self._read()
            self._read_at = began

    def on_notification(self, body: str) -> None:
        """A notifier's handler: read again in the background (``body`` is not looked at)."""
        task = asyncio.get_running_loop().create_task(self._in_background(), name=f"wf-read {self._what}")
        self._background.add(task)
        task.add_done_callback(self._background.discard)

    async def _in_background(self) -> None:
        try:
            await self()
        except Exception as exc:  # the database may be down: the next caller that needs it reads again
            log.warning("could not read %s: %s", self._what, exc)

    def close(self) -> None:
        for task in self._background:
            task.cancel()


__all__ = ["SharedRead"]
