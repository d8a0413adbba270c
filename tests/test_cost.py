"""What a run costs: its counters after a workflow with known activities, retries, a failed workflow
task, a signal and known payload sizes, shown by describe, ``wf workflow describe`` and carried by
``wf workflow list -o json``, and searched and ordered as built-in search attributes; real worker,
real server, real PostgreSQL."""

from __future__ import annotations

import asyncio
import base64
import json
import re
import subprocess
from datetime import UTC, datetime, timedelta
from typing import Any

import asyncpg
import grpc
import pytest

from tests.helpers import assert_eventually, new_id, wf_executable
from tests.test_migrations import empty_db  # noqa: F401 (a fixture)
from wf import migrations
from wf.server.app import Server, asyncpg_dsn
from wf.v1 import common_pb2, history_pb2, internal_pb2, service_pb2
from worker_sdk import Client, RetryPolicy, SearchAttributeIndexedValueType, Worker, activity, workflow
from worker_sdk.errors import ApplicationError, RPCError

H = history_pb2
SECONDS_5 = timedelta(seconds=5)
QUICK_RETRY = RetryPolicy(initial_interval=timedelta(milliseconds=10), maximum_attempts=5)
failures_left: dict[str, int] = {}
task_failures_left: dict[str, int] = {}


@activity.defn
async def flaky(key: str) -> str:
    if failures_left.get(key, 0) > 0:
        failures_left[key] -= 1
        raise ApplicationError("not yet")
    return "ok:" + key


@activity.defn
async def echo(text: str) -> str:
    return text


@workflow.defn
class Costly:
    def __init__(self) -> None:
        self.note = ""

    @workflow.run
    async def run(self, key: str) -> str:
        if task_failures_left.get(key, 0) > 0:
            task_failures_left[key] -= 1
            raise RuntimeError("a bug, fixed by the next attempt")  # fails the workflow task
        first = await workflow.execute_activity(flaky, key, start_to_close_timeout=SECONDS_5, retry_policy=QUICK_RETRY)
        second = await workflow.execute_activity(echo, "e" * 300, start_to_close_timeout=SECONDS_5)
        await workflow.wait_condition(lambda: bool(self.note))
        return f"{first}/{len(second)}/{self.note}"

    @workflow.signal
    def tell(self, note: str) -> None:
        self.note = note

    @workflow.query
    def waiting(self) -> bool:
        return not self.note


async def size(client: Client, *values: Any) -> int:
    """Bytes of the payloads ``values`` are encoded as (data and metadata), each on its own."""
    total = 0
    for value in values:
        for p in (await client.data_converter.encode([value])).payloads:
            total += len(p.data) + sum(len(k) + len(v) for k, v in p.metadata.items())
    return total


def wf(server: Server, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([wf_executable(), *args, "--address", server.address], capture_output=True, text=True,
                          timeout=60)


async def test_a_run_counts_its_cost(server: Server, client: Client, task_queue: str) -> None:
    key = new_id("cost")
    failures_left[key] = 2
    task_failures_left[key] = 1
    note = "n" * 50
    async with Worker(client, task_queue=task_queue, workflows=[Costly], activities=[flaky, echo]):
        handle = await client.start_workflow(Costly.run, key, id=key, task_queue=task_queue)
        await assert_eventually(lambda: handle.query(Costly.waiting))
        await handle.signal(Costly.tell, note)
        result = await handle.result()
    assert result == f"ok:{key}/300/{note}"
    d = await handle.describe()
    cost = d.cost
    assert cost is not None
    history = (await handle.fetch_history()).events
    started = [e for e in history if e.event_type == H.EVENT_TYPE_WORKFLOW_TASK_STARTED]
    assert cost.workflow_tasks == len(started) >= 4
    assert cost.workflow_task_failures == 1
    assert cost.activity_attempts == 3 + 1  # flaky: two failures then success; echo: once
    assert cost.payload_bytes_in == await size(client, key, note, f"ok:{key}", "e" * 300)
    assert cost.payload_bytes_out == await size(client, key, "e" * 300, result)
    assert cost.history_length == len(history)
    assert cost.history_size_bytes == sum(len(e.SerializeToString()) for e in history)
    record = await server.history.runs.store.load("default", key, d.run_id)
    assert record is not None
    assert cost.state_transitions == record.db_version > 0

    described = await asyncio.to_thread(wf, server, "workflow", "describe", "-w", key)
    assert described.returncode == 0, described.stderr
    assert re.search(r"Activity attempts\s+4\n", described.stdout), described.stdout
    assert re.search(r"Workflow tasks\s+\d+ \(1 failed or timed out\)", described.stdout), described.stdout
    listed = await asyncio.to_thread(
        wf, server, "workflow", "list", "-q", f"WorkflowId = '{key}'", "--output", "json"
    )
    assert listed.returncode == 0, listed.stderr
    (row,) = json.loads(listed.stdout)
    assert row["cost"]["activityAttempts"] == 4
    assert row["cost"]["workflowTaskFailures"] == 1
    assert row["cost"]["payloadBytesIn"] == cost.payload_bytes_in
    assert row["cost"]["stateTransitionCount"] == cost.state_transitions


def test_payload_bytes_count_data_and_metadata_without_decoding() -> None:
    from wf.history.cost import count_event
    from wf.v1 import internal_pb2

    cost = internal_pb2.RunCost()
    payload = common_pb2.Payload(metadata={"encoding": b"binary/encrypted"}, data=b"\x00" * 10)
    event = H.HistoryEvent(
        event_type=H.EVENT_TYPE_WORKFLOW_EXECUTION_SIGNALED,
        workflow_execution_signaled_event_attributes=H.WorkflowExecutionSignaledEventAttributes(
            input=common_pb2.Payloads(payloads=[payload, payload])
        ),
    )
    count_event(cost, event)
    assert cost.payload_bytes_in == 2 * (10 + len("encoding") + len("binary/encrypted"))
    assert cost.payload_bytes_out == 0


# -- the cost as built-in search attributes ------------------------------------------------------------

COST_ATTRIBUTES = ("WorkflowTaskAttempts", "ActivityAttempts", "PayloadBytesIn", "PayloadBytesOut")
# The counters that grow with every activity call whatever the timing (a worker may complete several
# events in one workflow task, so events and transitions only tend to).
COUNTED_BY_CALLS = ("ActivityAttempts", "PayloadBytesIn", "PayloadBytesOut")


@workflow.defn
class Spender:
    """Calls ``echo`` ``calls`` times: the more calls, the more of every counter."""

    @workflow.run
    async def run(self, calls: int) -> str:
        out = ""
        for i in range(calls):
            out += await workflow.execute_activity(echo, "x" * (10 + i), start_to_close_timeout=SECONDS_5)
        return out


async def spend(client: Client, task_queue: str, calls: list[int]) -> dict[str, int]:
    """Runs of :class:`Spender` on ``task_queue``, one per number of calls, run to completion: id → calls."""
    ids: dict[str, int] = {}
    async with Worker(client, task_queue=task_queue, workflows=[Spender], activities=[echo]):
        handles = []
        for n in calls:
            handle = await client.start_workflow(Spender.run, n, id=new_id(f"spend{n}"), task_queue=task_queue)
            handles.append(handle)
            ids[handle.id] = n
        for handle in handles:
            await handle.result()
    return ids


def cost_value(cost: Any, attribute: str) -> int:
    """The value of the built-in search attribute ``attribute`` in a listed or described run's cost."""
    return int({
        "HistoryLength": cost.history_length,
        "HistorySizeBytes": cost.history_size_bytes,
        "StateTransitionCount": cost.state_transitions,
        "WorkflowTaskAttempts": cost.workflow_tasks,
        "ActivityAttempts": cost.activity_attempts,
        "PayloadBytesIn": cost.payload_bytes_in,
        "PayloadBytesOut": cost.payload_bytes_out,
    }[attribute])


async def test_the_counters_are_searchable_as_built_in_attributes(
    client: Client, task_queue: str, db_url: str
) -> None:
    key = new_id("cost")
    failures_left[key] = 2
    task_failures_left[key] = 1
    async with Worker(client, task_queue=task_queue, workflows=[Costly], activities=[flaky, echo]):
        handle = await client.start_workflow(Costly.run, key, id=key, task_queue=task_queue)
        await assert_eventually(lambda: handle.query(Costly.waiting))
        await handle.signal(Costly.tell, "done")
        await handle.result()
    cost = (await handle.describe()).cost
    assert cost is not None
    # The row's columns hold what describe shows (the run's state), written by the same statement.
    conditions = " AND ".join(f"{name} = {cost_value(cost, name)}" for name in COST_ATTRIBUTES)
    assert [w.id async for w in client.list_workflows(f"WorkflowId = '{key}' AND {conditions}")] == [key]
    assert cost.workflow_tasks == cost_value(cost, "WorkflowTaskAttempts") >= 4  # the failed attempt counts
    for name in COST_ATTRIBUTES:
        exact = f"WorkflowId = '{key}' AND {name} = {cost_value(cost, name)}"
        above = f"WorkflowId = '{key}' AND {name} > {cost_value(cost, name)}"
        ranged = f"WorkflowId = '{key}' AND {name} BETWEEN 1 AND {cost_value(cost, name)}"
        assert (await client.count_workflows(exact)).count == 1, name
        assert (await client.count_workflows(above)).count == 0, name
        assert (await client.count_workflows(ranged)).count == 1, name
    db = await asyncpg.connect(asyncpg_dsn(db_url))
    try:
        row = await db.fetchrow(
            "SELECT workflow_task_attempts, activity_attempts, payload_bytes_in, payload_bytes_out "
            "FROM executions WHERE workflow_id = $1",
            key,
        )
    finally:
        await db.close()
    assert row is not None
    assert tuple(row) == (cost.workflow_tasks, 4, cost.payload_bytes_in, cost.payload_bytes_out)


@pytest.mark.parametrize("attribute", ["HistoryLength", "HistorySizeBytes", "StateTransitionCount", *COST_ATTRIBUTES])
async def test_runs_are_listed_in_the_order_of_a_cost(client: Client, task_queue: str, attribute: str) -> None:
    ids = await spend(client, task_queue, [2, 0, 3, 1, 2])
    for direction in ("DESC", "ASC"):
        query = f"TaskQueue = '{task_queue}' ORDER BY {attribute} {direction}"
        listed = [w async for w in client.list_workflows(query)]
        assert {w.id for w in listed} == set(ids)
        values = [cost_value(w.cost, attribute) for w in listed]
        # Ties (two runs of 2 calls may cost the same) are broken by run id, in the same direction.
        keys = [(v, w.run_id) for v, w in zip(values, listed, strict=True)]
        assert keys == sorted(keys, reverse=direction == "DESC"), (attribute, direction)
        if attribute in COUNTED_BY_CALLS:
            calls = [ids[w.id] for w in listed]
            assert calls == sorted(calls, reverse=direction == "DESC"), (attribute, direction)


async def test_paging_in_an_order_of_cost_is_stable_under_concurrent_starts(client: Client, task_queue: str) -> None:
    before = await spend(client, task_queue, [3, 1, 0, 2, 1, 3, 2, 0, 1])
    for direction in ("DESC", "ASC"):
        query = f"TaskQueue = '{task_queue}' ORDER BY StateTransitionCount {direction}"
        whole = [w.id async for w in client.list_workflows(query)]
        seen: list[str] = []
        started: list[str] = []
        async for w in client.list_workflows(query, page_size=2):
            seen.append(w.id)
            # A run started while the pages are read (no worker: it costs one transition) never
            # shifts the cursor: nothing repeats, nothing listed before it is lost.
            handle = await client.start_workflow(Spender.run, 0, id=new_id("late"), task_queue=task_queue)
            started.append(handle.id)
        assert len(seen) == len(set(seen))
        assert [i for i in seen if i in before] == [i for i in whole if i in before]
        assert set(before) <= set(seen) <= set(before) | set(whole) | set(started)


async def test_a_page_token_of_a_cost_order_belongs_to_that_order(client: Client, task_queue: str) -> None:
    await spend(client, task_queue, [0, 1, 2])
    query = f"TaskQueue = '{task_queue}' ORDER BY ActivityAttempts DESC"
    first = await client.call(
        client.service.ListWorkflowExecutions,
        service_pb2.ListWorkflowExecutionsRequest(namespace="default", query=query, page_size=1),
    )
    assert first.next_page_token
    for other in (f"TaskQueue = '{task_queue}' ORDER BY ActivityAttempts ASC",
                  f"TaskQueue = '{task_queue}' ORDER BY PayloadBytesIn DESC",
                  f"TaskQueue = '{task_queue}' ORDER BY StartTime DESC"):
        with pytest.raises(RPCError) as refused:
            await client.call(
                client.service.ListWorkflowExecutions,
                service_pb2.ListWorkflowExecutionsRequest(
                    namespace="default", query=other, page_size=1, next_page_token=first.next_page_token
                ),
            )
        assert refused.value.status == grpc.StatusCode.INVALID_ARGUMENT and "order" in refused.value.message
    forged = base64.urlsafe_b64encode(json.dumps({"o": "activity_attempts:desc", "v": "2", "s": "", "r": ""}).encode())
    with pytest.raises(RPCError) as refused:
        await client.call(
            client.service.ListWorkflowExecutions,
            service_pb2.ListWorkflowExecutionsRequest(
                namespace="default", query=query, page_size=1, next_page_token=forged
            ),
        )
    assert refused.value.status == grpc.StatusCode.INVALID_ARGUMENT and "malformed" in refused.value.message


@pytest.mark.parametrize("name", COST_ATTRIBUTES)
async def test_a_custom_attribute_may_not_take_the_name_of_a_cost(server: Server, client: Client, name: str) -> None:
    with pytest.raises(RPCError) as refused:
        await client.add_search_attributes({name: SearchAttributeIndexedValueType.INT})
    assert refused.value.status == grpc.StatusCode.INVALID_ARGUMENT and "built in" in refused.value.message
    with pytest.raises(RPCError) as refused:
        await client.start_workflow("Spender", 0, id=new_id("forged"), task_queue="none", search_attributes={name: 0})
    assert refused.value.status == grpc.StatusCode.INVALID_ARGUMENT and name in refused.value.message
    created = await asyncio.to_thread(
        wf, server, "operator", "search-attribute", "create", "--name", name, "--type", "Int"
    )
    assert created.returncode != 0 and "built in" in created.stderr, created.stderr
    listed = await client.call(
        client.service.ListSearchAttributes, service_pb2.ListSearchAttributesRequest(namespace="default")
    )
    assert listed.system_attributes[name] == service_pb2.INDEXED_VALUE_TYPE_INT
    assert name not in listed.custom_attributes


async def test_the_costliest_runs_of_a_type_in_one_cli_query(server: Server, client: Client, task_queue: str) -> None:
    # As the README shows it (its query, --limit 10, -o json), on this test's task queue.
    ids = await spend(client, task_queue, [i % 5 for i in range(12)])
    since = (datetime.now(UTC) - timedelta(days=7)).strftime("%Y-%m-%dT%H:%M:%SZ")
    query = (f"WorkflowType = 'Spender' AND TaskQueue = '{task_queue}' AND StartTime > '{since}' "
             "ORDER BY StateTransitionCount DESC")
    listed = await asyncio.to_thread(wf, server, "workflow", "list", "-q", query, "--limit", "10", "-o", "json")
    assert listed.returncode == 0, listed.stderr
    rows = json.loads(listed.stdout)
    costliest = []
    for workflow_id in ids:
        d = await client.get_workflow_handle(workflow_id).describe()
        assert d.cost is not None
        costliest.append((d.cost.state_transitions, d.run_id, workflow_id))
    costliest.sort(reverse=True)
    assert [r["workflowId"] for r in rows] == [workflow_id for _, _, workflow_id in costliest[:10]]
    assert [r["cost"]["stateTransitionCount"] for r in rows] == [n for n, _, _ in costliest[:10]]


async def test_the_migration_copies_the_counters_of_runs_already_stored(empty_db: str) -> None:  # noqa: F811
    await asyncio.to_thread(migrations.upgrade, empty_db, "0006")
    conn = await asyncpg.connect(asyncpg_dsn(empty_db))
    try:
        # Runs of an older wf, more than one batch of them; the last of them before costs were counted.
        rows = []
        for i in range(1200):
            state = internal_pb2.MutableState()
            if i < 1199:
                state.cost.CopyFrom(internal_pb2.RunCost(
                    workflow_tasks=i + 1, workflow_task_failures=1, activity_attempts=i,
                    payload_bytes_in=10 * i, payload_bytes_out=7 * i,
                ))
            rows.append((f"w{i:05}", state.SerializeToString()))
        await conn.executemany(
            "INSERT INTO executions (namespace, workflow_id, run_id, workflow_type, task_queue, status, start_time, "
            "request_id, next_event_id, history_size, db_version, state) "
            "VALUES ('default', $1, 'r', 'T', 'q', 2, now(), 'x', 3, 0, 1, $2)",
            rows,
        )
        await asyncio.to_thread(migrations.upgrade, empty_db)
        copied = await conn.fetch(
            "SELECT workflow_id, workflow_task_attempts, activity_attempts, payload_bytes_in, payload_bytes_out "
            "FROM executions ORDER BY workflow_id"
        )
    finally:
        await conn.close()
    assert [tuple(r) for r in copied] == [
        (f"w{i:05}", i + 1, i, 10 * i, 7 * i) if i < 1199 else (f"w{i:05}", 0, 0, 0, 0) for i in range(1200)
    ]
