"""ContinueAsNewWorkflowExecution: the run closes as ContinuedAsNew and a new run of the same
workflow id starts, with the new input, in the same transaction.

Fields the command leaves unset take the closing run's values (``wf.history.new_run.RunSpec.continuing``).
A payload over the limit never reaches here: ``WorkflowTasks._over_limit`` fails the run first,
naming ``max_payload_bytes``, and nothing of a new run is written.
"""

from __future__ import annotations

from wf.history import retry
from wf.history.commands.base import Applying, Batch, CommandHandler, duration_problem
from wf.history.execution import Execution
from wf.history.limits import id_length
from wf.history.new_run import RunSpec, new_run
from wf.v1 import command_pb2

Attrs = command_pb2.ContinueAsNewWorkflowExecutionCommandAttributes


class ContinueAsNew(CommandHandler[Attrs]):
    attribute = "continue_as_new_workflow_execution_command_attributes"
    command_type = command_pb2.COMMAND_TYPE_CONTINUE_AS_NEW_WORKFLOW_EXECUTION
    closes = True

    def validate(self, c: Attrs, batch: Batch) -> str | None:
        limits = batch.limits
        for what, name in (("workflow type", c.workflow_type.name), ("task queue name", c.task_queue.name)):
            if id_length(name) > limits.max_id_length:
                return f"{what} is longer than the {limits.describe('max_id_length')}"
            if "\x00" in name:
                return f"{what} must not contain NUL characters"
        for field in ("workflow_run_timeout", "workflow_task_timeout"):
            d = getattr(c, field)
            problem = duration_problem(field, d.seconds, d.nanos)
            if problem:
                return problem
        return retry.validate(c.retry_policy)

    def apply(self, ex: Execution, c: Attrs, applying: Applying) -> None:
        new = new_run(RunSpec.continuing(ex, c), ex.limits, ex.now)
        ex.add_workflow_execution_continued_as_new(new, c, applying.completed_id)

    def describe(self, c: Attrs) -> str:
        named = f"workflow type {c.workflow_type.name!r}" if c.workflow_type.name else "the same workflow type"
        return f"{super().describe(c)}({named})"
