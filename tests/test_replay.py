"""Replay: a recorded history re-run against workflow code; changes that break it are named exactly."""

from __future__ import annotations

import asyncio
import inspect
import re
from datetime import timedelta
from pathlib import Path

import pytest
import pytest_asyncio

import worker_sdk
from tests.helpers import assert_eventually
from wf.v1 import history_pb2
from worker_sdk import Client, Worker, activity, workflow
from worker_sdk._activation import FireTimer, HistoryJobs, ResolveActivity, SignalWorkflow, StartWorkflow
from worker_sdk._converter import DataConverter
from worker_sdk._definition import WorkflowDefinition
from worker_sdk._replay import WorkflowTaskInput, run_workflow_task
from worker_sdk.errors import NondeterminismError

T = timedelta(seconds=5)


@activity.defn
async def reserve(item: str) -> str:
    return f"reserved {item}"


@activity.defn
async def ship(item: str) -> str:
    return f"shipped {item}"


@workflow.defn(name="Order")
class OrderV1:
    @workflow.run
    async def run(self, item: str) -> str:
        first = await workflow.execute_activity(reserve, item, start_to_close_timeout=T)
        second = await workflow.execute_activity(ship, item, start_to_close_timeout=T)
        return f"{first}, {second}"


@workflow.defn(name="Order")
class OrderSwapped:
    @workflow.run
    async def run(self, item: str) -> str:
        first = await workflow.execute_activity(ship, item, start_to_close_timeout=T)  # was reserve
        return first


@workflow.defn(name="Order")
class OrderExtraStep:
    @workflow.run
    async def run(self, item: str) -> str:
        first = await workflow.execute_activity(reserve, item, start_to_close_timeout=T)
        second = await workflow.execute_activity(ship, item, start_to_close_timeout=T)
        third = await workflow.execute_activity(ship, "again", start_to_close_timeout=T)
        return f"{first}, {second}, {third}"


def replay(cls: type, history: history_pb2.History) -> list[object]:
    task = WorkflowTaskInput("default", "wid", "00000000-0000-4000-8000-000000000000", "Order", history)
    return run_workflow_task(task, {"Order": WorkflowDefinition.of(cls)}.get, DataConverter())  # type: ignore[return-value]


def line_of(cls: type, text: str) -> int:
    source, start = inspect.getsourcelines(cls)
    return start + next(i for i, line in enumerate(source) if text in line)


@pytest_asyncio.fixture(loop_scope="session")
async def order_history(client: Client, task_queue: str) -> history_pb2.History:
    async with Worker(client, task_queue=task_queue, workflows=[OrderV1], activities=[reserve, ship]):
        handle = await client.start_workflow(OrderV1.run, "book", id=f"order-{task_queue}", task_queue=task_queue)
        assert await handle.result() == "reserved book, shipped book"
    return history_pb2.History(events=(await handle.fetch_history()).events)


async def test_same_code_replays_cleanly(order_history: history_pb2.History) -> None:
    assert replay(OrderV1, order_history) == []


async def test_changed_activity_is_named_with_event_and_line(order_history: history_pb2.History) -> None:
    with pytest.raises(NondeterminismError) as info:
        replay(OrderSwapped, order_history)
    message = str(info.value)
    assert "history event 5" in message  # the first ActivityTaskScheduled
    assert "ActivityTaskScheduled(activity 'reserve'" in message
    assert "ScheduleActivityTask(activity 'ship'" in message
    assert f"test_replay.py:{line_of(OrderSwapped, 'was reserve')}" in message


async def test_extra_command_is_named(order_history: history_pb2.History) -> None:
    with pytest.raises(NondeterminismError) as info:
        replay(OrderExtraStep, order_history)
    message = str(info.value)
    assert "history recorded WorkflowExecutionCompleted" in message
    assert "ScheduleActivityTask(activity 'ship', id '3')" in message
    assert f"test_replay.py:{line_of(OrderExtraStep, 'third =')}" in message


async def test_nondeterminism_blocks_the_run_without_failing_it(
    client: Client, task_queue: str
) -> None:
    wid = f"nd-{task_queue}"
    # The first worker cannot run `ship`, so the run waits there while the workers change.
    async with Worker(client, task_queue=task_queue, workflows=[OrderV1], activities=[reserve]):
        handle = await client.start_workflow(OrderV1.run, "pen", id=wid, task_queue=task_queue)

        async def reserved() -> bool:
            events = (await handle.fetch_history()).events
            return any(e.event_type == history_pb2.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED and
                       e.activity_task_scheduled_event_attributes.activity_type.name == "ship" for e in events)

        await assert_eventually(reserved)
    # A worker with incompatible code picks the next task up once `ship` completes.
    async with Worker(client, task_queue=task_queue, workflows=[OrderSwapped], activities=[ship]):

        async def blocked() -> bool:
            failure = (await handle.describe()).last_workflow_task_failure
            return failure is not None and "nondeterminism at history event 5" in failure.message

        await assert_eventually(blocked, timeout=15)
        assert (await handle.describe()).status.name == "RUNNING"
    async with Worker(client, task_queue=task_queue, workflows=[OrderV1], activities=[reserve, ship]):
        assert await handle.result(timeout=timedelta(seconds=30)) == "reserved pen, shipped pen"


@workflow.defn
class UsesExecutor:
    @workflow.run
    async def run(self) -> None:
        await asyncio.get_running_loop().run_in_executor(None, print, "blocking")


async def test_loop_refuses_io_with_a_named_alternative(client: Client, task_queue: str) -> None:
    async with Worker(client, task_queue=task_queue, workflows=[UsesExecutor]):
        handle = await client.start_workflow(UsesExecutor.run, id=f"io-{task_queue}", task_queue=task_queue)

        async def refused() -> bool:
            failure = (await handle.describe()).last_workflow_task_failure
            return failure is not None and "run_in_executor() is not allowed in workflow code" in failure.message

        await assert_eventually(refused)
        assert (await handle.describe()).status.name == "RUNNING"


@workflow.defn
class Chatty:
    @workflow.run
    async def run(self) -> str:
        workflow.logger.info("before the activity")
        await workflow.execute_activity(reserve, "x", start_to_close_timeout=T)
        workflow.logger.info("after the activity")
        return "done"


async def test_workflow_logger_is_silent_while_replaying(
    client: Client, task_queue: str, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level("INFO", logger="worker_sdk.workflow")
    async with Worker(client, task_queue=task_queue, workflows=[Chatty], activities=[reserve]):
        assert await client.execute_workflow(Chatty.run, id=f"chatty-{task_queue}", task_queue=task_queue) == "done"
    lines = [r.getMessage() for r in caplog.records if r.name == "worker_sdk.workflow"]
    # The second workflow task replays the first: "before" would be logged twice if replay spoke.
    assert [line.split(" (")[0] for line in lines] == ["before the activity", "after the activity"]


@workflow.defn
class Careless:
    @workflow.run
    async def run(self, what: str) -> str:
        import json  # imports stay free inside workflow code

        workflow.logger.info("logging reads the clock, and that is fine")
        if what == "time":
            import time

            return str(time.time())
        if what == "random":
            import random

            return str(random.randint(1, 6))
        if what == "uuid":
            import uuid

            return str(uuid.uuid4())
        if what == "file":
            with open("/tmp/wf-workflow-file-io.txt", "w") as f:
                f.write("x")
        if what == "socket":
            import socket

            socket.create_connection(("127.0.0.1", 9))
        return json.dumps(what)


@pytest.mark.parametrize(
    ("what", "message"),
    [
        ("time", "time.time() is not allowed in workflow code: use workflow.now()"),
        ("random", "random.randint() is not allowed in workflow code: use workflow.random()"),
        ("uuid", "uuid.uuid4() is not allowed in workflow code: use workflow.uuid4()"),
        ("file", "file I/O is not allowed in workflow code: read and write files in an activity"),
        ("socket", "a DNS lookup is not allowed in workflow code: do it in an activity"),
    ],
)
async def test_determinism_guard_names_the_call_and_the_alternative(
    client: Client, task_queue: str, what: str, message: str
) -> None:
    async with Worker(client, task_queue=task_queue, workflows=[Careless]):
        handle = await client.start_workflow(
            Careless.run, what, id=f"careless-{what}-{task_queue}", task_queue=task_queue
        )

        async def refused() -> bool:
            failure = (await handle.describe()).last_workflow_task_failure
            return failure is not None and message in failure.message

        await assert_eventually(refused)
        assert (await handle.describe()).status.name == "RUNNING"
        await handle.terminate("test over")


async def test_determinism_guard_leaves_plain_workflows_alone(client: Client, task_queue: str) -> None:
    async with Worker(client, task_queue=task_queue, workflows=[Careless]):
        result = await client.execute_workflow(Careless.run, "fine", id=f"careful-{task_queue}", task_queue=task_queue)
    assert result == '"fine"'


# -- versioning ------------------------------------------------------------------------------------


@workflow.defn(name="Shipping")
class ShippingV1:
    @workflow.run
    async def run(self, item: str) -> str:
        return await workflow.execute_activity(reserve, item, start_to_close_timeout=T)


@workflow.defn(name="Shipping")
class ShippingV2:
    @workflow.run
    async def run(self, item: str) -> str:
        if workflow.patched("ship-instead"):
            return await workflow.execute_activity(ship, item, start_to_close_timeout=T)
        return await workflow.execute_activity(reserve, item, start_to_close_timeout=T)


@workflow.defn(name="Shipping")
class ShippingV3:
    @workflow.run
    async def run(self, item: str) -> str:
        workflow.deprecate_patch("ship-instead")
        return await workflow.execute_activity(ship, item, start_to_close_timeout=T)


def replay_as(cls: type, history: history_pb2.History) -> list[object]:
    task = WorkflowTaskInput("default", "wid", "00000000-0000-4000-8000-000000000000", "Shipping", history)
    return run_workflow_task(task, {"Shipping": WorkflowDefinition.of(cls)}.get, DataConverter())  # type: ignore[return-value]


async def run_shipping(client: Client, task_queue: str, cls: type, wid: str) -> tuple[str, history_pb2.History]:
    async with Worker(client, task_queue=task_queue, workflows=[cls], activities=[reserve, ship]):
        handle = await client.start_workflow("Shipping", "box", id=wid, task_queue=task_queue, result_type=str)
        result = await handle.result()
    return result, history_pb2.History(events=(await handle.fetch_history()).events)


async def test_patched_runs_old_and_new_code_side_by_side(client: Client, task_queue: str) -> None:
    old_result, old_history = await run_shipping(client, task_queue, ShippingV1, f"ship-old-{task_queue}")
    new_result, new_history = await run_shipping(client, task_queue, ShippingV2, f"ship-new-{task_queue}")
    assert (old_result, new_result) == ("reserved box", "shipped box")
    names = [e.event_type for e in new_history.events]
    assert names.count(history_pb2.EVENT_TYPE_MARKER_RECORDED) == 1
    # The patched code replays both: the old run takes the old branch, the new run the new one.
    assert replay_as(ShippingV2, old_history) == []
    assert replay_as(ShippingV2, new_history) == []
    # Once the old branch is gone, deprecate_patch keeps the new histories replaying...
    assert replay_as(ShippingV3, new_history) == []
    # ...and an old run would no longer replay: that is what the patch protected.
    with pytest.raises(NondeterminismError):
        replay_as(ShippingV3, old_history)


# -- deadlock detection ----------------------------------------------------------------------------


@workflow.defn
class Spinner:
    @workflow.run
    async def run(self) -> None:
        n = 0
        while True:  # never yields: the worker must notice, report where, and carry on
            n += 1


async def test_deadlock_is_reported_with_the_stack_and_other_runs_go_on(client: Client, task_queue: str) -> None:
    async with Worker(client, task_queue=task_queue, workflows=[Spinner, OrderV1], activities=[reserve, ship],
                      deadlock_timeout=timedelta(milliseconds=500)):
        stuck = await client.start_workflow(Spinner.run, id=f"spin-{task_queue}", task_queue=task_queue)

        async def reported() -> bool:
            failure = (await stuck.describe()).last_workflow_task_failure
            return failure is not None and "did not yield within 0.5s" in failure.message

        await assert_eventually(reported, timeout=20)
        failure = (await stuck.describe()).last_workflow_task_failure
        assert failure is not None
        lines = (line_of(Spinner, "while True"), line_of(Spinner, "n += 1"))
        assert any(f'test_replay.py", line {n}' in failure.message for n in lines), failure.message
        # The same worker still runs other workflows.
        result = await client.execute_workflow(
            OrderV1.run, "lamp", id=f"after-spin-{task_queue}", task_queue=task_queue
        )
        assert result == "reserved lamp, shipped lamp"
        await stuck.terminate("test over")


# -- the workflow cache and sticky queues -----------------------------------------------------------


@workflow.defn
class Steps:
    @workflow.run
    async def run(self, n: int) -> list[str]:
        return [await workflow.execute_activity(reserve, f"item{i}", start_to_close_timeout=T) for i in range(n)]


async def test_runs_evicted_from_a_tiny_cache_still_finish(client: Client, task_queue: str) -> None:
    async with Worker(client, task_queue=task_queue, workflows=[Steps], activities=[reserve], max_cached_workflows=1):
        handles = [
            await client.start_workflow(Steps.run, 5, id=f"evict-{i}-{task_queue}", task_queue=task_queue)
            for i in range(4)
        ]
        results = await asyncio.gather(*(h.result() for h in handles))
    assert results == [[f"reserved item{i}" for i in range(5)]] * 4


async def test_a_stopped_workers_sticky_tasks_go_to_another_worker(client: Client, task_queue: str) -> None:
    first = Worker(client, task_queue=task_queue, workflows=[OrderV1], activities=[reserve],
                   sticky_queue_schedule_to_start_timeout=timedelta(seconds=1))
    async with first:
        handle = await client.start_workflow(OrderV1.run, "desk", id=f"sticky-{task_queue}", task_queue=task_queue)

        async def shipping_scheduled() -> bool:
            events = (await handle.fetch_history()).events
            return any(e.event_type == history_pb2.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED and
                       e.activity_task_scheduled_event_attributes.activity_type.name == "ship" for e in events)

        await assert_eventually(shipping_scheduled)
    # The run's next workflow task goes to the first worker's sticky queue, where nobody polls now:
    # after the sticky timeout it goes to the task queue, and this worker replays the whole history.
    async with Worker(client, task_queue=task_queue, workflows=[OrderV1], activities=[reserve, ship],
                      max_cached_workflows=0):
        assert await handle.result(timeout=timedelta(seconds=30)) == "reserved desk, shipped desk"
    scheduled = [
        e.workflow_task_scheduled_event_attributes.task_queue
        for e in (await handle.fetch_history()).events
        if e.event_type == history_pb2.EVENT_TYPE_WORKFLOW_TASK_SCHEDULED
    ]
    assert any(q.kind == 2 for q in scheduled)  # a task was offered on a sticky queue


# -- history → jobs --------------------------------------------------------------------------------


@workflow.defn
class Waits:
    def __init__(self) -> None:
        self.go = False

    @workflow.signal
    def proceed(self) -> None:
        self.go = True

    @workflow.run
    async def run(self) -> str:
        await workflow.wait_condition(lambda: self.go)
        await workflow.sleep(timedelta(milliseconds=50))
        return await workflow.execute_activity(reserve, "lamp", start_to_close_timeout=T)


async def test_a_history_is_translated_into_jobs_one_per_event_that_resolves_something(
    client: Client, task_queue: str
) -> None:
    async with Worker(client, task_queue=task_queue, workflows=[Waits], activities=[reserve]):
        handle = await client.start_workflow(Waits.run, id=f"waits-{task_queue}", task_queue=task_queue)
        await handle.signal(Waits.proceed)
        assert await handle.result() == "reserved lamp"
    events = (await handle.fetch_history()).events
    history = HistoryJobs(DataConverter())
    jobs = []
    for event in events:
        if event.event_type == history_pb2.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED:
            history.activity_scheduled(event.event_id, event.activity_task_scheduled_event_attributes.activity_id)
        jobs += history.of_events([event])
    signaled = next(e for e in events if e.event_type == history_pb2.EVENT_TYPE_WORKFLOW_EXECUTION_SIGNALED)
    assert jobs == [
        StartWorkflow(events[0].workflow_execution_started_event_attributes.input),
        SignalWorkflow("proceed", signaled.workflow_execution_signaled_event_attributes.input),
        FireTimer("1"),
        ResolveActivity("1", result=DataConverter().to_payloads(["reserved lamp"])),
    ]


def test_the_worker_never_builds_history_events() -> None:
    # The server is the only author of events: the SDK reads them, and resolves its runs with jobs.
    building = re.compile(r"HistoryEvent\(|\.events\.add\(|\bevent_type=(?!=)")
    sdk = Path(worker_sdk.__file__).parent
    found = [
        f"{path.relative_to(sdk)}:{n}: {line.strip()}"
        for path in sorted(sdk.rglob("*.py"))
        for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1)
        if building.search(line)
    ]
    assert found == []
