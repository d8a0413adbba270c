"""Activity tasks: starting them for pollers, heartbeats, and their results, failures and
cancellations as workers report them, by task token or by activity id.

An answer names its attempt either by the task token the attempt was started with, or (the ``…ById``
calls, for an activity completed from outside the worker) by workflow id, run id and activity id.
Both take the same transitions of the execution; by id, :func:`current_attempt` turns the activity
id into the token of the activity's current attempt, as Temporal does, so the rest is the token's
path. An answer that finds its attempt gone is refused with NotFound saying why (the run closed, the
activity finished, or the token is of an older attempt), and nothing is recorded.
"""

from __future__ import annotations

from wf.history import shortcuts
from wf.history.errors import NotFound, TaskGone
from wf.history.execution import Execution
from wf.history.responses import started_activity_response
from wf.history.runs import Runs
from wf.history.tasks import TaskRow
from wf.history.tokens import run_key
from wf.v1 import common_pb2, internal_pb2, service_pb2

RunKey = tuple[str, str, str]


def _closed(ex: Execution) -> NotFound:
    status = common_pb2.WorkflowExecutionStatus.Name(ex.record.status).removeprefix("WORKFLOW_EXECUTION_STATUS_")
    return NotFound(
        f"{ex.describe()} is closed ({status.replace('_', ' ').title().replace(' ', '')}): "
        "its activities are no longer wanted"
    )


def attempt_of(ex: Execution, token: internal_pb2.TaskToken, *, waiting: bool = False) -> internal_pb2.ActivityState:
    """The attempt ``token`` names, while it is the activity's current one and running (or, with
    ``waiting``, also while it waits to be started or to be retried); NotFound saying why not."""
    if not ex.running:
        raise _closed(ex)
    a = ex.state.activities.get(token.scheduled_event_id)
    if a is None:
        raise NotFound(
            f"the activity scheduled at event {token.scheduled_event_id} of {ex.describe()} has already "
            "finished (completed, failed, timed out or canceled)"
        )
    if a.attempt != token.attempt:
        raise NotFound(
            f"the task token is of an older attempt ({token.attempt}) of activity {a.activity_id!r} of "
            f"{ex.describe()}, which is at attempt {a.attempt} now"
        )
    if not a.HasField("started_time") and not waiting:
        raise NotFound(
            f"activity {a.activity_id!r} of {ex.describe()} is not running: attempt {a.attempt} "
            f"{'waits for its retry' if a.backing_off else 'waits for a worker to start it'}"
        )
    return a if waiting else ex.started_activity(token)


def current_attempt(ex: Execution, activity_id: str) -> internal_pb2.TaskToken:
    """The token of the current attempt of the run's pending activity ``activity_id`` (its scheduled
    event id and attempt): what an answer by id acts on. NotFound when the run is closed or has no
    pending activity of that id."""
    if not ex.running:
        raise _closed(ex)
    for a in ex.state.activities.values():
        if a.activity_id == activity_id:
            namespace, workflow_id, run_id = ex.key
            return internal_pb2.TaskToken(
                namespace=namespace, workflow_id=workflow_id, run_id=run_id,
                scheduled_event_id=a.scheduled_event_id, attempt=a.attempt,
            )
    raise NotFound(
        f"activity {activity_id!r} not found in {ex.describe()}: no pending activity has this id "
        "(it may have finished already)"
    )


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
            ex.add_activity_task_completed(attempt_of(ex, token), result, identity)
            return handoff

        return await shortcuts.next_workflow_task(await self.runs.update(run_key(token), op))

    async def fail(self, token: internal_pb2.TaskToken, failure: common_pb2.Failure, identity: str) -> None:
        def op(ex: Execution) -> None:
            ex.add_activity_task_failed(attempt_of(ex, token), failure, identity)

        await self.runs.update(run_key(token), op)

    async def heartbeat(self, token: internal_pb2.TaskToken, details: common_pb2.Payloads, identity: str) -> bool:
        """Record progress details; returns whether cancellation of the activity was requested."""

        def op(ex: Execution) -> bool:
            a = attempt_of(ex, token)
            ex.record_activity_heartbeat(a, details)
            return a.cancel_requested

        return await self.runs.update(run_key(token), op)

    async def canceled(self, token: internal_pb2.TaskToken, details: common_pb2.Payloads, identity: str) -> None:
        """The activity stopped because its cancellation was requested."""

        def op(ex: Execution) -> None:
            ex.add_activity_task_canceled(attempt_of(ex, token), details, identity)

        await self.runs.update(run_key(token), op)

    # -- answers by activity id ------------------------------------------------------------------------

    async def _run_of(self, namespace: str, workflow_id: str, run_id: str) -> RunKey:
        """The run an answer by id names: ``run_id``, or the workflow's latest run when it is empty."""
        record = await self.runs.resolve_run(namespace, workflow_id, run_id)
        return (record.namespace, record.workflow_id, record.run_id)

    @staticmethod
    def _by_id(ex: Execution, activity_id: str, identity: str, *, start: bool) -> internal_pb2.ActivityState:
        """The current attempt of ``activity_id``. With ``start``, an attempt not started yet (waiting
        for a worker, or for its retry) is started by ``identity`` first, as Temporal's completion and
        failure by id do; otherwise it must be running."""
        a = attempt_of(ex, current_attempt(ex, activity_id), waiting=start)
        if not a.HasField("started_time"):
            a.backing_off = False
            ex.add_activity_task_started(a, identity)
        return a

    async def complete_by_id(
        self, namespace: str, workflow_id: str, run_id: str, activity_id: str, result: common_pb2.Payloads,
        identity: str,
    ) -> None:
        def op(ex: Execution) -> None:
            ex.add_activity_task_completed(self._by_id(ex, activity_id, identity, start=True), result, identity)

        await self.runs.update(await self._run_of(namespace, workflow_id, run_id), op)

    async def fail_by_id(
        self, namespace: str, workflow_id: str, run_id: str, activity_id: str, failure: common_pb2.Failure,
        identity: str,
    ) -> None:
        """The current attempt failed: retried per the activity's retry policy, as from its worker."""

        def op(ex: Execution) -> None:
            ex.add_activity_task_failed(self._by_id(ex, activity_id, identity, start=True), failure, identity)

        await self.runs.update(await self._run_of(namespace, workflow_id, run_id), op)

    async def heartbeat_by_id(
        self, namespace: str, workflow_id: str, run_id: str, activity_id: str, details: common_pb2.Payloads,
        identity: str,
    ) -> bool:
        def op(ex: Execution) -> bool:
            a = self._by_id(ex, activity_id, identity, start=False)
            ex.record_activity_heartbeat(a, details)
            return a.cancel_requested

        return await self.runs.update(await self._run_of(namespace, workflow_id, run_id), op)

    async def canceled_by_id(
        self, namespace: str, workflow_id: str, run_id: str, activity_id: str, details: common_pb2.Payloads,
        identity: str,
    ) -> None:
        def op(ex: Execution) -> None:
            ex.add_activity_task_canceled(self._by_id(ex, activity_id, identity, start=False), details, identity)

        await self.runs.update(await self._run_of(namespace, workflow_id, run_id), op)
