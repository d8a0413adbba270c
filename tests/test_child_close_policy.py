"""Parent close policies: what a parent's close does to its children (terminate, abandon, request
cancel), also when the server that closed the parent dies before the child is reached.

The policy is a cross-run task written in the transaction that closes the parent, so it survives any
crash: ``test_the_policy_survives_a_server_killed_between_the_parents_close_and_the_childs_end`` holds
the child's row locked so that no server can end it, shows the task's row is in the database, kills
that server with SIGKILL, and sees a server started afterwards terminate the child.
"""

from __future__ import annotations

import asyncpg
import pytest

from tests.helpers import assert_eventually, wf_server_process
from tests.test_children import Waiter, child_started
from wf.history.tasks import TimerKind
from wf.server.app import asyncpg_dsn
from wf.v1 import history_pb2
from worker_sdk import Client, Worker, workflow
from worker_sdk.errors import CancelledError, TerminatedError, WorkflowFailureError

H = history_pb2


@workflow.defn
class LeavesChildBehind:
    """Starts a Waiter child with the given close policy, and completes when told to."""

    def __init__(self) -> None:
        self.finish = False

    @workflow.run
    async def run(self, child_id: str, policy: int) -> str:
        await workflow.start_child_workflow(
            Waiter.run, id=child_id, parent_close_policy=workflow.ParentClosePolicy(policy)
        )
        await workflow.wait_condition(lambda: self.finish)
        return "parent done"

    @workflow.signal
    def done(self) -> None:
        self.finish = True


@workflow.defn
class ContinuesLeavingChild:
    """Starts a Waiter child in its first run, then continues as new: the close policy applies."""

    @workflow.run
    async def run(self, child_id: str, policy: int, first: bool) -> str:
        if first:
            await workflow.start_child_workflow(
                Waiter.run, id=child_id, parent_close_policy=workflow.ParentClosePolicy(policy)
            )
            workflow.continue_as_new(child_id, policy, False)
        return "second run"


@workflow.defn
class CountsDown:
    """A child that continues as new until its count is out: its parent sees the last run's result."""

    @workflow.run
    async def run(self, n: int) -> str:
        if n > 0:
            workflow.continue_as_new(n - 1)
        return f"done in run {workflow.info().run_id}"


@workflow.defn
class AwaitsCountdown:
    @workflow.run
    async def run(self, child_id: str) -> str:
        return str(await workflow.execute_child_workflow(CountsDown.run, 2, id=child_id))


async def close_parent_leaving_child(client: Client, task_queue: str, policy: workflow.ParentClosePolicy) -> str:
    """Run a parent that leaves a running child behind; the child's id."""
    parent_id, child_id = f"p-{policy.name}-{task_queue}", f"c-{policy.name}-{task_queue}"
    parent = await client.start_workflow(
        LeavesChildBehind.run, child_id, int(policy), id=parent_id, task_queue=task_queue
    )
    await child_started(client, parent_id)
    await parent.signal(LeavesChildBehind.done)
    assert await parent.result() == "parent done"
    return child_id


async def test_terminate_ends_the_child_when_the_parent_completes(client: Client, task_queue: str) -> None:
    async with Worker(client, task_queue=task_queue, workflows=[LeavesChildBehind, Waiter]):
        child_id = await close_parent_leaving_child(client, task_queue, workflow.ParentClosePolicy.TERMINATE)
        with pytest.raises(WorkflowFailureError) as ended:
            await client.get_workflow_handle(child_id).result()
    assert isinstance(ended.value.cause, TerminatedError)
    history = await client.get_workflow_handle(child_id).fetch_history()
    terminated = history.events[-1].workflow_execution_terminated_event_attributes
    parent_run = history.events[0].workflow_execution_started_event_attributes.parent_workflow_execution.run_id
    assert terminated.reason == (
        f"parent workflow 'p-TERMINATE-{task_queue}' (run {parent_run}) closed (COMPLETED); "
        "parent close policy TERMINATE"
    )


async def test_abandon_leaves_the_child_running(client: Client, task_queue: str) -> None:
    async with Worker(client, task_queue=task_queue, workflows=[LeavesChildBehind, Waiter]):
        child_id = await close_parent_leaving_child(client, task_queue, workflow.ParentClosePolicy.ABANDON)
        child = client.get_workflow_handle(child_id)
        assert (await child.describe()).status.name == "RUNNING"
        await child.signal(Waiter.release)
        assert await child.result() == "released"


async def test_request_cancel_asks_the_child_to_cancel(client: Client, task_queue: str) -> None:
    async with Worker(client, task_queue=task_queue, workflows=[LeavesChildBehind, Waiter]):
        child_id = await close_parent_leaving_child(client, task_queue, workflow.ParentClosePolicy.REQUEST_CANCEL)
        with pytest.raises(WorkflowFailureError) as ended:
            await client.get_workflow_handle(child_id).result()
    assert isinstance(ended.value.cause, CancelledError)
    history = await client.get_workflow_handle(child_id).fetch_history()
    requested = [e for e in history.events if e.event_type == H.EVENT_TYPE_WORKFLOW_EXECUTION_CANCEL_REQUESTED]
    cause = requested[0].workflow_execution_cancel_requested_event_attributes.cause
    assert "parent close policy REQUEST_CANCEL" in cause


async def test_the_policy_survives_a_server_killed_between_the_parents_close_and_the_childs_end(
    db_url: str, task_queue: str
) -> None:
    conn = await asyncpg.connect(asyncpg_dsn(db_url))
    try:
        async with wf_server_process(db_url) as first:
            client = await Client.connect(first.address)
            try:
                parent_id, child_id = f"p-kill-{task_queue}", f"c-kill-{task_queue}"
                async with Worker(client, task_queue=task_queue, workflows=[LeavesChildBehind, Waiter]):
                    parent = await client.start_workflow(
                        LeavesChildBehind.run, child_id, int(workflow.ParentClosePolicy.TERMINATE),
                        id=parent_id, task_queue=task_queue,
                    )
                    await child_started(client, parent_id)
                    # No server can change the child from here on: its termination waits.
                    await conn.execute("BEGIN")
                    await conn.execute(
                        "SELECT 1 FROM executions WHERE namespace = 'default' AND workflow_id = $1 FOR UPDATE",
                        child_id,
                    )
                    await parent.signal(LeavesChildBehind.done)
                    assert await parent.result() == "parent done"
            finally:
                await client.close()
            policy_rows = (
                "SELECT count(*) FROM timers WHERE workflow_id = $1 AND kind = $2"
            )
            # The parent is closed, the task that ends its child is written and not done.
            assert await conn.fetchval(policy_rows, parent_id, int(TimerKind.PARENT_CLOSE_POLICY)) == 1
            await first.kill()
        await conn.execute("ROLLBACK")
        async with wf_server_process(db_url) as second:
            client = await Client.connect(second.address)
            try:
                with pytest.raises(WorkflowFailureError) as ended:
                    await client.get_workflow_handle(child_id).result()
                assert isinstance(ended.value.cause, TerminatedError)

                async def consumed() -> None:
                    assert await conn.fetchval(policy_rows, parent_id, int(TimerKind.PARENT_CLOSE_POLICY)) == 0

                await assert_eventually(consumed, timeout=20)
            finally:
                await client.close()
    finally:
        await conn.close()


async def test_the_policy_applies_when_the_parent_continues_as_new(client: Client, task_queue: str) -> None:
    parent_id, child_id = f"can-p-{task_queue}", f"can-c-{task_queue}"
    async with Worker(client, task_queue=task_queue, workflows=[ContinuesLeavingChild, Waiter]):
        parent = await client.start_workflow(
            ContinuesLeavingChild.run, child_id, int(workflow.ParentClosePolicy.TERMINATE), True,
            id=parent_id, task_queue=task_queue,
        )
        assert await parent.result() == "second run"
        with pytest.raises(WorkflowFailureError) as ended:
            await client.get_workflow_handle(child_id).result()
    assert isinstance(ended.value.cause, TerminatedError)
    history = await client.get_workflow_handle(child_id).fetch_history()
    assert "(CONTINUED_AS_NEW); parent close policy TERMINATE" in (
        history.events[-1].workflow_execution_terminated_event_attributes.reason
    )


async def test_a_child_that_continues_as_new_reaches_its_parent_once_with_its_last_result(
    client: Client, task_queue: str
) -> None:
    parent_id, child_id = f"cd-p-{task_queue}", f"cd-c-{task_queue}"
    async with Worker(client, task_queue=task_queue, workflows=[AwaitsCountdown, CountsDown]):
        result = await client.execute_workflow(AwaitsCountdown.run, child_id, id=parent_id, task_queue=task_queue)
    last = await client.get_workflow_handle(child_id).describe()
    assert result == f"done in run {last.run_id}"
    assert last.parent is not None and last.parent[0] == parent_id  # the new runs keep the parent
    history = await client.get_workflow_handle(parent_id).fetch_history()
    completed = [e for e in history.events if e.event_type == H.EVENT_TYPE_CHILD_WORKFLOW_EXECUTION_COMPLETED]
    assert len(completed) == 1
    assert completed[0].child_workflow_execution_completed_event_attributes.workflow_execution.run_id == last.run_id
