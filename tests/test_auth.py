"""API keys and roles on a real server with ``--auth required``: each role may do what it may and is
refused what it may not, as its own RPC and on a Multiplex stream, across namespaces; refused calls
change nothing; keys expire and are revoked; a key's secret never reaches a log or an answer."""

from __future__ import annotations

import asyncio
import logging
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import grpc
import pytest
import pytest_asyncio
from grpc_health.v1 import health_pb2, health_pb2_grpc

from tests.auth_helpers import Cluster, auth_server, bearer, channel, create_key, two_namespaces
from tests.helpers import assert_eventually, new_id, rpc_error, scratch_database, start_request
from wf.server.auth import keys as keys_module
from wf.server.auth import roles
from wf.server.auth.keys import split
from wf.v1 import auth_pb2, common_pb2, service_pb2, service_pb2_grpc
from worker_sdk import Client, Worker, activity, workflow
from worker_sdk.errors import RPCError

S = service_pb2
DENIED = grpc.StatusCode.PERMISSION_DENIED
UNAUTHENTICATED = grpc.StatusCode.UNAUTHENTICATED


@pytest_asyncio.fixture(scope="module", loop_scope="session")
async def cluster(db_url: str) -> AsyncIterator[Cluster]:
    async with two_namespaces(db_url) as made:
        yield made


@pytest_asyncio.fixture(loop_scope="session")
async def stub(cluster: Cluster) -> AsyncIterator[service_pb2_grpc.WorkflowServiceStub]:
    async with channel(cluster.server) as s:
        yield s


def _run(wid: str) -> common_pb2.WorkflowExecution:
    return common_pb2.WorkflowExecution(workflow_id=wid)


async def _status(stub: service_pb2_grpc.WorkflowServiceStub, admin: str, ns: str, wid: str) -> int:
    d = await stub.DescribeWorkflowExecution(
        S.DescribeWorkflowExecutionRequest(namespace=ns, execution=_run(wid)), metadata=bearer(admin), timeout=10
    )
    return int(d.workflow_execution_info.status)


# -- the table -----------------------------------------------------------------------------------------


def test_the_roles_table_names_every_unary_method_of_the_service() -> None:
    service = service_pb2.DESCRIPTOR.services_by_name["WorkflowService"]
    unary = {m.name for m in service.methods if not m.client_streaming and not m.server_streaming}
    assert set(roles.TABLE) == unary


# -- unauthenticated -----------------------------------------------------------------------------------


async def test_a_call_without_credentials_is_unauthenticated_and_changes_nothing(
    cluster: Cluster, stub: service_pb2_grpc.WorkflowServiceStub
) -> None:
    wid = new_id()
    err = await rpc_error(stub.StartWorkflowExecution(start_request(wid, "q", namespace=cluster.a), timeout=10))
    assert err.code() == UNAUTHENTICATED, err.details()
    err = await rpc_error(stub.GetSystemInfo(S.GetSystemInfoRequest(), timeout=10))
    assert err.code() == UNAUTHENTICATED
    # A key that is not one: refused alike, and the message does not repeat its secret.
    fake = "wf_0123456789abcdef_not-the-secret-at-all"
    err = await rpc_error(stub.StartWorkflowExecution(
        start_request(wid, "q", namespace=cluster.a), metadata=bearer(fake), timeout=10))
    assert err.code() == UNAUTHENTICATED and "not-the-secret" not in (err.details() or "")
    # The same on a Multiplex stream: the client cannot even connect.
    with pytest.raises(RPCError) as refused:
        await Client.connect(cluster.server.address, namespace=cluster.a)
    assert refused.value.status == UNAUTHENTICATED
    missing = await rpc_error(stub.DescribeWorkflowExecution(
        S.DescribeWorkflowExecutionRequest(namespace=cluster.a, execution=_run(wid)),
        metadata=bearer(cluster.admin_key), timeout=10))
    assert missing.code() == grpc.StatusCode.NOT_FOUND


async def test_a_caller_without_credentials_learns_nothing_of_its_request_or_namespaces(
    cluster: Cluster, stub: service_pb2_grpc.WorkflowServiceStub
) -> None:
    # Neither whether the namespace exists nor whether the request is well formed: UNAUTHENTICATED first.
    for namespace in (cluster.a, "no-such-namespace"):
        err = await rpc_error(stub.DescribeWorkflowExecution(
            S.DescribeWorkflowExecutionRequest(namespace=namespace, execution=_run(new_id())), timeout=10))
        assert err.code() == UNAUTHENTICATED, (namespace, err.details())
    malformed = start_request("", "", namespace="no-such-namespace")
    err = await rpc_error(stub.StartWorkflowExecution(malformed, timeout=10))
    assert err.code() == UNAUTHENTICATED, err.details()
    # With credentials the same request is refused for what it is.
    err = await rpc_error(stub.StartWorkflowExecution(malformed, metadata=bearer(cluster.admin_key), timeout=10))
    assert err.code() == grpc.StatusCode.INVALID_ARGUMENT, err.details()


async def test_a_key_of_one_namespace_cannot_tell_whether_another_exists(
    cluster: Cluster, stub: service_pb2_grpc.WorkflowServiceStub
) -> None:
    key = cluster.keys["admin"]  # a namespace admin of a
    answers = {}
    for namespace in (cluster.b, "no-such-namespace"):
        err = await rpc_error(stub.DescribeWorkflowExecution(
            S.DescribeWorkflowExecutionRequest(namespace=namespace, execution=_run("w")), metadata=bearer(key),
            timeout=10))
        assert err.code() == DENIED, (namespace, err.details())
        answers[namespace] = (err.details() or "").replace(namespace, "<ns>")
    assert answers[cluster.b] == answers["no-such-namespace"]
    # A cluster admin may be told: the namespace is not there.
    err = await rpc_error(stub.DescribeWorkflowExecution(
        S.DescribeWorkflowExecutionRequest(namespace="no-such-namespace", execution=_run("w")),
        metadata=bearer(cluster.admin_key), timeout=10))
    assert err.code() == grpc.StatusCode.NOT_FOUND, err.details()


async def test_health_and_reflection_need_no_credentials(cluster: Cluster) -> None:
    async with grpc.aio.insecure_channel(cluster.server.address) as ch:
        health = await health_pb2_grpc.HealthStub(ch).Check(health_pb2.HealthCheckRequest(), timeout=10)
        assert health.status == health_pb2.HealthCheckResponse.SERVING
        from grpc_reflection.v1alpha import reflection_pb2, reflection_pb2_grpc

        call = reflection_pb2_grpc.ServerReflectionStub(ch).ServerReflectionInfo()
        await call.write(reflection_pb2.ServerReflectionRequest(list_services=""))
        answer = await call.read()
        await call.done_writing()
        assert "wf.v1.WorkflowService" in {s.name for s in answer.list_services_response.service}


# -- roles, on both transports -------------------------------------------------------------------------


@pytest.mark.parametrize("multiplex", [False, True], ids=["rpc", "multiplex"])
async def test_each_role_does_what_it_may_and_is_refused_the_rest(cluster: Cluster, multiplex: bool) -> None:
    a, b = cluster.a, cluster.b
    clients = {
        name: await Client.connect(cluster.server.address, namespace=a, api_key=key, multiplex=multiplex)
        for name, key in cluster.keys.items()
    }
    admin = await Client.connect(cluster.server.address, namespace=a, api_key=cluster.admin_key)
    try:
        reader, writer, worker, ns_admin = (clients[r].service for r in ("reader", "writer", "worker", "admin"))
        wid, tq = new_id(), f"tq-{uuid.uuid4().hex[:8]}"

        # reader: reads; may not start (and the refusal starts nothing).
        err = await rpc_error(reader.StartWorkflowExecution(start_request(wid, tq, namespace=a), timeout=10))
        assert (err.code(), err.details()) == (DENIED, f"StartWorkflowExecution needs role writer in namespace {a!r}")
        assert (await reader.ListWorkflowExecutions(S.ListWorkflowExecutionsRequest(namespace=a), timeout=10)) \
            is not None
        missing = await rpc_error(admin.service.DescribeWorkflowExecution(
            S.DescribeWorkflowExecutionRequest(namespace=a, execution=_run(wid)), timeout=10))
        assert missing.code() == grpc.StatusCode.NOT_FOUND

        # writer: starts and signals; may not poll.
        await writer.StartWorkflowExecution(start_request(wid, tq, namespace=a), timeout=10)
        await writer.SignalWorkflowExecution(
            S.SignalWorkflowExecutionRequest(namespace=a, workflow_execution=_run(wid), signal_name="s"), timeout=10)
        err = await rpc_error(writer.PollWorkflowTaskQueue(
            S.PollWorkflowTaskQueueRequest(namespace=a, task_queue={"name": tq}), timeout=10))
        assert (err.code(), err.details()) == (DENIED, f"PollWorkflowTaskQueue needs role worker in namespace {a!r}")

        # worker: polls and answers by token; may not terminate.
        task = await worker.PollWorkflowTaskQueue(
            S.PollWorkflowTaskQueueRequest(namespace=a, task_queue={"name": tq}, identity="w"), timeout=10)
        assert task.workflow_execution.workflow_id == wid
        err = await rpc_error(worker.TerminateWorkflowExecution(
            S.TerminateWorkflowExecutionRequest(namespace=a, workflow_execution=_run(wid)), timeout=10))
        assert (err.code(), err.details()) == (
            DENIED, f"TerminateWorkflowExecution needs role writer in namespace {a!r}")
        # A reader may not answer the task it could never have polled.
        err = await rpc_error(reader.RespondWorkflowTaskFailed(
            S.RespondWorkflowTaskFailedRequest(task_token=task.task_token), timeout=10))
        assert (err.code(), err.details()) == (
            DENIED, f"RespondWorkflowTaskFailed needs role worker in namespace {a!r}")
        await worker.RespondWorkflowTaskFailed(S.RespondWorkflowTaskFailedRequest(task_token=task.task_token),
                                               timeout=10)

        # namespace admin: its search attributes and keys; not the cluster's namespaces.
        await ns_admin.AddSearchAttributes(S.AddSearchAttributesRequest(
            namespace=a, search_attributes={"Team": S.INDEXED_VALUE_TYPE_KEYWORD}), timeout=10)
        err = await rpc_error(writer.AddSearchAttributes(S.AddSearchAttributesRequest(
            namespace=a, search_attributes={"Other": S.INDEXED_VALUE_TYPE_KEYWORD}), timeout=10))
        assert (err.code(), err.details()) == (DENIED, f"AddSearchAttributes needs role admin in namespace {a!r}")
        err = await rpc_error(ns_admin.RegisterNamespace(S.RegisterNamespaceRequest(namespace=new_id("ns")),
                                                         timeout=10))
        assert (err.code(), err.details()) == (DENIED, "RegisterNamespace needs role cluster-admin")
        err = await rpc_error(ns_admin.DeleteNamespace(S.DeleteNamespaceRequest(namespace=a), timeout=10))
        assert err.code() == DENIED
        assert (await admin.describe_namespace(a)).name == a

        # Nobody of namespace a may do anything in b, even read.
        for name, c in clients.items():
            err = await rpc_error(c.service.DescribeNamespace(S.DescribeNamespaceRequest(namespace=b), timeout=10))
            assert err.code() == DENIED, name
            err = await rpc_error(c.service.StartWorkflowExecution(start_request(wid, tq, namespace=b), timeout=10))
            assert err.code() == DENIED, name
        missing = await rpc_error(admin.service.DescribeWorkflowExecution(
            S.DescribeWorkflowExecutionRequest(namespace=b, execution=_run(wid)), timeout=10))
        assert missing.code() == grpc.StatusCode.NOT_FOUND

        # ListNamespaces answers only the caller's; the cluster admin sees both.
        listed = await reader.ListNamespaces(S.ListNamespacesRequest(), timeout=10)
        assert {n.name for n in listed.namespaces} == {a}
        everything = await admin.service.ListNamespaces(S.ListNamespacesRequest(), timeout=10)
        assert {a, b} <= {n.name for n in everything.namespaces}

        # Every caller learns who it is.
        me = await worker.GetCallerIdentity(S.GetCallerIdentityRequest(namespace=a), timeout=10)
        assert (me.principal, me.kind, me.role, me.auth_required) == (
            "worker-key", auth_pb2.IDENTITY_KIND_API_KEY, auth_pb2.ROLE_WORKER, True)
        assert [(g.namespace, g.role) for g in me.grants] == [(a, auth_pb2.ROLE_WORKER)]
        assert (await worker.GetCallerIdentity(S.GetCallerIdentityRequest(namespace=b), timeout=10)).role == 0

        await writer.TerminateWorkflowExecution(
            S.TerminateWorkflowExecutionRequest(namespace=a, workflow_execution=_run(wid)), timeout=10)
    finally:
        for c in [*clients.values(), admin]:
            await c.close()


async def test_no_key_is_made_for_a_namespace_that_is_not_registered(
    cluster: Cluster, stub: service_pb2_grpc.WorkflowServiceStub
) -> None:
    ghost = new_id("not-registered")
    grant = auth_pb2.Grant(namespace=ghost, role=auth_pb2.ROLE_WRITER)
    err = await rpc_error(stub.CreateApiKey(
        S.CreateApiKeyRequest(name=new_id("ghost-key"), grant=grant), metadata=bearer(cluster.admin_key), timeout=10))
    assert err.code() == grpc.StatusCode.NOT_FOUND and ghost in (err.details() or "")
    listed = await stub.ListApiKeys(S.ListApiKeysRequest(), metadata=bearer(cluster.admin_key), timeout=10)
    assert ghost not in {k.grant.namespace for k in listed.keys}


async def test_a_namespace_admin_manages_the_keys_of_its_namespace_only(
    cluster: Cluster, stub: service_pb2_grpc.WorkflowServiceStub
) -> None:
    a, b = cluster.a, cluster.b
    ns_admin = cluster.keys["admin"]
    made = await create_key(stub, ns_admin, "made-by-ns-admin", a, auth_pb2.ROLE_READER)
    for grant in (auth_pb2.Grant(namespace=b, role=auth_pb2.ROLE_READER),
                  auth_pb2.Grant(namespace="", role=auth_pb2.ROLE_CLUSTER_ADMIN)):
        err = await rpc_error(stub.CreateApiKey(
            S.CreateApiKeyRequest(name="x", grant=grant), metadata=bearer(ns_admin), timeout=10))
        assert err.code() == DENIED
        # The role named is the one that would do, not the one the caller already holds.
        assert err.details() == ("CreateApiKey needs role cluster-admin" if grant.role == auth_pb2.ROLE_CLUSTER_ADMIN
                                 else f"CreateApiKey needs role admin in namespace {b!r}")
    listed = await stub.ListApiKeys(S.ListApiKeysRequest(namespace=a), metadata=bearer(ns_admin), timeout=10)
    by_name = {k.name: k for k in listed.keys}
    assert by_name["made-by-ns-admin"].created_by == "admin-key"
    assert {k.grant.namespace for k in listed.keys} == {a}
    err = await rpc_error(stub.ListApiKeys(S.ListApiKeysRequest(), metadata=bearer(ns_admin), timeout=10))
    assert (err.code(), err.details()) == (DENIED, "ListApiKeys needs role cluster-admin")
    everything = await stub.ListApiKeys(S.ListApiKeysRequest(), metadata=bearer(cluster.admin_key), timeout=10)
    bootstrap = [k for k in everything.keys if k.grant.role == auth_pb2.ROLE_CLUSTER_ADMIN]
    assert bootstrap and bootstrap[0].grant.namespace == ""
    # The bootstrap key may not be revoked by a namespace admin.
    err = await rpc_error(stub.RevokeApiKey(
        S.RevokeApiKeyRequest(key_id=bootstrap[0].key_id), metadata=bearer(ns_admin), timeout=10))
    assert (err.code(), err.details()) == (DENIED, "RevokeApiKey needs role cluster-admin")

    # Revoked: refused at once on this server (other servers within the cache's 5 seconds).
    key_id = by_name["made-by-ns-admin"].key_id
    await stub.GetSystemInfo(S.GetSystemInfoRequest(), metadata=bearer(made), timeout=10)
    await stub.RevokeApiKey(S.RevokeApiKeyRequest(key_id=key_id), metadata=bearer(ns_admin), timeout=10)
    err = await rpc_error(stub.GetSystemInfo(S.GetSystemInfoRequest(), metadata=bearer(made), timeout=10))
    assert err.code() == UNAUTHENTICATED
    revoked = await stub.ListApiKeys(
        S.ListApiKeysRequest(namespace=a, include_revoked=True), metadata=bearer(ns_admin), timeout=10)
    assert [k.HasField("revoke_time") for k in revoked.keys if k.key_id == key_id] == [True]
    current = await stub.ListApiKeys(S.ListApiKeysRequest(namespace=a), metadata=bearer(ns_admin), timeout=10)
    assert key_id not in {k.key_id for k in current.keys}


async def test_a_key_is_hashed_once_per_server_however_many_calls_and_refreshes(cluster: Cluster) -> None:
    pool = cluster.server._pool
    assert pool is not None
    table, other_server = keys_module.ApiKeys(pool), keys_module.ApiKeys(pool)
    name = new_id("hashed-once")
    key, row = await table.create(name, cluster.a, roles.READER, "test")
    # Calls in flight together share one verification: one hash.
    found = await asyncio.gather(*(table.verify(key) for _ in range(50)))
    assert all(p is not None and p.name == name for p in found) and table.hashed == 1
    # Its cache entry gone (as after CACHE_SECONDS), the key is checked again by its row, not hashed.
    table._cache.clear()
    assert await table.verify(key) is not None and table.hashed == 1
    # A wrong secret under the same key id is refused, with no hash either.
    key_id, _ = split(key) or ("", "")
    assert await table.verify(f"wf_{key_id}_{'x' * 43}") is None and table.hashed == 1
    # Revoked by another server: refused at this one's next check.
    assert await other_server.revoke(row.key_id)
    table._cache.clear()
    assert await table.verify(key) is None and table.hashed == 1


async def test_an_expired_key_is_refused(cluster: Cluster, stub: service_pb2_grpc.WorkflowServiceStub) -> None:
    grant = auth_pb2.Grant(namespace=cluster.a, role=auth_pb2.ROLE_READER)
    request = S.CreateApiKeyRequest(name="short-lived", grant=grant)
    request.expire_time.FromDatetime(datetime.now(UTC) + timedelta(seconds=1))
    key = (await stub.CreateApiKey(request, metadata=bearer(cluster.admin_key), timeout=10)).key
    await stub.DescribeNamespace(S.DescribeNamespaceRequest(namespace=cluster.a), metadata=bearer(key), timeout=10)

    async def refused() -> None:
        err = await rpc_error(stub.DescribeNamespace(
            S.DescribeNamespaceRequest(namespace=cluster.a), metadata=bearer(key), timeout=10))
        assert err.code() == UNAUTHENTICATED

    await assert_eventually(refused, timeout=15)


async def test_a_key_secret_never_reaches_the_log_or_an_answer(
    cluster: Cluster, stub: service_pb2_grpc.WorkflowServiceStub, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    made = await stub.CreateApiKey(
        S.CreateApiKeyRequest(
            name="secret-check", grant=auth_pb2.Grant(namespace=cluster.a, role=auth_pb2.ROLE_WRITER)),
        metadata=bearer(cluster.admin_key), timeout=10)
    parts = split(made.key)
    assert parts is not None and made.key.startswith("wf_")
    key_id, secret = parts
    assert made.info.key_id == key_id
    client = await Client.connect(cluster.server.address, namespace=cluster.a, api_key=made.key)
    try:
        assert secret not in repr(client.__dict__) and secret not in repr(client.service.__dict__)
        err = await rpc_error(client.service.RegisterNamespace(S.RegisterNamespaceRequest(namespace="x"), timeout=10))
        assert secret not in (err.details() or "")
    finally:
        await client.close()
    bad = f"wf_{key_id}_{secret[::-1]}"
    err = await rpc_error(stub.GetSystemInfo(S.GetSystemInfoRequest(), metadata=bearer(bad), timeout=10))
    assert err.code() == UNAUTHENTICATED and secret[::-1] not in (err.details() or "")
    listed = await stub.ListApiKeys(S.ListApiKeysRequest(), metadata=bearer(cluster.admin_key), timeout=10)
    answer = listed.SerializeToString()
    assert secret.encode() not in answer and cluster.admin_key.encode() not in answer
    me = await stub.GetCallerIdentity(S.GetCallerIdentityRequest(), metadata=bearer(made.key), timeout=10)
    assert secret.encode() not in me.SerializeToString()
    assert secret not in caplog.text and secret[::-1] not in caplog.text


# -- bootstrap and --auth off ---------------------------------------------------------------------------


async def test_the_first_start_prints_one_cluster_admin_key_and_later_starts_none(
    db_url: str, capsys: pytest.CaptureFixture[str], caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    async with scratch_database(db_url) as url:
        async with auth_server(url) as first:
            key = first.bootstrap_key
            assert key is not None
            printed = capsys.readouterr().out
            assert key in printed and "will not be shown again" in printed
            async with channel(first) as stub:
                me = await stub.GetCallerIdentity(S.GetCallerIdentityRequest(), metadata=bearer(key), timeout=10)
                assert (me.principal, me.role) == ("bootstrap-admin", auth_pb2.ROLE_CLUSTER_ADMIN)
        async with auth_server(url) as second:
            assert second.bootstrap_key is None
            assert "wf_" not in capsys.readouterr().out
        assert split(key) is not None and split(key)[1] not in caplog.text  # type: ignore[index]


async def test_with_auth_off_every_caller_is_the_anonymous_cluster_admin(client: Client) -> None:
    me = await client.service.GetCallerIdentity(S.GetCallerIdentityRequest(namespace="default"), timeout=10)
    assert (me.principal, me.kind, me.role, me.auth_required) == (
        "anonymous", auth_pb2.IDENTITY_KIND_ANONYMOUS, auth_pb2.ROLE_CLUSTER_ADMIN, False)


# -- a real worker ---------------------------------------------------------------------------------------


@activity.defn
async def shout(text: str) -> str:
    activity.heartbeat("loud")
    return text.upper()


@workflow.defn
class Shouting:
    @workflow.run
    async def run(self, text: str) -> str:
        return await workflow.execute_activity(shout, text, start_to_close_timeout=timedelta(seconds=10))


async def test_a_worker_key_runs_workflows_a_writer_key_starts(cluster: Cluster) -> None:
    address, a, tq = cluster.server.address, cluster.a, f"tq-{uuid.uuid4().hex[:8]}"
    async with await Client.connect(address, namespace=a, api_key=cluster.keys["worker"]) as worker_client, \
            await Client.connect(address, namespace=a, api_key=cluster.keys["writer"]) as writer_client:
        async with Worker(worker_client, task_queue=tq, workflows=[Shouting], activities=[shout]):
            assert await writer_client.execute_workflow(Shouting.run, "hi", id=new_id(), task_queue=tq) == "HI"
