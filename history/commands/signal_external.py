"""SignalExternalWorkflowExecution: signal another workflow (delivered by a cross-run task)."""

from __future__ import annotations

from wf.history.commands.base import Applying, Batch, CommandHandler
from wf.history.execution import Execution
from wf.history.limits import id_length
from wf.v1 import command_pb2

Attrs = command_pb2.SignalExternalWorkflowExecutionCommandAttributes


class SignalExternal(CommandHandler[Attrs]):
    attribute = "signal_external_workflow_execution_command_attributes"
    command_type = command_pb2.COMMAND_TYPE_SIGNAL_EXTERNAL_WORKFLOW_EXECUTION

    def validate(self, c: Attrs, batch: Batch) -> str | None:
        limits = batch.limits
        if not c.execution.workflow_id:
            return "the workflow id of the workflow to signal is empty"
        if not c.signal_name:
            return "signal_name is empty"
        names = (c.namespace, c.execution.workflow_id, c.execution.run_id, c.signal_name)
        if max(map(id_length, names)) > limits.max_id_length:
            return (
                "a namespace, workflow id, run id or signal name is longer than the "
                f"{limits.describe('max_id_length')}"
            )
        if any("\x00" in name for name in names):
            return "a namespace, workflow id, run id or signal name contains a NUL character"
        batch.pending_external_signals += 1
        if batch.pending_external_signals > limits.max_pending_signals:
            return f"more signals to other workflows pending than the {limits.describe('max_pending_signals')}"
        return None

    def apply(self, ex: Execution, c: Attrs, applying: Applying) -> None:
        ex.add_signal_external_workflow_execution_initiated(c, applying.completed_id)

    def acts_in(self, c: Attrs) -> str:
        return c.namespace

    def describe(self, c: Attrs) -> str:
        return f"{super().describe(c)}(signal {c.signal_name!r} to workflow {c.execution.workflow_id!r})"
