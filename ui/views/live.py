"""Server-sent events for a workflow's page while it is open: new events of the history (as rows of
the Event history) and the run's status, read by long-polling the history, until the run closes or
the browser goes away."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from datetime import timedelta
from typing import TYPE_CHECKING

import grpc
from starlette.requests import Request
from starlette.responses import Response, StreamingResponse

from wf.ui import render
from wf.ui.connection import is_down
from wf.ui.views.workflow import _handle, rows
from wf.ui.views.workflows import parse_token
from worker_sdk import WorkflowExecutionStatus
from worker_sdk.errors import RPCError

if TYPE_CHECKING:
    from wf.ui.app import Ui

# How long one long poll of the history waits for new events before the stream says it is alive.
POLL = timedelta(seconds=15)


def sse(event: str, data: object) -> bytes:
    return f"event: {event}\ndata: {json.dumps(data)}\n\n".encode()


def status_event(status: WorkflowExecutionStatus) -> bytes:
    return sse("status", {"status": render.status_word(status), "class": render.status_class(status)})


async def stream(ui: Ui, request: Request) -> Response:
    """``from``: the page token the page's events began at; ``after``: the last event id it shows."""
    handle, desc = await _handle(ui, request)
    token = parse_token(request.query_params.get("from", ""))
    try:
        after = int(request.query_params.get("after", "0"))
    except ValueError:
        after = 0
    raw = ui.codec_endpoint is not None
    last_status = desc.status

    async def events() -> AsyncIterator[bytes]:
        nonlocal token, after, last_status
        yield status_event(last_status)
        while not await request.is_disconnected():
            try:
                page = await handle.fetch_history_events_page(
                    next_page_token=token, wait_new_event=True, rpc_timeout=POLL
                )
            except RPCError as exc:
                if exc.status == grpc.StatusCode.DEADLINE_EXCEEDED:
                    yield b": waiting\n\n"  # no new event within the poll: ask again
                    continue
                # The server is gone, or the run is (deleted, say): the page says so and stops following.
                yield sse("down" if is_down(exc) else "gone", {"message": exc.message})
                return
            fresh = [e for e in page.events if e.event_id > after]
            if fresh:
                after = fresh[-1].event_id
                html = ui.fragment("_event_rows.html", events=rows(fresh, raw))
                yield sse("events", {"html": html, "last": after})
                try:
                    d = await handle.describe()
                except RPCError:
                    d = None
                if d is not None and d.status != last_status:
                    last_status = d.status
                    yield status_event(d.status)
            if not page.next_page_token:
                yield sse("end", {"status": render.status_word(last_status)})
                return
            token = page.next_page_token
            if not page.events:
                yield b": waiting\n\n"

    return StreamingResponse(
        events(), media_type="text/event-stream",
        headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"},
    )
