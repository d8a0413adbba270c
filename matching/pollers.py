"""Pollers seen by every server of the database: each server's record of who polls, shared cheaply.

A server records each poll in memory (``Matcher.poll``); a worker polling another server of the same
database would be invisible here. So each server writes what it saw since its last write to the
``pollers`` table in one batched upsert every ``WRITE_INTERVAL`` seconds (only the pollers whose time
moved; never a write per poll), and reads merge the table's rows with this server's memory, the newest
time per identity winning. A worker polling server A thus shows on server B within the interval.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

from wf.history.errors import Unavailable
from wf.history.store import Store
from wf.history.tasks import TaskKind

log = logging.getLogger(__name__)
# How often a server writes the polls it saw: the most another server lags in seeing a poller.
WRITE_INTERVAL = 5.0
# Rows not refreshed for this long are deleted (each worker restart is a new identity).
FORGET_AFTER = 3600.0
# How often the deletion runs.
FORGET_EVERY = 600.0

# The most of an identity the table keeps, in UTF-8 bytes: the row's key (namespace and task queue,
# up to 1,000 bytes each, kind and identity) must fit in an index entry, which PostgreSQL caps at about
# 2,700 bytes, and an identity is whatever the worker sent.
STORED_IDENTITY_BYTES = 255

PollerKey = tuple[str, str, TaskKind, str]  # namespace, task queue, kind, identity


def stored_identity(identity: str) -> str:
    """``identity`` as the table keeps it: at most ``STORED_IDENTITY_BYTES`` of UTF-8, cut between
    characters."""
    data = identity.encode()
    if len(data) <= STORED_IDENTITY_BYTES:
        return identity
    return data[:STORED_IDENTITY_BYTES].decode(errors="ignore")


@dataclass(slots=True)
class PollerInfo:
    """A worker seen polling a queue: its identity and when it last asked (epoch seconds)."""

    identity: str
    last_seen: float


class PollerLog:
    """The polls this server saw and has not written yet, and the reads that merge in other servers'."""

    def __init__(self, store: Store) -> None:
        self._store = store
        self._unwritten: dict[PollerKey, float] = {}
        self._last_forget = -FORGET_EVERY

    def saw(self, namespace: str, task_queue: str, kind: TaskKind, identity: str, at: float) -> None:
        """Note a poll, for the next write (a dictionary store: a poll costs no statement)."""
        self._unwritten[(namespace, task_queue, kind, stored_identity(identity))] = at

    async def flush(self) -> None:
        """Write the polls seen since the last write in one statement, and now and then delete the rows
        nobody refreshed in ``FORGET_AFTER``. A write the database could not serve keeps its polls for the
        next one; one it refused drops them (kept, they would be refused again at every write)."""
        batch, self._unwritten = self._unwritten, {}
        if batch:
            try:
                await self._store.record_pollers(
                    [(*key, datetime.fromtimestamp(at, UTC)) for key, at in batch.items()]
                )
            except (Unavailable, asyncio.CancelledError):
                for key, at in batch.items():  # newer polls noted meanwhile win
                    if self._unwritten.get(key, 0.0) < at:
                        self._unwritten[key] = at
                raise
        now = time.monotonic()
        if now - self._last_forget >= FORGET_EVERY:
            self._last_forget = now
            await self._store.forget_pollers(datetime.fromtimestamp(time.time() - FORGET_AFTER, UTC))

    async def run(self, interval: float = WRITE_INTERVAL) -> None:
        """Write every ``interval`` seconds until cancelled. A database that cannot serve is logged by
        the store's outage log and the polls wait for the next round; nothing ends the loop."""
        while True:
            await asyncio.sleep(interval)
            try:
                await self.flush()
            except Unavailable:
                pass  # DatabaseHealth logged it; the next round writes these polls
            except Exception:
                log.exception("writing the pollers seen failed; the polls of this round are dropped")

    async def merged(
        self, namespace: str, task_queue: str, kind: TaskKind, local: Sequence[PollerInfo], within: float
    ) -> list[PollerInfo]:
        """``local`` (this server's pollers of the queue) with those every server wrote in the last
        ``within`` seconds, one per identity at its newest time, the latest first."""
        since = datetime.fromtimestamp(time.time() - within, UTC)
        newest: dict[str, float] = {}
        for p in local:  # named as the table names them, so one worker is one entry
            key = stored_identity(p.identity)
            newest[key] = max(newest.get(key, 0.0), p.last_seen)
        for identity, at in await self._store.pollers(namespace, task_queue, kind, since):
            seen = at.timestamp()
            if newest.get(identity, 0.0) < seen:
                newest[identity] = seen
        return sorted((PollerInfo(i, t) for i, t in newest.items()), key=lambda p: p.last_seen, reverse=True)
