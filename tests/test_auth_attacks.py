"""A hostile caller, with a key of one namespace or with none, on a real server with ``--auth
required``: what it asks through the side doors (commands of its workflows, the fields of a
completion by token) is refused as the same request made directly would be, and the refusal changes
nothing; revoked and deleted keys stay refused; key names cannot pass for another principal; what
it writes cannot forge audit lines; guesses cost no slow hash; credentials never show in a repr."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from typing import Any

import grpc
import pytest
import pytest_asyncio

from tests.auth_helpers import Cluster, auth_server, bearer, channel, create_key, two_namespaces
from tests.helpers import (
    assert_eventually,
    complete_workflow_task,
    event_types,
    fetch_history,
    new_id,
    next_activity_task,
    next_workflow_task,
    payloads,
    poll_workflow_task,
    rpc_error,
    schedule_activity,
    scratch_database,
    start_request,
    waiting_polls,
)
from wf.server.app import Server
from wf.server.auth import roles
from wf.server.config import ServerConfig
from wf.server.pipeline import Call, CallHandler, Interceptor
from wf.v1 import auth_pb2, command_pb2, common_pb2, service_pb2
from worker_sdk import Client

S = service_pb2
DENIED = grpc.StatusCode.PERMISSION_DENIED


@pytest_asyncio.fixture(scope="module", loop_scope="session")
async def cluster(db_url: str) -> AsyncIterator[Cluster]:
    async with two_namespaces(db_url) as made:
        yield made


@pytest_asyncio.fixture(loop_scope="session")
async def clients(cluster: Cluster) -> AsyncIterator[dict[str, Client]]:
    """A client per key of namespace a, and "cluster-admin"'s (RPCs: the stream runs the same links)."""
    keys = {**cluster.keys, "cluster-admin": cluster.admin_key}
    made = {name: await Client.connect(cluster.server.address, namespace=cluster.a, api_key=key, multiplex=False)
            for name, key in keys.items()}
    try:
        yield made
    finally:
        for c in made.values():
            await c.close()


def _external(kind: str, namespace: str, workflow_id: str) -> command_pb2.Command:
    if kind == "signal":
        return command_pb2.Command(
            command_type=command_pb2.COMMAND_TYPE_SIGNAL_EXTERNAL_WORKFLOW_EXECUTION,
            signal_external_workflow_execution_command_attributes=(
                command_pb2.SignalExternalWorkflowExecutionCommandAttributes(
                    namespace=namespace, execution=common_pb2.WorkflowExecution(workflow_id=workflow_id),
                    signal_name="intrude",
                )
            ),
        )
    return command_pb2.Command(
        command_type=command_pb2.COMMAND_TYPE_REQUEST_CANCEL_EXTERNAL_WORKFLOW_EXECUTION,
        request_cancel_external_workflow_execution_command_attributes=(
            command_pb2.RequestCancelExternalWorkflowExecutionCommandAttributes(
                namespace=namespace, workflow_id=workflow_id, reason="intrude",
            )
        ),
    )


@pytest.mark.parametrize("kind", ["signal", "cancel"])
async def test_a_worker_key_cannot_reach_another_namespace_through_its_workflows_commands(
    cluster: Cluster, clients: dict[str, Client], kind: str
) -> None:
    a, b = cluster.a, cluster.b
    admin, worker = clients["cluster-admin"].service, clients["worker"].service
    victim, tq = new_id("victim"), f"tq-{uuid.uuid4().hex[:8]}"
    await admin.StartWorkflowExecution(start_request(victim, f"{tq}-b", namespace=b), timeout=10)
    wid = new_id()
    await admin.StartWorkflowExecution(start_request(wid, tq, namespace=a), timeout=10)
    task = await next_workflow_task(worker, tq, namespace=a)

    err = await rpc_error(complete_workflow_task(worker, task.task_token, _external(kind, b, victim)))
    what = "SignalExternalWorkflowExecution" if kind == "signal" else "RequestCancelExternalWorkflowExecution"
    assert (err.code(), err.details()) == (
        DENIED, f"RespondWorkflowTaskCompleted: a {what} command into namespace {b!r} needs role writer in "
                f"namespace {b!r}")
    # Nothing recorded: the task is still the worker's to answer, and the victim was never asked.
    assert "WorkflowTaskCompleted" not in event_types(await fetch_history(admin, wid, namespace=a))
    assert event_types(await fetch_history(admin, victim, namespace=b)) == [
        "WorkflowExecutionStarted", "WorkflowTaskScheduled"]

    # The same command aimed at its own namespace (or without one) is the worker's right; a caller
    # holding writer in the other namespace may aim it there.
    await complete_workflow_task(worker, task.task_token, _external(kind, a, new_id("absent")))
    await admin.SignalWorkflowExecution(S.SignalWorkflowExecutionRequest(
        namespace=a, workflow_execution=common_pb2.WorkflowExecution(workflow_id=wid), signal_name="go"), timeout=10)
    task = await next_workflow_task(admin, tq, namespace=a)
    await complete_workflow_task(admin, task.task_token, _external(kind, b, victim))


async def test_a_writer_completing_an_activity_by_token_takes_no_workers_task_and_is_audited_with_its_run(
    cluster: Cluster, clients: dict[str, Client]
) -> None:
    a = cluster.a
    admin, writer, worker = (clients[r].service for r in ("cluster-admin", "writer", "worker"))
    wid, tq = new_id(), f"tq-{uuid.uuid4().hex[:8]}"
    await writer.StartWorkflowExecution(start_request(wid, tq, namespace=a), timeout=10)
    task = await next_workflow_task(worker, tq, namespace=a)
    await complete_workflow_task(worker, task.task_token, schedule_activity("act", start_to_close=60))
    activity = await next_activity_task(worker, tq, namespace=a)

    for field, value in (("next_activity_task_queue", tq), ("eager_workflow_task_queue", f"{tq}-sticky")):
        request = S.RespondActivityTaskCompletedRequest(task_token=activity.task_token, result=payloads(b"x"))
        setattr(request, field, value)
        err = await rpc_error(writer.RespondActivityTaskCompleted(request, timeout=10))
        assert (err.code(), err.details()) == (
            DENIED, f"RespondActivityTaskCompleted with {field} needs role worker in namespace {a!r}")
    ahead = S.RespondActivityTaskCompletedRequest(task_token=activity.task_token, result=payloads(b"x"))
    ahead.workflow_task_ahead.after_event_id = 1
    err = await rpc_error(writer.RespondActivityTaskCompleted(ahead, timeout=10))
    assert (err.code(), err.details()) == (
        DENIED, f"RespondActivityTaskCompleted with workflow_task_ahead needs role worker in namespace {a!r}")
    assert "ActivityTaskCompleted" not in event_types(await fetch_history(admin, wid, namespace=a))

    # Completing it, and nothing more, is the writer's right (a person answering for the activity).
    await writer.RespondActivityTaskCompleted(
        S.RespondActivityTaskCompletedRequest(task_token=activity.task_token, result=payloads(b"x")), timeout=10)
    assert "ActivityTaskCompleted" in event_types(await fetch_history(admin, wid, namespace=a))

    # The namespace's audit log names the run of each of these calls by token, refused or not.
    async def audited() -> list[tuple[str, str, str]]:
        listed = await admin.ListAuditEvents(S.ListAuditEventsRequest(namespace=a), timeout=10)
        found = [(e.principal, e.status, e.run_id) for e in listed.events
                 if e.method == "RespondActivityTaskCompleted" and e.workflow_id == wid]
        assert len(found) == 4, found
        return found

    lines = await assert_eventually(audited)
    assert {(principal, run_id) for principal, _, run_id in lines} == {("writer-key", task.workflow_execution.run_id)}
    assert sorted(status for _, status, _ in lines) == ["OK", "PERMISSION_DENIED", "PERMISSION_DENIED",
                                                        "PERMISSION_DENIED"]


async def test_a_revoked_key_is_refused_on_the_multiplex_stream_it_opened(cluster: Cluster) -> None:
    a = cluster.a
    async with channel(cluster.server) as stub:
        key = await create_key(stub, cluster.admin_key, "soon-revoked", a, roles.READER)
        key_id = key.split("_")[1]
        async with await Client.connect(cluster.server.address, namespace=a, api_key=key, multiplex=True) as client:
            request = S.DescribeNamespaceRequest(namespace=a)
            assert (await client.service.DescribeNamespace(request, timeout=10)).namespace_info.name == a
            await stub.RevokeApiKey(S.RevokeApiKeyRequest(key_id=key_id), metadata=bearer(cluster.admin_key),
                                    timeout=10)
            # Every call on the open stream is checked, not only the stream's opening.
            err = await rpc_error(client.service.DescribeNamespace(request, timeout=10))
            assert err.code() == grpc.StatusCode.UNAUTHENTICATED


async def test_deleting_a_namespace_revokes_its_keys(cluster: Cluster) -> None:
    doomed = f"doomed-{uuid.uuid4().hex[:6]}"
    async with channel(cluster.server) as stub:
        admin = bearer(cluster.admin_key)
        await stub.RegisterNamespace(S.RegisterNamespaceRequest(namespace=doomed), metadata=admin, timeout=10)
        key = await create_key(stub, cluster.admin_key, "doomed-writer", doomed, roles.WRITER)
        await stub.DeleteNamespace(S.DeleteNamespaceRequest(namespace=doomed), metadata=admin, timeout=10)
        # A namespace registered later under the name is not the old one's key holders'.
        listed = await stub.ListApiKeys(S.ListApiKeysRequest(include_revoked=True), metadata=admin, timeout=10)
        assert [(k.name, k.HasField("revoke_time")) for k in listed.keys if k.grant.namespace == doomed] == [
            ("doomed-writer", True)]
        err = await rpc_error(stub.GetSystemInfo(S.GetSystemInfoRequest(), metadata=bearer(key), timeout=10))
        assert err.code() == grpc.StatusCode.UNAUTHENTICATED


async def test_a_caller_without_credentials_cannot_write_escape_sequences_into_the_audit_log(cluster: Cluster) -> None:
    a = cluster.a
    # Shown as sent, this would erase the terminal's line, rewrite it as another principal's, and
    # reorder what follows.
    forged = f"x-{uuid.uuid4().hex[:8]}\x1b[2K\r2026-12-05 bootstrap-admin TerminateWorkflowExecution OK\n\u202eevil"
    async with channel(cluster.server) as stub:
        err = await rpc_error(stub.TerminateWorkflowExecution(S.TerminateWorkflowExecutionRequest(
            namespace=a, workflow_execution=common_pb2.WorkflowExecution(workflow_id=forged),
            reason="\x1b]52;c;cm0gLXJmIH4=\x07"), timeout=10))
        assert err.code() == grpc.StatusCode.UNAUTHENTICATED

        async def line() -> auth_pb2.AuditEvent:
            listed = await stub.ListAuditEvents(S.ListAuditEventsRequest(namespace=a),
                                                metadata=bearer(cluster.admin_key), timeout=10)
            found = [e for e in listed.events if e.workflow_id.startswith(forged[:10])]
            assert len(found) == 1, found
            return found[0]

        event = await assert_eventually(line)
    assert (event.principal, event.status) == ("anonymous", "UNAUTHENTICATED")
    shown = event.workflow_id + event.detail
    assert not [c for c in shown if not c.isprintable() and c != " "], repr(shown)
    assert event.workflow_id.startswith(forged[:10] + "\ufffd[2K\ufffd2026-12-05 bootstrap-admin")


async def test_a_key_cannot_be_named_as_another_principal_of_the_audit_log(cluster: Cluster) -> None:
    a = cluster.a
    async with channel(cluster.server) as stub:
        ns_admin = cluster.keys["admin"]
        for name, code in (("bootstrap-admin", grpc.StatusCode.ALREADY_EXISTS),  # the cluster admin's
                           ("writer-key", grpc.StatusCode.ALREADY_EXISTS),
                           ("anonymous", grpc.StatusCode.INVALID_ARGUMENT),  # callers without a key
                           ("CN=ops,O=Acme", grpc.StatusCode.INVALID_ARGUMENT),  # a certificate's subject
                           ("ops\x1b[2K\rbootstrap-admin", grpc.StatusCode.INVALID_ARGUMENT),  # a terminal's escape
                           ("x" * 201, grpc.StatusCode.INVALID_ARGUMENT)):
            err = await rpc_error(create_key(stub, ns_admin, name, a, roles.WRITER))
            assert err.code() == code, (name, err.details())
        # A revoked key's name stays its own: lines it left must not be confused with a new key's.
        gone = f"gone-{uuid.uuid4().hex[:6]}"
        await create_key(stub, ns_admin, gone, a, roles.READER)
        listed = await stub.ListApiKeys(S.ListApiKeysRequest(namespace=a), metadata=bearer(ns_admin), timeout=10)
        [key_id] = [k.key_id for k in listed.keys if k.name == gone]
        await stub.RevokeApiKey(S.RevokeApiKeyRequest(key_id=key_id), metadata=bearer(ns_admin), timeout=10)
        err = await rpc_error(create_key(stub, ns_admin, gone, a, roles.WRITER))
        assert err.code() == grpc.StatusCode.ALREADY_EXISTS
        after = await stub.ListApiKeys(S.ListApiKeysRequest(namespace=a, include_revoked=True),
                                       metadata=bearer(ns_admin), timeout=10)
        assert not [k for k in after.keys if k.name in ("bootstrap-admin", "anonymous", "CN=ops,O=Acme")]
        assert [k.name for k in after.keys].count(gone) == 1


async def test_odd_credentials_are_refused_cleanly_and_name_nothing_secret(cluster: Cluster) -> None:
    key = cluster.keys["writer"]
    key_id, secret = key.split("_")[1], key.split("_", 2)[2]
    request = S.DescribeNamespaceRequest(namespace=cluster.a)
    async with channel(cluster.server) as stub:
        # The scheme's case and the spaces around the key do not matter.
        for value in (f"bearer {key}", f"BEARER   {key}  "):
            await stub.DescribeNamespace(request, metadata=(("authorization", value),), timeout=10)
        for metadata in (
            (("authorization", key),),  # no scheme
            (("authorization", f"Basic {key}"),),
            (("authorization-bin", f"Bearer {key}".encode()),),  # another header
            (("authorization", "Bearer wf_" + "x" * 7000 + "_y"),),  # large, and no key's id
            (("authorization", f"Bearer wf_{key_id}_{secret[:-1]}"),),  # the key's id, a wrong secret
        ):
            err = await rpc_error(stub.DescribeNamespace(request, metadata=metadata, timeout=10))
            assert err.code() == grpc.StatusCode.UNAUTHENTICATED, metadata[0][0]
            assert secret[:-1] not in (err.details() or "")
        # Larger than gRPC takes as metadata: refused by gRPC, and the server goes on.
        err = await rpc_error(stub.DescribeNamespace(
            request, metadata=(("authorization", "Bearer wf_" + "x" * 100_000),), timeout=10))
        assert err.code() != grpc.StatusCode.OK
        await stub.DescribeNamespace(request, metadata=bearer(key), timeout=10)



async def test_guesses_under_a_used_keys_id_cost_the_server_no_slow_hash(cluster: Cluster) -> None:
    table = cluster.server.api_keys
    assert table is not None
    async with channel(cluster.server) as stub:
        key = await create_key(stub, cluster.admin_key, f"guessed-{uuid.uuid4().hex[:6]}", cluster.a, roles.READER)
        key_id = key.split("_")[1]
        request = S.DescribeNamespaceRequest(namespace=cluster.a)
        await stub.DescribeNamespace(request, metadata=bearer(key), timeout=10)
        hashed = table.hashed
        # Whoever learnt the key's public id (lists, the audit log, a masked key in a log) guesses.
        for n in range(20):
            err = await rpc_error(stub.DescribeNamespace(
                request, metadata=bearer(f"wf_{key_id}_guess-{n}"), timeout=10))
            assert err.code() == grpc.StatusCode.UNAUTHENTICATED
        assert table.hashed == hashed
        await stub.DescribeNamespace(request, metadata=bearer(key), timeout=10)


class _Remembers(Interceptor):
    """A link of the pipeline, as a plugin or a debugging aid might add one, that keeps each call's repr."""

    def __init__(self) -> None:
        self.seen: list[str] = []

    async def intercept(self, call: Call, next: CallHandler) -> Any:
        self.seen.append(repr(call))
        return await next(call)


async def test_a_calls_repr_never_shows_its_credentials(db_url: str) -> None:
    remembers = _Remembers()
    async with scratch_database(db_url) as url:
        server = Server(ServerConfig(db_url=url, port=0, auth="required"), interceptors=[remembers])
        await server.start()
        try:
            assert server.bootstrap_key is not None
            for multiplex in (False, True):
                async with await Client.connect(server.address, api_key=server.bootstrap_key,
                                                multiplex=multiplex) as client:
                    await client.service.GetCallerIdentity(S.GetCallerIdentityRequest(), timeout=10)
        finally:
            await server.stop()
    secret = server.bootstrap_key.split("_", 2)[2]
    assert remembers.seen and not [r for r in remembers.seen if secret in r or "Bearer" in r]


async def test_a_worker_key_of_one_namespace_cannot_use_anothers_tasks_rows_or_children(
    cluster: Cluster, clients: dict[str, Client]
) -> None:
    a, b = cluster.a, cluster.b
    admin, worker = clients["cluster-admin"].service, clients["worker"].service
    victim, tq = new_id("victim"), f"tq-{uuid.uuid4().hex[:8]}"
    await admin.StartWorkflowExecution(start_request(victim, tq, namespace=b), timeout=10)
    task = await next_workflow_task(admin, tq, namespace=b)
    await complete_workflow_task(admin, task.task_token, schedule_activity("act", task_queue=tq, start_to_close=60))
    activity = await next_activity_task(admin, tq, namespace=b)
    # B's task tokens, in the hands of A's worker: refused, naming B.
    for call in (
        worker.RespondActivityTaskCompleted(S.RespondActivityTaskCompletedRequest(task_token=activity.task_token)),
        worker.RecordActivityTaskHeartbeat(S.RecordActivityTaskHeartbeatRequest(task_token=activity.task_token)),
        worker.RespondActivityTaskFailed(S.RespondActivityTaskFailedRequest(task_token=activity.task_token)),
    ):
        err = await rpc_error(call)
        assert err.code() == DENIED and f"in namespace {b!r}" in (err.details() or "")
    # A query that tries to leave its namespace stays in it.
    listed = await worker.ListWorkflowExecutions(S.ListWorkflowExecutionsRequest(
        namespace=a, query=f"WorkflowId = '{victim}' OR WorkflowId != ''"), timeout=10)
    assert victim not in {e.execution.workflow_id for e in listed.executions}
    # A child in B, asked by a workflow of A, is refused with its workflow task: nothing starts in B.
    wid = new_id()
    await admin.StartWorkflowExecution(start_request(wid, tq, namespace=a), timeout=10)
    task = await next_workflow_task(worker, tq, namespace=a)
    child = command_pb2.Command(
        command_type=command_pb2.COMMAND_TYPE_START_CHILD_WORKFLOW_EXECUTION,
        start_child_workflow_execution_command_attributes=command_pb2.StartChildWorkflowExecutionCommandAttributes(
            namespace=b, workflow_id=new_id("child"), workflow_type=common_pb2.WorkflowType(name="Child")),
    )
    err = await rpc_error(complete_workflow_task(worker, task.task_token, child))
    assert err.code() == grpc.StatusCode.INVALID_ARGUMENT and "a child must run in its parent's namespace" in (
        err.details() or "")
    assert "StartChildWorkflowExecutionInitiated" not in event_types(await fetch_history(admin, wid, namespace=a))
    assert (await admin.DescribeWorkflowExecution(S.DescribeWorkflowExecutionRequest(
        namespace=b, execution=common_pb2.WorkflowExecution(workflow_id=victim)), timeout=10)).pending_activities


async def test_revoking_a_key_of_another_namespace_tells_nothing_of_it(cluster: Cluster) -> None:
    a, b = cluster.a, cluster.b
    async with channel(cluster.server) as stub:
        theirs = await create_key(stub, cluster.admin_key, f"b-reader-{uuid.uuid4().hex[:6]}", b, roles.READER)
        key_id = theirs.split("_")[1]
        err = await rpc_error(stub.RevokeApiKey(S.RevokeApiKeyRequest(key_id=key_id),
                                                metadata=bearer(cluster.keys["admin"]), timeout=10))
        assert (err.code(), err.details()) == (grpc.StatusCode.NOT_FOUND, f"no API key with id {key_id!r}")
        assert b not in (err.details() or "")
        # Nothing changed: the key still works in its namespace.
        await stub.DescribeNamespace(S.DescribeNamespaceRequest(namespace=b), metadata=bearer(theirs), timeout=10)
        # A reader of a may not revoke a's keys either, and is told the role it lacks.
        mine = (await stub.ListApiKeys(S.ListApiKeysRequest(namespace=a), metadata=bearer(cluster.keys["admin"]),
                                       timeout=10)).keys[0].key_id
        err = await rpc_error(stub.RevokeApiKey(S.RevokeApiKeyRequest(key_id=mine),
                                                metadata=bearer(cluster.keys["reader"]), timeout=10))
        assert (err.code(), err.details()) == (DENIED, f"RevokeApiKey needs role admin in namespace {a!r}")


async def test_a_long_poll_ends_when_its_key_is_revoked_on_any_server(cluster: Cluster) -> None:
    a, tq = cluster.a, f"tq-{uuid.uuid4().hex[:8]}"
    async with channel(cluster.server) as stub:
        key = await create_key(stub, cluster.admin_key, f"leaving-{uuid.uuid4().hex[:6]}", a, roles.WORKER)
        async with auth_server(cluster.server.config.db_url) as other:
            polls = []
            for server, multiplex in ((cluster.server, False), (other, True)):
                client = await Client.connect(server.address, namespace=a, api_key=key, multiplex=multiplex)
                polls.append((client, asyncio.ensure_future(poll_workflow_task(client.service, tq, namespace=a,
                                                                                timeout=30))))

                def waiting(server: Server = server) -> None:
                    assert waiting_polls(server, tq, namespace=a) == 1

                await assert_eventually(waiting)
            await stub.RevokeApiKey(S.RevokeApiKeyRequest(key_id=key.split("_")[1]),
                                    metadata=bearer(cluster.admin_key), timeout=10)
            for client, poll in polls:
                err = await rpc_error(asyncio.wait_for(poll, 10))
                assert err.code() == grpc.StatusCode.UNAUTHENTICATED, err.details()
                assert "was revoked while PollWorkflowTaskQueue waited" in (err.details() or "")
                await client.close()
        # The task that comes next goes to a poller that may have it.
        wid = new_id()
        await stub.StartWorkflowExecution(start_request(wid, tq, namespace=a), metadata=bearer(cluster.admin_key),
                                          timeout=10)
        async with await Client.connect(cluster.server.address, namespace=a, api_key=cluster.admin_key) as admin:
            task = await next_workflow_task(admin.service, tq, namespace=a)
        assert task.workflow_execution.workflow_id == wid
