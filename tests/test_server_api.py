"""The server's gRPC API, driven raw (no SDK) the way a worker drives it, against a real server."""

from __future__ import annotations

import asyncio
import uuid
from collections import Counter
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import grpc
import pytest
from google.protobuf.duration_pb2 import Duration

from tests.helpers import (
    Stub,
    application_failure,
    complete_workflow,
    complete_workflow_task,
    describe,
    dur,
    event_types,
    events_of,
    fetch_history,
    list_all,
    new_id,
    next_activity_task,
    next_workflow_task,
    payloads,
    poll_activity_task,
    poll_workflow_task,
    retry_policy,
    rpc_error,
    schedule_activity,
    start_request,
)
from wf.server.app import Server
from wf.v1 import command_pb2, common_pb2, internal_pb2, service_pb2

C = common_pb2
S = service_pb2


async def start(stub: Stub, workflow_id: str, task_queue: str, **kw: object) -> S.StartWorkflowExecutionResponse:
    return await stub.StartWorkflowExecution(start_request(workflow_id, task_queue, **kw), timeout=10)  # type: ignore[arg-type]


# -- the life of a workflow ------------------------------------------------------------------------


async def test_workflow_with_a_retried_activity_runs_to_completion(stub: Stub, task_queue: str) -> None:
    wid = new_id()
    started = await start(stub, wid, task_queue, input=b"in", request_id=new_id("req"))
    assert started.started and started.run_id

    # First workflow task: the worker sees the start and schedules an activity.
    task = await next_workflow_task(stub, task_queue)
    assert task.workflow_execution.workflow_id == wid
    assert task.workflow_execution.run_id == started.run_id
    assert task.attempt == 1
    assert event_types(task.history) == ["WorkflowExecutionStarted", "WorkflowTaskScheduled", "WorkflowTaskStarted"]
    assert task.history.events[0].workflow_execution_started_event_attributes.input.payloads[0].data == b"in"
    await complete_workflow_task(
        stub,
        task.task_token,
        schedule_activity("act-1", "Greet", input=b"world", start_to_close=10, retry=retry_policy(initial=0.1)),
    )

    # The first attempt fails with a retryable error ...
    attempt1 = await next_activity_task(stub, task_queue)
    assert (attempt1.activity_id, attempt1.activity_type.name, attempt1.attempt) == ("act-1", "Greet", 1)
    assert attempt1.input.payloads[0].data == b"world"
    await stub.RespondActivityTaskFailed(
        S.RespondActivityTaskFailedRequest(task_token=attempt1.task_token, failure=application_failure("boom")),
        timeout=10,
    )
    # ... and is retried after its back-off, with no workflow task in between.
    attempt2 = await next_activity_task(stub, task_queue)
    assert (attempt2.activity_id, attempt2.attempt) == ("act-1", 2)
    pending = (await describe(stub, wid)).pending_activities
    assert [(p.activity_id, p.attempt, p.last_failure.message) for p in pending] == [("act-1", 2, "boom")]
    await stub.RespondActivityTaskCompleted(
        S.RespondActivityTaskCompletedRequest(task_token=attempt2.task_token, result=payloads(b"Hello, world!")),
        timeout=10,
    )

    # The workflow's next task carries the whole story.
    task = await next_workflow_task(stub, task_queue)
    assert event_types(task.history) == [
        "WorkflowExecutionStarted",
        "WorkflowTaskScheduled",
        "WorkflowTaskStarted",
        "WorkflowTaskCompleted",
        "ActivityTaskScheduled",
        "ActivityTaskStarted",
        "ActivityTaskCompleted",
        "WorkflowTaskScheduled",
        "WorkflowTaskStarted",
    ]
    assert task.previous_started_event_id == 3
    assert task.started_event_id == 9
    started_attrs = events_of(task.history, "ActivityTaskStarted")[0].activity_task_started_event_attributes
    assert started_attrs.attempt == 2
    assert started_attrs.last_failure.message == "boom"
    completed = events_of(task.history, "ActivityTaskCompleted")[0].activity_task_completed_event_attributes
    assert completed.result.payloads[0].data == b"Hello, world!"
    assert completed.scheduled_event_id == 5 and completed.started_event_id == 6

    # A client waits for the close event while the worker completes the workflow.
    close_wait = asyncio.ensure_future(
        stub.GetWorkflowExecutionHistory(
            S.GetWorkflowExecutionHistoryRequest(
                namespace="default",
                execution=C.WorkflowExecution(workflow_id=wid),
                wait_new_event=True,
                history_event_filter_type=S.HISTORY_EVENT_FILTER_TYPE_CLOSE_EVENT,
            ),
            timeout=30,
        )
    )
    await complete_workflow_task(stub, task.task_token, complete_workflow(b"done"))
    closed = await asyncio.wait_for(close_wait, 20)
    assert closed.run_id == started.run_id
    assert event_types(closed.history) == ["WorkflowExecutionCompleted"]
    assert closed.history.events[0].workflow_execution_completed_event_attributes.result.payloads[0].data == b"done"

    desc = await describe(stub, wid)
    info = desc.workflow_execution_info
    assert info.status == C.WORKFLOW_EXECUTION_STATUS_COMPLETED
    assert info.execution.run_id == started.run_id
    assert info.history_length == 11
    assert info.HasField("close_time")
    assert desc.result.payloads[0].data == b"done"
    assert not desc.pending_activities
    assert event_types(await fetch_history(stub, wid))[-3:] == [
        "WorkflowTaskStarted",
        "WorkflowTaskCompleted",
        "WorkflowExecutionCompleted",
    ]


async def test_history_long_poll_answers_with_the_next_events(stub: Stub, task_queue: str) -> None:
    wid = new_id()
    await start(stub, wid, task_queue)
    follow = S.GetWorkflowExecutionHistoryRequest(
        namespace="default", execution=C.WorkflowExecution(workflow_id=wid), wait_new_event=True
    )
    first = await stub.GetWorkflowExecutionHistory(follow, timeout=10)  # events exist: no waiting
    assert event_types(first.history) == ["WorkflowExecutionStarted", "WorkflowTaskScheduled"]
    assert first.next_page_token  # the run goes on: more will come

    # Follow the run from where the first read ended, waiting for what comes next.
    follow.next_page_token = first.next_page_token
    waiting = asyncio.ensure_future(stub.GetWorkflowExecutionHistory(follow, timeout=30))
    task = await next_workflow_task(stub, task_queue)
    nxt = await asyncio.wait_for(waiting, 20)
    assert event_types(nxt.history) == ["WorkflowTaskStarted"]
    assert nxt.next_page_token
    await complete_workflow_task(stub, task.task_token, complete_workflow(b"end"))
    follow.next_page_token = nxt.next_page_token
    last = await stub.GetWorkflowExecutionHistory(follow, timeout=30)
    assert event_types(last.history) == ["WorkflowTaskCompleted", "WorkflowExecutionCompleted"]
    assert last.next_page_token == b""  # closed: nothing more, ever


async def test_history_long_poll_on_a_closed_run_answers_at_once(stub: Stub, task_queue: str) -> None:
    wid = new_id()
    await start(stub, wid, task_queue)
    task = await next_workflow_task(stub, task_queue)
    await complete_workflow_task(stub, task.task_token, complete_workflow(b"r"))
    resp = await stub.GetWorkflowExecutionHistory(
        S.GetWorkflowExecutionHistoryRequest(
            namespace="default",
            execution=C.WorkflowExecution(workflow_id=wid),
            wait_new_event=True,
        ),
        timeout=5,
    )
    assert event_types(resp.history)[-1] == "WorkflowExecutionCompleted"
    assert resp.next_page_token == b""


# -- starting: idempotence and id reuse --------------------------------------------------------------


async def test_start_is_idempotent_per_request_id_and_exclusive_per_workflow_id(stub: Stub, task_queue: str) -> None:
    wid, request_id = new_id(), new_id("req")
    first = await start(stub, wid, task_queue, request_id=request_id)
    again = await start(stub, wid, task_queue, request_id=request_id)
    assert first.started and not again.started
    assert again.run_id == first.run_id

    err = await rpc_error(start(stub, wid, task_queue, request_id=new_id("req")))
    assert err.code() == grpc.StatusCode.ALREADY_EXISTS
    assert first.run_id in (err.details() or "")
    runs = await list_all(stub, f"WorkflowId = '{wid}'")
    assert [r.execution.run_id for r in runs] == [first.run_id]

    # Close the run; the same request id still answers with the same run.
    task = await next_workflow_task(stub, task_queue)
    await complete_workflow_task(stub, task.task_token, complete_workflow())
    again = await start(stub, wid, task_queue, request_id=request_id)
    assert (again.run_id, again.started) == (first.run_id, False)

    err = await rpc_error(
        start(
            stub,
            wid,
            task_queue,
            request_id=new_id("req"),
            workflow_id_reuse_policy=common_pb2.WORKFLOW_ID_REUSE_POLICY_REJECT_DUPLICATE,
        )
    )
    assert err.code() == grpc.StatusCode.ALREADY_EXISTS

    second = await start(
        stub,
        wid,
        task_queue,
        request_id=new_id("req"),
        workflow_id_reuse_policy=common_pb2.WORKFLOW_ID_REUSE_POLICY_ALLOW_DUPLICATE,
    )
    assert second.started and second.run_id != first.run_id
    latest = (await describe(stub, wid)).workflow_execution_info
    assert (latest.execution.run_id, latest.status) == (second.run_id, C.WORKFLOW_EXECUTION_STATUS_RUNNING)
    first_run = (await describe(stub, wid, first.run_id)).workflow_execution_info
    assert first_run.status == C.WORKFLOW_EXECUTION_STATUS_COMPLETED
    assert {r.execution.run_id for r in await list_all(stub, f"WorkflowId = '{wid}'")} == {first.run_id, second.run_id}


async def test_allow_duplicate_failed_only_refuses_after_success(stub: Stub, task_queue: str) -> None:
    wid = new_id()
    await start(stub, wid, task_queue)
    task = await next_workflow_task(stub, task_queue)
    await complete_workflow_task(stub, task.task_token, complete_workflow())
    err = await rpc_error(
        start(
            stub, wid, task_queue,
            workflow_id_reuse_policy=common_pb2.WORKFLOW_ID_REUSE_POLICY_ALLOW_DUPLICATE_FAILED_ONLY,
        )
    )
    assert err.code() == grpc.StatusCode.ALREADY_EXISTS


# -- bad input: the right status, no partial state, the server keeps serving ------------------------

LONG = "x" * 1001
MB = 1024 * 1024
INVALID = grpc.StatusCode.INVALID_ARGUMENT
Spoil = Callable[[S.StartWorkflowExecutionRequest], object]

# (case, how it spoils a good request, expected status, words the message must contain)
BAD_STARTS: list[tuple[str, Spoil, grpc.StatusCode, tuple[str, ...]]] = [
    ("empty workflow id", lambda r: setattr(r, "workflow_id", ""), INVALID, ("workflow_id",)),
    ("whitespace workflow id", lambda r: setattr(r, "workflow_id", "  \t "), INVALID, ("workflow_id",)),
    (
        "workflow id over 1000 characters",
        lambda r: setattr(r, "workflow_id", LONG),
        INVALID,
        ("workflow_id", "1,000", "--max-id-length"),
    ),
    ("empty task queue", lambda r: setattr(r.task_queue, "name", ""), INVALID, ("task_queue",)),
    (
        "task queue over 1000 characters",
        lambda r: setattr(r.task_queue, "name", LONG),
        INVALID,
        ("task_queue", "1,000"),
    ),
    ("empty workflow type", lambda r: setattr(r.workflow_type, "name", ""), INVALID, ("workflow_type",)),
    (
        "negative run timeout",
        lambda r: r.workflow_run_timeout.CopyFrom(Duration(seconds=-1)),
        INVALID,
        ("workflow_run_timeout",),
    ),
    (
        "negative task timeout",
        lambda r: r.workflow_task_timeout.CopyFrom(Duration(nanos=-5)),
        INVALID,
        ("workflow_task_timeout",),
    ),
    ("missing namespace", lambda r: setattr(r, "namespace", ""), INVALID, ("namespace",)),
    (
        "input over the 2 MB payload limit",
        lambda r: r.input.CopyFrom(payloads(b"x" * (2 * MB + 1))),
        grpc.StatusCode.RESOURCE_EXHAUSTED,
        ("2,097,152", "--max-payload-bytes"),
    ),
    (
        "message over the 4 MB gRPC limit",
        lambda r: r.input.CopyFrom(payloads(b"x" * (5 * MB))),
        grpc.StatusCode.RESOURCE_EXHAUSTED,
        (),
    ),
]


@pytest.mark.parametrize(("spoil", "code", "words"), [c[1:] for c in BAD_STARTS], ids=[c[0] for c in BAD_STARTS])
async def test_bad_start_is_refused_and_leaves_nothing_behind(
    stub: Stub, task_queue: str, spoil: Spoil, code: grpc.StatusCode, words: tuple[str, ...]
) -> None:
    wid = new_id()
    request = start_request(wid, task_queue)
    spoil(request)
    err = await rpc_error(stub.StartWorkflowExecution(request, timeout=10))
    assert err.code() == code, err.details()
    for word in words:
        assert word in (err.details() or ""), f"{word!r} not in {err.details()!r}"

    # Nothing was created: no run on the queue, none under the id, no task to poll.
    assert await list_all(stub, f"TaskQueue = '{task_queue}'") == []
    assert (await rpc_error(describe(stub, wid))).code() == grpc.StatusCode.NOT_FOUND
    assert not (await poll_workflow_task(stub, task_queue, timeout=1.5)).task_token

    # The server keeps serving: the good request works.
    ok = await start(stub, wid, task_queue)
    assert ok.started
    task = await next_workflow_task(stub, task_queue)
    assert task.workflow_execution.run_id == ok.run_id


async def test_ids_at_the_length_limit_are_accepted(stub: Stub) -> None:
    wid = "w" * 968 + uuid.uuid4().hex
    tq = "q" * 968 + uuid.uuid4().hex
    assert len(wid) == len(tq) == 1000
    ok = await start(stub, wid, tq)
    task = await next_workflow_task(stub, tq)
    assert task.workflow_execution.workflow_id == wid
    await complete_workflow_task(stub, task.task_token, complete_workflow())
    assert (
        await describe(stub, wid, ok.run_id)
    ).workflow_execution_info.status == C.WORKFLOW_EXECUTION_STATUS_COMPLETED


async def test_id_limits_count_utf8_bytes(stub: Stub, task_queue: str) -> None:
    # 1,000 bytes of four-byte characters are accepted and stored ...
    wid = "\U0001f600" * 245 + uuid.uuid4().hex[:20]
    assert len(wid.encode()) == 1000
    ok = await start(stub, wid, task_queue)
    task = await next_workflow_task(stub, task_queue)
    assert task.workflow_execution.workflow_id == wid
    await complete_workflow_task(stub, task.task_token, complete_workflow())
    assert (
        await describe(stub, wid, ok.run_id)
    ).workflow_execution_info.status == C.WORKFLOW_EXECUTION_STATUS_COMPLETED

    # ... 1,000 characters of three bytes each are refused up front, not by the database.
    cjk = "".join(chr(0x4E00 + (i * 7919) % 20000) for i in range(1000))
    err = await rpc_error(start(stub, cjk, task_queue))
    assert err.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert "--max-id-length" in (err.details() or "")
    err = await rpc_error(start(stub, new_id(), cjk))
    assert err.code() == grpc.StatusCode.INVALID_ARGUMENT


@pytest.mark.parametrize(
    "spoil",
    [
        lambda r: setattr(r, "workflow_id", "a\x00b"),
        lambda r: setattr(r.task_queue, "name", "q\x00"),
        lambda r: setattr(r.workflow_type, "name", "\x00"),
        lambda r: r.workflow_run_timeout.CopyFrom(Duration(seconds=300_000_000_000)),
        lambda r: r.workflow_execution_timeout.CopyFrom(Duration(seconds=2**62)),
    ],
    ids=[
        "NUL in workflow id",
        "NUL in task queue",
        "NUL in workflow type",
        "run timeout of 9,500 years",
        "execution timeout past the end of time",
    ],
)
async def test_values_the_database_or_clock_cannot_hold_are_invalid_arguments(
    stub: Stub, task_queue: str, spoil: Spoil
) -> None:
    wid = new_id()
    request = start_request(wid, task_queue)
    spoil(request)
    err = await rpc_error(stub.StartWorkflowExecution(request, timeout=10))
    assert err.code() == grpc.StatusCode.INVALID_ARGUMENT, err.details()
    assert await list_all(stub, f"TaskQueue = '{task_queue}'") == []


async def test_garbage_and_unknown_task_tokens_are_refused(stub: Stub, server: Server, task_queue: str) -> None:
    for garbage in (b"\xff\xfe garbage \x00\x01", b"\x0a\x03abc", b""):
        err = await rpc_error(
            stub.RespondWorkflowTaskCompleted(S.RespondWorkflowTaskCompletedRequest(task_token=garbage), timeout=10)
        )
        assert err.code() == grpc.StatusCode.INVALID_ARGUMENT, garbage
        err = await rpc_error(
            stub.RespondActivityTaskCompleted(S.RespondActivityTaskCompletedRequest(task_token=garbage), timeout=10)
        )
        assert err.code() == grpc.StatusCode.INVALID_ARGUMENT, garbage
        err = await rpc_error(
            stub.RespondActivityTaskFailed(S.RespondActivityTaskFailedRequest(task_token=garbage), timeout=10)
        )
        assert err.code() == grpc.StatusCode.INVALID_ARGUMENT, garbage

    # Well-formed, but for a run that does not exist: unsigned, it is no token at all; signed by the
    # server, the run is not found.
    unsigned = internal_pb2.TaskToken(
        namespace="default",
        workflow_id=new_id("ghost"),
        run_id=str(uuid.uuid4()),
        scheduled_event_id=2,
        started_event_id=3,
        attempt=1,
    )
    err = await rpc_error(complete_workflow_task(stub, unsigned.SerializeToString(), complete_workflow()))
    assert err.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert server.history is not None
    ghost = server.history.tokens.sign(unsigned)
    err = await rpc_error(complete_workflow_task(stub, ghost, complete_workflow()))
    assert err.code() == grpc.StatusCode.NOT_FOUND
    err = await rpc_error(
        stub.RespondActivityTaskCompleted(S.RespondActivityTaskCompletedRequest(task_token=ghost), timeout=10)
    )
    assert err.code() == grpc.StatusCode.NOT_FOUND
    err = await rpc_error(
        stub.RespondWorkflowTaskFailed(S.RespondWorkflowTaskFailedRequest(task_token=ghost), timeout=10)
    )
    assert err.code() == grpc.StatusCode.NOT_FOUND

    # The server still serves.
    wid = new_id()
    await start(stub, wid, task_queue)
    assert (await next_workflow_task(stub, task_queue)).workflow_execution.workflow_id == wid


async def test_a_workflow_task_is_answered_once(stub: Stub, task_queue: str) -> None:
    wid = new_id()
    await start(stub, wid, task_queue)
    task = await next_workflow_task(stub, task_queue)
    await complete_workflow_task(stub, task.task_token, schedule_activity("a", start_to_close=30))
    err = await rpc_error(complete_workflow_task(stub, task.task_token, complete_workflow()))
    assert err.code() == grpc.StatusCode.NOT_FOUND
    history = await fetch_history(stub, wid)
    assert event_types(history).count("WorkflowTaskCompleted") == 1
    assert "WorkflowExecutionCompleted" not in event_types(history)
    assert (await describe(stub, wid)).workflow_execution_info.status == C.WORKFLOW_EXECUTION_STATUS_RUNNING


async def test_an_activity_task_is_answered_once(stub: Stub, task_queue: str) -> None:
    wid = new_id()
    await start(stub, wid, task_queue)
    task = await next_workflow_task(stub, task_queue)
    await complete_workflow_task(stub, task.task_token, schedule_activity("a", start_to_close=30))
    act = await next_activity_task(stub, task_queue)
    await stub.RespondActivityTaskCompleted(
        S.RespondActivityTaskCompletedRequest(task_token=act.task_token, result=payloads(b"1")), timeout=10
    )
    err = await rpc_error(
        stub.RespondActivityTaskFailed(
            S.RespondActivityTaskFailedRequest(task_token=act.task_token, failure=application_failure("late")),
            timeout=10,
        )
    )
    assert err.code() == grpc.StatusCode.NOT_FOUND
    history = await fetch_history(stub, wid)
    assert event_types(history).count("ActivityTaskCompleted") == 1
    assert "ActivityTaskFailed" not in event_types(history)


def _bad_commands() -> list[tuple[str, command_pb2.Command]]:
    no_timeouts = schedule_activity("a", start_to_close=None)
    return [
        ("activity without timeouts", no_timeouts),
        ("activity without id", schedule_activity("")),
        ("activity without type", schedule_activity("a", "")),
        ("activity with a negative timeout", schedule_activity("a", start_to_close=-1)),
        ("activity with a bad retry policy", schedule_activity("a", retry=C.RetryPolicy(backoff_coefficient=0.5))),
        ("activity with a NaN back-off", schedule_activity("a", retry=C.RetryPolicy(backoff_coefficient=float("nan")))),
        ("activity with a 9,500 year timeout", schedule_activity("a", start_to_close=300_000_000_000)),
        (
            "activity with a 9,500 year retry interval",
            schedule_activity("a", retry=C.RetryPolicy(initial_interval=Duration(seconds=300_000_000_000))),
        ),
        ("activity on a task queue with NUL", schedule_activity("a", task_queue="q\x00")),
        ("activity on a task queue over 1000 bytes", schedule_activity("a", task_queue="\u00e9" * 501)),
        ("command without attributes", command_pb2.Command(command_type=command_pb2.COMMAND_TYPE_START_TIMER)),
        (
            "timer with NUL in its id",
            command_pb2.Command(
                command_type=command_pb2.COMMAND_TYPE_START_TIMER,
                start_timer_command_attributes=command_pb2.StartTimerCommandAttributes(
                    timer_id="t\x00", start_to_fire_timeout=Duration(seconds=60)
                ),
            ),
        ),
    ]


@pytest.mark.parametrize("command", [c[1] for c in _bad_commands()], ids=[c[0] for c in _bad_commands()])
async def test_a_bad_command_fails_the_workflow_task_and_a_new_one_follows(
    stub: Stub, task_queue: str, command: command_pb2.Command
) -> None:
    wid = new_id()
    await start(stub, wid, task_queue)
    task = await next_workflow_task(stub, task_queue)
    err = await rpc_error(complete_workflow_task(stub, task.task_token, command))
    assert err.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert "command 0" in (err.details() or "")

    retry = await next_workflow_task(stub, task_queue)
    assert retry.attempt == 2
    assert event_types(retry.history) == [
        "WorkflowExecutionStarted",
        "WorkflowTaskScheduled",
        "WorkflowTaskStarted",
        "WorkflowTaskFailed",
        "WorkflowTaskScheduled",
        "WorkflowTaskStarted",
    ]
    failed = events_of(retry.history, "WorkflowTaskFailed")[0].workflow_task_failed_event_attributes
    assert failed.cause == C.WORKFLOW_TASK_FAILED_CAUSE_BAD_COMMAND_ATTRIBUTES
    assert failed.failure.message
    assert "ActivityTaskScheduled" not in event_types(retry.history)
    assert not (await describe(stub, wid)).pending_activities

    # A good answer to the new task is accepted.
    await complete_workflow_task(stub, retry.task_token, complete_workflow(b"ok"))
    assert (await describe(stub, wid)).workflow_execution_info.status == C.WORKFLOW_EXECUTION_STATUS_COMPLETED


async def test_a_completion_command_must_come_last(stub: Stub, task_queue: str) -> None:
    wid = new_id()
    await start(stub, wid, task_queue)
    task = await next_workflow_task(stub, task_queue)
    err = await rpc_error(complete_workflow_task(stub, task.task_token, complete_workflow(), schedule_activity("a")))
    assert err.code() == grpc.StatusCode.INVALID_ARGUMENT
    desc = await describe(stub, wid)
    assert desc.workflow_execution_info.status == C.WORKFLOW_EXECUTION_STATUS_RUNNING
    assert not desc.pending_activities


@pytest.mark.parametrize(
    "query",
    ["Colour = 'red'", "WorkflowType = 'X' LIMIT 5", "ExecutionStatus = 'Sleeping'", "WorkflowType ="],
)
async def test_bad_list_query_is_refused(stub: Stub, query: str) -> None:
    err = await rpc_error(
        stub.ListWorkflowExecutions(S.ListWorkflowExecutionsRequest(namespace="default", query=query), timeout=10)
    )
    assert err.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert err.details()


async def test_unknown_runs_are_not_found(stub: Stub) -> None:
    wid = new_id("nobody")
    assert (await rpc_error(describe(stub, wid))).code() == grpc.StatusCode.NOT_FOUND
    assert (await rpc_error(fetch_history(stub, wid))).code() == grpc.StatusCode.NOT_FOUND
    assert (await rpc_error(describe(stub, wid, str(uuid.uuid4())))).code() == grpc.StatusCode.NOT_FOUND


async def test_bad_poll_requests_are_refused(stub: Stub) -> None:
    for request in (
        S.PollWorkflowTaskQueueRequest(namespace="default"),
        S.PollWorkflowTaskQueueRequest(task_queue=C.TaskQueue(name="q")),
        S.PollWorkflowTaskQueueRequest(namespace="default", task_queue=C.TaskQueue(name=LONG)),
    ):
        err = await rpc_error(stub.PollWorkflowTaskQueue(request, timeout=5))
        assert err.code() == grpc.StatusCode.INVALID_ARGUMENT
    err = await rpc_error(stub.PollActivityTaskQueue(S.PollActivityTaskQueueRequest(namespace="default"), timeout=5))
    assert err.code() == grpc.StatusCode.INVALID_ARGUMENT


# -- timeouts the server enforces ------------------------------------------------------------------


async def test_activity_start_to_close_timeout_retries_then_times_out(stub: Stub, task_queue: str) -> None:
    wid = new_id()
    await start(stub, wid, task_queue)
    task = await next_workflow_task(stub, task_queue)
    await complete_workflow_task(
        stub,
        task.task_token,
        schedule_activity("slow", start_to_close=1, retry=retry_policy(initial=0.1, maximum_attempts=2)),
    )
    first = await next_activity_task(stub, task_queue)
    assert first.attempt == 1  # taken, never answered
    second = await next_activity_task(stub, task_queue, within=10)
    assert (second.activity_id, second.attempt) == ("slow", 2)  # taken, never answered

    task = await next_workflow_task(stub, task_queue, within=10)
    types = event_types(task.history)
    assert types[-5:] == [
        "ActivityTaskScheduled",
        "ActivityTaskStarted",
        "ActivityTaskTimedOut",
        "WorkflowTaskScheduled",
        "WorkflowTaskStarted",
    ]
    timed_out = events_of(task.history, "ActivityTaskTimedOut")[0].activity_task_timed_out_event_attributes
    assert timed_out.retry_state == C.RETRY_STATE_MAXIMUM_ATTEMPTS_REACHED
    assert timed_out.failure.timeout_failure_info.timeout_type == C.TIMEOUT_TYPE_START_TO_CLOSE
    assert events_of(task.history, "ActivityTaskStarted")[0].activity_task_started_event_attributes.attempt == 2

    # The late answer of the last attempt is refused; the workflow goes on.
    err = await rpc_error(
        stub.RespondActivityTaskCompleted(
            S.RespondActivityTaskCompletedRequest(task_token=second.task_token), timeout=10
        )
    )
    assert err.code() == grpc.StatusCode.NOT_FOUND
    await complete_workflow_task(stub, task.task_token, complete_workflow())
    assert event_types(await fetch_history(stub, wid)).count("ActivityTaskTimedOut") == 1


async def test_activity_schedule_to_close_timeout_fires_with_nobody_polling(stub: Stub, task_queue: str) -> None:
    wid = new_id()
    nobody_polls = f"{task_queue}-activities"
    await start(stub, wid, task_queue)
    task = await next_workflow_task(stub, task_queue)
    await complete_workflow_task(
        stub,
        task.task_token,
        schedule_activity("never", task_queue=nobody_polls, start_to_close=None, schedule_to_close=1),
    )
    task = await next_workflow_task(stub, task_queue, within=10)
    assert event_types(task.history)[-4:] == [
        "ActivityTaskScheduled",
        "ActivityTaskTimedOut",
        "WorkflowTaskScheduled",
        "WorkflowTaskStarted",
    ]
    timed_out = events_of(task.history, "ActivityTaskTimedOut")[0].activity_task_timed_out_event_attributes
    assert timed_out.failure.timeout_failure_info.timeout_type == C.TIMEOUT_TYPE_SCHEDULE_TO_CLOSE
    assert timed_out.retry_state == C.RETRY_STATE_TIMEOUT
    assert timed_out.started_event_id == 0
    # The activity is gone from its queue too.
    assert not (await poll_activity_task(stub, nobody_polls, timeout=1.5)).task_token
    await complete_workflow_task(stub, task.task_token, complete_workflow())


async def test_an_activity_keeps_retrying_past_the_point_its_back_off_stops_growing(
    stub: Stub, task_queue: str
) -> None:
    # Unlimited attempts, back-off doubling from 1 ms and capped at 5 ms: by attempt 60 the uncapped
    # back-off would be 2**59 ms, far more than any clock can hold.
    wid = new_id()
    await start(stub, wid, task_queue)
    task = await next_workflow_task(stub, task_queue)
    policy = C.RetryPolicy(initial_interval=dur(0.001), backoff_coefficient=2.0, maximum_interval=dur(0.005))
    await complete_workflow_task(stub, task.task_token, schedule_activity("flaky", retry=policy))
    for attempt in range(1, 61):
        act = await next_activity_task(stub, task_queue)
        assert act.attempt == attempt
        await stub.RespondActivityTaskFailed(
            S.RespondActivityTaskFailedRequest(task_token=act.task_token, failure=application_failure(f"#{attempt}")),
            timeout=10,
        )
    act = await next_activity_task(stub, task_queue)
    assert act.attempt == 61
    await stub.RespondActivityTaskCompleted(
        S.RespondActivityTaskCompletedRequest(task_token=act.task_token, result=payloads(b"at last")), timeout=10
    )
    task = await next_workflow_task(stub, task_queue)
    started_attrs = events_of(task.history, "ActivityTaskStarted")[0].activity_task_started_event_attributes
    assert (started_attrs.attempt, started_attrs.last_failure.message) == (61, "#60")
    await complete_workflow_task(stub, task.task_token, complete_workflow())


async def test_workflow_task_timeout_schedules_a_new_attempt(stub: Stub, task_queue: str) -> None:
    wid = new_id()
    await start(stub, wid, task_queue, workflow_task_timeout=dur(1))
    first = await next_workflow_task(stub, task_queue)
    assert first.attempt == 1  # taken, never answered

    second = await next_workflow_task(stub, task_queue, within=10)
    assert second.attempt == 2
    assert event_types(second.history) == [
        "WorkflowExecutionStarted",
        "WorkflowTaskScheduled",
        "WorkflowTaskStarted",
        "WorkflowTaskTimedOut",
        "WorkflowTaskScheduled",
        "WorkflowTaskStarted",
    ]
    timed_out = events_of(second.history, "WorkflowTaskTimedOut")[0].workflow_task_timed_out_event_attributes
    assert (timed_out.scheduled_event_id, timed_out.started_event_id) == (2, 3)
    assert timed_out.timeout_type == C.TIMEOUT_TYPE_START_TO_CLOSE
    scheduled = second.history.events[4].workflow_task_scheduled_event_attributes
    assert scheduled.attempt == 2

    # The first attempt's answer comes too late; the second's is taken.
    err = await rpc_error(complete_workflow_task(stub, first.task_token, complete_workflow()))
    assert err.code() == grpc.StatusCode.NOT_FOUND
    await complete_workflow_task(stub, second.task_token, complete_workflow(b"second"))
    assert (await describe(stub, wid)).result.payloads[0].data == b"second"


async def test_workflow_run_timeout_closes_the_run(stub: Stub, task_queue: str) -> None:
    wid = new_id()
    await start(stub, wid, task_queue, workflow_run_timeout=dur(1))
    closed = await stub.GetWorkflowExecutionHistory(
        S.GetWorkflowExecutionHistoryRequest(
            namespace="default",
            execution=C.WorkflowExecution(workflow_id=wid),
            wait_new_event=True,
            history_event_filter_type=S.HISTORY_EVENT_FILTER_TYPE_CLOSE_EVENT,
        ),
        timeout=15,
    )
    assert event_types(closed.history) == ["WorkflowExecutionTimedOut"]
    assert (await describe(stub, wid)).workflow_execution_info.status == C.WORKFLOW_EXECUTION_STATUS_TIMED_OUT
    # Its workflow task went with it.
    assert not (await poll_workflow_task(stub, task_queue, timeout=1.5)).task_token


# -- visibility ------------------------------------------------------------------------------------


async def test_list_filters_by_type_and_status_and_pages_without_duplicates(stub: Stub, task_queue: str) -> None:
    wtype = f"Listed{uuid.uuid4().hex[:8]}"
    running = set()
    for i in range(5):
        running.add((await start(stub, new_id(f"list{i}"), task_queue, workflow_type=wtype)).run_id)
    other = await start(stub, new_id("other-type"), task_queue, workflow_type=wtype + "Other")

    # One more of the type, completed: the status filter must leave it out.
    done_id = new_id("done")
    done = await start(stub, done_id, f"{task_queue}-done", workflow_type=wtype)
    task = await next_workflow_task(stub, f"{task_queue}-done")
    await complete_workflow_task(stub, task.task_token, complete_workflow())

    query = f"WorkflowType = '{wtype}' AND ExecutionStatus = 'Running'"
    pages: list[list[str]] = []
    token = b""
    while True:
        resp = await stub.ListWorkflowExecutions(
            S.ListWorkflowExecutionsRequest(namespace="default", query=query, page_size=2, next_page_token=token),
            timeout=10,
        )
        pages.append([e.execution.run_id for e in resp.executions])
        assert all(e.type.name == wtype and e.status == C.WORKFLOW_EXECUTION_STATUS_RUNNING for e in resp.executions)
        token = resp.next_page_token
        if not token:
            break
        assert len(pages) < 10
    listed = [r for page in pages for r in page]
    assert all(len(page) <= 2 for page in pages)
    assert len(listed) == len(set(listed)) == 5
    assert set(listed) == running

    everything = {e.execution.run_id for e in await list_all(stub, f"WorkflowType = '{wtype}'")}
    assert everything == running | {done.run_id}
    assert other.run_id not in everything
    completed = await list_all(stub, f"WorkflowType = '{wtype}' AND ExecutionStatus = 'Completed'")
    assert [(e.execution.workflow_id, e.execution.run_id) for e in completed] == [(done_id, done.run_id)]
    by_queue = await list_all(stub, f'TaskQueue = "{task_queue}"', page_size=4)
    assert {e.execution.run_id for e in by_queue} == running | {other.run_id}


async def test_list_rejects_a_malformed_page_token(stub: Stub) -> None:
    err = await rpc_error(
        stub.ListWorkflowExecutions(
            S.ListWorkflowExecutionsRequest(namespace="default", next_page_token=b"\xffnot a token"), timeout=10
        )
    )
    assert err.code() == grpc.StatusCode.INVALID_ARGUMENT


# -- long polls and matching -----------------------------------------------------------------------


async def test_a_waiting_poller_gets_a_new_task(stub: Stub, task_queue: str) -> None:
    poll = asyncio.ensure_future(poll_workflow_task(stub, task_queue, timeout=30))
    wid = new_id()
    started = await start(stub, wid, task_queue)
    task = await asyncio.wait_for(poll, 20)
    assert task.task_token
    assert (task.workflow_execution.workflow_id, task.workflow_execution.run_id) == (wid, started.run_id)


async def test_a_waiting_activity_poller_gets_a_new_task(stub: Stub, task_queue: str) -> None:
    await start(stub, new_id(), task_queue)
    task = await next_workflow_task(stub, task_queue)
    poll = asyncio.ensure_future(poll_activity_task(stub, task_queue, timeout=30))
    await complete_workflow_task(stub, task.task_token, schedule_activity("a", input=b"x"))
    act = await asyncio.wait_for(poll, 20)
    assert (act.activity_id, act.input.payloads[0].data) == ("a", b"x")


async def test_a_poll_ends_empty_before_its_deadline(stub: Stub, task_queue: str) -> None:
    loop = asyncio.get_running_loop()
    began = loop.time()
    resp = await poll_workflow_task(stub, task_queue, timeout=2)
    assert resp == S.PollWorkflowTaskQueueResponse()
    resp = await poll_activity_task(stub, task_queue, timeout=2)
    assert resp == S.PollActivityTaskQueueResponse()
    assert loop.time() - began < 4.0


async def test_a_cancelled_poll_does_not_lose_the_task(stub: Stub, task_queue: str) -> None:
    # Pollers go away (their calls cancelled) just as a task arrives; the task still reaches a worker.
    # A task the server started for a poller that was gone comes back after the workflow task timeout.
    polls = [asyncio.ensure_future(poll_workflow_task(stub, task_queue, timeout=30)) for _ in range(3)]
    wid = new_id()
    start_call = asyncio.ensure_future(start(stub, wid, task_queue, workflow_task_timeout=dur(1)))
    for p in polls:
        p.cancel()
    results = await asyncio.gather(*polls, return_exceptions=True)
    await start_call
    delivered = [r for r in results if isinstance(r, S.PollWorkflowTaskQueueResponse) and r.task_token]
    assert len(delivered) <= 1
    task = delivered[0] if delivered else await next_workflow_task(stub, task_queue)
    assert task.workflow_execution.workflow_id == wid
    await complete_workflow_task(stub, task.task_token, complete_workflow())
    assert (await describe(stub, wid)).workflow_execution_info.status == C.WORKFLOW_EXECUTION_STATUS_COMPLETED


async def test_two_pollers_racing_get_each_task_exactly_once(stub: Stub, task_queue: str) -> None:
    n = 50
    delivered: Counter[str] = Counter()
    by_poller: Counter[str] = Counter()
    completed: list[str] = []
    all_done = asyncio.Event()

    async def poller(name: str) -> None:
        while not all_done.is_set():
            task = await poll_workflow_task(stub, task_queue, timeout=3, identity=name)
            if not task.task_token:
                continue
            delivered[task.workflow_execution.workflow_id] += 1
            by_poller[name] += 1
            await complete_workflow_task(stub, task.task_token, complete_workflow())
            completed.append(task.workflow_execution.workflow_id)
            if len(completed) >= n:
                all_done.set()

    pollers = [asyncio.ensure_future(poller(f"poller-{i}")) for i in range(2)]
    ids = [new_id(f"race{i}") for i in range(n)]
    try:
        await asyncio.gather(*(start(stub, wid, task_queue) for wid in ids))
        await asyncio.wait_for(all_done.wait(), 60)
    finally:
        for p in pollers:
            p.cancel()
        await asyncio.gather(*pollers, return_exceptions=True)
    assert sorted(delivered) == sorted(ids)
    assert set(delivered.values()) == {1}
    assert sum(by_poller.values()) == n
    assert not (await poll_workflow_task(stub, task_queue, timeout=1.5)).task_token
    statuses = {e.status for e in await list_all(stub, f"TaskQueue = '{task_queue}'")}
    assert statuses == {C.WORKFLOW_EXECUTION_STATUS_COMPLETED}


async def test_get_system_info(stub: Stub) -> None:
    info = await stub.GetSystemInfo(S.GetSystemInfoRequest(), timeout=5)
    assert info.server_version


async def test_describe_says_when_a_backing_off_activity_is_tried_next(stub: Stub, task_queue: str) -> None:
    wid = new_id()
    await start(stub, wid, task_queue)
    task = await next_workflow_task(stub, task_queue)
    await complete_workflow_task(
        stub, task.task_token, schedule_activity("act-1", "Greet", start_to_close=10, retry=retry_policy(initial=60)),
    )
    attempt1 = await next_activity_task(stub, task_queue)
    before = datetime.now(UTC)
    await stub.RespondActivityTaskFailed(
        S.RespondActivityTaskFailedRequest(task_token=attempt1.task_token, failure=application_failure("boom")),
        timeout=10,
    )
    after = datetime.now(UTC)
    [pending] = (await describe(stub, wid)).pending_activities
    assert (pending.state, pending.attempt) == (S.PENDING_ACTIVITY_STATE_BACKING_OFF, 2)
    # The retry policy's first back-off is 60 s from the failure.
    next_try = pending.next_attempt_schedule_time.ToDatetime(UTC)
    assert before + timedelta(seconds=60) <= next_try <= after + timedelta(seconds=60)
