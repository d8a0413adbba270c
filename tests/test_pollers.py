"""Nobody polls the task queue: the server records who polls each queue, ``describe`` and the CLI say
when a pending task waits on a queue no worker polls, and ``wf task-queue describe`` lists pollers and
backlog. Real server, real gRPC, the real ``wf`` console script."""

from __future__ import annotations

import asyncio
import json
import logging
import re
import subprocess
import uuid
from datetime import timedelta

import grpc
import pytest

from tests.helpers import assert_eventually
from tests.test_cli import WF, run_with_stderr_on_a_terminal, wf
from wf.server.app import Server
from wf.v1 import service_pb2
from worker_sdk import Client, Worker, WorkflowIDReusePolicy, activity, workflow
from worker_sdk.errors import RPCError, WorkflowAlreadyStartedError

SECONDS_5 = timedelta(seconds=5)


@activity.defn
async def polled_echo(text: str) -> str:
    return text


@workflow.defn
class PolledEcho:
    @workflow.run
    async def run(self, text: str) -> str:
        return await workflow.execute_activity(polled_echo, text, start_to_close_timeout=SECONDS_5)


def hint(task_queue: str) -> str:
    return (
        f"no worker has polled task queue {task_queue!r} in the last 5 minutes: "
        "is one running, and on this task queue?"
    )


def one_line(terminal: str) -> str:
    """What a terminal showed, with the lines its width wrapped joined again."""
    return re.sub(r"\s+", " ", terminal)


async def tq_cli(*args: str, address: str) -> tuple[int, str, str]:
    """``wf task-queue ARGS --address ADDRESS``."""
    done = await asyncio.to_thread(
        subprocess.run, [WF, "task-queue", *args, "--address", address],
        capture_output=True, text=True, timeout=30,
    )
    return done.returncode, done.stdout, done.stderr


async def test_describe_says_no_worker_polls_the_task_queue(client: Client, task_queue: str) -> None:
    handle = await client.start_workflow(
        PolledEcho.run, "hi", id=f"unpolled-{uuid.uuid4().hex[:8]}", task_queue=task_queue
    )
    described = await handle.describe()
    assert described.raw.pending_workflow_task.task_queue == task_queue
    assert not described.raw.pending_workflow_task.HasField("task_queue_last_poll_time")
    assert described.unpolled_task_queues == [task_queue]
    assert described.waiting_hint == hint(task_queue)

    # Pollers are recorded per kind: a worker with activities only does not take workflow tasks.
    async with Worker(client, task_queue=task_queue, activities=[polled_echo], identity="activities-only"):
        async def activity_pollers() -> None:
            d = await client.describe_task_queue(task_queue)
            assert [(p.identity, p.kind) for p in d.pollers] == [("activities-only", "activity")]
        await assert_eventually(activity_pollers)
        assert (await handle.describe()).waiting_hint == hint(task_queue)
        assert (await client.describe_task_queue(task_queue)).workflow_task_backlog == 1

    async with Worker(client, task_queue=task_queue, workflows=[PolledEcho], activities=[polled_echo],
                      identity="full-worker"):
        assert await handle.result() == "hi"
        assert (await handle.describe()).waiting_hint is None
        d = await client.describe_task_queue(task_queue)
        kinds = {(p.identity, p.kind) for p in d.pollers}
        assert {("full-worker", "workflow"), ("full-worker", "activity"), ("activities-only", "activity")} <= kinds
        assert d.workflow_task_backlog == 0 and d.activity_task_backlog == 0

    # The worker stopped, but polled moments ago: a new run's pending task is not said to be unpolled.
    second = await client.start_workflow(
        PolledEcho.run, "again", id=f"polled-{uuid.uuid4().hex[:8]}", task_queue=task_queue
    )
    described = await second.describe()
    assert described.raw.pending_workflow_task.HasField("task_queue_last_poll_time")
    assert described.waiting_hint is None
    await client.get_workflow_handle(second.id).terminate("done with it")


async def test_task_queue_describe_refuses_a_missing_name(client: Client) -> None:
    with pytest.raises(RPCError) as err:
        await client.describe_task_queue("")
    assert err.value.status == grpc.StatusCode.INVALID_ARGUMENT


async def test_cli_task_queue_describe(server: Server, client: Client, task_queue: str) -> None:
    code, out, err = await tq_cli("describe", "--task-queue", task_queue, address=server.address)
    assert code == 0, err
    assert hint(task_queue) in out

    await client.start_workflow(PolledEcho.run, "x", id=f"tq-cli-{uuid.uuid4().hex[:8]}", task_queue=task_queue)
    code, out, err = await tq_cli("describe", "-t", task_queue, "-o", "json", address=server.address)
    assert code == 0, err
    assert json.loads(out) == {
        "taskQueue": task_queue, "pollers": [], "backlog": {"workflowTasks": 1, "activityTasks": 0}
    }

    async with Worker(client, task_queue=task_queue, workflows=[PolledEcho], activities=[polled_echo],
                      identity="cli-listed-worker"):
        async def listed() -> None:
            code, out, err = await tq_cli("describe", "-t", task_queue, address=server.address)
            assert code == 0, err
            assert "cli-listed-worker" in out and "workflow" in out and "activity" in out
            assert "no worker has polled" not in out
        await assert_eventually(listed)
        code, out, err = await tq_cli("describe", "-t", task_queue, "-o", "json", address=server.address)
        pollers = json.loads(out)["pollers"]
        assert {(p["identity"], p["taskQueueType"]) for p in pollers} == {
            ("cli-listed-worker", "workflow"), ("cli-listed-worker", "activity")
        }
        assert all(p["lastAccessTime"] for p in pollers)


async def test_cli_workflow_describe_says_no_worker_polls(server: Server, client: Client, task_queue: str) -> None:
    handle = await client.start_workflow(PolledEcho.run, "x", id=f"desc-{uuid.uuid4().hex[:8]}", task_queue=task_queue)
    shown = await wf("describe", "-w", handle.id, address=server.address)
    assert shown.returncode == 0, shown.stderr
    assert f"hint: {hint(task_queue)}" in shown.stdout
    assert "(no worker polled it in the last 5 minutes)" in shown.stdout
    as_json = await wf("describe", "-w", handle.id, "-o", "json", address=server.address)
    assert json.loads(as_json.stdout)["hint"] == hint(task_queue)
    await handle.terminate("done with it")
    assert (await handle.describe()).waiting_hint is None  # a closed run waits for nothing
    shown = await wf("describe", "-w", handle.id, address=server.address)
    assert "hint:" not in shown.stdout


async def test_execute_on_a_terminal_says_once_that_no_worker_polls(server: Server, task_queue: str) -> None:
    # No worker: the run waits until its execution timeout; meanwhile the hint is printed once.
    cmd = [WF, "workflow", "execute", "--type", "PolledEcho", "-t", task_queue, "-w", f"exec-{uuid.uuid4().hex[:8]}",
           "-i", '"x"', "--execution-timeout", "7s", "-o", "json", "--address", server.address]
    code, out, err = await asyncio.to_thread(run_with_stderr_on_a_terminal, cmd)
    assert code == 1, err
    assert json.loads(out)["status"] == "TIMED_OUT"
    assert one_line(err).count(f"hint: {hint(task_queue)}") == 1, err


async def test_result_on_a_terminal_says_that_no_worker_polls(
    server: Server, client: Client, task_queue: str
) -> None:
    handle = await client.start_workflow(PolledEcho.run, "x", id=f"res-{uuid.uuid4().hex[:8]}", task_queue=task_queue)
    cmd = [WF, "workflow", "result", "-w", handle.id, "--address", server.address]
    code, _, err = await asyncio.to_thread(run_with_stderr_on_a_terminal, cmd, interrupt_on="hint: no worker")
    assert code == 130
    assert f"hint: {hint(task_queue)}" in one_line(err)
    await handle.terminate("done with it")


# -- messages that point the right way -------------------------------------------------------------


@pytest.mark.parametrize(
    ("policy", "name"),
    [(WorkflowIDReusePolicy.REJECT_DUPLICATE, "RejectDuplicate"),
     (WorkflowIDReusePolicy.ALLOW_DUPLICATE_FAILED_ONLY, "AllowDuplicateFailedOnly")],
)
async def test_reuse_policy_refusal_names_the_policy_and_the_closed_run(
    client: Client, task_queue: str, policy: WorkflowIDReusePolicy, name: str
) -> None:
    workflow_id = f"reuse-{uuid.uuid4().hex[:8]}"
    async with Worker(client, task_queue=task_queue, workflows=[PolledEcho], activities=[polled_echo]):
        first = await client.start_workflow(PolledEcho.run, "1", id=workflow_id, task_queue=task_queue)
        await first.result()
        with pytest.raises(WorkflowAlreadyStartedError) as err:
            await client.start_workflow(
                PolledEcho.run, "2", id=workflow_id, task_queue=task_queue, id_reuse_policy=policy
            )
    message = str(err.value)
    assert f"id reuse policy {name} refuses reusing the id of" in message, message
    assert first.run_id is not None and first.run_id in message and "(COMPLETED)" in message
    assert "already started" not in message
    cause = err.value.__cause__
    assert isinstance(cause, RPCError) and cause.status == grpc.StatusCode.ALREADY_EXISTS


async def test_cli_reuse_policy_refusal(server: Server, client: Client, task_queue: str) -> None:
    workflow_id = f"cli-reuse-{uuid.uuid4().hex[:8]}"
    async with Worker(client, task_queue=task_queue, workflows=[PolledEcho], activities=[polled_echo]):
        await client.execute_workflow(PolledEcho.run, "1", id=workflow_id, task_queue=task_queue)
    again = await wf("start", "--type", "PolledEcho", "-t", task_queue, "-w", workflow_id, "-i", '"2"',
                     "--id-reuse-policy", "RejectDuplicate", address=server.address)
    assert again.returncode == 1
    assert "RejectDuplicate refuses reusing the id of a closed run" in again.stderr
    assert again.stderr.rstrip().endswith("(ALREADY_EXISTS)")


async def test_a_limit_at_its_cap_says_it_cannot_go_higher(client: Client, task_queue: str) -> None:
    # The server's default id limit is the most its flag allows.
    with pytest.raises(RPCError) as err:
        await client.start_workflow(PolledEcho.run, "x", id="w" * 1_001, task_queue=task_queue)
    assert err.value.status == grpc.StatusCode.INVALID_ARGUMENT
    assert "cannot go higher" in err.value.message and "raise it" not in err.value.message


def test_limit_descriptions_below_and_at_the_cap() -> None:
    from wf.history.limits import Limits

    below = Limits(max_id_length=200).describe("max_id_length")
    assert "raise it with `--max-id-length`" in below and "up to 1,000" in below
    at_cap = Limits().describe("max_id_length")
    assert "cannot go higher" in at_cap and "`--max-id-length`" in at_cap
    uncapped = Limits().describe("max_updates_per_run")
    assert "raise it with `--max-updates-per-run`" in uncapped and "up to" not in uncapped


async def test_unknown_workflow_type_fails_the_task_without_a_stack_trace(
    client: Client, task_queue: str, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING, logger="worker_sdk")
    handle = await client.start_workflow("NoSuchType", id=f"unknown-{uuid.uuid4().hex[:8]}", task_queue=task_queue)
    async with Worker(client, task_queue=task_queue, workflows=[PolledEcho], activities=[polled_echo]):
        async def failed() -> service_pb2.PendingWorkflowTaskInfo:
            pending = (await handle.describe()).raw.pending_workflow_task
            assert pending.HasField("last_failure")
            return pending
        pending = await assert_eventually(failed)
    assert "workflow type 'NoSuchType' is not registered on this worker" in pending.last_failure.message
    assert "PolledEcho" in pending.last_failure.message
    assert pending.last_failure.stack_trace == ""
    logged = [r for r in caplog.records if "NoSuchType" in r.getMessage()]
    assert logged and not any(r.exc_info for r in logged)
    await handle.terminate("done with it")
