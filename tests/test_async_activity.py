"""Completing an activity from outside its worker (human in the loop), as a Temporal user does it.

An activity hands its ``activity.info()`` to the test (as it would to a person's inbox) and calls
``activity.raise_complete_async()``; the workflow waits until the test answers the attempt through
``client.get_async_activity_handle`` by task token or by ids, or through ``wf activity complete|fail``.
Every refusal leaves the history exactly as it was.
"""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import grpc
import pytest
import pytest_asyncio

from tests.helpers import assert_eventually, fetch_history, rpc_error
from wf.server.app import Server
from wf.v1 import common_pb2, history_pb2, service_pb2, service_pb2_grpc
from worker_sdk import AsyncActivityHandle, Client, RetryPolicy, Worker, activity, workflow
from worker_sdk.errors import (
    ActivityError,
    ApplicationError,
    AsyncActivityCancelledError,
    RPCError,
    TimeoutError,
    TimeoutType,
    WorkflowFailureError,
)

WF = str(Path(sys.executable).parent / "wf")
H = history_pb2

# The attempts waiting for an answer, by task queue: what a person's inbox would hold.
_inbox: dict[str, asyncio.Queue[activity.Info]] = {}


def inbox(task_queue: str) -> asyncio.Queue[activity.Info]:
    return _inbox.setdefault(task_queue, asyncio.Queue())


@activity.defn
async def ask_approval(item: str) -> str:
    """Hands its attempt to the inbox and leaves it open."""
    await inbox(activity.info().task_queue).put(activity.info())
    activity.raise_complete_async()


@workflow.defn
class Approval:
    @workflow.run
    async def run(self, item: str, start_to_close: float = 60.0, heartbeat: float = 0.0, attempts: int = 0) -> str:
        decision = await workflow.execute_activity(
            ask_approval, item,
            activity_id="approve",
            start_to_close_timeout=timedelta(seconds=start_to_close),
            heartbeat_timeout=timedelta(seconds=heartbeat) if heartbeat else None,
            retry_policy=RetryPolicy(initial_interval=timedelta(milliseconds=100), maximum_attempts=attempts),
        )
        return f"{item}: {decision}"


@workflow.defn
class CancellableApproval:
    @workflow.run
    async def run(self) -> str:
        try:
            return await workflow.execute_activity(
                ask_approval, "deploy",
                activity_id="approve",
                start_to_close_timeout=timedelta(seconds=60),
                cancellation_type=workflow.ActivityCancellationType.WAIT_CANCELLATION_COMPLETED,
            )
        except asyncio.CancelledError:
            return "approval cancelled"


@workflow.defn
class TwoApprovals:
    @workflow.run
    async def run(self) -> list[str]:
        return [
            await workflow.execute_activity(
                ask_approval, who, activity_id=who, start_to_close_timeout=timedelta(seconds=60)
            )
            for who in ("legal", "security")
        ]


@workflow.defn
class ParallelApprovals:
    @workflow.run
    async def run(self, n: int) -> list[str]:
        return list(await asyncio.gather(*(
            workflow.execute_activity(ask_approval, f"item {i}", start_to_close_timeout=timedelta(seconds=60))
            for i in range(n)
        )))


@pytest_asyncio.fixture(loop_scope="session")
async def worker(client: Client, task_queue: str) -> AsyncIterator[Worker]:
    workflows = [Approval, CancellableApproval, TwoApprovals]
    async with Worker(client, task_queue=task_queue, workflows=workflows, activities=[ask_approval]) as w:
        yield w
    _inbox.pop(task_queue, None)


async def waiting(task_queue: str, *, attempt: int = 1) -> activity.Info:
    """The next attempt handed to the inbox (it must be attempt ``attempt``)."""
    info = await asyncio.wait_for(inbox(task_queue).get(), 20)
    assert info.attempt == attempt, info
    return info


async def start(client: Client, task_queue: str, wid: str, *args: Any) -> Any:
    return await client.start_workflow(Approval.run, "deploy", *args, id=wid, task_queue=task_queue)


async def events(stub: service_pb2_grpc.WorkflowServiceStub, wid: str) -> list[H.HistoryEvent]:
    return list((await fetch_history(stub, wid)).events)


async def refused(call: Any, code: grpc.StatusCode) -> str:
    """The message of an ``RPCError`` with status ``code`` that ``call`` raises."""
    with pytest.raises(RPCError) as caught:
        await call
    assert caught.value.status == code, caught.value
    return caught.value.message


def wid(task_queue: str, what: str) -> str:
    return f"{what}-{task_queue}"


# -- by task token ---------------------------------------------------------------------------------


async def test_complete_by_token_is_the_workflow_result_and_a_second_answer_is_refused(
    client: Client, stub: service_pb2_grpc.WorkflowServiceStub, worker: Worker, task_queue: str
) -> None:
    handle = await start(client, task_queue, wid(task_queue, "token"))
    info = await waiting(task_queue)
    assert info.task_token and info.activity_id == "approve"
    # The worker answered nothing: the attempt is running, and its slot is free again.
    d = await handle.describe()
    assert [a.state for a in d.pending_activities] == [service_pb2.PENDING_ACTIVITY_STATE_STARTED]

    async_handle = client.get_async_activity_handle(task_token=info.task_token)
    assert isinstance(async_handle, AsyncActivityHandle)
    await async_handle.complete("approved by alice")
    assert await handle.result() == "deploy: approved by alice"
    completed = [e for e in await events(stub, handle.id) if e.event_type == H.EVENT_TYPE_ACTIVITY_TASK_COMPLETED]
    assert len(completed) == 1 and completed[0].activity_task_completed_event_attributes.identity == client.identity

    before = await events(stub, handle.id)
    message = await refused(async_handle.complete("again"), grpc.StatusCode.NOT_FOUND)
    assert "closed" in message, message  # the run completed: its activities are no longer wanted
    assert await events(stub, handle.id) == before


async def test_an_attempt_completed_asynchronously_frees_its_worker_slot(
    client: Client, task_queue: str
) -> None:
    """With one activity slot, three attempts are handed out one after another: each frees the slot
    when it raises complete-async, while all three stay open on the server."""
    async with Worker(
        client, task_queue=task_queue, workflows=[ParallelApprovals], activities=[ask_approval],
        max_concurrent_activities=1,
    ):
        handle = await client.start_workflow(
            ParallelApprovals.run, 3, id=wid(task_queue, "slots"), task_queue=task_queue
        )
        infos = [await waiting(task_queue) for _ in range(3)]
        pending = (await handle.describe()).pending_activities
        assert [a.state for a in pending] == [service_pb2.PENDING_ACTIVITY_STATE_STARTED] * 3
        for info in infos:
            await client.get_async_activity_handle(task_token=info.task_token).complete(f"ok {info.activity_id}")
        assert sorted(await handle.result()) == sorted(f"ok {info.activity_id}" for info in infos)
    _inbox.pop(task_queue, None)


async def test_an_answer_for_an_activity_already_finished_is_refused_saying_so(
    client: Client, stub: service_pb2_grpc.WorkflowServiceStub, worker: Worker, task_queue: str
) -> None:
    handle = await client.start_workflow(TwoApprovals.run, id=wid(task_queue, "finished"), task_queue=task_queue)
    first = await waiting(task_queue)
    token_handle = client.get_async_activity_handle(task_token=first.task_token)
    await token_handle.complete("legal approved")
    second = await waiting(task_queue)  # the run is open, waiting for the second approval
    assert second.activity_id == "security"
    before = await events(stub, handle.id)
    for call in (token_handle.complete("again"), token_handle.heartbeat(), token_handle.report_cancellation()):
        message = await refused(call, grpc.StatusCode.NOT_FOUND)
        assert "has already finished" in message, message
    assert await events(stub, handle.id) == before
    await client.get_async_activity_handle(task_token=second.task_token).complete("security approved")
    assert await handle.result() == ["legal approved", "security approved"]


async def test_fail_by_token_is_retried_per_the_retry_policy(
    client: Client, stub: service_pb2_grpc.WorkflowServiceStub, worker: Worker, task_queue: str
) -> None:
    handle = await start(client, task_queue, wid(task_queue, "retry"), 60.0, 0.0, 3)
    first = await waiting(task_queue)
    await client.get_async_activity_handle(task_token=first.task_token).fail(
        ApplicationError("reviewer unavailable", type="Unavailable")
    )
    second = await waiting(task_queue, attempt=2)
    assert second.task_token != first.task_token
    await client.get_async_activity_handle(task_token=second.task_token).complete("approved by bob")
    assert await handle.result() == "deploy: approved by bob"
    started = [e for e in await events(stub, handle.id) if e.event_type == H.EVENT_TYPE_ACTIVITY_TASK_STARTED]
    attrs = started[0].activity_task_started_event_attributes
    assert attrs.attempt == 2 and attrs.last_failure.message == "reviewer unavailable"


async def test_a_non_retryable_failure_reaches_the_workflow_as_activity_error_with_its_cause(
    client: Client, worker: Worker, task_queue: str
) -> None:
    handle = await start(client, task_queue, wid(task_queue, "reject"))
    info = await waiting(task_queue)
    await client.get_async_activity_handle(task_token=info.task_token).fail(
        ApplicationError("rejected by carol", {"ticket": 7}, type="Rejected", non_retryable=True)
    )
    with pytest.raises(WorkflowFailureError) as caught:
        await handle.result()
    activity_error = caught.value.cause
    assert isinstance(activity_error, ActivityError) and activity_error.activity_id == "approve"
    cause = activity_error.cause
    assert isinstance(cause, ApplicationError)
    assert (cause.type, cause.message, cause.non_retryable, list(cause.details)) == (
        "Rejected", "rejected by carol", True, [{"ticket": 7}]
    )


async def test_heartbeats_keep_an_attempt_past_its_heartbeat_timeout_and_show_in_describe(
    client: Client, stub: service_pb2_grpc.WorkflowServiceStub, worker: Worker, task_queue: str
) -> None:
    handle = await start(client, task_queue, wid(task_queue, "heartbeat"), 60.0, 1.0, 1)
    info = await waiting(task_queue)
    async_handle = client.get_async_activity_handle(task_token=info.task_token)
    loop = asyncio.get_running_loop()
    until = loop.time() + 3.0  # three heartbeat timeouts
    n = 0
    while loop.time() < until:
        n += 1
        await async_handle.heartbeat("reviewing", n)
        await asyncio.sleep(0.3)  # the time that passes between a reviewer's heartbeats
    d = await handle.describe()
    [pending] = d.pending_activities
    assert pending.attempt == 1 and pending.state == service_pb2.PENDING_ACTIVITY_STATE_STARTED
    assert await client.data_converter.decode(pending.heartbeat_details) == ["reviewing", n]
    assert pending.HasField("last_heartbeat_time")
    await async_handle.complete("approved after review")
    assert await handle.result() == "deploy: approved after review"


async def test_without_heartbeats_the_heartbeat_timeout_still_applies(
    client: Client, worker: Worker, task_queue: str
) -> None:
    handle = await start(client, task_queue, wid(task_queue, "silent"), 60.0, 1.0, 1)
    await waiting(task_queue)
    with pytest.raises(WorkflowFailureError) as caught:
        await handle.result()
    cause = caught.value.cause.cause
    assert isinstance(cause, TimeoutError) and cause.type == TimeoutType.HEARTBEAT


async def test_the_start_to_close_timeout_still_applies_to_an_attempt_completed_asynchronously(
    client: Client, worker: Worker, task_queue: str
) -> None:
    handle = await start(client, task_queue, wid(task_queue, "slow"), 1.0, 0.0, 1)
    await waiting(task_queue)
    with pytest.raises(WorkflowFailureError) as caught:
        await handle.result()
    cause = caught.value.cause.cause
    assert isinstance(cause, TimeoutError) and cause.type == TimeoutType.START_TO_CLOSE


async def test_report_cancellation_after_the_workflow_cancels_the_activity(
    client: Client, stub: service_pb2_grpc.WorkflowServiceStub, worker: Worker, task_queue: str
) -> None:
    handle = await client.start_workflow(CancellableApproval.run, id=wid(task_queue, "cancel"), task_queue=task_queue)
    info = await waiting(task_queue)
    async_handle = client.get_async_activity_handle(task_token=info.task_token)
    await async_handle.heartbeat("still reviewing")  # no cancellation asked for yet
    await handle.cancel()

    async def cancellation_asked() -> bool:
        try:
            await async_handle.heartbeat("still reviewing")
        except AsyncActivityCancelledError:
            return True
        return False

    await assert_eventually(cancellation_asked)
    await async_handle.report_cancellation("withdrawn")
    assert await handle.result() == "approval cancelled"
    [canceled] = [e for e in await events(stub, handle.id) if e.event_type == H.EVENT_TYPE_ACTIVITY_TASK_CANCELED]
    details = canceled.activity_task_canceled_event_attributes.details
    assert await client.data_converter.decode(details) == ["withdrawn"]


# -- stale and undecodable tokens ------------------------------------------------------------------


async def test_a_token_of_an_older_attempt_is_refused_saying_so(
    client: Client, stub: service_pb2_grpc.WorkflowServiceStub, worker: Worker, task_queue: str
) -> None:
    handle = await start(client, task_queue, wid(task_queue, "stale"), 1.0, 0.0, 2)
    first = await waiting(task_queue)
    second = await waiting(task_queue, attempt=2)  # the first timed out and was retried
    before = await events(stub, handle.id)
    message = await refused(
        client.get_async_activity_handle(task_token=first.task_token).complete("too late"), grpc.StatusCode.NOT_FOUND
    )
    assert "older attempt" in message and "attempt 2" in message, message
    for call in (
        client.get_async_activity_handle(task_token=first.task_token).heartbeat(),
        client.get_async_activity_handle(task_token=first.task_token).fail(ApplicationError("no")),
        client.get_async_activity_handle(task_token=first.task_token).report_cancellation(),
    ):
        assert "older attempt" in await refused(call, grpc.StatusCode.NOT_FOUND)
    assert await events(stub, handle.id) == before
    await client.get_async_activity_handle(task_token=second.task_token).complete("in time")
    assert await handle.result() == "deploy: in time"


async def test_a_token_of_a_closed_run_is_refused_saying_so(
    client: Client, stub: service_pb2_grpc.WorkflowServiceStub, worker: Worker, task_queue: str
) -> None:
    handle = await start(client, task_queue, wid(task_queue, "closed"))
    info = await waiting(task_queue)
    await handle.terminate("no longer needed")
    before = await events(stub, handle.id)
    message = await refused(
        client.get_async_activity_handle(task_token=info.task_token).complete("late"), grpc.StatusCode.NOT_FOUND
    )
    assert "is closed (Terminated)" in message, message
    assert await events(stub, handle.id) == before


async def test_a_token_that_cannot_be_decoded_is_invalid_argument(
    client: Client, stub: service_pb2_grpc.WorkflowServiceStub, worker: Worker, task_queue: str
) -> None:
    handle = await start(client, task_queue, wid(task_queue, "garbage"))
    info = await waiting(task_queue)
    altered = bytearray(info.task_token)
    altered[-1] ^= 1
    before = await events(stub, handle.id)
    for token in (b"garbage", bytes(altered), b"\x01" + b"\x00" * 40):
        h = client.get_async_activity_handle(task_token=token)
        for call in (h.complete("forged"), h.fail(ApplicationError("forged")), h.heartbeat(), h.report_cancellation()):
            assert "task_token is not valid" in await refused(call, grpc.StatusCode.INVALID_ARGUMENT)
    assert await events(stub, handle.id) == before
    await client.get_async_activity_handle(task_token=info.task_token).complete("genuine")
    assert await handle.result() == "deploy: genuine"


# -- by workflow id and activity id ----------------------------------------------------------------


async def test_by_id_heartbeat_fail_and_complete_act_on_the_current_attempt(
    client: Client, stub: service_pb2_grpc.WorkflowServiceStub, worker: Worker, task_queue: str
) -> None:
    handle = await start(client, task_queue, wid(task_queue, "byid"), 60.0, 0.0, 3)
    await waiting(task_queue)
    by_id = client.get_async_activity_handle(workflow_id=handle.id, activity_id="approve")
    await by_id.heartbeat("halfway")
    [pending] = (await handle.describe()).pending_activities
    assert await client.data_converter.decode(pending.heartbeat_details) == ["halfway"]

    await by_id.fail(ApplicationError("needs another look"))
    await waiting(task_queue, attempt=2)
    # Named with its run id this time; the answer goes to attempt 2, the current one.
    run_id = (await handle.describe()).run_id
    await client.get_async_activity_handle(workflow_id=handle.id, run_id=run_id, activity_id="approve").complete("ok")
    assert await handle.result() == "deploy: ok"
    started = [e for e in await events(stub, handle.id) if e.event_type == H.EVENT_TYPE_ACTIVITY_TASK_STARTED]
    assert started[0].activity_task_started_event_attributes.attempt == 2


async def test_by_id_an_attempt_no_worker_started_yet_is_started_by_the_completion(
    client: Client, stub: service_pb2_grpc.WorkflowServiceStub, task_queue: str
) -> None:
    """As Temporal's completion by id: an attempt waiting in its queue is started by whoever
    completes it. A heartbeat or a cancellation needs a running attempt."""
    async with Worker(client, task_queue=task_queue, workflows=[Approval]):  # no activity worker
        handle = await start(client, task_queue, wid(task_queue, "unstarted"))
        by_id = client.get_async_activity_handle(workflow_id=handle.id, activity_id="approve")

        async def scheduled() -> None:
            pending = (await handle.describe()).pending_activities
            assert [a.state for a in pending] == [service_pb2.PENDING_ACTIVITY_STATE_SCHEDULED], pending

        await assert_eventually(scheduled)
        before = await events(stub, handle.id)
        for call in (by_id.heartbeat(), by_id.report_cancellation()):
            message = await refused(call, grpc.StatusCode.NOT_FOUND)
            assert "is not running" in message and "waits for a worker" in message, message
        assert await events(stub, handle.id) == before
        await by_id.complete("approved before any worker came")
        assert await handle.result() == "deploy: approved before any worker came"
    [started] = [e for e in await events(stub, handle.id) if e.event_type == H.EVENT_TYPE_ACTIVITY_TASK_STARTED]
    assert started.activity_task_started_event_attributes.identity == client.identity


async def test_by_id_report_cancellation(
    client: Client, stub: service_pb2_grpc.WorkflowServiceStub, worker: Worker, task_queue: str
) -> None:
    handle = await client.start_workflow(CancellableApproval.run, id=wid(task_queue, "byidc"), task_queue=task_queue)
    await waiting(task_queue)
    by_id = client.get_async_activity_handle(workflow_id=handle.id, activity_id="approve")
    await handle.cancel()

    async def cancellation_asked() -> bool:
        try:
            await by_id.heartbeat()
        except AsyncActivityCancelledError:
            return True
        return False

    await assert_eventually(cancellation_asked)
    await by_id.report_cancellation("withdrawn")
    assert await handle.result() == "approval cancelled"
    names = [H.EventType.Name(e.event_type) for e in await events(stub, handle.id)]
    assert "EVENT_TYPE_ACTIVITY_TASK_CANCELED" in names


async def test_by_id_unknown_ids_are_not_found_naming_them_and_empty_ids_invalid(
    client: Client, stub: service_pb2_grpc.WorkflowServiceStub, worker: Worker, task_queue: str
) -> None:
    handle = await start(client, task_queue, wid(task_queue, "unknown"))
    await waiting(task_queue)
    before = await events(stub, handle.id)
    message = await refused(
        client.get_async_activity_handle(workflow_id=handle.id, activity_id="nope").complete("x"),
        grpc.StatusCode.NOT_FOUND,
    )
    assert "activity 'nope' not found" in message and handle.id in message, message
    message = await refused(
        client.get_async_activity_handle(workflow_id="no-such-workflow", activity_id="approve").heartbeat(),
        grpc.StatusCode.NOT_FOUND,
    )
    assert "no-such-workflow" in message, message
    run = "00000000-0000-4000-8000-000000000000"
    message = await refused(
        client.get_async_activity_handle(workflow_id=handle.id, run_id=run, activity_id="approve").fail(
            ApplicationError("x")
        ),
        grpc.StatusCode.NOT_FOUND,
    )
    assert run in message, message

    # The server refuses empty ids (the client's handle already refuses to build such a call).
    empty = [
        service_pb2.RespondActivityTaskCompletedByIdRequest(namespace="default", workflow_id=handle.id),
        service_pb2.RespondActivityTaskFailedByIdRequest(namespace="default", activity_id="approve"),
        service_pb2.RecordActivityTaskHeartbeatByIdRequest(workflow_id=handle.id, activity_id="approve"),
        service_pb2.RespondActivityTaskCanceledByIdRequest(namespace="default", workflow_id=" ", activity_id="a"),
    ]
    methods = [
        stub.RespondActivityTaskCompletedById, stub.RespondActivityTaskFailedById,
        stub.RecordActivityTaskHeartbeatById, stub.RespondActivityTaskCanceledById,
    ]
    for method, request in zip(methods, empty, strict=True):
        err = await rpc_error(method(request, timeout=10))
        assert err.code() == grpc.StatusCode.INVALID_ARGUMENT and "is required" in (err.details() or ""), err
    with pytest.raises(ValueError):
        client.get_async_activity_handle(workflow_id=handle.id)
    with pytest.raises(ValueError):
        client.get_async_activity_handle(task_token=b"t", workflow_id=handle.id, activity_id="approve")
    assert await events(stub, handle.id) == before
    await client.get_async_activity_handle(workflow_id=handle.id, activity_id="approve").complete("fine")
    assert await handle.result() == "deploy: fine"


async def test_a_closed_run_refuses_answers_by_id(
    client: Client, stub: service_pb2_grpc.WorkflowServiceStub, worker: Worker, task_queue: str
) -> None:
    handle = await start(client, task_queue, wid(task_queue, "closedid"))
    await waiting(task_queue)
    await handle.terminate("gone")
    before = await events(stub, handle.id)
    message = await refused(
        client.get_async_activity_handle(workflow_id=handle.id, activity_id="approve").complete("late"),
        grpc.StatusCode.NOT_FOUND,
    )
    assert "is closed (Terminated)" in message, message
    assert await events(stub, handle.id) == before


# -- the payload codec -----------------------------------------------------------------------------


async def test_the_handle_applies_the_clients_payload_codec(server: Server, task_queue: str) -> None:
    from worker_sdk import DataConverter, PayloadCodec

    class Reverse(PayloadCodec):
        async def encode(self, payloads: Any) -> list[common_pb2.Payload]:
            return [
                common_pb2.Payload(
                    metadata={"encoding": b"reversed", "inner": p.metadata["encoding"]}, data=p.data[::-1]
                )
                for p in payloads
            ]

        async def decode(self, payloads: Any) -> list[common_pb2.Payload]:
            return [common_pb2.Payload(metadata={"encoding": p.metadata["inner"]}, data=p.data[::-1]) for p in payloads]

    codec_client = await Client.connect(server.address, data_converter=DataConverter(payload_codec=Reverse()))
    try:
        async with Worker(codec_client, task_queue=task_queue, workflows=[Approval], activities=[ask_approval]):
            handle = await start(codec_client, task_queue, wid(task_queue, "codec"))
            info = await waiting(task_queue)
            await codec_client.get_async_activity_handle(task_token=info.task_token).complete("encoded")
            assert await handle.result() == "deploy: encoded"
            stored = [
                e.activity_task_completed_event_attributes.result
                for e in (await handle.fetch_history()).events
                if e.event_type == H.EVENT_TYPE_ACTIVITY_TASK_COMPLETED
            ]
            assert stored[0].payloads[0].metadata["encoding"] == b"reversed"
    finally:
        await codec_client.close()
        _inbox.pop(task_queue, None)


# -- the CLI ---------------------------------------------------------------------------------------


async def wf_activity(server: Server, *args: str) -> subprocess.CompletedProcess[str]:
    cmd = [WF, "activity", *args, "--address", server.address]
    environ = {k: v for k, v in os.environ.items() if not k.startswith("WF_")}
    return await asyncio.to_thread(subprocess.run, cmd, capture_output=True, text=True, timeout=30, env=environ)


async def test_wf_activity_complete(
    server: Server, client: Client, stub: service_pb2_grpc.WorkflowServiceStub, worker: Worker, task_queue: str
) -> None:
    handle = await start(client, task_queue, wid(task_queue, "cli-complete"))
    await waiting(task_queue)
    done = await wf_activity(
        server, "complete", "--workflow-id", handle.id, "--activity-id", "approve",
        "--result", '"approved on the command line"', "--identity", "dave",
    )
    assert done.returncode == 0, done.stderr
    assert f"activity approve of workflow {handle.id} completed" in done.stdout
    assert await handle.result() == "deploy: approved on the command line"
    [completed] = [e for e in await events(stub, handle.id) if e.event_type == H.EVENT_TYPE_ACTIVITY_TASK_COMPLETED]
    assert completed.activity_task_completed_event_attributes.identity == "dave"

    # The activity is gone now: refused, one line on stderr, exit code 1.
    again = await wf_activity(server, "complete", "-w", handle.id, "--activity-id", "approve", "--result", "1")
    assert again.returncode == 1 and "(NOT_FOUND)" in again.stderr, again.stderr
    bad = await wf_activity(server, "complete", "-w", handle.id, "--activity-id", "approve", "--result", "not json")
    assert bad.returncode == 2 and "is not JSON" in bad.stderr, bad.stderr


async def test_wf_activity_fail_with_json_output(
    server: Server, client: Client, worker: Worker, task_queue: str
) -> None:
    handle = await start(client, task_queue, wid(task_queue, "cli-fail"), 60.0, 0.0, 1)
    run_id = (await handle.describe()).run_id
    await waiting(task_queue)
    done = await wf_activity(
        server, "fail", "-w", handle.id, "-r", run_id, "--activity-id", "approve",
        "--reason", "not approved", "--detail", '{"by": "erin"}', "--output", "json",
    )
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout) == {
        "workflowId": handle.id, "runId": run_id, "activityId": "approve", "reason": "not approved",
        "detail": {"by": "erin"},
    }
    with pytest.raises(WorkflowFailureError) as caught:
        await handle.result()
    cause = caught.value.cause.cause
    assert isinstance(cause, ApplicationError) and cause.message == "not approved"
    assert list(cause.details) == [{"by": "erin"}]
