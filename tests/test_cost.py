"""What a run costs: its counters after a workflow with known activities, retries, a failed workflow
task, a signal and known payload sizes, shown by describe, ``wf workflow describe`` and carried by
``wf workflow list -o json``; real worker, real server, real PostgreSQL."""

from __future__ import annotations

import asyncio
import json
import re
import subprocess
from datetime import timedelta
from typing import Any

from tests.helpers import assert_eventually, new_id, wf_executable
from wf.server.app import Server
from wf.v1 import common_pb2, history_pb2
from worker_sdk import Client, RetryPolicy, Worker, activity, workflow
from worker_sdk.errors import ApplicationError

H = history_pb2
SECONDS_5 = timedelta(seconds=5)
QUICK_RETRY = RetryPolicy(initial_interval=timedelta(milliseconds=10), maximum_attempts=5)
failures_left: dict[str, int] = {}
task_failures_left: dict[str, int] = {}


@activity.defn
async def flaky(key: str) -> str:
    if failures_left.get(key, 0) > 0:
        failures_left[key] -= 1
        raise ApplicationError("not yet")
    return "ok:" + key


@activity.defn
async def echo(text: str) -> str:
    return text


@workflow.defn
class Costly:
    def __init__(self) -> None:
        self.note = ""

    @workflow.run
    async def run(self, key: str) -> str:
        if task_failures_left.get(key, 0) > 0:
            task_failures_left[key] -= 1
            raise RuntimeError("a bug, fixed by the next attempt")  # fails the workflow task
        first = await workflow.execute_activity(flaky, key, start_to_close_timeout=SECONDS_5, retry_policy=QUICK_RETRY)
        second = await workflow.execute_activity(echo, "e" * 300, start_to_close_timeout=SECONDS_5)
        await workflow.wait_condition(lambda: bool(self.note))
        return f"{first}/{len(second)}/{self.note}"

    @workflow.signal
    def tell(self, note: str) -> None:
        self.note = note

    @workflow.query
    def waiting(self) -> bool:
        return not self.note


async def size(client: Client, *values: Any) -> int:
    """Bytes of the payloads ``values`` are encoded as (data and metadata), each on its own."""
    total = 0
    for value in values:
        for p in (await client.data_converter.encode([value])).payloads:
            total += len(p.data) + sum(len(k) + len(v) for k, v in p.metadata.items())
    return total


def wf(server: Server, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([wf_executable(), *args, "--address", server.address], capture_output=True, text=True,
                          timeout=60)


async def test_a_run_counts_its_cost(server: Server, client: Client, task_queue: str) -> None:
    key = new_id("cost")
    failures_left[key] = 2
    task_failures_left[key] = 1
    note = "n" * 50
    async with Worker(client, task_queue=task_queue, workflows=[Costly], activities=[flaky, echo]):
        handle = await client.start_workflow(Costly.run, key, id=key, task_queue=task_queue)
        await assert_eventually(lambda: handle.query(Costly.waiting))
        await handle.signal(Costly.tell, note)
        result = await handle.result()
    assert result == f"ok:{key}/300/{note}"
    d = await handle.describe()
    cost = d.cost
    assert cost is not None
    history = (await handle.fetch_history()).events
    started = [e for e in history if e.event_type == H.EVENT_TYPE_WORKFLOW_TASK_STARTED]
    assert cost.workflow_tasks == len(started) >= 4
    assert cost.workflow_task_failures == 1
    assert cost.activity_attempts == 3 + 1  # flaky: two failures then success; echo: once
    assert cost.payload_bytes_in == await size(client, key, note, f"ok:{key}", "e" * 300)
    assert cost.payload_bytes_out == await size(client, key, "e" * 300, result)
    assert cost.history_length == len(history)
    assert cost.history_size_bytes == sum(len(e.SerializeToString()) for e in history)
    record = await server.history.runs.store.load("default", key, d.run_id)
    assert record is not None
    assert cost.state_transitions == record.db_version > 0

    described = await asyncio.to_thread(wf, server, "workflow", "describe", "-w", key)
    assert described.returncode == 0, described.stderr
    assert re.search(r"Activity attempts\s+4\n", described.stdout), described.stdout
    assert re.search(r"Workflow tasks\s+\d+ \(1 failed or timed out\)", described.stdout), described.stdout
    listed = await asyncio.to_thread(
        wf, server, "workflow", "list", "-q", f"WorkflowId = '{key}'", "--output", "json"
    )
    assert listed.returncode == 0, listed.stderr
    (row,) = json.loads(listed.stdout)
    assert row["cost"]["activityAttempts"] == 4
    assert row["cost"]["workflowTaskFailures"] == 1
    assert row["cost"]["payloadBytesIn"] == cost.payload_bytes_in
    assert row["cost"]["stateTransitionCount"] == cost.state_transitions


def test_payload_bytes_count_data_and_metadata_without_decoding() -> None:
    from wf.history.cost import count_event
    from wf.v1 import internal_pb2

    cost = internal_pb2.RunCost()
    payload = common_pb2.Payload(metadata={"encoding": b"binary/encrypted"}, data=b"\x00" * 10)
    event = H.HistoryEvent(
        event_type=H.EVENT_TYPE_WORKFLOW_EXECUTION_SIGNALED,
        workflow_execution_signaled_event_attributes=H.WorkflowExecutionSignaledEventAttributes(
            input=common_pb2.Payloads(payloads=[payload, payload])
        ),
    )
    count_event(cost, event)
    assert cost.payload_bytes_in == 2 * (10 + len("encoding") + len("binary/encrypted"))
    assert cost.payload_bytes_out == 0
