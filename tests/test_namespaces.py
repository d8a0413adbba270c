"""Namespaces: registered, described, listed, updated and deleted through the SDK and the CLI; every
call naming a namespace that is not registered is NOT_FOUND on both transports; what lives in one
namespace (runs, task queues, their tasks) cannot be seen or touched from another, method by method.
"""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import timedelta
from typing import Any

import asyncpg
import grpc
import pytest
import pytest_asyncio

from tests.helpers import assert_eventually, new_id, payloads, rpc_error, start_request
from tests.test_cli import WF
from tests.test_migrations import empty_db  # noqa: F401, F811 - the fixture: a new, empty database
from wf import migrations
from wf.server.app import Server, asyncpg_dsn
from wf.server.checks import text_fields
from wf.v1 import auth_pb2, common_pb2, schedule_pb2, service_pb2, service_pb2_grpc
from worker_sdk import Client
from worker_sdk.errors import RPCError

S = service_pb2
SERVICE = S.DESCRIPTOR.services_by_name["WorkflowService"]
# The methods whose request names a namespace, from the descriptor: a method added later is covered.
NAMESPACED = sorted(
    m.name for m in SERVICE.methods
    if not m.client_streaming and "namespace" in m.input_type.fields_by_name and m.name != "RegisterNamespace"
)


async def wf(*args: str, input: str | None = None) -> subprocess.CompletedProcess[str]:
    """``wf ARGS``, run without blocking the event loop the server runs on."""
    environ = {k: v for k, v in os.environ.items() if not k.startswith("WF_")}
    return await asyncio.to_thread(
        subprocess.run, [WF, *args], capture_output=True, text=True, timeout=30, env=environ, input=input
    )


def new_namespace() -> str:
    return f"ns-{uuid.uuid4().hex[:10]}"


@pytest_asyncio.fixture(loop_scope="session")
async def raw(server: Server) -> AsyncIterator[service_pb2_grpc.WorkflowServiceStub]:
    async with grpc.aio.insecure_channel(server.address) as channel:
        yield service_pb2_grpc.WorkflowServiceStub(channel)


@pytest_asyncio.fixture(loop_scope="session")
async def muxed(server: Server) -> AsyncIterator[Client]:
    """A client whose calls travel on one Multiplex stream."""
    c = await Client.connect(server.address, multiplex=True)
    try:
        yield c
    finally:
        await c.close()


# -- the SDK ----------------------------------------------------------------------------------------


async def test_a_namespace_is_registered_described_listed_updated_and_deleted(client: Client) -> None:
    name = new_namespace()
    await client.register_namespace(name, retention=timedelta(days=7), description="orders", owner_email="o@x.io")

    d = await client.describe_namespace(name)
    assert (d.name, d.state, d.description, d.owner_email, d.retention) == (
        name, "Registered", "orders", "o@x.io", timedelta(days=7)
    )
    assert d.create_time <= d.update_time
    assert name in [n.name for n in await client.list_namespaces()]
    assert "default" in [n.name for n in await client.list_namespaces()]

    changed = await client.update_namespace(name, retention=timedelta(hours=2))
    assert (changed.retention, changed.description) == (timedelta(hours=2), "orders")  # the rest kept
    changed = await client.update_namespace(name, description="")
    assert (changed.retention, changed.description) == (timedelta(hours=2), "")

    await client.delete_namespace(name)
    with pytest.raises(RPCError) as gone:
        await client.describe_namespace(name)
    assert gone.value.status == grpc.StatusCode.NOT_FOUND
    assert gone.value.message == f"namespace {name} not found"
    assert name not in [n.name for n in await client.list_namespaces()]


async def test_the_migration_registers_default_and_the_namespaces_runs_already_use(empty_db: str) -> None:  # noqa: F811
    await asyncio.to_thread(migrations.upgrade, empty_db, "0004")
    conn = await asyncpg.connect(asyncpg_dsn(empty_db))
    try:
        # A run of an older wf, in a namespace nobody registered (any string was one then).
        await conn.execute(
            "INSERT INTO executions (namespace, workflow_id, run_id, workflow_type, task_queue, status, start_time, "
            "request_id, next_event_id, history_size, db_version, state) "
            "VALUES ('legacy', 'w', 'r', 'T', 'q', 1, now(), 'x', 3, 0, 1, '')"
        )
        await asyncio.to_thread(migrations.upgrade, empty_db)
        rows = await conn.fetch("SELECT name, state, retention FROM namespaces ORDER BY name")
    finally:
        await conn.close()
    assert [tuple(r) for r in rows] == [
        ("default", S.NAMESPACE_STATE_REGISTERED, timedelta(hours=72)),
        ("legacy", S.NAMESPACE_STATE_REGISTERED, timedelta(hours=72)),
    ]


async def test_default_exists_and_cannot_be_deleted(client: Client) -> None:
    assert (await client.describe_namespace()).name == "default"
    with pytest.raises(RPCError) as refused:
        await client.delete_namespace("default")
    assert refused.value.status == grpc.StatusCode.FAILED_PRECONDITION


async def test_a_namespace_registered_without_retention_keeps_closed_runs_72_hours(client: Client) -> None:
    name = new_namespace()
    await client.register_namespace(name)
    assert (await client.describe_namespace(name)).retention == timedelta(hours=72)


async def test_a_taken_name_and_a_retention_below_the_minimum_are_refused(client: Client) -> None:
    name = new_namespace()
    await client.register_namespace(name)
    with pytest.raises(RPCError) as taken:
        await client.register_namespace(name)
    assert taken.value.status == grpc.StatusCode.ALREADY_EXISTS

    for call in (
        client.register_namespace(new_namespace(), retention=timedelta(minutes=59)),
        client.update_namespace(name, retention=timedelta(minutes=5)),
    ):
        with pytest.raises(RPCError) as short:
            await call
        assert short.value.status == grpc.StatusCode.INVALID_ARGUMENT
        assert "below the server's minimum of 1h" in short.value.message
        assert "--min-namespace-retention" in short.value.message
        assert "WF_MIN_NAMESPACE_RETENTION" in short.value.message
    assert (await client.describe_namespace(name)).retention == timedelta(hours=72)  # nothing changed


async def test_a_namespace_registered_on_one_server_is_served_by_another_at_once(
    server: Server, server_b: Server
) -> None:
    name = new_namespace()
    async with await Client.connect(server.address, namespace=name) as a, \
            await Client.connect(server_b.address, namespace=name) as b:
        await a.register_namespace(name)
        # No wait for the notification: an unknown name is read again before it is refused.
        handle = await b.start_workflow("W", id=new_id(), task_queue="q")
        assert (await handle.describe()).status.name == "RUNNING"
        await a.delete_namespace(name)

        async def refused_on_b() -> bool:
            try:
                await b.describe_namespace(name)
            except RPCError as exc:
                return exc.status == grpc.StatusCode.NOT_FOUND
            return False

        await assert_eventually(refused_on_b)


# -- unknown namespaces, every method, both transports ----------------------------------------------


def well_formed(method: str, namespace: str) -> Any:
    """A request of ``method`` that passes validation, naming ``namespace``: every string set."""
    desc = SERVICE.methods_by_name[method].input_type
    request = getattr(S, desc.name)()
    for path in text_fields(desc):
        target = request
        for part in path[:-1]:
            target = getattr(target, part)
        setattr(target, path[-1], "x")
    request.namespace = namespace
    if method == "UpdateWorkflowExecution":
        request.wait_stage = S.UPDATE_WAIT_STAGE_COMPLETED
    if method == "StartWorkflowExecution":
        request.request_id = str(uuid.uuid4())
    if method in ("ListWorkflowExecutions", "CountWorkflowExecutions"):
        request.query = ""
    if method == "ResetWorkflowExecution":
        request.workflow_task_finish_event_id = 3
        request.request_id = str(uuid.uuid4())
    if method == "AddSearchAttributes":
        request.search_attributes["Probe"] = S.INDEXED_VALUE_TYPE_KEYWORD
    if method == "RemoveSearchAttributes":
        request.search_attributes.append("Probe")
    return request


@pytest.mark.parametrize("method", NAMESPACED)
async def test_every_call_naming_an_unknown_namespace_is_not_found_on_both_transports(
    method: str, raw: service_pb2_grpc.WorkflowServiceStub, muxed: Client
) -> None:
    name = new_namespace()
    request = well_formed(method, name)
    rpc = await rpc_error(getattr(raw, method)(request, timeout=10))
    assert (rpc.code(), rpc.details()) == (grpc.StatusCode.NOT_FOUND, f"namespace {name} not found")
    stream = await rpc_error(getattr(muxed.service, method)(request, timeout=10))
    assert (stream.code(), stream.details()) == (grpc.StatusCode.NOT_FOUND, f"namespace {name} not found")


# -- isolation ----------------------------------------------------------------------------------------

Probe = Callable[[service_pb2_grpc.WorkflowServiceStub, str, str, str], Awaitable[None]]


async def _not_found(call: Awaitable[object]) -> None:
    err = await rpc_error(call)
    assert err.code() == grpc.StatusCode.NOT_FOUND, err.details()


def _run(wid: str) -> common_pb2.WorkflowExecution:
    return common_pb2.WorkflowExecution(workflow_id=wid)


async def _start(stub: Any, ns: str, wid: str, tq: str) -> None:
    # The same workflow id in the other namespace is a different workflow: it starts, not ALREADY_EXISTS.
    resp = await stub.StartWorkflowExecution(start_request(wid, tq, namespace=ns), timeout=10)
    assert resp.started
    await stub.TerminateWorkflowExecution(
        S.TerminateWorkflowExecutionRequest(namespace=ns, workflow_execution=_run(wid)), timeout=10
    )


async def _history(stub: Any, ns: str, wid: str, tq: str) -> None:
    await _not_found(stub.GetWorkflowExecutionHistory(
        S.GetWorkflowExecutionHistoryRequest(namespace=ns, execution=_run(wid)), timeout=10))


async def _describe(stub: Any, ns: str, wid: str, tq: str) -> None:
    await _not_found(stub.DescribeWorkflowExecution(
        S.DescribeWorkflowExecutionRequest(namespace=ns, execution=_run(wid)), timeout=10))


async def _list(stub: Any, ns: str, wid: str, tq: str) -> None:
    resp = await stub.ListWorkflowExecutions(
        S.ListWorkflowExecutionsRequest(namespace=ns, query=f"WorkflowId = '{wid}'"), timeout=10)
    assert list(resp.executions) == []


async def _poll_workflow(stub: Any, ns: str, wid: str, tq: str) -> None:
    resp = await stub.PollWorkflowTaskQueue(
        S.PollWorkflowTaskQueueRequest(namespace=ns, task_queue={"name": tq}, identity="other"), timeout=2)
    assert not resp.task_token  # the other namespace's task on a queue of the same name is not handed out


async def _poll_activity(stub: Any, ns: str, wid: str, tq: str) -> None:
    resp = await stub.PollActivityTaskQueue(
        S.PollActivityTaskQueueRequest(namespace=ns, task_queue={"name": tq}, identity="other"), timeout=2)
    assert not resp.task_token


def _by_id(method: str, **more: Any) -> Probe:
    async def probe(stub: Any, ns: str, wid: str, tq: str) -> None:
        request = getattr(S, f"{method}Request")(namespace=ns, workflow_id=wid, activity_id="1", **more)
        await _not_found(getattr(stub, method)(request, timeout=10))
    return probe


async def _signal(stub: Any, ns: str, wid: str, tq: str) -> None:
    await _not_found(stub.SignalWorkflowExecution(
        S.SignalWorkflowExecutionRequest(namespace=ns, workflow_execution=_run(wid), signal_name="s"), timeout=10))


async def _cancel(stub: Any, ns: str, wid: str, tq: str) -> None:
    await _not_found(stub.RequestCancelWorkflowExecution(
        S.RequestCancelWorkflowExecutionRequest(namespace=ns, workflow_execution=_run(wid)), timeout=10))


async def _terminate(stub: Any, ns: str, wid: str, tq: str) -> None:
    await _not_found(stub.TerminateWorkflowExecution(
        S.TerminateWorkflowExecutionRequest(namespace=ns, workflow_execution=_run(wid)), timeout=10))


async def _query(stub: Any, ns: str, wid: str, tq: str) -> None:
    await _not_found(stub.QueryWorkflow(
        S.QueryWorkflowRequest(namespace=ns, execution=_run(wid), query={"query_type": "q"}), timeout=10))


async def _update(stub: Any, ns: str, wid: str, tq: str) -> None:
    await _not_found(stub.UpdateWorkflowExecution(S.UpdateWorkflowExecutionRequest(
        namespace=ns, execution=_run(wid), update_id="u", name="u", wait_stage=S.UPDATE_WAIT_STAGE_COMPLETED),
        timeout=10))


async def _task_queue(stub: Any, ns: str, wid: str, tq: str) -> None:
    resp = await stub.DescribeTaskQueue(S.DescribeTaskQueueRequest(namespace=ns, task_queue={"name": tq}), timeout=10)
    # A's task is not in B's backlog; B's pollers are only B's own (the poll probes above).
    assert resp.workflow_task_backlog == 0
    assert {p.identity for p in resp.pollers} <= {"other"}


async def _describe_namespace(stub: Any, ns: str, wid: str, tq: str) -> None:
    resp = await stub.DescribeNamespace(S.DescribeNamespaceRequest(namespace=ns), timeout=10)
    assert resp.namespace_info.name == ns


async def _update_namespace(stub: Any, ns: str, wid: str, tq: str) -> None:
    resp = await stub.UpdateNamespace(S.UpdateNamespaceRequest(namespace=ns, description="b's"), timeout=10)
    assert resp.namespace_info.description == "b's"


async def _delete_run(stub: Any, ns: str, wid: str, tq: str) -> None:
    await _not_found(stub.DeleteWorkflowExecution(
        S.DeleteWorkflowExecutionRequest(namespace=ns, workflow_execution=_run(wid)), timeout=10))


async def _reset(stub: Any, ns: str, wid: str, tq: str) -> None:
    await _not_found(stub.ResetWorkflowExecution(S.ResetWorkflowExecutionRequest(
        namespace=ns, workflow_execution=_run(wid), reason="probe", workflow_task_finish_event_id=3,
        request_id=str(uuid.uuid4())), timeout=10))


async def _count(stub: Any, ns: str, wid: str, tq: str) -> None:
    resp = await stub.CountWorkflowExecutions(
        S.CountWorkflowExecutionsRequest(namespace=ns, query=f"WorkflowId = '{wid}'"), timeout=10)
    assert resp.count == 0


async def _add_search_attributes(stub: Any, ns: str, wid: str, tq: str) -> None:
    # B's registry is B's own: A's attributes are not in it, and B's do not reach A (checked after).
    await stub.AddSearchAttributes(S.AddSearchAttributesRequest(
        namespace=ns, search_attributes={"OnlyInB": S.INDEXED_VALUE_TYPE_KEYWORD}), timeout=10)


async def _list_search_attributes(stub: Any, ns: str, wid: str, tq: str) -> None:
    resp = await stub.ListSearchAttributes(S.ListSearchAttributesRequest(namespace=ns), timeout=10)
    assert "OnlyInA" not in resp.custom_attributes


async def _remove_search_attributes(stub: Any, ns: str, wid: str, tq: str) -> None:
    # Removing A's attribute from B finds nothing there (A keeps it: checked after).
    err = await rpc_error(stub.RemoveSearchAttributes(
        S.RemoveSearchAttributesRequest(namespace=ns, search_attributes=["OnlyInA"]), timeout=10))
    assert err.code() in (grpc.StatusCode.NOT_FOUND, grpc.StatusCode.INVALID_ARGUMENT), err.details()


async def _delete_namespace(stub: Any, ns: str, wid: str, tq: str) -> None:
    pass  # run last, on its own: deleting namespace B must leave A's run (checked after the probes)


def _paused_schedule(wid: str, tq: str) -> schedule_pb2.Schedule:
    return schedule_pb2.Schedule(
        spec=schedule_pb2.ScheduleSpec(interval=[schedule_pb2.IntervalSpec(interval={"seconds": 3600})]),
        action=schedule_pb2.ScheduleAction(start_workflow=schedule_pb2.NewWorkflowExecutionInfo(
            workflow_id=wid, workflow_type={"name": "W"}, task_queue={"name": tq})),
        state=schedule_pb2.ScheduleState(paused=True),
    )


def _schedule_probe(method: str, **more: Any) -> Probe:
    """A's schedule (id ``wid``) is not found from B."""
    async def probe(stub: Any, ns: str, wid: str, tq: str) -> None:
        request = getattr(S, f"{method}Request")(namespace=ns, schedule_id=wid, **more)
        await _not_found(getattr(stub, method)(request, timeout=10))
    return probe


async def _create_schedule(stub: Any, ns: str, wid: str, tq: str) -> None:
    # The same schedule id in the other namespace is another schedule: created, not ALREADY_EXISTS.
    await stub.CreateSchedule(
        S.CreateScheduleRequest(namespace=ns, schedule_id=wid, schedule=_paused_schedule(wid, tq)), timeout=10
    )
    await stub.DeleteSchedule(S.DeleteScheduleRequest(namespace=ns, schedule_id=wid), timeout=10)


async def _list_schedules(stub: Any, ns: str, wid: str, tq: str) -> None:
    resp = await stub.ListSchedules(S.ListSchedulesRequest(namespace=ns), timeout=10)
    assert wid not in {e.schedule_id for e in resp.schedules}


async def _caller_identity(stub: Any, ns: str, wid: str, tq: str) -> None:
    resp = await stub.GetCallerIdentity(S.GetCallerIdentityRequest(namespace=ns), timeout=10)
    assert resp.principal == "anonymous"  # --auth off: the anonymous cluster admin, in B as anywhere


async def _list_api_keys(stub: Any, ns: str, wid: str, tq: str) -> None:
    # A's key (named wid) is not among B's.
    resp = await stub.ListApiKeys(S.ListApiKeysRequest(namespace=ns, include_revoked=True), timeout=10)
    assert wid not in {k.name for k in resp.keys}
    assert {k.grant.namespace for k in resp.keys} <= {ns}


async def _list_audit_events(stub: Any, ns: str, wid: str, tq: str) -> None:
    try:
        resp = await stub.ListAuditEvents(S.ListAuditEventsRequest(namespace=ns), timeout=10)
    except grpc.aio.AioRpcError as exc:
        # A server without the audit log answers that it does not serve it, and so shows nothing of A.
        assert exc.code() == grpc.StatusCode.FAILED_PRECONDITION and "audit" in (exc.details() or ""), exc
        return
    # B's lines only: the probes made in B name the id too (refused there, NOT_FOUND), but none of
    # A's lines (its start, OK) shows, whenever the log was last written.
    assert {e.namespace for e in resp.events} <= {ns}
    assert not [e for e in resp.events if e.workflow_id == wid and e.status == "OK"]


PROBES: dict[str, Probe] = {
    "StartWorkflowExecution": _start,
    "GetWorkflowExecutionHistory": _history,
    "DescribeWorkflowExecution": _describe,
    "ListWorkflowExecutions": _list,
    "PollWorkflowTaskQueue": _poll_workflow,
    "PollActivityTaskQueue": _poll_activity,
    "RespondActivityTaskCompletedById": _by_id("RespondActivityTaskCompletedById"),
    "RespondActivityTaskFailedById": _by_id("RespondActivityTaskFailedById"),
    "RecordActivityTaskHeartbeatById": _by_id("RecordActivityTaskHeartbeatById"),
    "RespondActivityTaskCanceledById": _by_id("RespondActivityTaskCanceledById"),
    "SignalWorkflowExecution": _signal,
    "RequestCancelWorkflowExecution": _cancel,
    "TerminateWorkflowExecution": _terminate,
    "QueryWorkflow": _query,
    "UpdateWorkflowExecution": _update,
    "DescribeTaskQueue": _task_queue,
    "DescribeNamespace": _describe_namespace,
    "UpdateNamespace": _update_namespace,
    "DeleteWorkflowExecution": _delete_run,
    "ResetWorkflowExecution": _reset,
    "CountWorkflowExecutions": _count,
    "AddSearchAttributes": _add_search_attributes,
    "ListSearchAttributes": _list_search_attributes,
    "RemoveSearchAttributes": _remove_search_attributes,
    "DeleteNamespace": _delete_namespace,
    "CreateSchedule": _create_schedule,
    "DescribeSchedule": _schedule_probe("DescribeSchedule"),
    "UpdateSchedule": _schedule_probe("UpdateSchedule", schedule=_paused_schedule("w", "q")),
    "PatchSchedule": _schedule_probe("PatchSchedule"),
    "ListScheduleMatchingTimes": _schedule_probe(
        "ListScheduleMatchingTimes", start_time={"seconds": 0}, end_time={"seconds": 3600}
    ),
    "DeleteSchedule": _schedule_probe("DeleteSchedule"),
    "ListSchedules": _list_schedules,
    "GetCallerIdentity": _caller_identity,
    "ListApiKeys": _list_api_keys,
    "ListAuditEvents": _list_audit_events,
}


def test_the_isolation_probes_cover_every_method_that_names_a_namespace() -> None:
    assert sorted(PROBES) == NAMESPACED


async def test_a_run_and_its_task_queue_in_one_namespace_are_invisible_from_another(
    raw: service_pb2_grpc.WorkflowServiceStub, client: Client
) -> None:
    a, b = new_namespace(), new_namespace()
    for name in (a, b):
        await client.register_namespace(name, description=name)
    wid, tq = new_id(), f"tq-{uuid.uuid4().hex[:8]}"
    await raw.AddSearchAttributes(
        S.AddSearchAttributesRequest(namespace=a, search_attributes={"OnlyInA": S.INDEXED_VALUE_TYPE_KEYWORD}),
        timeout=10,
    )
    await raw.StartWorkflowExecution(start_request(wid, tq, namespace=a, input=b"in"), timeout=10)
    await raw.CreateApiKey(S.CreateApiKeyRequest(
        name=wid, grant=auth_pb2.Grant(namespace=a, role=auth_pb2.ROLE_READER)), timeout=10)
    await raw.CreateSchedule(
        S.CreateScheduleRequest(namespace=a, schedule_id=wid, schedule=_paused_schedule(wid, tq)), timeout=10
    )

    # The run waits with its first workflow task in A's backlog; every method from B misses it.
    for method, probe in PROBES.items():
        if method != "StartWorkflowExecution":  # last: it makes B a run of that id
            await probe(raw, b, wid, tq)
    await _start(raw, b, wid, tq)
    await raw.DeleteNamespace(S.DeleteNamespaceRequest(namespace=b), timeout=10)

    # Nothing in A moved: the run runs with its task still queued, its namespace as it was.
    d = await raw.DescribeWorkflowExecution(S.DescribeWorkflowExecutionRequest(namespace=a, execution=_run(wid)))
    assert d.workflow_execution_info.status == common_pb2.WORKFLOW_EXECUTION_STATUS_RUNNING
    tqd = await raw.DescribeTaskQueue(S.DescribeTaskQueueRequest(namespace=a, task_queue={"name": tq}))
    assert tqd.workflow_task_backlog == 1
    assert (await client.describe_namespace(a)).description == a
    registry = await raw.ListSearchAttributes(S.ListSearchAttributesRequest(namespace=a), timeout=10)
    assert "OnlyInA" in registry.custom_attributes and "OnlyInB" not in registry.custom_attributes
    task = await raw.PollWorkflowTaskQueue(
        S.PollWorkflowTaskQueueRequest(namespace=a, task_queue={"name": tq}, identity="a"), timeout=10)
    assert task.task_token and task.workflow_execution.workflow_id == wid
    assert task.history.events[0].workflow_execution_started_event_attributes.input == payloads(b"in")
    schedule = await raw.DescribeSchedule(S.DescribeScheduleRequest(namespace=a, schedule_id=wid), timeout=10)
    assert schedule.schedule.state.paused
    keys = await raw.ListApiKeys(S.ListApiKeysRequest(namespace=a), timeout=10)
    assert wid in {k.name for k in keys.keys}
    await raw.DeleteSchedule(S.DeleteScheduleRequest(namespace=a, schedule_id=wid), timeout=10)


# -- the CLI -----------------------------------------------------------------------------------------


async def test_wf_operator_namespace_create_describe_list_update_delete(server: Server) -> None:
    name = new_namespace()
    address = ["--address", server.address]
    created = await wf("operator", "namespace", "create", "--namespace", name, "--retention", "7d",
                       "--description", "team a", "--email", "a@x.io", *address)
    assert created.returncode == 0, created.stderr
    assert created.stdout.strip() == f"Namespace {name} successfully registered."

    described = await wf("operator", "namespace", "describe", name, "-o", "json", *address)  # positional, too
    assert described.returncode == 0, described.stderr
    info = json.loads(described.stdout)
    assert info["name"] == name and info["description"] == "team a" and info["retention"] == "7d"
    assert info["ownerEmail"] == "a@x.io" and info["state"] == "Registered"

    table = await wf("operator", "namespace", "describe", "-n", name, *address)
    assert "7d" in table.stdout and "team a" in table.stdout

    listed = await wf("operator", "namespace", "list", "-o", "json", *address)
    assert name in [n["name"] for n in json.loads(listed.stdout)]

    updated = await wf("operator", "namespace", "update", "-n", name, "--retention", "36h", *address)
    assert updated.returncode == 0, updated.stderr
    again = json.loads((await wf("operator", "namespace", "describe", name, "-o", "json", *address)).stdout)
    assert (again["retention"], again["description"]) == ("36h", "team a")

    short = await wf("operator", "namespace", "update", "-n", name, "--retention", "10m", *address)
    assert short.returncode == 1 and "min-namespace-retention" in short.stderr

    refused = await wf("operator", "namespace", "delete", "-n", name, *address, input="n\n")
    assert refused.returncode == 1
    assert json.loads((await wf("operator", "namespace", "describe", name, "-o", "json", *address)).stdout)

    deleted = await wf("operator", "namespace", "delete", "-n", name, "--yes", *address)
    assert deleted.returncode == 0, deleted.stderr
    gone = await wf("operator", "namespace", "describe", name, *address)
    assert gone.returncode == 1
    assert gone.stderr.strip() == f"error: namespace {name} not found (NOT_FOUND)"
