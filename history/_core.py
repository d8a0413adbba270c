"""The core every history operation builds on: the load → mutate → commit helper, the record
cache, waiting for a run to change, and reading executions."""

from __future__ import annotations

import asyncio
import dataclasses
import logging
from collections import OrderedDict
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from typing import Any, Generic, TypeVar

from google.protobuf.message import Message

from history.errors import (
    ConcurrentUpdate,
    HistoryError,
    InvalidArgument,
    NotFound,
)
from history.limits import Limits
from history.mutable_state import RUNNING, Execution
from history.notify import Notifier
from history.store import ExecutionRecord, Mutation, Store, WriteRejected
from history.tasks import Handoff, TaskRow
from wf.v1 import common_pb2, history_pb2, internal_pb2, service_pb2

T = TypeVar("T")
log = logging.getLogger(__name__)
H = history_pb2
C = common_pb2


class TaskGone(Exception):
    """The task a poller was handed is no longer valid (taken elsewhere, or stale)."""


@dataclasses.dataclass
class CompletionResult:
    """What RespondWorkflowTaskCompleted answers: an error message when a command was refused, and
    the activities started eagerly for the worker (their state and input)."""

    error: str | None = None
    eager: list[tuple[internal_pb2.ActivityState, common_pb2.Payloads]] = dataclasses.field(default_factory=list)
    # Whether the task was recorded as completed (not failed), and the events appended after the
    # worker's view of the history (from first_event_id, through last_event_id).
    completed: bool = False
    first_event_id: int = 0
    last_event_id: int = 0


@dataclasses.dataclass(slots=True)
class DirectStart:
    """A task started in the change that created it, for the poller ``handoff`` set aside."""

    handoff: Handoff
    build: Callable[[], Awaitable[Message]]


@dataclasses.dataclass(slots=True, eq=False)
class _Op(Generic[T]):
    """One change waiting to be applied to a run, and its caller's future."""

    fn: Callable[[Execution], T]
    fut: asyncio.Future[T]


class Taker:
    """A :class:`Handoff` for the caller of a change itself: the workflow task the change starts
    for it, or None (``await taker.response``) once the change is committed."""

    def __init__(self, identity: str) -> None:
        self.identity = identity
        self.response: asyncio.Future[Message | None] = asyncio.get_running_loop().create_future()

    def deliver(self, response: Message) -> None:
        if not self.response.done():
            self.response.set_result(response)

    def fail(self, exc: BaseException) -> None:
        self.release()

    def release(self) -> None:
        if not self.response.done():
            self.response.set_result(None)


def _fail(item: _Op[Any], exc: BaseException) -> None:
    if not item.fut.done():
        item.fut.set_exception(exc)


def _resolve(items: list[_Op[Any]], results: list[Any]) -> None:
    for item, result in zip(items, results, strict=True):
        if not item.fut.done():
            item.fut.set_result(result)


def _release(direct: list[DirectStart]) -> None:
    for d in direct:
        d.handoff.release()


def _now() -> datetime:
    return datetime.now(UTC)


def encode_token(token: internal_pb2.TaskToken) -> bytes:
    return token.SerializeToString()


def decode_token(data: bytes) -> internal_pb2.TaskToken:
    token = internal_pb2.TaskToken()
    try:
        token.ParseFromString(data)
    except Exception as exc:  # protobuf raises DecodeError, a bare Exception subclass
        raise InvalidArgument("task_token is malformed") from exc
    if not token.workflow_id or not token.run_id or not token.scheduled_event_id:
        raise InvalidArgument("task_token is malformed")
    return token


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


class ExecutionOps:
    """Durable state machine of executions over :class:`Store`."""

    def __init__(
        self,
        store: Store,
        notifier: Notifier,
        limits: Limits | None = None,
        *,
        cache_size: int = 10_000,
        on_tasks: Callable[[list[TaskRow]], None] = lambda tasks: None,
        on_timer: Callable[[datetime], None] = lambda at: None,
        reserve: Callable[[TaskRow], Handoff | None] = lambda task: None,
        start_concurrency: int = 5,
    ) -> None:
        self.store = store
        self.notifier = notifier
        self.limits = limits or Limits()
        self.on_tasks = on_tasks
        self.on_timer = on_timer
        # Matching's waiting pollers: a task a change creates may be started in that change.
        self.reserve = reserve
        self._cache = _RecordCache(cache_size)
        # Changes waiting to be applied, and the task applying them, per run.
        self._queued: dict[tuple[str, str, str], list[_Op[Any]]] = {}
        self._draining: dict[tuple[str, str, str], asyncio.Task[None]] = {}
        self._watchers: dict[tuple[str, str, str], asyncio.Event] = {}
        self._close_watchers: dict[tuple[str, str, str], asyncio.Event] = {}  # waits for the close alone
        # Set when the server stops: history long polls answer at once, so callers ask another server.
        self._stopping = False
        # New runs' starts in progress at once: the rest of the database pool stays free for the runs
        # already going, so a surge of starts slows the starts, not every running workflow.
        self._start_slots = asyncio.Semaphore(start_concurrency)
        notifier.subscribe("c", self._on_closed_elsewhere)

    # -- the shared load → mutate → commit helper --------------------------------------------------

    async def _load(self, key: tuple[str, str, str]) -> ExecutionRecord:
        record = self._cache.get(key)
        if record is None:
            record = await self.store.load(*key)
            if record is None:
                raise NotFound(f"workflow {key[1]!r} run {key[2]} not found in namespace {key[0]!r}")
            self._cache.put(key, record)
        return record

    async def _update(self, key: tuple[str, str, str], op: Callable[[Execution], T]) -> T:
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

    async def _drain(self, key: tuple[str, str, str]) -> None:
        try:
            while items := self._queued.pop(key, None):
                try:
                    await self._commit_group(key, items)
                except Exception as exc:
                    log.exception("committing changes of workflow %r run %s failed", key[1], key[2])
                    for item in items:
                        _fail(item, exc)
        finally:
            del self._draining[key]
            for item in self._queued.pop(key, []):  # only when cancelled: the server is stopping
                _fail(item, ConcurrentUpdate("the server is stopping; try again"))

    async def _commit_group(self, key: tuple[str, str, str], items: list[_Op[Any]]) -> None:
        items = [i for i in items if not i.fut.done()]  # a caller that went away: its change is not made
        for _ in range(20):
            if not items:
                return
            cached = self._cache.get(key) is not None
            try:
                record = await self._load(key)
            except Exception as exc:
                for item in items:
                    _fail(item, exc)
                return
            ex = Execution(dataclasses.replace(record), _now(), self.limits)
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
                    self._cache.drop(key)
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
            if len(items) > 1 and not ex.closes and set(ex.timers) & set(ex.claimed_timers):
                # One change consumes a timer another sets anew: commit them one at a time.
                await self._one_at_a_time(key, items)
                return
            direct = self._start_directly(ex) if ex.tasks or ex.wanted_by else []
            try:
                mutation = ex.mutation()
                task_ids = await self.store.write(mutation)
            except ConcurrentUpdate:
                _release(direct)
                self._cache.drop(key)
                continue
            except WriteRejected as exc:
                _release(direct)
                if len(items) > 1:  # some change's task or timer is gone: find whose, one at a time
                    await self._one_at_a_time(key, items)
                else:
                    _fail(items[0], TaskGone(str(exc)))
                return
            except BaseException as exc:
                _release(direct)
                for item in items:
                    _fail(item, exc)
                raise
            _resolve(items, results)
            await self._committed(ex, mutation, task_ids, direct)
            return
        for item in items:
            _fail(item, ConcurrentUpdate(f"workflow {key[1]!r} run {key[2]} is changing too fast; try again"))

    async def _committed(
        self, ex: Execution, mutation: Mutation, task_ids: list[int], direct: list[DirectStart]
    ) -> None:
        """After ``ex``'s change was written: cache it, tell matching and waiters, hand over the tasks
        it started for waiting pollers."""
        mutation.record.db_version = mutation.expected_version + 1
        self._cache.put(ex.key, mutation.record, mutation.events)
        try:
            self._after_commit(ex, mutation.record, task_ids)
        finally:
            if direct:
                await self._hand_over(direct)

    async def _one_at_a_time(self, key: tuple[str, str, str], items: list[_Op[Any]]) -> None:
        for item in items:
            await self._commit_group(key, [item])

    # -- starting tasks in the change that creates them ----------------------------------------------

    def _start_directly(self, ex: Execution) -> list[DirectStart]:
        """Start the tasks of this change that a waiting poller can take, in this same change.

        Overridden where workflow and activity tasks are known; here no task is started directly.
        """
        return []

    @staticmethod
    async def _hand_over(direct: list[DirectStart]) -> None:
        """After the commit: build each directly started task's response and hand it to its poller."""
        pending = list(direct)
        try:
            while pending:
                d = pending[0]
                try:
                    response = await d.build()
                except Exception as exc:
                    d.handoff.fail(exc)
                else:
                    d.handoff.deliver(response)
                pending.pop(0)
        finally:
            for d in pending:
                d.handoff.fail(asyncio.CancelledError())

    async def _last_event(self, record: ExecutionRecord) -> H.HistoryEvent | None:
        """The run's last event (its close event, once it is closed)."""
        last = record.next_event_id - 1
        events = await self._events((record.namespace, record.workflow_id, record.run_id), last, last)
        return H.HistoryEvent.FromString(events[0]) if events else None

    async def _events(self, key: tuple[str, str, str], first: int, last: int) -> list[bytes]:
        """Serialized events ``first`` to ``last`` of a run: from memory when this process wrote
        them recently, else from the database."""
        events = self._cache.events(key, first, last)
        if events is None:
            events = await self.store.read_events(*key, first, last - first + 1)
        return events

    def _after_commit(self, ex: Execution, record: ExecutionRecord, task_ids: list[int]) -> None:
        if ex.tasks:
            self.on_tasks([dataclasses.replace(t, id=i) for t, i in zip(ex.tasks, task_ids, strict=True)])
        if ex.timers:
            self.on_timer(min(t.fire_at for t in ex.timers.values()))
        if ex.events or ex.updates_changed:
            self._wake(ex.key, closed=ex.closes)
        if ex.closes or ex.updates_changed:
            # "c": the run changed in a way waiters elsewhere care about (it closed, an update moved on).
            self.notifier.publish("c", "\x1f".join(ex.key))

    # -- watching a run for new events --------------------------------------------------------------

    def _wake(self, key: tuple[str, str, str], *, closed: bool) -> None:
        """Wake the waits for a change of the run, and if it ``closed``, those for its close."""
        for watchers in (self._watchers, self._close_watchers) if closed else (self._watchers,):
            event = watchers.pop(key, None)
            if event is not None:
                event.set()

    def _on_closed_elsewhere(self, body: str) -> None:
        if not body:  # the listener reconnected: anything may have changed
            for key in {*self._watchers, *self._close_watchers}:
                self._cache.drop(key)
                self._wake(key, closed=True)
            return
        parts = body.split("\x1f")
        if len(parts) == 3:
            key = (parts[0], parts[1], parts[2])
            self._cache.drop(key)
            self._wake(key, closed=True)

    def stop_waits(self) -> None:
        """The server stops: every history long poll answers now, as at its deadline, and new ones
        answer at once; their callers poll again, on a server that goes on."""
        self._stopping = True
        for key in {*self._watchers, *self._close_watchers}:
            self._wake(key, closed=True)

    async def wait_for_change(self, key: tuple[str, str, str], timeout: float, *, close_only: bool = False) -> bool:
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

    # -- reading ----------------------------------------------------------------------------------

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

    async def describe(
        self, namespace: str, workflow_id: str, run_id: str
    ) -> service_pb2.DescribeWorkflowExecutionResponse:
        record = await self.resolve_run(namespace, workflow_id, run_id)
        state = internal_pb2.MutableState.FromString(record.state)
        resp = service_pb2.DescribeWorkflowExecutionResponse(
            workflow_execution_info=execution_info(record),
            workflow_execution_timeout=state.workflow_execution_timeout,
            workflow_run_timeout=state.workflow_run_timeout,
            workflow_task_timeout=state.workflow_task_timeout,
        )
        for a in sorted(state.activities.values(), key=lambda a: a.scheduled_event_id):
            info = resp.pending_activities.add(
                activity_id=a.activity_id,
                activity_type=C.ActivityType(name=a.activity_type),
                state=(
                    service_pb2.PENDING_ACTIVITY_STATE_STARTED
                    if a.HasField("started_time")
                    else service_pb2.PENDING_ACTIVITY_STATE_BACKING_OFF
                    if a.backing_off
                    else service_pb2.PENDING_ACTIVITY_STATE_SCHEDULED
                ),
                attempt=a.attempt,
                maximum_attempts=a.retry_policy.maximum_attempts,
                scheduled_time=a.scheduled_time,
                last_worker_identity=a.last_worker_identity,
                scheduled_event_id=a.scheduled_event_id,
            )
            if a.HasField("started_time"):
                info.last_started_time.CopyFrom(a.started_time)
            if a.HasField("last_failure"):
                info.last_failure.CopyFrom(a.last_failure)
        if state.HasField("workflow_task") or state.HasField("last_workflow_task_failure"):
            wt = state.workflow_task
            pending = resp.pending_workflow_task
            pending.scheduled_event_id = wt.scheduled_event_id
            pending.attempt = wt.attempt
            if wt.HasField("scheduled_time"):
                pending.scheduled_time.CopyFrom(wt.scheduled_time)
            if wt.HasField("started_time"):
                pending.started_time.CopyFrom(wt.started_time)
            if state.HasField("last_workflow_task_failure"):
                pending.last_failure.CopyFrom(state.last_workflow_task_failure)
        if record.status != RUNNING:
            close = await self._last_event(record)
            if close is not None:
                if close.HasField("workflow_execution_completed_event_attributes"):
                    resp.result.CopyFrom(close.workflow_execution_completed_event_attributes.result)
                elif close.HasField("workflow_execution_failed_event_attributes"):
                    resp.failure.CopyFrom(close.workflow_execution_failed_event_attributes.failure)
        return resp

    async def get_history(
        self, req: service_pb2.GetWorkflowExecutionHistoryRequest, max_wait: float
    ) -> service_pb2.GetWorkflowExecutionHistoryResponse:
        """A page of events; with ``wait_new_event``, a long poll for events past the page token."""
        ex = req.execution
        close_only = req.history_event_filter_type == service_pb2.HISTORY_EVENT_FILTER_TYPE_CLOSE_EVENT
        record = None
        if close_only and req.wait_new_event and ex.run_id:
            # A wait for the result: this process's copy of the run will do. If another server
            # closes the run, its notification drops the copy and wakes the wait, which registers
            # below with no await in between.
            record = self._cache.get((req.namespace, ex.workflow_id, ex.run_id))
        if record is None:
            # From the database: another server may have moved the run on since this one cached it.
            record = await self.resolve_run(req.namespace, ex.workflow_id, ex.run_id)
        key = (req.namespace, record.workflow_id, record.run_id)
        first = int.from_bytes(req.next_page_token, "big") if req.next_page_token else 1
        page = req.maximum_page_size if req.maximum_page_size > 0 else 1000
        loop = asyncio.get_running_loop()
        deadline = loop.time() + max_wait
        while True:
            closed = record.status != RUNNING
            if close_only:
                if closed:
                    close = await self._last_event(record)
                    history = H.History(events=[close] if close is not None else [])
                    return service_pb2.GetWorkflowExecutionHistoryResponse(history=history, run_id=record.run_id)
                events = []
            else:
                events = await self.store.read_events(*key, first, page) if first < record.next_event_id else []
            if events or not req.wait_new_event or closed:
                history = H.History()
                for data in events:
                    history.events.add().MergeFromString(data)
                last = history.events[-1].event_id if events else first - 1
                more = last + 1 < record.next_event_id or (not closed and req.wait_new_event)
                token = (last + 1).to_bytes(8, "big") if more else b""
                return service_pb2.GetWorkflowExecutionHistoryResponse(
                    history=history, next_page_token=token, run_id=record.run_id
                )
            remaining = deadline - loop.time()
            if remaining <= 0 or self._stopping:
                token = first.to_bytes(8, "big")
                return service_pb2.GetWorkflowExecutionHistoryResponse(next_page_token=token, run_id=record.run_id)
            # Another server may change the run without telling us: look again now and then.
            woken = await self.wait_for_change(key, min(remaining, 5.0), close_only=close_only)
            # Woken by a commit in this process, the cache holds it; otherwise ask the database.
            cached = self._cache.get(key) if woken else None
            record = cached or await self.store.load(*key) or record

    async def list_executions(
        self, namespace: str, conditions: list[tuple[str, object]], page_size: int, token: bytes
    ) -> service_pb2.ListWorkflowExecutionsResponse:
        before = None
        if token:
            try:
                ts, wid, rid = token.decode().split("\x1f")
                before = (datetime.fromisoformat(ts), wid, rid)
            except ValueError as exc:
                raise InvalidArgument("next_page_token is malformed") from exc
        size = min(page_size, 1000) if page_size > 0 else 100
        records = await self.store.list_executions(namespace, conditions, size, before)
        resp = service_pb2.ListWorkflowExecutionsResponse(executions=[execution_info(r) for r in records])
        if len(records) == size:
            last = records[-1]
            resp.next_page_token = "\x1f".join(
                (last.start_time.isoformat(), last.workflow_id, last.run_id)
            ).encode()
        return resp


def copy_message(message: C.UpdateRequest) -> C.UpdateRequest:
    copy = C.UpdateRequest()
    copy.CopyFrom(message)
    return copy

def execution_info(record: ExecutionRecord) -> service_pb2.WorkflowExecutionInfo:
    info = service_pb2.WorkflowExecutionInfo(
        execution=C.WorkflowExecution(workflow_id=record.workflow_id, run_id=record.run_id),
        type=C.WorkflowType(name=record.workflow_type),
        status=record.status,  # type: ignore[arg-type]
        history_length=record.next_event_id - 1,
        task_queue=record.task_queue,
    )
    info.start_time.FromDatetime(record.start_time)
    if record.close_time is not None:
        info.close_time.FromDatetime(record.close_time)
        info.execution_duration.FromTimedelta(record.close_time - record.start_time)
    return info

_USER_TIMER_PREFIX = "t:"


def _user_timer_key(timer_id: str) -> str:
    return _USER_TIMER_PREFIX + timer_id
