"""A workflow page over a history of 10,000 events: the page answers within 2 s and pages the
events (200 a page), the next page follows on the server's token, and the timeline and download
cover the whole history."""

from __future__ import annotations

import re
import time

from tests.helpers import complete_workflow_task, new_id, next_workflow_task, start_request
from tests.ui_helpers import ui_client, workflow_url
from wf.server.app import Server
from wf.v1 import command_pb2, service_pb2_grpc
from worker_sdk import Client, WorkflowHistory

EVENTS = 10_000


def marker(i: int) -> command_pb2.Command:
    return command_pb2.Command(
        command_type=command_pb2.COMMAND_TYPE_RECORD_MARKER,
        record_marker_command_attributes=command_pb2.RecordMarkerCommandAttributes(marker_name=f"m{i}"),
    )


async def test_a_history_of_10000_events_answers_within_2s_and_is_paged(
    server: Server, stub: service_pb2_grpc.WorkflowServiceStub, client: Client, task_queue: str
) -> None:
    # The cheapest real way to a long history: one workflow task that records markers, as a worker
    # would, after the run's first four events (started, task scheduled, started, completed).
    wid = new_id("long")
    await stub.StartWorkflowExecution(start_request(wid, task_queue, input=b'"x"'))
    task = await next_workflow_task(stub, task_queue)
    await complete_workflow_task(stub, task.task_token, *(marker(i) for i in range(EVENTS - 4)))
    handle = client.get_workflow_handle(wid)
    assert (await handle.describe()).history_length == EVENTS
    async with ui_client(server.address, client) as http:
        await http.get(workflow_url(wid))  # the connection and templates, made once
        began = time.perf_counter()
        r = await http.get(workflow_url(wid))
        elapsed = time.perf_counter() - began
        print(f"workflow page of {EVENTS} events: {elapsed * 1000:.0f} ms to the whole page")
        assert r.status_code == 200
        assert elapsed < 2.0, f"the page took {elapsed:.2f}s"
        ids = [int(x) for x in re.findall(r'data-event-id="(\d+)"', r.text)]
        assert ids == list(range(1, 201))
        assert "Next events" in r.text and f"{EVENTS} events" in r.text
        href = r.text.split('class="more" data-fragment href="')[1].split('"')[0].replace("&amp;", "&")
        r = await http.get(href)
        assert [int(x) for x in re.findall(r'data-event-id="(\d+)"', r.text)] == list(range(201, 401))
        # The timeline of a long history comes after the page.
        began = time.perf_counter()
        r = await http.get(workflow_url(wid, path="/timeline"))
        print(f"timeline of {EVENTS} events: {(time.perf_counter() - began) * 1000:.0f} ms")
        assert r.status_code == 200 and "No activities, timers" in r.text
        r = await http.get(workflow_url(wid, path="/history.json"))
        assert len(WorkflowHistory.from_json(wid, r.text).events) == EVENTS
    await handle.terminate()
