"""The history service: every change of a run, and every read of one, as callers ask for them.

A change of a run takes one path: :class:`~wf.history.runs.Runs` loads the run, the operation applies
itself through the :class:`~wf.history.execution.Execution`'s transitions (each appends its events and
its task and timer rows; the commands of a workflow task go through ``wf.history.commands``), and
``Runs`` commits the change as one statement guarded by the run's version. The operations live one
module per kind of change in ``wf.history.operations``; the round trips the server saves live in
``wf.history.shortcuts``. :class:`HistoryService` composes them and keeps the names callers use.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime, timedelta

from wf.history.errors import TaskGone
from wf.history.limits import Limits
from wf.history.namespaces import Namespaces
from wf.history.notify import Notifier
from wf.history.operations import children
from wf.history.operations.activities import Activities
from wf.history.operations.cross_run import CrossRun
from wf.history.operations.external import CancelExternal, SignalExternal
from wf.history.operations.queries import Queries
from wf.history.operations.reading import Reading
from wf.history.operations.reset import Resets
from wf.history.operations.signals import Signals
from wf.history.operations.start import Starts
from wf.history.operations.timers import Timers
from wf.history.operations.updates import Updates
from wf.history.operations.workflow_tasks import WorkflowTasks
from wf.history.responses import CompletionResult
from wf.history.retention import Retention
from wf.history.runs import Runs
from wf.history.schedules.service import Schedules
from wf.history.shortcuts import Ahead, AheadOutcome, Reserve, RunAhead
from wf.history.store import ExecutionRecord, Store
from wf.history.tasks import TaskRow, TimerKind, TimerRow
from wf.history.tokens import TaskTokens
from wf.history.visibility.listing import Visibility
from wf.history.visibility.registry import Registry
from wf.v1 import command_pb2, common_pb2, history_pb2, internal_pb2, service_pb2

C = common_pb2


class HistoryService:
    """Durable state machine of executions over :class:`Store`: the operations of ``history``."""

    def __init__(
        self,
        store: Store,
        notifier: Notifier,
        limits: Limits | None = None,
        *,
        tokens: TaskTokens,
        cache_size: int = 10_000,
        on_tasks: Callable[[list[TaskRow]], None] = lambda tasks: None,
        on_timer: Callable[[datetime], None] = lambda at: None,
        reserve: Reserve = lambda task: None,
        start_concurrency: int = 5,
    ) -> None:
        self.store = store
        self.notifier = notifier
        self.limits = limits or Limits()
        # Signs the task tokens of started tasks; callers verify the tokens workers send back with it.
        self.tokens = tokens
        self.runs = Runs(
            store, notifier, self.limits, tokens, cache_size=cache_size, on_tasks=on_tasks, on_timer=on_timer,
            reserve=reserve,
        )
        self.signals = Signals(self.runs)
        self.starts = Starts(self.runs, self.signals, start_concurrency)
        self.workflow_tasks = WorkflowTasks(self.runs)
        self.activities = Activities(self.runs)
        self.run_ahead = RunAhead(self.runs, self.workflow_tasks)
        self.queries = Queries(self.runs)
        self.updates = Updates(self.runs)
        # Each kind of cross-run task registers here (``wf.history.operations.cross_run``).
        self.cross_run = CrossRun(self.runs)
        children.register(self.cross_run, self.runs, self.starts, self.signals)
        self.cross_run.register(TimerKind.SIGNAL_EXTERNAL, SignalExternal(self.runs, self.signals))
        self.cross_run.register(TimerKind.CANCEL_EXTERNAL, CancelExternal(self.runs, self.signals))
        self.timers = Timers(self.runs, self.cross_run)
        # Visibility: the namespace's search attributes registry, and list/count by query.
        self.search_attributes = Registry(store)
        self.visibility = Visibility(store, self.search_attributes)
        self.starts.search_attributes = self.search_attributes
        self.workflow_tasks.search_attributes = self.search_attributes
        self.reading = Reading(self.runs, self.visibility)
        self.resets = Resets(self.runs)
        # Namespaces (every call's namespace is checked against them) and deleting runs (retention,
        # DeleteWorkflowExecution, deleted namespaces).
        self.namespaces = Namespaces(store, self.limits)
        self.retention = Retention(self.runs, self.signals)
        # Schedules: their requests, the loop that takes their times (assembled by the server), and
        # the cross-run task that brings a scheduled run's close back to its schedule.
        self.schedules = Schedules(self.runs, self.signals, self.search_attributes, self.cross_run)

    @property
    def on_timer(self) -> Callable[[datetime], None]:
        """Told the fire time of the earliest timer each commit writes (the timer processor's wake)."""
        return self.runs.on_timer

    @on_timer.setter
    def on_timer(self, wake: Callable[[datetime], None]) -> None:
        self.runs.on_timer = wake

    # -- starting ---------------------------------------------------------------------------------

    async def start_workflow(self, req: service_pb2.StartWorkflowExecutionRequest) -> tuple[str, bool]:
        """Start a run; returns (run id, started). A repeated request id returns the first run."""
        return await self.starts.start(req)

    # -- workflow tasks ---------------------------------------------------------------------------

    async def record_workflow_task_started(
        self, task: TaskRow, identity: str
    ) -> service_pb2.PollWorkflowTaskQueueResponse:
        return await self.workflow_tasks.record_started(task, identity)

    async def complete_workflow_task(
        self,
        token: internal_pb2.TaskToken,
        commands: list[command_pb2.Command],
        identity: str,
        update_responses: Sequence[C.UpdateResponse] = (),
        sticky_task_queue: str = "",
        sticky_timeout: timedelta = timedelta(seconds=5),
    ) -> CompletionResult:
        return await self.workflow_tasks.complete(
            token, commands, identity, update_responses, sticky_task_queue, sticky_timeout
        )

    async def fail_workflow_task(
        self, token: internal_pb2.TaskToken, cause: int, failure: common_pb2.Failure, identity: str
    ) -> None:
        await self.workflow_tasks.fail(token, cause, failure, identity)

    async def new_events(self, token: internal_pb2.TaskToken, result: CompletionResult) -> history_pb2.History:
        return await self.workflow_tasks.new_events(token, result)

    async def eager_activity_tasks(
        self, token: internal_pb2.TaskToken, result: CompletionResult
    ) -> list[service_pb2.PollActivityTaskQueueResponse]:
        return await self.workflow_tasks.eager_activity_tasks(token, result)

    # -- activity tasks ---------------------------------------------------------------------------

    async def record_activity_task_started(
        self, task: TaskRow, identity: str
    ) -> service_pb2.PollActivityTaskQueueResponse:
        return await self.activities.record_started(task, identity)

    async def complete_activity_task(
        self,
        token: internal_pb2.TaskToken,
        result: common_pb2.Payloads,
        identity: str,
        eager_workflow_task_queue: str = "",
    ) -> service_pb2.PollWorkflowTaskQueueResponse | None:
        return await self.activities.complete(token, result, identity, eager_workflow_task_queue)

    async def complete_activity_task_ahead(
        self,
        token: internal_pb2.TaskToken,
        result: common_pb2.Payloads,
        identity: str,
        ahead: Ahead,
        eager_workflow_task_queue: str = "",
    ) -> AheadOutcome:
        return await self.run_ahead.complete_activity_task_ahead(
            token, result, identity, ahead, eager_workflow_task_queue
        )

    async def fail_activity_task(
        self, token: internal_pb2.TaskToken, failure: common_pb2.Failure, identity: str
    ) -> None:
        await self.activities.fail(token, failure, identity)

    async def heartbeat_activity_task(
        self, token: internal_pb2.TaskToken, details: common_pb2.Payloads, identity: str
    ) -> bool:
        return await self.activities.heartbeat(token, details, identity)

    async def cancel_activity_task(
        self, token: internal_pb2.TaskToken, details: common_pb2.Payloads, identity: str
    ) -> None:
        await self.activities.canceled(token, details, identity)

    # -- activity tasks answered by activity id (completed from outside the worker) ----------------------

    async def complete_activity_by_id(
        self, namespace: str, workflow_id: str, run_id: str, activity_id: str, result: common_pb2.Payloads,
        identity: str,
    ) -> None:
        await self.activities.complete_by_id(namespace, workflow_id, run_id, activity_id, result, identity)

    async def fail_activity_by_id(
        self, namespace: str, workflow_id: str, run_id: str, activity_id: str, failure: common_pb2.Failure,
        identity: str,
    ) -> None:
        await self.activities.fail_by_id(namespace, workflow_id, run_id, activity_id, failure, identity)

    async def heartbeat_activity_by_id(
        self, namespace: str, workflow_id: str, run_id: str, activity_id: str, details: common_pb2.Payloads,
        identity: str,
    ) -> bool:
        return await self.activities.heartbeat_by_id(namespace, workflow_id, run_id, activity_id, details, identity)

    async def cancel_activity_by_id(
        self, namespace: str, workflow_id: str, run_id: str, activity_id: str, details: common_pb2.Payloads,
        identity: str,
    ) -> None:
        await self.activities.canceled_by_id(namespace, workflow_id, run_id, activity_id, details, identity)

    # -- signals, cancellation, termination, queries, updates ------------------------------------------

    async def signal(self, req: service_pb2.SignalWorkflowExecutionRequest) -> None:
        await self.signals.signal(req)

    async def request_cancel(self, namespace: str, workflow_id: str, run_id: str, reason: str, identity: str) -> None:
        await self.signals.request_cancel(namespace, workflow_id, run_id, reason, identity)

    async def terminate(
        self, namespace: str, workflow_id: str, run_id: str, reason: str, details: common_pb2.Payloads, identity: str
    ) -> None:
        await self.signals.terminate(namespace, workflow_id, run_id, reason, details, identity)

    async def reset(self, req: service_pb2.ResetWorkflowExecutionRequest) -> str:
        """A new run from the base run's history up to a workflow task; returns its run id."""
        return await self.resets.reset(req)

    async def query(
        self, namespace: str, workflow_id: str, run_id: str, query_type: str, args: common_pb2.Payloads,
        timeout: float,
    ) -> common_pb2.Payloads:
        return await self.queries.query(namespace, workflow_id, run_id, query_type, args, timeout)

    async def start_query_task(self, task: TaskRow) -> service_pb2.PollWorkflowTaskQueueResponse:
        return await self.queries.start_query_task(task)

    async def answer_query(self, token: internal_pb2.TaskToken, result: common_pb2.Payloads, error: str) -> None:
        await self.queries.answer_query(token, result, error)

    async def update(
        self, req: service_pb2.UpdateWorkflowExecutionRequest, max_wait: float
    ) -> service_pb2.UpdateWorkflowExecutionResponse:
        return await self.updates.update(req, max_wait)

    # -- timers -----------------------------------------------------------------------------------

    async def fire_timer(self, timer: TimerRow) -> None:
        """Act on a due timer; a timer made stale by later events only goes away."""
        await self.timers.fire(timer)

    # -- reading and waiting ------------------------------------------------------------------------

    async def resolve_run(self, namespace: str, workflow_id: str, run_id: str) -> ExecutionRecord:
        return await self.runs.resolve_run(namespace, workflow_id, run_id)

    async def describe(
        self, namespace: str, workflow_id: str, run_id: str
    ) -> service_pb2.DescribeWorkflowExecutionResponse:
        return await self.reading.describe(namespace, workflow_id, run_id)

    async def get_history(
        self, req: service_pb2.GetWorkflowExecutionHistoryRequest, max_wait: float
    ) -> service_pb2.GetWorkflowExecutionHistoryResponse:
        return await self.reading.get_history(req, max_wait)

    async def list_executions(
        self, namespace: str, query: str, page_size: int, token: bytes
    ) -> service_pb2.ListWorkflowExecutionsResponse:
        return await self.reading.list_executions(namespace, query, page_size, token)

    async def count_executions(self, namespace: str, query: str) -> service_pb2.CountWorkflowExecutionsResponse:
        return await self.reading.count_executions(namespace, query)

    async def wait_for_change(self, key: tuple[str, str, str], timeout: float, *, close_only: bool = False) -> bool:
        return await self.runs.wait_for_change(key, timeout, close_only=close_only)

    def stop_waits(self) -> None:
        """The server stops: every history long poll answers now, and new ones at once."""
        self.runs.stop_waits()


__all__ = [
    "Ahead", "AheadOutcome", "CompletionResult", "HistoryService", "TaskGone", "TaskTokens",
]
