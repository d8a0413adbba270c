"""Queries: asked of a worker of the run's task queue, answered through the database; nothing is
recorded in the history.

A query sees what was sent before it, as in Temporal. When the run has no workflow task scheduled or
running, the query is handed to a worker at once. Otherwise it waits for that task: its task row is
written with kind ``QUERY_AFTER_TASK``, which no poller reads, and becomes a plain query task once the
run has no workflow task pending (the worker then replays a history that holds everything sent before
the query). The wait goes through the database, so the query may be asked of any server: its server
notes the run on every server ("qb"), a server that commits a change of a noted run announces it
("qr", or in-process for its own queries), and the waiting query reads the run again. Notes and
announcements are hints: the query also reads the run again now and then on its own.

Nothing waits silently: a workflow task that keeps failing (attempt 3 and on) fails the query at
once, naming the failure, and at most ``max_waiting_queries`` queries wait per run.
"""

from __future__ import annotations

import asyncio
import contextlib

from wf.history.errors import (
    DeadlineExceeded,
    FailedPrecondition,
    InvalidArgument,
    LimitExceeded,
    NotFound,
    QueryFailed,
    TaskGone,
)
from wf.history.runs import RunKey, Runs
from wf.history.schema import RUNNING
from wf.history.store import ExecutionRecord
from wf.history.tasks import TaskKind, TaskRow
from wf.v1 import common_pb2, history_pb2, internal_pb2, service_pb2

H = history_pb2
C = common_pb2

REPLAY_CHECK_QUERY = "__wf_replay_check"
"""The built-in query a worker answers by replaying the run's history up to a reset point."""

FAILING_ATTEMPT = 3
"""From this attempt on a workflow task counts as failing: a query does not wait for it."""

_LOOK_AGAIN_FIRST = 0.05
_LOOK_AGAIN_MOST = 1.0
"""How often a waiting query reads its run again on its own (doubling from the first), in case a
change was committed before its note reached the server that made it."""


def _waits_for_workflow_task(record: ExecutionRecord) -> bool:
    """Whether a query of the run must wait for its workflow task (one is scheduled or running).

    Raises FailedPrecondition when that task keeps failing, or waits out a retry back-off: waiting
    would only run into the query's deadline.
    """
    if record.status != RUNNING:
        return False  # a closed run has no task to wait for: its history is whole
    state = internal_pb2.MutableState.FromString(record.state)
    if not state.HasField("workflow_task"):
        return False
    wt = state.workflow_task
    if wt.attempt >= FAILING_ATTEMPT or wt.backing_off:
        failure = state.last_workflow_task_failure
        why = failure.message if state.HasField("last_workflow_task_failure") else "it timed out"
        raise FailedPrecondition(
            f"workflow not ready: its workflow task is failing: {why} (attempt {wt.attempt})"
        )
    return True


class Queries:
    def __init__(self, runs: Runs) -> None:
        self.runs = runs
        self._query_waiters: dict[int, asyncio.Future[None]] = {}
        # Queries of this server waiting for a run's workflow task: woken when another server
        # announces a change of the run.
        self._task_waiters: dict[RunKey, set[asyncio.Event]] = {}
        runs.notifier.subscribe("qa", self._on_query_answered)
        runs.notifier.subscribe("qb", self._on_run_queried)
        runs.notifier.subscribe("qr", self._on_queried_run_changed)

    def _on_query_answered(self, body: str) -> None:
        if not body:
            for waiter in self._query_waiters.values():
                if not waiter.done():
                    waiter.set_result(None)  # the listener reconnected: look at the answers again
            return
        answered = self._query_waiters.get(int(body))
        if answered is not None and not answered.done():
            answered.set_result(None)

    def _on_run_queried(self, body: str) -> None:
        key, seconds = _run_key(body)
        if key is not None:
            self.runs.note_queried(key, seconds)

    def _on_queried_run_changed(self, body: str) -> None:
        if not body:  # the listener reconnected: any run may have changed
            for events in self._task_waiters.values():
                for event in events:
                    event.set()
            return
        key, _ = _run_key(body)
        for event in self._task_waiters.get(key, ()) if key is not None else ():
            event.set()

    async def query(
        self, namespace: str, workflow_id: str, run_id: str, query_type: str, args: common_pb2.Payloads,
        timeout: float,
    ) -> common_pb2.Payloads:
        """Have a worker of the run's task queue answer a query, after the run's pending workflow
        task if it has one; nothing is recorded."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        record = await self.runs.resolve_run(namespace, workflow_id, run_id)
        key = (namespace, record.workflow_id, record.run_id)
        store = self.runs.store
        # The replay check of a reset (``wf workflow reset --check``) reads only the history before
        # its reset point: it need not wait for a workflow task, which may be failing for good.
        waits = query_type != REPLAY_CHECK_QUERY and _waits_for_workflow_task(record)
        if waits:
            limit = self.runs.limits.max_waiting_queries
            created = await store.create_waiting_query(
                *key, record.task_queue, query_type, args.SerializeToString(), limit
            )
            if created is None:
                raise LimitExceeded(
                    f"workflow {record.workflow_id!r} already has {self.runs.limits.describe('max_waiting_queries')} "
                    "waiting for its workflow task; ask again once it is done"
                )
            query_id, task_id = created
        else:
            query_id, task_id = await store.create_query(
                *key, record.task_queue, query_type, args.SerializeToString()
            )
        task = TaskRow(namespace, record.task_queue, TaskKind.QUERY, record.workflow_id, record.run_id, query_id, 0,
                       task_id)
        waiter: asyncio.Future[None] = loop.create_future()
        self._query_waiters[query_id] = waiter
        try:
            if not waits or await self._wait_for_workflow_task(key, task_id, deadline):
                self.runs.on_tasks([task])
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(waiter, max(deadline - loop.time(), 0.0))
        finally:
            self._query_waiters.pop(query_id, None)
            answered, result, error = await store.take_query(query_id, task_id)
        if not answered:
            raise DeadlineExceeded(
                f"no worker answered the query {query_type!r} within {timeout:.0f}s: is a worker for "
                f"workflow type {record.workflow_type!r} polling task queue {record.task_queue!r}?"
            )
        if error:
            raise QueryFailed(f"query {query_type!r} failed: {error}")
        return common_pb2.Payloads.FromString(result or b"")

    async def _wait_for_workflow_task(self, key: RunKey, task_id: int, deadline: float) -> bool:
        """Wait until the run has no workflow task pending, then release the query's task row to
        pollers (True); False at ``deadline``. Raises FailedPrecondition when the task starts failing."""
        loop = asyncio.get_running_loop()
        event = asyncio.Event()
        self._task_waiters.setdefault(key, set()).add(event)
        look_again = _LOOK_AGAIN_FIRST
        try:
            while (remaining := deadline - loop.time()) > 0:
                self.runs.note_queried(key, remaining)
                self.runs.notifier.publish("qb", f"{_body(key)}\x1f{remaining:.3f}")
                changed_here = loop.create_task(self.runs.wait_for_change(key, min(look_again, remaining)))
                changed_elsewhere = loop.create_task(event.wait())
                try:
                    done, _ = await asyncio.wait(
                        (changed_here, changed_elsewhere), timeout=min(look_again, remaining),
                        return_when=asyncio.FIRST_COMPLETED,
                    )
                finally:
                    changed_here.cancel()
                    changed_elsewhere.cancel()
                event.clear()
                # Woken by a change: look again soon after the next one too; else less and less often.
                look_again = _LOOK_AGAIN_FIRST if done else min(look_again * 2, _LOOK_AGAIN_MOST)
                record = await self.runs.store.load(*key)
                if record is None or not _waits_for_workflow_task(record):
                    return await self.runs.store.release_query(task_id)
            return False
        finally:
            events = self._task_waiters[key]
            events.discard(event)
            if not events:
                del self._task_waiters[key]

    async def start_query_task(self, task: TaskRow) -> service_pb2.PollWorkflowTaskQueueResponse:
        """Hand a query to a workflow poller, with the run's whole history."""
        claimed = await self.runs.store.claim_query(task.id, task.scheduled_event_id)
        if claimed is None:
            raise TaskGone("query no longer waiting")
        query_type, args = claimed
        key = (task.namespace, task.workflow_id, task.run_id)
        record = await self.runs.store.load(*key)
        if record is None:
            raise TaskGone("run gone")
        history = H.History()
        for data in await self.runs.store.read_events(*key):
            history.events.add().MergeFromString(data)
        token = internal_pb2.TaskToken(
            namespace=task.namespace, workflow_id=task.workflow_id, run_id=task.run_id,
            scheduled_event_id=task.scheduled_event_id, query=True,
        )
        return service_pb2.PollWorkflowTaskQueueResponse(
            task_token=self.runs.tokens.sign(token),
            workflow_execution=C.WorkflowExecution(workflow_id=task.workflow_id, run_id=task.run_id),
            workflow_type=C.WorkflowType(name=record.workflow_type),
            history=history,
            query=service_pb2.WorkflowQuery(query_type=query_type, query_args=C.Payloads.FromString(args)),
        )

    async def answer_query(self, token: internal_pb2.TaskToken, result: common_pb2.Payloads, error: str) -> None:
        if not token.query:
            raise InvalidArgument("task_token is not a query task's token")
        if not await self.runs.store.answer_query(token.scheduled_event_id, result.SerializeToString(), error):
            raise NotFound("the query is no longer waiting for an answer (it timed out)")
        waiter = self._query_waiters.get(token.scheduled_event_id)
        if waiter is not None and not waiter.done():
            waiter.set_result(None)
        else:
            self.runs.notifier.publish("qa", str(token.scheduled_event_id))


def _body(key: RunKey) -> str:
    return "\x1f".join(key)


def _run_key(body: str) -> tuple[RunKey | None, float]:
    """The run a "qb" or "qr" message names, and for "qb" how long its query waits at most."""
    parts = body.split("\x1f")
    if len(parts) < 3:
        return None, 0.0
    seconds = 0.0
    if len(parts) == 4:
        with contextlib.suppress(ValueError):
            seconds = float(parts[3])
    return (parts[0], parts[1], parts[2]), seconds
