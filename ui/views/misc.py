"""The Task queues and Namespaces pages."""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING

import grpc
from starlette.requests import Request
from starlette.responses import Response

from wf.ui.connection import CALL_TIMEOUT, is_down
from worker_sdk.errors import RPCError

if TYPE_CHECKING:
    from wf.ui.app import Ui

# The queues offered on the Task queues page are those of the latest runs, this many.
RECENT_RUNS = 200


async def task_queue_page(ui: Ui, request: Request) -> Response:
    """A task queue's pollers (identity, kind, last poll) and backlog; without a name, the queues of
    the latest runs to choose from."""
    namespace = request.path_params["namespace"]
    name = request.query_params.get("name", "").strip()
    client = await ui.client(namespace)
    description = None
    if name:
        async with asyncio.timeout(CALL_TIMEOUT.total_seconds()):
            description = await client.describe_task_queue(name)
    try:
        recent = await client.list_workflows_page(page_size=RECENT_RUNS, rpc_timeout=CALL_TIMEOUT)
        queues = sorted({e.task_queue for e in recent.executions})
    except RPCError as exc:
        if is_down(exc):
            raise
        queues = []  # a help to choose, not the page's subject: the page goes on without it
    return ui.page(request, "task_queues.html", namespace=namespace, name=name, description=description,
                   queues=queues, title=f"Task queue {name}" if name else "Task queues")


async def namespaces_page(ui: Ui, request: Request) -> Response:
    client = await ui.client(ui.namespace)
    async with asyncio.timeout(CALL_TIMEOUT.total_seconds()):
        namespaces = await client.list_namespaces()
    return ui.page(request, "namespaces.html", namespace=ui.namespace, namespaces=namespaces, title="Namespaces")


async def namespace_page(ui: Ui, request: Request) -> Response:
    namespace = request.path_params["namespace"]
    client = await ui.client(ui.namespace)
    try:
        async with asyncio.timeout(CALL_TIMEOUT.total_seconds()):
            described = await client.describe_namespace(namespace)
    except RPCError as exc:
        if exc.status != grpc.StatusCode.NOT_FOUND:
            raise
        return ui.page(request, "error.html", 404, namespace=ui.namespace, title="No such namespace",
                       message=f"Namespace {namespace!r} is not registered.")
    return ui.page(request, "namespace.html", namespace=namespace, ns=described, title=f"Namespace {namespace}")
