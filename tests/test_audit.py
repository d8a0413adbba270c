"""The audit log: state-changing calls (refused ones too) are recorded with the method, the ids, the
caller, the peer and the status, never a payload; listed newest first in pages; kept with the
namespace's retention and deleted with the namespace; the buffer is written at shutdown.
"""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import asyncpg
import grpc
import pytest
import pytest_asyncio
from google.protobuf.timestamp_pb2 import Timestamp

from tests.auth_helpers import auth_server
from tests.helpers import assert_eventually, new_id
from tests.test_cli import WF
from wf.history.audit import AuditLine, AuditStore
from wf.history.limits import Limits
from wf.server import audit as audit_module
from wf.server.app import Server
from wf.server.config import ServerConfig
from wf.server.pipeline import Call, CallError, CallHandler, Interceptor
from wf.v1 import auth_pb2, common_pb2, service_pb2, service_pb2_grpc
from worker_sdk import Client

S = service_pb2
MARKER = "payload-marker-7f3e9a"
REFUSED_PREFIX = "refuse-"


@dataclass(frozen=True, slots=True)
class _Who:
    """Who an authentication link would say calls (the shape of ``wf.server.auth.Principal``)."""

    name: str
    kind: int
    grants: tuple[tuple[str, int], ...]


class NamesCaller(Interceptor):
    """As an authentication and authorization link: names the caller, and refuses terminating a
    workflow whose id starts with ``refuse-`` (PERMISSION_DENIED), changing nothing."""

    async def intercept(self, call: Call, next: CallHandler) -> Any:
        call.principal = _Who("ops-key", auth_pb2.IDENTITY_KIND_API_KEY, (("default", auth_pb2.ROLE_WRITER),))
        request = call.request
        if call.method == "TerminateWorkflowExecution" and request.workflow_execution.workflow_id.startswith(
            REFUSED_PREFIX
        ):
            call.principal = _Who("mallory", auth_pb2.IDENTITY_KIND_API_KEY, (("default", auth_pb2.ROLE_READER),))
            raise CallError(grpc.StatusCode.PERMISSION_DENIED, "TerminateWorkflowExecution needs role writer")
        return await next(call)


@pytest_asyncio.fixture(loop_scope="session")
async def audited(db_url: str) -> AsyncIterator[Server]:
    """A server whose pipeline names its callers, that allows any retention and deletes every 50 ms."""
    s = Server(
        ServerConfig(db_url=db_url, port=0, limits=Limits(min_namespace_retention=timedelta(0)),
                     retention_idle=0.05, retention_pause=0.0),
        interceptors=[NamesCaller()],
    )
    await s.start()
    try:
        yield s
    finally:
        await s.stop()


async def _events(stub: service_pb2_grpc.WorkflowServiceStub, namespace: str, **kw: Any) -> list[auth_pb2.AuditEvent]:
    """Every line of ``namespace``, newest first, through ListAuditEvents' pages."""
    events: list[auth_pb2.AuditEvent] = []
    token = b""
    while True:
        resp = await stub.ListAuditEvents(
            S.ListAuditEventsRequest(namespace=namespace, next_page_token=token, **kw)
        )
        events.extend(resp.events)
        token = resp.next_page_token
        if not token:
            return events


async def test_signal_terminate_and_a_refused_call_are_audited_without_payloads(
    audited: Server, db: asyncpg.Connection
) -> None:
    client = await Client.connect(audited.address)
    try:
        workflow_id = new_id("audit")
        handle = await client.start_workflow("Nobody", MARKER, id=workflow_id, task_queue=new_id("tq"))
        await handle.signal("approve", MARKER)
        await handle.terminate(reason="operator cleanup")
        refused_id = new_id(REFUSED_PREFIX.rstrip("-"))
        refused = await client.start_workflow("Nobody", MARKER, id=refused_id, task_queue=new_id("tq"))
        try:
            await refused.terminate(reason="not allowed")
        except Exception as exc:  # RPCError PERMISSION_DENIED
            assert "needs role writer" in str(exc)
        else:
            raise AssertionError("the refused terminate succeeded")
        assert (await refused.describe()).status.name == "RUNNING"  # the refusal changed nothing
    finally:
        await client.close()

    async with grpc.aio.insecure_channel(audited.address) as channel:
        stub = service_pb2_grpc.WorkflowServiceStub(channel)

        async def lines() -> dict[tuple[str, str], auth_pb2.AuditEvent]:
            found = {(e.method, e.workflow_id): e for e in await _events(stub, "default")}
            assert ("SignalWorkflowExecution", workflow_id) in found
            assert ("TerminateWorkflowExecution", workflow_id) in found
            assert ("TerminateWorkflowExecution", refused_id) in found
            return found

        found = await assert_eventually(lines)

    start = found[("StartWorkflowExecution", workflow_id)]
    signal = found[("SignalWorkflowExecution", workflow_id)]
    terminate = found[("TerminateWorkflowExecution", workflow_id)]
    denied = found[("TerminateWorkflowExecution", refused_id)]
    assert start.run_id == handle.run_id and start.status == "OK" and "type='Nobody'" in start.detail
    assert signal.status == "OK" and signal.detail == "signal='approve'"
    assert signal.principal == "ops-key" and signal.principal_kind == auth_pb2.IDENTITY_KIND_API_KEY
    assert signal.namespace == "default" and signal.peer.startswith(("ipv4:", "ipv6:"))
    assert terminate.status == "OK" and terminate.detail == "reason='operator cleanup'"
    assert denied.status == "PERMISSION_DENIED" and denied.principal == "mallory"
    assert denied.detail == "reason='not allowed'"
    assert signal.time.ToDatetime(UTC) <= terminate.time.ToDatetime(UTC)
    # Reads are not audited.
    assert not any(method == "DescribeWorkflowExecution" for method, _ in found)

    # No payload reaches the table: every column of every line, as text.
    rows = await db.fetch("SELECT audit_log::text AS line FROM audit_log")
    assert rows and not [r["line"] for r in rows if MARKER in r["line"]]


async def test_listing_is_newest_first_in_pages_with_a_start_time(audited: Server) -> None:
    namespace = new_id("ns-audit")
    client = await Client.connect(audited.address)
    try:
        await client.register_namespace(namespace)
    finally:
        await client.close()
    store = AuditStore(audited.history.store)  # type: ignore[union-attr]
    now = datetime.now(UTC)
    # The registration is audited in the namespace too, as its newest line once written.
    async def registered() -> None:
        assert [line.method for line in await store.list(namespace, None, None, 10)] == ["RegisterNamespace"]

    await assert_eventually(registered)
    await store.write([
        AuditLine(now - timedelta(minutes=10 - i), namespace, "k", auth_pb2.IDENTITY_KIND_API_KEY,
                  "SignalWorkflowExecution", f"wf-{i}", "", "ipv4:127.0.0.1:1", "OK", "")
        for i in range(7)
    ])
    async with grpc.aio.insecure_channel(audited.address) as channel:
        stub = service_pb2_grpc.WorkflowServiceStub(channel)
        first = await stub.ListAuditEvents(S.ListAuditEventsRequest(namespace=namespace, page_size=3))
        assert [e.workflow_id for e in first.events] == ["", "wf-6", "wf-5"] and first.next_page_token
        every = await _events(stub, namespace, page_size=3)
        assert [e.workflow_id for e in every] == ["", *(f"wf-{i}" for i in reversed(range(7)))]
        since = Timestamp()
        since.FromDatetime(now - timedelta(minutes=5, seconds=30))
        recent = await _events(stub, namespace, page_size=2, start_time=since)
        assert [e.workflow_id for e in recent] == ["", "wf-6", "wf-5"]
        bad = stub.ListAuditEvents(S.ListAuditEventsRequest(namespace=namespace, next_page_token=b"nonsense"))
        try:
            await bad
        except grpc.aio.AioRpcError as exc:
            assert exc.code() == grpc.StatusCode.INVALID_ARGUMENT
        else:
            raise AssertionError("a bad page token was accepted")


async def test_retention_deletes_old_lines_and_the_namespace_takes_its_lines(
    audited: Server, db: asyncpg.Connection
) -> None:
    client = await Client.connect(audited.address)
    try:
        kept, gone = new_id("ns-keep"), new_id("ns-gone")
        await client.register_namespace(kept, retention=timedelta(hours=1))
        await client.register_namespace(gone, retention=timedelta(hours=1))
        store = AuditStore(audited.history.store)  # type: ignore[union-attr]
        now = datetime.now(UTC)

        def line(namespace: str, age: timedelta, wid: str) -> AuditLine:
            return AuditLine(now - age, namespace, "k", auth_pb2.IDENTITY_KIND_API_KEY, "TerminateWorkflowExecution",
                             wid, "", "ipv4:127.0.0.1:1", "OK", "")

        await store.write([line(kept, timedelta(hours=2), "old"), line(kept, timedelta(minutes=1), "new"),
                           line(gone, timedelta(minutes=1), "any")])

        async def ids(namespace: str) -> list[str]:
            rows = await db.fetch("SELECT workflow_id FROM audit_log WHERE namespace = $1 ORDER BY id", namespace)
            return [r["workflow_id"] for r in rows]

        async def old_deleted() -> None:
            assert await ids(kept) == ["new"]

        await assert_eventually(old_deleted)
        await client.delete_namespace(gone)

        async def namespace_lines_deleted() -> None:
            assert await ids(gone) == []
            assert await db.fetchval("SELECT count(*) FROM namespaces WHERE name = $1", gone) == 0

        await assert_eventually(namespace_lines_deleted)
        assert await ids(kept) == ["new"]
    finally:
        await client.close()


async def test_buffered_lines_are_written_at_shutdown(db_url: str, db: asyncpg.Connection) -> None:
    s = Server(ServerConfig(db_url=db_url, port=0))
    await s.start()
    assert s.audit is not None
    audit = s.audit
    audit.flush_interval = 3600.0  # from its next round on, only shutdown writes
    rounds = audit.rounds
    workflow_id = new_id("audit-stop")
    try:
        # A round ends within a second; the next waits the long interval.
        await assert_eventually(lambda: audit.rounds > rounds, timeout=5)
        async with grpc.aio.insecure_channel(s.address) as channel:
            stub = service_pb2_grpc.WorkflowServiceStub(channel)
            await stub.StartWorkflowExecution(S.StartWorkflowExecutionRequest(
                namespace="default", workflow_id=workflow_id, workflow_type={"name": "Nobody"},
                task_queue={"name": new_id("tq")}, request_id=new_id("rq"),
            ))
        assert audit.buffered == 1
        assert await db.fetchval("SELECT count(*) FROM audit_log WHERE workflow_id = $1", workflow_id) == 0
    finally:
        await s.stop()
    rows = await db.fetch("SELECT method, status, principal FROM audit_log WHERE workflow_id = $1", workflow_id)
    assert [tuple(r) for r in rows] == [("StartWorkflowExecution", "OK", "anonymous")]


async def test_cli_lists_the_namespace_s_lines(audited: Server) -> None:
    namespace = new_id("ns-cli")
    client = await Client.connect(audited.address)
    try:
        await client.register_namespace(namespace)
    finally:
        await client.close()
    client = await Client.connect(audited.address, namespace=namespace)
    try:
        workflow_id = new_id("audit-cli")
        handle = await client.start_workflow("Nobody", id=workflow_id, task_queue=new_id("tq"))
        await handle.cancel()
    finally:
        await client.close()
    environ = {k: v for k, v in os.environ.items() if not k.startswith("WF_")}

    async def listed() -> list[dict[str, Any]]:
        done = await asyncio.to_thread(
            subprocess.run,
            [WF, "operator", "audit", "list", "--address", audited.address, "-n", namespace, "--since", "1h",
             "-o", "json"],
            capture_output=True, text=True, timeout=60, env=environ,
        )
        assert done.returncode == 0, done.stderr
        lines: list[dict[str, Any]] = json.loads(done.stdout)
        assert [line["method"] for line in lines] == [
            "RequestCancelWorkflowExecution", "StartWorkflowExecution", "RegisterNamespace",
        ]
        return lines

    lines = await assert_eventually(listed)
    assert lines[0]["workflowId"] == workflow_id and lines[0]["status"] == "OK"
    assert lines[0]["principal"] == "ops-key" and lines[0]["principalKind"] == "api_key"


async def test_calls_on_both_transports_are_audited_and_a_bearer_key_never_is(
    audited: Server, db: asyncpg.Connection
) -> None:
    from tests.test_pipeline import stream_call

    secret = "wfk_" + new_id("secret")
    metadata = (("authorization", f"Bearer {secret}"),)
    workflow_id = new_id("audit-both")
    async with grpc.aio.insecure_channel(audited.address) as channel:
        stub = service_pb2_grpc.WorkflowServiceStub(channel)
        await stub.StartWorkflowExecution(S.StartWorkflowExecutionRequest(
            namespace="default", workflow_id=workflow_id, workflow_type={"name": "Nobody"},
            task_queue={"name": new_id("tq")}, request_id=new_id("rq"),
        ), metadata=metadata)
        signal = S.SignalWorkflowExecutionRequest(
            namespace="default", workflow_execution={"workflow_id": workflow_id}, signal_name="over-rpc",
        )
        await stub.SignalWorkflowExecution(signal, metadata=metadata)
        signal.signal_name = "over-stream"
        reply = await stream_call(stub, "SignalWorkflowExecution", signal, metadata)
        assert reply.code == 0, reply

    async def both() -> list[str]:
        rows = await db.fetch(
            "SELECT detail FROM audit_log WHERE workflow_id = $1 AND method = 'SignalWorkflowExecution'", workflow_id
        )
        details = sorted(r["detail"] for r in rows)
        assert details == ["signal='over-rpc'", "signal='over-stream'"]
        return details

    await assert_eventually(both)
    rows = await db.fetch("SELECT audit_log::text AS line FROM audit_log")
    assert not [r["line"] for r in rows if secret in r["line"]]


async def test_a_malformed_request_is_audited_with_its_text_made_storable(
    audited: Server, db: asyncpg.Connection
) -> None:
    # The audit link is outside validation: it records what was asked, cut and free of NUL, which
    # PostgreSQL's text refuses, and the lines written with it are not lost.
    bad_id = "nul\x00" + "x" * 5000
    good_id = new_id("after")
    async with grpc.aio.insecure_channel(audited.address) as channel:
        stub = service_pb2_grpc.WorkflowServiceStub(channel)
        with pytest.raises(grpc.aio.AioRpcError) as refused:
            await stub.TerminateWorkflowExecution(S.TerminateWorkflowExecutionRequest(
                namespace="default", workflow_execution=common_pb2.WorkflowExecution(workflow_id=bad_id),
                reason="r\x00" * 1000))
        assert refused.value.code() == grpc.StatusCode.INVALID_ARGUMENT
        with pytest.raises(grpc.aio.AioRpcError):
            await stub.TerminateWorkflowExecution(S.TerminateWorkflowExecutionRequest(
                namespace="default", workflow_execution=common_pb2.WorkflowExecution(workflow_id=good_id)))

        async def both() -> list[auth_pb2.AuditEvent]:
            found = [e for e in await _events(stub, "default") if e.method == "TerminateWorkflowExecution"
                     and e.workflow_id.startswith(("nul", good_id))]
            assert len(found) == 2
            return found

        after, bad = await assert_eventually(both)
    assert after.workflow_id == good_id and after.status == "NOT_FOUND"
    assert bad.status == "INVALID_ARGUMENT"
    assert bad.workflow_id.startswith("nul\ufffdxxx") and len(bad.workflow_id) <= 1000
    assert "\x00" not in bad.detail and len(bad.detail) <= 400


async def test_calls_without_credentials_are_counted_not_each_written(
    db_url: str, db: asyncpg.Connection, monkeypatch: pytest.MonkeyPatch
) -> None:
    tag = new_id("flood")
    async with auth_server(db_url) as s:
        assert s.audit is not None
        audit = s.audit
        audit.flush_interval = 3600.0  # from its next round on, only explicit flushes write
        rounds = audit.rounds
        await assert_eventually(lambda: audit.rounds > rounds, timeout=5)
        async with grpc.aio.insecure_channel(s.address) as channel:
            stub = service_pb2_grpc.WorkflowServiceStub(channel)
            for _ in range(40):  # the same call again and again: one line
                with pytest.raises(grpc.aio.AioRpcError) as refused:
                    await stub.DescribeNamespace(S.DescribeNamespaceRequest(namespace=f"{tag}-same"))
                assert refused.value.code() == grpc.StatusCode.UNAUTHENTICATED
        assert audit.buffered == 1
        await audit.flush()
        # Calls of other targets get lines of their own, up to a number per address and in all.
        monkeypatch.setattr(audit_module, "MAX_UNAUTHENTICATED_PER_ADDRESS", 3)
        monkeypatch.setattr(audit_module, "MAX_UNAUTHENTICATED_LINES", 4)
        now = datetime.now(UTC)

        def refused_call(peer: str, namespace: str) -> AuditLine:
            return AuditLine(time=now, namespace=namespace, principal="anonymous", principal_kind=0,
                             method="DescribeNamespace", workflow_id="", run_id="", peer=peer,
                             status="UNAUTHENTICATED", detail="")

        for i in range(5):  # one address, five namespaces: three lines, the rest counted in its first
            audit.add(refused_call("ipv4:10.0.0.1:4000", f"{tag}-a{i}"))
        for i in range(3):  # three more addresses: one line (the fourth in all), then counted apart
            audit.add(refused_call(f"ipv4:10.0.0.{i + 2}:4000", f"{tag}-b{i}"))
        assert audit.buffered == 4
    rows = await db.fetch(
        "SELECT namespace, peer, detail FROM audit_log WHERE namespace LIKE $1 OR (peer = '' AND time >= $2)"
        " ORDER BY id", f"{tag}-%", now)
    lines = [tuple(r) for r in rows]
    assert lines[0][0] == f"{tag}-same" and lines[0][1].startswith("ipv4:127.0.0.1:")
    assert lines[0][2] == "and 39 more calls without credentials from this address within a second"
    assert lines[1] == (f"{tag}-a0", "ipv4:10.0.0.1:4000",
                        "and 2 more calls without credentials from this address within a second")
    assert [line[0] for line in lines[2:5]] == [f"{tag}-a1", f"{tag}-a2", f"{tag}-b0"]
    assert lines[5] == ("", "", "and 2 more calls without credentials from other addresses within a second")
    assert len(lines) == 6
