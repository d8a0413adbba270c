"""The worker: long-polls a task queue, runs workflow tasks by replay and activities by calling them."""

from __future__ import annotations

import asyncio
import concurrent.futures
import logging
import time
import uuid
from collections import OrderedDict
from collections.abc import Callable, Coroutine, Sequence
from datetime import UTC, timedelta
from typing import Any, TypeVar

import grpc

from wf.v1 import command_pb2, common_pb2, history_pb2, service_pb2
from worker_sdk import _guard
from worker_sdk._activation import ResolveActivity
from worker_sdk._activity_runner import respond, run_activity
from worker_sdk._client import Client
from worker_sdk._definition import ActivityDefinition, WorkflowDefinition
from worker_sdk._failure import shorten, to_failure
from worker_sdk._instance import QueryError
from worker_sdk._replay import AheadInput, Replay, WorkflowTaskInput, run_query, run_workflow_activation
from worker_sdk._shortcuts import RunAhead, ServerClock
from worker_sdk._workflow_thread import run_on_workflow_thread
from worker_sdk.errors import NondeterminismError

log = logging.getLogger(__name__)
T = TypeVar("T")

_POLL_TIMEOUT = 70.0
# Back-off of a poller whose polls fail: doubles from the first up to the most.
_FIRST_BACKOFF = 0.1
_MAX_BACKOFF = 5.0  # the server answers empty after its long-poll timeout (60 s by default)
# Activities a workflow task may ask to get back started in its completion, skipping the task queue.
_MAX_EAGER_ACTIVITIES = 3
# Threads of the worker's own workflow-task executor: activations are CPU work under one interpreter
# lock, so more threads buy no speed; a few keep one stuck activation from holding up the others.
_WORKFLOW_THREADS = 4
# A cached run whose last event is one of these is not level with a completed workflow task.
_TASK_PENDING = (history_pb2.EVENT_TYPE_WORKFLOW_TASK_SCHEDULED, history_pb2.EVENT_TYPE_WORKFLOW_TASK_STARTED)


class Worker:
    """Runs workflows and activities from one task queue.

    Use it as ``async with Worker(...):`` (it runs in the background until the block ends) or
    ``await worker.run()`` (until :meth:`shutdown` is called or the task is cancelled).

    Args:
        client: the connected client to poll through.
        task_queue: the task queue to poll.
        workflows: ``@workflow.defn`` classes or functions this worker runs.
        activities: ``@activity.defn`` functions this worker runs.
        max_concurrent_workflow_tasks: workflow tasks run at once (replays are CPU work).
        max_concurrent_activities: activities run at once.
        workflow_task_pollers: long polls kept waiting on the task queue for workflow tasks, and
            four times as many on this worker's sticky queue.
        activity_task_pollers: long polls kept waiting for activity tasks.
        activity_executor: thread pool for ``def`` activities (default: one of
            ``max_concurrent_activities`` threads).
        workflow_task_executor: thread pool that runs workflow code (replays, queries), so that a
            long activation does not hold up this worker's polls and its activities' heartbeats
            (default: a small one of the worker's own, shut down with it).
        passthrough_modules: names of modules (each with its submodules) the determinism guard
            trusts as it trusts the standard library: their own calls to the clock, ``random``,
            files or the network are allowed while workflow code runs, e.g. a logging or metrics
            library it calls. Calls workflow code makes directly are refused all the same.
        max_cached_workflows: runs kept in memory between workflow tasks (least recently used go
            first); their next tasks come to this worker with only the new events. 0 replays every
            task from the whole history.
        sticky_queue_schedule_to_start_timeout: how long a cached run's next task waits for this
            worker before any worker gets it, with the whole history.
        deadlock_timeout: how long workflow code may run without yielding before its workflow task
            fails with the stuck code's stack (None turns detection off, e.g. in a debugger).
        graceful_shutdown_timeout: on shutdown, how long running activities may finish before they
            are cancelled (their tasks then time out on the server and are retried).
    """

    def __init__(
        self,
        client: Client,
        *,
        task_queue: str,
        workflows: Sequence[Any] = (),
        activities: Sequence[Any] = (),
        max_concurrent_workflow_tasks: int = 100,
        max_concurrent_activities: int = 100,
        workflow_task_pollers: int = 2,
        activity_task_pollers: int = 2,
        activity_executor: concurrent.futures.Executor | None = None,
        workflow_task_executor: concurrent.futures.ThreadPoolExecutor | None = None,
        passthrough_modules: Sequence[str] = (),
        graceful_shutdown_timeout: timedelta = timedelta(0),
        deadlock_timeout: timedelta | None = timedelta(seconds=2),
        max_cached_workflows: int = 1000,
        sticky_queue_schedule_to_start_timeout: timedelta = timedelta(seconds=5),
        identity: str | None = None,
    ) -> None:
        if not task_queue:
            raise ValueError("task_queue is required")
        if not workflows and not activities:
            raise ValueError("a Worker needs at least one workflow or activity")
        if max_concurrent_workflow_tasks < 1 or max_concurrent_activities < 1:
            raise ValueError("concurrency limits must be at least 1")
        self.client = client
        self.task_queue = task_queue
        self.identity = identity or client.identity
        self._workflows: dict[str, WorkflowDefinition] = {}
        for w in workflows:
            defn = WorkflowDefinition.of(w)
            if defn.name in self._workflows:
                raise ValueError(f"workflow type {defn.name!r} is registered twice")
            self._workflows[defn.name] = defn
        self._activities: dict[str, ActivityDefinition] = {}
        for a in activities:
            adefn = ActivityDefinition.of(a)
            if adefn.name in self._activities:
                raise ValueError(f"activity type {adefn.name!r} is registered twice")
            self._activities[adefn.name] = adefn
        self._wf_slots = asyncio.Semaphore(max_concurrent_workflow_tasks)
        self._act_slots = asyncio.Semaphore(max_concurrent_activities)
        self._wf_pollers = workflow_task_pollers
        self._act_pollers = activity_task_pollers
        self._own_executor = activity_executor is None and any(not a.is_async for a in self._activities.values())
        self._activity_executor = activity_executor or (
            concurrent.futures.ThreadPoolExecutor(max_concurrent_activities, thread_name_prefix="wf-activity")
            if self._own_executor
            else None
        )
        self._own_workflow_executor = workflow_task_executor is None
        self._workflow_executor = workflow_task_executor or concurrent.futures.ThreadPoolExecutor(
            min(max_concurrent_workflow_tasks, _WORKFLOW_THREADS), thread_name_prefix="wf-workflow"
        )
        if isinstance(passthrough_modules, str):
            raise TypeError("passthrough_modules takes a list of module names, not one string")
        self._passthrough = frozenset(passthrough_modules)
        self._graceful = graceful_shutdown_timeout
        self._cache: OrderedDict[str, Replay] = OrderedDict()
        # The time to propose for tasks run ahead (see ahead_answered).
        self._server_clock = ServerClock()
        self._max_cached = max(0, max_cached_workflows)
        self._sticky_queue = f"{self.identity}-{uuid.uuid4().hex}" if self._max_cached else ""
        self._sticky_timeout = sticky_queue_schedule_to_start_timeout
        self._deadlock_timeout = deadlock_timeout.total_seconds() if deadlock_timeout is not None else None
        self._stop = asyncio.Event()
        self._trouble = _PollTrouble(task_queue)
        self._run_task: asyncio.Task[None] | None = None
        self._workflow_tasks: set[asyncio.Task[None]] = set()
        self._activity_tasks: set[asyncio.Task[None]] = set()

    # -- lifecycle ---------------------------------------------------------------------------------

    async def run(self) -> None:
        """Poll and work until :meth:`shutdown` (or cancellation); then stop gracefully."""
        pollers: list[asyncio.Task[None]] = []
        if self._workflows:
            pollers += [asyncio.create_task(self._poll_workflow_tasks()) for _ in range(self._wf_pollers)]
            if self._sticky_queue:
                # Four times as many on the sticky queue: cached runs' tasks (a timer fired, an
                # activity done) must be taken ahead of new runs, and before their sticky timeout
                # sends them to the back of the task queue, even when that queue has a backlog. A
                # poll waiting when such a task is made gets it started in the same commit, which
                # spares the server a commit per task just when it is busiest.
                pollers += [
                    asyncio.create_task(self._poll_workflow_tasks(sticky=True)) for _ in range(4 * self._wf_pollers)
                ]
        if self._activities:
            pollers += [asyncio.create_task(self._poll_activity_tasks()) for _ in range(self._act_pollers)]
        try:
            await self._stop.wait()
        finally:
            for p in pollers:
                p.cancel()
            await asyncio.gather(*pollers, return_exceptions=True)
            await self._drain()

    async def _drain(self) -> None:
        if self._workflow_tasks:
            await asyncio.gather(*self._workflow_tasks, return_exceptions=True)
        if self._activity_tasks:
            pending = set(self._activity_tasks)
            if self._graceful.total_seconds() > 0:
                _, pending = await asyncio.wait(pending, timeout=self._graceful.total_seconds())
            # Past the graceful timeout: cancel them; the server times those attempts out and retries.
            for t in pending:
                t.cancel()
            if pending:
                await asyncio.gather(*pending, return_exceptions=True)
        if self._own_executor and self._activity_executor is not None:
            self._activity_executor.shutdown(wait=False)
        if self._own_workflow_executor:
            self._workflow_executor.shutdown(wait=False)

    async def shutdown(self) -> None:
        """Stop polling, let running tasks finish (activities up to the graceful timeout), return."""
        self._stop.set()
        if self._run_task is not None:
            await asyncio.gather(self._run_task, return_exceptions=True)

    async def __aenter__(self) -> Worker:
        self._run_task = asyncio.create_task(self.run(), name=f"wf worker {self.task_queue}")
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.shutdown()

    # -- polling -----------------------------------------------------------------------------------

    async def _poll_loop(
        self, slots: asyncio.Semaphore, poll: Any, handle: Any, running: set[asyncio.Task[None]], what: str
    ) -> None:
        """Poll and hand each task to ``handle`` in a slot of its own, until the worker stops.

        No error ends the loop: a worker whose pollers died would look alive and take no work. Any
        error (a gRPC status, a reply that cannot be decoded, a bug) is logged once while it lasts
        (see ``_PollTrouble``), and polling backs off from 0.1 s up to 5 s until a poll succeeds."""
        delay = _FIRST_BACKOFF
        while not self._stop.is_set():
            await slots.acquire()
            try:
                resp = await poll()
                if resp is None:  # how grpc.aio answers a reply its deserializer could not decode
                    raise _UndecodableReply("the server's reply could not be decoded")
                has_task = bool(resp.task_token)
            except grpc.aio.AioRpcError as exc:
                slots.release()
                if exc.code() == grpc.StatusCode.DEADLINE_EXCEEDED:
                    continue
                self._trouble.failed(what, exc, delay)
            except Exception as exc:
                slots.release()
                self._trouble.failed(what, exc, delay)
            except BaseException:  # cancelled: the worker is stopping
                slots.release()
                raise
            else:
                delay = _FIRST_BACKOFF
                self._trouble.recovered(what)
                if has_task:
                    _run_in_slot(handle(resp), running, slots, what)
                else:
                    slots.release()
                continue
            await asyncio.sleep(delay)
            delay = min(delay * 2, _MAX_BACKOFF)

    async def _poll_workflow_tasks(self, sticky: bool = False) -> None:
        queue = (
            common_pb2.TaskQueue(name=self._sticky_queue, kind=common_pb2.TASK_QUEUE_KIND_STICKY)
            if sticky
            else common_pb2.TaskQueue(name=self.task_queue)
        )
        req = service_pb2.PollWorkflowTaskQueueRequest(
            namespace=self.client.namespace, task_queue=queue, identity=self.identity
        )

        async def poll() -> service_pb2.PollWorkflowTaskQueueResponse:
            resp: service_pb2.PollWorkflowTaskQueueResponse = await self.client.service.PollWorkflowTaskQueue(
                req, timeout=_POLL_TIMEOUT
            )
            return resp

        await self._poll_loop(self._wf_slots, poll, self._handle_workflow_task, self._workflow_tasks, "workflow")

    async def _poll_activity_tasks(self) -> None:
        req = service_pb2.PollActivityTaskQueueRequest(
            namespace=self.client.namespace,
            task_queue=common_pb2.TaskQueue(name=self.task_queue),
            identity=self.identity,
        )

        async def poll() -> service_pb2.PollActivityTaskQueueResponse:
            resp: service_pb2.PollActivityTaskQueueResponse = await self.client.service.PollActivityTaskQueue(
                req, timeout=_POLL_TIMEOUT
            )
            return resp

        await self._poll_loop(self._act_slots, poll, self._handle_activity_task, self._activity_tasks, "activity")

    # -- workflow tasks ----------------------------------------------------------------------------

    async def _handle_query(self, resp: service_pb2.PollWorkflowTaskQueueResponse) -> None:
        conv = self.client.data_converter
        execution = resp.workflow_execution
        name = resp.workflow_type.name
        result = common_pb2.Payloads()
        error = ""
        try:
            if name not in self._workflows:
                raise QueryError(f"workflow type {name!r} is not registered on the worker that got the query")
            history = history_pb2.History()
            history.CopyFrom(resp.history)
            await conv.decode_message(history)
            args = common_pb2.Payloads()
            args.CopyFrom(resp.query.query_args)
            await conv.decode_message(args)
            task = WorkflowTaskInput(self.client.namespace, execution.workflow_id, execution.run_id, name, history)
            result = await self._on_workflow_thread(
                run_query,
                task,
                self._workflows.get,
                conv,
                resp.query.query_type,
                args,
                what=f"query {resp.query.query_type!r} of workflow {execution.workflow_id!r}",
            )
            await conv.encode_message(result)
        except QueryError as exc:
            error = str(exc)
        except Exception as exc:  # replay failed (nondeterminism, a bug): the caller learns why
            error = f"{type(exc).__name__}: {exc}"
        await self._respond(
            self.client.service.RespondQueryTaskCompleted,
            service_pb2.RespondQueryTaskCompletedRequest(
                task_token=resp.task_token, query_result=result, error_message=shorten(error)
            ),
        )

    async def _handle_workflow_task(self, resp: service_pb2.PollWorkflowTaskQueueResponse) -> None:
        if resp.HasField("query"):
            await self._handle_query(resp)
            return
        conv = self.client.data_converter
        execution = resp.workflow_execution
        name = resp.workflow_type.name
        try:
            if name not in self._workflows:
                raise _UnknownType(
                    f"workflow type {name!r} is not registered on this worker "
                    f"(task queue {self.task_queue!r} has: {', '.join(sorted(self._workflows)) or 'none'})"
                )
            history = history_pb2.History()
            history.CopyFrom(resp.history)
            await conv.decode_message(history)
            # Taken out while in use; put back only once the server has accepted the answer.
            cached = self._cache.pop(execution.run_id, None)
            if history.events and history.events[0].event_id != 1:
                # A sticky task: only the new events (some of which the cached run may have had back
                # with its last completion). Without the run in cache (evicted, or this worker
                # restarted), fetch the whole history instead.
                seen = cached.last_event_id + 1 - history.events[0].event_id if cached is not None else -1
                if 0 <= seen < len(history.events):
                    del history.events[:seen]
                else:
                    cached = None
                    history = await self._whole_history(execution, resp.started_event_id)
            else:
                cached = None
            requests = []
            for request in resp.update_requests:
                copy = common_pb2.UpdateRequest()
                copy.CopyFrom(request)
                await conv.decode_message(copy)
                requests.append(copy)
            task = WorkflowTaskInput(
                self.client.namespace, execution.workflow_id, execution.run_id, name, history, requests
            )
            commands, update_responses, replay = await self._activate(task, cached)
        except Exception as exc:
            if isinstance(exc, NondeterminismError):
                code = common_pb2.WORKFLOW_TASK_FAILED_CAUSE_NON_DETERMINISTIC_ERROR
            elif isinstance(exc, _UnknownType):
                code = common_pb2.WORKFLOW_TASK_FAILED_CAUSE_UNKNOWN_WORKFLOW_TYPE
            else:
                code = common_pb2.WORKFLOW_TASK_FAILED_CAUSE_WORKFLOW_WORKER_UNHANDLED_FAILURE
            log.warning(
                "workflow task of %s (%s) failed and will be retried: %s",
                execution.workflow_id, name, exc,
                # The traceback once per failing task, not on every retry of it.
                exc_info=resp.attempt <= 1 and not isinstance(exc, (NondeterminismError, _UnknownType)),
            )
            failure = to_failure(exc, conv)
            if isinstance(exc, _UnknownType):
                failure.stack_trace = ""  # the message says it all; the trace would show only the SDK
            await self._respond(
                self.client.service.RespondWorkflowTaskFailed,
                service_pb2.RespondWorkflowTaskFailedRequest(
                    task_token=resp.task_token, cause=code, failure=failure, identity=self.identity
                ),
            )
            return
        reserved = await self.reserve_eager_activities(commands)
        closes = replay.instance.finished
        answer = service_pb2.RespondWorkflowTaskCompletedRequest(
            task_token=resp.task_token, commands=commands, identity=self.identity,
            update_responses=update_responses,
        )
        if self._sticky_queue and not closes:
            answer.sticky_task_queue = self._sticky_queue
            answer.sticky_schedule_to_start_timeout.FromTimedelta(self._sticky_timeout)
            # Level with the history, the cached run can take its next task ahead of the server
            # when one of its activities completes here.
            answer.return_new_events = bool(self._activities)
        completed = await self._respond(self.client.service.RespondWorkflowTaskCompleted, answer)
        if completed is not None and self._sticky_queue and not closes:
            await self._keep(replay, completed.new_events, execution.run_id)
        self.run_eager(completed.activity_tasks if completed is not None else (), reserved)

    async def _keep(self, replay: Replay, new_events: history_pb2.History, run_id: str) -> None:
        """Cache a run the server has accepted an answer of, with the events that answer appended
        (for a task run ahead, only if they record what the run applied: see ``Replay.catch_up``)."""
        if new_events.events:
            try:
                events = history_pb2.History()
                events.CopyFrom(new_events)
                await self.client.data_converter.decode_message(events)
                replay.catch_up(events.events)
            except Exception as exc:  # not the workflow's doing: its next task replays the history
                log.warning("dropping workflow run %s from the cache: %s", run_id, exc)
                return
        if replay.instance.finished:
            return
        self._cache[run_id] = replay
        while len(self._cache) > self._max_cached:
            self._cache.popitem(last=False)

    async def _activate(
        self, task: WorkflowTaskInput, cached: Replay | None
    ) -> tuple[list[Any], list[common_pb2.UpdateResponse], Replay]:
        """Run the task's activation (on ``cached``, or on a replay of its whole history) on the
        workflow thread; its commands and update answers, encoded, and the run. Every activation,
        whether from a polled task or run ahead, comes through here."""
        conv = self.client.data_converter
        commands, update_responses, replay = await self._on_workflow_thread(
            run_workflow_activation,
            task,
            self._workflows.get,
            conv,
            cached,
            what=f"workflow {task.workflow_id!r} ({task.workflow_type})",
        )
        for command in commands:
            await conv.encode_message(command)
        for update_response in update_responses:
            await conv.encode_message(update_response)
        return commands, update_responses, replay

    async def _on_workflow_thread(self, fn: Callable[..., T], *args: Any, what: str) -> T:
        """``fn(*args)`` (workflow code) on the workflow-task executor, under the deadlock watch and
        with this worker's passthrough modules trusted by the determinism guard."""
        return await run_on_workflow_thread(
            self._workflow_executor, _passing_through, self._passthrough, fn, args,
            timeout=self._deadlock_timeout, what=what,
        )

    async def _whole_history(self, execution: common_pb2.WorkflowExecution, up_to: int) -> history_pb2.History:
        """The run's events 1 to ``up_to`` (decoded), for a sticky task whose run is not cached."""
        conv = self.client.data_converter
        history = history_pb2.History()
        token = b""
        while True:
            page = await self.client.call(
                self.client.service.GetWorkflowExecutionHistory,
                service_pb2.GetWorkflowExecutionHistoryRequest(
                    namespace=self.client.namespace, execution=execution, next_page_token=token
                ),
            )
            history.events.extend(e for e in page.history.events if e.event_id <= up_to)
            token = page.next_page_token
            if not token or (history.events and history.events[-1].event_id >= up_to):
                break
        await conv.decode_message(history)
        return history

    def _run_activity_in_slot(self, task: service_pb2.PollActivityTaskQueueResponse) -> None:
        """Run an activity whose slot is already taken; the slot is released when it ends."""
        _run_in_slot(self._handle_activity_task(task), self._activity_tasks, self._act_slots, "activity")

    async def _respond(self, method: Any, request: Any) -> Any:
        return await respond(self.client, method, request)

    # -- activities --------------------------------------------------------------------------------

    async def _handle_activity_task(self, resp: service_pb2.PollActivityTaskQueueResponse) -> None:
        """Run an activity attempt; its completion may bring back the next one, run in the same slot."""
        task: service_pb2.PollActivityTaskQueueResponse | None = resp
        while task is not None:
            task = await run_activity(
                self.client,
                task,
                self._activities.get(task.activity_type.name),
                task_queue=self.task_queue,
                identity=self.identity,
                registered=list(self._activities),
                executor=self._activity_executor,
                shortcuts=self,
            )

    # -- shortcuts: the worker's side of the round trips it saves (see _shortcuts) ----------------

    async def reserve_eager_activities(self, commands: Sequence[command_pb2.Command]) -> int:
        """Ask for activities this worker runs to come back started with the completion, one free
        activity slot each: that saves a poll and a database commit per activity."""
        reserved = 0
        if self._stop.is_set() or not self._activities:
            return 0
        for command in commands:
            if reserved >= _MAX_EAGER_ACTIVITIES or self._act_slots.locked():
                break
            if command.WhichOneof("attributes") != "schedule_activity_task_command_attributes":
                continue
            a = command.schedule_activity_task_command_attributes
            if a.task_queue.name in ("", self.task_queue) and a.activity_type.name in self._activities:
                await self._act_slots.acquire()  # does not wait: locked() was just checked
                a.request_eager_execution = True
                reserved += 1
        return reserved

    def run_eager(self, tasks: Sequence[service_pb2.PollActivityTaskQueueResponse], reserved: int) -> None:
        """Run the activities a completion started for this worker in the slots reserved for them."""
        for task in tasks[:reserved]:
            self._run_activity_in_slot(task)
        for _ in range(reserved - min(len(tasks), reserved)):
            self._act_slots.release()

    async def reserve_slot(self) -> str:
        """A workflow-task slot for the task an activity completion may bring back: the run's next
        workflow task, if it goes to this worker's sticky queue, saves a poll. '' when none is free."""
        if not self._sticky_queue or not self._workflows or self._stop.is_set() or self._wf_slots.locked():
            return ""
        await self._wf_slots.acquire()  # does not wait: locked() was just checked
        return self._sticky_queue

    def next_activity_queue(self) -> str:
        return "" if self._stop.is_set() else self.task_queue

    def run_returned(self, task: service_pb2.PollWorkflowTaskQueueResponse | None) -> None:
        if task is None or not task.task_token:
            self._wf_slots.release()
            return
        _run_in_slot(self._handle_workflow_task(task), self._workflow_tasks, self._wf_slots, "workflow")

    async def run_ahead(
        self, task: service_pb2.PollActivityTaskQueueResponse, result: common_pb2.Payloads
    ) -> RunAhead | None:
        """Run the next workflow task of ``task``'s run on the cached run, with ``result`` applied to
        it: the completion then records both in one commit. Only when the cached run is level with
        the history and awaits no other activity, so that nothing else is likely to have happened
        meanwhile; the server checks that nothing did. None when it is not run: the result then goes
        alone, as it would anyway."""
        try:
            return await self._run_ahead(task, result)
        except Exception:  # a bug in the SDK: never let it cost the activity's result
            log.exception("running the workflow task ahead failed; it runs from the history instead")
            return None

    async def _run_ahead(
        self, task: service_pb2.PollActivityTaskQueueResponse, result: common_pb2.Payloads
    ) -> RunAhead | None:
        execution = task.workflow_execution
        replay = self._cache.get(execution.run_id)
        if replay is None or self._stop.is_set():
            return None
        instance = replay.instance
        pending = instance.activities.get(task.activity_id)
        if (
            pending is None
            or not pending.scheduled_event_id
            or len(instance.activities) != 1
            or instance.finished
            or instance.reads_history_size  # only the server knows the size a task starts with
            or replay.expected
            or not replay.events
            or replay.events[-1].event_type in _TASK_PENDING
        ):
            return None
        del self._cache[execution.run_id]  # in use: back once the server has recorded the task
        after = replay.last_event_id
        now = self._server_clock.propose(not_before=task.started_time.ToDatetime(UTC))
        try:
            decoded = common_pb2.Payloads()
            decoded.CopyFrom(result)
            await self.client.data_converter.decode_message(decoded)
            resolve = ResolveActivity(task.activity_id, result=decoded)
            commands, update_responses, _ = await self._activate(
                WorkflowTaskInput(
                    self.client.namespace, execution.workflow_id, execution.run_id, task.workflow_type.name,
                    history_pb2.History(), ahead=AheadInput(resolve, now),
                ),
                replay,
            )
        except Exception as exc:
            # The run is dropped; its next task replays the history and reports this properly.
            log.debug("running workflow %s ahead failed: %s", execution.workflow_id, exc)
            return None
        ahead = service_pb2.WorkflowTaskAhead(
            after_event_id=after, commands=commands, update_responses=update_responses
        )
        ahead.started_time.FromDatetime(now)
        if not instance.finished:
            ahead.sticky_task_queue = self._sticky_queue
            ahead.sticky_schedule_to_start_timeout.FromTimedelta(self._sticky_timeout)
        # Last: from here on, the activity slots taken are given back in ahead_answered.
        reserved = await self.reserve_eager_activities(ahead.commands)
        return RunAhead(ahead, replay, reserved, execution.run_id)

    async def ahead_answered(
        self, ahead: RunAhead, response: service_pb2.RespondActivityTaskCompletedResponse | None
    ) -> None:
        """Keep the run if the server recorded the task it ran ahead as it was run (the events it
        authored are checked in ``Replay.catch_up``); otherwise its code ran past the history, and it
        is dropped (its next task replays the history)."""
        tasks: Sequence[service_pb2.PollActivityTaskQueueResponse] = ()
        if response is not None and response.workflow_task_ahead_completed:
            if response.new_events.events:
                await self._keep(ahead.replay, response.new_events, ahead.run_id)
            else:
                log.warning("dropping workflow run %s from the cache: its task run ahead came back without "
                            "the events recorded for it", ahead.run_id)
            tasks = response.activity_tasks
        elif response is not None and response.HasField("server_time"):
            # Refused for its time: later tasks run ahead propose the server's.
            self._server_clock.refused(response.server_time.ToDatetime(UTC))
        self.run_eager(tasks, ahead.reserved)


def _passing_through(modules: frozenset[str], fn: Callable[..., T], args: tuple[Any, ...]) -> T:
    if not modules:
        return fn(*args)
    with _guard.passing_through(modules):
        return fn(*args)


def _run_in_slot(
    work: Coroutine[Any, Any, None], running: set[asyncio.Task[None]], slots: asyncio.Semaphore, what: str
) -> None:
    """Run ``work`` in a slot already taken from ``slots``; the slot is given back when it ends. An
    error that escapes it (a bug: handlers answer the task whatever happens) is logged with its
    traceback; the task it was for is left to time out on the server, which then retries it."""
    task = asyncio.create_task(work)
    running.add(task)

    def done(t: asyncio.Task[None]) -> None:
        running.discard(t)
        slots.release()
        if not t.cancelled() and (exc := t.exception()) is not None:
            log.error("handling the %s task failed; it is left to time out and be retried", what, exc_info=exc)

    task.add_done_callback(done)


class _UnknownType(Exception):
    pass


class _UndecodableReply(Exception):
    pass


class _PollTrouble:
    """What went wrong with a worker's polls, so that an error is logged once while it lasts, not
    once per poller and retry: the first of a kind (its type, or its gRPC status) with its traceback,
    the repeats only counted, and one line when polls succeed again."""

    def __init__(self, task_queue: str) -> None:
        self._task_queue = task_queue
        # Per kind of task polled: the kinds of error seen, the errors counted, since when.
        self._seen: dict[str, tuple[set[str], int, float]] = {}

    def failed(self, what: str, exc: BaseException, delay: float) -> None:
        kinds, count, since = self._seen.get(what, (set(), 0, time.monotonic()))
        self._seen[what] = (kinds, count + 1, since)
        rpc = exc if isinstance(exc, grpc.aio.AioRpcError) else None
        kind = str(rpc.code()) if rpc is not None else type(exc).__name__
        if kind in kinds:
            log.debug("polling %s tasks on %r failed again: %s", what, self._task_queue, exc)
            return
        kinds.add(kind)
        detail = (rpc.details() or str(rpc.code())) if rpc is not None else f"{type(exc).__name__}: {exc}"
        log.warning(
            "polling %s tasks on %r failed (%s); polling on, backing off from %.1fs (repeats of this "
            "error are not logged until polls succeed again)",
            what, self._task_queue, detail, delay,
            # A gRPC status says it all; anything else is shown where it was raised.
            exc_info=None if rpc is not None else exc,
        )

    def recovered(self, what: str) -> None:
        trouble = self._seen.pop(what, None)
        if trouble is not None:
            _, count, since = trouble
            log.info(
                "polling %s tasks on %r works again after %d failed polls over %.1fs",
                what, self._task_queue, count, time.monotonic() - since,
            )
