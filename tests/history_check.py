"""A validity checker for stored histories, run after the fuzz and chaos tests over every run they made.

A history is valid when it could have been written by the server's own transitions, whatever the
requests that led to it:

- event ids are contiguous from 1, the first event is WorkflowExecutionStarted, and each event's
  attributes are the ones of its type;
- every started event has its scheduled one before it, and every completed, failed or timed-out event
  its started (or scheduled) one; no task, activity or timer ends twice;
- a timer fires or is cancelled only once, after it started;
- at most one close event, and nothing after it;
- the run's status (the executions row) matches its close event, RUNNING without one.

:func:`check_events` judges one history; :func:`check_stored_histories` reads runs straight from
PostgreSQL (so a run whose state the server can no longer read is checked too) and returns every problem
found, one line each, naming the run.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

import asyncpg

from wf.v1 import common_pb2, history_pb2

H = history_pb2

CLOSE_STATUS: dict[int, int] = {
    H.EVENT_TYPE_WORKFLOW_EXECUTION_COMPLETED: common_pb2.WORKFLOW_EXECUTION_STATUS_COMPLETED,
    H.EVENT_TYPE_WORKFLOW_EXECUTION_FAILED: common_pb2.WORKFLOW_EXECUTION_STATUS_FAILED,
    H.EVENT_TYPE_WORKFLOW_EXECUTION_TIMED_OUT: common_pb2.WORKFLOW_EXECUTION_STATUS_TIMED_OUT,
    H.EVENT_TYPE_WORKFLOW_EXECUTION_CANCELED: common_pb2.WORKFLOW_EXECUTION_STATUS_CANCELED,
    H.EVENT_TYPE_WORKFLOW_EXECUTION_TERMINATED: common_pb2.WORKFLOW_EXECUTION_STATUS_TERMINATED,
    H.EVENT_TYPE_WORKFLOW_EXECUTION_CONTINUED_AS_NEW: common_pb2.WORKFLOW_EXECUTION_STATUS_CONTINUED_AS_NEW,
}


def _attributes_field(event_type: int) -> str:
    """EVENT_TYPE_TIMER_FIRED → 'timer_fired_event_attributes', the oneof field its event must set."""
    return H.EventType.Name(event_type).removeprefix("EVENT_TYPE_").lower() + "_event_attributes"


class _Walk:
    """One pass over a history, keeping what the events so far started and ended."""

    def __init__(self) -> None:
        self.problems: list[str] = []
        self.types: dict[int, int] = {}  # event id → event type
        self.wt_started: dict[int, int] = {}  # workflow task started id → its scheduled id
        self.wt_ended: set[int] = set()  # workflow task scheduled ids that completed, failed or timed out
        self.act_started: dict[int, int] = {}  # activity started id → its scheduled id
        self.act_ended: set[int] = set()
        self.act_cancel_requested: dict[int, int] = {}  # cancel-requested id → its scheduled id
        self.timers_open: dict[str, int] = {}  # timer id → its started event id
        self.timers_ended: set[int] = set()
        self.children_started: set[int] = set()  # initiated ids of children started
        self.children_ended: set[int] = set()  # initiated ids of children whose start failed or that closed
        self.close: int | None = None

    def bad(self, event: H.HistoryEvent, what: str) -> None:
        self.problems.append(f"event {event.event_id} ({H.EventType.Name(event.event_type)}): {what}")

    def is_a(self, event_id: int, *types: int) -> bool:
        return self.types.get(event_id) in types

    def task_completed_ref(self, event: H.HistoryEvent, ref: int) -> None:
        if ref and not self.is_a(ref, H.EVENT_TYPE_WORKFLOW_TASK_COMPLETED):
            self.bad(event, f"workflow_task_completed_event_id {ref} is no earlier WorkflowTaskCompleted")

    def step(self, e: H.HistoryEvent) -> None:
        t = e.event_type
        if self.close is not None:
            self.bad(e, f"comes after the close event {self.close}")
        if t not in H.EventType.values() or t == H.EVENT_TYPE_UNSPECIFIED:
            self.bad(e, "unknown event type")
        elif e.WhichOneof("attributes") != _attributes_field(t):
            self.bad(e, f"carries {e.WhichOneof('attributes')} instead of {_attributes_field(t)}")
        handler = getattr(self, f"_on_{_attributes_field(t).removesuffix('_event_attributes')}", None)
        if handler is not None:
            handler(e)
        if t in CLOSE_STATUS:
            self.close = e.event_id
        self.types[e.event_id] = t

    # -- workflow tasks

    def _on_workflow_task_started(self, e: H.HistoryEvent) -> None:
        sid = e.workflow_task_started_event_attributes.scheduled_event_id
        if not self.is_a(sid, H.EVENT_TYPE_WORKFLOW_TASK_SCHEDULED):
            self.bad(e, f"scheduled_event_id {sid} is no earlier WorkflowTaskScheduled")
        elif sid in self.wt_started.values() or sid in self.wt_ended:
            self.bad(e, f"the workflow task scheduled at {sid} started twice or after it ended")
        self.wt_started[e.event_id] = sid

    def _wt_end(self, e: H.HistoryEvent, sid: int, started: int, *, may_lack_start: bool = False) -> None:
        if not self.is_a(sid, H.EVENT_TYPE_WORKFLOW_TASK_SCHEDULED):
            self.bad(e, f"scheduled_event_id {sid} is no earlier WorkflowTaskScheduled")
        if started == 0 and may_lack_start:
            pass
        elif self.wt_started.get(started) != sid:
            self.bad(e, f"started_event_id {started} is not the start of the task scheduled at {sid}")
        if sid in self.wt_ended:
            self.bad(e, f"the workflow task scheduled at {sid} ended twice")
        self.wt_ended.add(sid)

    def _on_workflow_task_completed(self, e: H.HistoryEvent) -> None:
        a = e.workflow_task_completed_event_attributes
        self._wt_end(e, a.scheduled_event_id, a.started_event_id)

    def _on_workflow_task_failed(self, e: H.HistoryEvent) -> None:
        a = e.workflow_task_failed_event_attributes
        self._wt_end(e, a.scheduled_event_id, a.started_event_id)

    def _on_workflow_task_timed_out(self, e: H.HistoryEvent) -> None:
        a = e.workflow_task_timed_out_event_attributes
        self._wt_end(e, a.scheduled_event_id, a.started_event_id, may_lack_start=True)

    # -- activities

    def _on_activity_task_scheduled(self, e: H.HistoryEvent) -> None:
        self.task_completed_ref(e, e.activity_task_scheduled_event_attributes.workflow_task_completed_event_id)

    def _on_activity_task_started(self, e: H.HistoryEvent) -> None:
        sid = e.activity_task_started_event_attributes.scheduled_event_id
        if not self.is_a(sid, H.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED):
            self.bad(e, f"scheduled_event_id {sid} is no earlier ActivityTaskScheduled")
        elif sid in self.act_started.values() or sid in self.act_ended:
            self.bad(e, f"the activity scheduled at {sid} has a second started event, or one after it ended")
        self.act_started[e.event_id] = sid

    def _act_end(self, e: H.HistoryEvent, sid: int, started: int) -> None:
        if not self.is_a(sid, H.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED):
            self.bad(e, f"scheduled_event_id {sid} is no earlier ActivityTaskScheduled")
        if started and self.act_started.get(started) != sid:
            self.bad(e, f"started_event_id {started} is not the start of the activity scheduled at {sid}")
        if not started and sid in self.act_started.values():
            self.bad(e, f"the activity scheduled at {sid} started, but its outcome names no started event")
        if sid in self.act_ended:
            self.bad(e, f"the activity scheduled at {sid} ended twice")
        self.act_ended.add(sid)

    def _on_activity_task_completed(self, e: H.HistoryEvent) -> None:
        a = e.activity_task_completed_event_attributes
        if not a.started_event_id:
            self.bad(e, "a completed activity must name its started event")
        self._act_end(e, a.scheduled_event_id, a.started_event_id)

    def _on_activity_task_failed(self, e: H.HistoryEvent) -> None:
        a = e.activity_task_failed_event_attributes
        if not a.started_event_id:
            self.bad(e, "a failed activity must name its started event")
        self._act_end(e, a.scheduled_event_id, a.started_event_id)

    def _on_activity_task_timed_out(self, e: H.HistoryEvent) -> None:
        a = e.activity_task_timed_out_event_attributes
        self._act_end(e, a.scheduled_event_id, a.started_event_id)

    def _on_activity_task_cancel_requested(self, e: H.HistoryEvent) -> None:
        a = e.activity_task_cancel_requested_event_attributes
        if not self.is_a(a.scheduled_event_id, H.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED):
            self.bad(e, f"scheduled_event_id {a.scheduled_event_id} is no earlier ActivityTaskScheduled")
        elif a.scheduled_event_id in self.act_ended:
            self.bad(e, f"the activity scheduled at {a.scheduled_event_id} had ended already")
        self.task_completed_ref(e, a.workflow_task_completed_event_id)
        self.act_cancel_requested[e.event_id] = a.scheduled_event_id

    def _on_activity_task_canceled(self, e: H.HistoryEvent) -> None:
        a = e.activity_task_canceled_event_attributes
        if self.act_cancel_requested.get(a.latest_cancel_requested_event_id) != a.scheduled_event_id:
            self.bad(e, f"latest_cancel_requested_event_id {a.latest_cancel_requested_event_id} is not a cancel "
                        f"request of the activity scheduled at {a.scheduled_event_id}")
        self._act_end(e, a.scheduled_event_id, a.started_event_id)

    # -- timers

    def _on_timer_started(self, e: H.HistoryEvent) -> None:
        a = e.timer_started_event_attributes
        if a.timer_id in self.timers_open:
            self.bad(e, f"timer {a.timer_id!r} started while it runs (started at {self.timers_open[a.timer_id]})")
        self.task_completed_ref(e, a.workflow_task_completed_event_id)
        self.timers_open[a.timer_id] = e.event_id

    def _timer_end(self, e: H.HistoryEvent, timer_id: str, started: int) -> None:
        if not self.is_a(started, H.EVENT_TYPE_TIMER_STARTED):
            self.bad(e, f"started_event_id {started} is no earlier TimerStarted")
        elif started in self.timers_ended:
            self.bad(e, f"the timer started at {started} ended twice")
        elif self.timers_open.get(timer_id) != started:
            self.bad(e, f"timer {timer_id!r} is not the one started at {started}")
        self.timers_ended.add(started)
        if self.timers_open.get(timer_id) == started:
            del self.timers_open[timer_id]

    def _on_timer_fired(self, e: H.HistoryEvent) -> None:
        a = e.timer_fired_event_attributes
        self._timer_end(e, a.timer_id, a.started_event_id)

    def _on_timer_canceled(self, e: H.HistoryEvent) -> None:
        a = e.timer_canceled_event_attributes
        self.task_completed_ref(e, a.workflow_task_completed_event_id)
        self._timer_end(e, a.timer_id, a.started_event_id)

    # -- child workflows

    def _on_start_child_workflow_execution_initiated(self, e: H.HistoryEvent) -> None:
        a = e.start_child_workflow_execution_initiated_event_attributes
        self.task_completed_ref(e, a.workflow_task_completed_event_id)

    def _child_ref(self, e: H.HistoryEvent, initiated: int, *, started: bool) -> None:
        if not self.is_a(initiated, H.EVENT_TYPE_START_CHILD_WORKFLOW_EXECUTION_INITIATED):
            self.bad(e, f"initiated_event_id {initiated} is no earlier StartChildWorkflowExecutionInitiated")
        elif initiated in self.children_ended:
            self.bad(e, f"the child initiated at {initiated} was already resolved")
        elif started != (initiated in self.children_started):
            self.bad(e, f"the child initiated at {initiated} {'was not' if started else 'was already'} started")

    def _on_child_workflow_execution_started(self, e: H.HistoryEvent) -> None:
        initiated = e.child_workflow_execution_started_event_attributes.initiated_event_id
        self._child_ref(e, initiated, started=False)
        self.children_started.add(initiated)

    def _on_start_child_workflow_execution_failed(self, e: H.HistoryEvent) -> None:
        initiated = e.start_child_workflow_execution_failed_event_attributes.initiated_event_id
        self._child_ref(e, initiated, started=False)
        self.children_ended.add(initiated)

    def _child_closed(self, e: H.HistoryEvent) -> None:
        initiated = getattr(e, e.WhichOneof("attributes") or "").initiated_event_id
        self._child_ref(e, initiated, started=True)
        self.children_ended.add(initiated)

    _on_child_workflow_execution_completed = _child_closed
    _on_child_workflow_execution_failed = _child_closed
    _on_child_workflow_execution_canceled = _child_closed
    _on_child_workflow_execution_timed_out = _child_closed
    _on_child_workflow_execution_terminated = _child_closed

    # -- closing

    def _on_workflow_execution_completed(self, e: H.HistoryEvent) -> None:
        self.task_completed_ref(e, e.workflow_execution_completed_event_attributes.workflow_task_completed_event_id)

    def _on_workflow_execution_failed(self, e: H.HistoryEvent) -> None:
        self.task_completed_ref(e, e.workflow_execution_failed_event_attributes.workflow_task_completed_event_id)

    def _on_workflow_execution_canceled(self, e: H.HistoryEvent) -> None:
        self.task_completed_ref(e, e.workflow_execution_canceled_event_attributes.workflow_task_completed_event_id)

    def _on_marker_recorded(self, e: H.HistoryEvent) -> None:
        self.task_completed_ref(e, e.marker_recorded_event_attributes.workflow_task_completed_event_id)


def check_events(events: Sequence[H.HistoryEvent], status: int | None = None) -> list[str]:
    """The problems of one history (empty when it is valid); ``status`` is the run's
    ``WorkflowExecutionStatus``, checked against the close event when given."""
    if not events:
        return ["the history is empty"]
    walk = _Walk()
    ids = [e.event_id for e in events]
    if ids != list(range(1, len(ids) + 1)):
        gaps = [(a, b) for a, b in zip([0, *ids], ids, strict=False) if b != a + 1]
        walk.problems.append(f"event ids are not contiguous from 1: {gaps[:5]}")
    if events[0].event_type != H.EVENT_TYPE_WORKFLOW_EXECUTION_STARTED:
        walk.problems.append(f"the first event is {H.EventType.Name(events[0].event_type)}")
    for e in events:
        walk.step(e)
    if status is not None:
        want = common_pb2.WORKFLOW_EXECUTION_STATUS_RUNNING if walk.close is None else \
            CLOSE_STATUS[walk.types[walk.close]]
        if status != want:
            walk.problems.append(
                f"the run's status is {common_pb2.WorkflowExecutionStatus.Name(status)} "
                f"but its history says {common_pb2.WorkflowExecutionStatus.Name(want)}"
            )
    return walk.problems


async def check_stored_histories(
    conn: asyncpg.Connection, *, workflow_ids: Iterable[str] | None = None, task_queue_prefix: str | None = None
) -> tuple[int, list[str]]:
    """Check every stored run (of these workflow ids, or whose task queue starts with the prefix, or all):
    how many runs were checked, and each problem found as ``namespace/workflow id/run id: problem``."""
    where, args = "TRUE", []
    if workflow_ids is not None:
        where, args = "workflow_id = ANY($1)", [list(workflow_ids)]
    elif task_queue_prefix is not None:
        where, args = "starts_with(task_queue, $1)", [task_queue_prefix]
    runs = await conn.fetch(f"SELECT namespace, workflow_id, run_id, status FROM executions WHERE {where}", *args)
    problems: list[str] = []
    for r in runs:
        rows = await conn.fetch(
            "SELECT event_id, data FROM history_events WHERE namespace = $1 AND workflow_id = $2 AND run_id = $3"
            " ORDER BY event_id",
            r["namespace"], r["workflow_id"], r["run_id"],
        )
        events = []
        for row in rows:
            try:
                events.append(H.HistoryEvent.FromString(row["data"]))
            except Exception as exc:  # a stored event the server itself could not read back
                problems.append(f"{r['namespace']}/{r['workflow_id']}/{r['run_id']}: event {row['event_id']} "
                                f"cannot be parsed ({type(exc).__name__}: {exc})")
                break
        else:
            stored_ids = [row["event_id"] for row in rows]
            if stored_ids != [e.event_id for e in events]:
                problems.append(f"{r['namespace']}/{r['workflow_id']}/{r['run_id']}: rows and event ids differ")
            problems.extend(
                f"{r['namespace']}/{r['workflow_id']}/{r['run_id']}: {p}" for p in check_events(events, r["status"])
            )
    return len(runs), problems
