"""CancelTimer: a pending timer will not fire."""

from __future__ import annotations

from wf.history.commands.base import Applying, Batch, CommandHandler
from wf.history.execution import Execution
from wf.v1 import command_pb2

Attrs = command_pb2.CancelTimerCommandAttributes


class CancelTimer(CommandHandler[Attrs]):
    attribute = "cancel_timer_command_attributes"
    command_type = command_pb2.COMMAND_TYPE_CANCEL_TIMER

    def validate(self, c: Attrs, batch: Batch) -> str | None:
        if c.timer_id not in batch.pending_timers:
            return f"no pending timer {c.timer_id!r} to cancel"
        batch.pending_timers.discard(c.timer_id)
        return None

    def apply(self, ex: Execution, c: Attrs, applying: Applying) -> None:
        ex.add_timer_canceled(c.timer_id, applying.completed_id, applying.identity)

    def targets_gone(self, ex: Execution, c: Attrs, started_timers: set[str]) -> bool:
        return c.timer_id not in ex.state.timers and c.timer_id not in started_timers

    def describe(self, c: Attrs) -> str:
        return f"{super().describe(c)}(timer {c.timer_id!r})"
