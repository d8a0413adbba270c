"""The history service: every operation that changes an execution.

Each operation is a small function of an :class:`~history.mutable_state.Execution`; the shared helper
:meth:`HistoryService._update` loads the execution (from the in-memory cache or the database), lets the
operation change it, and commits the change as one statement guarded by the execution's version. A
version conflict (another server changed the run) reloads and runs the operation again.
"""

from __future__ import annotations

import asyncio
import dataclasses
import logging
import uuid
import weakref
from collections import OrderedDict
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from typing import TypeVar

from google.protobuf.message import Message

from history import retry
from history.errors import (
    AlreadyExists,
    ConcurrentUpdate,
    DeadlineExceeded,
    FailedPrecondition,
    HistoryError,
    InvalidArgument,
    LimitExceeded,
    NotFound,
    QueryFailed,
)
from history.limits import MAX_DURATION_SECONDS, Limits, id_length
from history.mutable_state import RUNNING, Execution, activity_timer_key, duration, is_set
from history.notify import Notifier
from history.store import ExecutionRecord, Store, WriteRejected
from history.tasks import TaskKind, TaskRow, TimerKind, TimerRow
from wf.v1 import command_pb2, common_pb2, history_pb2, internal_pb2, service_pb2

log = logging.getLogger(__name__)

T = TypeVar("T")
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


class _RecordCache:
    """Recently written execution records, so the next change of a run needs no read."""

    def __init__(self, size: int) -> None:
        self._size = size
        self._items: OrderedDict[tuple[str, str, str], ExecutionRecord] = OrderedDict()

    def get(self, key: tuple[str, str, str]) -> ExecutionRecord | None:
        record = self._items.get(key)
        if record is not None:
            self._items.move_to_end(key)
        return record

    def put(self, key: tuple[str, str, str], record: ExecutionRecord) -> None:
        self._items[key] = record
        self._items.move_to_end(key)
        while len(self._items) > self._size:
            self._items.popitem(last=False)

    def drop(self, key: tuple[str, str, str]) -> None:
        self._items.pop(key, None)


class HistoryService:
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
    ) -> None:
        self.store = store
        self.notifier = notifier
        self.limits = limits or Limits()
        self.on_tasks = on_tasks
        self.on_timer = on_timer
        self._cache = _RecordCache(cache_size)
        self._locks: weakref.WeakValueDictionary[tuple[str, str, str], asyncio.Lock] = (
            weakref.WeakValueDictionary()
        )
        self._watchers: dict[tuple[str, str, str], asyncio.Event] = {}
        self._query_waiters: dict[int, asyncio.Future[None]] = {}
        notifier.subscribe("c", self._on_closed_elsewhere)
        notifier.subscribe("qa", self._on_query_answered)

    # -- the shared load → mutate → commit helper --------------------------------------------------

    def _lock(self, key: tuple[str, str, str]) -> asyncio.Lock:
        lock = self._locks.get(key)
        if lock is None:
            lock = asyncio.Lock()
            self._locks[key] = lock
        return lock

    async def _load(self, key: tuple[str, str, str]) -> ExecutionRecord:
        record = self._cache.get(key)
        if record is None:
            record = await self.store.load(*key)
            if record is None:
                raise NotFound(f"workflow {key[1]!r} run {key[2]} not found in namespace {key[0]!r}")
            self._cache.put(key, record)
        return record

    async def _update(self, key: tuple[str, str, str], op: Callable[[Execution], T]) -> T:
        for _ in range(20):
            async with self._lock(key):
                cached = self._cache.get(key) is not None
                record = await self._load(key)
                ex = Execution(dataclasses.replace(record), _now(), self.limits)
                try:
                    result = op(ex)
                except (HistoryError, TaskGone):
                    if cached:
                        # The cached copy may be behind a change another server made (a task
                        # scheduled or started there): refuse only on what the database holds.
                        self._cache.drop(key)
                        continue
                    raise
                if not ex.changed:
                    return result
                mutation = ex.mutation()
                try:
                    task_ids = await self.store.write(mutation)
                except ConcurrentUpdate:
                    self._cache.drop(key)
                    continue
                except WriteRejected as exc:
                    raise TaskGone(str(exc)) from exc
                mutation.record.db_version += 1
                self._cache.put(key, mutation.record)
            self._after_commit(ex, mutation.record, task_ids)
            return result
        raise ConcurrentUpdate(f"workflow {key[1]!r} run {key[2]} is changing too fast; try again")

    def _after_commit(self, ex: Execution, record: ExecutionRecord, task_ids: list[int]) -> None:
        if ex.tasks:
            self.on_tasks([dataclasses.replace(t, id=i) for t, i in zip(ex.tasks, task_ids, strict=True)])
        if ex.timers:
            self.on_timer(min(t.fire_at for t in ex.timers.values()))
        if ex.events:
            self._wake(ex.key)
        if ex.closes or ex.updates_changed:
            # "c": the run changed in a way waiters elsewhere care about (it closed, an update moved on).
            self.notifier.publish("c", "\x1f".join(ex.key))
        if ex.updates_changed:
            self._wake(ex.key)

    # -- watching a run for new events --------------------------------------------------------------

    def _wake(self, key: tuple[str, str, str]) -> None:
        event = self._watchers.pop(key, None)
        if event is not None:
            event.set()

    def _on_closed_elsewhere(self, body: str) -> None:
        if not body:  # the listener reconnected: anything may have changed
            for key in list(self._watchers):
                self._cache.drop(key)
                self._wake(key)
            return
        parts = body.split("\x1f")
        if len(parts) == 3:
            key = (parts[0], parts[1], parts[2])
            self._cache.drop(key)
            self._wake(key)

    async def wait_for_change(self, key: tuple[str, str, str], timeout: float) -> bool:
        """Wait until the run gets new events here or closes elsewhere (True), or ``timeout`` (False)."""
        event = self._watchers.get(key)
        if event is None:
            event = self._watchers[key] = asyncio.Event()
        try:
            await asyncio.wait_for(event.wait(), timeout)
        except TimeoutError:
            if self._watchers.get(key) is event and not event._waiters:
                del self._watchers[key]  # nobody else waits: do not keep it for a run that may never change
            return False
        return True

    # -- starting ---------------------------------------------------------------------------------

    async def start_workflow(self, req: service_pb2.StartWorkflowExecutionRequest) -> tuple[str, bool]:
        """Start a run; returns (run id, started). A repeated request id returns the first run."""
        request_id = req.request_id or str(uuid.uuid4())
        policy = req.workflow_id_reuse_policy
        for _ in range(5):
            if policy in (
                service_pb2.WORKFLOW_ID_REUSE_POLICY_REJECT_DUPLICATE,
                service_pb2.WORKFLOW_ID_REUSE_POLICY_ALLOW_DUPLICATE_FAILED_ONLY,
            ):
                latest = await self.store.latest_run(req.namespace, req.workflow_id)
                if latest is not None and latest.status != RUNNING and latest.request_id != request_id:
                    failed = latest.status in (
                        C.WORKFLOW_EXECUTION_STATUS_FAILED,
                        C.WORKFLOW_EXECUTION_STATUS_TIMED_OUT,
                        C.WORKFLOW_EXECUTION_STATUS_TERMINATED,
                        C.WORKFLOW_EXECUTION_STATUS_CANCELED,
                    )
                    if policy == service_pb2.WORKFLOW_ID_REUSE_POLICY_REJECT_DUPLICATE or not failed:
                        raise AlreadyExists(
                            f"workflow id {req.workflow_id!r} was already used by run {latest.run_id} "
                            "and its id reuse policy does not allow another",
                            latest.run_id,
                        )
            ex = self._new_execution(req, request_id)
            mutation = ex.mutation()
            try:
                task_ids = await self.store.write(mutation)
            except WriteRejected:
                existing = await self.store.run_for_request(req.namespace, req.workflow_id, request_id)
                if existing is not None:
                    return existing, False
                latest = await self.store.latest_run(req.namespace, req.workflow_id)
                if latest is not None and latest.status == RUNNING:
                    conflict = req.workflow_id_conflict_policy
                    try:
                        if req.signal_name:
                            await self._signal_run(latest, req.signal_name, req.signal_input, req.identity, request_id)
                            return latest.run_id, False
                        if conflict == service_pb2.WORKFLOW_ID_CONFLICT_POLICY_USE_EXISTING:
                            return latest.run_id, False
                        if conflict == service_pb2.WORKFLOW_ID_CONFLICT_POLICY_TERMINATE_EXISTING:
                            await self.terminate(
                                req.namespace, req.workflow_id, latest.run_id,
                                f"terminated by a new start of {req.workflow_id!r} (conflict policy TerminateExisting)",
                                C.Payloads(), req.identity,
                            )
                            continue
                    except FailedPrecondition:
                        continue  # it closed meanwhile: start anew
                    raise AlreadyExists(
                        f"workflow {req.workflow_id!r} is already running (run {latest.run_id})",
                        latest.run_id,
                    ) from None
                continue  # it closed meanwhile: try again
            mutation.record.db_version = 1
            self._cache.put(ex.key, mutation.record)
            self._after_commit(ex, mutation.record, task_ids)
            return ex.record.run_id, True
        raise ConcurrentUpdate(f"workflow id {req.workflow_id!r} is being started concurrently; try again")

    def _new_execution(self, req: service_pb2.StartWorkflowExecutionRequest, request_id: str) -> Execution:
        now = _now()
        record = ExecutionRecord(
            namespace=req.namespace,
            workflow_id=req.workflow_id,
            run_id=str(uuid.uuid4()),
            workflow_type=req.workflow_type.name,
            task_queue=req.task_queue.name,
            status=RUNNING,
            start_time=now,
            close_time=None,
            request_id=request_id,
            next_event_id=1,
            history_size=0,
            db_version=0,
            state=b"",
        )
        ex = Execution(record, now, self.limits, new=True)
        s = ex.state
        s.workflow_type = req.workflow_type.name
        s.task_queue = req.task_queue.name
        task_timeout = (
            duration(req.workflow_task_timeout)
            if is_set(req.workflow_task_timeout)
            else self.limits.default_workflow_task_timeout
        )
        s.workflow_task_timeout.FromTimedelta(min(task_timeout, self.limits.max_workflow_task_timeout))
        s.workflow_run_timeout.CopyFrom(req.workflow_run_timeout)
        s.workflow_execution_timeout.CopyFrom(req.workflow_execution_timeout)
        started = H.WorkflowExecutionStartedEventAttributes(
            workflow_type=req.workflow_type,
            task_queue=C.TaskQueue(name=req.task_queue.name, kind=C.TASK_QUEUE_KIND_NORMAL),
            input=req.input,
            workflow_execution_timeout=req.workflow_execution_timeout,
            workflow_run_timeout=req.workflow_run_timeout,
            workflow_task_timeout=s.workflow_task_timeout,
            identity=req.identity,
            original_execution_run_id=record.run_id,
            first_execution_run_id=record.run_id,
            attempt=1,
            request_id=request_id,
        )
        if req.HasField("retry_policy"):
            started.retry_policy.CopyFrom(req.retry_policy)
        if is_set(req.workflow_execution_timeout):
            started.workflow_execution_expiration_time.FromDatetime(
                now + duration(req.workflow_execution_timeout)
            )
        ex.add_event(H.EVENT_TYPE_WORKFLOW_EXECUTION_STARTED, workflow_execution_started_event_attributes=started)
        if req.signal_name:
            self._append_signal(ex, req.signal_name, req.signal_input, req.identity, request_id)
        ex.schedule_workflow_task()
        if is_set(req.workflow_run_timeout):
            ex.set_timer("run-timeout", duration(req.workflow_run_timeout), TimerKind.WORKFLOW_RUN_TIMEOUT, 0, 1)
        if is_set(req.workflow_execution_timeout):
            ex.set_timer(
                "execution-timeout",
                duration(req.workflow_execution_timeout),
                TimerKind.WORKFLOW_EXECUTION_TIMEOUT,
                0,
                1,
            )
        return ex

    # -- talking to a running workflow -----------------------------------------------------------

    async def _running(self, namespace: str, workflow_id: str, run_id: str) -> ExecutionRecord:
        """The named run (or the latest), which must be running."""
        record = await self.resolve_run(namespace, workflow_id, run_id)
        if record.status != RUNNING:
            raise FailedPrecondition(
                f"workflow {workflow_id!r} (run {record.run_id}) is already closed"
            )
        return record

    def _append_signal(
        self, ex: Execution, name: str, input: common_pb2.Payloads, identity: str, request_id: str
    ) -> None:
        s = ex.state
        if request_id and request_id in s.recent_signal_request_ids:
            return  # a retry of a signal already recorded
        if s.signal_count >= self.limits.max_signals_per_run:
            raise LimitExceeded(
                f"{ex.describe()} has received {s.signal_count:,} signals, the "
                f"{self.limits.describe('max_signals_per_run')}; continue-as-new resets the count"
            )
        ex.add_event(
            H.EVENT_TYPE_WORKFLOW_EXECUTION_SIGNALED,
            workflow_execution_signaled_event_attributes=H.WorkflowExecutionSignaledEventAttributes(
                signal_name=name, input=input, identity=identity
            ),
        )
        s.signal_count += 1
        if request_id:
            s.recent_signal_request_ids.append(request_id)
            if len(s.recent_signal_request_ids) > 64:
                del s.recent_signal_request_ids[0]

    async def _signal_run(
        self, record: ExecutionRecord, name: str, input: common_pb2.Payloads, identity: str, request_id: str
    ) -> None:
        def op(ex: Execution) -> None:
            if not ex.running:
                raise FailedPrecondition(f"{ex.describe()} is already closed: the signal was not delivered")
            self._append_signal(ex, name, input, identity, request_id)
            if ex.changed:
                ex.schedule_workflow_task()

        await self._update((record.namespace, record.workflow_id, record.run_id), op)

    async def signal(self, req: service_pb2.SignalWorkflowExecutionRequest) -> None:
        e = req.workflow_execution
        record = await self._running(req.namespace, e.workflow_id, e.run_id)
        await self._signal_run(record, req.signal_name, req.input, req.identity, req.request_id)

    async def request_cancel(self, namespace: str, workflow_id: str, run_id: str, reason: str, identity: str) -> None:
        record = await self._running(namespace, workflow_id, run_id)

        def op(ex: Execution) -> None:
            if not ex.running:
                raise FailedPrecondition(f"{ex.describe()} is already closed")
            if ex.state.cancel_requested:
                return  # asked before: once is enough
            ex.state.cancel_requested = True
            ex.add_event(
                H.EVENT_TYPE_WORKFLOW_EXECUTION_CANCEL_REQUESTED,
                workflow_execution_cancel_requested_event_attributes=H.WorkflowExecutionCancelRequestedEventAttributes(
                    cause=reason, identity=identity
                ),
            )
            ex.schedule_workflow_task()

        await self._update((namespace, record.workflow_id, record.run_id), op)

    async def terminate(
        self, namespace: str, workflow_id: str, run_id: str, reason: str, details: common_pb2.Payloads, identity: str
    ) -> None:
        record = await self._running(namespace, workflow_id, run_id)

        def op(ex: Execution) -> None:
            if not ex.running:
                raise FailedPrecondition(f"{ex.describe()} is already closed")
            ex.add_event(
                H.EVENT_TYPE_WORKFLOW_EXECUTION_TERMINATED,
                workflow_execution_terminated_event_attributes=H.WorkflowExecutionTerminatedEventAttributes(
                    reason=reason, details=details, identity=identity
                ),
            )
            ex.close(C.WORKFLOW_EXECUTION_STATUS_TERMINATED)

        await self._update((namespace, record.workflow_id, record.run_id), op)

    # -- queries ----------------------------------------------------------------------------------

    def _on_query_answered(self, body: str) -> None:
        if not body:
            for waiter in self._query_waiters.values():
                if not waiter.done():
                    waiter.set_result(None)  # the listener reconnected: look at the answers again
            return
        answered = self._query_waiters.get(int(body))
        if answered is not None and not answered.done():
            answered.set_result(None)

    async def query(
        self, namespace: str, workflow_id: str, run_id: str, query_type: str, args: common_pb2.Payloads,
        timeout: float,
    ) -> common_pb2.Payloads:
        """Have a worker of the run's task queue answer a query; nothing is recorded."""
        record = await self.resolve_run(namespace, workflow_id, run_id)
        query_id, task_id = await self.store.create_query(
            namespace, record.workflow_id, record.run_id, record.task_queue, query_type, args.SerializeToString()
        )
        waiter: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._query_waiters[query_id] = waiter
        try:
            self.on_tasks([TaskRow(
                namespace, record.task_queue, TaskKind.QUERY, record.workflow_id, record.run_id, query_id, 0, task_id
            )])
            try:
                await asyncio.wait_for(waiter, timeout)
            except TimeoutError:
                pass
        finally:
            self._query_waiters.pop(query_id, None)
            answered, result, error = await self.store.take_query(query_id, task_id)
        if not answered:
            raise DeadlineExceeded(
                f"no worker answered the query {query_type!r} within {timeout:.0f}s: is a worker for "
                f"workflow type {record.workflow_type!r} polling task queue {record.task_queue!r}?"
            )
        if error:
            raise QueryFailed(f"query {query_type!r} failed: {error}")
        return common_pb2.Payloads.FromString(result or b"")

    async def start_query_task(self, task: TaskRow) -> service_pb2.PollWorkflowTaskQueueResponse:
        """Hand a query to a workflow poller, with the run's whole history."""
        claimed = await self.store.claim_query(task.id, task.scheduled_event_id)
        if claimed is None:
            raise TaskGone("query no longer waiting")
        query_type, args = claimed
        key = (task.namespace, task.workflow_id, task.run_id)
        record = await self.store.load(*key)
        if record is None:
            raise TaskGone("run gone")
        history = H.History()
        for data in await self.store.read_events(*key):
            history.events.add().MergeFromString(data)
        token = internal_pb2.TaskToken(
            namespace=task.namespace, workflow_id=task.workflow_id, run_id=task.run_id,
            scheduled_event_id=task.scheduled_event_id, query=True,
        )
        return service_pb2.PollWorkflowTaskQueueResponse(
            task_token=encode_token(token),
            workflow_execution=C.WorkflowExecution(workflow_id=task.workflow_id, run_id=task.run_id),
            workflow_type=C.WorkflowType(name=record.workflow_type),
            history=history,
            query=service_pb2.WorkflowQuery(query_type=query_type, query_args=C.Payloads.FromString(args)),
        )

    async def answer_query(self, token: internal_pb2.TaskToken, result: common_pb2.Payloads, error: str) -> None:
        if not token.query:
            raise InvalidArgument("task_token is not a query task's token")
        if not await self.store.answer_query(token.scheduled_event_id, result.SerializeToString(), error):
            raise NotFound("the query is no longer waiting for an answer (it timed out)")
        waiter = self._query_waiters.get(token.scheduled_event_id)
        if waiter is not None and not waiter.done():
            waiter.set_result(None)
        else:
            self.notifier.publish("qa", str(token.scheduled_event_id))

    # -- workflow tasks ---------------------------------------------------------------------------

    async def record_workflow_task_started(
        self, task: TaskRow, identity: str
    ) -> service_pb2.PollWorkflowTaskQueueResponse:
        """Claim a workflow task for a poller and build its response (raises TaskGone if stale)."""
        key = (task.namespace, task.workflow_id, task.run_id)

        def op(ex: Execution) -> tuple[internal_pb2.WorkflowTaskState, int, str, list[C.UpdateRequest]]:
            wt = ex.state.workflow_task if ex.state.HasField("workflow_task") else None
            if (
                not ex.running
                or wt is None
                or wt.backing_off
                or wt.scheduled_event_id != task.scheduled_event_id
                or wt.started_event_id
            ):
                raise TaskGone("stale workflow task")
            ex.claimed_task_id = task.id
            event = ex.add_event(
                H.EVENT_TYPE_WORKFLOW_TASK_STARTED,
                workflow_task_started_event_attributes=H.WorkflowTaskStartedEventAttributes(
                    scheduled_event_id=wt.scheduled_event_id, identity=identity
                ),
            )
            wt.started_event_id = event.event_id
            wt.started_time.FromDatetime(ex.now)
            ex.set_timer(
                "wft",
                duration(ex.state.workflow_task_timeout),
                TimerKind.WORKFLOW_TASK_TIMEOUT,
                event.event_id,
                wt.attempt,
            )
            started = internal_pb2.WorkflowTaskState()
            started.CopyFrom(wt)
            updates = [
                copy_message(ex.state.pending_updates[uid])
                for uid in ex.state.pending_update_order
                if uid in ex.state.pending_updates
            ]
            return started, ex.state.last_completed_workflow_task_started_event_id, ex.record.workflow_type, updates

        try:
            wt, previous_started, workflow_type, updates = await self._update(key, op)
        except (TaskGone, NotFound):
            await self.store.pool.execute("DELETE FROM tasks WHERE id = $1", task.id)
            raise TaskGone("stale workflow task") from None
        attempt = wt.attempt
        # Up to this task's WorkflowTaskStarted: events appended since belong to the next task.
        events = await self.store.read_events(*key, 1, wt.started_event_id)
        history = H.History()
        for data in events:
            history.events.add().MergeFromString(data)
        token = internal_pb2.TaskToken(
            namespace=task.namespace,
            workflow_id=task.workflow_id,
            run_id=task.run_id,
            scheduled_event_id=wt.scheduled_event_id,
            started_event_id=wt.started_event_id,
            attempt=attempt,
        )
        return service_pb2.PollWorkflowTaskQueueResponse(
            task_token=encode_token(token),
            workflow_execution=C.WorkflowExecution(workflow_id=task.workflow_id, run_id=task.run_id),
            workflow_type=C.WorkflowType(name=workflow_type),
            previous_started_event_id=previous_started,
            started_event_id=wt.started_event_id,
            attempt=attempt,
            history=history,
            update_requests=updates,
            scheduled_time=wt.scheduled_time,
            started_time=wt.started_time,
        )

    @staticmethod
    def _started_workflow_task(ex: Execution, token: internal_pb2.TaskToken) -> internal_pb2.WorkflowTaskState:
        if not ex.running:
            raise NotFound(f"{ex.describe()} is already closed; its workflow task is gone")
        wt = ex.state.workflow_task if ex.state.HasField("workflow_task") else None
        if (
            wt is None
            or wt.scheduled_event_id != token.scheduled_event_id
            or wt.started_event_id != token.started_event_id
        ):
            raise NotFound(f"workflow task not found for {ex.describe()}: it timed out or was already answered")
        return wt

    async def complete_workflow_task(
        self,
        token: internal_pb2.TaskToken,
        commands: list[command_pb2.Command],
        identity: str,
        update_responses: Sequence[C.UpdateResponse] = (),
    ) -> CompletionResult:
        key = (token.namespace, token.workflow_id, token.run_id)

        def op(ex: Execution) -> CompletionResult:
            wt = self._started_workflow_task(ex, token)
            over = self._over_limit(ex, commands)
            if over is not None:
                return self._fail_for_limit(ex, wt, over, identity)
            error = self._validate_commands(ex, commands)
            if ex.state.workflow_task_needed and (
                (error is None and _closes(commands)) or _cancels_what_is_gone(ex, commands)
            ):
                # New events arrived while the worker ran: it must see them before the run may close.
                return self._fail_task(
                    ex, wt, C.WORKFLOW_TASK_FAILED_CAUSE_UNHANDLED_COMMAND,
                    C.Failure(message="new events arrived while the workflow task ran"), identity,
                    retry_now=True,
                )
            if error is not None:
                return self._fail_task(
                    ex, wt, C.WORKFLOW_TASK_FAILED_CAUSE_BAD_COMMAND_ATTRIBUTES,
                    C.Failure(message=error, source="wf-server"), identity,
                )
            ex.delete_timer("wft")
            completed = ex.add_event(
                H.EVENT_TYPE_WORKFLOW_TASK_COMPLETED,
                workflow_task_completed_event_attributes=H.WorkflowTaskCompletedEventAttributes(
                    scheduled_event_id=wt.scheduled_event_id,
                    started_event_id=wt.started_event_id,
                    identity=identity,
                ),
            )
            ex.state.last_completed_workflow_task_started_event_id = wt.started_event_id
            ex.state.ClearField("last_workflow_task_failure")
            ex.state.ClearField("workflow_task")
            result = CompletionResult()
            self._apply_update_responses(ex, update_responses, identity, completions=False)
            for command in commands:
                self._apply_command(ex, command, completed.event_id, result, identity)
                if ex.closes:
                    result.eager.clear()
                    break
            if not ex.closes:
                self._apply_update_responses(ex, update_responses, identity, completions=True)
            if not ex.closes and ex.state.workflow_task_needed:
                ex.schedule_workflow_task()
            return result

        return await self._update(key, op)

    def _apply_update_responses(
        self, ex: Execution, responses: Sequence[C.UpdateResponse], identity: str, *, completions: bool
    ) -> None:
        """Record what the worker said about updates: acceptances and rejections first (before the
        commands their handlers produced), completions after."""
        s = ex.state
        for r in responses:
            kind = r.WhichOneof("response")
            uid = r.update_id
            if not completions and kind in ("accepted", "rejected") and uid in s.pending_update_order:
                s.pending_update_order.remove(uid)
            if not completions and kind == "accepted" and uid in s.pending_updates:
                request = s.pending_updates.pop(uid)
                event = ex.add_event(
                    H.EVENT_TYPE_WORKFLOW_EXECUTION_UPDATE_ACCEPTED,
                    workflow_execution_update_accepted_event_attributes=H.WorkflowExecutionUpdateAcceptedEventAttributes(
                        update_id=uid, name=request.name, input=request.args, identity=request.identity or identity
                    ),
                )
                s.accepted_updates[uid] = event.event_id
                ex.updates_changed = True
            elif not completions and kind == "rejected" and uid in s.pending_updates:
                del s.pending_updates[uid]
                s.finished_updates[uid] = 0
                s.rejected_updates[uid].CopyFrom(r.rejected)
                ex.updates_changed = True
                ex.changed = True
            elif completions and kind == "completed" and uid in s.accepted_updates:
                del s.accepted_updates[uid]
                event = ex.add_event(
                    H.EVENT_TYPE_WORKFLOW_EXECUTION_UPDATE_COMPLETED,
                    workflow_execution_update_completed_event_attributes=H.WorkflowExecutionUpdateCompletedEventAttributes(
                        update_id=uid, outcome=r.completed
                    ),
                )
                s.finished_updates[uid] = event.event_id
                ex.updates_changed = True

    # -- updates ----------------------------------------------------------------------------------

    async def update(
        self, req: service_pb2.UpdateWorkflowExecutionRequest, max_wait: float
    ) -> service_pb2.UpdateWorkflowExecutionResponse:
        """Deliver an update (once per update id) and wait for the stage the caller asked for."""
        e = req.execution
        record = await self.resolve_run(req.namespace, e.workflow_id, e.run_id)
        key = (req.namespace, record.workflow_id, record.run_id)
        uid = req.update_id
        limits = self.limits

        def op(ex: Execution) -> None:
            s = ex.state
            if uid in s.pending_updates or uid in s.accepted_updates or uid in s.finished_updates:
                return  # a retry of an update already delivered: wait for the same outcome
            if not ex.running:
                raise FailedPrecondition(f"{ex.describe()} is already closed: the update was not delivered")
            if len(s.pending_updates) + len(s.accepted_updates) >= limits.max_updates_in_flight:
                raise LimitExceeded(
                    f"{ex.describe()} already has {limits.describe('max_updates_in_flight')} in flight"
                )
            if len(s.finished_updates) >= limits.max_updates_per_run:
                raise LimitExceeded(f"{ex.describe()} has had the {limits.describe('max_updates_per_run')}")
            s.pending_updates[uid].CopyFrom(
                C.UpdateRequest(update_id=uid, name=req.name, args=req.args, identity=req.identity)
            )
            s.pending_update_order.append(uid)
            ex.changed = True
            ex.schedule_workflow_task()

        await self._update(key, op)
        loop = asyncio.get_running_loop()
        deadline = loop.time() + max_wait
        while True:
            response = await self._update_outcome(key, uid, req.wait_stage)
            if response is not None:
                return response
            remaining = deadline - loop.time()
            if remaining <= 0:
                raise DeadlineExceeded(
                    f"update {uid!r} was not {'accepted' if req.wait_stage == 1 else 'completed'} in time; "
                    f"it stays delivered: ask again with the same update id (is a worker polling task queue "
                    f"{record.task_queue!r}?)"
                )
            await self.wait_for_change(key, min(remaining, 5.0))

    async def _update_outcome(
        self, key: tuple[str, str, str], uid: str, stage: int
    ) -> service_pb2.UpdateWorkflowExecutionResponse | None:
        record = await self.store.load(*key)
        if record is None:
            raise NotFound(f"workflow {key[1]!r} run {key[2]} not found")
        s = internal_pb2.MutableState.FromString(record.state)
        response = service_pb2.UpdateWorkflowExecutionResponse(update_id=uid, run_id=key[2])
        if uid in s.finished_updates:
            response.stage = service_pb2.UPDATE_WAIT_STAGE_COMPLETED
            event_id = s.finished_updates[uid]
            if event_id == 0:
                response.outcome.failure.CopyFrom(s.rejected_updates[uid])
            else:
                data = await self.store.read_event(*key, event_id)
                event = H.HistoryEvent.FromString(data or b"")
                response.outcome.CopyFrom(event.workflow_execution_update_completed_event_attributes.outcome)
            return response
        if uid in s.accepted_updates and stage == service_pb2.UPDATE_WAIT_STAGE_ACCEPTED:
            response.stage = service_pb2.UPDATE_WAIT_STAGE_ACCEPTED
            return response
        if record.status != RUNNING:
            raise FailedPrecondition(f"workflow {key[1]!r} (run {key[2]}) closed before update {uid!r} completed")
        return None

    async def eager_activity_tasks(
        self, token: internal_pb2.TaskToken, result: CompletionResult
    ) -> list[service_pb2.PollActivityTaskQueueResponse]:
        """Poll responses for the activities a workflow task completion started eagerly."""
        if not result.eager:
            return []
        record = await self._load((token.namespace, token.workflow_id, token.run_id))
        return [
            activity_task_response(token.namespace, token.workflow_id, token.run_id, record.workflow_type, a, input)
            for a, input in result.eager
        ]

    def _fail_task(
        self,
        ex: Execution,
        wt: internal_pb2.WorkflowTaskState,
        cause: int,
        failure: common_pb2.Failure,
        identity: str,
        *,
        retry_now: bool = False,
    ) -> CompletionResult:
        ex.delete_timer("wft")
        ex.add_event(
            H.EVENT_TYPE_WORKFLOW_TASK_FAILED,
            workflow_task_failed_event_attributes=H.WorkflowTaskFailedEventAttributes(
                scheduled_event_id=wt.scheduled_event_id,
                started_event_id=wt.started_event_id,
                cause=cause,  # type: ignore[arg-type]
                failure=failure,
                identity=identity,
            ),
        )
        ex.state.last_workflow_task_failure.CopyFrom(failure)
        attempt = wt.attempt
        ex.state.workflow_task_needed = False
        if retry_now:
            ex.state.ClearField("workflow_task")
            ex.schedule_workflow_task()
        else:
            ex.retry_workflow_task_later(attempt + 1)
        return CompletionResult(error=failure.message)

    def _over_limit(self, ex: Execution, commands: list[command_pb2.Command]) -> str | None:
        """The hard limit these commands would break, described, or None."""
        limits = self.limits
        for i, command in enumerate(commands):
            size = _payloads_size(command)
            if size > limits.max_payload_bytes:
                return (
                    f"command {i} ({command_pb2.CommandType.Name(command.command_type)}) carries {size:,} "
                    f"bytes of payload, over the {limits.describe('max_payload_bytes')}"
                )
        # Every command adds about one event; the completion and close add two more.
        events = ex.record.next_event_id - 1 + len(commands) + 2
        if events > limits.max_history_events:
            return f"the history would grow to {events:,} events, over the {limits.describe('max_history_events')}"
        if ex.record.history_size > limits.max_history_bytes:
            return (
                f"the history is {ex.record.history_size:,} bytes, over the "
                f"{limits.describe('max_history_bytes')}"
            )
        return None

    def _fail_for_limit(
        self, ex: Execution, wt: internal_pb2.WorkflowTaskState, reason: str, identity: str
    ) -> CompletionResult:
        """Past a hard limit the run fails for good, with a failure that names the limit."""
        ex.delete_timer("wft")
        failure = C.Failure(
            message=reason,
            source="wf-server",
            application_failure_info=C.ApplicationFailureInfo(type="LimitExceeded", non_retryable=True),
        )
        ex.add_event(
            H.EVENT_TYPE_WORKFLOW_TASK_FAILED,
            workflow_task_failed_event_attributes=H.WorkflowTaskFailedEventAttributes(
                scheduled_event_id=wt.scheduled_event_id,
                started_event_id=wt.started_event_id,
                cause=C.WORKFLOW_TASK_FAILED_CAUSE_PAYLOAD_TOO_LARGE,
                failure=failure,
                identity=identity,
            ),
        )
        ex.add_event(
            H.EVENT_TYPE_WORKFLOW_EXECUTION_FAILED,
            workflow_execution_failed_event_attributes=H.WorkflowExecutionFailedEventAttributes(
                failure=failure, retry_state=C.RETRY_STATE_NON_RETRYABLE_FAILURE
            ),
        )
        ex.close(C.WORKFLOW_EXECUTION_STATUS_FAILED)
        return CompletionResult()

    async def fail_workflow_task(
        self, token: internal_pb2.TaskToken, cause: int, failure: common_pb2.Failure, identity: str
    ) -> None:
        key = (token.namespace, token.workflow_id, token.run_id)

        def op(ex: Execution) -> None:
            wt = self._started_workflow_task(ex, token)
            self._fail_task(ex, wt, cause, failure, identity)

        await self._update(key, op)

    # -- commands ---------------------------------------------------------------------------------

    def _validate_commands(self, ex: Execution, commands: list[command_pb2.Command]) -> str | None:
        pending_ids = {a.activity_id for a in ex.state.activities.values()}
        timers = set(ex.state.timers)
        limits = self.limits
        for i, command in enumerate(commands):
            kind = command.WhichOneof("attributes")
            if kind is None:
                return f"command {i} has no attributes (command type {command.command_type})"
            if _is_close(command) and i != len(commands) - 1:
                return f"command {i} closes the workflow but is not the last command"
            if kind == "schedule_activity_task_command_attributes":
                a = command.schedule_activity_task_command_attributes
                if not a.activity_id:
                    return f"command {i}: activity_id is empty"
                if a.activity_id in pending_ids:
                    return f"command {i}: activity id {a.activity_id!r} is already in use by a pending activity"
                pending_ids.add(a.activity_id)
                if not a.activity_type.name:
                    return f"command {i}: activity_type is empty"
                if max(id_length(a.activity_id), id_length(a.activity_type.name)) > limits.max_id_length:
                    return f"command {i}: activity id or type is longer than the {limits.describe('max_id_length')}"
                if id_length(a.task_queue.name) > limits.max_id_length:
                    return f"command {i}: task queue name is longer than the {limits.describe('max_id_length')}"
                if "\x00" in a.task_queue.name:
                    return f"command {i}: task queue name must not contain NUL characters"
                for name in ("schedule_to_close_timeout", "schedule_to_start_timeout",
                             "start_to_close_timeout", "heartbeat_timeout"):
                    d = getattr(a, name)
                    if d.seconds < 0 or d.nanos < 0:
                        return f"command {i}: {name} must not be negative"
                    if d.seconds > MAX_DURATION_SECONDS:
                        return f"command {i}: {name} must not be longer than 100 years"
                if not is_set(a.schedule_to_close_timeout) and not is_set(a.start_to_close_timeout):
                    return f"command {i}: set schedule_to_close_timeout or start_to_close_timeout"
                problem = retry.validate(a.retry_policy)
                if problem:
                    return f"command {i}: {problem}"
                if len(pending_ids) > limits.max_pending_activities:
                    return f"command {i}: more pending activities than the {limits.describe('max_pending_activities')}"
            elif kind == "start_timer_command_attributes":
                t = command.start_timer_command_attributes
                if not t.timer_id or id_length(t.timer_id) > limits.max_id_length:
                    return f"command {i}: timer_id must be 1 to {limits.max_id_length} bytes"
                if t.timer_id in timers:
                    return f"command {i}: timer id {t.timer_id!r} is already in use by a pending timer"
                d = t.start_to_fire_timeout
                if d.seconds < 0 or d.nanos < 0 or not is_set(d):
                    return f"command {i}: start_to_fire_timeout must be positive"
                if d.seconds > MAX_DURATION_SECONDS:
                    return f"command {i}: start_to_fire_timeout must not be longer than 100 years"
                timers.add(t.timer_id)
                if len(timers) > limits.max_pending_timers:
                    return f"command {i}: more pending timers than the {limits.describe('max_pending_timers')}"
            elif kind == "cancel_timer_command_attributes":
                timer_id = command.cancel_timer_command_attributes.timer_id
                if timer_id not in timers:
                    return f"command {i}: no pending timer {timer_id!r} to cancel"
                timers.discard(timer_id)
            elif kind == "request_cancel_activity_task_command_attributes":
                sid = command.request_cancel_activity_task_command_attributes.scheduled_event_id
                if sid not in ex.state.activities:
                    return f"command {i}: no pending activity scheduled by event {sid} to cancel"
            elif kind not in _KNOWN_COMMANDS:
                return f"command {i}: unknown command {kind}"
        return None

    def _apply_command(
        self,
        ex: Execution,
        command: command_pb2.Command,
        completed_id: int,
        result: CompletionResult,
        identity: str,
    ) -> None:
        kind = command.WhichOneof("attributes")
        if kind == "schedule_activity_task_command_attributes":
            a = command.schedule_activity_task_command_attributes
            state = self._schedule_activity(ex, a, completed_id)
            if a.request_eager_execution and state.task_queue == ex.record.task_queue:
                # Started now, in this same commit, for the worker that asked: no task row, no poll.
                self._start_activity_attempt(ex, state, identity)
                started = internal_pb2.ActivityState()
                started.CopyFrom(state)
                result.eager.append((started, a.input))
            else:
                self._dispatch_activity_attempt(ex, state)
        elif kind == "complete_workflow_execution_command_attributes":
            ex.add_event(
                H.EVENT_TYPE_WORKFLOW_EXECUTION_COMPLETED,
                workflow_execution_completed_event_attributes=H.WorkflowExecutionCompletedEventAttributes(
                    result=command.complete_workflow_execution_command_attributes.result,
                    workflow_task_completed_event_id=completed_id,
                ),
            )
            ex.close(C.WORKFLOW_EXECUTION_STATUS_COMPLETED)
        elif kind == "fail_workflow_execution_command_attributes":
            ex.add_event(
                H.EVENT_TYPE_WORKFLOW_EXECUTION_FAILED,
                workflow_execution_failed_event_attributes=H.WorkflowExecutionFailedEventAttributes(
                    failure=command.fail_workflow_execution_command_attributes.failure,
                    retry_state=C.RETRY_STATE_RETRY_POLICY_NOT_SET,
                    workflow_task_completed_event_id=completed_id,
                ),
            )
            ex.close(C.WORKFLOW_EXECUTION_STATUS_FAILED)
        elif kind == "cancel_workflow_execution_command_attributes":
            ex.add_event(
                H.EVENT_TYPE_WORKFLOW_EXECUTION_CANCELED,
                workflow_execution_canceled_event_attributes=H.WorkflowExecutionCanceledEventAttributes(
                    workflow_task_completed_event_id=completed_id,
                    details=command.cancel_workflow_execution_command_attributes.details,
                ),
            )
            ex.close(C.WORKFLOW_EXECUTION_STATUS_CANCELED)
        elif kind == "start_timer_command_attributes":
            t = command.start_timer_command_attributes
            event = ex.add_event(
                H.EVENT_TYPE_TIMER_STARTED,
                timer_started_event_attributes=H.TimerStartedEventAttributes(
                    timer_id=t.timer_id,
                    start_to_fire_timeout=t.start_to_fire_timeout,
                    workflow_task_completed_event_id=completed_id,
                ),
            )
            ex.state.timers[t.timer_id] = event.event_id
            ex.set_timer(
                _user_timer_key(t.timer_id), duration(t.start_to_fire_timeout), TimerKind.USER_TIMER, event.event_id, 1
            )
        elif kind == "cancel_timer_command_attributes":
            timer_id = command.cancel_timer_command_attributes.timer_id
            started_id = ex.state.timers.pop(timer_id)
            ex.add_event(
                H.EVENT_TYPE_TIMER_CANCELED,
                timer_canceled_event_attributes=H.TimerCanceledEventAttributes(
                    timer_id=timer_id,
                    started_event_id=started_id,
                    workflow_task_completed_event_id=completed_id,
                    identity=identity,
                ),
            )
            ex.delete_timer(_user_timer_key(timer_id))
        elif kind == "request_cancel_activity_task_command_attributes":
            sid = command.request_cancel_activity_task_command_attributes.scheduled_event_id
            act = ex.state.activities[sid]
            requested = ex.add_event(
                H.EVENT_TYPE_ACTIVITY_TASK_CANCEL_REQUESTED,
                activity_task_cancel_requested_event_attributes=H.ActivityTaskCancelRequestedEventAttributes(
                    scheduled_event_id=sid, workflow_task_completed_event_id=completed_id
                ),
            )
            if act.HasField("started_time"):
                # The worker learns of it from its next heartbeat, and answers with a cancellation.
                act.cancel_requested = True
                act.cancel_requested_event_id = requested.event_id
            else:
                ex.add_event(
                    H.EVENT_TYPE_ACTIVITY_TASK_CANCELED,
                    activity_task_canceled_event_attributes=H.ActivityTaskCanceledEventAttributes(
                        latest_cancel_requested_event_id=requested.event_id, scheduled_event_id=sid
                    ),
                )
                self._finish_activity(ex, act)

    def _schedule_activity(
        self, ex: Execution, a: command_pb2.ScheduleActivityTaskCommandAttributes, completed_id: int
    ) -> internal_pb2.ActivityState:
        attrs = H.ActivityTaskScheduledEventAttributes(
            activity_id=a.activity_id,
            activity_type=a.activity_type,
            task_queue=C.TaskQueue(name=a.task_queue.name or ex.record.task_queue, kind=C.TASK_QUEUE_KIND_NORMAL),
            input=a.input,
            schedule_to_close_timeout=a.schedule_to_close_timeout,
            schedule_to_start_timeout=a.schedule_to_start_timeout,
            start_to_close_timeout=a.start_to_close_timeout,
            heartbeat_timeout=a.heartbeat_timeout,
            workflow_task_completed_event_id=completed_id,
            retry_policy=retry.with_defaults(a.retry_policy),
        )
        s2c = duration(a.schedule_to_close_timeout)
        if not is_set(attrs.start_to_close_timeout):
            attrs.start_to_close_timeout.CopyFrom(a.schedule_to_close_timeout)
        elif is_set(a.schedule_to_close_timeout) and duration(attrs.start_to_close_timeout) > s2c:
            attrs.start_to_close_timeout.CopyFrom(a.schedule_to_close_timeout)
        if is_set(a.schedule_to_close_timeout) and duration(a.schedule_to_start_timeout) > s2c:
            attrs.schedule_to_start_timeout.CopyFrom(a.schedule_to_close_timeout)
        event = ex.add_event(H.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED, activity_task_scheduled_event_attributes=attrs)
        sid = event.event_id
        state = ex.state.activities[sid]
        state.scheduled_event_id = sid
        state.activity_id = a.activity_id
        state.activity_type = a.activity_type.name
        state.task_queue = attrs.task_queue.name
        state.scheduled_time.FromDatetime(ex.now)
        state.current_attempt_scheduled_time.FromDatetime(ex.now)
        state.schedule_to_close_timeout.CopyFrom(attrs.schedule_to_close_timeout)
        state.schedule_to_start_timeout.CopyFrom(attrs.schedule_to_start_timeout)
        state.start_to_close_timeout.CopyFrom(attrs.start_to_close_timeout)
        state.heartbeat_timeout.CopyFrom(attrs.heartbeat_timeout)
        state.retry_policy.CopyFrom(attrs.retry_policy)
        state.attempt = 1
        if is_set(state.schedule_to_close_timeout):
            ex.set_timer(
                activity_timer_key(sid, "s2c"),
                duration(state.schedule_to_close_timeout),
                TimerKind.ACTIVITY_SCHEDULE_TO_CLOSE,
                sid,
                1,
            )
        return state

    @staticmethod
    def _start_activity_attempt(ex: Execution, a: internal_pb2.ActivityState, identity: str) -> None:
        a.started_time.FromDatetime(ex.now)
        a.last_worker_identity = identity
        ex.delete_timer(activity_timer_key(a.scheduled_event_id, "s2s"))
        ex.set_timer(
            activity_timer_key(a.scheduled_event_id, "stc"),
            duration(a.start_to_close_timeout),
            TimerKind.ACTIVITY_START_TO_CLOSE,
            a.scheduled_event_id,
            a.attempt,
        )
        if is_set(a.heartbeat_timeout):
            ex.set_timer(
                activity_timer_key(a.scheduled_event_id, "hb"),
                duration(a.heartbeat_timeout),
                TimerKind.ACTIVITY_HEARTBEAT,
                a.scheduled_event_id,
                a.attempt,
            )

    @staticmethod
    def _dispatch_activity_attempt(ex: Execution, a: internal_pb2.ActivityState) -> None:
        ex.add_task(TaskKind.ACTIVITY, a.task_queue, a.scheduled_event_id, a.attempt)
        if is_set(a.schedule_to_start_timeout):
            ex.set_timer(
                activity_timer_key(a.scheduled_event_id, "s2s"),
                duration(a.schedule_to_start_timeout),
                TimerKind.ACTIVITY_SCHEDULE_TO_START,
                a.scheduled_event_id,
                a.attempt,
            )

    # -- activity tasks ---------------------------------------------------------------------------

    async def record_activity_task_started(
        self, task: TaskRow, identity: str
    ) -> service_pb2.PollActivityTaskQueueResponse:
        key = (task.namespace, task.workflow_id, task.run_id)

        def op(ex: Execution) -> internal_pb2.ActivityState:
            a = ex.state.activities.get(task.scheduled_event_id) if ex.running else None
            if a is None or a.attempt != task.attempt or a.HasField("started_time") or a.backing_off:
                raise TaskGone("stale activity task")
            ex.claimed_task_id = task.id
            self._start_activity_attempt(ex, a, identity)
            result = internal_pb2.ActivityState()
            result.CopyFrom(a)
            return result

        try:
            a = await self._update(key, op)
        except (TaskGone, NotFound):
            await self.store.pool.execute("DELETE FROM tasks WHERE id = $1", task.id)
            raise TaskGone("stale activity task") from None
        record = await self._load(key)
        data = await self.store.read_event(*key, task.scheduled_event_id)
        scheduled = H.HistoryEvent.FromString(data or b"").activity_task_scheduled_event_attributes
        return activity_task_response(
            task.namespace, task.workflow_id, task.run_id, record.workflow_type, a, scheduled.input
        )

    @staticmethod
    def _started_activity(ex: Execution, token: internal_pb2.TaskToken) -> internal_pb2.ActivityState:
        if not ex.running:
            raise NotFound(f"{ex.describe()} is already closed; its activity is no longer wanted")
        a = ex.state.activities.get(token.scheduled_event_id)
        if a is None or a.attempt != token.attempt or not a.HasField("started_time"):
            raise NotFound(
                f"activity task not found for {ex.describe()}: it timed out, was retried or already answered"
            )
        return a

    def _record_activity_started_event(self, ex: Execution, a: internal_pb2.ActivityState) -> int:
        event = ex.add_event(
            H.EVENT_TYPE_ACTIVITY_TASK_STARTED,
            activity_task_started_event_attributes=H.ActivityTaskStartedEventAttributes(
                scheduled_event_id=a.scheduled_event_id,
                identity=a.last_worker_identity,
                attempt=a.attempt,
                last_failure=a.last_failure if a.HasField("last_failure") else None,
            ),
        )
        return event.event_id

    def _finish_activity(self, ex: Execution, a: internal_pb2.ActivityState) -> None:
        sid = a.scheduled_event_id
        for what in ("stc", "s2s", "s2c", "retry", "hb"):
            ex.delete_timer(activity_timer_key(sid, what))
        del ex.state.activities[sid]
        ex.schedule_workflow_task()

    async def complete_activity_task(
        self, token: internal_pb2.TaskToken, result: common_pb2.Payloads, identity: str
    ) -> None:
        key = (token.namespace, token.workflow_id, token.run_id)

        def op(ex: Execution) -> None:
            a = self._started_activity(ex, token)
            started_id = self._record_activity_started_event(ex, a)
            ex.add_event(
                H.EVENT_TYPE_ACTIVITY_TASK_COMPLETED,
                activity_task_completed_event_attributes=H.ActivityTaskCompletedEventAttributes(
                    result=result, scheduled_event_id=a.scheduled_event_id, started_event_id=started_id,
                    identity=identity,
                ),
            )
            self._finish_activity(ex, a)

        await self._update(key, op)

    async def fail_activity_task(
        self, token: internal_pb2.TaskToken, failure: common_pb2.Failure, identity: str
    ) -> None:
        key = (token.namespace, token.workflow_id, token.run_id)

        def op(ex: Execution) -> None:
            a = self._started_activity(ex, token)
            a.last_worker_identity = identity or a.last_worker_identity
            self._activity_attempt_failed(ex, a, failure)

        await self._update(key, op)

    async def heartbeat_activity_task(
        self, token: internal_pb2.TaskToken, details: common_pb2.Payloads, identity: str
    ) -> bool:
        """Record progress details; returns whether cancellation of the activity was requested."""
        key = (token.namespace, token.workflow_id, token.run_id)

        def op(ex: Execution) -> bool:
            a = self._started_activity(ex, token)
            a.heartbeat_details.CopyFrom(details)
            a.last_heartbeat_time.FromDatetime(ex.now)
            ex.changed = True
            if is_set(a.heartbeat_timeout):
                ex.set_timer(
                    activity_timer_key(a.scheduled_event_id, "hb"),
                    duration(a.heartbeat_timeout),
                    TimerKind.ACTIVITY_HEARTBEAT,
                    a.scheduled_event_id,
                    a.attempt,
                )
            return a.cancel_requested

        return await self._update(key, op)

    async def cancel_activity_task(
        self, token: internal_pb2.TaskToken, details: common_pb2.Payloads, identity: str
    ) -> None:
        """The activity stopped because its cancellation was requested."""
        key = (token.namespace, token.workflow_id, token.run_id)

        def op(ex: Execution) -> None:
            a = self._started_activity(ex, token)
            started_id = self._record_activity_started_event(ex, a)
            ex.add_event(
                H.EVENT_TYPE_ACTIVITY_TASK_CANCELED,
                activity_task_canceled_event_attributes=H.ActivityTaskCanceledEventAttributes(
                    details=details,
                    latest_cancel_requested_event_id=a.cancel_requested_event_id,
                    scheduled_event_id=a.scheduled_event_id,
                    started_event_id=started_id,
                    identity=identity,
                ),
            )
            self._finish_activity(ex, a)

        await self._update(key, op)

    def _activity_attempt_failed(
        self, ex: Execution, a: internal_pb2.ActivityState, failure: common_pb2.Failure
    ) -> None:
        """Retry the activity after its back-off, or record its final failure or timeout."""
        deadline = (
            a.scheduled_time.ToDatetime(UTC) + duration(a.schedule_to_close_timeout)
            if is_set(a.schedule_to_close_timeout)
            else None
        )
        delay, retry_state = retry.next_delay(a.retry_policy, a.attempt, failure, ex.now, deadline)
        sid = a.scheduled_event_id
        if delay is not None:
            a.last_failure.CopyFrom(failure)
            a.ClearField("started_time")
            a.backing_off = True
            a.attempt += 1
            ex.delete_timer(activity_timer_key(sid, "stc"))
            ex.delete_timer(activity_timer_key(sid, "hb"))
            a.cancel_requested = False
            ex.set_timer(activity_timer_key(sid, "retry"), delay, TimerKind.ACTIVITY_RETRY, sid, a.attempt)
            return
        started_id = self._record_activity_started_event(ex, a) if a.HasField("started_time") else 0
        if failure.HasField("timeout_failure_info"):
            if a.HasField("last_failure") and not failure.HasField("cause"):
                failure.cause.CopyFrom(a.last_failure)
            ex.add_event(
                H.EVENT_TYPE_ACTIVITY_TASK_TIMED_OUT,
                activity_task_timed_out_event_attributes=H.ActivityTaskTimedOutEventAttributes(
                    failure=failure, scheduled_event_id=sid, started_event_id=started_id,
                    retry_state=retry_state,  # type: ignore[arg-type]
                ),
            )
        else:
            ex.add_event(
                H.EVENT_TYPE_ACTIVITY_TASK_FAILED,
                activity_task_failed_event_attributes=H.ActivityTaskFailedEventAttributes(
                    failure=failure, scheduled_event_id=sid, started_event_id=started_id,
                    identity=a.last_worker_identity, retry_state=retry_state,  # type: ignore[arg-type]
                ),
            )
        self._finish_activity(ex, a)

    # -- timers -----------------------------------------------------------------------------------

    async def fire_timer(self, timer: TimerRow) -> None:
        """Act on a due timer; a timer made stale by later events only goes away."""
        key = (timer.namespace, timer.workflow_id, timer.run_id)

        def op(ex: Execution) -> None:
            ex.claimed_timer_key = timer.key
            ex.changed = True
            if ex.running:
                self._on_timer(ex, timer)

        try:
            await self._update(key, op)
        except TaskGone:
            pass  # another server fired it
        except NotFound:
            await self.store.pool.execute(
                "DELETE FROM timers WHERE namespace = $1 AND workflow_id = $2 AND run_id = $3 AND timer_key = $4",
                *key, timer.key,
            )

    def _on_timer(self, ex: Execution, timer: TimerRow) -> None:
        kind = timer.kind
        s = ex.state
        if kind == TimerKind.USER_TIMER:
            timer_id = timer.key[len(_USER_TIMER_PREFIX):]
            if s.timers.get(timer_id) == timer.event_id:
                del s.timers[timer_id]
                ex.add_event(
                    H.EVENT_TYPE_TIMER_FIRED,
                    timer_fired_event_attributes=H.TimerFiredEventAttributes(
                        timer_id=timer_id, started_event_id=timer.event_id
                    ),
                )
                ex.schedule_workflow_task()
            return
        if kind in (TimerKind.WORKFLOW_TASK_TIMEOUT, TimerKind.WORKFLOW_TASK_RETRY):
            wt = s.workflow_task if s.HasField("workflow_task") else None
            if wt is None or wt.attempt != timer.attempt:
                return
            if kind == TimerKind.WORKFLOW_TASK_RETRY and wt.backing_off:
                s.ClearField("workflow_task")
                ex.schedule_workflow_task(attempt=timer.attempt)
            elif kind == TimerKind.WORKFLOW_TASK_TIMEOUT and wt.started_event_id == timer.event_id:
                ex.add_event(
                    H.EVENT_TYPE_WORKFLOW_TASK_TIMED_OUT,
                    workflow_task_timed_out_event_attributes=H.WorkflowTaskTimedOutEventAttributes(
                        scheduled_event_id=wt.scheduled_event_id,
                        started_event_id=wt.started_event_id,
                        timeout_type=C.TIMEOUT_TYPE_START_TO_CLOSE,
                    ),
                )
                s.workflow_task_needed = False
                ex.retry_workflow_task_later(wt.attempt + 1)
            return
        if kind in (TimerKind.WORKFLOW_RUN_TIMEOUT, TimerKind.WORKFLOW_EXECUTION_TIMEOUT):
            ex.add_event(
                H.EVENT_TYPE_WORKFLOW_EXECUTION_TIMED_OUT,
                workflow_execution_timed_out_event_attributes=H.WorkflowExecutionTimedOutEventAttributes(
                    retry_state=C.RETRY_STATE_TIMEOUT
                ),
            )
            ex.close(C.WORKFLOW_EXECUTION_STATUS_TIMED_OUT)
            return
        a = s.activities.get(timer.event_id)
        if a is None:
            return
        started = a.HasField("started_time")
        if kind == TimerKind.ACTIVITY_RETRY:
            if a.backing_off and a.attempt == timer.attempt:
                a.backing_off = False
                a.current_attempt_scheduled_time.FromDatetime(ex.now)
                self._dispatch_activity_attempt(ex, a)
        elif kind == TimerKind.ACTIVITY_START_TO_CLOSE:
            if started and a.attempt == timer.attempt:
                self._activity_attempt_failed(ex, a, _timeout_failure(C.TIMEOUT_TYPE_START_TO_CLOSE))
        elif kind == TimerKind.ACTIVITY_HEARTBEAT:
            if started and a.attempt == timer.attempt:
                self._activity_attempt_failed(ex, a, _timeout_failure(C.TIMEOUT_TYPE_HEARTBEAT))
        elif kind == TimerKind.ACTIVITY_SCHEDULE_TO_START:
            if not started and not a.backing_off and a.attempt == timer.attempt:
                self._activity_timed_out(ex, a, C.TIMEOUT_TYPE_SCHEDULE_TO_START)
        elif kind == TimerKind.ACTIVITY_SCHEDULE_TO_CLOSE:
            self._activity_timed_out(ex, a, C.TIMEOUT_TYPE_SCHEDULE_TO_CLOSE)

    def _activity_timed_out(self, ex: Execution, a: internal_pb2.ActivityState, timeout_type: int) -> None:
        failure = _timeout_failure(timeout_type)
        if a.HasField("last_failure"):
            failure.cause.CopyFrom(a.last_failure)
        started_id = self._record_activity_started_event(ex, a) if a.HasField("started_time") else 0
        ex.add_event(
            H.EVENT_TYPE_ACTIVITY_TASK_TIMED_OUT,
            activity_task_timed_out_event_attributes=H.ActivityTaskTimedOutEventAttributes(
                failure=failure, scheduled_event_id=a.scheduled_event_id, started_event_id=started_id,
                retry_state=C.RETRY_STATE_TIMEOUT,
            ),
        )
        self._finish_activity(ex, a)

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
            data = await self.store.read_event(namespace, record.workflow_id, record.run_id, record.next_event_id - 1)
            if data:
                close = H.HistoryEvent.FromString(data)
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
        # From the database: another server may have moved the run on since this one cached it.
        record = await self.resolve_run(req.namespace, ex.workflow_id, ex.run_id)
        key = (req.namespace, record.workflow_id, record.run_id)
        first = int.from_bytes(req.next_page_token, "big") if req.next_page_token else 1
        page = req.maximum_page_size if req.maximum_page_size > 0 else 1000
        close_only = req.history_event_filter_type == service_pb2.HISTORY_EVENT_FILTER_TYPE_CLOSE_EVENT
        loop = asyncio.get_running_loop()
        deadline = loop.time() + max_wait
        while True:
            closed = record.status != RUNNING
            if close_only:
                if closed:
                    data = await self.store.read_event(*key, record.next_event_id - 1)
                    history = H.History(events=[H.HistoryEvent.FromString(data or b"")])
                    return service_pb2.GetWorkflowExecutionHistoryResponse(history=history, run_id=record.run_id)
                events: list[bytes] = []
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
            if remaining <= 0:
                token = first.to_bytes(8, "big")
                return service_pb2.GetWorkflowExecutionHistoryResponse(next_page_token=token, run_id=record.run_id)
            # Another server may change the run without telling us: look again now and then.
            woken = await self.wait_for_change(key, min(remaining, 5.0))
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


def activity_task_response(
    namespace: str,
    workflow_id: str,
    run_id: str,
    workflow_type: str,
    a: internal_pb2.ActivityState,
    input: common_pb2.Payloads,
) -> service_pb2.PollActivityTaskQueueResponse:
    """What a worker gets for a started activity attempt, by poll or eagerly."""
    token = internal_pb2.TaskToken(
        namespace=namespace,
        workflow_id=workflow_id,
        run_id=run_id,
        scheduled_event_id=a.scheduled_event_id,
        attempt=a.attempt,
    )
    return service_pb2.PollActivityTaskQueueResponse(
        task_token=encode_token(token),
        workflow_type=C.WorkflowType(name=workflow_type),
        workflow_execution=C.WorkflowExecution(workflow_id=workflow_id, run_id=run_id),
        activity_type=C.ActivityType(name=a.activity_type),
        activity_id=a.activity_id,
        input=input,
        scheduled_time=a.scheduled_time,
        current_attempt_scheduled_time=a.current_attempt_scheduled_time,
        started_time=a.started_time,
        attempt=a.attempt,
        schedule_to_close_timeout=a.schedule_to_close_timeout,
        start_to_close_timeout=a.start_to_close_timeout,
        heartbeat_timeout=a.heartbeat_timeout,
        retry_policy=a.retry_policy,
        heartbeat_details=a.heartbeat_details if a.HasField("heartbeat_details") else None,
        workflow_namespace=namespace,
    )


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


def _timeout_failure(timeout_type: int) -> common_pb2.Failure:
    names: dict[int, str] = {
        C.TIMEOUT_TYPE_START_TO_CLOSE: "start-to-close",
        C.TIMEOUT_TYPE_SCHEDULE_TO_START: "schedule-to-start",
        C.TIMEOUT_TYPE_SCHEDULE_TO_CLOSE: "schedule-to-close",
        C.TIMEOUT_TYPE_HEARTBEAT: "heartbeat",
    }
    return C.Failure(
        message=f"activity {names.get(timeout_type, 'unknown')} timeout",
        source="wf-server",
        timeout_failure_info=C.TimeoutFailureInfo(timeout_type=timeout_type),  # type: ignore[arg-type]
    )


def _payloads_size(message: Message) -> int:
    """Bytes of payload data anywhere inside ``message``."""
    if isinstance(message, C.Payload):
        return len(message.data) + sum(len(k) + len(v) for k, v in message.metadata.items())
    total = 0
    for field, value in message.ListFields():
        if field.message_type is None or field.message_type.GetOptions().map_entry:
            continue
        if field.is_repeated:
            total += sum(_payloads_size(v) for v in value)
        else:
            total += _payloads_size(value)
    return total


_KNOWN_COMMANDS = {
    "schedule_activity_task_command_attributes",
    "complete_workflow_execution_command_attributes",
    "fail_workflow_execution_command_attributes",
    "cancel_workflow_execution_command_attributes",
    "start_timer_command_attributes",
    "cancel_timer_command_attributes",
    "request_cancel_activity_task_command_attributes",
}
_USER_TIMER_PREFIX = "t:"


def _user_timer_key(timer_id: str) -> str:
    return _USER_TIMER_PREFIX + timer_id


def _cancels_what_is_gone(ex: Execution, commands: list[command_pb2.Command]) -> bool:
    """Whether a command cancels a timer or activity that finished while the workflow task ran."""
    started_here = set()
    for command in commands:
        kind = command.WhichOneof("attributes")
        if kind == "start_timer_command_attributes":
            started_here.add(command.start_timer_command_attributes.timer_id)
        elif kind == "cancel_timer_command_attributes":
            timer_id = command.cancel_timer_command_attributes.timer_id
            if timer_id not in ex.state.timers and timer_id not in started_here:
                return True
        elif kind == "request_cancel_activity_task_command_attributes":
            if command.request_cancel_activity_task_command_attributes.scheduled_event_id not in ex.state.activities:
                return True
    return False


def _is_close(command: command_pb2.Command) -> bool:
    return command.WhichOneof("attributes") in (
        "complete_workflow_execution_command_attributes",
        "fail_workflow_execution_command_attributes",
        "cancel_workflow_execution_command_attributes",
    )


def _closes(commands: list[command_pb2.Command]) -> bool:
    return any(_is_close(c) for c in commands)


__all__ = ["HistoryService", "TaskGone", "CompletionResult", "decode_token", "HistoryError", "FailedPrecondition"]
