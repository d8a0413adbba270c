"""Talking to running workflows: durable timers, conditions, signals, cancellation, termination."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import pytest

from tests.helpers import assert_eventually
from wf.server.app import Server
from wf.v1 import history_pb2
from worker_sdk import (
    Client,
    RetryPolicy,
    Worker,
    WorkflowExecutionStatus,
    WorkflowIDConflictPolicy,
    activity,
    workflow,
)
from worker_sdk._replay import event_name
from worker_sdk.errors import (
    CancelledError,
    RPCError,
    TerminatedError,
    WorkflowFailureError,
)

H = history_pb2
T5 = timedelta(seconds=5)


async def event_names(client: Client, workflow_id: str) -> list[str]:
    return [event_name(e.event_type) for e in (await client.get_workflow_handle(workflow_id).fetch_history()).events]


# -- workflows -------------------------------------------------------------------------------------


@workflow.defn
class Sleeper:
    @workflow.run
    async def run(self, seconds: float) -> float:
        start = workflow.now()
        await workflow.sleep(timedelta(seconds=seconds))
        await asyncio.sleep(seconds)  # asyncio.sleep is a durable timer too
        return (workflow.now() - start).total_seconds()


@workflow.defn
class BadSleep:
    @workflow.run
    async def run(self) -> str:
        try:
            await workflow.sleep(timedelta(0))
        except ValueError as exc:
            return str(exc)
        return "no error"


@workflow.defn
class Approval:
    def __init__(self) -> None:
        self.approved_by: str | None = None
        self.total = 0

    @workflow.run
    async def run(self, timeout_seconds: float) -> str:
        try:
            await workflow.wait_condition(lambda: self.approved_by is not None, timeout=timeout_seconds)
        except TimeoutError:
            return "timed out"
        return f"approved by {self.approved_by}"

    @workflow.signal
    def approve(self, who: str) -> None:
        self.approved_by = who


@workflow.defn
class Summer:
    def __init__(self) -> None:
        self.values: list[int] = []

    @workflow.run
    async def run(self, expected: int) -> int:
        await workflow.wait_condition(lambda: len(self.values) >= expected)
        return sum(self.values)

    @workflow.signal(name="add")
    async def add(self, value: int) -> None:
        self.values.append(value)


@workflow.defn
class LateHandler:
    @workflow.run
    async def run(self) -> list[str]:
        received: list[str] = []
        await workflow.sleep(0.2)  # signals arrive before any handler exists: they are buffered
        workflow.set_signal_handler("note", received.append)
        await workflow.wait_condition(lambda: len(received) >= 3)
        return received


@activity.defn
async def cleanup(what: str) -> str:
    return f"cleaned {what}"


@workflow.defn
class Cancellable:
    @workflow.run
    async def run(self) -> str:
        try:
            await workflow.sleep(timedelta(days=1))
        except asyncio.CancelledError:
            # Cleanup still runs activities, then the workflow ends as cancelled.
            await workflow.execute_activity(cleanup, "after sleep", start_to_close_timeout=T5)
            raise
        return "slept a day"


ACTIVITY_STARTED = asyncio.Event()
ACTIVITY_SAW_CANCEL: list[bool] = []


@activity.defn
async def long_running() -> str:
    ACTIVITY_STARTED.set()
    try:
        for _ in range(200):
            activity.heartbeat("working")
            await asyncio.sleep(0.05)
    except asyncio.CancelledError:
        ACTIVITY_SAW_CANCEL.append(activity.is_cancelled())
        raise
    return "finished"


@workflow.defn
class CancelDuringActivity:
    @workflow.run
    async def run(self) -> str:
        try:
            return await workflow.execute_activity(
                long_running,
                start_to_close_timeout=timedelta(seconds=30),
                heartbeat_timeout=timedelta(seconds=2),
                cancellation_type=workflow.ActivityCancellationType.WAIT_CANCELLATION_COMPLETED,
            )
        except asyncio.CancelledError:
            return "activity cancelled, workflow carried on"


# -- tests -----------------------------------------------------------------------------------------


async def test_durable_timers_fire_and_are_recorded(client: Client, task_queue: str) -> None:
    async with Worker(client, task_queue=task_queue, workflows=[Sleeper]):
        elapsed = await client.execute_workflow(Sleeper.run, 0.3, id=f"sleep-{task_queue}", task_queue=task_queue)
    assert elapsed >= 0.6
    names = await event_names(client, f"sleep-{task_queue}")
    assert names.count("TimerStarted") == 2 and names.count("TimerFired") == 2


async def test_zero_length_timer_is_refused_in_the_sdk(client: Client, task_queue: str) -> None:
    async with Worker(client, task_queue=task_queue, workflows=[BadSleep]):
        message = await client.execute_workflow(BadSleep.run, id=f"bad-sleep-{task_queue}", task_queue=task_queue)
    assert "positive duration" in message


async def test_signal_satisfies_a_condition(client: Client, task_queue: str) -> None:
    async with Worker(client, task_queue=task_queue, workflows=[Approval]):
        handle = await client.start_workflow(Approval.run, 60.0, id=f"appr-{task_queue}", task_queue=task_queue)
        await handle.signal(Approval.approve, "ada")
        assert await handle.result() == "approved by ada"


async def test_condition_timeout_raises_timeout_error_in_the_workflow(client: Client, task_queue: str) -> None:
    async with Worker(client, task_queue=task_queue, workflows=[Approval]):
        result = await client.execute_workflow(Approval.run, 0.3, id=f"appr-to-{task_queue}", task_queue=task_queue)
    assert result == "timed out"


async def test_signal_with_wrong_arguments_is_refused_before_sending(client: Client, task_queue: str) -> None:
    handle = await client.start_workflow(Approval.run, 60.0, id=f"appr-bad-{task_queue}", task_queue=task_queue)
    with pytest.raises(TypeError, match="takes 1 argument"):
        await handle.signal(Approval.approve, "a", "b")
    assert "WorkflowExecutionSignaled" not in await event_names(client, handle.id)
    await handle.terminate("test over")


async def test_signal_to_unknown_or_closed_workflow_is_an_error(client: Client, task_queue: str) -> None:
    with pytest.raises(RPCError) as unknown:
        await client.get_workflow_handle(f"nobody-{task_queue}").signal("approve", "x")
    assert unknown.value.status.name == "NOT_FOUND"
    handle = await client.start_workflow(Approval.run, 60.0, id=f"closed-{task_queue}", task_queue=task_queue)
    await handle.terminate("done")
    with pytest.raises(RPCError) as closed:
        await handle.signal(Approval.approve, "late")
    assert closed.value.status.name == "FAILED_PRECONDITION"
    assert "WorkflowExecutionSignaled" not in await event_names(client, handle.id)


async def test_signal_storm_loses_and_duplicates_nothing(client: Client, task_queue: str) -> None:
    senders, per_sender = 20, 100
    async with Worker(client, task_queue=task_queue, workflows=[Summer]):
        handle = await client.start_workflow(
            Summer.run, senders * per_sender, id=f"storm-{task_queue}", task_queue=task_queue
        )

        async def send(sender: int) -> None:
            for i in range(per_sender):
                await handle.signal("add", sender * per_sender + i)

        await asyncio.gather(*(send(s) for s in range(senders)))
        total = await handle.result(timeout=timedelta(seconds=60))
    n = senders * per_sender
    assert total == n * (n - 1) // 2
    names = await event_names(client, handle.id)
    assert names.count("WorkflowExecutionSignaled") == n
    # Batched: far fewer workflow tasks than signals.
    assert names.count("WorkflowTaskCompleted") < n // 5


async def test_signals_without_a_handler_are_buffered_in_order(client: Client, task_queue: str) -> None:
    async with Worker(client, task_queue=task_queue, workflows=[LateHandler]):
        handle = await client.start_workflow(LateHandler.run, id=f"late-{task_queue}", task_queue=task_queue)
        for note in ("one", "two", "three"):
            await handle.signal("note", note)
        assert await handle.result() == ["one", "two", "three"]


async def test_signal_with_start_starts_or_signals_atomically(client: Client, task_queue: str) -> None:
    wid = f"sws-{task_queue}"
    async with Worker(client, task_queue=task_queue, workflows=[Summer]):
        first = await client.start_workflow(
            Summer.run, 2, id=wid, task_queue=task_queue, start_signal="add", start_signal_args=[40]
        )
        second = await client.start_workflow(
            Summer.run, 2, id=wid, task_queue=task_queue, start_signal="add", start_signal_args=[2]
        )
        assert second.run_id == first.run_id  # the running run was signalled, not a new one started
        assert await first.result() == 42
    names = await event_names(client, wid)
    assert names[:2] == ["WorkflowExecutionStarted", "WorkflowExecutionSignaled"]


async def test_cancel_during_a_sleep_runs_cleanup_and_ends_cancelled(client: Client, task_queue: str) -> None:
    async with Worker(client, task_queue=task_queue, workflows=[Cancellable], activities=[cleanup]):
        handle = await client.start_workflow(Cancellable.run, id=f"cancel-{task_queue}", task_queue=task_queue)

        async def sleeping() -> bool:
            return "TimerStarted" in await event_names(client, handle.id)

        await assert_eventually(sleeping)
        await handle.cancel(reason="changed my mind")
        with pytest.raises(WorkflowFailureError) as info:
            await handle.result()
    assert isinstance(info.value.cause, CancelledError)
    assert (await handle.describe()).status == WorkflowExecutionStatus.CANCELED
    names = await event_names(client, handle.id)
    assert "WorkflowExecutionCancelRequested" in names and "TimerCanceled" in names
    assert names.index("ActivityTaskCompleted") < names.index("WorkflowExecutionCanceled")


async def test_cancel_during_an_activity_reaches_the_activity(client: Client, task_queue: str) -> None:
    ACTIVITY_STARTED.clear()
    ACTIVITY_SAW_CANCEL.clear()
    async with Worker(client, task_queue=task_queue, workflows=[CancelDuringActivity], activities=[long_running]):
        handle = await client.start_workflow(
            CancelDuringActivity.run, id=f"cancel-act-{task_queue}", task_queue=task_queue
        )
        await asyncio.wait_for(ACTIVITY_STARTED.wait(), 10)
        await handle.cancel()
        assert await handle.result() == "activity cancelled, workflow carried on"
    assert ACTIVITY_SAW_CANCEL == [True]  # the activity learnt of it through its heartbeat
    names = await event_names(client, handle.id)
    assert "ActivityTaskCancelRequested" in names and "ActivityTaskCanceled" in names


async def test_terminate_closes_at_once(client: Client, task_queue: str) -> None:
    handle = await client.start_workflow(Cancellable.run, id=f"term-{task_queue}", task_queue=task_queue)
    await handle.terminate("operator said so")
    with pytest.raises(WorkflowFailureError) as info:
        await handle.result()
    assert isinstance(info.value.cause, TerminatedError) and "operator said so" in str(info.value.cause)
    assert (await handle.describe()).status == WorkflowExecutionStatus.TERMINATED
    with pytest.raises(RPCError) as again:
        await handle.terminate("twice")
    assert again.value.status.name == "FAILED_PRECONDITION"


async def test_id_conflict_policies(client: Client, task_queue: str) -> None:
    wid = f"conflict-{task_queue}"
    first = await client.start_workflow(Cancellable.run, id=wid, task_queue=task_queue)
    same = await client.start_workflow(
        Cancellable.run, id=wid, task_queue=task_queue, id_conflict_policy=WorkflowIDConflictPolicy.USE_EXISTING
    )
    assert same.run_id == first.run_id
    fresh = await client.start_workflow(
        Cancellable.run, id=wid, task_queue=task_queue, id_conflict_policy=WorkflowIDConflictPolicy.TERMINATE_EXISTING
    )
    assert fresh.run_id != first.run_id
    assert (await client.get_workflow_handle(wid, run_id=first.run_id).describe()).status == (
        WorkflowExecutionStatus.TERMINATED
    )
    await fresh.terminate("test over")


# -- queries ---------------------------------------------------------------------------------------


@workflow.defn
class Status:
    def __init__(self) -> None:
        self.stage = "created"
        self.events: list[str] = []

    @workflow.run
    async def run(self) -> str:
        self.stage = "sleeping"
        await workflow.sleep(timedelta(days=1))
        self.stage = "done"
        return self.stage

    @workflow.signal
    def wake(self) -> None:
        self.stage = "woken"

    @workflow.query
    def current(self) -> str:
        return self.stage

    @workflow.query
    def with_prefix(self, prefix: str) -> str:
        return f"{prefix}{self.stage}"

    @workflow.query
    def sneaky(self) -> str:
        self.stage = "changed by a query"
        return self.stage


@workflow.defn
class Quick:
    def __init__(self) -> None:
        self.answer = 0

    @workflow.run
    async def run(self) -> int:
        self.answer = 42
        return self.answer

    @workflow.query
    def current(self) -> int:
        return self.answer


async def test_query_answers_while_the_workflow_sleeps_a_day(client: Client, task_queue: str) -> None:
    async with Worker(client, task_queue=task_queue, workflows=[Status]):
        handle = await client.start_workflow(Status.run, id=f"q-{task_queue}", task_queue=task_queue)

        async def sleeping() -> bool:
            return "TimerStarted" in await event_names(client, handle.id)

        await assert_eventually(sleeping)
        before = len(await event_names(client, handle.id))
        assert await handle.query(Status.current) == "sleeping"
        assert await handle.query("with_prefix", "now ") == "now sleeping"
        assert len(await event_names(client, handle.id)) == before  # a query records nothing
        await handle.terminate("test over")


async def test_query_on_a_closed_workflow_answers_from_its_final_state(client: Client, task_queue: str) -> None:
    async with Worker(client, task_queue=task_queue, workflows=[Quick]):
        handle = await client.start_workflow(Quick.run, id=f"q-closed-{task_queue}", task_queue=task_queue)
        assert await handle.result() == 42
        assert await handle.query(Quick.current) == 42


async def test_bad_queries_get_clear_errors_and_change_nothing(client: Client, task_queue: str) -> None:
    from worker_sdk.errors import WorkflowQueryFailedError

    async with Worker(client, task_queue=task_queue, workflows=[Status]):
        handle = await client.start_workflow(Status.run, id=f"q-bad-{task_queue}", task_queue=task_queue)

        async def sleeping() -> bool:
            return "TimerStarted" in await event_names(client, handle.id)

        await assert_eventually(sleeping)
        with pytest.raises(WorkflowQueryFailedError, match="no query 'nope' .known: current, sneaky, with_prefix"):
            await handle.query("nope")
        with pytest.raises(WorkflowQueryFailedError, match="must only read state"):
            await handle.query(Status.sneaky)
        with pytest.raises(TypeError, match="takes 1 argument"):
            await handle.query(Status.with_prefix)
        assert await handle.query(Status.current) == "sleeping"
        await handle.terminate("test over")


async def test_query_without_a_worker_fails_after_a_bounded_wait(client: Client, task_queue: str) -> None:
    handle = await client.start_workflow(Status.run, id=f"q-none-{task_queue}", task_queue=task_queue)
    with pytest.raises(RPCError) as info:
        await handle.query(Status.current, timeout=timedelta(seconds=3))
    assert info.value.status.name == "DEADLINE_EXCEEDED"
    assert f"polling task queue {task_queue!r}" in info.value.message
    await handle.terminate("test over")


def test_async_query_handlers_are_refused() -> None:
    with pytest.raises(TypeError, match="must be a plain `def`"):

        @workflow.query
        async def bad(self: object) -> int:
            return 1


async def test_query_reaches_a_worker_polling_another_server(db_url: str, client: Client, task_queue: str) -> None:
    from wf.server.config import ServerConfig

    other = Server(ServerConfig(db_url=db_url, port=0))
    await other.start()
    try:
        other_client = await Client.connect(other.address)
        async with Worker(client, task_queue=task_queue, workflows=[Status]):  # polls the first server
            handle = await client.start_workflow(Status.run, id=f"q-two-{task_queue}", task_queue=task_queue)
            await handle.signal(Status.wake)
            # A query waits for the workflow task the signal scheduled: it sees the signal.
            assert await handle.query(Status.current) == "woken"
            # Asked on the second server, answered by the worker on the first.
            assert await other_client.get_workflow_handle(handle.id).query(Status.current) == "woken"
            await handle.terminate("test over")
        await other_client.close()
    finally:
        await other.stop()


# -- updates ---------------------------------------------------------------------------------------


@activity.defn
async def double(x: int) -> int:
    return 2 * x


@workflow.defn
class Account:
    def __init__(self) -> None:
        self.balance = 0
        self.done = False

    @workflow.run
    async def run(self) -> int:
        await workflow.wait_condition(lambda: self.done)
        return self.balance

    @workflow.update
    async def deposit(self, amount: int) -> int:
        self.balance += await workflow.execute_activity(double, amount, start_to_close_timeout=T5) // 2
        return self.balance

    @deposit.validator
    def _check_deposit(self, amount: int) -> None:
        if amount <= 0:
            raise ValueError(f"deposits must be positive, got {amount}")

    @workflow.update(name="set-name")
    def rename(self, name: str) -> str:
        return f"renamed to {name}"

    @workflow.signal
    def finish(self) -> None:
        self.done = True

    @workflow.query
    def current(self) -> int:
        return self.balance


async def test_update_returns_the_handler_result_and_is_recorded(client: Client, task_queue: str) -> None:
    async with Worker(client, task_queue=task_queue, workflows=[Account], activities=[double]):
        handle = await client.start_workflow(Account.run, id=f"upd-{task_queue}", task_queue=task_queue)
        assert await handle.execute_update(Account.deposit, 10) == 10
        assert await handle.execute_update(Account.deposit, 5) == 15
        assert await handle.execute_update("set-name", "savings") == "renamed to savings"
        await handle.signal(Account.finish)
        assert await handle.result() == 15
    names = await event_names(client, handle.id)
    assert names.count("WorkflowExecutionUpdateAccepted") == 3
    assert names.count("WorkflowExecutionUpdateCompleted") == 3


async def test_rejected_update_records_nothing_and_raises(client: Client, task_queue: str) -> None:
    from worker_sdk.errors import ApplicationError, WorkflowUpdateFailedError

    async with Worker(client, task_queue=task_queue, workflows=[Account], activities=[double]):
        handle = await client.start_workflow(Account.run, id=f"upd-rej-{task_queue}", task_queue=task_queue)
        with pytest.raises(WorkflowUpdateFailedError) as info:
            await handle.execute_update(Account.deposit, -3)
        assert isinstance(info.value.cause, ApplicationError)
        assert "deposits must be positive, got -3" in str(info.value.cause)
        with pytest.raises(WorkflowUpdateFailedError, match="failed") as unknown:
            await handle.execute_update("withdraw", 1)
        assert "no update 'withdraw'" in str(unknown.value.cause)
        with pytest.raises(TypeError, match="takes 1 argument"):
            await handle.execute_update(Account.deposit)
        # By name the client cannot check: the workflow rejects it, and is none the worse.
        with pytest.raises(WorkflowUpdateFailedError) as missing:
            await handle.execute_update("deposit")
        assert "do not fit update 'deposit'" in str(missing.value.cause)
        assert await handle.query(Account.current) == 0
        names = await event_names(client, handle.id)
        assert not [n for n in names if n.startswith("WorkflowExecutionUpdate")]
        assert await handle.execute_update(Account.deposit, 1, timeout=T5) == 1  # and it still works
        await handle.terminate("test over")


async def test_update_on_a_closed_workflow_is_refused(client: Client, task_queue: str) -> None:
    handle = await client.start_workflow(Account.run, id=f"upd-closed-{task_queue}", task_queue=task_queue)
    await handle.terminate("closed first")
    with pytest.raises(RPCError) as info:
        await handle.execute_update(Account.deposit, 1)
    assert info.value.status.name == "FAILED_PRECONDITION"


async def test_execution_timeout_closes_a_sleeping_workflow(client: Client, task_queue: str) -> None:
    from worker_sdk.errors import TimeoutError as WfTimeoutError

    async with Worker(client, task_queue=task_queue, workflows=[Cancellable], activities=[cleanup]):
        handle = await client.start_workflow(
            Cancellable.run, id=f"exec-to-{task_queue}", task_queue=task_queue,
            execution_timeout=timedelta(seconds=1),
        )
        with pytest.raises(WorkflowFailureError) as info:
            await handle.result()
    assert isinstance(info.value.cause, WfTimeoutError)
    assert (await handle.describe()).status == WorkflowExecutionStatus.TIMED_OUT
    assert (await event_names(client, handle.id))[-1] == "WorkflowExecutionTimedOut"


async def test_a_retried_signal_succeeds_after_the_run_closed(stub: object, client: Client, task_queue: str) -> None:
    from wf.v1 import common_pb2, service_pb2

    async with Worker(client, task_queue=task_queue, workflows=[Summer]):
        handle = await client.start_workflow(Summer.run, 1, id=f"retry-sig-{task_queue}", task_queue=task_queue)
        request = service_pb2.SignalWorkflowExecutionRequest(
            namespace="default",
            workflow_execution=common_pb2.WorkflowExecution(workflow_id=handle.id),
            signal_name="add",
            input=await client.data_converter.encode([5]),
            request_id="the-same-request",
        )
        await client.call(client.service.SignalWorkflowExecution, request)
        assert await handle.result() == 5
        # The answer to the first call was lost, say: the retry finds the signal recorded, not an error.
        await client.call(client.service.SignalWorkflowExecution, request)
    assert (await event_names(client, handle.id)).count("WorkflowExecutionSignaled") == 1


async def test_events_before_a_task_starts_do_not_fail_it(stub: object, client: Client, task_queue: str) -> None:
    from tests.helpers import complete_workflow, complete_workflow_task, next_workflow_task

    handle = await client.start_workflow("Anything", id=f"early-{task_queue}", task_queue=task_queue)
    await handle.signal("early", 1)  # arrives while the first task is scheduled, not yet started
    task = await next_workflow_task(stub, task_queue)  # type: ignore[arg-type]
    assert "WorkflowExecutionSignaled" in [event_name(e.event_type) for e in task.history.events]
    await complete_workflow_task(stub, task.task_token, complete_workflow(b'"done"'))  # type: ignore[arg-type]
    names = await event_names(client, handle.id)
    assert "WorkflowTaskFailed" not in names and names[-1] == "WorkflowExecutionCompleted"


# -- heartbeats ------------------------------------------------------------------------------------


@activity.defn
async def resumable(total: int) -> list[object]:
    info = activity.info()
    done = int(info.heartbeat_details[0]) if info.heartbeat_details else 0
    for step in range(done, total):
        activity.heartbeat(step + 1)
        if info.attempt == 1 and step == 2:
            await asyncio.sleep(30)  # stops heartbeating: the heartbeat timeout retries the attempt
    return [info.attempt, done]


@workflow.defn
class Resumes:
    @workflow.run
    async def run(self) -> list[object]:
        return await workflow.execute_activity(
            resumable, 5,
            start_to_close_timeout=timedelta(seconds=60),
            heartbeat_timeout=timedelta(seconds=1),
            retry_policy=RetryPolicy(initial_interval=timedelta(milliseconds=100)),
        )


async def test_heartbeat_timeout_retries_and_details_carry_over(client: Client, task_queue: str) -> None:
    async with Worker(client, task_queue=task_queue, workflows=[Resumes], activities=[resumable],
                      graceful_shutdown_timeout=timedelta(0)):
        attempt, resumed_from = await client.execute_workflow(
            Resumes.run, id=f"hb-{task_queue}", task_queue=task_queue
        )
    # The second attempt started where the first one's last heartbeat left off.
    assert (attempt, resumed_from) == (2, 3)
    history = await client.get_workflow_handle(f"hb-{task_queue}").fetch_history()
    started = [e for e in history.events if e.event_type == history_pb2.EVENT_TYPE_ACTIVITY_TASK_STARTED]
    assert "heartbeat timeout" in started[0].activity_task_started_event_attributes.last_failure.message
