"""Matching: hands each task to exactly one long-polling worker.

A task row is written by history in the same transaction as the event that caused it. After commit,
history offers the task here: a poller already waiting in this process gets it at once (sync match).
Otherwise it stays in the backlog, which is the task table itself: this process keeps the rows it
knows of in a bounded in-memory buffer per queue (the ones it committed itself, and the ones it read),
and reads the table forward from where its last read ended, one poller at a time, only when the
buffer is empty and the table may hold more; other server processes learn of new rows through a
LISTEN/NOTIFY hint. Whoever takes a task claims its row in the transaction that records the start, so
a task is handed out once across all processes; a row that a crashed or cancelled poller took but
never started is still in the table.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections import deque
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import TypeVar

from google.protobuf.message import Message

from wf.history.errors import TaskGone
from wf.history.notify import Notifier
from wf.history.store import Store
from wf.history.tasks import Handoff, TaskKind, TaskRow
from wf.matching.pollers import PollerInfo, PollerLog

R = TypeVar("R")
log = logging.getLogger(__name__)
# How long a started task whose poller left waits for another poller here; after that, its start
# timeout hands it out again.
ORPHAN_TTL = 5.0
# Task rows a queue keeps in memory at most; past that, new ones are left to be read from the table.
BUFFER_MAX = 1000
# A queue no poller has asked for this long is forgotten (its rows stay in the table), so the queues
# of workers long gone (each worker has a sticky queue of its own) do not pile up in memory.
QUEUE_IDLE = 300.0
# How long a poll past its own timeout waits for the change that set it aside to commit.
RESERVED_WAIT = 30.0
# How far back "pollers seen recently" looks (task-queue describe, and the hint of a workflow's
# describe that no worker polls its task queue); a queue is forgotten after as long.
POLLERS_WITHIN = QUEUE_IDLE
QueueKey = tuple[str, str, TaskKind]


@dataclass(slots=True, eq=False)
class _Waiter:
    """One waiting poll. History may set it aside (``reserve``) for a task it starts in the change
    that creates it; it then gets that task's response (``deliver``) instead of a task row."""

    fut: asyncio.Future[TaskRow | Message | None]
    identity: str
    queue: _Queue
    matcher: Matcher
    reserved: bool = False

    def deliver(self, response: Message) -> None:
        if not self.fut.done():
            self.fut.set_result(response)
        else:  # the poller left while the change committed: another takes the started task
            self.matcher._pass_on(self.queue, response)

    def fail(self, exc: BaseException) -> None:
        log.warning("a task started for a waiting poller could not be handed over; it will time out: %r", exc)
        if not self.fut.done():
            self.fut.set_result(None)

    def release(self) -> None:
        self.reserved = False
        if not self.fut.done():
            self.fut.set_result(None)  # back to polling


@dataclass(slots=True)
class _Queue:
    waiters: deque[_Waiter] = field(default_factory=deque)
    # Started tasks whose poller left before they could be handed over, with when they were started.
    orphans: deque[tuple[float, Message]] = field(default_factory=deque)
    # Bumped by every offer or hint, so a poller can tell whether something came while it looked.
    generation: int = 0
    pollers: dict[str, float] = field(default_factory=dict)
    # Backlog rows known here and not handed out yet, oldest first.
    buffer: deque[TaskRow] = field(default_factory=deque)
    # Ids of the rows in ``buffer`` or being claimed by a local poller: a read of the table skips them.
    held: set[int] = field(default_factory=set)
    # Whether the task table may hold rows for this queue that are not in ``buffer``. Pollers read the
    # table only then (or every ``rescan_interval`` at least), so a queue served by sync match or by
    # its own commits costs no query per poll.
    maybe_backlog: bool = True
    # Where the next read of the table starts (0: from the beginning), and the read in progress.
    read_after: int = 0
    reading: asyncio.Future[None] | None = None
    last_scan: float = 0.0
    last_poll: float = field(default_factory=time.monotonic)

    def hold(self, task: TaskRow) -> bool:
        """Keep ``task`` for a later poller (known already: nothing to do); False when the buffer is
        full."""
        if task.id in self.held:
            return True
        if len(self.buffer) >= BUFFER_MAX:
            return False
        self.buffer.append(task)
        self.held.add(task.id)
        return True


def _next_waiter(q: _Queue) -> _Waiter | None:
    """Take the longest-waiting poll of ``q`` that is still there, if any."""
    while q.waiters:
        waiter = q.waiters.popleft()
        if not waiter.fut.done():
            return waiter
    return None


def _hand_to_waiter(q: _Queue, item: TaskRow | Message | None) -> bool:
    """Wake the longest-waiting poll of ``q`` with ``item``; False if no poll waits."""
    q.generation += 1
    waiter = _next_waiter(q)
    if waiter is None:
        return False
    waiter.fut.set_result(item)
    return True


class Matcher:
    """Long-poll dispatch over the task table for every task queue this process serves."""

    def __init__(
        self, store: Store, notifier: Notifier, *, backlog_batch: int = 16, rescan_interval: float = 5.0
    ) -> None:
        self.store = store
        self.notifier = notifier
        self.backlog_batch = backlog_batch
        self.rescan_interval = rescan_interval
        self._queues: dict[QueueKey, _Queue] = {}
        self._last_sweep = time.monotonic()
        # Set when the server stops: polls answer empty, so workers poll a server that goes on.
        self._closing = False
        # The polls seen here, written to the database for the other servers (``wf.matching.pollers``).
        self.poller_log = PollerLog(store)
        notifier.subscribe("t", self._on_hint)

    def _queue(self, key: QueueKey) -> _Queue:
        q = self._queues.get(key)
        if q is None:
            q = self._queues[key] = _Queue()
        return q

    # -- from history, after commit ---------------------------------------------------------------

    def offer(self, tasks: list[TaskRow]) -> None:
        """New task rows were committed: give each to a waiting poller, else tell other processes."""
        for task in tasks:
            # Workflow pollers take query tasks too.
            kind = TaskKind.WORKFLOW if task.kind == TaskKind.QUERY else task.kind
            key = (task.namespace, task.task_queue, kind)
            q = self._queue(key)
            if not _hand_to_waiter(q, task):
                if not q.hold(task):
                    q.maybe_backlog = True
                self.notifier.publish("t", "\x1f".join((task.namespace, str(int(kind)), task.task_queue)))

    def _on_hint(self, body: str) -> None:
        if not body:  # the listener reconnected: wake everyone to look at the table
            for q in self._queues.values():
                self._wake_all(q)
            return
        namespace, kind, name = body.split("\x1f", 2)
        queue = self._queues.get((namespace, name, TaskKind(int(kind))))
        if queue is not None:
            self._wake_all(queue)

    @staticmethod
    def _wake_all(q: _Queue) -> None:
        q.maybe_backlog = True
        while _hand_to_waiter(q, None):
            pass

    def reserve(self, task: TaskRow) -> Handoff | None:
        """Set aside a poller waiting here for ``task``'s queue, for history to start the task in the
        change that creates it (``wf.history.shortcuts``, shortcut (a)); None when no poller waits."""
        q = self._queues.get((task.namespace, task.task_queue, task.kind))
        waiter = _next_waiter(q) if q is not None and not self._closing else None
        if waiter is not None:
            waiter.reserved = True
        return waiter

    def _pass_on(self, q: _Queue, item: TaskRow | Message) -> None:
        """Give what a departed poller was handed to another poller (or keep it for the next): a task
        started for it in the commit that created it waits ``ORPHAN_TTL`` among the queue's orphans."""
        if isinstance(item, TaskRow):
            self.offer([item])
            return
        if not _hand_to_waiter(q, item):
            q.orphans.append((time.monotonic(), item))

    # -- from pollers -----------------------------------------------------------------------------

    async def poll(
        self,
        namespace: str,
        task_queue: str,
        kind: TaskKind,
        identity: str,
        timeout: float,
        start: Callable[[TaskRow], Awaitable[R]],
    ) -> R | None:
        """Wait up to ``timeout`` seconds for a task and claim it with ``start``; None if none came.

        ``start`` records the task as started (claiming its row) and raises TaskGone when the task was
        taken elsewhere or is no longer wanted; the poll then goes on.
        """
        key = (namespace, task_queue, kind)
        q = self._queue(key)
        q.pollers[identity] = now = time.time()
        self.poller_log.saw(namespace, task_queue, kind, identity, now)
        q.last_poll = time.monotonic()
        if q.last_poll - self._last_sweep > QUEUE_IDLE / 10:
            self._sweep(q.last_poll)
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while True:
            if self._closing:
                return None
            while q.orphans:
                started_at, response = q.orphans.popleft()
                if time.monotonic() - started_at < ORPHAN_TTL:
                    return response  # type: ignore[return-value]
            generation = q.generation
            result = await self._from_backlog(q, key, start)
            if result is not None:
                return result
            remaining = deadline - loop.time()
            if remaining <= 0:
                return None
            if q.generation != generation:
                continue  # something arrived while we looked
            fut: asyncio.Future[TaskRow | Message | None] = loop.create_future()
            waiter = _Waiter(fut, identity, q, self)
            q.waiters.append(waiter)
            try:
                await asyncio.wait((fut,), timeout=remaining)
                if not fut.done():
                    if not waiter.reserved:
                        return None
                    # A change is starting a task for this poll right now: its answer comes at commit
                    # (bounded, in case that commit hangs: the task then times out and is retried).
                    await asyncio.wait((fut,), timeout=RESERVED_WAIT)
                    if not fut.done():
                        return None
                got = fut.result()
            except asyncio.CancelledError:
                # The poller went away just as a task was handed to it: pass the task on. A task
                # being started for it goes on to another poller when its change commits.
                if fut.done() and not fut.cancelled() and (handed := fut.result()) is not None:
                    self._pass_on(q, handed)
                raise
            finally:
                if not fut.done():
                    fut.cancel()
                try:
                    q.waiters.remove(waiter)
                except ValueError:
                    pass
            if got is None:
                continue
            if not isinstance(got, TaskRow):
                return got  # type: ignore[return-value]  # started in the change that created it
            try:
                return await self._start(q, got, start)
            except TaskGone:
                continue

    async def _start(self, q: _Queue, task: TaskRow, start: Callable[[TaskRow], Awaitable[R]]) -> R:
        q.held.add(task.id)
        try:
            return await start(task)
        except TaskGone:
            raise
        except BaseException:
            # Its row may still be in the table: the next read finds it again, and a poller waiting
            # here looks now.
            q.maybe_backlog = True
            _hand_to_waiter(q, None)
            raise
        finally:
            q.held.discard(task.id)

    async def _from_backlog(
        self, q: _Queue, key: QueueKey, start: Callable[[TaskRow], Awaitable[R]]
    ) -> R | None:
        while True:
            if q.buffer:
                task = q.buffer.popleft()
                if q.buffer:
                    _hand_to_waiter(q, None)  # more are here: let another local poller take one too
                try:
                    return await self._start(q, task, start)
                except TaskGone:
                    continue
            if not await self._read_backlog(q, key):
                return None

    async def _read_backlog(self, q: _Queue, key: QueueKey) -> bool:
        """Read the next rows of the queue's table into its buffer (one reader at a time); False when
        there is nothing more to read now."""
        if q.reading is not None:
            await asyncio.shield(q.reading)  # another poller is reading: take what it found
            return bool(q.buffer)
        now = time.monotonic()
        if q.read_after == 0 and not q.maybe_backlog and now - q.last_scan < self.rescan_interval:
            return False
        q.reading = asyncio.get_running_loop().create_future()
        try:
            generation = q.generation
            if q.read_after == 0:
                q.last_scan = now
            rows = await self.store.backlog(*key, after_id=q.read_after, limit=self.backlog_batch)
            for i, task in enumerate(rows):
                if not q.hold(task):
                    # The buffer is full: the next read goes on from the last row kept.
                    q.read_after = rows[i - 1].id if i > 0 else q.read_after
                    q.maybe_backlog = True
                    return True
            if len(rows) < self.backlog_batch:
                # The end of the table. Rows committed meanwhile with smaller ids (a transaction that
                # took its id earlier) are found when the next read starts over from the beginning.
                full_circle = q.read_after == 0
                q.read_after = 0
                if full_circle and q.generation == generation:
                    q.maybe_backlog = False
                return bool(q.buffer) or not full_circle
            q.read_after = rows[-1].id
            return True
        finally:
            q.reading.set_result(None)
            q.reading = None

    def _sweep(self, now: float) -> None:
        """Forget the queues no poller has asked for in ``QUEUE_IDLE`` seconds, and the pollers gone as long."""
        self._last_sweep = now
        stale = time.time() - POLLERS_WITHIN
        for key, q in list(self._queues.items()):
            if now - q.last_poll > QUEUE_IDLE and q.reading is None and all(w.fut.done() for w in q.waiters):
                del self._queues[key]
            else:  # workers that stopped polling (each restart is a new identity) are forgotten too
                for identity in [i for i, t in q.pollers.items() if t < stale]:
                    del q.pollers[identity]

    def close(self) -> None:
        """The server stops: every poll waiting here answers empty now, and every new one at once.

        A poll set aside for a task being started in a change that is committing still gets it.
        """
        self._closing = True
        for q in self._queues.values():
            for waiter in q.waiters:
                if not waiter.reserved and not waiter.fut.done():
                    waiter.fut.set_result(None)

    # -- introspection ----------------------------------------------------------------------------

    def waiting(self, namespace: str, task_queue: str, kind: TaskKind) -> int:
        """Polls waiting here for a task of this queue right now."""
        q = self._queues.get((namespace, task_queue, kind))
        return sum(1 for w in q.waiters if not w.fut.done()) if q is not None else 0

    def pollers(
        self, namespace: str, task_queue: str, kind: TaskKind, within: float = POLLERS_WITHIN
    ) -> list[PollerInfo]:
        """The workers that polled this queue for ``kind`` tasks here in the last ``within`` seconds,
        the latest first: the polls this server served (``pollers_anywhere`` adds the other servers')."""
        q = self._queues.get((namespace, task_queue, kind))
        if q is None:
            return []
        cutoff = time.time() - within
        seen = [PollerInfo(i, t) for i, t in q.pollers.items() if t >= cutoff]
        return sorted(seen, key=lambda p: p.last_seen, reverse=True)

    def last_poll(
        self, namespace: str, task_queue: str, kind: TaskKind, within: float = POLLERS_WITHIN
    ) -> float | None:
        """When a worker last polled this queue for ``kind`` tasks here (epoch seconds), or None when
        none did in the last ``within`` seconds: then nothing takes its tasks until one comes."""
        seen = self.pollers(namespace, task_queue, kind, within)
        return seen[0].last_seen if seen else None

    async def pollers_anywhere(
        self, namespace: str, task_queue: str, kind: TaskKind, within: float = POLLERS_WITHIN
    ) -> list[PollerInfo]:
        """The workers that polled this queue for ``kind`` tasks on any server of the database in the
        last ``within`` seconds, the latest first: the table's rows merged with this server's polls
        not written yet (another server's show within ``wf.matching.pollers.WRITE_INTERVAL``)."""
        local = self.pollers(namespace, task_queue, kind, within)
        return await self.poller_log.merged(namespace, task_queue, kind, local, within)

    async def last_poll_anywhere(
        self, namespace: str, task_queue: str, kind: TaskKind, within: float = POLLERS_WITHIN
    ) -> float | None:
        """When a worker last polled this queue for ``kind`` tasks on any server (epoch seconds), or
        None when none did in the last ``within`` seconds."""
        seen = await self.pollers_anywhere(namespace, task_queue, kind, within)
        return seen[0].last_seen if seen else None
