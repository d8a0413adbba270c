"""Activity tasks: starting them for pollers, heartbeats, and their results, failures and
cancellations as workers report them."""

from __future__ import annotations

from wf.history import shortcuts
from wf.history.errors import NotFound, TaskGone
from wf.history.execution import Execution
from wf.history.responses import started_activity_response
from wf.history.runs import Runs
from wf.history.tasks import TaskRow
from wf.history.tokens import run_key
from wf.v1 import common_pb2, internal_pb2, service_pb2


class Activities:
    def __init__(self, runs: Runs) -> None:
        self.runs = runs

    async def record_started(self, task: TaskRow, identity: str) -> service_pb2.PollActivityTaskQueueResponse:
        """Claim an activity task for a poller and build its response (raises TaskGone if stale)."""
        key = (task.namespace, task.workflow_id, task.run_id)

        def op(ex: Execution) -> internal_pb2.ActivityState:
            a = ex.waiting_activity(task)
            if a is None:
                raise TaskGone("stale activity task")
            ex.claim_task(task.id)
            ex.add_activity_task_started(a, identity)
            started = internal_pb2.ActivityState()
            started.CopyFrom(a)
            return started

        try:
            a = await self.runs.update(key, op)
        except (TaskGone, NotFound):
            await self.runs.store.drop_task(task.id)
            raise TaskGone("stale activity task") from None
        record = await self.runs.load(key)
        return await started_activity_response(self.runs.events, self.runs.tokens.sign, key, record.workflow_type, a)

    async def complete(
        self,
        token: internal_pb2.TaskToken,
        result: common_pb2.Payloads,
        identity: str,
        eager_workflow_task_queue: str = "",
    ) -> service_pb2.PollWorkflowTaskQueueResponse | None:
        """Record the result; with ``eager_workflow_task_queue`` (the worker's sticky queue), the
        run's next workflow task if it was scheduled there, started for this worker (shortcut (b))."""

        def op(ex: Execution) -> shortcuts.CallerHandoff | None:
            handoff = shortcuts.want_next_workflow_task(ex, eager_workflow_task_queue, identity)
            ex.add_activity_task_completed(ex.started_activity(token), result, identity)
            return handoff

        return await shortcuts.next_workflow_task(await self.runs.update(run_key(token), op))

    async def fail(self, token: internal_pb2.TaskToken, failure: common_pb2.Failure, identity: str) -> None:
        def op(ex: Execution) -> None:
            ex.add_activity_task_failed(ex.started_activity(token), failure, identity)

        await self.runs.update(run_key(token), op)

    async def heartbeat(self, token: internal_pb2.TaskToken, details: common_pb2.Payloads, identity: str) -> bool:
        """Record progress details; returns whether cancellation of the activity was requested."""

        def op(ex: Execution) -> bool:
            a = ex.started_activity(token)
            ex.record_activity_heartbeat(a, details)
            return a.cancel_requested

        return await self.runs.update(run_key(token), op)

    async def canceled(self, token: internal_pb2.TaskToken, details: common_pb2.Payloads, identity: str) -> None:
        """The activity stopped because its cancellation was requested."""

        def op(ex: Execution) -> None:
            ex.add_activity_task_canceled(ex.started_activity(token), details, identity)

        await self.runs.update(run_key(token), op)
