"""The Workflows page: a namespace's runs in the visibility order (running first, then newest),
paged on the server's tokens, filtered by a list query and quick filters of status and type, with
counts by status. A query the server refuses is shown beside the box (400), never as a 500."""

from __future__ import annotations

import asyncio
import base64
import binascii
import re
from typing import TYPE_CHECKING

import grpc
from starlette.requests import Request
from starlette.responses import HTMLResponse, Response

from wf.ui.connection import CALL_TIMEOUT
from wf.ui.render import QUERY_WORDS, STATUS_WORDS
from worker_sdk import WorkflowExecutionStatus
from worker_sdk.errors import RPCError

if TYPE_CHECKING:
    from wf.ui.app import Ui

PAGE_SIZE = 50
_ORDER_BY = re.compile(r"\bORDER\s+BY\b", re.IGNORECASE)
_WORD_TO_STATUS = {word: status for status, word in QUERY_WORDS.items()}


def _quote(value: str) -> str:
    return "'" + value.replace("\\", "\\\\").replace("'", "\\'") + "'"


def compose(query: str, *, status: str = "", workflow_type: str = "") -> str:
    """The user's query with the quick filters ANDed on (an ORDER BY kept at the end)."""
    query = query.strip()
    order = ""
    m = _ORDER_BY.search(query)
    if m:
        query, order = query[: m.start()].strip(), query[m.start():]
    parts = [f"({query})"] if query else []
    if workflow_type:
        parts.append(f"WorkflowType = {_quote(workflow_type)}")
    if status:
        parts.append(f"ExecutionStatus = {_quote(status)}")
    return " ".join([" AND ".join(parts), order]).strip()


def token_param(token: bytes) -> str:
    return base64.urlsafe_b64encode(token).decode() if token else ""


def parse_token(text: str) -> bytes:
    try:
        return base64.urlsafe_b64decode(text.encode()) if text else b""
    except (binascii.Error, ValueError):
        return b""


async def list_page(ui: Ui, request: Request) -> Response:
    namespace = request.path_params["namespace"]
    params = request.query_params
    query = params.get("query", "")
    status = params.get("status", "")
    if status and status not in _WORD_TO_STATUS:
        status = ""
    workflow_type = params.get("type", "")
    token = parse_token(params.get("page", ""))
    client = await ui.client(namespace)
    error = ""
    executions = []
    next_token = b""
    counts: dict[str, int] = {}
    total = 0
    without_order = compose(_ORDER_BY.split(query)[0], workflow_type=workflow_type)
    try:
        # The page and the counts are asked for together: the page waits for the slower of the two.
        async with asyncio.timeout(CALL_TIMEOUT.total_seconds()):
            page, grouped = await asyncio.gather(
                client.list_workflows_page(
                    compose(query, status=status, workflow_type=workflow_type),
                    page_size=PAGE_SIZE, next_page_token=token, rpc_timeout=CALL_TIMEOUT,
                ),
                client.count_workflows(f"{without_order} GROUP BY ExecutionStatus".strip()),
            )
        executions, next_token = page.executions, page.next_page_token
        total = grouped.count
        for g in grouped.groups:
            counts[str(g.group_values[0])] = g.count
    except RPCError as exc:
        if exc.status != grpc.StatusCode.INVALID_ARGUMENT:
            raise
        error = exc.message
    filters = [
        (word, STATUS_WORDS[s], counts.get(word, 0), s)
        for s, word in QUERY_WORDS.items()
    ]
    context = dict(
        namespace=namespace, query=query, status=status, workflow_type=workflow_type, error=error,
        executions=executions, next_page=token_param(next_token), first_page=not token, filters=filters,
        total=total, running=WorkflowExecutionStatus.RUNNING, title="Workflows",
        anything=bool(executions) or bool(token) or bool(query or status or workflow_type) or total > 0,
    )
    if request.headers.get("x-wf-fragment") == "results":
        return HTMLResponse(ui.fragment("_results.html", **context), status_code=400 if error else 200)
    return ui.page(request, "workflows.html", 400 if error else 200, **context)
