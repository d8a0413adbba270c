"""The SDK's one-page-at-a-time calls the UI pages with: ``client.list_workflows_page`` and
``handle.fetch_history_events_page`` (with its long poll for new events), on a real server."""

from __future__ import annotations

import asyncio
from datetime import timedelta

from tests.helpers import new_id
from wf.server.app import Server
from worker_sdk import Client


async def test_list_workflows_page_pages_on_the_servers_tokens(server: Server, client: Client, task_queue: str) -> None:
    handles = [await client.start_workflow("Paged", id=new_id("paged"), task_queue=task_queue) for _ in range(5)]
    query = f"TaskQueue = '{task_queue}'"
    everything = [e.id async for e in client.list_workflows(query)]
    seen: list[str] = []
    token = b""
    pages = 0
    while True:
        page = await client.list_workflows_page(query, page_size=2, next_page_token=token)
        seen += [e.id for e in page.executions]
        pages += 1
        token = page.next_page_token
        if not token:
            break
    assert seen == everything and sorted(seen) == sorted(h.id for h in handles) and pages == 3
    for h in handles:
        await h.terminate()


async def test_fetch_history_events_page_reads_on_and_waits_for_new_events(
    server: Server, client: Client, task_queue: str
) -> None:
    handle = await client.start_workflow("Paged", id=new_id("events"), task_queue=task_queue)
    first = await handle.fetch_history_events_page(page_size=1)
    assert [e.event_id for e in first.events] == [1] and first.next_page_token and first.run_id == handle.run_id
    rest = await handle.fetch_history_events_page(next_page_token=first.next_page_token)
    assert [e.event_id for e in rest.events] == [2] and not rest.next_page_token
    # Waiting, a page of an open run always has a token to read on with: from the end of the
    # history, the next long poll answers with the signal once it is recorded.
    tail = await handle.fetch_history_events_page(next_page_token=first.next_page_token, wait_new_event=True)
    assert [e.event_id for e in tail.events] == [2] and tail.next_page_token
    waiting = asyncio.create_task(handle.fetch_history_events_page(
        next_page_token=tail.next_page_token, wait_new_event=True, rpc_timeout=timedelta(seconds=20)
    ))
    await handle.signal("poke", 1)
    page = await asyncio.wait_for(waiting, 20)
    assert [e.event_id for e in page.events] == [3]
    assert page.events[0].HasField("workflow_execution_signaled_event_attributes") and page.next_page_token
    await handle.terminate()
