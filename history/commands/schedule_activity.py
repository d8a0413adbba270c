"""ScheduleActivityTask: run an activity, with its timeouts and retry policy."""

from __future__ import annotations

from wf.history import retry
from wf.history.commands.base import Applying, Batch, CommandHandler, duration_problem
from wf.history.durations import is_set
from wf.history.execution import Execution
from wf.history.limits import id_length
from wf.v1 import command_pb2

Attrs = command_pb2.ScheduleActivityTaskCommandAttributes
_TIMEOUTS = ("schedule_to_close_timeout", "schedule_to_start_timeout", "start_to_close_timeout", "heartbeat_timeout")


class ScheduleActivity(CommandHandler[Attrs]):
    attribute = "schedule_activity_task_command_attributes"
    command_type = command_pb2.COMMAND_TYPE_SCHEDULE_ACTIVITY_TASK

    def validate(self, a: Attrs, batch: Batch) -> str | None:
        limits = batch.limits
        if not a.activity_id:
            return "activity_id is empty"
        if a.activity_id in batch.pending_activity_ids:
            return f"activity id {a.activity_id!r} is already in use by a pending activity"
        batch.pending_activity_ids.add(a.activity_id)
        if not a.activity_type.name:
            return "activity_type is empty"
        if max(id_length(a.activity_id), id_length(a.activity_type.name)) > limits.max_id_length:
            return f"activity id or type is longer than the {limits.describe('max_id_length')}"
        if id_length(a.task_queue.name) > limits.max_id_length:
            return f"task queue name is longer than the {limits.describe('max_id_length')}"
        if "\x00" in a.task_queue.name:
            return "task queue name must not contain NUL characters"
        for name in _TIMEOUTS:
            d = getattr(a, name)
            problem = duration_problem(name, d.seconds, d.nanos)
            if problem:
                return problem
        if not is_set(a.schedule_to_close_timeout) and not is_set(a.start_to_close_timeout):
            return "set schedule_to_close_timeout or start_to_close_timeout"
        problem = retry.validate(a.retry_policy)
        if problem:
            return problem
        if len(batch.pending_activity_ids) > limits.max_pending_activities:
            return f"more pending activities than the {limits.describe('max_pending_activities')}"
        return None

    def apply(self, ex: Execution, a: Attrs, applying: Applying) -> None:
        state = ex.add_activity_task_scheduled(a, applying.completed_id)
        if a.request_eager_execution and state.task_queue == ex.record.task_queue:
            # Started now, in this same commit, for the worker that asked: no task row, no poll.
            ex.add_activity_task_started(state, applying.identity)
            started = type(state)()
            started.CopyFrom(state)
            applying.result.eager.append((started, a.input))
        else:
            ex.add_activity_task(state)

    def describe(self, a: Attrs) -> str:
        return f"{super().describe(a)}(activity {a.activity_type.name!r}, id {a.activity_id!r})"
