"""StartChildWorkflowExecution: start a child workflow, whose close is recorded on this run."""

from __future__ import annotations

from wf.history import retry
from wf.history.commands.base import Applying, Batch, CommandHandler, duration_problem
from wf.history.execution import Execution
from wf.history.limits import id_length
from wf.v1 import command_pb2, common_pb2

Attrs = command_pb2.StartChildWorkflowExecutionCommandAttributes
_TIMEOUTS = ("workflow_execution_timeout", "workflow_run_timeout", "workflow_task_timeout")


class StartChild(CommandHandler[Attrs]):
    attribute = "start_child_workflow_execution_command_attributes"
    command_type = command_pb2.COMMAND_TYPE_START_CHILD_WORKFLOW_EXECUTION

    def validate(self, c: Attrs, batch: Batch) -> str | None:
        limits = batch.limits
        # What a start asks of the ids (``server/checks.py``): a child's start takes no other check.
        if not c.workflow_id.strip():
            return "workflow_id of the child is empty"
        if not c.workflow_type.name.strip():
            return f"workflow_type of child {c.workflow_id!r} is empty"
        if c.task_queue.name and not c.task_queue.name.strip():
            return f"task queue of child {c.workflow_id!r} is blank"
        for label, value in (
            ("workflow id", c.workflow_id),
            ("workflow type", c.workflow_type.name),
            ("task queue name", c.task_queue.name),
            ("namespace", c.namespace),
        ):
            if id_length(value) > limits.max_id_length:
                return f"the child's {label} is longer than the {limits.describe('max_id_length')}"
            if "\x00" in value:
                return f"the child's {label} must not contain NUL characters"
        if c.namespace and c.namespace != batch.ex.record.namespace:
            return f"a child must run in its parent's namespace {batch.ex.record.namespace!r}, not {c.namespace!r}"
        for name in _TIMEOUTS:
            d = getattr(c, name)
            problem = duration_problem(name, d.seconds, d.nanos)
            if problem:
                return problem
        problem = retry.validate(c.retry_policy)
        if problem:
            return problem
        if c.parent_close_policy not in common_pb2.ParentClosePolicy.values():
            return f"parent_close_policy {c.parent_close_policy} is not a known policy"
        batch.new_children += 1
        if len(batch.ex.state.children) + batch.new_children > limits.max_pending_children:
            return f"more pending child workflows than the {limits.describe('max_pending_children')}"
        return None

    def apply(self, ex: Execution, c: Attrs, applying: Applying) -> None:
        ex.add_start_child_workflow_execution_initiated(c, applying.completed_id)

    def describe(self, c: Attrs) -> str:
        return f"{super().describe(c)}(workflow {c.workflow_type.name!r}, id {c.workflow_id!r})"
