"""Continue-as-new end to end: a run closes as ContinuedAsNew and the next run of the same workflow id
starts in the same transaction; real worker, real server, real PostgreSQL."""

from __future__ import annotations

import asyncio
import logging
import uuid
from collections.abc import AsyncIterator
from datetime import timedelta

import asyncpg
import pytest
import pytest_asyncio

from tests.helpers import assert_eventually
from wf.history.limits import Limits
from wf.server.app import Server
from wf.server.config import ServerConfig
from wf.v1 import common_pb2, history_pb2
from worker_sdk import Client, Worker, WorkflowExecutionStatus, activity, workflow
from worker_sdk._client import WorkflowHistory
from worker_sdk.errors import ApplicationError, NondeterminismError, WorkflowFailureError, WorkflowUpdateFailedError
from worker_sdk.testing import Replayer

SECONDS_5 = timedelta(seconds=5)
H = history_pb2


# -- a chain of runs carrying state ------------------------------------------------------------------


@activity.defn
async def add_one(n: int) -> int:
    return n + 1


@workflow.defn
class Counter:
    """Each run adds one by an activity and continues as new until ``runs_left`` runs are done."""

    @workflow.run
    async def run(self, runs_left: int, total: int) -> int:
        total = await workflow.execute_activity(add_one, total, start_to_close_timeout=SECONDS_5)
        if runs_left > 1:
            workflow.continue_as_new(runs_left - 1, total)
        return total


async def test_a_chain_of_100_runs_carries_its_state_and_result_follows_it(client: Client, task_queue: str) -> None:
    async with Worker(client, task_queue=task_queue, workflows=[Counter], activities=[add_one]):
        handle = await client.start_workflow(Counter.run, 100, 0, id=f"chain-{uuid.uuid4()}", task_queue=task_queue)
        assert await handle.result() == 100
        # A handle by workflow id alone follows the chain too (its latest run is the last one).
        assert await client.get_workflow_handle(handle.id).result() == 100

    first = await handle.describe()
    assert first.status == WorkflowExecutionStatus.CONTINUED_AS_NEW
    assert first.first_run_id == handle.run_id
    second_run = first.new_execution_run_id
    assert second_run is not None and second_run != handle.run_id
    second = await client.get_workflow_handle(handle.id, run_id=second_run).describe()
    assert second.status == WorkflowExecutionStatus.CONTINUED_AS_NEW
    assert second.first_run_id == handle.run_id
    last = await client.get_workflow_handle(handle.id).describe()
    assert last.status == WorkflowExecutionStatus.COMPLETED
    assert last.first_run_id == handle.run_id and last.new_execution_run_id is None
    assert last.history_size_bytes > 0
    # Without following, the first run's own outcome: it continued as new.
    with pytest.raises(WorkflowFailureError) as info:
        await client.get_workflow_handle(handle.id, run_id=handle.run_id).result(follow_runs=False)
    assert info.value.status == WorkflowExecutionStatus.CONTINUED_AS_NEW

    # The second run's history: started by continue-as-new, naming the run it continues.
    history = await client.get_workflow_handle(handle.id, run_id=second_run).fetch_history()
    started = history.events[0].workflow_execution_started_event_attributes
    assert started.continued_execution_run_id == handle.run_id
    assert started.first_execution_run_id == handle.run_id
    assert started.initiator == common_pb2.CONTINUE_AS_NEW_INITIATOR_WORKFLOW
    close = (await handle.fetch_history()).events[-1]
    assert close.event_type == H.EVENT_TYPE_WORKFLOW_EXECUTION_CONTINUED_AS_NEW
    assert close.workflow_execution_continued_as_new_event_attributes.new_execution_run_id == second_run
