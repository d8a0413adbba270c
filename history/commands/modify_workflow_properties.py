"""ModifyWorkflowProperties: the workflow changes its memo (``workflow.upsert_memo``); a field set to
None is removed. The memo is shown by describe and never searched, so values are not checked."""

from __future__ import annotations

from wf.history.commands.base import Applying, Batch, CommandHandler
from wf.history.execution import Execution
from wf.history.limits import id_length
from wf.v1 import command_pb2

Attrs = command_pb2.ModifyWorkflowPropertiesCommandAttributes


class ModifyWorkflowProperties(CommandHandler[Attrs]):
    attribute = "modify_workflow_properties_command_attributes"
    command_type = command_pb2.COMMAND_TYPE_MODIFY_WORKFLOW_PROPERTIES

    def validate(self, c: Attrs, batch: Batch) -> str | None:
        if not c.upserted_memo.fields:
            return "upserted_memo: name at least one memo field"
        for name in c.upserted_memo.fields:
            if not name or id_length(name) > batch.limits.max_id_length or "\x00" in name:
                return f"memo field names must be 1 to {batch.limits.max_id_length} bytes without NUL"
        return None

    def apply(self, ex: Execution, c: Attrs, applying: Applying) -> None:
        ex.add_workflow_properties_modified(c.upserted_memo, applying.completed_id)

    def describe(self, c: Attrs) -> str:
        return f"{super().describe(c)}({', '.join(sorted(c.upserted_memo.fields))})"
