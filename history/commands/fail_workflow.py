"""FailWorkflowExecution: the run ends with the workflow's failure."""

from __future__ import annotations

from wf.history.commands.base import Applying, Batch, CommandHandler
from wf.history.execution import Execution
from wf.history.failures import bound_failure
from wf.v1 import command_pb2, common_pb2

Attrs = command_pb2.FailWorkflowExecutionCommandAttributes


class FailWorkflow(CommandHandler[Attrs]):
    attribute = "fail_workflow_execution_command_attributes"
    command_type = command_pb2.COMMAND_TYPE_FAIL_WORKFLOW_EXECUTION
    closes = True

    def validate(self, c: Attrs, batch: Batch) -> str | None:
        # Never refused for its failure: a chain too deep or texts too long are cut to the limits
        # instead (see wf.history.failures), so the run still ends, and ends readable.
        bound_failure(c.failure, batch.limits)
        return None

    def apply(self, ex: Execution, c: Attrs, applying: Applying) -> None:
        ex.add_workflow_execution_failed(c.failure, common_pb2.RETRY_STATE_RETRY_POLICY_NOT_SET, applying.completed_id)
