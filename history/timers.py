"""The durable timer processor: fires due timer rows, in every server process.

Timer rows are the only clock: user timers, activity and workflow-task timeouts, retry back-off and
workflow timeouts. Each process reads the timers due within the next ``lookahead`` seconds and
schedules each on its event loop for its fire time, so a timer fires at its time with no query in
between; it reads again every ``lookahead / 2`` seconds (and at least every ``poll_interval``), and
at once when it writes a timer due within what it has read. A fired timer is claimed by deleting its
row in the same statement that acts on it, so it fires once however many processes schedule it; one
deleted or moved since it was read only goes away.
"""

from __future__ import annotations

import asyncio
import logging
from datetime import UTC, datetime, timedelta

from wf.history.errors import Unavailable
from wf.history.service import HistoryService
from wf.history.tasks import TimerRow

log = logging.getLogger(__name__)

_TimerKey = tuple[str, str, str, str, datetime]


def _key(t: TimerRow) -> _TimerKey:
    return (t.namespace, t.workflow_id, t.run_id, t.key, t.fire_at)


class TimerProcessor:
    def __init__(
        self,
        history: HistoryService,
        *,
        poll_interval: float = 1.0,
        lookahead: float = 1.0,
        batch: int = 500,
        concurrency: int = 32,
    ) -> None:
        self.history = history
        self.poll_interval = poll_interval
        self.lookahead = lookahead
        self.batch = batch
        self._concurrency = asyncio.Semaphore(concurrency)
        self._wake = asyncio.Event()
        # Timers read and not fired yet, by row (a timer set again is another row).
        self._scheduled: dict[_TimerKey, asyncio.TimerHandle | asyncio.Task[None]] = {}
        self._drained = asyncio.Event()
        # Every timer due up to this time that existed at the last read is in ``_scheduled``.
        self._read_to: datetime | None = None

    def wake(self, at: datetime) -> None:
        """A timer due at ``at`` was written: read again if the last read covered its time."""
        if self._read_to is None or at <= self._read_to:
            self._wake.set()

    def _schedule(self, t: TimerRow) -> None:
        key = _key(t)
        if key in self._scheduled:
            return
        delay = (t.fire_at - datetime.now(UTC)).total_seconds()
        loop = asyncio.get_running_loop()
        self._scheduled[key] = loop.call_later(max(0.0, delay), self._start_firing, t)

    def _start_firing(self, t: TimerRow) -> None:
        self._scheduled[_key(t)] = asyncio.create_task(self._fire(t), name="wf-timer")

    async def _fire(self, t: TimerRow) -> None:
        try:
            async with self._concurrency:
                # The loop's clock is monotonic, the fire time the wall clock's: it may wake a hair
                # before the due time, and a wall clock being slewed can still be behind after a sleep
                # of the difference, so look again until the wall clock says it is due.
                while (early := (t.fire_at - datetime.now(UTC)).total_seconds()) > 0:
                    await asyncio.sleep(early)
                await self.history.fire_timer(t)
        except Unavailable:
            pass  # reported by the store's outage log; the timer stays due and is read again
        except Exception:
            log.exception("timer %s failed; it stays due and is tried again", t)
        finally:
            # Gone from here whatever happened: a timer that failed is read (and fired) again.
            del self._scheduled[_key(t)]
            if len(self._scheduled) < self.batch // 2:
                self._drained.set()

    async def _read(self) -> float | None:
        """Schedule the timers due within the lookahead; returns seconds until the next read, or
        None to read once most of what is scheduled has fired."""
        now = datetime.now(UTC)
        horizon = now + timedelta(seconds=self.lookahead)
        self._wake.clear()
        rows = await self.history.store.due_timers(horizon, self.batch)
        for t in rows:
            self._schedule(t)
        if len(rows) < self.batch:
            self._read_to = horizon
            return min(self.poll_interval, self.lookahead / 2)
        # More are due within the lookahead than one read takes: read on from the last one, once
        # most of what is scheduled has fired (the rows read stay in the table until they fire).
        self._read_to = rows[-1].fire_at
        if len(self._scheduled) >= self.batch // 2:
            self._drained.clear()
            return None
        return 0.0

    async def run(self) -> None:
        try:
            while True:
                try:
                    delay = await self._read()
                except Unavailable:
                    # Reported by the store's outage log, once per kind per interval.
                    self._read_to = None
                    delay = self.poll_interval
                except Exception:
                    # Not the database's outage (the store translates those): a bug. Logged in full,
                    # and the loop goes on: a processor that ended would leave every timer of this
                    # server (retries, timeouts, user timers) unfired for good.
                    log.exception("reading the timers due failed; trying again")
                    self._read_to = None
                    delay = self.poll_interval
                if delay is None:
                    await self._drained.wait()
                    continue
                try:
                    await asyncio.wait_for(self._wake.wait(), delay)
                except TimeoutError:
                    pass
        finally:
            pending = list(self._scheduled.values())
            for h in pending:
                h.cancel()
            tasks = [h for h in pending if isinstance(h, asyncio.Task)]
            if tasks:
                await asyncio.gather(*tasks, return_exceptions=True)
