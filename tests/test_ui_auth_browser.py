"""Signing in to the web UI in a real browser (headless Chromium, Playwright, as
``tests/test_ui_browser.py``): a reader and a writer sign in with their keys, by the form's labels,
and see the workflow list; each sees who they are, and only the writer gets the run's actions."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from typing import Any

import pytest
import pytest_asyncio

from tests import test_ui_browser
from wf.server.app import Server
from wf.server.auth.keys import ApiKeys
from wf.server.config import ServerConfig
from wf.v1 import auth_pb2
from worker_sdk import Client
from worker_sdk._cli.ui_cmd import RunningUi, start_ui

# Headless Chromium for this module's test, launched as the other browser tests launch it.
browser = test_ui_browser.browser


@pytest_asyncio.fixture(scope="module", loop_scope="session")
async def auth_ui(db_url: str, server: Server) -> AsyncIterator[tuple[Server, RunningUi]]:
    """A server with ``--auth required`` on the session's database, and the UI in front of it."""
    s = Server(ServerConfig(db_url=db_url, port=0, auth="required"))
    await s.start()
    try:
        running = await start_ui(address=s.address, host="127.0.0.1", port=0)
        try:
            yield s, running
        finally:
            await running.stop()
    finally:
        await s.stop()


@pytest.mark.timeout(120)
async def test_sign_in_by_role_and_see_the_list(
    browser: Any, auth_ui: tuple[Server, RunningUi], client: Client
) -> None:
    from playwright.async_api import expect

    server, ui = auth_ui
    tag = uuid.uuid4().hex[:6]
    table = ApiKeys(server._pool)  # type: ignore[arg-type]
    workflow_id = f"browser-auth-{tag}"
    await client.start_workflow("NoWorkerHere", id=workflow_id, task_queue=f"q-{tag}")
    for role_name, role in [("reader", auth_pb2.ROLE_READER), ("writer", auth_pb2.ROLE_WRITER)]:
        key, _ = await table.create(f"browser-{role_name}-{tag}", "default", role, "tests")
        context = await browser.new_context()
        context.set_default_timeout(15_000)
        page = await context.new_page()
        try:
            await page.goto(ui.url + "/")
            await expect(page.get_by_role("heading", name="Sign in")).to_be_visible()
            await page.get_by_label("API key").fill(key)
            await page.get_by_role("button", name="Sign in").click()
            await expect(page.get_by_role("link", name=workflow_id)).to_be_visible()
            await expect(page.get_by_text(f"{role_name} in default")).to_be_visible()
            assert key not in await page.content()
            cookies = {c["name"]: c for c in await context.cookies()}
            assert cookies["wf_session"]["httpOnly"] and cookies["wf_session"]["sameSite"] == "Strict"
            assert all(key not in c["value"] for c in cookies.values())

            await page.get_by_role("link", name=workflow_id).click()
            terminate = page.get_by_role("button", name="Terminate")
            await expect(page.get_by_role("button", name="Query")).to_be_visible()
            if role_name == "writer":
                await expect(terminate).to_be_visible()
            else:
                await expect(terminate).to_have_count(0)

            await page.get_by_role("button", name="Sign out").click()
            await expect(page.get_by_role("heading", name="Sign in")).to_be_visible()
        finally:
            await context.close()
