"""Signed task tokens: only tokens a wf server of the database issued are accepted.

Every test here runs on a database of its own (created on the session's PostgreSQL and migrated), with
two in-process servers on it, so the rotations below touch no other test's keys.
"""

from __future__ import annotations

import asyncio
import logging
import subprocess
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from urllib.parse import urlsplit, urlunsplit

import asyncpg
import grpc
import pytest
import pytest_asyncio

from tests.helpers import (
    Stub,
    assert_eventually,
    describe,
    event_types,
    events_of,
    fetch_history,
    new_id,
    next_activity_task,
    next_workflow_task,
    payloads,
    retry_policy,
    rpc_error,
    schedule_activity,
    start_request,
    wf_executable,
)
from wf import migrations
from wf.history.store import Store
from wf.history.tokens import TaskTokens, key_id_of, rotate
from wf.server.app import Server, asyncpg_dsn
from wf.server.config import ServerConfig
from wf.v1 import command_pb2, internal_pb2, service_pb2, service_pb2_grpc
from worker_sdk import Client, Worker, activity, workflow

S = service_pb2


@pytest_asyncio.fixture(scope="module", loop_scope="session")
async def token_db(db_url: str) -> AsyncIterator[str]:
    """A migrated database of this module's own on the session's PostgreSQL (no key in it yet)."""
    async with ScratchDatabase(db_url) as url:
        yield url


class ScratchDatabase:
    """A new database on the session's PostgreSQL, migrated to head; dropped at the end."""

    def __init__(self, db_url: str) -> None:
        self.admin = asyncpg_dsn(db_url)
        self.name = f"wf_tokens_{uuid.uuid4().hex[:12]}"
        self.url = urlunsplit(urlsplit(db_url)._replace(path=f"/{self.name}"))

    async def __aenter__(self) -> str:
        conn = await asyncpg.connect(self.admin)
        try:
            await conn.execute(f'CREATE DATABASE "{self.name}"')
        except asyncpg.InsufficientPrivilegeError as exc:
            pytest.skip(f"cannot create a scratch database on this PostgreSQL: {exc}")
        finally:
            await conn.close()
        await asyncio.to_thread(migrations.upgrade, self.url)
        return self.url

    async def __aexit__(self, *exc: object) -> None:
        conn = await asyncpg.connect(self.admin)
        try:
            await conn.execute(f'DROP DATABASE IF EXISTS "{self.name}" WITH (FORCE)')
        finally:
            await conn.close()


@dataclass
class Pair:
    """Two servers on one database, and a stub on each."""

    a: Server
    b: Server
    stub_a: Stub
    stub_b: Stub

    def tokens(self) -> list[TaskTokens]:
        assert self.a.history is not None and self.b.history is not None
        return [self.a.history.tokens, self.b.history.tokens]


@pytest_asyncio.fixture(scope="module", loop_scope="session")
async def pair(token_db: str) -> AsyncIterator[Pair]:
    a, b = Server(ServerConfig(db_url=token_db, port=0)), Server(ServerConfig(db_url=token_db, port=0))
    await asyncio.gather(a.start(), b.start())
    try:
        async with grpc.aio.insecure_channel(a.address) as ca, grpc.aio.insecure_channel(b.address) as cb:
            yield Pair(a, b, service_pb2_grpc.WorkflowServiceStub(ca), service_pb2_grpc.WorkflowServiceStub(cb))
    finally:
        await asyncio.gather(a.stop(), b.stop())


@pytest_asyncio.fixture(loop_scope="session")
async def store(token_db: str) -> AsyncIterator[Store]:
    pool = await asyncpg.create_pool(asyncpg_dsn(token_db), min_size=1, max_size=2)
    try:
        yield Store(pool)
    finally:
        await pool.close()


# -- driving a run by hand -----------------------------------------------------------------------------


@dataclass
class Started:
    """A run whose one activity a worker has started: its ids and the activity's token."""

    namespace: str
    workflow_id: str
    run_id: str
    task_queue: str
    token: bytes


async def started_activity(
    stub: Stub, *, namespace: str = "default", poll_stub: Stub | None = None, start_to_close: float = 30.0
) -> Started:
    """Start a run on ``stub``, schedule one activity, and start it (polled on ``poll_stub``)."""
    task_queue = f"tq-{uuid.uuid4().hex[:8]}"
    workflow_id = new_id()
    started = await stub.StartWorkflowExecution(
        start_request(workflow_id, task_queue, namespace=namespace), timeout=10
    )
    wt = await next_workflow_task(stub, task_queue, namespace=namespace)
    await stub.RespondWorkflowTaskCompleted(
        S.RespondWorkflowTaskCompletedRequest(
            task_token=wt.task_token,
            commands=[schedule_activity("a1", start_to_close=start_to_close, retry=retry_policy(initial=0.05))],
            identity="owner",
        ),
        timeout=10,
    )
    at = await next_activity_task(poll_stub or stub, task_queue, namespace=namespace, identity="owner")
    return Started(namespace, workflow_id, started.run_id, task_queue, at.task_token)


def complete(token: bytes, identity: str = "owner", result: bytes = b"done") -> S.RespondActivityTaskCompletedRequest:
    return S.RespondActivityTaskCompletedRequest(task_token=token, result=payloads(result), identity=identity)


async def assert_refused(stub: Stub, token: bytes, identity: str = "attacker") -> None:
    """Every call that takes an activity's token refuses ``token`` as not valid."""
    calls = [
        stub.RespondActivityTaskCompleted(complete(token, identity), timeout=10),
        stub.RespondActivityTaskFailed(
            S.RespondActivityTaskFailedRequest(task_token=token, identity=identity), timeout=10
        ),
        stub.RespondActivityTaskCanceled(
            S.RespondActivityTaskCanceledRequest(task_token=token, identity=identity), timeout=10
        ),
        stub.RecordActivityTaskHeartbeat(
            S.RecordActivityTaskHeartbeatRequest(task_token=token, identity=identity), timeout=10
        ),
    ]
    for call in calls:
        err = await rpc_error(call)
        assert err.code() == grpc.StatusCode.INVALID_ARGUMENT, (err.code(), err.details())
        assert err.details() == "task_token is not valid"


async def assert_pending(stub: Stub, run: Started) -> None:
    """The run's activity is still running its first attempt, and nothing happened in the run since
    it was scheduled (its start is recorded with its result)."""
    d = await describe(stub, run.workflow_id, run.run_id, namespace=run.namespace)
    assert [(p.activity_id, p.state, p.attempt) for p in d.pending_activities] == [
        ("a1", S.PENDING_ACTIVITY_STATE_STARTED, 1)
    ]
    history = await fetch_history(stub, run.workflow_id, run.run_id, namespace=run.namespace)
    assert event_types(history)[-1] == "ActivityTaskScheduled"


async def assert_completed_by(stub: Stub, run: Started, identity: str) -> None:
    history = await fetch_history(stub, run.workflow_id, run.run_id, namespace=run.namespace)
    completed = events_of(history, "ActivityTaskCompleted")
    assert [e.activity_task_completed_event_attributes.identity for e in completed] == [identity]


def token_of(data: bytes) -> internal_pb2.TaskToken:
    """What a signed token names (its protobuf follows the 37-byte header and MAC)."""
    return internal_pb2.TaskToken.FromString(data[37:])


def with_payload(signed: bytes, token: internal_pb2.TaskToken) -> bytes:
    """``signed``'s header and MAC over another token's contents: what a forger can build."""
    return signed[:37] + token.SerializeToString()


# -- the tests -----------------------------------------------------------------------------------------


async def test_the_first_server_generates_the_key_and_never_logs_it(
    db_url: str, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    async with ScratchDatabase(db_url) as url:
        pool = await asyncpg.create_pool(asyncpg_dsn(url), min_size=1, max_size=1)
        try:
            assert await Store(pool).token_keys() == []
            # Two servers starting together on a database without a key: one key between them.
            a, b = Server(ServerConfig(db_url=url, port=0)), Server(ServerConfig(db_url=url, port=0))
            await asyncio.gather(a.start(), b.start())
            try:
                keys = await Store(pool).token_keys()
                assert [k[0] for k in keys] == [1] and len(keys[0][1]) == 32
                assert a.history is not None and b.history is not None
                assert a.history.tokens.signing_key_id == b.history.tokens.signing_key_id == 1
                secret = keys[0][1]
                shown = caplog.text + repr(a.history.tokens.keys())
                for form in (secret.hex(), repr(secret), secret.hex().upper()):
                    assert form not in shown
            finally:
                await asyncio.gather(a.stop(), b.stop())
        finally:
            await pool.close()


async def test_a_forged_token_for_another_namespaces_activity_is_refused_and_changes_nothing(
    pair: Pair, store: Store
) -> None:
    names = [f"victim-{uuid.uuid4().hex[:6]}", f"attacker-{uuid.uuid4().hex[:6]}"]
    for name in names:  # every namespace a call names must be registered
        await pair.stub_a.RegisterNamespace(S.RegisterNamespaceRequest(namespace=name), timeout=10)
    victim = await started_activity(pair.stub_a, namespace=names[0])
    attacker = await started_activity(pair.stub_a, namespace=names[1])
    stored = await store.load(victim.namespace, victim.workflow_id, victim.run_id)
    # Everything a token holds is readable through list and history: the attack builds it.
    aimed = internal_pb2.TaskToken(
        namespace=victim.namespace, workflow_id=victim.workflow_id, run_id=victim.run_id, scheduled_event_id=5,
        attempt=1,
    )
    assert token_of(victim.token) == aimed  # exactly what the server would have signed

    forgeries = [
        aimed.SerializeToString(),  # unsigned, as tokens were
        with_payload(attacker.token, aimed),  # the attacker's own header and MAC over the victim's task
        victim.token[:5] + bytes(32) + aimed.SerializeToString(),  # the right key id, a made-up MAC
    ]
    # The attacker's own valid token, changed in one field at a time: namespace, run, event id.
    own = token_of(attacker.token)
    for change in ({"namespace": victim.namespace}, {"run_id": victim.run_id}, {"scheduled_event_id": 6}):
        altered = internal_pb2.TaskToken()
        altered.CopyFrom(own)
        for name, value in change.items():
            setattr(altered, name, value)
        forgeries.append(with_payload(attacker.token, altered))
    for forged in forgeries:
        await assert_refused(pair.stub_a, forged)
        await assert_refused(pair.stub_b, forged)

    await assert_pending(pair.stub_a, victim)
    await assert_pending(pair.stub_a, attacker)
    assert await store.load(victim.namespace, victim.workflow_id, victim.run_id) == stored  # not even a heartbeat
    # The victim's own worker still completes it; the attacker's identity is nowhere.
    await pair.stub_a.RespondActivityTaskCompleted(complete(victim.token), timeout=10)
    await assert_completed_by(pair.stub_a, victim, "owner")


async def test_a_token_with_any_byte_altered_is_refused(pair: Pair, store: Store) -> None:
    run = await started_activity(pair.stub_a)
    stored = await store.load(run.namespace, run.workflow_id, run.run_id)
    token = run.token
    altered = [token[:i] + bytes([token[i] ^ 0x01]) + token[i + 1 :] for i in range(len(token))]
    altered += [token[:-1], token + b"\x00", token[:37], b""]
    for bad in altered:
        err = await rpc_error(pair.stub_b.RespondActivityTaskCompleted(complete(bad, "attacker"), timeout=10))
        assert err.code() == grpc.StatusCode.INVALID_ARGUMENT, (bad, err.details())
    await assert_pending(pair.stub_a, run)
    assert await store.load(run.namespace, run.workflow_id, run.run_id) == stored
    await pair.stub_b.RespondActivityTaskCompleted(complete(token), timeout=10)
    await assert_completed_by(pair.stub_a, run, "owner")


async def test_a_token_issued_by_one_server_is_accepted_by_another(pair: Pair) -> None:
    # The workflow task and the activity are polled on server A and answered on server B.
    run = await started_activity(pair.stub_a)
    await pair.stub_b.RecordActivityTaskHeartbeat(
        S.RecordActivityTaskHeartbeatRequest(task_token=run.token, identity="owner"), timeout=10
    )
    await pair.stub_b.RespondActivityTaskCompleted(complete(run.token), timeout=10)
    wt = await next_workflow_task(pair.stub_b, run.task_queue)
    await pair.stub_a.RespondWorkflowTaskCompleted(
        S.RespondWorkflowTaskCompletedRequest(
            task_token=wt.task_token,
            commands=[
                command_pb2.Command(
                    command_type=command_pb2.COMMAND_TYPE_COMPLETE_WORKFLOW_EXECUTION,
                    complete_workflow_execution_command_attributes=command_pb2.CompleteWorkflowExecutionCommandAttributes(),
                )
            ],
        ),
        timeout=10,
    )
    history = await fetch_history(pair.stub_a, run.workflow_id, run.run_id)
    assert event_types(history)[-1] == "WorkflowExecutionCompleted"
    await assert_completed_by(pair.stub_a, run, "owner")


async def test_the_activity_info_task_token_completes_from_another_client_and_server(
    pair: Pair, task_queue: str
) -> None:
    seen: asyncio.Future[bytes] = asyncio.get_running_loop().create_future()
    release = asyncio.Event()

    @activity.defn(name="held")
    async def held() -> str:
        seen.set_result(activity.info().task_token)
        await release.wait()
        return "from the worker"

    @workflow.defn(name="Holds")
    class Holds:
        @workflow.run
        async def run(self) -> str:
            return str(await workflow.execute_activity(held, start_to_close_timeout=timedelta(seconds=30)))

    client = await Client.connect(pair.a.address)
    try:
        async with Worker(client, task_queue=task_queue, workflows=[Holds], activities=[held]):
            handle = await client.start_workflow(Holds.run, id=new_id(), task_queue=task_queue)
            token = await asyncio.wait_for(seen, 10)
            # Another client, on the other server, heartbeats the activity by its token.
            await pair.stub_b.RecordActivityTaskHeartbeat(
                S.RecordActivityTaskHeartbeatRequest(task_token=token, identity="elsewhere"), timeout=10
            )
            release.set()
            assert await handle.result() == "from the worker"
    finally:
        await client.close()


def wf_rotate(db_url: str, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [wf_executable(), "db", "rotate-token-key", "--db", db_url, *args],
        capture_output=True, text=True, timeout=60,
    )


async def test_after_a_rotation_tokens_issued_before_still_complete_and_new_ones_use_the_new_key(
    pair: Pair, token_db: str, store: Store
) -> None:
    before = await started_activity(pair.stub_a)
    old_key = key_id_of(before.token)
    assert old_key is not None

    done = await asyncio.to_thread(wf_rotate, token_db)
    assert done.returncode == 0, done.stderr
    new_key = max(k[0] for k in await store.token_keys())
    assert new_key > old_key
    assert f"task-token key {new_key} signs new tokens" in done.stdout
    secrets_ = [k[1] for k in await store.token_keys()]
    assert not any(s.hex() in done.stdout + done.stderr for s in secrets_)

    # Both servers are told at the commit, and sign with the new key from then on.
    await assert_eventually(lambda: all(t.signing_key_id == new_key for t in pair.tokens()))
    after = await started_activity(pair.stub_b, poll_stub=pair.stub_a)
    assert key_id_of(after.token) == new_key

    # The token issued before still completes, on either server; so does the new one.
    await pair.stub_b.RespondActivityTaskCompleted(complete(before.token), timeout=10)
    await pair.stub_a.RespondActivityTaskCompleted(complete(after.token), timeout=10)
    await assert_completed_by(pair.stub_a, before, "owner")
    await assert_completed_by(pair.stub_a, after, "owner")
    # The older key retires after the default grace of 7 days.
    retire_at = {k[0]: k[3] for k in await store.token_keys()}
    assert retire_at[new_key] is None
    old_retire = retire_at[old_key]
    assert old_retire is not None
    assert timedelta(days=6, hours=23) < old_retire - datetime.now(UTC) <= timedelta(days=7)


async def test_a_rotation_without_grace_refuses_older_tokens_and_the_task_is_retried(
    pair: Pair, token_db: str, store: Store
) -> None:
    run = await started_activity(pair.stub_a, start_to_close=1.0)
    done = await asyncio.to_thread(wf_rotate, token_db, "--grace", "0")
    assert done.returncode == 0, done.stderr
    assert "are accepted no longer" in done.stdout
    old_key = key_id_of(run.token)

    def old_key_retired() -> None:
        for tokens in pair.tokens():
            retired = [k for k in tokens.keys() if k.id == old_key]
            assert retired and retired[0].retire_at is not None, tokens.keys()

    await assert_eventually(old_key_retired)
    await assert_refused(pair.stub_a, run.token)
    await assert_refused(pair.stub_b, run.token)
    # The attempt times out; the next attempt gets a token with the new key, which completes it.
    retried = await next_activity_task(pair.stub_b, run.task_queue, within=15)
    assert retried.attempt == 2 and key_id_of(retried.task_token) == max(k[0] for k in await store.token_keys())
    await pair.stub_a.RespondActivityTaskCompleted(complete(retried.task_token), timeout=10)
    await assert_completed_by(pair.stub_a, Started(**{**run.__dict__, "token": retried.task_token}), "owner")

    # The next rotation deletes the keys already retired.
    assert old_key in [k[0] for k in await store.token_keys()]
    await rotate(store)
    assert old_key not in [k[0] for k in await store.token_keys()]


async def test_a_server_that_missed_the_rotation_reads_the_keys_when_a_token_names_a_new_one(
    pair: Pair, store: Store
) -> None:
    deaf = TaskTokens(store)  # follows no notifications
    await deaf.start()
    known = deaf.signing_key_id
    new_key, _ = await rotate(store)
    await assert_eventually(lambda: all(t.signing_key_id == new_key for t in pair.tokens()))
    run = await started_activity(pair.stub_a)
    assert key_id_of(run.token) == new_key and deaf.signing_key_id == known
    token = await deaf.verify(run.token)
    assert (token.workflow_id, deaf.signing_key_id) == (run.workflow_id, new_key)
    await pair.stub_a.RespondActivityTaskCompleted(complete(run.token), timeout=10)


async def test_wf_db_rotate_token_key_refuses_a_bad_grace(token_db: str) -> None:
    for grace in ("-1d", "soon", "1e400d"):
        done = await asyncio.to_thread(wf_rotate, token_db, "--grace", grace)
        assert done.returncode == 2 and "--grace" in done.stderr, (grace, done.stderr)
