"""CancelWorkflowExecution: the run ends, canceled as it was asked to be."""

from __future__ import annotations

from wf.history.commands.base import Applying, Batch, CommandHandler
from wf.history.execution import Execution
from wf.v1 import command_pb2

Attrs = command_pb2.CancelWorkflowExecutionCommandAttributes


class CancelWorkflow(CommandHandler[Attrs]):
    attribute = "cancel_workflow_execution_command_attributes"
    command_type = command_pb2.COMMAND_TYPE_CANCEL_WORKFLOW_EXECUTION
    closes = True

    def validate(self, c: Attrs, batch: Batch) -> str | None:
        return None

    def apply(self, ex: Execution, c: Attrs, applying: Applying) -> None:
        ex.add_workflow_execution_canceled(c.details, applying.completed_id)
