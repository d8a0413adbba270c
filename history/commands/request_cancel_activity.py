"""RequestCancelActivityTask: ask a pending activity to stop."""

from __future__ import annotations

from wf.history.commands.base import Applying, Batch, CommandHandler
from wf.history.execution import Execution
from wf.v1 import command_pb2

Attrs = command_pb2.RequestCancelActivityTaskCommandAttributes


class RequestCancelActivity(CommandHandler[Attrs]):
    attribute = "request_cancel_activity_task_command_attributes"
    command_type = command_pb2.COMMAND_TYPE_REQUEST_CANCEL_ACTIVITY_TASK

    def validate(self, c: Attrs, batch: Batch) -> str | None:
        if c.scheduled_event_id not in batch.ex.state.activities:
            return f"no pending activity scheduled by event {c.scheduled_event_id} to cancel"
        return None

    def apply(self, ex: Execution, c: Attrs, applying: Applying) -> None:
        ex.add_activity_task_cancel_requested(c.scheduled_event_id, applying.completed_id)

    def targets_gone(self, ex: Execution, c: Attrs, started_timers: set[str]) -> bool:
        return c.scheduled_event_id not in ex.state.activities

    def describe(self, c: Attrs) -> str:
        return f"{super().describe(c)}(activity scheduled by event {c.scheduled_event_id})"
