"""A workflow's page: header, input and result (or the failure chain), the Timeline, the Event
history (paged, live while the run is open, downloadable as the JSON ``wf replay`` reads), what the
run waits on (Pending), its Stack, and the Actions. The workflow id travels in the query string,
percent-encoded, and is escaped wherever a page shows it."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from datetime import UTC
from typing import TYPE_CHECKING, Any

from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import HTMLResponse, Response

from wf.ui import render, timeline
from wf.ui.connection import CALL_TIMEOUT, is_down
from wf.ui.views.workflows import parse_token, token_param
from wf.v1 import common_pb2, history_pb2, service_pb2
from worker_sdk import WorkflowExecutionDescription, WorkflowExecutionStatus, WorkflowHandle
from worker_sdk.errors import RPCError

if TYPE_CHECKING:
    from wf.ui.app import Ui

# Events per page of the Event history; the Timeline is drawn with the page when the whole history
# is at most INLINE_TIMELINE events, and fetched after the page otherwise (first byte stays fast).
EVENTS_PAGE = 200
INLINE_TIMELINE = 2000
READ_PAGE = 1000
STACK_TIMEOUT = 3.0


@dataclass(frozen=True)
class EventRow:
    id: int
    time: str
    name: str
    summary: str
    attributes: dict[str, Any]


def rows(events: list[history_pb2.HistoryEvent], raw: bool) -> list[EventRow]:
    out = []
    for e in events:
        attrs = render.event_attributes(e)
        out.append(EventRow(
            e.event_id, render.when(render.event_time(e)), render.event_name(e), render.summary(e),
            render.tree(attrs, raw=raw) if attrs is not None else {},
        ))
    return out


def ids(request: Request) -> tuple[str, str]:
    workflow_id = request.query_params.get("id", "")
    if not workflow_id:
        raise HTTPException(400, "Which workflow? The address needs ?id=<workflow id>.")
    return workflow_id, request.query_params.get("run_id", "")


async def _handle(ui: Ui, request: Request) -> tuple[WorkflowHandle, WorkflowExecutionDescription]:
    workflow_id, run_id = ids(request)
    client = await ui.client(request.path_params["namespace"])
    handle = client.get_workflow_handle(workflow_id, run_id=run_id or None)
    async with asyncio.timeout(CALL_TIMEOUT.total_seconds()):
        desc = await handle.describe()
    return client.get_workflow_handle(workflow_id, run_id=desc.run_id), desc


async def read_all(handle: WorkflowHandle) -> list[history_pb2.HistoryEvent]:
    events: list[history_pb2.HistoryEvent] = []
    token = b""
    while True:
        page = await handle.fetch_history_events_page(
            page_size=READ_PAGE, next_page_token=token, rpc_timeout=CALL_TIMEOUT
        )
        events.extend(page.events)
        token = page.next_page_token
        if not token or not page.events:
            return events


async def close_event(handle: WorkflowHandle) -> history_pb2.HistoryEvent | None:
    client = handle.client
    resp = await client.call(
        client.service.GetWorkflowExecutionHistory,
        service_pb2.GetWorkflowExecutionHistoryRequest(
            namespace=client.namespace,
            execution=common_pb2.WorkflowExecution(workflow_id=handle.id, run_id=handle.run_id or ""),
            history_event_filter_type=service_pb2.HISTORY_EVENT_FILTER_TYPE_CLOSE_EVENT,
        ),
        timeout=CALL_TIMEOUT.total_seconds(),
        retry_for=CALL_TIMEOUT.total_seconds(),
    )
    return resp.history.events[0] if resp.history.events else None


def outcome(close: history_pb2.HistoryEvent | None, raw: bool) -> dict[str, Any]:
    """What the close event says: the result's payloads, or the failure chain, or the reason."""
    if close is None:
        return {}
    attrs = render.event_attributes(close)
    out: dict[str, Any] = {"event": render.event_name(close)}
    if isinstance(attrs, history_pb2.WorkflowExecutionCompletedEventAttributes):
        out["result"] = render.payloads(attrs.result, raw=raw)
    elif isinstance(attrs, history_pb2.WorkflowExecutionFailedEventAttributes):
        out["failure"] = render.failure_chain(attrs.failure, raw=raw)
    elif isinstance(attrs, history_pb2.WorkflowExecutionTerminatedEventAttributes):
        out["reason"] = attrs.reason or "(no reason given)"
    elif isinstance(attrs, history_pb2.WorkflowExecutionContinuedAsNewEventAttributes):
        out["continued_as"] = attrs.new_execution_run_id
    return out


def pending(desc: WorkflowExecutionDescription, raw: bool) -> dict[str, Any]:
    activities = []
    for a in desc.pending_activities:
        activities.append({
            "id": a.activity_id, "type": a.activity_type.name,
            "state": service_pb2.PendingActivityState.Name(a.state).removeprefix("PENDING_ACTIVITY_STATE_")
            .replace("_", " ").capitalize(),
            "attempt": a.attempt, "maximum_attempts": a.maximum_attempts or "unlimited",
            "last_failure": render.failure_chain(a.last_failure, raw=raw) if a.HasField("last_failure") else [],
            "last_heartbeat": render.when(a.last_heartbeat_time.ToDatetime(UTC))
            if a.HasField("last_heartbeat_time") else "",
            "heartbeat_details": render.payloads(a.heartbeat_details, raw=raw),
            "next_retry": render.when(a.next_attempt_schedule_time.ToDatetime(UTC))
            if a.HasField("next_attempt_schedule_time") else "",
            "last_started": render.when(a.last_started_time.ToDatetime(UTC))
            if a.HasField("last_started_time") else "",
            "worker": a.last_worker_identity, "task_queue": a.task_queue,
        })
    task = None
    if desc.raw.HasField("pending_workflow_task"):
        wt = desc.raw.pending_workflow_task
        task = {
            "attempt": wt.attempt, "task_queue": wt.task_queue,
            "state": "Started" if wt.HasField("started_time") else "Scheduled",
            "scheduled": render.when(wt.scheduled_time.ToDatetime(UTC)) if wt.HasField("scheduled_time") else "",
            "last_failure": render.failure_chain(wt.last_failure, raw=raw) if wt.HasField("last_failure") else [],
        }
    children = [
        {"id": c.workflow_id, "run_id": c.run_id, "type": c.workflow_type_name, "namespace": c.namespace}
        for c in desc.pending_children
    ]
    return {"activities": activities, "task": task, "children": children, "hint": desc.waiting_hint}


async def page(ui: Ui, request: Request) -> Response:
    namespace = request.path_params["namespace"]
    handle, desc = await _handle(ui, request)
    raw = ui.codec_endpoint is not None
    token = parse_token(request.query_params.get("events", ""))
    closed = desc.status != WorkflowExecutionStatus.RUNNING
    everything: list[history_pb2.HistoryEvent] | None = None
    if desc.history_length <= INLINE_TIMELINE:
        everything = await read_all(handle)
    events_page = await handle.fetch_history_events_page(
        page_size=EVENTS_PAGE, next_page_token=token, rpc_timeout=CALL_TIMEOUT
    )
    shown, next_token = events_page.events, events_page.next_page_token
    if everything is not None:
        first_event = everything[0] if everything else None
        close = everything[-1] if closed and everything else None
    else:
        first_event = shown[0] if shown and shown[0].event_id == 1 else None
        if first_event is None:
            first_page = await handle.fetch_history_events_page(page_size=1, rpc_timeout=CALL_TIMEOUT)
            first_event = first_page.events[0] if first_page.events else None
        close = await close_event(handle) if closed else None
    started = first_event.workflow_execution_started_event_attributes if first_event is not None else None
    bars, axis = None, None
    if everything is not None:
        built = timeline.build(everything, desc.pending_activities, close=desc.close_time)
        bars, axis = built[0], (built[1], built[2])
    info = desc.raw.workflow_execution_info
    # Where a reset may go (the completions of workflow tasks), offered in the Reset form.
    reset_points = [
        e.event_id for e in (everything if everything is not None else shown)
        if e.HasField("workflow_task_completed_event_attributes")
    ]
    context = dict(
        namespace=namespace, title=f"Workflow {desc.id}", d=desc, info=info,
        input=render.payloads(started.input, raw=raw) if started is not None else [],
        outcome=outcome(close, raw), pending=pending(desc, raw), bars=bars, axis=axis,
        events=rows(shown, raw), events_token=token_param(token), next_events=token_param(next_token),
        last_event=shown[-1].event_id if shown else 0, live=not closed,
        memo=desc.memo, search_attributes=desc.search_attributes, reset_points=reset_points,
        status_word=render.status_word(desc.status), status_class=render.status_class(desc.status),
    )
    return ui.page(request, "workflow.html", **context)


async def events_fragment(ui: Ui, request: Request) -> Response:
    """One more page of the Event history, for the page's "Next events" (rows and the next link)."""
    namespace = request.path_params["namespace"]
    workflow_id, run_id = ids(request)
    client = await ui.client(namespace)
    handle = client.get_workflow_handle(workflow_id, run_id=run_id or None)
    token = parse_token(request.query_params.get("events", ""))
    events_page = await handle.fetch_history_events_page(
        page_size=EVENTS_PAGE, next_page_token=token, rpc_timeout=CALL_TIMEOUT
    )
    body = ui.fragment(
        "_events.html", namespace=namespace, events=rows(events_page.events, ui.codec_endpoint is not None),
        next_events=token_param(events_page.next_page_token), wid=workflow_id, rid=events_page.run_id,
    )
    return HTMLResponse(body)


async def timeline_fragment(ui: Ui, request: Request) -> Response:
    """The Timeline of a run too long to draw with its page (more than INLINE_TIMELINE events)."""
    handle, desc = await _handle(ui, request)
    everything = await read_all(handle)
    bars, start, end = timeline.build(everything, desc.pending_activities, close=desc.close_time)
    body = ui.fragment("_timeline.html", bars=bars, axis=(start, end), raw=ui.codec_endpoint is not None)
    return HTMLResponse(body)


async def stack_fragment(ui: Ui, request: Request) -> Response:
    """Where the workflow's coroutines wait now, as a worker answers; a clear sentence when none does."""
    handle, desc = await _handle(ui, request)
    stack, problem = "", ""
    try:
        async with asyncio.timeout(STACK_TIMEOUT):
            stack = await handle.stack()
    except TimeoutError:
        problem = (f"No worker answered within {STACK_TIMEOUT:g} s: the stack is shown while a worker polls "
                   f"task queue {desc.task_queue!r}.")
    except RPCError as exc:
        if is_down(exc):
            problem = (f"No worker answered: the stack is shown while a worker polls task queue "
                       f"{desc.task_queue!r}.")
        else:
            problem = f"The stack could not be read: {exc.message}"
    except ValueError as exc:  # the answer's payload, encoded by the workers' codec
        problem = f"The stack could not be shown: {render.undecodable(exc)}."
    return HTMLResponse(ui.fragment("_stack.html", stack=stack, problem=problem))


async def download(ui: Ui, request: Request) -> Response:
    """The run's whole history as the JSON ``wf replay`` and ``WorkflowHistory.from_json`` read."""
    handle, desc = await _handle(ui, request)
    history = await handle.fetch_history()
    safe = "".join(c if c.isalnum() or c in "-_." else "_" for c in desc.id)[:80] or "workflow"
    return Response(
        history.to_json(), media_type="application/json",
        headers={"Content-Disposition": f'attachment; filename="{safe}-{desc.run_id}.json"'},
    )
