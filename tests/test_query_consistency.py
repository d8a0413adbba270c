"""A query sees what was sent before it: a query that arrives while a workflow task is scheduled or
running waits for that task, on one server and across servers of one database; and nothing waits
silently (a failing workflow task, too many waiting queries)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import timedelta

import asyncpg
import grpc
import pytest
import pytest_asyncio

from tests.helpers import (
    Stub,
    application_failure,
    assert_eventually,
    complete_workflow,
    complete_workflow_task,
    new_id,
    poll_workflow_task,
    rpc_error,
    start_request,
)
from wf.history.tasks import TaskKind
from wf.server.app import Server
from wf.server.config import ServerConfig
from wf.v1 import common_pb2, service_pb2
from worker_sdk import Client, Worker, workflow

C = common_pb2
S = service_pb2
ROUNDS = 200


@workflow.defn
class Counter:
    def __init__(self) -> None:
        self.count = 0

    @workflow.run
    async def run(self) -> int:
        await workflow.wait_condition(lambda: self.count < 0)
        return self.count

    @workflow.signal
    def add(self) -> None:
        self.count += 1

    @workflow.query
    def value(self) -> int:
        return self.count


@pytest_asyncio.fixture(loop_scope="session")
async def other_client(db_url: str) -> AsyncIterator[Client]:
    """A client of a second server on the session's database, which no worker of these tests polls."""
    other = Server(ServerConfig(db_url=db_url, port=0))
    await other.start()
    try:
        c = await Client.connect(other.address)
        try:
            yield c
        finally:
            await c.close()
    finally:
        await other.stop()


async def signal_then_query(worker_client: Client, asking: Client, task_queue: str, workers: int) -> None:
    pool = [Worker(worker_client, task_queue=task_queue, workflows=[Counter]) for _ in range(workers)]
    for w in pool:
        await w.__aenter__()
    try:
        handle = await worker_client.start_workflow(Counter.run, id=new_id("q-signal"), task_queue=task_queue)
        asked = asking.get_workflow_handle(handle.id)
        for expected in range(1, ROUNDS + 1):
            await asked.signal(Counter.add)
            assert await asked.query(Counter.value) == expected
        await handle.terminate("test over")
    finally:
        for w in reversed(pool):
            await w.__aexit__(None, None, None)


async def start_then_query(worker_client: Client, asking: Client, task_queue: str, workers: int) -> None:
    pool = [Worker(worker_client, task_queue=task_queue, workflows=[Counter]) for _ in range(workers)]
    for w in pool:
        await w.__aenter__()
    try:
        for _ in range(ROUNDS):
            handle = await asking.start_workflow(Counter.run, id=new_id("q-start"), task_queue=task_queue)
            assert await handle.query(Counter.value) == 0  # never "has not run its first workflow task yet"
            await handle.terminate("test over")
    finally:
        for w in reversed(pool):
            await w.__aexit__(None, None, None)


async def test_each_query_sees_the_signal_sent_before_it(client: Client, task_queue: str) -> None:
    await signal_then_query(client, client, task_queue, workers=1)


async def test_a_query_right_after_start_waits_for_the_first_workflow_task(client: Client, task_queue: str) -> None:
    await start_then_query(client, client, task_queue, workers=1)


async def test_each_query_sees_its_signal_when_asked_of_a_server_no_worker_polls(
    client: Client, other_client: Client, task_queue: str
) -> None:
    await signal_then_query(client, other_client, task_queue, workers=2)


async def test_a_query_right_after_start_on_a_server_no_worker_polls(
    client: Client, other_client: Client, task_queue: str
) -> None:
    await start_then_query(client, other_client, task_queue, workers=2)


# -- the raw protocol: when the query is handed out ----------------------------------------------------


def query_request(workflow_id: str, run_id: str = "") -> S.QueryWorkflowRequest:
    return S.QueryWorkflowRequest(
        namespace="default",
        execution=C.WorkflowExecution(workflow_id=workflow_id, run_id=run_id),
        query=S.WorkflowQuery(query_type="state"),
    )


@pytest.mark.parametrize("closes", [False, True], ids=["runs-on", "completes-the-run"])
async def test_a_query_waits_for_the_running_workflow_task_and_is_handed_out_after_it(
    stub: Stub, task_queue: str, closes: bool
) -> None:
    workflow_id = new_id("q-raw")
    await stub.StartWorkflowExecution(start_request(workflow_id, task_queue), timeout=10)
    task = await poll_workflow_task(stub, task_queue)
    asked = asyncio.ensure_future(stub.QueryWorkflow(query_request(workflow_id), timeout=10))
    # While the workflow task runs, no query task is handed out.
    assert not (await poll_workflow_task(stub, task_queue, timeout=1)).task_token
    assert not asked.done()
    await complete_workflow_task(stub, task.task_token, *([complete_workflow()] if closes else []))
    query_task = await poll_workflow_task(stub, task_queue)
    assert query_task.HasField("query")
    assert any(e.HasField("workflow_task_completed_event_attributes") for e in query_task.history.events)
    answer = C.Payloads(payloads=[C.Payload(data=b"after the task")])
    await stub.RespondQueryTaskCompleted(
        S.RespondQueryTaskCompletedRequest(task_token=query_task.task_token, query_result=answer), timeout=10
    )
    assert (await asked).query_result == answer


async def test_a_query_fails_at_once_while_the_workflow_task_keeps_failing(stub: Stub, task_queue: str) -> None:
    workflow_id = new_id("q-failing")
    await stub.StartWorkflowExecution(start_request(workflow_id, task_queue), timeout=10)
    for _ in range(2):  # attempts 1 and 2 fail: attempt 3 waits out its back-off
        task = await poll_workflow_task(stub, task_queue)
        await stub.RespondWorkflowTaskFailed(
            S.RespondWorkflowTaskFailedRequest(task_token=task.task_token, failure=application_failure("no config")),
            timeout=10,
        )
    loop = asyncio.get_running_loop()
    began = loop.time()
    error = await rpc_error(stub.QueryWorkflow(query_request(workflow_id), timeout=30))
    assert loop.time() - began < 5
    assert error.code() == grpc.StatusCode.FAILED_PRECONDITION
    assert "workflow not ready: its workflow task is failing: no config" in (error.details() or "")


async def waiting_queries(db_url: str, workflow_id: str) -> int:
    conn = await asyncpg.connect(db_url)
    try:
        count = await conn.fetchval(
            "SELECT count(*) FROM tasks WHERE workflow_id = $1 AND kind = $2",
            workflow_id,
            int(TaskKind.QUERY_AFTER_TASK),
        )
        return int(count)
    finally:
        await conn.close()


async def test_past_the_most_waiting_queries_of_a_run_a_query_is_refused(
    db_url: str, stub: Stub, task_queue: str
) -> None:
    workflow_id = new_id("q-many")
    await stub.StartWorkflowExecution(start_request(workflow_id, task_queue), timeout=10)  # nobody polls
    waiting = []
    try:
        for n in range(1, 11):
            waiting.append(asyncio.ensure_future(stub.QueryWorkflow(query_request(workflow_id), timeout=30)))

            async def queued(n: int = n) -> None:
                assert await waiting_queries(db_url, workflow_id) == n

            await assert_eventually(queued)
        error = await rpc_error(stub.QueryWorkflow(query_request(workflow_id), timeout=30))
        assert error.code() == grpc.StatusCode.RESOURCE_EXHAUSTED
        assert "--max-waiting-queries" in (error.details() or "")
        assert not any(w.done() for w in waiting)
    finally:
        for w in waiting:
            w.cancel()
        await asyncio.gather(*waiting, return_exceptions=True)
    await assert_eventually(lambda: _none_waiting(db_url, workflow_id))


async def _none_waiting(db_url: str, workflow_id: str) -> None:
    assert await waiting_queries(db_url, workflow_id) == 0


async def test_a_query_of_a_closed_run_does_not_wait(client: Client, task_queue: str) -> None:
    async with Worker(client, task_queue=task_queue, workflows=[Counter]):
        handle = await client.start_workflow(Counter.run, id=new_id("q-closed"), task_queue=task_queue)
        await handle.signal(Counter.add)
        assert await handle.query(Counter.value) == 1
        await handle.terminate("closed")
        # A closed run has no workflow task to wait for: answered from its whole history.
        assert await handle.query(Counter.value, timeout=timedelta(seconds=5)) == 1
