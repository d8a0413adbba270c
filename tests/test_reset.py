"""Reset end to end: a new run from a run's history up to a workflow task, the running run
terminated, signals and updates after the point received again, the state rebuilt from the copied
events equal to the one the live path built, and the replay check of ``--check``; real worker, real
server, real PostgreSQL."""

from __future__ import annotations

import asyncio
import json
import subprocess
from datetime import timedelta

import pytest

from tests.helpers import assert_eventually, new_id, start_request, wf_executable
from tests.test_rebuild_steps import comparable
from wf.history.execution import Execution
from wf.history.rebuild import APPLY, rebuild
from wf.history.runs import now
from wf.history.store import ExecutionRecord
from wf.server.app import Server
from wf.v1 import common_pb2, history_pb2, internal_pb2, service_pb2
from worker_sdk import (
    Client,
    ResetReapplyType,
    ResetType,
    Worker,
    WorkflowExecutionStatus,
    activity,
    workflow,
)
from worker_sdk.errors import NondeterminismError, RPCError

H = history_pb2
SECONDS_5 = timedelta(seconds=5)
RESET_CAUSE = common_pb2.WORKFLOW_TASK_FAILED_CAUSE_RESET_WORKFLOW


@activity.defn
async def shout(text: str) -> str:
    return text.upper()


@workflow.defn
class Collector:
    """Runs an activity, then gathers signals until it has two."""

    def __init__(self) -> None:
        self.got: list[str] = []
        self.first = ""

    @workflow.run
    async def run(self) -> list[str]:
        first = self.first = await workflow.execute_activity(shout, "a", start_to_close_timeout=SECONDS_5)
        await workflow.wait_condition(lambda: len(self.got) >= 2)
        return [first, *self.got]

    @workflow.signal
    def add(self, value: str) -> None:
        self.got.append(value)

    @workflow.query
    def seen(self) -> list[str]:
        return list(self.got)

    @workflow.query
    def ready(self) -> bool:
        return bool(self.first)


def _ids(history: list[H.HistoryEvent], event_type: int) -> list[int]:
    return [e.event_id for e in history if e.event_type == event_type]


async def test_reset_to_a_completed_workflow_task_reapplies_signals_and_terminates_the_base_run(
    client: Client, task_queue: str
) -> None:
    async with Worker(client, task_queue=task_queue, workflows=[Collector], activities=[shout]):
        handle = await client.start_workflow(Collector.run, id=new_id("reset"), task_queue=task_queue)
        await assert_eventually(lambda: handle.query(Collector.ready))
        await handle.signal(Collector.add, "s1")
        await assert_eventually(lambda: _seen(handle, ["s1"]))
        events = (await handle.fetch_history()).events
        first_completed = _ids(events, H.EVENT_TYPE_WORKFLOW_TASK_COMPLETED)[0]

        new = await handle.reset(event_id=first_completed, reason="fix a bug")
        assert new.run_id != handle.run_id
        base = await handle.describe()
        assert base.status == WorkflowExecutionStatus.TERMINATED
        close = (await handle.fetch_history()).events[-1]
        assert "fix a bug" in close.workflow_execution_terminated_event_attributes.reason
        assert new.run_id in close.workflow_execution_terminated_event_attributes.reason

        history = (await new.fetch_history()).events
        assert [e.SerializeToString() for e in history[: first_completed - 1]] == [
            e.SerializeToString() for e in events[: first_completed - 1]
        ]
        failed = history[first_completed - 1]
        assert failed.event_type == H.EVENT_TYPE_WORKFLOW_TASK_FAILED
        attrs = failed.workflow_task_failed_event_attributes
        assert attrs.cause == common_pb2.WORKFLOW_TASK_FAILED_CAUSE_RESET_WORKFLOW
        assert attrs.base_run_id == handle.run_id and attrs.new_run_id == new.run_id
        assert attrs.failure.message == "fix a bug"
        await new.signal(Collector.add, "s2")
        assert await new.result() == ["A", "s1", "s2"]  # s1 reapplied: it came after the point
        described = await new.describe()
        assert described.reset_base_run_id == handle.run_id
        assert described.reset_reason == "fix a bug"
        assert described.reset_event_id == first_completed


async def _seen(handle: object, expected: list[str]) -> bool:
    return await handle.query(Collector.seen) == expected  # type: ignore[attr-defined, no-any-return]


async def test_reapply_none_drops_the_signals_after_the_point(client: Client, task_queue: str) -> None:
    async with Worker(client, task_queue=task_queue, workflows=[Collector], activities=[shout]):
        handle = await client.start_workflow(Collector.run, id=new_id("reset"), task_queue=task_queue)
        await assert_eventually(lambda: handle.query(Collector.ready))
        await handle.signal(Collector.add, "s1")
        await assert_eventually(lambda: _seen(handle, ["s1"]))
        new = await handle.reset(type=ResetType.FIRST_WORKFLOW_TASK, reason="again", reapply_type=ResetReapplyType.NONE)
        await new.signal(Collector.add, "x")
        await new.signal(Collector.add, "y")
        assert await new.result() == ["A", "x", "y"]


async def test_reset_points_of_each_kind_and_a_refused_one(client: Client, task_queue: str) -> None:
    attempts: list[int] = []

    @workflow.defn(name="FailsOnce")
    class FailsOnce:
        @workflow.run
        async def run(self) -> str:
            if not attempts:
                attempts.append(1)
                raise RuntimeError("first attempt fails")
            return await workflow.execute_activity(shout, "b", start_to_close_timeout=SECONDS_5)

    async with Worker(client, task_queue=task_queue, workflows=[FailsOnce], activities=[shout]):
        handle = await client.start_workflow("FailsOnce", id=new_id("reset"), task_queue=task_queue)
        assert await handle.result() == "B"
        events = (await handle.fetch_history()).events
        failed = _ids(events, H.EVENT_TYPE_WORKFLOW_TASK_FAILED)[0]
        started = _ids(events, H.EVENT_TYPE_WORKFLOW_TASK_STARTED)[-1]
        scheduled = _ids(events, H.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED)[0]
        for point, failed_at in ((failed, failed), (started, started + 1)):
            new = await handle.reset(event_id=point, reason=f"to {point}")
            assert await new.result() == "B"
            history = (await new.fetch_history()).events
            reset_failure = [
                e for e in history
                if e.event_type == H.EVENT_TYPE_WORKFLOW_TASK_FAILED
                and e.workflow_task_failed_event_attributes.cause == RESET_CAUSE
            ]
            # Reset to a Started event: the task scheduled before it is started anew, then failed.
            assert [e.event_id for e in reset_failure] == [failed_at]
        with pytest.raises(RPCError) as refused:
            await handle.reset(event_id=scheduled, reason="not a task")
        assert refused.value.status.name == "INVALID_ARGUMENT"
        assert f"event {scheduled} is ActivityTaskScheduled" in refused.value.message
        assert "valid reset points" in refused.value.message and str(failed) in refused.value.message


async def test_reset_to_a_timed_out_workflow_task(server: Server, client: Client, task_queue: str) -> None:
    stub = client.service
    wid = new_id("reset-timeout")
    await stub.StartWorkflowExecution(
        start_request(wid, task_queue, workflow_type="Collector", workflow_task_timeout=_seconds(1))
    )
    poll = service_pb2.PollWorkflowTaskQueueRequest(
        namespace="default", task_queue=common_pb2.TaskQueue(name=task_queue), identity="slow"
    )
    first = await stub.PollWorkflowTaskQueue(poll, timeout=10)
    assert first.task_token  # never answered: it times out after 1 s
    handle = client.get_workflow_handle(wid)

    async def timed_out() -> int:
        ids = _ids((await handle.fetch_history()).events, H.EVENT_TYPE_WORKFLOW_TASK_TIMED_OUT)
        assert ids
        return ids[0]

    point = await assert_eventually(timed_out, timeout=15)
    async with Worker(client, task_queue=task_queue, workflows=[Collector], activities=[shout]):
        new = await handle.reset(event_id=point, reason="timed out")
        await new.signal(Collector.add, "1")
        await new.signal(Collector.add, "2")
        assert await new.result() == ["A", "1", "2"]


def _seconds(n: int) -> object:
    from google.protobuf.duration_pb2 import Duration

    return Duration(seconds=n)


# -- the state rebuilt from the copied events ------------------------------------------------------


@activity.defn(name="far_away")
async def far_away() -> str:
    return "far"


@workflow.defn
class Busy:
    """Leaves an activity pending (nobody polls its queue), a timer running, signals received and an
    update accepted and completed, another accepted and still running."""

    def __init__(self) -> None:
        self.signals = 0
        self.release = False

    @workflow.run
    async def run(self) -> str:
        workflow.start_activity(far_away, task_queue="nobody-polls-this", start_to_close_timeout=SECONDS_5)
        timer = asyncio.ensure_future(workflow.sleep(timedelta(hours=1)))
        await workflow.wait_condition(lambda: self.release)
        timer.cancel()
        return "done"

    @workflow.signal
    def poke(self) -> None:
        self.signals += 1

    @workflow.update
    async def quick(self) -> int:
        return self.signals

    @workflow.update
    async def slow(self) -> str:
        await workflow.wait_condition(lambda: self.release)
        return "slow"

    @workflow.query
    def count(self) -> int:
        return self.signals


async def test_the_rebuilt_state_equals_the_live_one_and_the_reset_run_keeps_its_work(
    server: Server, client: Client, task_queue: str
) -> None:
    async with Worker(client, task_queue=task_queue, workflows=[Busy], activities=[shout]):
        handle = await client.start_workflow(Busy.run, id=new_id("rebuild"), task_queue=task_queue)
        await handle.signal(Busy.poke)
        await handle.signal(Busy.poke)
        assert await handle.execute_update(Busy.quick) == 2
        await handle.start_update(Busy.slow, id="slow-1")
        store = server.history.runs.store

        async def level() -> ExecutionRecord:
            record = await store.load("default", handle.id, handle.run_id or "")
            assert record is not None
            state = internal_pb2.MutableState.FromString(record.state)
            assert not state.HasField("workflow_task") and "slow-1" in state.accepted_updates
            return record

        live = await assert_eventually(level)
        live_state = internal_pb2.MutableState.FromString(live.state)
        events = [H.HistoryEvent.FromString(d) for d in await store.read_events("default", handle.id, live.run_id)]
        kinds = {e.event_type for e in events}
        assert kinds <= set(APPLY)
        fresh = Execution(
            ExecutionRecord("default", handle.id, "r", live.workflow_type, live.task_queue, live.status,
                            live.start_time, None, "", 1, 0, 0, b""),
            now(), server.history.limits, new=True,
        )
        rebuilt = rebuild(fresh, events)
        assert comparable(fresh.state) == comparable(live_state)
        assert len(live_state.activities) == 1 and len(live_state.timers) == 1 and live_state.signal_count == 2
        (timer_id,) = live_state.timers
        timer_started = next(e for e in events if e.event_id == live_state.timers[timer_id])
        assert rebuilt.timer_fire_at[timer_id] == timer_started.event_time.ToDatetime().replace(
            tzinfo=rebuilt.timer_fire_at[timer_id].tzinfo
        ) + timedelta(hours=1)

        last = _ids(events, H.EVENT_TYPE_WORKFLOW_TASK_COMPLETED)[-1]
        new = await handle.reset(event_id=last, reason="rebuild")
        record = await store.load("default", handle.id, new.run_id or "")
        assert record is not None
        state = internal_pb2.MutableState.FromString(record.state)
        assert dict(state.timers) == dict(live_state.timers)
        assert sorted(state.activities) == sorted(live_state.activities)
        assert state.signal_count == 2
        assert dict(state.finished_updates) == dict(live_state.finished_updates)
        # The slow update was accepted by the last task, after the point: it is delivered again.
        assert "slow-1" in state.pending_updates

        async def accepted_again() -> None:
            r = await store.load("default", handle.id, new.run_id or "")
            assert r is not None and "slow-1" in internal_pb2.MutableState.FromString(r.state).accepted_updates

        await assert_eventually(accepted_again)
        # The new run's code runs again and finds the same work waiting.
        await assert_eventually(lambda: _count_is(new, 2))
        # Its pending activity waits in its queue again: a worker there completes it.
        async with Worker(client, task_queue="nobody-polls-this", activities=[far_away]):
            async def activity_done() -> None:
                d = await new.describe()
                assert not d.pending_activities
            await assert_eventually(activity_done)


async def _count_is(handle: object, n: int) -> bool:
    return await handle.query(Busy.count) == n  # type: ignore[attr-defined, no-any-return]


# -- the replay check --------------------------------------------------------------------------------


@workflow.defn(name="Checked")
class CheckedV1:
    @workflow.run
    async def run(self) -> str:
        await workflow.execute_activity(shout, "one", start_to_close_timeout=SECONDS_5)
        await workflow.sleep(timedelta(hours=1))
        return "v1"


@workflow.defn(name="Checked")
class CheckedCompatible:
    @workflow.run
    async def run(self) -> str:
        await workflow.execute_activity(shout, "one", start_to_close_timeout=SECONDS_5)
        await workflow.sleep(timedelta(milliseconds=10))
        return "v2"


@workflow.defn(name="Checked")
class CheckedIncompatible:
    @workflow.run
    async def run(self) -> str:
        await workflow.sleep(timedelta(seconds=1))  # a timer where history holds an activity
        return "v3"


async def test_check_refuses_incompatible_code_and_passes_compatible_code(client: Client, task_queue: str) -> None:
    async with Worker(client, task_queue=task_queue, workflows=[CheckedV1], activities=[shout]):
        handle = await client.start_workflow("Checked", id=new_id("check"), task_queue=task_queue)

        async def sleeping() -> int:
            events = (await handle.fetch_history()).events
            assert _ids(events, H.EVENT_TYPE_TIMER_STARTED)
            return _ids(events, H.EVENT_TYPE_WORKFLOW_TASK_COMPLETED)[-1]

        last = await assert_eventually(sleeping)
    unpolled = await client.start_workflow("Checked", id=new_id("check"), task_queue=f"{task_queue}-nobody")
    with pytest.raises(RuntimeError, match="no worker polls task queue"):
        await unpolled.reset(event_id=3, reason="no worker", check=True)
    async with Worker(client, task_queue=task_queue, workflows=[CheckedIncompatible], activities=[shout]):
        with pytest.raises(NondeterminismError) as refused:
            await handle.reset(event_id=last, reason="bad code", check=True)
        assert "nondeterminism" in str(refused.value)
        assert (await handle.describe()).status == WorkflowExecutionStatus.RUNNING  # nothing was reset
    async with Worker(client, task_queue=task_queue, workflows=[CheckedCompatible], activities=[shout]):
        new = await handle.reset(event_id=last, reason="good code", check=True)
        assert await new.result() == "v2"


# -- the CLI -------------------------------------------------------------------------------------------


def _wf(server: Server, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [wf_executable(), *args, "--address", server.address], capture_output=True, text=True, timeout=60
    )


async def test_cli_reset_by_type_with_check_and_a_refused_point(
    server: Server, client: Client, task_queue: str
) -> None:
    async with Worker(client, task_queue=task_queue, workflows=[Collector], activities=[shout]):
        handle = await client.start_workflow(Collector.run, id=new_id("cli-reset"), task_queue=task_queue)
        await assert_eventually(lambda: handle.query(Collector.ready))
        await handle.signal(Collector.add, "s1")
        await assert_eventually(lambda: _seen(handle, ["s1"]))
        out = await asyncio.to_thread(
            _wf, server, "workflow", "reset", "-w", handle.id, "--type", "LastWorkflowTask", "--reason", "cli",
            "--check", "--output", "json",
        )
        assert out.returncode == 0, out.stderr
        new_run = json.loads(out.stdout)["runId"]
        new = client.get_workflow_handle(handle.id, run_id=new_run)
        await new.signal(Collector.add, "s2")
        assert await new.result() == ["A", "s1", "s2"]
        refused = await asyncio.to_thread(
            _wf, server, "workflow", "reset", "-w", handle.id, "-r", new_run, "--event-id", "2", "--reason", "x"
        )
        assert refused.returncode != 0
        assert "valid reset points" in refused.stderr
        missing = await asyncio.to_thread(_wf, server, "workflow", "reset", "-w", handle.id, "--event-id", "4")
        assert missing.returncode != 0 and "--reason" in missing.stderr


@workflow.defn
class Twice:
    """Continues as new once, then waits for a signal."""

    def __init__(self) -> None:
        self.done = False

    @workflow.run
    async def run(self, first: bool) -> str:
        if first:
            workflow.continue_as_new(False)
        await workflow.wait_condition(lambda: self.done)
        return "second run done"

    @workflow.signal
    def finish(self) -> None:
        self.done = True


async def test_reset_to_last_continued_as_new_resets_the_run_before_and_terminates_the_current(
    client: Client, task_queue: str
) -> None:
    async with Worker(client, task_queue=task_queue, workflows=[Twice]):
        first = await client.start_workflow(Twice.run, True, id=new_id("reset-can"), task_queue=task_queue)
        latest = client.get_workflow_handle(first.id)

        async def continued() -> str:
            d = await latest.describe()
            assert d.run_id != first.run_id and d.status == WorkflowExecutionStatus.RUNNING
            return d.run_id

        second_run = await assert_eventually(continued)
        new = await latest.reset(type=ResetType.LAST_CONTINUED_AS_NEW, reason="redo the chain")
        assert (await client.get_workflow_handle(first.id, run_id=second_run).describe()).status == (
            WorkflowExecutionStatus.TERMINATED
        )
        made = await new.describe()
        assert made.reset_base_run_id == first.run_id
        # The reset run decides its last task again: it continues as new once more.

        async def continued_again() -> None:
            assert (await new.describe()).status == WorkflowExecutionStatus.CONTINUED_AS_NEW

        await assert_eventually(continued_again)
        await client.get_workflow_handle(first.id).signal(Twice.finish)
        assert await client.get_workflow_handle(first.id).result() == "second run done"



# -- a reset over child workflows ----------------------------------------------------------------------


@workflow.defn
class LongChild:
    def __init__(self) -> None:
        self.done = False

    @workflow.run
    async def run(self) -> str:
        await workflow.wait_condition(lambda: self.done)
        return "child done"

    @workflow.signal
    def finish(self) -> None:
        self.done = True


@workflow.defn
class Parent:
    @workflow.run
    async def run(self, child_id: str) -> str:
        child = await workflow.start_child_workflow(LongChild.run, id=child_id)
        return str(await child)


async def test_a_reset_over_a_pending_child_is_refused_unless_allowed_and_leaves_the_child_running(
    client: Client, task_queue: str
) -> None:
    """A parent with a running child: the reset is refused (the reset run would not know its child's
    outcome) unless allowed; an allowed reset ends the base run without applying its close policy
    (TERMINATE), as Temporal's reset does: the child goes on."""
    child_id = f"child-{task_queue}"
    async with Worker(client, task_queue=task_queue, workflows=[Parent, LongChild]):
        parent = await client.start_workflow(Parent.run, child_id, id=f"parent-{task_queue}", task_queue=task_queue)
        child = client.get_workflow_handle(child_id)

        async def child_started() -> None:
            """The child runs, and the parent's task that saw it start completed (the last task)."""
            events = (await parent.fetch_history()).events
            started = _ids(events, H.EVENT_TYPE_CHILD_WORKFLOW_EXECUTION_STARTED)
            assert started and _ids(events, H.EVENT_TYPE_WORKFLOW_TASK_COMPLETED)[-1] > started[0], "not yet"

        await assert_eventually(child_started)
        with pytest.raises(RPCError) as refused:
            await parent.reset(reason="fix", type=ResetType.LAST_WORKFLOW_TASK)
        assert refused.value.status.name == "FAILED_PRECONDITION"
        assert (await parent.describe()).status == WorkflowExecutionStatus.RUNNING

        await parent.reset(reason="fix", type=ResetType.FIRST_WORKFLOW_TASK, allow_pending_children=True)
        base = await client.get_workflow_handle(parent.id, run_id=parent.run_id).describe()
        assert base.status == WorkflowExecutionStatus.TERMINATED
        # The base run's close asked nothing of its child: no close-policy task, the child runs.
        history = await client.get_workflow_handle(child_id).fetch_history()
        assert not _ids(history.events, H.EVENT_TYPE_WORKFLOW_EXECUTION_TERMINATED)
        assert (await child.describe()).status == WorkflowExecutionStatus.RUNNING
        await child.signal(LongChild.finish)
        assert await child.result() == "child done"
        await client.get_workflow_handle(parent.id).terminate("test over")
