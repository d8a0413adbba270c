"""Errors the SDK raises to users come from worker_sdk.errors, with the builtin bases they had."""

from __future__ import annotations

from datetime import timedelta

import pytest

from tests.helpers import new_id
from worker_sdk import Client, workflow
from worker_sdk.errors import ResultTimeoutError, WfError


@workflow.defn
class NeverRuns:
    @workflow.run
    async def run(self) -> None:
        return None


async def test_result_past_its_timeout_is_a_result_timeout_and_a_builtin_timeout(
    client: Client, task_queue: str
) -> None:
    # No worker polls this task queue: the run never closes.
    handle = await client.start_workflow(NeverRuns.run, id=new_id("no-worker"), task_queue=task_queue)
    with pytest.raises(ResultTimeoutError, match="did not close within") as info:
        await handle.result(timeout=timedelta(milliseconds=300))
    assert isinstance(info.value, TimeoutError) and isinstance(info.value, WfError)
    with pytest.raises(TimeoutError):  # code written against the builtin goes on working
        await handle.result(timeout=timedelta(milliseconds=100))
    assert (await handle.describe()).status.name == "RUNNING"  # waiting gave up, the run did not
    await handle.terminate("test over")
