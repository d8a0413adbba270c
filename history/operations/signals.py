"""Signals, cancellation requests and termination of a running workflow."""

from __future__ import annotations

from wf.history.errors import FailedPrecondition
from wf.history.execution import RUNNING, Execution
from wf.history.runs import Runs
from wf.history.store import ExecutionRecord
from wf.v1 import common_pb2, service_pb2


class Signals:
    def __init__(self, runs: Runs) -> None:
        self.runs = runs

    async def _running(self, namespace: str, workflow_id: str, run_id: str) -> ExecutionRecord:
        """The named run (or the latest), which must be running."""
        record = await self.runs.resolve_run(namespace, workflow_id, run_id)
        if record.status != RUNNING:
            raise FailedPrecondition(f"workflow {workflow_id!r} (run {record.run_id}) is already closed")
        return record

    async def signal(self, req: service_pb2.SignalWorkflowExecutionRequest) -> None:
        e = req.workflow_execution
        record = await self.runs.resolve_run(req.namespace, e.workflow_id, e.run_id)
        while True:
            try:
                await self.signal_run(record, req.signal_name, req.input, req.identity, req.request_id)
                return
            except FailedPrecondition:
                # Addressed by workflow id, a signal whose run closed meanwhile (continued as new,
                # say) goes to the id's run that now runs, if a new one does.
                latest = None if e.run_id else await self.runs.store.latest_run(req.namespace, e.workflow_id)
                if latest is None or latest.run_id == record.run_id or latest.status != RUNNING:
                    raise
                record = latest

    async def signal_run(
        self, record: ExecutionRecord, name: str, input: common_pb2.Payloads, identity: str, request_id: str
    ) -> None:
        def op(ex: Execution) -> None:
            if request_id and request_id in ex.state.recent_signal_request_ids:
                return  # a retry of a signal already recorded (even if the run has closed since)
            if not ex.running:
                raise FailedPrecondition(f"{ex.describe()} is already closed: the signal was not delivered")
            if ex.add_signal(name, input, identity, request_id):
                ex.add_workflow_task_scheduled()

        await self.runs.update((record.namespace, record.workflow_id, record.run_id), op)

    async def request_cancel(self, namespace: str, workflow_id: str, run_id: str, reason: str, identity: str) -> None:
        record = await self._running(namespace, workflow_id, run_id)

        def op(ex: Execution) -> None:
            if not ex.running:
                raise FailedPrecondition(f"{ex.describe()} is already closed")
            ex.add_workflow_execution_cancel_requested(reason, identity)

        await self.runs.update((namespace, record.workflow_id, record.run_id), op)

    async def terminate(
        self, namespace: str, workflow_id: str, run_id: str, reason: str, details: common_pb2.Payloads, identity: str
    ) -> None:
        record = await self._running(namespace, workflow_id, run_id)

        def op(ex: Execution) -> None:
            if not ex.running:
                raise FailedPrecondition(f"{ex.describe()} is already closed")
            ex.add_workflow_execution_terminated(reason, details, identity)

        await self.runs.update((namespace, record.workflow_id, record.run_id), op)
