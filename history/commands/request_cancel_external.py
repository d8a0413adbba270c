"""RequestCancelExternalWorkflowExecution: ask another workflow (or a child) to cancel."""

from __future__ import annotations

from wf.history.commands.base import Applying, Batch, CommandHandler
from wf.history.execution import Execution
from wf.history.limits import id_length
from wf.v1 import command_pb2

Attrs = command_pb2.RequestCancelExternalWorkflowExecutionCommandAttributes


class RequestCancelExternal(CommandHandler[Attrs]):
    attribute = "request_cancel_external_workflow_execution_command_attributes"
    command_type = command_pb2.COMMAND_TYPE_REQUEST_CANCEL_EXTERNAL_WORKFLOW_EXECUTION

    def validate(self, c: Attrs, batch: Batch) -> str | None:
        limits = batch.limits
        if not c.workflow_id:
            return "workflow_id of the workflow to cancel is empty"
        for label, value in (("workflow id", c.workflow_id), ("run id", c.run_id), ("namespace", c.namespace)):
            if id_length(value) > limits.max_id_length:
                return f"the {label} of the workflow to cancel is longer than the {limits.describe('max_id_length')}"
            if "\x00" in value:
                return f"the {label} of the workflow to cancel must not contain NUL characters"
        ex = batch.ex
        if c.workflow_id == ex.record.workflow_id and c.run_id in ("", ex.record.run_id):
            return "a workflow cannot request its own cancellation with RequestCancelExternalWorkflowExecution"
        batch.new_cancel_requests += 1
        if len(ex.state.cancel_requests) + batch.new_cancel_requests > limits.max_pending_cancel_requests:
            return (
                "more pending cancellations of other workflows than the "
                f"{limits.describe('max_pending_cancel_requests')}"
            )
        return None

    def apply(self, ex: Execution, c: Attrs, applying: Applying) -> None:
        ex.add_request_cancel_external_workflow_execution_initiated(c, applying.completed_id)

    def acts_in(self, c: Attrs) -> str:
        return c.namespace

    def describe(self, c: Attrs) -> str:
        return f"{super().describe(c)}(workflow {c.workflow_id!r})"
