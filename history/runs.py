"""The one path of a change of a run: load → apply → commit, shared by every operation.

:class:`Runs` loads a run (from its record cache, or the database), applies an operation (a plain
function of an :class:`~wf.history.execution.Execution`) and commits what it changed as one statement
guarded by the run's version. A version conflict (another server changed the run) reloads and applies
the operation again. Operations on one run that queue up while a change commits are applied together
and committed as one (group commit). After a commit it tells matching of new task rows, the timer
processor of new timers, and wakes whoever waits for the run to change; the tasks the change started
for waiting pollers (``wf.history.shortcuts``, shortcut (a)) are handed over.
"""

from __future__ import annotations

import asyncio
import dataclasses
import logging
from collections import OrderedDict
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any, Generic, TypeVar

from wf.history import shortcuts
from wf.history.errors import ConcurrentUpdate, HistoryError, NotFound, TaskGone, Unavailable
from wf.history.execution import Execution
from wf.history.limits import Limits
from wf.history.notify import Notifier
from wf.history.store import ExecutionRecord, Mutation, Store, WriteRejected
from wf.history.tasks import TaskRow
from wf.history.tokens import TaskTokens
from wf.v1 import history_pb2

T = TypeVar("T")
log = logging.getLogger(__name__)
H = history_pb2
RunKey = tuple[str, str, str]

IN_DOUBT_WAIT = 10.0
"""How long a change whose commit the database's crash cut off waits for the database to come back
and say whether it was made, before its callers are answered UNAVAILABLE."""

MAX_QUERIED_RUNS = 10_000
"""Most runs a server keeps announcing changes of for queries that wait (the oldest notes go first;
a query whose note went looks again on its own)."""


@dataclasses.dataclass(slots=True, eq=False)
class _Op(Generic[T]):
    """One change waiting to be applied to a run, and its caller's future."""

    fn: Callable[[Execution], T]
    fut: asyncio.Future[T]


def _fail(item: _Op[Any], exc: BaseException) -> None:
    if not item.fut.done():
        item.fut.set_exception(exc)


def _resolve(items: list[_Op[Any]], results: list[Any]) -> None:
    for item, result in zip(items, results, strict=True):
        if not item.fut.done():
            item.fut.set_result(result)


def now() -> datetime:
    return datetime.now(UTC)


@dataclasses.dataclass(slots=True)
class _Tail:
    """The last events of a run, serialized, as this process wrote them: ``first`` is the first one's id."""

    first: int
    events: list[bytes]
    size: int


class _RecordCache:
    """Recently written execution records, so the next change of a run needs no read, with the
    latest events of each so a task's history needs none either."""

    def __init__(self, size: int, tail_events: int = 256, tail_bytes: int = 256 * 1024) -> None:
        self._size = size
        self._tail_events = tail_events
        self._tail_bytes = tail_bytes
        self._items: OrderedDict[tuple[str, str, str], ExecutionRecord] = OrderedDict()
        self._tails: dict[tuple[str, str, str], _Tail] = {}

    def get(self, key: tuple[str, str, str]) -> ExecutionRecord | None:
        record = self._items.get(key)
        if record is not None:
            self._items.move_to_end(key)
        return record

    def put(
        self, key: tuple[str, str, str], record: ExecutionRecord, events: list[tuple[int, int, bytes]] | None = None
    ) -> None:
        """Cache ``record``; ``events`` are the ones the write that made it appended."""
        self._items[key] = record
        self._items.move_to_end(key)
        while len(self._items) > self._size:
            old, _ = self._items.popitem(last=False)
            self._tails.pop(old, None)
        tail = self._tails.get(key)
        if events:
            first = events[0][0]
            if tail is None or tail.first + len(tail.events) != first:
                if first != 1:  # what came before these events is not held here
                    self._tails.pop(key, None)
                    return
                tail = self._tails[key] = _Tail(1, [], 0)
            for _, _, data in events:
                tail.events.append(data)
                tail.size += len(data)
            if len(tail.events) > self._tail_events or tail.size > self._tail_bytes:
                cut = len(tail.events) // 2
                tail.size -= sum(len(d) for d in tail.events[:cut])
                del tail.events[:cut]
                tail.first += cut
        if tail is not None and tail.first + len(tail.events) != record.next_event_id:
            del self._tails[key]  # the run moved on elsewhere: what is here has a gap

    def events(self, key: tuple[str, str, str], first: int, last: int) -> list[bytes] | None:
        """Events ``first`` to ``last`` (inclusive) if all are held here."""
        tail = self._tails.get(key)
        if tail is None or first < tail.first or last >= tail.first + len(tail.events):
            return None
        return tail.events[first - tail.first : last - tail.first + 1]

    def drop(self, key: tuple[str, str, str]) -> None:
        self._items.pop(key, None)
        self._tails.pop(key, None)


class Runs:
    """The load → apply → commit helper, the record cache, and waiting for a run to change."""

    def __init__(
        self,
        store: Store,
        notifier: Notifier,
        limits: Limits,
        tokens: TaskTokens,
        *,
        cache_size: int = 10_000,
        on_tasks: Callable[[list[TaskRow]], None] = lambda tasks: None,
        on_timer: Callable[[datetime], None] = lambda at: None,
        reserve: shortcuts.Reserve = lambda task: None,
    ) -> None:
        self.store = store
        self.notifier = notifier
        self.limits = limits
        # Signs the task tokens of the tasks a change starts (and verifies what workers send back).
        self.tokens = tokens
        self.on_tasks = on_tasks
        self.on_timer = on_timer
        # Matching's waiting pollers: a task a change creates may be started in that change.
        self.reserve = reserve
        self.cache = _RecordCache(cache_size)
        # Changes waiting to be applied, and the task applying them, per run.
        self._queued: dict[RunKey, list[_Op[Any]]] = {}
        self._draining: dict[RunKey, asyncio.Task[None]] = {}
        self._watchers: dict[RunKey, asyncio.Event] = {}
        self._close_watchers: dict[RunKey, asyncio.Event] = {}  # waits for the close alone
        # Set when the server stops: history long polls answer at once, so callers ask another server.
        self.stopping = False
        # Runs a query waits on somewhere (this server or another) for their workflow task, until
        # when (loop time): a change of one is announced ("qr"), so that query looks again.
        self._queried: OrderedDict[RunKey, float] = OrderedDict()
        notifier.subscribe("c", self._on_closed_elsewhere)

    # -- load → apply → commit ---------------------------------------------------------------------

    async def load(self, key: RunKey) -> ExecutionRecord:
        """The run's record, from this process's cache when it has it."""
        record = self.cache.get(key)
        if record is None:
            record = await self.store.load(*key)
            if record is None:
                raise NotFound(f"workflow {key[1]!r} run {key[2]} not found in namespace {key[0]!r}")
            self.cache.put(key, record)
        return record

    async def update(self, key: RunKey, op: Callable[[Execution], T]) -> T:
        """Apply ``op`` to the run and commit what it changed; returns what ``op`` returned.

        Changes of one run are applied in this process one after another, by one task per run. The
        changes that queue up while one commits are applied together and committed as one (group
        commit), each as if alone: a change refused is refused on committed state (the changes
        before it in its group are committed first), and the others go on.
        """
        loop = asyncio.get_running_loop()
        item: _Op[T] = _Op(op, loop.create_future())
        self._queued.setdefault(key, []).append(item)
        if key not in self._draining:
            self._draining[key] = loop.create_task(self._drain(key), name=f"wf-commit {key[1]}")
        return await item.fut

    async def create(self, ex: Execution) -> None:
        """Write a new run (raises WriteRejected when its id or request id is taken meanwhile)."""
        direct = self._start_in_commit(ex)
        try:
            mutation = ex.mutation()
            task_ids = await self.store.write(mutation)
        except BaseException:
            shortcuts.release(direct)
            raise
        await self._committed(ex, mutation, task_ids, direct)

    async def _drain(self, key: RunKey) -> None:
        try:
            while items := self._queued.pop(key, None):
                try:
                    await self._commit_group(key, items)
                except Exception as exc:
                    if not isinstance(exc, Unavailable):  # that one the store's outage log reported
                        log.exception("committing changes of workflow %r run %s failed", key[1], key[2])
                    for item in items:
                        _fail(item, exc)
        finally:
            del self._draining[key]
            for item in self._queued.pop(key, []):  # only when cancelled: the server is stopping
                _fail(item, ConcurrentUpdate("the server is stopping; try again"))

    async def _commit_group(self, key: RunKey, items: list[_Op[Any]]) -> None:
        items = [i for i in items if not i.fut.done()]  # a caller that went away: its change is not made
        for _ in range(20):
            if not items:
                return
            cached = self.cache.get(key) is not None
            try:
                record = await self.load(key)
            except Exception as exc:
                for item in items:
                    _fail(item, exc)
                return
            ex = Execution(dataclasses.replace(record), now(), self.limits)
            results: list[Any] = []
            failed: tuple[int, Exception] | None = None
            for i, item in enumerate(items):
                try:
                    results.append(item.fn(ex))
                except Exception as exc:
                    failed = (i, exc)
                    break
            if failed is not None:
                i, error = failed
                if cached and isinstance(error, (HistoryError, TaskGone)):
                    # The cached copy may be behind a change another server made (a task scheduled
                    # or started there): refuse only on what the database holds.
                    self.cache.drop(key)
                    continue
                if i > 0:
                    # Judged on changes not yet durable: commit those first, then look again on what
                    # they committed, so every change is refused or made on committed state, as if alone.
                    await self._commit_group(key, items[:i])
                    await self._commit_group(key, items[i:])
                    return
                _fail(items.pop(0), error)
                continue  # the others again
            if not ex.changed:
                _resolve(items, results)
                return
            if len(items) > 1 and ex.resets_a_claimed_timer():
                # One change consumes a timer another sets anew: commit them one at a time.
                await self._one_at_a_time(key, items)
                return
            direct = self._start_in_commit(ex)
            try:
                mutation = ex.mutation()
                task_ids = await self.store.write(mutation)
            except ConcurrentUpdate:
                shortcuts.release(direct)
                self.cache.drop(key)
                continue
            except WriteRejected as exc:
                shortcuts.release(direct)
                if len(items) > 1:  # some change's task or timer is gone: find whose, one at a time
                    await self._one_at_a_time(key, items)
                else:
                    _fail(items[0], TaskGone(str(exc)))
                return
            except Unavailable as exc:
                landed = await self._landed(key, mutation, items) if exc.in_doubt else None
                if landed:
                    # Made after all: answer as after any commit. The ids of its task rows are
                    # unknown, so matching finds those in its next read of the backlog.
                    _resolve(items, results)
                    await self._committed(ex, mutation, None, direct)
                    return
                shortcuts.release(direct)
                if landed is None:  # the database is still away, or nobody waits any more
                    for item in items:
                        _fail(item, exc)
                    raise
                self.cache.drop(key)
                continue  # not made: apply the changes again, on what is committed
            except BaseException as exc:
                shortcuts.release(direct)
                for item in items:
                    _fail(item, exc)
                raise
            _resolve(items, results)
            await self._committed(ex, mutation, task_ids, direct)
            return
        for item in items:
            _fail(item, ConcurrentUpdate(f"workflow {key[1]!r} run {key[2]} is changing too fast; try again"))

    async def _landed(self, key: RunKey, mutation: Mutation, items: list[_Op[Any]]) -> bool | None:
        """Whether a write whose connection died before its answer came was committed: True when
        the run holds exactly what it wrote, False when it holds what the write expected to
        replace (or anything else: the changes are then judged again on it). None when the
        database does not answer within :data:`IN_DOUBT_WAIT` seconds, or every caller left.

        Answering UNAVAILABLE for a change that was made would lose what it started: the caller's
        retry finds its task gone, so an activity started in that commit for the caller's worker
        would wait for its start-to-close timeout.
        """
        loop = asyncio.get_running_loop()
        give_up = loop.time() + IN_DOUBT_WAIT
        delay = 0.05
        while not self.stopping and loop.time() < give_up and any(not i.fut.done() for i in items):
            try:
                record = await self.store.load(*key)
            except Unavailable:
                await asyncio.sleep(delay)
                delay = min(delay * 2, 0.5)
                continue
            return (
                record is not None
                and record.db_version == mutation.expected_version + 1
                and record.state == mutation.record.state
            )
        return None

    async def _one_at_a_time(self, key: RunKey, items: list[_Op[Any]]) -> None:
        for item in items:
            await self._commit_group(key, [item])

    def _start_in_commit(self, ex: Execution) -> list[shortcuts.DirectStart]:
        """Shortcut (a) for the change and for the run it creates with it, if any (continue-as-new)."""
        direct = shortcuts.start_in_commit(ex, self.reserve, self.events, self.tokens.sign)
        if ex.then_create is not None:
            try:
                direct += shortcuts.start_in_commit(ex.then_create, self.reserve, self.events, self.tokens.sign)
            except BaseException:
                shortcuts.release(direct)
                raise
        return direct

    async def _committed(
        self, ex: Execution, mutation: Mutation, task_ids: list[int] | None, direct: list[shortcuts.DirectStart]
    ) -> None:
        """After ``ex``'s change was written: cache it, tell matching (of its task rows, when their
        ``task_ids`` are known) and waiters, hand over the tasks it started for waiting pollers.

        A change that created the run it continues as (``then_create``) is two changes here: the
        closed run's and the new run's, each cached and announced as if written alone."""
        mutation.record.db_version = mutation.expected_version + 1
        self.cache.put(ex.key, mutation.record, mutation.events)
        new, created = ex.then_create, mutation.then_create
        new_task_ids: list[int] | None = None
        if task_ids is not None and new is not None:
            task_ids, new_task_ids = task_ids[: len(mutation.tasks)], task_ids[len(mutation.tasks) :]
        try:
            if new is not None and created is not None:
                created.record.db_version = 1
                self.cache.put(new.key, created.record, created.events)
                self._after_commit(new, new_task_ids)
            self._after_commit(ex, task_ids)
        finally:
            if direct:
                await shortcuts.hand_over(direct)

    def _after_commit(self, ex: Execution, task_ids: list[int] | None) -> None:
        tasks = ex.new_tasks()
        if tasks and task_ids is not None:
            self.on_tasks([dataclasses.replace(t, id=i) for t, i in zip(tasks, task_ids, strict=True)])
        first_timer = ex.earliest_new_timer()
        if first_timer is not None:
            self.on_timer(first_timer)
        if ex.events or ex.updates_changed:
            self._wake(ex.key, closed=ex.closes)
        if ex.closes or ex.updates_changed:
            # "c": the run changed in a way waiters elsewhere care about (it closed, an update moved on).
            self.notifier.publish("c", "\x1f".join(ex.key))
        if ex.events and self._queried and ex.key in self._queried:
            self._announce_to_queries(ex.key)

    # -- queries waiting for a workflow task -------------------------------------------------------

    def note_queried(self, key: RunKey, for_seconds: float) -> None:
        """A query waits for the run's workflow task: for ``for_seconds``, each change of the run
        committed here is announced to every server ("qr"), so the query looks at the run again.

        Only runs noted here cost anything after a commit; the note is a hint, so the waiting
        query also looks again now and then on its own (a change committed before the note
        arrived is not announced).
        """
        loop_now = asyncio.get_running_loop().time()
        self._queried[key] = loop_now + for_seconds
        self._queried.move_to_end(key)
        while self._queried:  # drop the expired notes, oldest first
            first, until = next(iter(self._queried.items()))
            if until > loop_now and len(self._queried) <= MAX_QUERIED_RUNS:
                break
            del self._queried[first]

    def _announce_to_queries(self, key: RunKey) -> None:
        if self._queried[key] < asyncio.get_running_loop().time():
            del self._queried[key]
            return
        self.notifier.publish("qr", "\x1f".join(key))

    # -- reading events ----------------------------------------------------------------------------

    async def events(self, key: RunKey, first: int, last: int) -> list[bytes]:
        """Serialized events ``first`` to ``last`` of a run: from memory when this process wrote
        them recently, else from the database."""
        events = self.cache.events(key, first, last)
        if events is None:
            events = await self.store.read_events(*key, first, last - first + 1)
        return events

    async def last_event(self, record: ExecutionRecord) -> H.HistoryEvent | None:
        """The run's last event (its close event, once it is closed)."""
        last = record.next_event_id - 1
        events = await self.events((record.namespace, record.workflow_id, record.run_id), last, last)
        return H.HistoryEvent.FromString(events[0]) if events else None

    async def resolve_run(self, namespace: str, workflow_id: str, run_id: str) -> ExecutionRecord:
        """The named run, or the latest run of the workflow id when ``run_id`` is empty."""
        if run_id:
            record = await self.store.load(namespace, workflow_id, run_id)
        else:
            record = await self.store.latest_run(namespace, workflow_id)
        if record is None:
            what = f"run {run_id} of workflow {workflow_id!r}" if run_id else f"workflow {workflow_id!r}"
            raise NotFound(f"{what} not found in namespace {namespace!r}")
        return record

    # -- watching a run for changes ----------------------------------------------------------------

    def _wake(self, key: RunKey, *, closed: bool) -> None:
        """Wake the waits for a change of the run, and if it ``closed``, those for its close."""
        for watchers in (self._watchers, self._close_watchers) if closed else (self._watchers,):
            event = watchers.pop(key, None)
            if event is not None:
                event.set()

    def _on_closed_elsewhere(self, body: str) -> None:
        if not body:  # the listener reconnected: anything may have changed
            for key in {*self._watchers, *self._close_watchers}:
                self.cache.drop(key)
                self._wake(key, closed=True)
            return
        parts = body.split("\x1f")
        if len(parts) == 3:
            key = (parts[0], parts[1], parts[2])
            self.cache.drop(key)
            self._wake(key, closed=True)

    def forget(self, key: RunKey) -> None:
        """The run was deleted (``wf.history.retention``): it leaves the cache here, its waiters
        look again (and find it gone), and every other server is told as of a close."""
        self.cache.drop(key)
        self._wake(key, closed=True)
        self.notifier.publish("c", "\x1f".join(key))

    def stop_waits(self) -> None:
        """The server stops: every history long poll answers now, as at its deadline, and new ones
        answer at once; their callers poll again, on a server that goes on."""
        self.stopping = True
        for key in {*self._watchers, *self._close_watchers}:
            self._wake(key, closed=True)

    async def wait_for_change(self, key: RunKey, timeout: float, *, close_only: bool = False) -> bool:
        """Wait until the run gets new events here (with ``close_only``, until it closes here) or
        something changes elsewhere (True), or ``timeout`` (False)."""
        watchers = self._close_watchers if close_only else self._watchers
        event = watchers.get(key)
        if event is None:
            event = watchers[key] = asyncio.Event()
        try:
            await asyncio.wait_for(event.wait(), timeout)
        except TimeoutError:
            if watchers.get(key) is event and not event._waiters:
                del watchers[key]  # nobody else waits: do not keep it for a run that may never change
            return False
        return True
