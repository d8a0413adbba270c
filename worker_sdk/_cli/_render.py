"""How ``wf workflow …`` shows things: names, times, payload previews, failure chains, and tables.

Everything here is pure: protos and SDK values in, strings and rich renderables out. Text that comes
from users or workers (ids, messages, stack traces) is always wrapped in ``Text`` so rich never reads
it as markup.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

from google.protobuf.message import Message
from google.protobuf.timestamp_pb2 import Timestamp
from rich.console import Group, RenderableType
from rich.table import Table
from rich.text import Text

from wf.v1 import common_pb2, history_pb2, service_pb2
from worker_sdk._client import WorkflowCost, WorkflowExecution, WorkflowExecutionStatus
from worker_sdk.errors import ActivityError, ApplicationError, ChildWorkflowError, FailureError, TimeoutError

PREVIEW = 60  # characters of a payload shown in a table cell


# -- values -------------------------------------------------------------------------------------


def fmt_time(value: datetime | Timestamp | None) -> str:
    """``2024-05-01T12:00:00.123Z``; empty for a missing time."""
    if isinstance(value, Timestamp):
        value = value.ToDatetime(UTC) if value.seconds or value.nanos else None
    if value is None:
        return ""
    return value.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def enum_name(enum_type: Any, number: int, prefix: str) -> str:
    """``WORKFLOW_EXECUTION_STATUS_RUNNING`` → ``RUNNING`` (or the number when it is unknown)."""
    try:
        name: str = enum_type.Name(number)
    except ValueError:
        return str(number)
    return name.removeprefix(prefix)


def event_type_name(number: int) -> str:
    """``EVENT_TYPE_WORKFLOW_EXECUTION_STARTED`` → ``WorkflowExecutionStarted``, Temporal's spelling."""
    name = enum_name(history_pb2.EventType, number, "EVENT_TYPE_")
    return "".join(part.capitalize() for part in name.split("_")) if not name.isdigit() else f"EventType{name}"


def json_default(value: Any) -> Any:
    """Make results JSON-printable: bytes become base64, anything else its ``str``."""
    if isinstance(value, bytes):
        return base64.b64encode(value).decode()
    return str(value)


def to_json(value: Any) -> str:
    return json.dumps(value, default=json_default, ensure_ascii=False)


def payload_text(payload: common_pb2.Payload) -> str:
    """One payload as text without decoding it into Python (a codec may have encoded it)."""
    encoding = payload.metadata.get("encoding", b"json/plain")
    if encoding == b"json/plain":
        return payload.data.decode(errors="replace")
    if encoding == b"binary/null":
        return "null"
    if encoding == b"binary/plain":
        return f"<{len(payload.data)} bytes>"
    return f"<{encoding.decode(errors='replace')}, {len(payload.data)} bytes>"


def payloads_text(payloads: common_pb2.Payloads, *, limit: int | None = PREVIEW) -> str:
    """A value (one payload) or an argument list (several) as text, cut to ``limit`` characters."""
    items = [payload_text(p) for p in payloads.payloads]
    text = items[0] if len(items) == 1 else "[" + ", ".join(items) + "]"
    return text if limit is None or len(text) <= limit else text[: limit - 1] + "…"


# -- failures -----------------------------------------------------------------------------------


def _failure_label(f: common_pb2.Failure) -> str:
    kind = f.WhichOneof("failure_info")
    if kind == "application_failure_info":
        return f.application_failure_info.type or "ApplicationError"
    if kind == "activity_failure_info":
        return f"ActivityError({f.activity_failure_info.activity_type.name})"
    if kind == "child_workflow_execution_failure_info":
        return f"ChildWorkflowError({f.child_workflow_execution_failure_info.workflow_type.name})"
    if kind == "timeout_failure_info":
        t = f.timeout_failure_info.timeout_type
        return f"TimeoutError({enum_name(common_pb2.TimeoutType, t, 'TIMEOUT_TYPE_')})"
    labels = {
        "canceled_failure_info": "CancelledError",
        "terminated_failure_info": "TerminatedError",
        "server_failure_info": "ServerError",
    }
    return labels.get(kind or "", "Failure")


def _failure_links(f: common_pb2.Failure) -> Iterator[common_pb2.Failure]:
    link: common_pb2.Failure | None = f
    while link is not None:
        yield link
        link = link.cause if link.HasField("cause") else None


def failure_lines(failure: common_pb2.Failure) -> list[str]:
    """``["ActivityError(charge): activity failed", "ApplicationError: card declined"]``."""
    return [f"{_failure_label(f)}: {f.message}" for f in _failure_links(failure)]


def exception_lines(exc: BaseException) -> list[str]:
    """The same chain for an exception raised by the SDK (its ``__cause__`` links)."""
    if isinstance(exc, FailureError) and exc.failure is not None:
        return failure_lines(exc.failure)
    if isinstance(exc, ApplicationError):
        label = exc.type
    elif isinstance(exc, ActivityError):
        label = f"ActivityError({exc.activity_type})"
    elif isinstance(exc, ChildWorkflowError):
        label = f"ChildWorkflowError({exc.workflow_type})"
    elif isinstance(exc, TimeoutError):
        label = f"TimeoutError({exc.type.name})"
    else:
        label = type(exc).__name__
    line = f"{label}: {getattr(exc, 'message', None) or exc}"
    return [line, *exception_lines(exc.__cause__)] if exc.__cause__ is not None else [line]


def chain_text(lines: list[str]) -> str:
    """Failure chain lines joined the way people read them: each cause on its own indented line."""
    return "\n  caused by ".join(lines)


def failure_detail(failure: common_pb2.Failure) -> RenderableType:
    """The chain, then the stack trace of every link that carries one (workers send tracebacks)."""
    parts: list[RenderableType] = [Text(chain_text(failure_lines(failure)), style="red")]
    for f in _failure_links(failure):
        if f.stack_trace.strip():
            parts.append(Text(f"\nStack trace of {_failure_label(f)}:", style="bold"))
            parts.append(Text(f.stack_trace.rstrip()))
    return Group(*parts)


# -- tables -------------------------------------------------------------------------------------


def key_values(rows: list[tuple[str, str | RenderableType]]) -> Table:
    """A two-column grid of labels and values; empty values are left out."""
    grid = Table.grid(padding=(0, 2))
    grid.add_column(style="bold", no_wrap=True)
    grid.add_column(overflow="fold")
    for label, value in rows:
        if isinstance(value, str):
            if not value:
                continue
            value = Text(value)
        grid.add_row(label, value)
    return grid


def executions_table(executions: list[WorkflowExecution]) -> Table:
    table = Table(box=None, header_style="bold", pad_edge=False)
    for name in ("Workflow ID", "Run ID", "Type", "Status", "Start time", "Close time"):
        table.add_column(name, no_wrap=name != "Workflow ID", overflow="fold")
    for e in executions:
        table.add_row(*(Text(v) for v in (
            e.id, e.run_id, e.workflow_type, e.status.name, fmt_time(e.start_time), fmt_time(e.close_time)
        )))
    return table


def execution_json(e: WorkflowExecution) -> dict[str, Any]:
    return {
        "workflowId": e.id,
        "runId": e.run_id,
        "type": e.workflow_type,
        "status": e.status.name,
        "taskQueue": e.task_queue,
        "startTime": fmt_time(e.start_time),
        "closeTime": fmt_time(e.close_time) or None,
        "historyLength": e.history_length,
        **({"cost": cost_json(e.cost)} if e.cost is not None else {}),
        "searchAttributes": {
            name: fmt_time(value) if isinstance(value, datetime) else value
            for name, value in e.search_attributes.items()
        },
    }


def cost_json(c: WorkflowCost) -> dict[str, int]:
    """A run's cost as ``list -o json`` carries it (names as Temporal's search attributes where
    it has them)."""
    return {
        "historyLength": c.history_length,
        "historySizeBytes": c.history_size_bytes,
        "stateTransitionCount": c.state_transitions,
        "workflowTasks": c.workflow_tasks,
        "workflowTaskFailures": c.workflow_task_failures,
        "activityAttempts": c.activity_attempts,
        "payloadBytesIn": c.payload_bytes_in,
        "payloadBytesOut": c.payload_bytes_out,
    }


def cost_rows(c: WorkflowCost) -> list[tuple[str, str]]:
    """A run's cost as ``wf workflow describe`` shows it."""
    return [
        ("Events", f"{c.history_length:,} ({c.history_size_bytes:,} bytes)"),
        ("State transitions", f"{c.state_transitions:,}"),
        ("Workflow tasks", f"{c.workflow_tasks:,} ({c.workflow_task_failures:,} failed or timed out)"),
        ("Activity attempts", f"{c.activity_attempts:,}"),
        ("Payload bytes", f"{c.payload_bytes_in:,} in, {c.payload_bytes_out:,} out"),
    ]


def _duration(d: Any) -> str:
    return f"{d.ToTimedelta().total_seconds():g}s" if d.seconds or d.nanos else ""


def _polled(task_queue: str, pending: service_pb2.PendingWorkflowTaskInfo) -> str:
    if pending.HasField("task_queue_last_poll_time"):
        return f"{task_queue} (last polled {fmt_time(pending.task_queue_last_poll_time)})"
    return f"{task_queue} (no worker polled it in the last 5 minutes)"


def describe_renderables(resp: service_pb2.DescribeWorkflowExecutionResponse) -> list[RenderableType]:
    """``wf workflow describe``: the run, its pending work, and how it ended."""
    info = resp.workflow_execution_info
    status = enum_name(common_pb2.WorkflowExecutionStatus, info.status, "WORKFLOW_EXECUTION_STATUS_")
    out: list[RenderableType] = [
        Text("Execution", style="bold underline"),
        key_values([
            ("Workflow ID", info.execution.workflow_id),
            ("Run ID", info.execution.run_id),
            ("Type", info.type.name),
            ("Status", status),
            ("Task queue", info.task_queue),
            ("Start time", fmt_time(info.start_time)),
            ("Close time", fmt_time(info.close_time) if info.HasField("close_time") else ""),
            ("History length", str(info.history_length)),
            ("Execution timeout", _duration(resp.workflow_execution_timeout)),
            ("Run timeout", _duration(resp.workflow_run_timeout)),
            ("Task timeout", _duration(resp.workflow_task_timeout)),
        ]),
    ]
    out += _family_renderables(resp)
    if resp.pending_activities:
        table = Table(box=None, header_style="bold", pad_edge=False)
        for name in ("Activity ID", "Type", "State", "Attempt", "Last failure"):
            table.add_column(name, overflow="fold")
        for a in resp.pending_activities:
            attempt = f"{a.attempt}/{a.maximum_attempts}" if a.maximum_attempts else str(a.attempt)
            last = a.last_failure.message if a.HasField("last_failure") else ""
            state = enum_name(service_pb2.PendingActivityState, a.state, "PENDING_ACTIVITY_STATE_")
            if a.HasField("next_attempt_schedule_time"):
                state += f" (next attempt {fmt_time(a.next_attempt_schedule_time)})"
            table.add_row(*(Text(v) for v in (a.activity_id, a.activity_type.name, state, attempt, last)))
        out += [Text("\nPending activities", style="bold underline"), table]
    if resp.HasField("pending_workflow_task"):
        wt = resp.pending_workflow_task
        out += [
            Text("\nPending workflow task", style="bold underline"),
            key_values([
                ("Scheduled event", str(wt.scheduled_event_id or "")),
                ("Attempt", str(wt.attempt)),
                ("Scheduled time", fmt_time(wt.scheduled_time)),
                ("Started time", fmt_time(wt.started_time)),
                ("Task queue", _polled(wt.task_queue, wt) if wt.task_queue else ""),
                ("Last failure", failure_detail(wt.last_failure) if wt.HasField("last_failure") else ""),
            ]),
        ]
    if resp.HasField("result"):
        out += [Text("\nResult", style="bold underline"), Text(payloads_text(resp.result, limit=None))]
    if resp.HasField("failure"):
        out += [Text("\nFailure", style="bold underline"), failure_detail(resp.failure)]
    return out


def _family_renderables(resp: service_pb2.DescribeWorkflowExecutionResponse) -> list[RenderableType]:
    """A child's parent and root runs, and the children a run waits for."""
    info = resp.workflow_execution_info
    out: list[RenderableType] = []
    if info.HasField("parent_execution"):
        p, r = info.parent_execution, info.root_execution
        out += [
            Text("\nParent", style="bold underline"),
            key_values([
                ("Parent", f"{p.workflow_id} (run {p.run_id})"),
                ("Root", f"{r.workflow_id} (run {r.run_id})" if r.workflow_id else ""),
            ]),
        ]
    if resp.pending_children:
        table = Table(box=None, header_style="bold", pad_edge=False)
        for name in ("Child workflow ID", "Run ID", "Type", "Parent close policy"):
            table.add_column(name, overflow="fold")
        for c in resp.pending_children:
            policy = enum_name(common_pb2.ParentClosePolicy, c.parent_close_policy, "PARENT_CLOSE_POLICY_")
            table.add_row(*(Text(v) for v in (c.workflow_id, c.run_id or "(starting)", c.workflow_type_name, policy)))
        out += [Text("\nPending children", style="bold underline"), table]
    return out


# -- history ------------------------------------------------------------------------------------


def _attr(event: history_pb2.HistoryEvent) -> Message | None:
    kind = event.WhichOneof("attributes")
    return getattr(event, kind) if kind else None


def _chain_inline(failure: common_pb2.Failure) -> str:
    """The failure chain on one line, for a table cell."""
    return " caused by ".join(failure_lines(failure))


def event_details(event: history_pb2.HistoryEvent) -> str:
    """A short summary of what an event says, for the ``wf workflow show`` table."""
    a: Any = _attr(event)
    if a is None:
        return ""
    kind = event.WhichOneof("attributes")
    parts: list[str] = []
    if kind == "workflow_execution_started_event_attributes":
        parts = [f"type={a.workflow_type.name}", f"taskQueue={a.task_queue.name}"]
        parts += [f"input={payloads_text(a.input)}"] if a.input.payloads else []
    elif kind == "workflow_execution_completed_event_attributes":
        parts = [f"result={payloads_text(a.result)}"]
    elif kind in ("workflow_execution_failed_event_attributes", "activity_task_failed_event_attributes",
                  "activity_task_timed_out_event_attributes"):
        parts = [f"failure={_chain_inline(a.failure)}"]
        if kind.startswith("activity"):
            parts += [f"scheduledEventId={a.scheduled_event_id}"]
        if a.retry_state:
            parts += [f"retryState={enum_name(common_pb2.RetryState, a.retry_state, 'RETRY_STATE_')}"]
    elif kind == "workflow_execution_timed_out_event_attributes":
        parts = [f"retryState={enum_name(common_pb2.RetryState, a.retry_state, 'RETRY_STATE_')}"]
    elif kind == "workflow_task_scheduled_event_attributes":
        parts = [f"taskQueue={a.task_queue.name}"] + ([f"attempt={a.attempt}"] if a.attempt > 1 else [])
    elif kind in ("workflow_task_started_event_attributes", "workflow_task_completed_event_attributes"):
        parts = [f"identity={a.identity}"]
    elif kind == "workflow_task_failed_event_attributes":
        cause = enum_name(common_pb2.WorkflowTaskFailedCause, a.cause, "WORKFLOW_TASK_FAILED_CAUSE_")
        parts = [f"cause={cause}", f"failure={a.failure.message}"]
    elif kind == "workflow_task_timed_out_event_attributes":
        parts = [f"timeoutType={enum_name(common_pb2.TimeoutType, a.timeout_type, 'TIMEOUT_TYPE_')}"]
    elif kind == "activity_task_scheduled_event_attributes":
        parts = [f"activityType={a.activity_type.name}", f"activityId={a.activity_id}"]
        parts += [f"input={payloads_text(a.input)}"] if a.input.payloads else []
    elif kind == "activity_task_started_event_attributes":
        parts = [f"scheduledEventId={a.scheduled_event_id}", f"attempt={a.attempt}"]
        if a.HasField("last_failure"):
            parts += [f"lastFailure={a.last_failure.message}"]
    elif kind == "activity_task_completed_event_attributes":
        parts = [f"scheduledEventId={a.scheduled_event_id}", f"result={payloads_text(a.result)}"]
    elif kind in ("activity_task_cancel_requested_event_attributes", "activity_task_canceled_event_attributes"):
        parts = [f"scheduledEventId={a.scheduled_event_id}"]
    elif kind == "timer_started_event_attributes":
        parts = [f"timerId={a.timer_id}", f"startToFireTimeout={_duration(a.start_to_fire_timeout)}"]
    elif kind in ("timer_fired_event_attributes", "timer_canceled_event_attributes"):
        parts = [f"timerId={a.timer_id}"]
    elif kind == "workflow_execution_signaled_event_attributes":
        parts = [f"signalName={a.signal_name}"]
        parts += [f"input={payloads_text(a.input)}"] if a.input.payloads else []
        parts += [f"identity={a.identity}"] if a.identity else []
    elif kind == "workflow_execution_update_accepted_event_attributes":
        parts = [f"name={a.name}", f"updateId={a.update_id}"]
        parts += [f"input={payloads_text(a.input)}"] if a.input.payloads else []
        parts += [f"identity={a.identity}"] if a.identity else []
    elif kind == "workflow_execution_update_completed_event_attributes":
        parts = [f"updateId={a.update_id}"]
        outcome = a.outcome.WhichOneof("value")
        if outcome == "failure":
            parts += [f"failure={_chain_inline(a.outcome.failure)}"]
        elif outcome == "success":
            parts += [f"result={payloads_text(a.outcome.success)}"]
    elif kind in ("workflow_execution_cancel_requested_event_attributes",
                  "workflow_execution_terminated_event_attributes"):
        reason = a.cause if kind.startswith("workflow_execution_cancel") else a.reason
        parts = ([f"reason={reason}"] if reason else []) + ([f"identity={a.identity}"] if a.identity else [])
    return ", ".join(parts)


# The longest event type name: ``show --follow`` prints each batch of events as a table of its own, and
# fixed widths keep their columns lined up.
_TYPE_WIDTH = max(len(event_type_name(n)) for n in history_pb2.EventType.values())

# How a run ended, by its last event (``WorkflowExecutionStatus`` names, as ``result`` prints them).
_CLOSE_STATUS = {
    history_pb2.EVENT_TYPE_WORKFLOW_EXECUTION_COMPLETED: WorkflowExecutionStatus.COMPLETED.name,
    history_pb2.EVENT_TYPE_WORKFLOW_EXECUTION_FAILED: WorkflowExecutionStatus.FAILED.name,
    history_pb2.EVENT_TYPE_WORKFLOW_EXECUTION_TIMED_OUT: WorkflowExecutionStatus.TIMED_OUT.name,
    history_pb2.EVENT_TYPE_WORKFLOW_EXECUTION_CANCELED: WorkflowExecutionStatus.CANCELED.name,
    history_pb2.EVENT_TYPE_WORKFLOW_EXECUTION_TERMINATED: WorkflowExecutionStatus.TERMINATED.name,
    history_pb2.EVENT_TYPE_WORKFLOW_EXECUTION_CONTINUED_AS_NEW: WorkflowExecutionStatus.CONTINUED_AS_NEW.name,
}


def close_status(event: history_pb2.HistoryEvent | None) -> str | None:
    """``COMPLETED``, ``FAILED``, … when ``event`` closes a run; None for any other event."""
    return _CLOSE_STATUS.get(event.event_type) if event is not None else None


def history_table(
    events: list[history_pb2.HistoryEvent], *, show_header: bool = True, fixed_widths: bool = False
) -> Table:
    """The ``wf workflow show`` table. With ``fixed_widths`` the columns have the same widths whatever
    the events, so tables printed one after another (``--follow``) line up."""
    table = Table(box=None, header_style="bold", pad_edge=False, show_header=show_header)
    table.add_column("ID", justify="right", no_wrap=True, min_width=5 if fixed_widths else None)
    table.add_column("Time", no_wrap=True, min_width=len("2024-05-01T12:00:00.123Z") if fixed_widths else None)
    table.add_column("Type", no_wrap=True, min_width=_TYPE_WIDTH if fixed_widths else None)
    table.add_column("Details", overflow="fold")
    for event in events:
        table.add_row(
            Text(str(event.event_id)),
            Text(fmt_time(event.event_time)),
            Text(event_type_name(event.event_type)),
            Text(event_details(event)),
        )
    return table
