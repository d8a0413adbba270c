"""The Timeline: a run's activities, timers, child workflows, signals and updates as bars on a time
axis, built from its events (scheduled → started → closed), so a person sees where the time went.

Each bar keeps the events it is made of, shown when the bar is clicked. Its position and width are
fractions of the axis, which runs from the run's start to its close (or now, while it runs).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime

from wf.ui.render import event_attributes, event_name, event_time
from wf.v1 import history_pb2, service_pb2

# A bar never narrower than this share of the axis, so a short step stays clickable.
MIN_WIDTH = 0.006


@dataclass
class Bar:
    kind: str  # activity, timer, child, signal, update
    label: str  # the button's accessible name: "Activity charge attempt 2", "Timer 1", "Signal approve"
    start: datetime
    started: datetime | None = None
    end: datetime | None = None
    outcome: str = "running"  # running, retrying, completed, failed, timed-out, canceled, fired, point, unfinished
    events: list[history_pb2.HistoryEvent] = field(default_factory=list)
    attempt: int = 0
    left: float = 0.0
    width: float = 0.0
    wait: float = 0.0  # share of the bar spent scheduled before it started (its last attempt)

    @property
    def retried(self) -> bool:
        """Earlier attempts failed: the time before the last attempt started went to them and their
        back-offs, drawn as failed-or-retrying rather than as waiting for a worker."""
        return self.kind == "activity" and self.attempt > 1


_ACTIVITY_OUTCOMES = {
    "ActivityTaskCompleted": "completed", "ActivityTaskFailed": "failed",
    "ActivityTaskTimedOut": "timed-out", "ActivityTaskCanceled": "canceled",
}
_CHILD_OUTCOMES = {
    "ChildWorkflowExecutionCompleted": "completed", "ChildWorkflowExecutionFailed": "failed",
    "ChildWorkflowExecutionTimedOut": "timed-out", "ChildWorkflowExecutionCanceled": "canceled",
    "ChildWorkflowExecutionTerminated": "failed", "StartChildWorkflowExecutionFailed": "failed",
}


def build(
    events: list[history_pb2.HistoryEvent],
    pending: list[service_pb2.PendingActivityInfo],
    *,
    close: datetime | None,
    now: datetime | None = None,
) -> tuple[list[Bar], datetime, datetime]:
    """The bars of a run, in the order they began, and the axis (start, end)."""
    bars: list[Bar] = []
    activities: dict[int, Bar] = {}
    timers: dict[str, Bar] = {}
    children: dict[int, Bar] = {}
    updates: dict[str, Bar] = {}
    for event in events:
        name, t, attrs = event_name(event), event_time(event), event_attributes(event)
        if attrs is None:
            continue
        if name == "ActivityTaskScheduled":
            assert isinstance(attrs, history_pb2.ActivityTaskScheduledEventAttributes)
            bar = Bar("activity", "", t, events=[event], attempt=1)
            bar.label = f"Activity {attrs.activity_type.name}"
            activities[event.event_id] = bar
            bars.append(bar)
        elif name.startswith("ActivityTask") and (b := activities.get(getattr(attrs, "scheduled_event_id", 0))):
            b.events.append(event)
            if name == "ActivityTaskStarted":
                b.started, b.attempt = t, max(1, getattr(attrs, "attempt", 1))
            elif name in _ACTIVITY_OUTCOMES:
                b.end, b.outcome = t, _ACTIVITY_OUTCOMES[name]
        elif name == "TimerStarted":
            timer_id = getattr(attrs, "timer_id", "")
            bar = Bar("timer", f"Timer {timer_id}", t, started=t, events=[event])
            timers[timer_id] = bar
            bars.append(bar)
        elif name in ("TimerFired", "TimerCanceled") and (b := timers.get(getattr(attrs, "timer_id", ""))):
            b.events.append(event)
            b.end, b.outcome = t, "fired" if name == "TimerFired" else "canceled"
        elif name == "StartChildWorkflowExecutionInitiated":
            assert isinstance(attrs, history_pb2.StartChildWorkflowExecutionInitiatedEventAttributes)
            bar = Bar("child", f"Child {attrs.workflow_type.name} {attrs.workflow_id}", t, events=[event])
            children[event.event_id] = bar
            bars.append(bar)
        elif (name.startswith("ChildWorkflowExecution") or name == "StartChildWorkflowExecutionFailed") and (
            b := children.get(getattr(attrs, "initiated_event_id", 0))
        ):
            b.events.append(event)
            if name == "ChildWorkflowExecutionStarted":
                b.started = t
            elif name in _CHILD_OUTCOMES:
                b.end, b.outcome = t, _CHILD_OUTCOMES[name]
        elif name == "WorkflowExecutionSignaled":
            bars.append(Bar("signal", f"Signal {getattr(attrs, 'signal_name', '')}", t, started=t, end=t,
                            outcome="point", events=[event]))
        elif name == "WorkflowExecutionUpdateAccepted":
            update_id = getattr(attrs, "update_id", "")
            bar = Bar("update", f"Update {getattr(attrs, 'name', '')}", t, started=t, events=[event])
            updates[update_id] = bar
            bars.append(bar)
        elif name == "WorkflowExecutionUpdateCompleted" and (b := updates.get(getattr(attrs, "update_id", ""))):
            b.events.append(event)
            outcome = getattr(attrs, "outcome", None)
            b.end = t
            b.outcome = "failed" if outcome is not None and outcome.HasField("failure") else "completed"
    for p in pending:
        b = activities.get(p.scheduled_event_id)
        if b is not None:
            b.attempt = max(b.attempt, p.attempt)
            if p.HasField("last_started_time") and p.state == service_pb2.PENDING_ACTIVITY_STATE_STARTED:
                b.started = p.last_started_time.ToDatetime(UTC)
            if p.HasField("last_failure") and p.attempt > 1:
                b.outcome = "retrying"
    for b in bars:
        if b.kind == "activity":
            b.label = f"{b.label} attempt {b.attempt}"
        if close is not None and b.end is None:
            b.outcome = "unfinished"  # the run closed while it was still open
    first = events[0] if events else None
    axis_start = event_time(first) if first is not None else (now or datetime.now(UTC))
    axis_end = close or now or datetime.now(UTC)
    _place(bars, axis_start, axis_end)
    return bars, axis_start, axis_end


def _place(bars: list[Bar], start: datetime, end: datetime) -> None:
    span = max((end - start).total_seconds(), 1e-3)
    for b in bars:
        b_end = b.end or end
        b.left = min(max((b.start - start).total_seconds() / span, 0.0), 1.0)
        b.width = max(min((b_end - b.start).total_seconds() / span, 1.0 - b.left), MIN_WIDTH)
        length = (b_end - b.start).total_seconds()
        if b.started is not None and length > 0:
            b.wait = min(max((b.started - b.start).total_seconds() / length, 0.0), 1.0)
        elif b.started is None and b.kind in ("activity", "child"):
            b.wait = 1.0  # not started yet: all of it waiting (or retrying)
        if b.started is not None and b_end > b.start:
            b.wait = min(max((b.started - b.start) / (b_end - b.start), 0.0), 1.0)
