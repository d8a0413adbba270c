"""Failures are bounded where they enter, and a worker never stops polling silently.

A failure's cause chain nests one protobuf level per cause, and protobuf parses at most 100 levels:
a chain as deep as a recursive helper makes used to leave a run unreadable and a worker's pollers
dead. The SDK caps what it sends; the server caps what it stores, whatever a client sends.
"""

from __future__ import annotations

import logging
from datetime import timedelta

import asyncpg
import grpc
import pytest

from tests.helpers import (
    Stub,
    application_failure,
    assert_eventually,
    complete_workflow_task,
    describe,
    dur,
    new_id,
    poll_activity_task,
    poll_workflow_task,
    retry_policy,
    rpc_error,
    schedule_activity,
    start_request,
)
from wf.history.failures import bound_failure
from wf.history.limits import Limits
from wf.server.app import Server
from wf.server.config import ServerConfig
from wf.v1 import command_pb2, common_pb2, history_pb2, service_pb2
from worker_sdk import Client, RetryPolicy, Worker, activity, workflow
from worker_sdk._converter import DataConverter
from worker_sdk._failure import MAX_FAILURE_DEPTH, to_failure
from worker_sdk.errors import ActivityError, WorkflowFailureError

C = common_pb2
S = service_pb2


def raise_chained(depth: int) -> None:
    """Raise an error with ``depth`` causes, each level ``raise … from`` the one below, as recursive
    helpers do."""
    if depth == 0:
        raise ValueError("bottom of the chain")
    try:
        raise_chained(depth - 1)
    except Exception as exc:
        raise RuntimeError(f"level {depth}") from exc


def failure_chain(depth: int) -> C.Failure:
    """A Failure with ``depth`` failures in its chain, built from the innermost out."""
    failure = C.Failure(message="bottom of the chain", application_failure_info=C.ApplicationFailureInfo(type="X"))
    for level in range(1, depth):
        outer = C.Failure(message=f"level {level}", application_failure_info=C.ApplicationFailureInfo(type="Y"))
        outer.cause.CopyFrom(failure)
        failure = outer
    return failure


def _varint(value: int) -> bytes:
    out = bytearray()
    while True:
        byte, value = value & 0x7F, value >> 7
        out.append(byte | (0x80 if value else 0))
        if not value:
            return bytes(out)


def _field(number: int, data: bytes) -> bytes:
    """One length-delimited protobuf field, encoded by hand."""
    return _varint(number << 3 | 2) + _varint(len(data)) + data


def deep_failure_request(task_token: bytes, depth: int) -> bytes:
    """A RespondActivityTaskFailedRequest whose failure chain is ``depth`` deep, serialized by hand:
    protobuf's own messages refuse to hold a chain past what they parse."""
    failure = C.Failure(message="bottom of the chain").SerializeToString()
    for level in range(1, depth):
        failure = C.Failure(message=f"level {level}").SerializeToString() + _field(4, failure)
    return _field(1, task_token) + _field(2, failure)


def depth_of(failure: C.Failure) -> int:
    depth = 1
    while failure.HasField("cause"):
        failure, depth = failure.cause, depth + 1
    return depth


def innermost(failure: C.Failure) -> C.Failure:
    while failure.HasField("cause"):
        failure = failure.cause
    return failure


# -- the bounds themselves -----------------------------------------------------------------------


def test_the_server_cuts_a_deep_chain_and_says_what_it_cut() -> None:
    limits = Limits()
    failure = failure_chain(98)
    failure.stack_trace = "frame\n" * 10_000
    assert bound_failure(failure, limits)
    assert depth_of(failure) == limits.max_failure_depth == 32
    last = innermost(failure).message
    assert "… and 66 more causes: Y ×65, X; the innermost: X: bottom of the chain" in last
    assert "`--max-failure-depth`" in last  # the flag that keeps more
    assert len(failure.stack_trace) <= limits.max_stack_trace_length
    assert failure.stack_trace.startswith("frame") and failure.stack_trace.endswith("frame\n")
    assert "`--max-stack-trace-length`" in failure.stack_trace
    # Bounding what is bounded changes nothing: a failure may be bounded on every path it takes.
    again = C.Failure()
    again.CopyFrom(failure)
    assert not bound_failure(again, limits)
    assert again == failure


def test_the_server_drops_failure_details_past_the_payload_limit() -> None:
    limits = Limits(max_payload_bytes=1_000)
    failure = failure_chain(3)
    failure.application_failure_info.details.payloads.add(data=b"x" * 600)
    failure.cause.application_failure_info.details.payloads.add(data=b"y" * 600)
    assert bound_failure(failure, limits)
    assert failure.application_failure_info.details.payloads[0].data == b"x" * 600
    assert not failure.cause.application_failure_info.details.payloads
    assert "details of 600 bytes dropped" in failure.cause.message


def test_the_sdk_caps_the_chain_it_sends() -> None:
    with pytest.raises(RuntimeError) as info:
        raise_chained(120)
    failure = to_failure(info.value, DataConverter())
    assert depth_of(failure) == MAX_FAILURE_DEPTH
    assert "… and 89 more causes: RuntimeError ×88, ValueError; the innermost: ValueError: bottom of the chain" in (
        innermost(failure).message
    )
    # A cycle of causes ends instead of recursing for ever.
    a, b = RuntimeError("a"), RuntimeError("b")
    a.__cause__, b.__cause__ = b, a
    assert depth_of(to_failure(a, DataConverter())) == 2


# -- an activity failing with a deep chain, through a real worker --------------------------------


@activity.defn
async def fail_deeply(depth: int) -> None:
    raise_chained(depth)


@workflow.defn
class RunsDeepFailure:
    @workflow.run
    async def run(self, depth: int) -> None:
        await workflow.execute_activity(
            fail_deeply,
            depth,
            start_to_close_timeout=timedelta(seconds=10),
            retry_policy=RetryPolicy(maximum_attempts=1),
        )


@workflow.defn
class Echo:
    @workflow.run
    async def run(self, value: str) -> str:
        return value


@pytest.mark.parametrize("depth", [96, 120])
async def test_an_activity_failing_with_a_deep_chain_fails_its_workflow_and_the_worker_serves_on(
    client: Client, task_queue: str, depth: int
) -> None:
    async with Worker(client, task_queue=task_queue, workflows=[RunsDeepFailure, Echo], activities=[fail_deeply]):
        handle = await client.start_workflow(RunsDeepFailure.run, depth, id=new_id("deep"), task_queue=task_queue)
        with pytest.raises(WorkflowFailureError) as info:
            await handle.result(timeout=timedelta(seconds=30))
        error = info.value.cause
        assert isinstance(error, ActivityError)
        chain: list[BaseException] = []
        cause: BaseException | None = error
        while cause is not None:
            chain.append(cause)
            cause = cause.__cause__
        assert len(chain) <= MAX_FAILURE_DEPTH
        assert "more causes" in str(chain[-1]) and "ValueError: bottom of the chain" in str(chain[-1])
        # The run is readable: describe parses its state.
        assert (await handle.describe()).status.name == "FAILED"

        handles = [
            await client.start_workflow(Echo.run, f"after-{i}", id=new_id("after"), task_queue=task_queue)
            for i in range(5)
        ]
        assert [await h.result(timeout=timedelta(seconds=30)) for h in handles] == [f"after-{i}" for i in range(5)]


# -- a raw client sending a deep chain -----------------------------------------------------------


async def _activity_attempt(stub: Stub, task_queue: str, attempt: int) -> S.PollActivityTaskQueueResponse:
    task = await poll_activity_task(stub, task_queue, timeout=15)
    assert task.task_token, f"attempt {attempt} of the activity was never delivered"
    assert task.attempt == attempt
    return task


async def test_a_raw_deep_failure_never_breaks_the_run(server: Server, stub: Stub, task_queue: str) -> None:
    workflow_id = new_id("raw-deep")
    run_id = (await stub.StartWorkflowExecution(start_request(workflow_id, task_queue), timeout=10)).run_id
    task = await poll_workflow_task(stub, task_queue)
    await complete_workflow_task(
        stub, task.task_token, schedule_activity("a", start_to_close=1.0, retry=retry_policy(initial=0.1))
    )

    # 150 deep: past what protobuf parses, so the server cannot even read the request. It is
    # refused; the attempt then times out and the retry goes on.
    first = await _activity_attempt(stub, task_queue, 1)
    async with grpc.aio.insecure_channel(server.address) as channel:
        send_raw = channel.unary_unary(
            "/wf.v1.WorkflowService/RespondActivityTaskFailed",
            request_serializer=lambda data: data,
            response_deserializer=S.RespondActivityTaskFailedResponse.FromString,
        )
        refused = await rpc_error(send_raw(deep_failure_request(first.task_token, 150), timeout=10))
    assert refused.code() != grpc.StatusCode.OK
    second = await _activity_attempt(stub, task_queue, 2)

    # 98 deep: the request parses (it used to be stored as is, and the run's state no longer did).
    # The server keeps 32 failures and summarizes the rest.
    await stub.RespondActivityTaskFailed(
        S.RespondActivityTaskFailedRequest(task_token=second.task_token, failure=failure_chain(98)), timeout=10
    )
    await _activity_attempt(stub, task_queue, 3)  # the retry goes on: its timer read the run's state
    described = await describe(stub, workflow_id, run_id)
    (pending,) = described.pending_activities
    assert depth_of(pending.last_failure) == Limits().max_failure_depth
    assert "… and 66 more causes" in innermost(pending.last_failure).message

    await stub.TerminateWorkflowExecution(
        S.TerminateWorkflowExecutionRequest(
            namespace="default", workflow_execution=C.WorkflowExecution(workflow_id=workflow_id, run_id=run_id)
        ),
        timeout=10,
    )
    assert (await describe(stub, workflow_id, run_id)).workflow_execution_info.status == (
        C.WORKFLOW_EXECUTION_STATUS_TERMINATED
    )


async def test_a_deep_workflow_task_failure_and_workflow_failure_are_bounded(stub: Stub, task_queue: str) -> None:
    workflow_id = new_id("raw-deep-wf")
    run_id = (await stub.StartWorkflowExecution(start_request(workflow_id, task_queue), timeout=10)).run_id
    task = await poll_workflow_task(stub, task_queue)
    await stub.RespondWorkflowTaskFailed(
        S.RespondWorkflowTaskFailedRequest(task_token=task.task_token, failure=failure_chain(97)), timeout=10
    )
    task = await poll_workflow_task(stub, task_queue, timeout=15)
    assert task.task_token
    failed = [e for e in task.history.events if e.HasField("workflow_task_failed_event_attributes")]
    assert depth_of(failed[0].workflow_task_failed_event_attributes.failure) == 32
    command = command_pb2.Command(
        command_type=command_pb2.COMMAND_TYPE_FAIL_WORKFLOW_EXECUTION,
        fail_workflow_execution_command_attributes=command_pb2.FailWorkflowExecutionCommandAttributes(
            failure=failure_chain(97)
        ),
    )
    await complete_workflow_task(stub, task.task_token, command)
    described = await describe(stub, workflow_id, run_id)
    assert described.workflow_execution_info.status == C.WORKFLOW_EXECUTION_STATUS_FAILED
    assert depth_of(described.failure) == 32
    assert "… and 65 more causes" in innermost(described.failure).message


# -- a poller fed a reply it cannot decode --------------------------------------------------------


@pytest.mark.parametrize("multiplex", [True, False], ids=["multiplex", "rpc"])
async def test_a_poller_fed_an_undecodable_reply_keeps_polling(
    db_url: str, server: Server, stub: Stub, task_queue: str, multiplex: bool, caplog: pytest.LogCaptureFixture
) -> None:
    # A run whose history holds a failure as deep as servers before the bound stored: the server
    # still parses the event, but the poll response around it is past what protobuf parses.
    workflow_id = new_id("undecodable")
    run_id = (
        await stub.StartWorkflowExecution(
            start_request(workflow_id, task_queue, workflow_type="Echo", workflow_task_timeout=dur(1)), timeout=10
        )
    ).run_id
    task = await poll_workflow_task(stub, task_queue)
    await stub.RespondWorkflowTaskFailed(
        S.RespondWorkflowTaskFailedRequest(task_token=task.task_token, failure=application_failure("shallow")),
        timeout=10,
    )
    event = history_pb2.HistoryEvent()
    conn = await asyncpg.connect(db_url)
    try:
        key = ("default", workflow_id, run_id)
        data = await conn.fetchval(
            "SELECT data FROM history_events WHERE namespace = $1 AND workflow_id = $2 AND run_id = $3 "
            "AND event_id = 4",
            *key,
        )
        event.ParseFromString(data)
        assert event.HasField("workflow_task_failed_event_attributes")
        # One level short of what the server cannot build, one past what the worker parses.
        event.workflow_task_failed_event_attributes.failure.CopyFrom(failure_chain(97))
        await conn.execute(
            "UPDATE history_events SET data = $4 WHERE namespace = $1 AND workflow_id = $2 AND run_id = $3 "
            "AND event_id = 4",
            *key,
            event.SerializeToString(),
        )
    finally:
        await conn.close()

    # A server that has not cached the run reads the stored history.
    fresh = Server(ServerConfig(db_url=db_url, port=0))
    await fresh.start()
    try:
        worker_client = await Client.connect(fresh.address, multiplex=multiplex)
        try:
            caplog.set_level(logging.WARNING, logger="worker_sdk")
            async with Worker(worker_client, task_queue=task_queue, workflows=[Echo], max_cached_workflows=0):

                def undecodable_logged() -> bool:
                    return any(
                        "polling workflow tasks" in r.getMessage() and r.exc_info is not None for r in caplog.records
                    )

                await assert_eventually(undecodable_logged, timeout=30)
                handles = [
                    await worker_client.start_workflow(Echo.run, f"v{i}", id=new_id("after"), task_queue=task_queue)
                    for i in range(5)
                ]
                results = [await h.result(timeout=timedelta(seconds=30)) for h in handles]
                assert results == [f"v{i}" for i in range(5)]
        finally:
            await worker_client.close()
    finally:
        await fresh.stop()
        await stub.TerminateWorkflowExecution(
            S.TerminateWorkflowExecutionRequest(
                namespace="default", workflow_execution=C.WorkflowExecution(workflow_id=workflow_id, run_id=run_id)
            ),
            timeout=10,
        )
