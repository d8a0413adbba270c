"""The durable timer processor: fires due timer rows, in every server process.

Timer rows are the only clock: user timers, activity and workflow-task timeouts, retry back-off and
workflow timeouts. Each process sleeps until the earliest fire time it knows of (timers it wrote itself
wake it at once) and looks at the table at least every ``poll_interval`` for timers others wrote. A
fired timer is claimed by deleting its row in the same statement that acts on it, so it fires once
however many processes see it.
"""

from __future__ import annotations

import asyncio
import logging
from datetime import UTC, datetime, timedelta

import asyncpg

from history.service import HistoryService

log = logging.getLogger(__name__)


class TimerProcessor:
    def __init__(
        self, history: HistoryService, *, poll_interval: float = 1.0, batch: int = 500, concurrency: int = 32
    ) -> None:
        self.history = history
        self.poll_interval = poll_interval
        self.batch = batch
        self._concurrency = asyncio.Semaphore(concurrency)
        self._wake = asyncio.Event()
        self._next_at: datetime | None = None

    def wake(self, at: datetime) -> None:
        """A timer due at ``at`` was written: make sure to look by then."""
        if self._next_at is None or at < self._next_at:
            self._wake.set()

    async def _fire(self, timer: object) -> None:
        async with self._concurrency:
            try:
                await self.history.fire_timer(timer)  # type: ignore[arg-type]
            except Exception:
                log.exception("timer %s failed; it stays due and is tried again", timer)

    async def run(self) -> None:
        store = self.history.store
        while True:
            try:
                now = datetime.now(UTC)
                due = await store.due_timers(now, self.batch)
                if due:
                    await asyncio.gather(*(self._fire(t) for t in due))
                    if len(due) == self.batch:
                        continue
                next_at = await store.next_fire_at()
            except (OSError, asyncpg.PostgresError, asyncpg.InterfaceError) as exc:
                log.warning("timer processor cannot reach the database: %s", exc)
                next_at = None
            now = datetime.now(UTC)
            limit = now + timedelta(seconds=self.poll_interval)
            self._next_at = min(next_at, limit) if next_at is not None else limit
            self._wake.clear()
            delay = max(0.0, (self._next_at - now).total_seconds())
            try:
                await asyncio.wait_for(self._wake.wait(), delay)
            except TimeoutError:
                pass
