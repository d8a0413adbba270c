"""What a workflow's page makes of a run's events: the timeline's bars (activities with their
attempts, timers, child workflows, signals, updates), the failure chain of a failed run, and a
failing workflow task's stack under Pending; real server, real worker."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

from google.protobuf.timestamp_pb2 import Timestamp

from tests.helpers import assert_eventually, new_id
from tests.ui_helpers import ui_client, workflow_url
from wf.server.app import Server
from wf.ui.timeline import build
from wf.v1 import common_pb2, history_pb2
from worker_sdk import Client, RetryPolicy, Worker, activity, workflow
from worker_sdk.errors import ApplicationError, WorkflowFailureError

H = history_pb2


@activity.defn
async def ship(order: str) -> str:
    return f"shipped {order}"


@workflow.defn
class Child:
    @workflow.run
    async def run(self, order: str) -> str:
        return order.upper()


@workflow.defn
class Busy:
    def __init__(self) -> None:
        self.go = False

    @workflow.run
    async def run(self) -> str:
        await workflow.sleep(timedelta(milliseconds=10))
        child = await workflow.execute_child_workflow(Child.run, "o-1", id=workflow.info().workflow_id + "-child")
        shipped = await workflow.execute_activity(ship, child, start_to_close_timeout=timedelta(seconds=10))
        await workflow.wait_condition(lambda: self.go)
        return shipped

    @workflow.update
    async def release(self) -> str:
        self.go = True
        return "released"


@workflow.defn
class Broken:
    @workflow.run
    async def run(self) -> str:
        raise ApplicationError("out of stock", {"sku": "A-1"}, type="OutOfStock", non_retryable=True)


@workflow.defn
class Buggy:
    @workflow.run
    async def run(self) -> str:
        raise RuntimeError("a bug in the workflow code")


async def test_the_timeline_has_a_bar_for_each_step(server: Server, client: Client, task_queue: str) -> None:
    async with Worker(client, task_queue=task_queue, workflows=[Busy, Child], activities=[ship]):
        handle = await client.start_workflow(Busy.run, id=new_id("busy"), task_queue=task_queue)
        await handle.signal("note", "hello")
        await assert_eventually(lambda: _has_activity_done(handle))
        assert await handle.execute_update(Busy.release) == "released"
        assert await handle.result() == "shipped O-1"
        async with ui_client(server.address, client) as http:
            page = (await http.get(workflow_url(handle.id))).text
            timeline = page.split('id="h-timeline"')[1].split('id="h-pending"')[0]
            for label, kind, outcome in (
                ("Timer 1", "timer", "fired"),
                (f"Child Child {handle.id}-child", "child", "completed"),
                ("Activity ship attempt 1", "activity", "completed"),
                ("Signal note", "signal", "point"),
                ("Update release", "update", "completed"),
            ):
                assert f'class="bar k-{kind} o-{outcome}"' in timeline, label
                assert f">{label}</button>" in timeline, label
            # Each bar's events, listed beside it (hidden until the bar is clicked).
            assert "ChildWorkflowExecutionCompleted" in timeline and "TimerFired" in timeline
            assert "ActivityTaskCompleted" in timeline and "WorkflowExecutionUpdateCompleted" in timeline
            # The child's link, and its page naming its parent.
            r = await http.get(workflow_url(f"{handle.id}-child"))
            assert ">Parent</dt>" in r.text and handle.id in r.text


async def _has_activity_done(handle: object) -> bool:
    from worker_sdk import WorkflowHandle

    assert isinstance(handle, WorkflowHandle)
    history = await handle.fetch_history()
    return any(e.HasField("activity_task_completed_event_attributes") for e in history.events)


async def test_a_failed_run_shows_its_failure_chain(server: Server, client: Client, task_queue: str) -> None:
    async with Worker(client, task_queue=task_queue, workflows=[Broken]):
        handle = await client.start_workflow(Broken.run, id=new_id("broken"), task_queue=task_queue)
        try:
            await handle.result()
        except WorkflowFailureError:
            pass
    async with ui_client(server.address, client) as http:
        r = await http.get(workflow_url(handle.id))
        assert r.status_code == 200
        page = r.text
        assert ">Failed</span>" in page and ">Failure</h2>" in page
        assert "out of stock" in page and "application: OutOfStock (non-retryable)" in page
        assert "&#34;sku&#34;: &#34;A-1&#34;" in page  # the failure's details, decoded
        # The failure's own stack trace (where the workflow raised), folded under its message.
        assert "<summary>Stack trace</summary>" in page


async def test_a_failing_workflow_task_shows_its_stack_under_pending(
    server: Server, client: Client, task_queue: str
) -> None:
    async with Worker(client, task_queue=task_queue, workflows=[Buggy]):
        handle = await client.start_workflow(Buggy.run, id=new_id("buggy"), task_queue=task_queue)

        async def failed_task() -> bool:
            return (await handle.describe()).last_workflow_task_failure is not None

        await assert_eventually(failed_task)
        async with ui_client(server.address, client) as http:
            page = (await http.get(workflow_url(handle.id))).text
            pending = page.split('id="h-pending"')[1].split('id="h-events"')[0]
            assert "Workflow task" in pending and "Its last attempt failed" in pending
            assert "a bug in the workflow code" in pending and "Stack trace" in pending
            assert "test_ui_timeline.py" in pending  # the stack, with the line of workflow code
    await handle.terminate()


@workflow.defn
class Chain:
    @workflow.run
    async def run(self, n: int) -> int:
        if n < 1:
            workflow.continue_as_new(n + 1)
        return n


async def test_a_run_chain_links_its_runs_and_offers_reset_points(
    server: Server, client: Client, task_queue: str
) -> None:
    async with Worker(client, task_queue=task_queue, workflows=[Chain]):
        handle = await client.start_workflow(Chain.run, 0, id=new_id("chain"), task_queue=task_queue)
        assert await handle.result() == 1
    first = handle.run_id or ""
    latest = (await client.get_workflow_handle(handle.id).describe()).run_id
    async with ui_client(server.address, client) as http:
        page = (await http.get(workflow_url(handle.id, first))).text
        assert ">Continued as new</span>" in page and ">Continued as</dt>" in page and latest in page
        assert '<option value="4">WorkflowTaskCompleted 4</option>' in page
        page = (await http.get(workflow_url(handle.id))).text  # the latest run
        assert ">Completed</span>" in page and ">First run</dt>" in page and first in page


@activity.defn
async def crunch() -> None:
    activity.heartbeat({"done": 3, "of": 10})
    await asyncio.sleep(0.2)  # a moment for the heartbeat to reach the server before the attempt fails
    raise ApplicationError("disk full")


@workflow.defn
class Crunching:
    @workflow.run
    async def run(self) -> None:
        await workflow.execute_activity(
            crunch, start_to_close_timeout=timedelta(seconds=10), heartbeat_timeout=timedelta(seconds=5),
            retry_policy=RetryPolicy(initial_interval=timedelta(minutes=5)),
        )


async def test_a_pending_activity_shows_its_attempt_failure_and_heartbeat(
    server: Server, client: Client, task_queue: str
) -> None:
    async with Worker(client, task_queue=task_queue, workflows=[Crunching], activities=[crunch]):
        handle = await client.start_workflow(Crunching.run, id=new_id("crunch"), task_queue=task_queue)

        async def backing_off() -> bool:
            d = await handle.describe()
            return any(a.HasField("last_failure") for a in d.pending_activities)

        await assert_eventually(backing_off)
        async with ui_client(server.address, client) as http:
            page = (await http.get(workflow_url(handle.id))).text
        pending = page.split('id="h-pending"')[1].split('id="h-events"')[0]
        assert "disk full" in pending and "2 of unlimited" in pending  # the attempt to come, as Temporal counts
        assert "&#34;done&#34;: 3" in pending  # the last heartbeat's details, decoded
        # The next retry's time shows when the server gives it (PendingActivityInfo.next_attempt_schedule_time).
        assert 'data-label="Next retry"' in pending
    await handle.terminate()


def test_a_retried_activity_shows_where_its_earlier_attempts_went() -> None:
    t0 = datetime(2026, 1, 1, tzinfo=UTC)

    def at(seconds: float) -> Timestamp:
        ts = Timestamp()
        ts.FromDatetime(t0 + timedelta(seconds=seconds))
        return ts

    events = [
        H.HistoryEvent(event_id=1, event_time=at(0), event_type=H.EVENT_TYPE_WORKFLOW_EXECUTION_STARTED,
                       workflow_execution_started_event_attributes=H.WorkflowExecutionStartedEventAttributes()),
        H.HistoryEvent(event_id=5, event_time=at(0), event_type=H.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED,
                       activity_task_scheduled_event_attributes=H.ActivityTaskScheduledEventAttributes(
                           activity_id="1", activity_type=common_pb2.ActivityType(name="charge"))),
        H.HistoryEvent(event_id=6, event_time=at(6), event_type=H.EVENT_TYPE_ACTIVITY_TASK_STARTED,
                       activity_task_started_event_attributes=H.ActivityTaskStartedEventAttributes(
                           scheduled_event_id=5, attempt=3)),
        H.HistoryEvent(event_id=7, event_time=at(8), event_type=H.EVENT_TYPE_ACTIVITY_TASK_COMPLETED,
                       activity_task_completed_event_attributes=H.ActivityTaskCompletedEventAttributes(
                           scheduled_event_id=5, started_event_id=6)),
    ]
    [bar], _, _ = build(events, [], close=t0 + timedelta(seconds=8))
    # Six of its eight seconds went to the two failed attempts and their back-offs.
    assert (bar.label, bar.outcome, bar.retried) == ("Activity charge attempt 3", "completed", True)
    assert bar.wait == 0.75
