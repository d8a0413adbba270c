"""Talking to a running workflow: signals, cancellation requests, termination, queries and updates."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from typing import Any

from history._core import TaskGone, encode_token
from history.errors import (
    DeadlineExceeded,
    FailedPrecondition,
    InvalidArgument,
    LimitExceeded,
    NotFound,
    QueryFailed,
)
from history.mutable_state import RUNNING, Execution
from history.store import ExecutionRecord
from history.tasks import TaskKind, TaskRow
from history.timeouts import TimerOps
from wf.v1 import common_pb2, history_pb2, internal_pb2, service_pb2

H = history_pb2
C = common_pb2


class InteractionOps(TimerOps):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._query_waiters: dict[int, asyncio.Future[None]] = {}
        self.notifier.subscribe("qa", self._on_query_answered)

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
            if request_id and request_id in ex.state.recent_signal_request_ids:
                return  # a retry of a signal already recorded (even if the run has closed since)
            if not ex.running:
                raise FailedPrecondition(f"{ex.describe()} is already closed: the signal was not delivered")
            self._append_signal(ex, name, input, identity, request_id)
            if ex.changed:
                ex.schedule_workflow_task()

        await self._update((record.namespace, record.workflow_id, record.run_id), op)

    async def signal(self, req: service_pb2.SignalWorkflowExecutionRequest) -> None:
        e = req.workflow_execution
        record = await self.resolve_run(req.namespace, e.workflow_id, e.run_id)
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
