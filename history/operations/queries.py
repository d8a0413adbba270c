"""Queries: asked of a worker of the run's task queue, answered through the database; nothing is
recorded in the history."""

from __future__ import annotations

import asyncio

from wf.history.errors import DeadlineExceeded, InvalidArgument, NotFound, QueryFailed, TaskGone
from wf.history.runs import Runs
from wf.history.tasks import TaskKind, TaskRow
from wf.v1 import common_pb2, history_pb2, internal_pb2, service_pb2

H = history_pb2
C = common_pb2


class Queries:
    def __init__(self, runs: Runs) -> None:
        self.runs = runs
        self._query_waiters: dict[int, asyncio.Future[None]] = {}
        runs.notifier.subscribe("qa", self._on_query_answered)

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
        record = await self.runs.resolve_run(namespace, workflow_id, run_id)
        query_id, task_id = await self.runs.store.create_query(
            namespace, record.workflow_id, record.run_id, record.task_queue, query_type, args.SerializeToString()
        )
        waiter: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._query_waiters[query_id] = waiter
        try:
            self.runs.on_tasks([TaskRow(
                namespace, record.task_queue, TaskKind.QUERY, record.workflow_id, record.run_id, query_id, 0, task_id
            )])
            try:
                await asyncio.wait_for(waiter, timeout)
            except TimeoutError:
                pass
        finally:
            self._query_waiters.pop(query_id, None)
            answered, result, error = await self.runs.store.take_query(query_id, task_id)
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
