"""Workflows and activities end to end through the SDK: real worker, real server, real PostgreSQL."""

from __future__ import annotations

import asyncio
import threading
from dataclasses import dataclass
from datetime import datetime, timedelta

import pytest

from tests.helpers import assert_eventually
from wf.v1 import history_pb2
from worker_sdk import Client, RetryPolicy, Worker, WorkflowExecutionStatus, activity, workflow
from worker_sdk._converter import DataConverter
from worker_sdk._definition import WorkflowDefinition
from worker_sdk._replay import WorkflowTaskInput, event_name, run_workflow_task
from worker_sdk.errors import (
    ActivityError,
    ApplicationError,
    RetryState,
    TimeoutError,
    TimeoutType,
    WorkflowAlreadyStartedError,
    WorkflowFailureError,
)

FAST_RETRY = RetryPolicy(initial_interval=timedelta(milliseconds=50), maximum_interval=timedelta(milliseconds=200))
SECONDS_5 = timedelta(seconds=5)


# -- workflows and activities used below ---------------------------------------------------------


@activity.defn
async def greet(name: str) -> str:
    return f"Hello, {name}!"


@workflow.defn
class Greeting:
    @workflow.run
    async def run(self, name: str) -> str:
        return await workflow.execute_activity(greet, name, start_to_close_timeout=SECONDS_5)


@activity.defn
async def flaky(fail_times: int) -> int:
    attempt = activity.info().attempt
    if attempt <= fail_times:
        raise RuntimeError(f"attempt {attempt} fails")
    return attempt


@workflow.defn
class Flaky:
    @workflow.run
    async def run(self, fail_times: int, max_attempts: int) -> int:
        return await workflow.execute_activity(
            flaky,
            fail_times,
            start_to_close_timeout=SECONDS_5,
            retry_policy=RetryPolicy(
                initial_interval=timedelta(milliseconds=50), maximum_attempts=max_attempts
            ),
        )


@dataclass
class Order:
    id: str
    amount: float
    placed: datetime


@dataclass
class Receipt:
    order_id: str
    total: float
    thread: str


@activity.defn
def charge(order: Order) -> Receipt:
    # A plain def runs in a thread; activity.info() works there too.
    assert activity.info().activity_type == "charge"
    return Receipt(order.id, round(order.amount * 1.2, 2), threading.current_thread().name)


@workflow.defn(name="checkout")
class Checkout:
    @workflow.run
    async def run(self, order: Order) -> Receipt:
        return await workflow.execute_activity(charge, order, start_to_close_timeout=SECONDS_5)


@activity.defn
async def refuse(reason: str) -> None:
    raise ApplicationError(f"refused: {reason}", {"code": 42}, type="CardDeclined", non_retryable=True)


@workflow.defn
class Refused:
    @workflow.run
    async def run(self) -> None:
        await workflow.execute_activity(refuse, "no funds", start_to_close_timeout=SECONDS_5)


@activity.defn
async def declined() -> None:
    raise ApplicationError("declined", type="Declined")


@workflow.defn
class NonRetryableType:
    @workflow.run
    async def run(self) -> None:
        await workflow.execute_activity(
            declined,
            start_to_close_timeout=SECONDS_5,
            retry_policy=RetryPolicy(non_retryable_error_types=["Declined"]),
        )


@workflow.defn
class Fanout:
    @workflow.run
    async def run(self, n: int) -> list[str]:
        handles = [
            workflow.start_activity(greet, f"n{i}", start_to_close_timeout=SECONDS_5) for i in range(n)
        ]
        return list(await asyncio.gather(*handles))


@workflow.defn
class Deterministic:
    @workflow.run
    async def run(self) -> list[str]:
        before = [str(workflow.uuid4()), str(workflow.random().randint(0, 10**9)), workflow.now().isoformat()]
        await workflow.execute_activity(greet, "x", start_to_close_timeout=SECONDS_5)
        info = workflow.info()
        return before + [str(workflow.uuid4()), info.workflow_type, info.task_queue, str(info.history_length)]


@workflow.defn
async def plain_function_workflow(a: int, b: int) -> int:
    return a + b


@workflow.defn
class WorkflowFails:
    @workflow.run
    async def run(self) -> None:
        raise ApplicationError("business rule broken", type="RuleBroken")


BUG_FIXED = threading.Event()


@workflow.defn
class Buggy:
    @workflow.run
    async def run(self) -> str:
        first = await workflow.execute_activity(greet, "a", start_to_close_timeout=SECONDS_5)
        if not BUG_FIXED.is_set():
            raise KeyError("missing key: a bug in workflow code")
        return first


@activity.defn
async def slow_then_fast(delay: float) -> int:
    attempt = activity.info().attempt
    if attempt == 1:
        await asyncio.sleep(delay)
    return attempt


@workflow.defn
class StartToClose:
    @workflow.run
    async def run(self) -> int:
        return await workflow.execute_activity(
            slow_then_fast, 10.0, start_to_close_timeout=timedelta(seconds=1), retry_policy=FAST_RETRY
        )


@workflow.defn
class BigResult:
    @workflow.run
    async def run(self) -> str:
        return "x" * (3 * 1024 * 1024)


# -- tests ---------------------------------------------------------------------------------------


async def test_hello_workflow_runs_end_to_end(client: Client, task_queue: str) -> None:
    async with Worker(client, task_queue=task_queue, workflows=[Greeting], activities=[greet]):
        handle = await client.start_workflow(Greeting.run, "world", id=f"hello-{task_queue}", task_queue=task_queue)
        assert await handle.result() == "Hello, world!"
    history = await handle.fetch_history()
    assert [event_name(e.event_type) for e in history.events] == [
        "WorkflowExecutionStarted",
        "WorkflowTaskScheduled",
        "WorkflowTaskStarted",
        "WorkflowTaskCompleted",
        "ActivityTaskScheduled",
        "ActivityTaskStarted",
        "ActivityTaskCompleted",
        "WorkflowTaskScheduled",
        "WorkflowTaskStarted",
        "WorkflowTaskCompleted",
        "WorkflowExecutionCompleted",
    ]
    assert [e.event_id for e in history.events] == list(range(1, 12))
    desc = await handle.describe()
    assert desc.status == WorkflowExecutionStatus.COMPLETED
    assert desc.workflow_type == "Greeting"
    assert desc.history_length == 11


async def test_activity_retries_with_attempt_numbers(client: Client, task_queue: str) -> None:
    async with Worker(client, task_queue=task_queue, workflows=[Flaky], activities=[flaky]):
        result = await client.execute_workflow(Flaky.run, 2, 0, id=f"flaky-{task_queue}", task_queue=task_queue)
    assert result == 3  # attempts 1 and 2 failed, the third succeeded
    history = await client.get_workflow_handle(f"flaky-{task_queue}").fetch_history()
    started = [e for e in history.events if e.event_type == history_pb2.EVENT_TYPE_ACTIVITY_TASK_STARTED]
    assert len(started) == 1 and started[0].activity_task_started_event_attributes.attempt == 3
    assert "attempt 2 fails" in started[0].activity_task_started_event_attributes.last_failure.message


async def test_maximum_attempts_ends_in_activity_error(client: Client, task_queue: str) -> None:
    async with Worker(client, task_queue=task_queue, workflows=[Flaky], activities=[flaky]):
        with pytest.raises(WorkflowFailureError) as info:
            await client.execute_workflow(Flaky.run, 5, 2, id=f"max-{task_queue}", task_queue=task_queue)
    error = info.value.cause
    assert isinstance(error, ActivityError)
    assert error.activity_type == "flaky"
    assert error.retry_state == RetryState.MAXIMUM_ATTEMPTS_REACHED
    assert isinstance(error.cause, ApplicationError)
    assert error.cause.type == "RuntimeError"
    assert "attempt 2 fails" in str(error.cause)


async def test_application_error_crosses_the_wire_intact(client: Client, task_queue: str) -> None:
    async with Worker(client, task_queue=task_queue, workflows=[Refused], activities=[refuse]):
        with pytest.raises(WorkflowFailureError) as info:
            await client.execute_workflow(Refused.run, id=f"refused-{task_queue}", task_queue=task_queue)
    activity_error = info.value.cause
    assert isinstance(activity_error, ActivityError)
    assert activity_error.activity_type == "refuse" and activity_error.activity_id == "1"
    app = activity_error.cause
    assert isinstance(app, ApplicationError)
    assert (app.message, app.type, app.non_retryable, list(app.details)) == (
        "refused: no funds",
        "CardDeclined",
        True,
        [{"code": 42}],
    )
    assert activity_error.retry_state == RetryState.NON_RETRYABLE_FAILURE


async def test_non_retryable_error_types_stop_retries(client: Client, task_queue: str) -> None:
    async with Worker(client, task_queue=task_queue, workflows=[NonRetryableType], activities=[declined]):
        with pytest.raises(WorkflowFailureError) as info:
            await client.execute_workflow(NonRetryableType.run, id=f"nrt-{task_queue}", task_queue=task_queue)
    assert isinstance(info.value.cause, ActivityError)
    assert info.value.cause.retry_state == RetryState.NON_RETRYABLE_FAILURE


async def test_dataclasses_and_sync_activities(client: Client, task_queue: str) -> None:
    order = Order("o-1", 10.0, datetime(2026, 1, 2, 3, 4, 5))
    async with Worker(client, task_queue=task_queue, workflows=[Checkout], activities=[charge]):
        receipt = await client.execute_workflow(Checkout.run, order, id=f"co-{task_queue}", task_queue=task_queue)
    assert isinstance(receipt, Receipt)
    assert (receipt.order_id, receipt.total) == ("o-1", 12.0)
    assert receipt.thread.startswith("wf-activity")


async def test_parallel_activities(client: Client, task_queue: str) -> None:
    async with Worker(client, task_queue=task_queue, workflows=[Fanout], activities=[greet]):
        result = await client.execute_workflow(Fanout.run, 20, id=f"fan-{task_queue}", task_queue=task_queue)
    assert result == [f"Hello, n{i}!" for i in range(20)]


async def test_workflow_apis_are_deterministic_across_replays(client: Client, task_queue: str) -> None:
    async with Worker(client, task_queue=task_queue, workflows=[Deterministic], activities=[greet]):
        handle = await client.start_workflow(Deterministic.run, id=f"det-{task_queue}", task_queue=task_queue)
        values = await handle.result()
    # The second workflow task replayed the first: had uuid4/random/now differed, the first three values
    # (computed again during replay) would not have produced the same commands; check them directly.
    history = await handle.fetch_history()
    first_task_started = next(e for e in history.events if e.event_type == history_pb2.EVENT_TYPE_WORKFLOW_TASK_STARTED)
    assert values[2] == first_task_started.event_time.ToDatetime().isoformat() + "+00:00"
    assert values[0] != values[3]  # a new uuid after the activity, not the same one again
    assert values[4:6] == ["Deterministic", task_queue]
    assert int(values[6]) == 9  # the history length at the second workflow task
    # Replaying the closed history again (as the replayer does) reproduces the same commands.
    task = WorkflowTaskInput("default", handle.id, handle.run_id or "", "Deterministic",
                             history_pb2.History(events=history.events))
    assert run_workflow_task(task, {"Deterministic": WorkflowDefinition.of(Deterministic)}.get, DataConverter()) == []


async def test_plain_function_workflow(client: Client, task_queue: str) -> None:
    async with Worker(client, task_queue=task_queue, workflows=[plain_function_workflow]):
        assert await client.execute_workflow(
            plain_function_workflow, 2, 3, id=f"fn-{task_queue}", task_queue=task_queue
        ) == 5


async def test_application_error_in_workflow_fails_the_workflow(client: Client, task_queue: str) -> None:
    async with Worker(client, task_queue=task_queue, workflows=[WorkflowFails]):
        handle = await client.start_workflow(WorkflowFails.run, id=f"wff-{task_queue}", task_queue=task_queue)
        with pytest.raises(WorkflowFailureError) as info:
            await handle.result()
    assert isinstance(info.value.cause, ApplicationError)
    assert info.value.cause.type == "RuleBroken"
    assert (await handle.describe()).status == WorkflowExecutionStatus.FAILED


async def test_other_exception_fails_the_task_and_a_fix_resumes_the_run(client: Client, task_queue: str) -> None:
    BUG_FIXED.clear()
    async with Worker(client, task_queue=task_queue, workflows=[Buggy], activities=[greet]):
        handle = await client.start_workflow(Buggy.run, id=f"bug-{task_queue}", task_queue=task_queue)

        async def failing_task_visible() -> bool:
            failure = (await handle.describe()).last_workflow_task_failure
            return failure is not None and "missing key" in failure.message

        await assert_eventually(failing_task_visible)
        desc = await handle.describe()
        assert desc.status == WorkflowExecutionStatus.RUNNING  # the run is not failed, only blocked
        assert desc.last_workflow_task_failure is not None
        assert "KeyError" in desc.last_workflow_task_failure.stack_trace
        assert "test_workflows.py" in desc.last_workflow_task_failure.stack_trace
        BUG_FIXED.set()  # "deploy the fix"
        assert await handle.result(timeout=timedelta(seconds=30)) == "Hello, a!"
    history = await handle.fetch_history()
    assert history_pb2.EVENT_TYPE_WORKFLOW_TASK_FAILED in [e.event_type for e in history.events]


async def test_start_to_close_timeout_retries_the_attempt(client: Client, task_queue: str) -> None:
    async with Worker(client, task_queue=task_queue, workflows=[StartToClose], activities=[slow_then_fast]):
        assert await client.execute_workflow(StartToClose.run, id=f"stc-{task_queue}", task_queue=task_queue) == 2


async def test_schedule_to_close_timeout_fires_without_a_worker(client: Client, task_queue: str) -> None:
    @workflow.defn(name=f"NoActivityWorker-{task_queue}")
    class NoActivityWorker:
        @workflow.run
        async def run(self) -> None:
            await workflow.execute_activity(
                "nobody-runs-this", task_queue=f"{task_queue}-empty", schedule_to_close_timeout=timedelta(seconds=1)
            )

    async with Worker(client, task_queue=task_queue, workflows=[NoActivityWorker]):
        with pytest.raises(WorkflowFailureError) as info:
            await client.execute_workflow(NoActivityWorker, id=f"s2c-{task_queue}", task_queue=task_queue)
    error = info.value.cause
    assert isinstance(error, ActivityError)
    assert isinstance(error.cause, TimeoutError) and error.cause.type == TimeoutType.SCHEDULE_TO_CLOSE


async def test_unknown_workflow_type_waits_for_a_worker_that_knows_it(client: Client, task_queue: str) -> None:
    async with Worker(client, task_queue=task_queue, workflows=[Checkout], activities=[greet]):
        handle = await client.start_workflow(Greeting.run, "late", id=f"unk-{task_queue}", task_queue=task_queue)

        async def refused() -> bool:
            failure = (await handle.describe()).last_workflow_task_failure
            return failure is not None and "not registered" in failure.message

        await assert_eventually(refused)
    async with Worker(client, task_queue=task_queue, workflows=[Greeting], activities=[greet]):
        assert await handle.result(timeout=timedelta(seconds=30)) == "Hello, late!"


async def test_same_id_twice_is_already_started(client: Client, task_queue: str) -> None:
    wid = f"dup-{task_queue}"
    first = await client.start_workflow(Greeting.run, "a", id=wid, task_queue=task_queue)
    with pytest.raises(WorkflowAlreadyStartedError):
        await client.start_workflow(Greeting.run, "b", id=wid, task_queue=task_queue)
    async with Worker(client, task_queue=task_queue, workflows=[Greeting], activities=[greet]):
        assert await client.get_workflow_handle(wid).result() == "Hello, a!"
    assert (await client.get_workflow_handle(wid).describe()).run_id == first.run_id


async def test_oversized_result_fails_the_workflow_naming_the_limit(client: Client, task_queue: str) -> None:
    async with Worker(client, task_queue=task_queue, workflows=[BigResult]):
        with pytest.raises(WorkflowFailureError) as info:
            await client.execute_workflow(BigResult.run, id=f"big-{task_queue}", task_queue=task_queue)
    assert "--max-payload-bytes" in str(info.value.cause)


async def test_list_workflows_filters_by_type(client: Client, task_queue: str) -> None:
    async with Worker(client, task_queue=task_queue, workflows=[plain_function_workflow]):
        for i in range(3):
            await client.execute_workflow(
                plain_function_workflow, i, i, id=f"list-{task_queue}-{i}", task_queue=task_queue
            )
    query = "WorkflowType = 'plain_function_workflow' AND ExecutionStatus = 'Completed'"
    found = [w async for w in client.list_workflows(query) if w.task_queue == task_queue]
    assert sorted(w.id for w in found) == [f"list-{task_queue}-{i}" for i in range(3)]


async def test_graceful_shutdown_lets_running_activities_finish(client: Client, task_queue: str) -> None:
    started = asyncio.Event()
    finished: list[int] = []

    @activity.defn(name=f"slow-{task_queue}")
    async def slow() -> int:
        started.set()
        await asyncio.sleep(0.5)
        finished.append(1)
        return 1

    @workflow.defn(name=f"Slow-{task_queue}")
    class Slow:
        @workflow.run
        async def run(self) -> int:
            return await workflow.execute_activity(slow, start_to_close_timeout=SECONDS_5)

    worker = Worker(client, task_queue=task_queue, workflows=[Slow], activities=[slow],
                    graceful_shutdown_timeout=timedelta(seconds=5))
    run = asyncio.create_task(worker.run())
    handle = await client.start_workflow(Slow, id=f"graceful-{task_queue}", task_queue=task_queue)
    await asyncio.wait_for(started.wait(), 10)
    await worker.shutdown()
    await run
    assert finished == [1]  # shutdown waited for the running activity
    async with Worker(client, task_queue=task_queue, workflows=[Slow], activities=[slow]):
        assert await handle.result(timeout=timedelta(seconds=30)) == 1


def test_worker_refuses_undecorated_workflows() -> None:
    class NotAWorkflow:
        async def run(self) -> None: ...

    with pytest.raises(TypeError, match="@workflow.defn"):
        WorkflowDefinition.of(NotAWorkflow)


async def test_activities_come_back_started_with_the_workflow_task(client: Client, task_queue: str) -> None:
    # No activity pollers at all: the activity can only run because the workflow task's completion
    # handed it back already started (eager execution), without a trip through the task queue.
    worker = Worker(client, task_queue=task_queue, workflows=[Greeting], activities=[greet], activity_task_pollers=0)
    async with worker:
        result = await client.execute_workflow(Greeting.run, "eager", id=f"eager-{task_queue}", task_queue=task_queue)
    assert result == "Hello, eager!"
