"""The workflow page's actions over HTTP against a real server and worker: signal, query, update,
cancel, terminate and reset, each a POST with the page's CSRF token (refused with 403 and nothing
done without it), and the live stream of a run's events and status."""

from __future__ import annotations

import asyncio
import json
import re

from tests.helpers import assert_eventually, new_id
from tests.ui_helpers import csrf_token, no_traceback, ui_client, workflow_url
from wf.server.app import Server
from worker_sdk import Client, Worker, WorkflowExecutionStatus, workflow


@workflow.defn
class Order:
    def __init__(self) -> None:
        self.items: list[str] = []
        self.done = False

    @workflow.run
    async def run(self) -> list[str]:
        await workflow.wait_condition(lambda: self.done)
        return self.items

    @workflow.signal
    def add(self, item: str) -> None:
        self.items.append(item)

    @workflow.signal
    def finish(self) -> None:
        self.done = True

    @workflow.query
    def count(self) -> int:
        return len(self.items)

    @workflow.update
    async def rename(self, name: str) -> str:
        self.items.append(name)
        return f"renamed to {name}"

    @rename.validator
    def _check(self, name: str) -> None:
        if not name:
            raise ValueError("a name is needed")


async def signalled(client: Client, workflow_id: str) -> int:
    history = await client.get_workflow_handle(workflow_id).fetch_history()
    return sum(1 for e in history.events if e.HasField("workflow_execution_signaled_event_attributes"))


async def test_actions_need_the_csrf_token_and_change_nothing_without_it(
    server: Server, client: Client, task_queue: str
) -> None:
    handle = await client.start_workflow(Order.run, id=new_id("csrf"), task_queue=task_queue)
    async with ui_client(server.address, client) as http:
        page = (await http.get(workflow_url(handle.id))).text
        token = csrf_token(page)
        form = {"id": handle.id, "name": "add", "input": '"x"'}
        r = await http.post("/namespaces/default/workflow/signal", data=form)
        assert r.status_code == 403 and "CSRF" in r.text and 'role="alert"' in r.text
        r = await http.post("/namespaces/default/workflow/signal", data={**form, "csrf_token": token + "0"})
        assert r.status_code == 403
        r = await http.post("/namespaces/default/workflow/terminate", data={"id": handle.id, "csrf_token": "a.b"})
        assert r.status_code == 403
        # A token of another UI process (another secret) is refused too.
        async with ui_client(server.address, client) as other:
            foreign = csrf_token((await other.get(workflow_url(handle.id))).text)
        http.cookies.set("wf_csrf", foreign)
        r = await http.post("/namespaces/default/workflow/signal", data={**form, "csrf_token": foreign})
        assert r.status_code == 403
        no_traceback(r.text)
        assert await signalled(client, handle.id) == 0
        assert (await handle.describe()).status == WorkflowExecutionStatus.RUNNING
    await handle.terminate()


async def test_signal_query_update_and_terminate_show_their_outcome(
    server: Server, client: Client, task_queue: str
) -> None:
    async with Worker(client, task_queue=task_queue, workflows=[Order]):
        handle = await client.start_workflow(Order.run, id=new_id("act"), task_queue=task_queue)
        async with ui_client(server.address, client) as http:
            token = csrf_token((await http.get(workflow_url(handle.id))).text)
            base = {"csrf_token": token, "id": handle.id}
            fragment = {"X-WF-Fragment": "outcome"}
            r = await http.post("/namespaces/default/workflow/signal",
                                data={**base, "name": "add", "input": '"apple"'}, headers=fragment)
            assert r.status_code == 200 and 'role="alert"' in r.text and "Signal &#39;add&#39; sent." in r.text
            r = await http.post("/namespaces/default/workflow/query", data={**base, "name": "count"}, headers=fragment)
            assert r.status_code == 200 and "answered" in r.text and '<pre class="json">1</pre>' in r.text
            r = await http.post("/namespaces/default/workflow/update",
                                data={**base, "name": "rename", "input": '"pear"'}, headers=fragment)
            assert r.status_code == 200 and "renamed to pear" in r.text
            r = await http.post("/namespaces/default/workflow/update",
                                data={**base, "name": "rename", "input": '""'}, headers=fragment)
            assert "Update failed" in r.text and "a name is needed" in r.text
            r = await http.post("/namespaces/default/workflow/query", data={**base, "name": "nope"}, headers=fragment)
            assert "Query failed" in r.text
            # Bad input is refused with a clear reason, and nothing is sent.
            r = await http.post("/namespaces/default/workflow/signal",
                                data={**base, "name": "add", "input": "{not json"}, headers=fragment)
            assert r.status_code == 400 and "Input is not JSON" in r.text
            r = await http.post("/namespaces/default/workflow/signal", data={**base, "input": "1"}, headers=fragment)
            assert r.status_code == 400 and "Name is required" in r.text
            assert await signalled(client, handle.id) == 1
            # Without the fragment header, the outcome is a page with the way back.
            r = await http.post("/namespaces/default/workflow/terminate", data={**base, "reason": "enough"})
            assert r.status_code == 200 and "Terminated." in r.text and "Back to the workflow" in r.text
            assert (await handle.describe()).status == WorkflowExecutionStatus.TERMINATED
            page = (await http.get(workflow_url(handle.id))).text
            assert ">Terminated</span>" in page and "enough" in page
            r = await http.post("/namespaces/default/workflow/signal",
                                data={**base, "name": "add", "input": '"late"'}, headers=fragment)
            assert r.status_code == 409 and "Signal failed" in r.text
            no_traceback(r.text)


async def test_cancel_and_reset(server: Server, client: Client, task_queue: str) -> None:
    async with Worker(client, task_queue=task_queue, workflows=[Order]):
        handle = await client.start_workflow(Order.run, id=new_id("reset"), task_queue=task_queue)
        await handle.signal(Order.add, "a")
        await assert_eventually(lambda: handle.query(Order.count))
        async with ui_client(server.address, client) as http:
            token = csrf_token((await http.get(workflow_url(handle.id))).text)
            base = {"csrf_token": token, "id": handle.id, "run_id": handle.run_id or ""}
            r = await http.post("/namespaces/default/workflow/reset", data={**base, "reason": ""})
            assert r.status_code == 400 and "Reason is required" in r.text
            r = await http.post("/namespaces/default/workflow/reset", data={**base, "reason": "try again"})
            assert r.status_code == 200 and "Reset: the workflow goes on as run" in r.text
            new_run = (await client.get_workflow_handle(handle.id).describe()).run_id
            assert new_run != handle.run_id and new_run in r.text
            r = await http.post("/namespaces/default/workflow/cancel", data={**base, "run_id": new_run})
            assert r.status_code == 200 and "Cancellation requested" in r.text

            async def canceled() -> bool:
                latest = await client.get_workflow_handle(handle.id).describe()
                return latest.status == WorkflowExecutionStatus.CANCELED

            await assert_eventually(canceled)


async def test_the_page_follows_a_running_workflow_live(server: Server, client: Client, task_queue: str) -> None:
    async with Worker(client, task_queue=task_queue, workflows=[Order]):
        handle = await client.start_workflow(Order.run, id=new_id("live"), task_queue=task_queue)
        await assert_eventually(lambda: handle.query(Order.count))
        async with ui_client(server.address, client) as http:
            page = (await http.get(workflow_url(handle.id))).text
            assert 'data-live="/namespaces/default/workflow/live?' in page
            last = max(int(x) for x in re.findall(r'data-event-id="(\d+)"', page))
            stream = asyncio.create_task(http.get(workflow_url(handle.id, path="/live") + f"&after={last}"))
            await handle.signal(Order.add, "live")
            await handle.signal(Order.finish)
            assert await handle.result() == ["live"]
            r = await asyncio.wait_for(stream, 30)
            assert r.headers["content-type"].startswith("text/event-stream")
            messages = [m for m in r.text.split("\n\n") if m.startswith("event:")]
            kinds = [m.split("\n")[0].removeprefix("event: ") for m in messages]
            assert kinds[0] == "status" and kinds[-1] == "end" and "events" in kinds
            payloads = [json.loads(m.split("\n")[1].removeprefix("data: ")) for m in messages]
            rows = "".join(p["html"] for k, p in zip(kinds, payloads, strict=True) if k == "events")
            assert "WorkflowExecutionSignaled" in rows and "WorkflowExecutionCompleted" in rows
            assert f'data-event-id="{last}"' not in rows  # only what the page did not show
            statuses = [p["status"] for k, p in zip(kinds, payloads, strict=True) if k == "status"]
            assert statuses[0] == "Running" and statuses[-1] == "Completed"


async def test_answers_encoded_by_the_workers_codec_are_a_sentence_not_a_server_error(
    server: Server, client: Client, task_queue: str
) -> None:
    """Workers with an encryption codec answer queries and the stack query with ciphertext; the UI,
    which holds no key, says so on the page instead of failing the request."""
    from worker_sdk import DataConverter
    from worker_sdk.codecs import EncryptionCodec

    codec = EncryptionCodec({"k1": EncryptionCodec.generate_key()})
    async with await Client.connect(server.address, data_converter=DataConverter(payload_codec=codec)) as sealed:
        async with Worker(sealed, task_queue=task_queue, workflows=[Order]):
            handle = await sealed.start_workflow(Order.run, id=new_id("sealed"), task_queue=task_queue)
            assert await handle.query(Order.count) == 0  # the worker answers (encrypted, on the wire)
            async with ui_client(server.address, client) as http:
                stack = await http.get(workflow_url(handle.id, path="/stack"))
                assert stack.status_code == 200, stack.text
                no_traceback(stack.text)
                assert "could not be decoded here" in stack.text and "--codec-endpoint" in stack.text

                page = await http.get(workflow_url(handle.id))
                r = await http.post("/namespaces/default/workflow/query",
                                    data={"csrf_token": csrf_token(page.text), "id": handle.id, "name": "count"})
                assert r.status_code == 200, r.text
                no_traceback(r.text)
                assert "Query answered, but the answer could not be decoded here" in r.text
            await handle.signal(Order.finish)
            await handle.result()
