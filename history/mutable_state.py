"""An execution in memory while one operation changes it.

:class:`Execution` wraps the stored record and its ``MutableState``; operations call its methods to
append events and to schedule tasks and timers, and :meth:`Execution.mutation` turns what they
gathered into one :class:`~history.store.Mutation` for the store to write in one transaction.
"""

from __future__ import annotations

import dataclasses
from datetime import datetime, timedelta
from typing import Any

from google.protobuf.duration_pb2 import Duration
from google.protobuf.timestamp_pb2 import Timestamp

from history.limits import Limits
from history.store import ExecutionRecord, Mutation
from history.tasks import Handoff, TaskKind, TaskRow, TimerKind, TimerRow
from wf.v1 import common_pb2, history_pb2, internal_pb2

RUNNING = common_pb2.WORKFLOW_EXECUTION_STATUS_RUNNING
ET = history_pb2


def duration(d: Duration) -> timedelta:
    return timedelta(microseconds=d.ToMicroseconds())


def is_set(d: Duration) -> bool:
    return d.seconds > 0 or d.nanos > 0


class Execution:
    """One run being changed by one operation."""

    def __init__(self, record: ExecutionRecord, now: datetime, limits: Limits, *, new: bool = False) -> None:
        self.record = record
        self.now = now
        self.limits = limits
        self.state = internal_pb2.MutableState()
        if record.state:
            self.state.ParseFromString(record.state)
        self.new = new
        self.events: list[history_pb2.HistoryEvent] = []
        self.tasks: list[TaskRow] = []
        self.timers: dict[str, TimerRow] = {}
        self.deleted_timers: set[str] = set()
        # Task rows and fired timers this change consumes (several when changes are grouped).
        self.claimed_task_ids: list[int] = []
        self.claimed_timers: dict[str, datetime] = {}  # key: the fire time of the row consumed
        self.closes = False
        self.changed = new
        # Callers that want a workflow task this change schedules on a given queue handed straight
        # to them (an activity's worker, in its completion), with what to hand it through.
        self.wanted_by: list[tuple[str, Handoff]] = []
        # Updates whose state changed (accepted, rejected, completed): their callers are woken.
        self.updates_changed = False
        self._stamp: tuple[datetime, Timestamp] | None = None  # ``now`` as a Timestamp, made once

    # -- reading ---------------------------------------------------------------------------------

    @property
    def running(self) -> bool:
        return self.record.status == RUNNING

    @property
    def key(self) -> tuple[str, str, str]:
        r = self.record
        return (r.namespace, r.workflow_id, r.run_id)

    def describe(self) -> str:
        return f"workflow {self.record.workflow_id!r} run {self.record.run_id}"

    # -- events ----------------------------------------------------------------------------------

    def add_event(self, event_type: int, **attributes: Any) -> history_pb2.HistoryEvent:
        """Append an event; ``attributes`` holds exactly one ``<kind>_event_attributes`` message."""
        event = history_pb2.HistoryEvent(
            event_id=self.record.next_event_id, event_type=event_type, **attributes  # type: ignore[arg-type]
        )
        event.event_time.CopyFrom(self.timestamp())
        self.record.next_event_id += 1
        self.events.append(event)
        self.changed = True
        return event

    def timestamp(self) -> Timestamp:
        """``now`` as a Timestamp (converted once however many events the change adds)."""
        if self._stamp is None or self._stamp[0] is not self.now:
            ts = Timestamp()
            ts.FromDatetime(self.now)
            self._stamp = (self.now, ts)
        return self._stamp[1]

    # -- tasks and timers ------------------------------------------------------------------------

    def add_task(self, kind: TaskKind, task_queue: str, scheduled_event_id: int, attempt: int) -> None:
        r = self.record
        self.tasks.append(
            TaskRow(r.namespace, task_queue, kind, r.workflow_id, r.run_id, scheduled_event_id, attempt)
        )
        self.changed = True

    def set_timer(self, key: str, after: timedelta, kind: TimerKind, event_id: int, attempt: int) -> None:
        r = self.record
        self.timers[key] = TimerRow(
            r.namespace, r.workflow_id, r.run_id, key, self.now + after, kind, event_id, attempt
        )
        self.deleted_timers.discard(key)
        self.changed = True

    def delete_timer(self, key: str) -> None:
        self.timers.pop(key, None)
        if key not in self.claimed_timers:
            self.deleted_timers.add(key)
        self.changed = True

    # -- workflow tasks --------------------------------------------------------------------------

    def schedule_workflow_task(self, *, attempt: int = 1) -> None:
        """Schedule a workflow task now, or note that one is needed after the running one."""
        wt = self.state.workflow_task if self.state.HasField("workflow_task") else None
        if wt is not None and not wt.backing_off:
            if wt.started_event_id:
                # The running task did not see the new events: another must follow it.
                self.state.workflow_task_needed = True
                self.changed = True
            # A task scheduled but not yet started will see them: its history is read when it starts.
            return
        if wt is not None and wt.backing_off:
            # A retry is waiting out its back-off; new events do not cut it short.
            return
        # A cached run's next task goes to its worker's sticky queue (a retry goes to everyone).
        sticky = self.state.sticky_task_queue if attempt == 1 else ""
        queue = common_pb2.TaskQueue(
            name=sticky or self.record.task_queue,
            kind=common_pb2.TASK_QUEUE_KIND_STICKY if sticky else common_pb2.TASK_QUEUE_KIND_NORMAL,
        )
        event = self.add_event(
            history_pb2.EVENT_TYPE_WORKFLOW_TASK_SCHEDULED,
            workflow_task_scheduled_event_attributes=history_pb2.WorkflowTaskScheduledEventAttributes(
                task_queue=queue,
                start_to_close_timeout=self.state.workflow_task_timeout,
                attempt=attempt,
            ),
        )
        wt = self.state.workflow_task
        wt.Clear()
        wt.scheduled_event_id = event.event_id
        wt.attempt = attempt
        wt.task_queue = queue.name
        wt.scheduled_time.CopyFrom(self.timestamp())
        self.state.workflow_task_needed = False
        self.add_task(TaskKind.WORKFLOW, queue.name, event.event_id, attempt)
        if sticky:
            timeout = duration(self.state.sticky_timeout)
            self.set_timer("sticky", timeout, TimerKind.STICKY_SCHEDULE_TO_START, event.event_id, attempt)

    def unstick(self) -> None:
        """Forget the sticky queue: the next workflow task goes to the run's task queue, whole."""
        self.state.sticky_task_queue = ""

    def retry_workflow_task_later(self, attempt: int) -> None:
        """After a failed or timed-out workflow task: schedule the next attempt after its back-off."""
        self.state.ClearField("workflow_task")
        if attempt <= 2:
            self.schedule_workflow_task(attempt=attempt)
            return
        delay = min(
            self.limits.workflow_task_retry_first * (2 ** (attempt - 3)), self.limits.workflow_task_retry_cap
        )
        wt = self.state.workflow_task
        wt.backing_off = True
        wt.attempt = attempt
        self.set_timer("wft-retry", delay, TimerKind.WORKFLOW_TASK_RETRY, 0, attempt)

    # -- closing ---------------------------------------------------------------------------------

    def close(self, status: int) -> None:
        self.record.status = status
        self.record.close_time = self.now
        self.state.ClearField("workflow_task")
        self.state.activities.clear()
        self.state.workflow_task_needed = False
        self.closes = True
        self.timers.clear()
        self.deleted_timers.clear()
        self.tasks.clear()
        self.changed = True

    # -- writing ---------------------------------------------------------------------------------

    def mutation(self) -> Mutation:
        record = dataclasses.replace(self.record)
        record.state = self.state.SerializeToString()
        events = []
        for e in self.events:
            data = e.SerializeToString()
            record.history_size += len(data)
            events.append((e.event_id, int(e.event_type), data))
        return Mutation(
            record=record,
            expected_version=0 if self.new else self.record.db_version,
            events=events,
            tasks=list(self.tasks),
            timers=list(self.timers.values()),
            deleted_timer_keys=sorted(self.deleted_timers),
            claimed_task_ids=list(self.claimed_task_ids),
            claimed_timers=dict(self.claimed_timers),
            closes=self.closes,
        )


def activity_timer_key(scheduled_event_id: int, what: str) -> str:
    return f"a{scheduled_event_id}:{what}"
