"""UpsertWorkflowSearchAttributes: the workflow sets (or, with None, removes) some of its search
attributes; each is checked against the namespace's registry, as at start, and recorded typed."""

from __future__ import annotations

from wf.history.commands.base import Applying, Batch, CommandHandler, typed_search_attributes
from wf.history.execution import Execution
from wf.history.visibility.attributes import MAX_PER_RUN, MAX_TOTAL_BYTES, merge_named
from wf.v1 import command_pb2

Attrs = command_pb2.UpsertWorkflowSearchAttributesCommandAttributes


class UpsertSearchAttributes(CommandHandler[Attrs]):
    attribute = "upsert_workflow_search_attributes_command_attributes"
    command_type = command_pb2.COMMAND_TYPE_UPSERT_WORKFLOW_SEARCH_ATTRIBUTES

    def validate(self, c: Attrs, batch: Batch) -> str | None:
        if not c.search_attributes.indexed_fields:
            return "search_attributes: name at least one search attribute to upsert"
        problem = typed_search_attributes(c.search_attributes, batch, removals=True)
        if problem is not None:
            return problem
        # The limits hold for what the run will have, not only for what this upsert sets.
        merged = merge_named(batch.ex.state.search_attributes.indexed_fields, c.search_attributes.indexed_fields)
        if len(merged) > MAX_PER_RUN:
            return f"a run may have at most {MAX_PER_RUN} search attributes"
        if sum(len(p.data) for p in merged.values()) > MAX_TOTAL_BYTES:
            return f"the run's search attributes would be over {MAX_TOTAL_BYTES:,} bytes in all"
        return None

    def apply(self, ex: Execution, c: Attrs, applying: Applying) -> None:
        ex.add_upsert_workflow_search_attributes(c.search_attributes, applying.completed_id)

    def describe(self, c: Attrs) -> str:
        return f"{super().describe(c)}({', '.join(sorted(c.search_attributes.indexed_fields))})"
