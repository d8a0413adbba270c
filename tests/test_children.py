"""Child workflows end to end: results, failures, the id conflict, cancellation types, task queues,
two servers of one database, describe, refusals, limits, cancelling other workflows, and replay.

``tests/histories/child.json`` was recorded once from :class:`Parent` below (see ``record_fixture``),
and is checked in: it stands for a run already in production, which today's code must replay.
"""

from __future__ import annotations

import asyncio
import dataclasses
import json
import subprocess
import sys
from pathlib import Path

import grpc
import pytest

from tests.helpers import (
    Stub,
    assert_eventually,
    complete_workflow_task,
    describe,
    fetch_history,
    next_workflow_task,
    rpc_error,
    start_request,
)
from tests.history_check import check_events
from tests.test_cli import wf
from tests.test_replayer import line_of
from wf.history.tasks import TimerKind, TimerRow
from wf.server.app import Server
from wf.v1 import command_pb2, common_pb2, history_pb2, internal_pb2
from worker_sdk import Client, Worker, WorkflowHistory, workflow
from worker_sdk._replay import event_name
from worker_sdk.errors import (
    ApplicationError,
    CancelledError,
    ChildWorkflowError,
    NondeterminismError,
    TerminatedError,
    WorkflowAlreadyStartedError,
    WorkflowFailureError,
)
from worker_sdk.testing import Replayer

H = history_pb2
C = common_pb2
ROOT = Path(__file__).resolve().parent.parent
FIXTURE = ROOT / "tests" / "histories" / "child.json"
WF = str(Path(sys.executable).parent / "wf")


@workflow.defn
class Child:
    @workflow.run
    async def run(self, name: str) -> str:
        parent = workflow.info().parent
        return f"hello {name} from {parent.workflow_id if parent else None}"


@workflow.defn
class Parent:
    @workflow.run
    async def run(self, names: list[str]) -> list[str]:
        results = []
        for name in names:
            results.append(await workflow.execute_child_workflow(Child.run, name))
        return results


@workflow.defn(name="Parent")
class ParentOfAnother:
    """Parent, changed: it starts another type of child than it did (a nondeterministic change)."""

    @workflow.run
    async def run(self, names: list[str]) -> list[str]:
        results = []
        for name in names:
            results.append(await workflow.execute_child_workflow(Failing.run, name))  # changed
        return results


@workflow.defn
class Failing:
    @workflow.run
    async def run(self, name: str) -> str:
        raise ApplicationError(f"{name} cannot be done", type="Impossible")


@workflow.defn
class CatchesChildFailure:
    @workflow.run
    async def run(self) -> str:
        try:
            await workflow.execute_child_workflow(Failing.run, "x", id=f"{workflow.info().workflow_id}-kid")
        except ChildWorkflowError as err:
            cause = err.cause
            assert isinstance(cause, ApplicationError)
            return f"{err.workflow_id} {err.workflow_type}: {cause.type}: {cause.message}"
        return "completed"


@workflow.defn
class LetsChildFailureThrough:
    @workflow.run
    async def run(self) -> str:
        return str(await workflow.execute_child_workflow(Failing.run, "y"))


@workflow.defn
class Waiter:
    """A child that waits until cancelled, signalled or ended; on cancellation it cleans up (a timer of
    two seconds) before it reports the cancellation."""

    def __init__(self) -> None:
        self.done = False

    @workflow.run
    async def run(self) -> str:
        try:
            await workflow.wait_condition(lambda: self.done)
        except asyncio.CancelledError:
            await workflow.sleep(2)
            raise
        return "released"

    @workflow.signal
    def release(self) -> None:
        self.done = True


@workflow.defn
class StartsWaiter:
    """Starts a Waiter child and awaits it; when cancelled, reports what it saw."""

    @workflow.run
    async def run(self, child_id: str, cancellation_type: int, policy: int) -> str:
        handle = await workflow.start_child_workflow(
            Waiter.run, id=child_id,
            cancellation_type=workflow.ChildWorkflowCancellationType(cancellation_type),
            parent_close_policy=workflow.ParentClosePolicy(policy),
        )
        try:
            return str(await handle)
        except asyncio.CancelledError:
            # A request to cancel the child sent with the parent's close would not be delivered (as in
            # Temporal): stay a moment, less than the child's clean-up.
            await workflow.sleep(0.5)
            return "parent saw CancelledError"
        except ChildWorkflowError as err:
            return f"parent saw ChildWorkflowError caused by {type(err.cause).__name__}"


@workflow.defn
class StartsChildWithId:
    @workflow.run
    async def run(self, child_id: str, task_queue: str) -> str:
        try:
            handle = await workflow.start_child_workflow(Child.run, "q", id=child_id, task_queue=task_queue or None)
        except WorkflowAlreadyStartedError as err:
            return f"already started: {err}"
        assert handle.first_execution_run_id
        return str(await handle.result())


@workflow.defn
class SignalsItsChild:
    @workflow.run
    async def run(self) -> str:
        handle = await workflow.start_child_workflow(Waiter.run)
        await handle.signal(Waiter.release)
        return f"{handle.id}: {await handle}"


@workflow.defn
class Leaf:
    @workflow.run
    async def run(self) -> list[str]:
        info = workflow.info()
        assert info.parent is not None and info.root is not None
        return [info.parent.workflow_id, info.root.workflow_id, info.root.run_id]


@workflow.defn
class Middle:
    @workflow.run
    async def run(self) -> list[str]:
        return list(await workflow.execute_child_workflow(Leaf.run, id=f"{workflow.info().workflow_id}-leaf"))


@workflow.defn
class Top:
    @workflow.run
    async def run(self) -> list[str]:
        assert workflow.info().parent is None and workflow.info().root is None
        return list(await workflow.execute_child_workflow(Middle.run, id=f"{workflow.info().workflow_id}-middle"))


@workflow.defn
class Canceller:
    @workflow.run
    async def run(self, target: str) -> str:
        try:
            await workflow.get_external_workflow_handle(target).cancel()
        except ApplicationError as exc:
            return f"{exc.type}: {exc}"
        return "cancel requested"


async def event_names(client: Client, workflow_id: str, run_id: str | None = None) -> list[str]:
    handle = client.get_workflow_handle(workflow_id, run_id=run_id)
    return [event_name(e.event_type) for e in (await handle.fetch_history()).events]


async def child_started(client: Client, parent_id: str) -> str:
    """Wait until the parent has recorded its (one) child's start; the child's run id."""

    async def started() -> str:
        children = (await client.get_workflow_handle(parent_id).describe()).pending_children
        assert children and children[0].run_id, children
        return children[0].run_id

    return await assert_eventually(started, timeout=20)


# -- results and failures -------------------------------------------------------------------------


async def test_a_parent_gets_its_childrens_results(client: Client, task_queue: str) -> None:
    async with Worker(client, task_queue=task_queue, workflows=[Parent, Child]):
        result = await client.execute_workflow(Parent.run, ["a", "b"], id=f"parent-{task_queue}", task_queue=task_queue)
    assert result == [f"hello a from parent-{task_queue}", f"hello b from parent-{task_queue}"]
    names = await event_names(client, f"parent-{task_queue}")
    assert check_events((await client.get_workflow_handle(f"parent-{task_queue}").fetch_history()).events) == []
    assert names.count("StartChildWorkflowExecutionInitiated") == 2
    assert names.count("ChildWorkflowExecutionStarted") == 2
    assert names.count("ChildWorkflowExecutionCompleted") == 2


async def test_a_childs_failure_reaches_the_parent_as_child_workflow_error(client: Client, task_queue: str) -> None:
    async with Worker(client, task_queue=task_queue, workflows=[CatchesChildFailure, LetsChildFailureThrough, Failing]):
        caught = await client.execute_workflow(
            CatchesChildFailure.run, id=f"catches-{task_queue}", task_queue=task_queue
        )
        assert caught == f"catches-{task_queue}-kid Failing: Impossible: x cannot be done"
        with pytest.raises(WorkflowFailureError) as failed:
            await client.execute_workflow(
                LetsChildFailureThrough.run, id=f"through-{task_queue}", task_queue=task_queue
            )
    child_error = failed.value.cause
    assert isinstance(child_error, ChildWorkflowError)
    assert child_error.workflow_type == "Failing"
    assert isinstance(child_error.cause, ApplicationError)
    assert (child_error.cause.type, child_error.cause.message) == ("Impossible", "y cannot be done")
    assert "ChildWorkflowExecutionFailed" in await event_names(client, f"through-{task_queue}")


async def test_a_child_id_already_running_fails_the_start_in_the_parent(client: Client, task_queue: str) -> None:
    async with Worker(client, task_queue=task_queue, workflows=[StartsChildWithId, Waiter, Child]):
        taken = await client.start_workflow(Waiter.run, id=f"taken-{task_queue}", task_queue=task_queue)
        result = await client.execute_workflow(
            StartsChildWithId.run, taken.id, "", id=f"conflict-{task_queue}", task_queue=task_queue
        )
        assert result.startswith(f"already started: child workflow 'taken-{task_queue}' could not start")
        names = await event_names(client, f"conflict-{task_queue}")
        assert "StartChildWorkflowExecutionFailed" in names and "ChildWorkflowExecutionStarted" not in names
        history = await client.get_workflow_handle(f"conflict-{task_queue}").fetch_history()
        failed = next(e for e in history.events if e.event_type == H.EVENT_TYPE_START_CHILD_WORKFLOW_EXECUTION_FAILED)
        assert failed.start_child_workflow_execution_failed_event_attributes.cause == (
            C.START_CHILD_WORKFLOW_EXECUTION_FAILED_CAUSE_WORKFLOW_ALREADY_EXISTS
        )
        await taken.signal(Waiter.release)
        assert await taken.result() == "released"


async def test_a_parent_signals_its_child_through_the_handle(client: Client, task_queue: str) -> None:
    async with Worker(client, task_queue=task_queue, workflows=[SignalsItsChild, Waiter]):
        handle = await client.start_workflow(SignalsItsChild.run, id=f"sig-child-{task_queue}", task_queue=task_queue)
        assert await handle.result() == f"{handle.run_id}-child-1: released"
    history = await handle.fetch_history()
    signaled = [e for e in history.events if e.event_type == H.EVENT_TYPE_SIGNAL_EXTERNAL_WORKFLOW_EXECUTION_INITIATED]
    assert signaled[0].signal_external_workflow_execution_initiated_event_attributes.child_workflow_only


async def test_a_grandchild_knows_its_parent_and_its_root(client: Client, task_queue: str) -> None:
    async with Worker(client, task_queue=task_queue, workflows=[Top, Middle, Leaf]):
        top = await client.start_workflow(Top.run, id=f"top-{task_queue}", task_queue=task_queue)
        assert await top.result() == [f"top-{task_queue}-middle", f"top-{task_queue}", top.run_id]
    leaf = await client.get_workflow_handle(f"top-{task_queue}-middle-leaf").describe()
    assert leaf.parent is not None and leaf.parent[0] == f"top-{task_queue}-middle"
    assert leaf.root == (f"top-{task_queue}", top.run_id)


# -- where children run -----------------------------------------------------------------------------


async def test_parent_and_child_on_different_task_queues_and_workers(client: Client, task_queue: str) -> None:
    child_queue = f"{task_queue}-children"
    async with (
        Worker(client, task_queue=task_queue, workflows=[StartsChildWithId]),
        Worker(client, task_queue=child_queue, workflows=[Child]),
    ):
        result = await client.execute_workflow(
            StartsChildWithId.run, f"kid-{task_queue}", child_queue, id=f"tq-parent-{task_queue}",
            task_queue=task_queue,
        )
    assert result == f"hello q from tq-parent-{task_queue}"
    child = await client.get_workflow_handle(f"kid-{task_queue}").describe()
    assert child.task_queue == child_queue


async def test_parent_and_child_on_two_servers_of_one_database(
    client: Client, server_b: Server, task_queue: str
) -> None:
    child_queue = f"{task_queue}-b"
    client_b = await Client.connect(server_b.address)
    try:
        async with (
            Worker(client, task_queue=task_queue, workflows=[StartsChildWithId]),
            Worker(client_b, task_queue=child_queue, workflows=[Child]),
        ):
            result = await client.execute_workflow(
                StartsChildWithId.run, f"kid-b-{task_queue}", child_queue, id=f"two-servers-{task_queue}",
                task_queue=task_queue,
            )
        assert result == f"hello q from two-servers-{task_queue}"
        described = await client_b.get_workflow_handle(f"kid-b-{task_queue}").describe()
        assert described.parent is not None and described.parent[0] == f"two-servers-{task_queue}"
    finally:
        await client_b.close()


# -- cancellation types -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("cancellation_type", "parent_sees", "before_parent_closes", "not_before"),
    [
        (
            workflow.ChildWorkflowCancellationType.TRY_CANCEL, "parent saw CancelledError",
            ["RequestCancelExternalWorkflowExecutionInitiated"],
            ["ChildWorkflowExecutionCanceled"],
        ),
        (
            workflow.ChildWorkflowCancellationType.WAIT_CANCELLATION_REQUESTED, "parent saw CancelledError",
            ["ExternalWorkflowExecutionCancelRequested"],
            ["ChildWorkflowExecutionCanceled"],
        ),
        (
            workflow.ChildWorkflowCancellationType.WAIT_CANCELLATION_COMPLETED, "parent saw CancelledError",
            ["ExternalWorkflowExecutionCancelRequested", "ChildWorkflowExecutionCanceled"],
            [],
        ),
        (
            workflow.ChildWorkflowCancellationType.ABANDON, "parent saw CancelledError",
            [],
            ["RequestCancelExternalWorkflowExecutionInitiated", "ChildWorkflowExecutionCanceled"],
        ),
    ],
    ids=lambda v: v.name if isinstance(v, workflow.ChildWorkflowCancellationType) else None,
)
async def test_cancelling_the_parent_cancels_the_awaited_child_per_its_cancellation_type(
    client: Client,
    task_queue: str,
    cancellation_type: workflow.ChildWorkflowCancellationType,
    parent_sees: str,
    before_parent_closes: list[str],
    not_before: list[str],
) -> None:
    """The child cleans up for two seconds after its cancellation request, longer than the parent
    stays after its own, so only the parent that waits for the child's close
    (WAIT_CANCELLATION_COMPLETED) records it; the children are abandoned when the parent closes, so
    what the parent's close policy would do does not blur the picture."""
    parent_id, child_id = f"p-{cancellation_type.name}-{task_queue}", f"c-{cancellation_type.name}-{task_queue}"
    async with Worker(client, task_queue=task_queue, workflows=[StartsWaiter, Waiter]):
        parent = await client.start_workflow(
            StartsWaiter.run, child_id, int(cancellation_type), int(workflow.ParentClosePolicy.ABANDON),
            id=parent_id, task_queue=task_queue,
        )
        await child_started(client, parent_id)
        await parent.cancel()
        assert await parent.result() == parent_sees
        names = await event_names(client, parent_id)
        for name in before_parent_closes:
            assert name in names, (name, names)
        for name in not_before:
            assert name not in names, (name, names)
        child = client.get_workflow_handle(child_id)
        if cancellation_type == workflow.ChildWorkflowCancellationType.ABANDON:
            assert (await child.describe()).status.name == "RUNNING"
            await child.signal(Waiter.release)
            assert await child.result() == "released"
        else:
            with pytest.raises(WorkflowFailureError) as ended:
                await child.result()
            assert isinstance(ended.value.cause, CancelledError)


async def test_cancelling_a_start_not_yet_sent_starts_nothing(client: Client, task_queue: str) -> None:
    @workflow.defn(name="ChangesItsMind")
    class ChangesItsMind:
        @workflow.run
        async def run(self, child_id: str) -> str:
            start = asyncio.ensure_future(workflow.start_child_workflow(Waiter.run, id=child_id))
            await asyncio.sleep(0)  # the start's command is asked for
            start.cancel()
            try:
                await start
            except asyncio.CancelledError:
                return "never started"
            return "started"

    async with Worker(client, task_queue=task_queue, workflows=[ChangesItsMind, Waiter]):
        result = await client.execute_workflow(
            ChangesItsMind.run, f"never-{task_queue}", id=f"mind-{task_queue}", task_queue=task_queue
        )
    assert result == "never started"
    assert "StartChildWorkflowExecutionInitiated" not in await event_names(client, f"mind-{task_queue}")


# -- describe -----------------------------------------------------------------------------------------


async def test_describe_shows_parent_root_and_pending_children(
    server: Server, client: Client, task_queue: str
) -> None:
    parent_id, child_id = f"desc-p-{task_queue}", f"desc-c-{task_queue}"
    async with Worker(client, task_queue=task_queue, workflows=[StartsWaiter, Waiter]):
        parent = await client.start_workflow(
            StartsWaiter.run, child_id, int(workflow.ChildWorkflowCancellationType.TRY_CANCEL),
            int(workflow.ParentClosePolicy.REQUEST_CANCEL), id=parent_id, task_queue=task_queue,
        )
        child_run = await child_started(client, parent_id)
        described = await parent.describe()
        [pending] = described.pending_children
        assert (pending.workflow_id, pending.run_id, pending.workflow_type_name) == (child_id, child_run, "Waiter")
        assert pending.parent_close_policy == C.PARENT_CLOSE_POLICY_REQUEST_CANCEL
        assert described.parent is None
        child = await client.get_workflow_handle(child_id).describe()
        assert child.parent == (parent_id, described.run_id)
        assert child.root == (parent_id, described.run_id)

        shown = await wf("describe", "-w", child_id, address=server.address)
        assert shown.returncode == 0, shown.stderr
        assert f"{parent_id} (run {described.run_id})" in shown.stdout
        shown = await wf("describe", "-w", parent_id, address=server.address)
        assert "Pending children" in shown.stdout and child_id in shown.stdout and "REQUEST_CANCEL" in shown.stdout
        data = json.loads((await wf("describe", "-w", child_id, "-o", "json", address=server.address)).stdout)
        assert data["workflowExecutionInfo"]["parentExecution"]["workflowId"] == parent_id
        assert data["workflowExecutionInfo"]["rootExecution"]["workflowId"] == parent_id
        await parent.cancel()
        assert await parent.result() == "parent saw CancelledError"


# -- refusals and limits -----------------------------------------------------------------------------


def start_child_command(workflow_id: str, workflow_type: str) -> command_pb2.Command:
    return command_pb2.Command(
        command_type=command_pb2.COMMAND_TYPE_START_CHILD_WORKFLOW_EXECUTION,
        start_child_workflow_execution_command_attributes=command_pb2.StartChildWorkflowExecutionCommandAttributes(
            workflow_id=workflow_id, workflow_type=C.WorkflowType(name=workflow_type)
        ),
    )


@pytest.mark.parametrize(
    ("workflow_id", "workflow_type", "message"),
    [
        ("", "Child", "command 0: workflow_id of the child is empty"),
        ("kid", "", "command 0: workflow_type of child 'kid' is empty"),
    ],
    ids=["empty id", "empty type"],
)
async def test_a_child_with_an_empty_id_or_type_is_refused_and_nothing_recorded(
    stub: Stub, task_queue: str, workflow_id: str, workflow_type: str, message: str
) -> None:
    wid = f"refused-{task_queue}"
    await stub.StartWorkflowExecution(start_request(wid, task_queue), timeout=10)
    task = await next_workflow_task(stub, task_queue)
    command = start_child_command(workflow_id, workflow_type)
    err = await rpc_error(complete_workflow_task(stub, task.task_token, command))
    assert err.code() == grpc.StatusCode.INVALID_ARGUMENT and err.details() == f"workflow task failed: {message}"
    history = await fetch_history(stub, wid)
    failed = [e for e in history.events if e.event_type == H.EVENT_TYPE_WORKFLOW_TASK_FAILED]
    assert len(failed) == 1
    attrs = failed[0].workflow_task_failed_event_attributes
    assert attrs.cause == C.WORKFLOW_TASK_FAILED_CAUSE_BAD_COMMAND_ATTRIBUTES
    assert attrs.failure.message == message
    assert not [e for e in history.events if e.event_type == H.EVENT_TYPE_START_CHILD_WORKFLOW_EXECUTION_INITIATED]
    assert not (await describe(stub, wid)).pending_children


async def test_workflow_code_naming_no_child_type_gets_a_value_error(client: Client, task_queue: str) -> None:
    @workflow.defn(name="NamesNoChild")
    class NamesNoChild:
        @workflow.run
        async def run(self) -> str:
            try:
                await workflow.start_child_workflow("")
            except ValueError as exc:
                return str(exc)
            return "started"

    async with Worker(client, task_queue=task_queue, workflows=[NamesNoChild]):
        result = await client.execute_workflow(NamesNoChild.run, id=f"no-type-{task_queue}", task_queue=task_queue)
    assert result == "start_child_workflow() needs a workflow type: a run method or a type name"
    assert "StartChildWorkflowExecutionInitiated" not in await event_names(client, f"no-type-{task_queue}")


async def test_pending_children_count_against_the_limit(stub: Stub, server: Server, task_queue: str) -> None:
    """The commands of one workflow task count with the children already pending."""
    limit = server.history.limits.max_pending_children
    wid = f"many-{task_queue}"
    await stub.StartWorkflowExecution(start_request(wid, task_queue), timeout=10)
    task = await next_workflow_task(stub, task_queue)
    commands = [start_child_command(f"{wid}-{i}", "Child") for i in range(limit + 1)]
    await rpc_error(complete_workflow_task(stub, task.task_token, *commands))
    history = await fetch_history(stub, wid)
    failed = [e for e in history.events if e.event_type == H.EVENT_TYPE_WORKFLOW_TASK_FAILED]
    limit_text = server.history.limits.describe("max_pending_children")
    assert failed[0].workflow_task_failed_event_attributes.failure.message == (
        f"command {limit}: more pending child workflows than the {limit_text}"
    )
    assert not [e for e in history.events if e.event_type == H.EVENT_TYPE_START_CHILD_WORKFLOW_EXECUTION_INITIATED]


# -- cancelling other workflows -------------------------------------------------------------------------


async def test_a_workflow_cancels_another_and_a_missing_one_fails_clearly(client: Client, task_queue: str) -> None:
    async with Worker(client, task_queue=task_queue, workflows=[Canceller, Waiter]):
        target = await client.start_workflow(Waiter.run, id=f"target-{task_queue}", task_queue=task_queue)
        result = await client.execute_workflow(
            Canceller.run, target.id, id=f"canceller-{task_queue}", task_queue=task_queue
        )
        assert result == "cancel requested"
        with pytest.raises(WorkflowFailureError) as ended:
            await target.result()
        assert isinstance(ended.value.cause, CancelledError)
        names = await event_names(client, f"canceller-{task_queue}")
        assert "RequestCancelExternalWorkflowExecutionInitiated" in names
        assert "ExternalWorkflowExecutionCancelRequested" in names
        assert "WorkflowExecutionCancelRequested" in await event_names(client, target.id)

        missing = await client.execute_workflow(
            Canceller.run, f"nobody-{task_queue}", id=f"canceller-missing-{task_queue}", task_queue=task_queue
        )
        assert missing == (
            f"ExternalWorkflowExecutionNotFound: unable to cancel workflow 'nobody-{task_queue}': "
            "it was not found, or it is closed"
        )
        assert "RequestCancelExternalWorkflowExecutionFailed" in await event_names(
            client, f"canceller-missing-{task_queue}"
        )


async def test_a_terminated_child_reaches_the_parent_as_terminated(client: Client, task_queue: str) -> None:
    parent_id, child_id = f"term-p-{task_queue}", f"term-c-{task_queue}"
    async with Worker(client, task_queue=task_queue, workflows=[StartsWaiter, Waiter]):
        parent = await client.start_workflow(
            StartsWaiter.run, child_id, int(workflow.ChildWorkflowCancellationType.TRY_CANCEL),
            int(workflow.ParentClosePolicy.TERMINATE), id=parent_id, task_queue=task_queue,
        )
        await child_started(client, parent_id)
        await client.get_workflow_handle(child_id).terminate("enough")
        assert await parent.result() == f"parent saw ChildWorkflowError caused by {TerminatedError.__name__}"
    assert "ChildWorkflowExecutionTerminated" in await event_names(client, parent_id)


# -- replay -------------------------------------------------------------------------------------------


def test_the_recorded_history_replays_with_todays_code() -> None:
    done = subprocess.run(
        [WF, "replay", "--history", str(FIXTURE), "--workflows", "tests.test_children:Parent"],
        cwd=ROOT, capture_output=True, text=True, timeout=60, check=False,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert done.stdout == f"ok {FIXTURE}\n"


async def test_a_changed_child_type_is_nondeterminism_naming_the_event() -> None:
    history = WorkflowHistory.from_json("parent-fixture", FIXTURE.read_text())
    with pytest.raises(NondeterminismError) as err:
        await Replayer(workflows=[ParentOfAnother]).replay_workflow(history)
    message = str(err.value)
    initiated = next(
        e for e in history.events if e.event_type == H.EVENT_TYPE_START_CHILD_WORKFLOW_EXECUTION_INITIATED
    )
    child_id = initiated.start_child_workflow_execution_initiated_event_attributes.workflow_id
    run_id = history.events[0].workflow_execution_started_event_attributes.original_execution_run_id
    assert child_id == f"{run_id}-child-1"  # the default id: the parent's run and a sequence number
    assert f"nondeterminism at history event {initiated.event_id}" in message
    assert f"StartChildWorkflowExecutionInitiated(workflow 'Child', id {child_id!r})" in message
    assert f"StartChildWorkflowExecution(workflow 'Failing', id {child_id!r})" in message
    assert f"test_children.py:{line_of(ParentOfAnother, '# changed')}" in message


async def record_fixture(client: Client) -> None:
    """How ``tests/histories/child.json`` was recorded (kept for the record)."""
    async with Worker(client, task_queue="fixture", workflows=[Parent, Child]):
        await client.execute_workflow(Parent.run, ["a", "b"], id="parent-fixture", task_queue="fixture")
    history = await client.get_workflow_handle("parent-fixture").fetch_history()
    FIXTURE.write_text(history.to_json() + "\n")


async def test_the_readme_child_workflow_snippet_runs_as_written(client: Client, task_queue: str) -> None:
    from tests.test_readme import python_block

    namespace: dict[str, object] = {"workflow": workflow, "ChildWorkflowError": ChildWorkflowError}
    exec(compile(python_block(r"^class Order:").text, "README.md", "exec"), namespace)  # noqa: S102
    order, charge = namespace["Order"], namespace["Charge"]
    async with Worker(client, task_queue=task_queue, workflows=[order, charge]):
        result = await client.execute_workflow(
            "Order", f"o-{task_queue}", id=f"order-{task_queue}", task_queue=task_queue
        )
    assert result == f"charged o-{task_queue}; charged o-{task_queue}-fee"
    names = await event_names(client, f"order-{task_queue}")
    assert names.count("ChildWorkflowExecutionCompleted") == 2


# -- cross-run tasks fired again -----------------------------------------------------------------------


@workflow.defn
class WaitsAfterChild:
    def __init__(self) -> None:
        self.finish = False

    @workflow.run
    async def run(self, child_id: str) -> str:
        result = await workflow.execute_child_workflow(Child.run, "again", id=child_id)
        await workflow.wait_condition(lambda: self.finish)
        return result

    @workflow.signal
    def done(self) -> None:
        self.finish = True


async def test_a_child_task_fired_again_starts_and_records_once(
    server: Server, client: Client, task_queue: str
) -> None:
    """A server that dies after a child task's act and before recording its outcome fires it again:
    the start gets the same run back (its request id is the parent's run and event), and the close is
    recorded once."""
    parent_id, child_id = f"again-p-{task_queue}", f"again-c-{task_queue}"
    async with Worker(client, task_queue=task_queue, workflows=[WaitsAfterChild, Child]):
        parent = await client.start_workflow(WaitsAfterChild.run, child_id, id=parent_id, task_queue=task_queue)

        async def child_recorded() -> None:
            assert "ChildWorkflowExecutionCompleted" in await event_names(client, parent_id)

        await assert_eventually(child_recorded, timeout=20)
        parent_record = await server.history.resolve_run("default", parent_id, "")
        child_record = await server.history.resolve_run("default", child_id, "")
        history = await parent.fetch_history()
        initiated = next(
            e.event_id for e in history.events
            if e.event_type == H.EVENT_TYPE_START_CHILD_WORKFLOW_EXECUTION_INITIATED
        )
        # START_CHILD again, as if its outcome had not been recorded: the same child run.
        state = internal_pb2.MutableState.FromString(parent_record.state)
        state.children[initiated].CopyFrom(internal_pb2.ChildState(
            initiated_event_id=initiated, namespace="default", workflow_id=child_id, workflow_type="Child",
            parent_close_policy=C.PARENT_CLOSE_POLICY_TERMINATE,
        ))
        before = dataclasses.replace(parent_record, state=state.SerializeToString())
        row = TimerRow("default", parent_id, parent_record.run_id, f"child:{initiated}", parent_record.start_time,
                       TimerKind.START_CHILD, initiated, 1)
        record = await server.history.cross_run.kinds[TimerKind.START_CHILD].act(before, row)
        started: list[tuple[int, str]] = []

        class Capture:
            def add_child_workflow_execution_started(self, initiated_event_id: int, run_id: str) -> None:
                started.append((initiated_event_id, run_id))

        assert record is not None
        record(Capture())  # type: ignore[arg-type]
        assert started == [(initiated, child_record.run_id)]
        # CHILD_CLOSED again: nothing more on the parent.
        closed_row = TimerRow("default", child_id, child_record.run_id, "child-closed", child_record.start_time,
                              TimerKind.CHILD_CLOSED, initiated, 1)
        await server.history.cross_run.kinds[TimerKind.CHILD_CLOSED].act(child_record, closed_row)
        await parent.signal(WaitsAfterChild.done)
        assert await parent.result() == f"hello again from {parent_id}"
    names = await event_names(client, parent_id)
    assert names.count("ChildWorkflowExecutionStarted") == 1
    assert names.count("ChildWorkflowExecutionCompleted") == 1
    runs = [e async for e in client.list_workflows(f"WorkflowId = '{child_id}'")]
    assert len(runs) == 1


# -- a child's search attributes and memo -------------------------------------------------------------


@workflow.defn
class Tagged:
    @workflow.run
    async def run(self) -> dict[str, object]:
        return {"attributes": workflow.info().search_attributes, "memo": workflow.memo()}


@workflow.defn
class StartsTagged:
    @workflow.run
    async def run(self, child_id: str, attribute: str) -> dict[str, object]:
        result: dict[str, object] = await workflow.execute_child_workflow(
            Tagged.run, id=child_id, search_attributes={attribute: "c-17"}, memo={"note": "from the parent"}
        )
        return result


async def test_a_child_starts_with_its_search_attributes_and_memo_and_a_bad_one_is_refused(
    client: Client, task_queue: str
) -> None:
    from worker_sdk import SearchAttributeIndexedValueType

    attribute = f"ChildCustomer{task_queue.replace('-', '')}"
    await client.add_search_attributes({attribute: SearchAttributeIndexedValueType.KEYWORD})
    child_id = f"tagged-{task_queue}"
    async with Worker(client, task_queue=task_queue, workflows=[StartsTagged, Tagged]):
        result = await client.execute_workflow(
            StartsTagged.run, child_id, attribute, id=f"tags-{task_queue}", task_queue=task_queue
        )
        assert result == {"attributes": {attribute: "c-17"}, "memo": {"note": "from the parent"}}
        described = await client.get_workflow_handle(child_id).describe()
        assert described.search_attributes == {attribute: "c-17"}
        found = [e async for e in client.list_workflows(f"{attribute} = 'c-17'")]
        assert [e.id for e in found] == [child_id]

        # An attribute the namespace does not have: the parent's task is refused, no child starts.
        parent = await client.start_workflow(
            StartsTagged.run, f"{child_id}-bad", "NoSuchAttribute", id=f"tags-bad-{task_queue}", task_queue=task_queue
        )

        async def refused() -> None:
            failed = [e for e in (await parent.fetch_history()).events
                      if e.event_type == history_pb2.EVENT_TYPE_WORKFLOW_TASK_FAILED]
            assert failed, "the task was not refused yet"
            assert "NoSuchAttribute" in failed[0].workflow_task_failed_event_attributes.failure.message

        await assert_eventually(refused)
        names = [event_name(e.event_type) for e in (await parent.fetch_history()).events]
        assert "StartChildWorkflowExecutionInitiated" not in names
        await parent.terminate("test over")
