"""Search attributes end to end: the registry, typed values at start, describe and list, refusals that
change nothing, counts in the database, paging under concurrent starts, and the CLI."""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import uuid
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import grpc
import pytest

from tests.helpers import assert_eventually, wf_executable
from wf.server.app import Server
from wf.v1 import common_pb2, history_pb2, service_pb2
from worker_sdk import (
    Client,
    SearchAttributeIndexedValueType,
    Worker,
    WorkflowExecutionStatus,
    WorkflowHistory,
    workflow,
)
from worker_sdk.errors import NondeterminismError, RPCError
from worker_sdk.testing import Replayer

T = SearchAttributeIndexedValueType
ATTRIBUTES = {
    "CustomerId": T.KEYWORD,
    "Amount": T.INT,
    "Score": T.DOUBLE,
    "Urgent": T.BOOL,
    "DueAt": T.DATETIME,
    "Tags": T.KEYWORD_LIST,
    "Note": T.TEXT,
}


@pytest.fixture
async def registered(client: Client) -> Client:
    """The client, with the custom attributes these tests use registered in its namespace."""
    await client.add_search_attributes(ATTRIBUTES)
    return client


async def start(client: Client, task_queue: str, workflow_type: str = "Order", **search_attributes: object) -> str:
    handle = await client.start_workflow(
        workflow_type, id=f"vis-{uuid.uuid4().hex[:10]}", task_queue=task_queue,
        search_attributes=search_attributes or None,
    )
    return handle.id


async def ids(client: Client, query: str) -> set[str]:
    return {w.id async for w in client.list_workflows(query)}


# -- the registry ------------------------------------------------------------------------------------


async def test_search_attributes_are_registered_listed_and_removed(client: Client) -> None:
    name = f"Reg_{uuid.uuid4().hex[:8]}"
    await client.add_search_attributes({name: T.KEYWORD})
    await client.add_search_attributes({name: T.KEYWORD})  # the same type again: accepted
    assert (await client.list_search_attributes())[name] == T.KEYWORD

    with pytest.raises(RPCError) as clash:
        await client.add_search_attributes({name: T.INT})
    assert clash.value.status == grpc.StatusCode.ALREADY_EXISTS
    assert name in clash.value.message and "Keyword" in clash.value.message

    await client.remove_search_attributes([name])
    assert name not in await client.list_search_attributes()
    with pytest.raises(RPCError) as gone:
        await client.remove_search_attributes([name])
    assert gone.value.status == grpc.StatusCode.NOT_FOUND and name in gone.value.message


@pytest.mark.parametrize(
    ("name", "why"),
    [("TemporalThing", "reserved"), ("WorkflowId", "built in"), ("has space", "letters"), ("1st", "letters")],
)
async def test_reserved_built_in_and_malformed_names_are_refused(client: Client, name: str, why: str) -> None:
    with pytest.raises(RPCError) as refused:
        await client.add_search_attributes({name: T.KEYWORD})
    assert refused.value.status == grpc.StatusCode.INVALID_ARGUMENT and why in refused.value.message
    assert name not in await client.list_search_attributes()


# -- values at start ---------------------------------------------------------------------------------


async def test_start_keeps_typed_values_that_describe_and_list_return(registered: Client, task_queue: str) -> None:
    due = datetime(2026, 3, 1, 12, 30, tzinfo=timezone(timedelta(hours=2)))
    workflow_id = await start(
        registered, task_queue, CustomerId="c-17", Amount=12, Score=4, Urgent=True, DueAt=due,
        Tags=["vip", "eu"], Note="the quick brown fox",
    )
    described = await registered.get_workflow_handle(workflow_id).describe()
    assert described.search_attributes == {
        "CustomerId": "c-17", "Amount": 12, "Score": 4.0, "Urgent": True, "DueAt": due.astimezone(UTC),
        "Tags": ["vip", "eu"], "Note": "the quick brown fox",
    }
    assert described.search_attributes["DueAt"].tzinfo == UTC
    assert isinstance(described.search_attributes["Score"], float)
    kinds = {n: p.metadata["type"].decode() for n, p in
             described.raw.workflow_execution_info.search_attributes.indexed_fields.items()}
    assert kinds == {"CustomerId": "Keyword", "Amount": "Int", "Score": "Double", "Urgent": "Bool",
                     "DueAt": "Datetime", "Tags": "KeywordList", "Note": "Text"}

    [listed] = [w async for w in registered.list_workflows(f"TaskQueue = '{task_queue}'")]
    assert listed.id == workflow_id and listed.search_attributes == described.search_attributes
    for query in (
        "CustomerId = 'c-17'", "Amount = 12", "Amount > 11", "Amount != 13", "Score BETWEEN 3.5 AND 4", "Urgent = true",
        "DueAt = '2026-03-01T10:30:00Z'", "DueAt > '2026-03-01T12:00:00+02:00'", "Tags = 'eu'",
        "Tags IN ('x', 'vip')", "Note = 'brown fox'", "CustomerId STARTS_WITH 'c-1'",
    ):
        assert await ids(registered, f"TaskQueue = '{task_queue}' AND {query}") == {workflow_id}, query


@pytest.mark.parametrize(
    ("values", "named", "type_name"),
    [
        ({"Unregistered_x": "v"}, "Unregistered_x", "not registered"),
        ({"Amount": "twelve"}, "Amount", "Int"),
        ({"Amount": 1.5}, "Amount", "Int"),
        ({"Urgent": "yes"}, "Urgent", "Bool"),
        ({"DueAt": "next tuesday"}, "DueAt", "Datetime"),
        ({"Tags": [1, 2]}, "Tags", "KeywordList"),
        ({"CustomerId": 17}, "CustomerId", "Keyword"),
        ({"WorkflowType": "x"}, "WorkflowType", "built in"),
        ({"CustomerId": "x" * 3000}, "CustomerId", "over the limit of 2,048"),
    ],
)
async def test_a_refused_value_starts_nothing(
    registered: Client, task_queue: str, values: dict[str, object], named: str, type_name: str
) -> None:
    workflow_id = f"refused-{uuid.uuid4().hex[:8]}"
    with pytest.raises(RPCError) as refused:
        await registered.start_workflow("Order", id=workflow_id, task_queue=task_queue, search_attributes=values)
    assert refused.value.status == grpc.StatusCode.INVALID_ARGUMENT
    assert named in refused.value.message and type_name in refused.value.message
    assert (await registered.count_workflows(f"WorkflowId = '{workflow_id}'")).count == 0
    with pytest.raises(RPCError) as missing:
        await registered.get_workflow_handle(workflow_id).describe()
    assert missing.value.status == grpc.StatusCode.NOT_FOUND


async def test_signal_with_start_checks_search_attributes_too(registered: Client, task_queue: str) -> None:
    with pytest.raises(RPCError) as refused:
        await registered.start_workflow(
            "Order", id=f"sws-{uuid.uuid4().hex[:8]}", task_queue=task_queue, start_signal="go",
            search_attributes={"Amount": "lots"},
        )
    assert refused.value.status == grpc.StatusCode.INVALID_ARGUMENT and "Amount" in refused.value.message


# -- counts --------------------------------------------------------------------------------------------


async def test_count_runs_in_the_database_with_and_without_group_by(registered: Client, task_queue: str) -> None:
    started = [await start(registered, task_queue, CustomerId=f"c-{i % 2}") for i in range(5)]
    for workflow_id in started[:2]:
        await registered.get_workflow_handle(workflow_id).terminate("done with it")
    mine = f"TaskQueue = '{task_queue}'"
    assert (await registered.count_workflows(mine)).count == 5
    assert (await registered.count_workflows(f"{mine} AND CustomerId = 'c-0'")).count == 3
    grouped = await registered.count_workflows(f"{mine} GROUP BY ExecutionStatus")
    assert grouped.count == 5
    assert {tuple(g.group_values): g.count for g in grouped.groups} == {("Running",): 3, ("Terminated",): 2}
    assert {w.status async for w in registered.list_workflows(f"{mine} AND ExecutionStatus = 'Terminated'")} == {
        WorkflowExecutionStatus.TERMINATED
    }
    for bad in (f"{mine} GROUP BY WorkflowType", f"{mine} ORDER BY StartTime"):
        with pytest.raises(RPCError) as refused:
            await registered.count_workflows(bad)
        assert refused.value.status == grpc.StatusCode.INVALID_ARGUMENT


# -- order and paging ------------------------------------------------------------------------------------


async def test_running_runs_come_first_then_the_newest(client: Client, task_queue: str) -> None:
    first, second, third = [await start(client, task_queue) for _ in range(3)]
    await client.get_workflow_handle(second).terminate("closed")
    order = [w.id async for w in client.list_workflows(f"TaskQueue = '{task_queue}'")]
    assert order == [third, first, second]
    ascending = [w.id async for w in client.list_workflows(f"TaskQueue = '{task_queue}' ORDER BY StartTime ASC")]
    assert ascending == [first, second, third]


async def test_paging_is_stable_under_concurrent_starts(client: Client, task_queue: str) -> None:
    before = {await start(client, task_queue) for _ in range(12)}
    seen: list[str] = []
    pages = client.list_workflows(f"TaskQueue = '{task_queue}'", page_size=5).__aiter__()
    starting: list[asyncio.Task[str]] = []
    while True:
        try:
            seen.append((await pages.__anext__()).id)
        except StopAsyncIteration:
            break
        # Runs started while the pages are read sort before the cursor: never repeated, never shifting it.
        starting.append(asyncio.create_task(start(client, task_queue)))
        await starting[-1]
    assert len(seen) == len(set(seen))
    assert before <= set(seen)
    assert len(seen) <= len(before) + len(starting)
    for query in ("", " ORDER BY StartTime ASC", " ORDER BY CloseTime DESC", " ORDER BY ExecutionTime DESC"):
        listed = [w.id async for w in client.list_workflows(f"TaskQueue = '{task_queue}'{query}", page_size=4)]
        assert len(listed) == len(set(listed)) == len(before) + len(starting), query


async def test_a_page_token_of_another_order_is_refused(client: Client, task_queue: str) -> None:
    for _ in range(3):
        await start(client, task_queue)
    resp = await client.call(
        client.service.ListWorkflowExecutions,
        service_pb2.ListWorkflowExecutionsRequest(
            namespace="default", query=f"TaskQueue = '{task_queue}'", page_size=1
        ),
    )
    assert resp.next_page_token
    with pytest.raises(RPCError) as refused:
        await client.call(
            client.service.ListWorkflowExecutions,
            service_pb2.ListWorkflowExecutionsRequest(
                namespace="default", query=f"TaskQueue = '{task_queue}' ORDER BY StartTime ASC", page_size=1,
                next_page_token=resp.next_page_token,
            ),
        )
    assert refused.value.status == grpc.StatusCode.INVALID_ARGUMENT and "order" in refused.value.message


# -- the CLI -------------------------------------------------------------------------------------------


async def _wf(*args: str, server: Server) -> subprocess.CompletedProcess[str]:
    cmd = [wf_executable(), *args, "--address", server.address]
    environ = {k: v for k, v in os.environ.items() if not k.startswith("WF_")}
    return await asyncio.to_thread(subprocess.run, cmd, capture_output=True, text=True, timeout=30, env=environ)


async def test_the_cli_registers_starts_lists_and_counts(server: Server, client: Client, task_queue: str) -> None:
    name = f"Cli_{uuid.uuid4().hex[:6]}"
    created = await _wf("operator", "search-attribute", "create", "--name", name, "--type", "Keyword", server=server)
    assert created.returncode == 0, created.stderr
    listed = await _wf("operator", "search-attribute", "list", "-o", "json", server=server)
    assert json.loads(listed.stdout)["customAttributes"][name] == "Keyword"

    for value in ("a", "b", "b"):
        started = await _wf("workflow", "start", "--type", "Order", "-t", task_queue,
                            "--search-attribute", f"{name}={value}", server=server)
        assert started.returncode == 0, started.stderr
    found = await _wf("workflow", "list", "-q", f"{name} = 'b'", "-o", "json", server=server)
    assert found.returncode == 0, found.stderr
    assert [r["searchAttributes"] for r in json.loads(found.stdout)] == [{name: "b"}, {name: "b"}]
    counted = await _wf("workflow", "count", "-q", f"{name} IN ('a', 'b') GROUP BY ExecutionStatus", server=server)
    assert counted.returncode == 0, counted.stderr
    assert "Total: 3" in counted.stdout and "Running: 3" in counted.stdout
    as_json = await _wf("workflow", "count", "-q", f"{name} = 'a'", "-o", "json", server=server)
    assert json.loads(as_json.stdout) == {"count": 1}

    bad = await _wf("workflow", "list", "-q", f"{name} = ", server=server)
    assert bad.returncode != 0 and "INVALID_ARGUMENT" in bad.stderr and "at position 14" in bad.stderr

    removed = await _wf("operator", "search-attribute", "remove", "--name", name, "--yes", server=server)
    assert removed.returncode == 0, removed.stderr
    assert name not in await client.list_search_attributes()


# -- upserts from workflow code ----------------------------------------------------------------------


@workflow.defn
class Tracked:
    def __init__(self) -> None:
        self.seen: list[dict[str, object]] = []
        self.go = False

    @workflow.run
    async def run(self, customer: str) -> list[dict[str, object]]:
        self.seen.append(dict(workflow.info().search_attributes))
        workflow.upsert_search_attributes({"CustomerId": customer, "Amount": 5, "Tags": ["new"]})
        workflow.upsert_memo({"stage": "checked", "owner": None})
        self.seen.append(dict(workflow.info().search_attributes))
        await workflow.wait_condition(lambda: self.go)
        workflow.upsert_search_attributes({"Amount": None, "DueAt": datetime(2026, 1, 2, tzinfo=UTC)})
        self.seen.append({**workflow.info().search_attributes, "memo": workflow.memo()})
        return self.seen

    @workflow.signal
    def proceed(self) -> None:
        self.go = True


async def test_upserts_are_recorded_searchable_and_replayed(registered: Client, task_queue: str) -> None:
    async with Worker(registered, task_queue=task_queue, workflows=[Tracked]):
        handle = await registered.start_workflow(
            Tracked.run, "c-99", id=f"tracked-{uuid.uuid4().hex[:8]}", task_queue=task_queue,
            search_attributes={"Urgent": True}, memo={"owner": "ann"},
        )

        async def upserted() -> bool:
            return (await registered.count_workflows(f"TaskQueue = '{task_queue}' AND Amount = 5")).count == 1

        await assert_eventually(upserted)
        mid = await handle.describe()
        assert mid.search_attributes == {"Urgent": True, "CustomerId": "c-99", "Amount": 5, "Tags": ["new"]}
        assert mid.memo == {"stage": "checked"}
        await handle.signal(Tracked.proceed)
        seen = await handle.result()
    assert seen[0] == {"Urgent": True}
    assert seen[1] == {"Urgent": True, "CustomerId": "c-99", "Amount": 5, "Tags": ["new"]}
    assert seen[2]["memo"] == {"stage": "checked"} and "Amount" not in seen[2]
    final = await handle.describe()
    assert final.search_attributes == {
        "Urgent": True, "CustomerId": "c-99", "Tags": ["new"], "DueAt": datetime(2026, 1, 2, tzinfo=UTC)
    }
    mine = f"TaskQueue = '{task_queue}'"
    assert await ids(registered, f"{mine} AND Amount IS NULL AND DueAt BETWEEN '2026-01-01T00:00:00Z' "
                                 "AND '2026-01-03T00:00:00Z'") == {handle.id}
    assert await ids(registered, f"{mine} AND Amount = 5") == set()

    history = await handle.fetch_history()
    names = [e.event_type for e in history.events]
    assert names.count(history_pb2.EVENT_TYPE_UPSERT_WORKFLOW_SEARCH_ATTRIBUTES) == 2
    assert names.count(history_pb2.EVENT_TYPE_WORKFLOW_PROPERTIES_MODIFIED) == 1
    await Replayer(workflows=[Tracked]).replay_workflow(history)
    # Code that upserts other attributes than the history recorded is not the same code.
    with pytest.raises(NondeterminismError, match="UpsertWorkflowSearchAttributes"):
        await Replayer(workflows=[TrackedChanged]).replay_workflow(history)


async def test_a_checked_in_history_with_upserts_replays_and_a_changed_upsert_does_not() -> None:
    # Recorded once from Tracked above (test_upserts_are_recorded_searchable_and_replayed).
    fixture = Path(__file__).resolve().parent / "histories" / "upsert_search_attributes.json"
    history = WorkflowHistory.from_json("tracked", fixture.read_text())
    assert (await Replayer(workflows=[Tracked]).replay_workflow(history)).ok
    with pytest.raises(NondeterminismError, match="UpsertWorkflowSearchAttributes"):
        await Replayer(workflows=[TrackedChanged]).replay_workflow(history)


@workflow.defn(name="Tracked")
class TrackedChanged(Tracked):
    @workflow.run
    async def run(self, customer: str) -> list[dict[str, object]]:
        workflow.upsert_search_attributes({"CustomerId": customer})
        await workflow.wait_condition(lambda: self.go)
        return []


@workflow.defn
class BadUpsert:
    @workflow.run
    async def run(self) -> None:
        workflow.upsert_search_attributes({"Amount": "many"})


async def test_an_upsert_of_the_wrong_type_fails_the_workflow_task_naming_it(
    registered: Client, task_queue: str
) -> None:
    async with Worker(registered, task_queue=task_queue, workflows=[BadUpsert]):
        handle = await registered.start_workflow(BadUpsert.run, id=f"bad-{uuid.uuid4().hex[:8]}", task_queue=task_queue)

        async def failed() -> str:
            d = await handle.describe()
            failure = d.raw.pending_workflow_task.last_failure.message
            assert failure
            return failure

        message = await assert_eventually(failed)
    assert "Amount" in message and "Int" in message
    history = await handle.fetch_history()
    failed_events = [e for e in history.events if e.event_type == history_pb2.EVENT_TYPE_WORKFLOW_TASK_FAILED]
    assert failed_events[0].workflow_task_failed_event_attributes.cause == (
        common_pb2.WORKFLOW_TASK_FAILED_CAUSE_BAD_COMMAND_ATTRIBUTES
    )
    assert not any(e.event_type == history_pb2.EVENT_TYPE_UPSERT_WORKFLOW_SEARCH_ATTRIBUTES for e in history.events)
    await handle.terminate("test over")


@workflow.defn
class Renewing:
    @workflow.run
    async def run(self, amount: object) -> int:
        if workflow.info().continued_run_id is None:
            workflow.continue_as_new(amount, search_attributes={"Amount": amount})
        return int(workflow.info().search_attributes["Amount"])


async def test_continue_as_new_checks_and_carries_search_attributes(registered: Client, task_queue: str) -> None:
    async with Worker(registered, task_queue=task_queue, workflows=[Renewing]):
        handle = await registered.start_workflow(Renewing.run, 7, id=f"renew-{uuid.uuid4().hex[:8]}",
                                                 task_queue=task_queue, search_attributes={"Amount": 1})
        assert await handle.result() == 7
        assert await ids(registered, f"TaskQueue = '{task_queue}' AND Amount = 7") == {handle.id}

        bad = await registered.start_workflow(Renewing.run, "seven", id=f"renew-bad-{uuid.uuid4().hex[:8]}",
                                              task_queue=task_queue, search_attributes={"Amount": 1})

        async def refused() -> str:
            message = (await bad.describe()).raw.pending_workflow_task.last_failure.message
            assert message
            return message

        assert "Amount" in await assert_eventually(refused)
        assert (await bad.describe()).status == WorkflowExecutionStatus.RUNNING
        await bad.terminate("test over")


async def test_an_attribute_registered_through_one_server_is_usable_at_once_through_another(
    server: Server, server_b: Server, client: Client, task_queue: str
) -> None:
    """The registry is held in each server's memory: a name one server does not know yet makes it
    read the registry again, so a start through another server right after the registration is
    checked against it, and a list query there finds the run."""
    name = f"Region{uuid.uuid4().hex[:8]}"
    await client.add_search_attributes({name: T.KEYWORD})
    other = await Client.connect(server_b.address)
    try:
        handle = await other.start_workflow(
            "Anything", id=f"region-{task_queue}", task_queue=task_queue, search_attributes={name: "eu"}
        )
        assert (await handle.describe()).search_attributes == {name: "eu"}
        assert [e.id async for e in other.list_workflows(f"{name} = 'eu'")] == [handle.id]
        await handle.terminate("test over")
    finally:
        await other.close()
