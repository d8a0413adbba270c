"""Updates: delivering one (once per update id) to the workflow, recording what the worker said of
it, and waiting for the stage its caller asked for."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence

from wf.history.errors import DeadlineExceeded, FailedPrecondition, LimitExceeded, NotFound
from wf.history.execution import RUNNING, Execution
from wf.history.runs import RunKey, Runs
from wf.v1 import common_pb2, history_pb2, internal_pb2, service_pb2

H = history_pb2
C = common_pb2
CONTINUED_AS_NEW = C.WORKFLOW_EXECUTION_STATUS_CONTINUED_AS_NEW

UPDATE_ABORTED = "update aborted: the run continued as new before accepting it"
"""How the message of an update aborted by a continue-as-new begins. The SDK's client delivers such
an update again to the workflow id's running run (as Temporal's retryable abort); the status is
FAILED_PRECONDITION, which no client repeats to the same run by itself."""


class UpdateAborted(FailedPrecondition):
    """The update's run continued as new before accepting it: ask the workflow id's next run."""

    def __init__(self, key: RunKey, uid: str) -> None:
        super().__init__(
            f"{UPDATE_ABORTED} (workflow {key[1]!r}, run {key[2]}, update {uid!r}); deliver it again to the "
            "workflow id's running run"
        )


def apply_update_responses(
    ex: Execution, responses: Sequence[C.UpdateResponse], identity: str, *, completions: bool
) -> None:
    """Record what the worker said about updates: acceptances and rejections first (before the
    commands their handlers produced), completions after."""
    for r in responses:
        kind = r.WhichOneof("response")
        if not completions and kind == "accepted":
            ex.add_update_accepted(r.update_id, identity)
        elif not completions and kind == "rejected":
            ex.add_update_rejected(r.update_id, r.rejected)
        elif completions and kind == "completed":
            ex.add_update_completed(r.update_id, r.completed)


class Updates:
    def __init__(self, runs: Runs) -> None:
        self.runs = runs

    async def update(
        self, req: service_pb2.UpdateWorkflowExecutionRequest, max_wait: float
    ) -> service_pb2.UpdateWorkflowExecutionResponse:
        """Deliver an update (once per update id) and wait for the stage the caller asked for."""
        e = req.execution
        record = await self.runs.resolve_run(req.namespace, e.workflow_id, e.run_id)
        key = (req.namespace, record.workflow_id, record.run_id)
        uid = req.update_id

        def op(ex: Execution) -> None:
            s = ex.state
            limits = ex.limits
            if uid in s.pending_updates or uid in s.accepted_updates or uid in s.finished_updates:
                return  # a retry of an update already delivered: wait for the same outcome
            if ex.record.status == CONTINUED_AS_NEW:
                raise UpdateAborted(key, uid)
            if not ex.running:
                raise FailedPrecondition(f"{ex.describe()} is already closed: the update was not delivered")
            if len(s.pending_updates) + len(s.accepted_updates) >= limits.max_updates_in_flight:
                raise LimitExceeded(
                    f"{ex.describe()} already has {limits.describe('max_updates_in_flight')} in flight"
                )
            if len(s.finished_updates) >= limits.max_updates_per_run:
                raise LimitExceeded(f"{ex.describe()} has had the {limits.describe('max_updates_per_run')}")
            ex.add_update_requested(C.UpdateRequest(update_id=uid, name=req.name, args=req.args, identity=req.identity))

        await self.runs.update(key, op)
        loop = asyncio.get_running_loop()
        deadline = loop.time() + max_wait
        while True:
            response = await self._outcome(key, uid, req.wait_stage)
            if response is not None:
                return response
            remaining = deadline - loop.time()
            if remaining <= 0:
                raise DeadlineExceeded(
                    f"update {uid!r} was not {'accepted' if req.wait_stage == 1 else 'completed'} in time; "
                    f"it stays delivered: ask again with the same update id (is a worker polling task queue "
                    f"{record.task_queue!r}?)"
                )
            await self.runs.wait_for_change(key, min(remaining, 5.0))

    async def _outcome(self, key: RunKey, uid: str, stage: int) -> service_pb2.UpdateWorkflowExecutionResponse | None:
        store = self.runs.store
        record = await store.load(*key)
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
                data = await store.read_event(*key, event_id)
                event = H.HistoryEvent.FromString(data or b"")
                response.outcome.CopyFrom(event.workflow_execution_update_completed_event_attributes.outcome)
            return response
        if uid in s.accepted_updates and stage == service_pb2.UPDATE_WAIT_STAGE_ACCEPTED:
            response.stage = service_pb2.UPDATE_WAIT_STAGE_ACCEPTED
            return response
        if record.status == CONTINUED_AS_NEW and uid in s.pending_updates:
            raise UpdateAborted(key, uid)
        if record.status != RUNNING:
            raise FailedPrecondition(f"workflow {key[1]!r} (run {key[2]}) closed before update {uid!r} completed")
        return None
