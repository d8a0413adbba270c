"""StartTimer: a durable timer that fires after its duration."""

from __future__ import annotations

from wf.history.commands.base import Applying, Batch, CommandHandler
from wf.history.durations import is_set
from wf.history.execution import Execution
from wf.history.limits import MAX_DURATION_SECONDS, id_length
from wf.v1 import command_pb2

Attrs = command_pb2.StartTimerCommandAttributes


class StartTimer(CommandHandler[Attrs]):
    attribute = "start_timer_command_attributes"
    command_type = command_pb2.COMMAND_TYPE_START_TIMER

    def validate(self, t: Attrs, batch: Batch) -> str | None:
        limits = batch.limits
        if not t.timer_id or id_length(t.timer_id) > limits.max_id_length:
            return f"timer_id must be 1 to {limits.max_id_length} bytes"
        if "\x00" in t.timer_id:
            # The timer's row is keyed by it, and PostgreSQL's text cannot hold NUL.
            return "timer_id must not contain NUL characters"
        if t.timer_id in batch.pending_timers:
            return f"timer id {t.timer_id!r} is already in use by a pending timer"
        d = t.start_to_fire_timeout
        if d.seconds < 0 or d.nanos < 0 or not is_set(d):
            return "start_to_fire_timeout must be positive"
        if d.seconds > MAX_DURATION_SECONDS:
            return "start_to_fire_timeout must not be longer than 100 years"
        batch.pending_timers.add(t.timer_id)
        if len(batch.pending_timers) > limits.max_pending_timers:
            return f"more pending timers than the {limits.describe('max_pending_timers')}"
        return None

    def apply(self, ex: Execution, t: Attrs, applying: Applying) -> None:
        ex.add_timer_started(t.timer_id, t.start_to_fire_timeout, applying.completed_id)

    def targets_gone(self, ex: Execution, t: Attrs, started_timers: set[str]) -> bool:
        started_timers.add(t.timer_id)  # a cancellation later in the same task targets this one
        return False

    def describe(self, t: Attrs) -> str:
        return f"{super().describe(t)}(timer {t.timer_id!r}, {t.start_to_fire_timeout.ToTimedelta()})"
