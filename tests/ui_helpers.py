"""What the UI's HTTP tests share: the app on the session's server, driven through httpx in process
(on the session's event loop, as the server and its clients are)."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from urllib.parse import urlencode

import httpx

from wf.ui.app import create_app
from worker_sdk import Client

CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


@asynccontextmanager
async def ui_client(address: str, client: Client | None = None, **options: str) -> AsyncIterator[httpx.AsyncClient]:
    app = create_app(address=address, client=client, **options)  # type: ignore[arg-type]
    transport = httpx.ASGITransport(app=app)
    try:
        async with httpx.AsyncClient(transport=transport, base_url="http://ui.test") as http:
            yield http
    finally:
        await app.state.ui.connections.close()


def workflow_url(workflow_id: str, run_id: str = "", namespace: str = "default", path: str = "") -> str:
    params = {"id": workflow_id, **({"run_id": run_id} if run_id else {})}
    return f"/namespaces/{namespace}/workflow{path}?{urlencode(params)}"


def csrf_token(page: str) -> str:
    m = CSRF.search(page)
    assert m, "the page has no CSRF token"
    return m.group(1)


def no_traceback(body: str) -> None:
    assert "Traceback" not in body and 'File "' not in body
