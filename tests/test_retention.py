"""Retention and deleting runs: the background task deletes exactly the closed runs whose close time
plus their namespace's retention has passed (with every row of theirs), not running ones, recent ones
or another namespace's; several servers share the work; a deleted namespace's runs go, then the
namespace; one run is deleted at once (terminated first if it runs); batch operations by query.
"""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import uuid
from collections.abc import AsyncIterator
from datetime import timedelta

import asyncpg
import grpc
import pytest
import pytest_asyncio

from tests.helpers import assert_eventually, new_id
from tests.test_cli import WF
from wf.history.limits import Limits
from wf.server.app import Server
from wf.server.config import ServerConfig
from worker_sdk import Client, Worker, workflow
from worker_sdk.errors import RPCError

# The tables that hold rows of a run, each keyed by (namespace, workflow_id, run_id).
RUN_TABLES = ("executions", "history_events", "tasks", "timers", "queries")


@workflow.defn
class Waits:
    @workflow.run
    async def run(self) -> str:
        await workflow.wait_condition(lambda: False)
        return "never"


@workflow.defn
class Quick:
    @workflow.run
    async def run(self, x: int) -> int:
        return x


@pytest_asyncio.fixture(loop_scope="session")
async def short(db_url: str) -> AsyncIterator[Server]:
    """A server that allows retentions of any length (the minimum lowered for tests) and looks for
    due runs every 50 ms."""
    s = Server(ServerConfig(
        db_url=db_url, port=0, limits=Limits(min_namespace_retention=timedelta(0)), retention_idle=0.05,
        retention_pause=0.0,
    ))
    await s.start()
    try:
        yield s
    finally:
        await s.stop()


async def wf(*args: str, address: str, input: str | None = None) -> subprocess.CompletedProcess[str]:
    """``wf workflow ARGS --address ADDRESS``, with ``input`` on stdin (answers to a confirmation)."""
    environ = {k: v for k, v in os.environ.items() if not k.startswith("WF_")}
    return await asyncio.to_thread(
        subprocess.run, [WF, "workflow", *args, "--address", address], capture_output=True, text=True,
        timeout=60, env=environ, input=input,
    )


def new_namespace() -> str:
    return f"ret-{uuid.uuid4().hex[:10]}"


async def rows_of(db: asyncpg.Connection, namespace: str, workflow_id: str) -> dict[str, int]:
    """How many rows each run table holds for the workflow id."""
    counts = {}
    for table in RUN_TABLES:
        counts[table] = await db.fetchval(
            f"SELECT count(*) FROM {table} WHERE namespace = $1 AND workflow_id = $2", namespace, workflow_id
        )
    return counts


async def closed_ago(db: asyncpg.Connection, namespace: str, workflow_id: str, ago: timedelta) -> None:
    """Make the run look closed ``ago`` (rather than wait that long)."""
    await db.execute(
        "UPDATE executions SET close_time = now() - $3::interval WHERE namespace = $1 AND workflow_id = $2",
        namespace, workflow_id, ago,
    )


async def closed_run(client: Client, task_queue: str) -> str:
    handle = await client.start_workflow(Quick.run, 1, id=new_id(), task_queue=task_queue)
    assert await handle.result() == 1
    return handle.id


async def test_retention_deletes_exactly_the_closed_runs_past_it(
    short: Server, db: asyncpg.Connection, task_queue: str
) -> None:
    ns, other = new_namespace(), new_namespace()
    async with await Client.connect(short.address, namespace=ns) as client, \
            await Client.connect(short.address, namespace=other) as client_other:
        await client.register_namespace(ns, retention=timedelta(minutes=30))
        await client.register_namespace(other, retention=timedelta(hours=2))
        async with Worker(client, task_queue=task_queue, workflows=[Quick, Waits]), \
                Worker(client_other, task_queue=task_queue, workflows=[Quick]):
            due = [await closed_run(client, task_queue) for _ in range(3)]
            recent = await closed_run(client, task_queue)
            running = (await client.start_workflow(Waits.run, id=new_id(), task_queue=task_queue)).id
            elsewhere = await closed_run(client_other, task_queue)
            for wid in due:
                await closed_ago(db, ns, wid, timedelta(minutes=31))
            await closed_ago(db, ns, recent, timedelta(minutes=29))
            await closed_ago(db, other, elsewhere, timedelta(minutes=31))  # within its 2 hours

            async def all_due_gone() -> bool:
                left = [sum((await rows_of(db, ns, wid)).values()) for wid in due]
                return left == [0, 0, 0]

            await assert_eventually(all_due_gone, timeout=20)
            # One more pass of its own finds nothing due: the others are not merely late.
            assert await short.history.retention.delete_due() is False
            for namespace, wid in ((ns, recent), (ns, running), (other, elsewhere)):
                assert (await rows_of(db, namespace, wid))["executions"] == 1, wid
            with pytest.raises(RPCError) as gone:
                await client.get_workflow_handle(due[0]).describe()
            assert gone.value.status == grpc.StatusCode.NOT_FOUND
            assert [e.id async for e in client.list_workflows(f"WorkflowId = '{due[1]}'")] == []
            await client.get_workflow_handle(running).terminate("test over")


async def test_a_closed_run_whose_close_still_has_a_cross_run_task_waits_for_it(
    short: Server, db: asyncpg.Connection, task_queue: str
) -> None:
    ns = new_namespace()
    async with await Client.connect(short.address, namespace=ns) as client:
        await client.register_namespace(ns, retention=timedelta(seconds=1))
        async with Worker(client, task_queue=task_queue, workflows=[Quick]):
            wid = await closed_run(client, task_queue)
        run_id = await db.fetchval("SELECT run_id FROM executions WHERE namespace = $1 AND workflow_id = $2", ns, wid)
        # As a close that must still tell its parent: a cross-run task not yet fired (far in the future here).
        await db.execute(
            "INSERT INTO timers (namespace, workflow_id, run_id, timer_key, fire_at, kind, event_id, attempt) "
            "VALUES ($1, $2, $3, 'pending', now() + interval '1 day', 1, 1, 1)", ns, wid, run_id,
        )
        await closed_ago(db, ns, wid, timedelta(hours=1))
        await short.history.retention.delete_due()
        assert (await rows_of(db, ns, wid))["executions"] == 1
        await db.execute("DELETE FROM timers WHERE namespace = $1 AND workflow_id = $2", ns, wid)

        async def gone() -> bool:
            return sum((await rows_of(db, ns, wid)).values()) == 0

        await assert_eventually(gone, timeout=20)


async def test_several_servers_share_the_deletions_and_delete_each_run_once(
    short: Server, server: Server, server_b: Server, db: asyncpg.Connection, task_queue: str
) -> None:
    ns = new_namespace()
    servers = (short, server, server_b)
    before = sum(s.history.retention.deleted for s in servers)
    async with await Client.connect(server.address, namespace=ns) as client:
        await client.register_namespace(ns, retention=timedelta(hours=1))
        async with Worker(client, task_queue=task_queue, workflows=[Quick]):
            handles = await asyncio.gather(*(
                client.start_workflow(Quick.run, i, id=new_id(), task_queue=task_queue) for i in range(40)
            ))
            await asyncio.gather(*(h.result() for h in handles))
        await db.execute("UPDATE executions SET close_time = now() - interval '2 hours' WHERE namespace = $1", ns)
        # All three look at once, in batches of 5, with no pause.
        for s in servers:
            s.history.retention.settings = type(s.history.retention.settings)(batch=5, pause=0.0, idle=0.05)
        try:
            async def none_left() -> bool:
                return await db.fetchval("SELECT count(*) FROM executions WHERE namespace = $1", ns) == 0

            await assert_eventually(none_left, timeout=30)
        finally:
            for s in servers:
                s.history.retention.settings = type(s.history.retention.settings)()
    assert sum(s.history.retention.deleted for s in servers) - before == 40
    assert await db.fetchval("SELECT count(*) FROM history_events WHERE namespace = $1", ns) == 0


async def test_a_deleted_namespaces_runs_go_then_the_namespace_and_its_name_is_free(
    short: Server, db: asyncpg.Connection, task_queue: str
) -> None:
    ns = new_namespace()
    async with await Client.connect(short.address, namespace=ns) as client:
        await client.register_namespace(ns)
        async with Worker(client, task_queue=task_queue, workflows=[Quick, Waits]):
            closed = await closed_run(client, task_queue)
            running = (await client.start_workflow(Waits.run, id=new_id(), task_queue=task_queue)).id
            await client.delete_namespace(ns)
            with pytest.raises(RPCError) as refused:
                await client.start_workflow(Quick.run, 2, id=new_id(), task_queue=task_queue)
            assert refused.value.status == grpc.StatusCode.NOT_FOUND

        async def namespace_gone() -> bool:
            return await db.fetchval("SELECT count(*) FROM namespaces WHERE name = $1", ns) == 0

        await assert_eventually(namespace_gone, timeout=20)
        for wid in (closed, running):
            assert sum((await rows_of(db, ns, wid)).values()) == 0
        await client.register_namespace(ns)  # the name may be used again
        assert (await client.describe_namespace(ns)).state == "Registered"


# -- deleting one run -----------------------------------------------------------------------------------


async def test_a_running_run_is_terminated_then_deleted_and_a_closed_one_deleted(
    client: Client, db: asyncpg.Connection, task_queue: str
) -> None:
    async with Worker(client, task_queue=task_queue, workflows=[Quick, Waits]):
        running = await client.start_workflow(Waits.run, id=new_id(), task_queue=task_queue)
        result = asyncio.ensure_future(running.result())
        closed = await closed_run(client, task_queue)
        await running.delete()
        await client.get_workflow_handle(closed).delete()
    for wid in (running.id, closed):
        assert sum((await rows_of(db, "default", wid)).values()) == 0, wid
    # Whoever waited for the running run's result is not left waiting: it was terminated, then gone.
    with pytest.raises(Exception):  # noqa: B017 - terminated, or NOT_FOUND if the read came after the delete
        await asyncio.wait_for(result, 10)
    with pytest.raises(RPCError) as gone:
        await running.delete()
    assert gone.value.status == grpc.StatusCode.NOT_FOUND


async def test_wf_workflow_delete(server: Server, client: Client, db: asyncpg.Connection, task_queue: str) -> None:
    async with Worker(client, task_queue=task_queue, workflows=[Quick]):
        wid = await closed_run(client, task_queue)
    done = await wf("delete", "-w", wid, address=server.address)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == f"workflow {wid} deleted"
    assert sum((await rows_of(db, "default", wid)).values()) == 0
    again = await wf("delete", "-w", wid, address=server.address)
    assert again.returncode == 1
    assert again.stderr.strip() == f"error: workflow {wid!r} not found in namespace 'default' (NOT_FOUND)"


# -- batch operations -----------------------------------------------------------------------------------


async def test_batch_terminate_by_query_with_yes_prints_the_count(
    server: Server, client: Client, task_queue: str
) -> None:
    async with Worker(client, task_queue=task_queue, workflows=[Waits]):
        handles = [await client.start_workflow(Waits.run, id=new_id(), task_queue=task_queue) for _ in range(5)]
        query = f"TaskQueue = '{task_queue}' AND ExecutionStatus = 'Running'"
        done = await wf("terminate", "--query", query, "--reason", "batch", "--yes", address=server.address)
        assert done.returncode == 0, done.stderr
        assert done.stdout.strip() == "Terminated 5 of 5 workflow run(s)."
        assert "terminate: 5/5 (0 failed)" in done.stderr
        for h in handles:
            assert (await h.describe()).status.name == "TERMINATED"
        none = await wf("terminate", "-q", query, "--yes", address=server.address)
        assert (none.returncode, none.stdout.strip()) == (0, "No workflows match the query.")


async def test_batch_signal_and_cancel_ask_first_and_count_failures(
    server: Server, client: Client, task_queue: str
) -> None:
    async with Worker(client, task_queue=task_queue, workflows=[Waits, Quick]):
        running = [await client.start_workflow(Waits.run, id=new_id(), task_queue=task_queue) for _ in range(2)]
        closed = await closed_run(client, task_queue)
        query = f"TaskQueue = '{task_queue}'"
        declined = await wf("cancel", "-q", query, address=server.address, input="n\n")
        assert declined.returncode == 1
        assert "3 workflow run(s) match the query" in declined.stderr
        for h in running:
            assert (await h.describe()).status.name == "RUNNING"

        signaled = await wf("signal", "-q", query, "--name", "nudge", "-o", "json", "--yes", address=server.address)
        assert signaled.returncode == 1  # the closed run cannot take a signal
        out = json.loads(signaled.stdout)
        assert (out["matched"], out["done"], [f["workflowId"] for f in out["failed"]]) == (3, 2, [closed])
        assert "FAILED_PRECONDITION" in out["failed"][0]["error"]

        cancelled = await wf("cancel", "-q", f"{query} AND ExecutionStatus = 'Running'", address=server.address,
                             input="y\n")
        assert cancelled.returncode == 0, cancelled.stderr
        assert cancelled.stdout.strip().endswith("Cancellation requested for 2 of 2 workflow run(s).")


async def test_a_batch_needs_either_a_workflow_id_or_a_query(server: Server) -> None:
    for args in ((), ("-w", "x", "-q", "WorkflowId = 'x'"), ("-q", "WorkflowId = 'x'", "-r", "r")):
        done = await wf("terminate", *args, address=server.address)
        assert done.returncode == 2, args
