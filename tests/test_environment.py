"""``WorkflowEnvironment.start_local()``: a real server in the test's process, as users' tests use it."""

from __future__ import annotations

import uuid
from datetime import timedelta

from worker_sdk import Worker, activity, workflow
from worker_sdk.testing import WorkflowEnvironment


@activity.defn
async def double(n: int) -> int:
    return 2 * n


@workflow.defn
class Doubler:
    @workflow.run
    async def run(self, n: int) -> int:
        return await workflow.execute_activity(double, n, start_to_close_timeout=timedelta(seconds=10))


async def test_start_local_runs_a_workflow_and_stops(db_url: str) -> None:
    async with await WorkflowEnvironment.start_local(db_url=db_url) as env:
        queue = f"env-{uuid.uuid4().hex[:8]}"
        async with Worker(env.client, task_queue=queue, workflows=[Doubler], activities=[double]):
            assert await env.client.execute_workflow(Doubler.run, 21, id=queue, task_queue=queue) == 42
        address = env.address
    # Stopped: nothing listens on its port any more.
    host, port = address.rsplit(":", 1)
    import socket

    with socket.socket() as s:
        assert s.connect_ex((host, int(port))) != 0


async def test_start_local_with_its_own_embedded_postgres() -> None:
    env = await WorkflowEnvironment.start_local()
    try:
        queue = f"env-{uuid.uuid4().hex[:8]}"
        async with Worker(env.client, task_queue=queue, workflows=[Doubler], activities=[double]):
            assert await env.client.execute_workflow(Doubler.run, 5, id=queue, task_queue=queue) == 10
        data_dir = env._data_dir
        assert data_dir is not None and data_dir.exists()
    finally:
        await env.shutdown()
    assert not data_dir.exists()
