"""The web UI's pages over HTTP against a real server: the workflows list (order, filters, counts,
paging, query errors, empty state), a workflow's page (header, input and result, timeline, events,
pending, stack, download), task queues, namespaces, the banner of a server that is down, escaping
of ids that need it, payloads that are not JSON; and that the UI imports no server package."""

from __future__ import annotations

import ast
import asyncio
import html
import json
from datetime import timedelta
from pathlib import Path

import markupsafe
import pytest

from tests.helpers import assert_eventually, free_port, new_id, start_request
from tests.ui_helpers import no_traceback, ui_client, workflow_url
from wf.server.app import Server
from wf.ui.views import workflows as list_view
from wf.v1 import service_pb2_grpc
from worker_sdk import Client, RetryPolicy, Worker, WorkflowHistory, activity, workflow
from worker_sdk.errors import ApplicationError

UI = Path(__file__).parent.parent / "ui"


@activity.defn
async def charge(amount: int) -> str:
    if activity.info().attempt < 1000:
        raise ApplicationError(f"card declined on attempt {activity.info().attempt}")
    return "charged"


@activity.defn
async def greet(name: str) -> str:
    return f"Hello, {name}!"


@workflow.defn
class Greeting:
    @workflow.run
    async def run(self, name: str) -> str:
        return await workflow.execute_activity(greet, name, start_to_close_timeout=timedelta(seconds=10))


@workflow.defn
class Checkout:
    def __init__(self) -> None:
        self.approved = False

    @workflow.run
    async def run(self, amount: int) -> str:
        workflow.start_activity(
            charge, amount, start_to_close_timeout=timedelta(seconds=5),
            retry_policy=RetryPolicy(
                initial_interval=timedelta(milliseconds=100), maximum_interval=timedelta(milliseconds=200)
            ),
        )
        await workflow.sleep(timedelta(milliseconds=1))
        await workflow.wait_condition(lambda: self.approved)
        return f"approved {amount}"

    @workflow.signal
    def approve(self) -> None:
        self.approved = True


def test_ui_imports_only_the_sdk_and_its_framework() -> None:
    """The UI is a client of the public API: no module of it imports the server's packages."""
    forbidden = ("wf.history", "wf.server", "wf.matching", "wf.migrations", "history", "server", "matching")
    for path in UI.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            names = []
            if isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module:
                names = [node.module]
            for name in names:
                assert not any(name == f or name.startswith(f + ".") for f in forbidden), f"{path}: imports {name}"


async def test_list_shows_runs_with_their_fields_filters_counts_and_pages(
    server: Server, client: Client, task_queue: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    async with Worker(client, task_queue=task_queue, workflows=[Greeting], activities=[greet]):
        done = [await client.start_workflow(Greeting.run, f"n{i}", id=new_id("greet"), task_queue=task_queue)
                for i in range(3)]
        for h in done:
            await h.result()
    running = await client.start_workflow(Greeting.run, "late", id=new_id("late"), task_queue=task_queue)
    async with ui_client(server.address, client) as http:
        q = f"TaskQueue = '{task_queue}'"
        r = await http.get("/namespaces/default/workflows", params={"query": q})
        assert r.status_code == 200
        page = r.text
        assert '<input type="search" id="query" name="query"' in page and '<label for="query">Query</label>' in page
        assert ">Search</button>" in page
        # The server's visibility order (running first, then newest), as the SDK lists it.
        ids = [h.id for h in done]
        order = [e.id async for e in client.list_workflows(q)]
        assert order[0] == running.id
        positions = [page.index(f">{i}</a>") for i in order]
        assert positions == sorted(positions)
        assert "Greeting" in page and task_queue in page and "Completed" in page and "Running" in page
        assert "<thead>" in page and '<th scope="col">Workflow id</th>' in page
        # Counts by status beside the filters.
        assert 'All<span class="count" aria-hidden="true"> 4</span>' in page
        assert 'Completed<span class="count" aria-hidden="true"> 3</span>' in page
        # A status filter.
        r = await http.get("/namespaces/default/workflows", params={"query": q, "status": "Running"})
        assert running.id in r.text and not any(i in r.text for i in ids)
        # A type filter.
        r = await http.get("/namespaces/default/workflows", params={"query": q, "type": "Nope"})
        assert running.id not in r.text and "No workflow matches" in r.text
        # Pages of the server's tokens.
        monkeypatch.setattr(list_view, "PAGE_SIZE", 3)
        r = await http.get("/namespaces/default/workflows", params={"query": q})
        assert r.text.count('data-label="Workflow id"') == 3 and "Next page" in r.text
        next_href = html.unescape(r.text.split('rel="next" href="')[1].split('"')[0])
        r2 = await http.get(next_href)
        assert r2.text.count('data-label="Workflow id"') == 1 and order[-1] in r2.text and "First page" in r2.text
        # The live refresh asks for the results alone.
        r = await http.get("/namespaces/default/workflows", params={"query": q}, headers={"X-WF-Fragment": "results"})
        assert r.status_code == 200 and "<html" not in r.text and running.id in r.text
    await running.terminate("done")


async def test_a_query_error_is_shown_beside_the_box(server: Server, client: Client) -> None:
    async with ui_client(server.address, client) as http:
        r = await http.get("/namespaces/default/workflows", params={"query": "WorkflowType = "})
        assert r.status_code == 400
        assert 'id="query-error"' in r.text and "invalid list query" in r.text
        assert 'value="WorkflowType = "' in r.text  # the query stays in the box to be fixed
        no_traceback(r.text)


async def test_an_empty_namespace_teaches_how_to_start(server: Server, client: Client) -> None:
    ns = f"ui-empty-{new_id('ns')[-8:]}"
    await client.register_namespace(ns)
    async with ui_client(server.address, client) as http:
        r = await http.get(f"/namespaces/{ns}/workflows")
        assert r.status_code == 200
        assert "examples/hello/worker.py" in r.text and "wf workflow execute" in r.text


async def test_a_workflow_page_shows_header_timeline_events_pending_and_result(
    server: Server, client: Client, task_queue: str
) -> None:
    async with Worker(client, task_queue=task_queue, workflows=[Checkout], activities=[charge]):
        handle = await client.start_workflow(Checkout.run, 42, id=new_id("checkout"), task_queue=task_queue)

        async def retried() -> bool:
            d = await handle.describe()
            return any(a.attempt >= 2 and a.HasField("last_failure") for a in d.pending_activities)

        await assert_eventually(retried)
        async with ui_client(server.address, client) as http:
            r = await http.get(workflow_url(handle.id))
            assert r.status_code == 200
            page = r.text
            assert '<span role="status" id="wf-status" class="badge st-running">Running</span>' in page
            for heading in ("Timeline", "Event history", "Pending", "Stack", "Actions"):
                assert f">{heading}</h2>" in page
            assert "Checkout" in page and task_queue in page and handle.id in page
            assert '<pre class="json">42</pre>' in page  # the input, decoded
            # The timeline's activity bar names its attempt; the pending activity its last failure.
            assert 'class="bar k-activity' in page and "Activity charge attempt " in page
            pending = page.split('id="h-pending"')[1].split('id="h-events"')[0]
            assert "card declined on attempt" in pending
            assert "ActivityTaskScheduled" in page and "WorkflowExecutionStarted" in page
            for label in ("Signal", "Query", "Update", "Cancel", "Terminate", "Reset"):
                assert f'<button type="submit">{label}</button>' in page
            assert ">Confirm</button>" in page and ">Back</button>" in page
            # The stack, from the worker.
            r = await http.get(workflow_url(handle.id, path="/stack"))
            assert r.status_code == 200 and "test_ui_pages.py" in r.text
            await handle.signal(Checkout.approve)
            assert await handle.result() == "approved 42"
            r = await http.get(workflow_url(handle.id))
            assert ">Completed</span>" in r.text and "&#34;approved 42&#34;" in r.text
            assert "Signal approve" in r.text  # the signal's point on the timeline
            no_traceback(r.text)
            # The download is the JSON wf replay reads.
            r = await http.get(workflow_url(handle.id, path="/history.json"))
            assert r.status_code == 200 and "attachment" in r.headers["content-disposition"]
            history = WorkflowHistory.from_json(handle.id, r.text)
            assert len(history.events) == len((await handle.fetch_history()).events)


async def test_the_stack_says_so_when_no_worker_answers(server: Server, client: Client, task_queue: str) -> None:
    handle = await client.start_workflow("Nobody", id=new_id("nobody"), task_queue=task_queue)
    async with ui_client(server.address, client) as http:
        r = await http.get(workflow_url(handle.id, path="/stack"))
        assert r.status_code == 200 and "No worker answered" in r.text and task_queue in r.text
        r = await http.get(workflow_url(handle.id))
        assert "no worker has polled task queue" in r.text  # the waiting hint
    await handle.terminate()


async def test_a_payload_that_is_not_json_is_shown_as_base64_with_its_encoding(
    server: Server, stub: service_pb2_grpc.WorkflowServiceStub, client: Client, task_queue: str
) -> None:
    wid = new_id("binary")
    await stub.StartWorkflowExecution(start_request(wid, task_queue, input=b"\x00\xffnot json"))
    async with ui_client(server.address, client) as http:
        r = await http.get(workflow_url(wid))
        assert r.status_code == 200
        assert "binary/plain, base64" in r.text and "AP9ub3QganNvbg==" in r.text
    await client.get_workflow_handle(wid).terminate()


async def test_an_id_that_needs_escaping_is_escaped_everywhere(
    server: Server, client: Client, task_queue: str
) -> None:
    wid = """a/b <script>alert("x")</script> 'q' "dq" é ü ☃ &amp;"""
    handle = await client.start_workflow("Escaped", id=wid, task_queue=task_queue)
    async with ui_client(server.address, client) as http:
        pages = [
            await http.get("/namespaces/default/workflows", params={"query": f"TaskQueue = '{task_queue}'"}),
            await http.get(workflow_url(wid)),
            await http.get(workflow_url(wid, path="/events")),
            await http.get(workflow_url(wid, path="/stack")),
            await http.get(workflow_url(wid, handle.run_id or "", path="/nope")),
        ]
        token = pages[1].text.split('name="csrf_token" value="')[1].split('"')[0]
        pages.append(await http.post(
            "/namespaces/default/workflow/signal", data={"csrf_token": token, "id": wid, "name": "<script>x</script>"}
        ))
        for r in pages:
            assert "<script>" not in r.text.replace('<script src="/static/app.js" defer></script>', ""), r.url
            no_traceback(r.text)
        escaped = str(markupsafe.escape(wid))
        assert escaped in pages[0].text and escaped in pages[1].text
        assert pages[1].status_code == 200
        # The link from the list round-trips to the same workflow.
        href = html.unescape(pages[0].text.split('href="/namespaces/default/workflow?')[1].split('"')[0])
        r = await http.get("/namespaces/default/workflow?" + href)
        assert r.status_code == 200 and escaped in r.text
    await handle.terminate()


async def test_task_queue_page_shows_pollers_and_backlog(server: Server, client: Client, task_queue: str) -> None:
    async with Worker(client, task_queue=task_queue, workflows=[Greeting], activities=[greet]):
        await client.execute_workflow(Greeting.run, "tq", id=new_id("tq"), task_queue=task_queue)
        async with ui_client(server.address, client) as http:
            async def polled() -> str:
                r = await http.get("/namespaces/default/task-queues", params={"name": task_queue})
                assert r.status_code == 200 and client.identity in r.text
                return r.text

            page = await assert_eventually(polled)
            assert "Workflow tasks waiting" in page and "workflow" in page and "activity" in page
    async with ui_client(server.address, client) as http:
        r = await http.get("/namespaces/default/task-queues", params={"name": new_id("empty-q")})
        assert "No worker has polled this task queue" in r.text


async def test_namespaces_and_schedules_pages(server: Server, client: Client) -> None:
    async with ui_client(server.address, client) as http:
        r = await http.get("/namespaces")
        assert r.status_code == 200 and 'href="/namespaces/default/workflows">default</a>' in r.text
        r = await http.get("/namespaces/default")
        assert r.status_code == 200 and "Retention" in r.text
        r = await http.get("/namespaces/no-such-namespace-here")
        assert r.status_code == 404
        r = await http.get("/namespaces/default/schedules")
        assert r.status_code == 200 and "Schedules" in r.text
        for name in ("Workflows", "Schedules", "Task queues", "Namespaces"):
            assert f">{name}</a>" in r.text
        r = await http.get("/")
        assert r.status_code == 302 and r.headers["location"] == "/namespaces/default/workflows"


async def test_a_server_that_is_down_shows_the_banner_on_every_page() -> None:
    address = f"127.0.0.1:{free_port()}"
    async with ui_client(address) as http:
        for url in ("/namespaces/default/workflows", workflow_url("w"), "/namespaces/default/task-queues",
                    "/namespaces", "/namespaces/default/schedules", "/namespaces/default"):
            r = await asyncio.wait_for(http.get(url), 10)
            assert r.status_code == 503, url
            assert "cannot be reached" in r.text and address in r.text
            no_traceback(r.text)


async def test_an_unknown_workflow_is_a_clear_404(server: Server, client: Client) -> None:
    async with ui_client(server.address, client) as http:
        r = await http.get(workflow_url(new_id("missing")))
        assert r.status_code == 404 and "Not found" in r.text
        r = await http.get("/namespaces/default/workflow")
        assert r.status_code == 400
        no_traceback(r.text)
        r = await http.get("/namespaces/default/workflow/signal")
        assert r.status_code == 405 and "Error 405" in r.text
        r = await http.get("/no/such/page")
        assert r.status_code == 404 and "Error 404" in r.text
        no_traceback(r.text)
        r = await http.get("/static/app.css")
        assert r.status_code == 200 and "prefers-color-scheme" in r.text


async def test_the_ui_connects_by_itself_once_the_server_answers(db_url: str) -> None:
    """A UI started before its server shows the banner, then the pages, without a restart."""
    from wf.server.config import ServerConfig

    port = free_port()
    async with ui_client(f"127.0.0.1:{port}") as http:
        r = await http.get("/namespaces/default/workflows")
        assert r.status_code == 503 and "cannot be reached" in r.text
        late = Server(ServerConfig(db_url=db_url, port=port))
        await late.start()
        try:
            r = await http.get("/namespaces")
            assert r.status_code == 200 and "cannot be reached" not in r.text and ">default</a>" in r.text
        finally:
            await late.stop()
        # Gone again after the UI connected: the banner, within the UI's own bound on a call.
        began = asyncio.get_running_loop().time()
        r = await http.get("/namespaces/default/workflows")
        assert r.status_code == 503 and "cannot be reached" in r.text
        assert asyncio.get_running_loop().time() - began < 10


async def test_with_a_codec_endpoint_the_browser_decodes_the_raw_payloads(
    server: Server, client: Client, task_queue: str
) -> None:
    handle = await client.start_workflow("Encoded", {"secret": 1}, id=new_id("codec"), task_queue=task_queue)
    async with ui_client(server.address, client, codec_endpoint="http://127.0.0.1:8888/codec/") as http:
        page = (await http.get(workflow_url(handle.id))).text
        assert 'data-codec-endpoint="http://127.0.0.1:8888/codec"' in page
        assert '<script type="module" src="/static/codec.js"></script>' in page
        raw = markupsafe.Markup(page.split('data-payload="')[1].split('"')[0]).unescape()
        payload = json.loads(raw)
        assert set(payload) == {"metadata", "data"} and payload["metadata"]["encoding"] == "anNvbi9wbGFpbg=="
        r = await http.get("/static/codec.js")
        assert r.status_code == 200 and "/decode" in r.text
    async with ui_client(server.address, client) as http:
        assert "data-payload=" not in (await http.get(workflow_url(handle.id))).text
    await handle.terminate()
