"""``wf workflow …`` as users run it: the real console script in a subprocess, against the session server,
with a worker for the test's task queue running in the test process."""

from __future__ import annotations

import asyncio
import json
import os
import pty
import select
import signal
import subprocess
import sys
import uuid
from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import grpc
import pytest
import pytest_asyncio
from google.protobuf import json_format

from tests.helpers import assert_eventually, free_port, wf_server_process
from wf.server.app import Server
from wf.v1 import history_pb2
from worker_sdk import Client, Worker, activity, workflow
from worker_sdk.errors import ApplicationError, RPCError

WF = str(Path(sys.executable).parent / "wf")
SECONDS_5 = timedelta(seconds=5)


@activity.defn
async def cli_greet(name: str) -> str:
    return f"Hello, {name}!"


@activity.defn
async def cli_charge(amount: int) -> None:
    raise ApplicationError(f"card declined for {amount}", type="CardDeclined", non_retryable=True)


@activity.defn
async def cli_nap(seconds: float) -> str:
    await asyncio.sleep(seconds)
    return "rested"


@workflow.defn
class CliGreeting:
    @workflow.run
    async def run(self, name: str, punctuation: str = "") -> str:
        greeting = await workflow.execute_activity(cli_greet, name, start_to_close_timeout=SECONDS_5)
        return greeting + punctuation


@workflow.defn
class CliCharge:
    @workflow.run
    async def run(self, amount: int) -> None:
        await workflow.execute_activity(cli_charge, amount, start_to_close_timeout=SECONDS_5)


@workflow.defn
class CliNapper:
    @workflow.run
    async def run(self, seconds: float) -> str:
        return await workflow.execute_activity(cli_nap, seconds, start_to_close_timeout=SECONDS_5)


@workflow.defn
class CliBuggy:
    @workflow.run
    async def run(self) -> None:
        raise RuntimeError("bug in workflow code")  # not a FailureError: fails the task, not the run


@workflow.defn
class CliWaiter:
    def __init__(self) -> None:
        self.x: str | None = None

    @workflow.run
    async def run(self) -> str:
        await workflow.wait_condition(lambda: self.x is not None)
        return f"got {self.x}"

    @workflow.signal
    def set_x(self, x: str) -> None:
        self.x = x

    @workflow.query
    def x_value(self) -> str | None:
        return self.x

    @workflow.query
    def x_with(self, prefix: str, suffix: str) -> str:
        return f"{prefix}{self.x}{suffix}"


@workflow.defn
class CliSleeper:
    @workflow.run
    async def run(self) -> None:
        await workflow.sleep(timedelta(days=1))


@workflow.defn
class CliCounter:
    def __init__(self) -> None:
        self.total = 0
        self.done = False

    @workflow.run
    async def run(self) -> int:
        await workflow.wait_condition(lambda: self.done)
        return self.total

    @workflow.update
    async def add(self, n: int) -> int:
        self.total += n
        return self.total

    @add.validator
    def _check(self, n: int) -> None:
        if n < 0:
            raise ValueError(f"cannot add a negative number, got {n}")

    @workflow.update
    def refuse(self, why: str) -> None:
        raise ApplicationError(why, type="Refused")  # after the validator: recorded as a failed update

    @workflow.signal
    def finish(self) -> None:
        self.done = True


@pytest_asyncio.fixture(loop_scope="session")
async def worker(client: Client, task_queue: str) -> AsyncIterator[Worker]:
    async with Worker(
        client, task_queue=task_queue,
        workflows=[CliGreeting, CliCharge, CliBuggy, CliNapper, CliWaiter, CliSleeper, CliCounter],
        activities=[cli_greet, cli_charge, cli_nap],
    ) as w:
        yield w


async def wf(
    *args: str, address: str | None = None, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    """``wf workflow ARGS --address ADDRESS``, run without blocking the event loop the server runs on."""
    cmd = [WF, "workflow", *args, *(["--address", address] if address else [])]
    environ = {k: v for k, v in os.environ.items() if not k.startswith("WF_")} | (env or {})
    return await asyncio.to_thread(subprocess.run, cmd, capture_output=True, text=True, timeout=30, env=environ)


def _as_in_a_terminal() -> None:
    """In a child about to run a command: Ctrl-C does what it does in a terminal, even when the
    tests themselves run where SIGINT is ignored (a shell's background job inherits that, and so
    would every command it starts)."""
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def run_with_stderr_on_a_terminal(cmd: list[str], *, interrupt_on: str | None = None) -> tuple[int, str, str]:
    """Run ``cmd`` with stdout piped and stderr on a pseudo-terminal, as when a person watches; press
    Ctrl-C (SIGINT) once ``interrupt_on`` appears there."""
    master, slave = pty.openpty()
    env = {**os.environ, "TERM": "xterm"}
    with subprocess.Popen(
        cmd, stdout=subprocess.PIPE, stderr=slave, env=env, text=True, preexec_fn=_as_in_a_terminal
    ) as proc:
        os.close(slave)
        err = b""
        while True:
            if select.select([master], [], [], 0.1)[0]:
                try:
                    chunk = os.read(master, 4096)
                except OSError:  # Linux: EIO once the child has closed its end
                    chunk = b""
                if not chunk:
                    break
                err += chunk
                if interrupt_on is not None and interrupt_on.encode() in err:
                    proc.send_signal(signal.SIGINT)
                    interrupt_on = None
            elif proc.poll() is not None:
                break
        assert proc.stdout is not None
        out = proc.stdout.read()
    os.close(master)
    return proc.wait(timeout=30), out, err.decode(errors="replace")


def wid(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:8]}"


async def test_start_then_result(server: Server, worker: Worker, task_queue: str) -> None:
    workflow_id = wid("cli-start")
    started = await wf("start", "--type", "CliGreeting", "-t", task_queue, "-w", workflow_id,
                       "-i", '"CLI"', "-i", '"?"', "-o", "json", address=server.address)
    assert started.returncode == 0, started.stderr
    ids = json.loads(started.stdout)
    assert ids["workflowId"] == workflow_id and ids["runId"]

    result = await wf("result", "-w", workflow_id, address=server.address)
    assert result.returncode == 0, result.stderr
    assert '"Hello, CLI!?"' in result.stdout and ids["runId"] in result.stdout

    as_json = await wf("result", "-w", workflow_id, "-r", ids["runId"], "-o", "json", address=server.address)
    assert json.loads(as_json.stdout) == {
        "workflowId": workflow_id, "runId": ids["runId"], "status": "COMPLETED", "result": "Hello, CLI!?"
    }


async def test_execute_prints_the_result(server: Server, worker: Worker, task_queue: str) -> None:
    workflow_id = wid("cli-execute")
    done = await wf("execute", "--type", "CliGreeting", "--task-queue", task_queue, "--workflow-id", workflow_id,
                    "--input", '"world"', "--execution-timeout", "1m", "--output", "json", address=server.address)
    assert done.returncode == 0, done.stderr
    out = json.loads(done.stdout)
    assert out["workflowId"] == workflow_id and out["runId"]
    assert (out["status"], out["result"]) == ("COMPLETED", "Hello, world!")
    assert done.stderr == ""  # no spinner when stderr is not a terminal


async def test_execute_shows_progress_on_a_terminal(server: Server, worker: Worker, task_queue: str) -> None:
    workflow_id = wid("cli-progress")
    cmd = [WF, "workflow", "execute", "--type", "CliNapper", "-t", task_queue, "-w", workflow_id, "-i", "1.5",
           "-o", "json", "--address", server.address]
    code, out, err = await asyncio.to_thread(run_with_stderr_on_a_terminal, cmd)
    assert code == 0, err
    assert json.loads(out)["result"] == "rested"
    assert f"Waiting for {workflow_id}" in err
    assert "activity cli_nap" in err  # the status line follows the run's pending work


async def test_execute_failing_workflow_prints_the_chain(server: Server, worker: Worker, task_queue: str) -> None:
    workflow_id = wid("cli-fail")
    done = await wf("execute", "--type", "CliCharge", "-t", task_queue, "-w", workflow_id, "-i", "42",
                    address=server.address)
    assert done.returncode == 1, done.stdout + done.stderr
    assert "FAILED" in done.stdout
    assert "ActivityError(cli_charge)" in done.stdout
    assert "caused by CardDeclined: card declined for 42" in done.stdout
    assert "Traceback" not in done.stderr

    as_json = await wf("result", "-w", workflow_id, "-o", "json", address=server.address)
    assert as_json.returncode == 1
    out = json.loads(as_json.stdout)
    assert out["status"] == "FAILED"
    assert out["failure"]["cause"]["message"] == "card declined for 42"


async def test_describe(server: Server, client: Client, worker: Worker, task_queue: str) -> None:
    handle = await client.start_workflow(CliGreeting.run, "describe", id=wid("cli-describe"), task_queue=task_queue)
    await handle.result()

    as_json = await wf("describe", "-w", handle.id, "-o", "json", address=server.address)
    assert as_json.returncode == 0, as_json.stderr
    info = json.loads(as_json.stdout)["workflowExecutionInfo"]
    assert info["status"] == "WORKFLOW_EXECUTION_STATUS_COMPLETED"
    assert info["execution"] == {"workflowId": handle.id, "runId": handle.run_id}

    table = await wf("describe", "-w", handle.id, address=server.address)
    assert table.returncode == 0, table.stderr
    for expected in (handle.id, handle.run_id or "", "CliGreeting", "COMPLETED", task_queue, '"Hello, describe!"'):
        assert expected in table.stdout


async def test_describe_shows_a_failing_workflow_task_with_its_traceback(
    server: Server, client: Client, worker: Worker, task_queue: str
) -> None:
    handle = await client.start_workflow(
        "CliBuggy", id=wid("cli-buggy"), task_queue=task_queue, run_timeout=timedelta(seconds=20)
    )

    async def task_failed() -> None:
        assert (await handle.describe()).last_workflow_task_failure is not None

    await assert_eventually(task_failed)
    table = await wf("describe", "-w", handle.id, address=server.address)
    assert table.returncode == 0, table.stderr
    assert "Pending workflow task" in table.stdout
    assert "RuntimeError: bug in workflow code" in table.stdout
    assert "Traceback" in table.stdout and "test_cli.py" in table.stdout  # the worker's stack trace


async def test_show(server: Server, client: Client, worker: Worker, task_queue: str) -> None:
    handle = await client.start_workflow(CliGreeting.run, "show", id=wid("cli-show"), task_queue=task_queue)
    await handle.result()

    table = await wf("show", "-w", handle.id, address=server.address)
    assert table.returncode == 0, table.stderr
    for expected in ("WorkflowExecutionStarted", "ActivityTaskScheduled", "activityType=cli_greet",
                     "ActivityTaskCompleted", '"Hello, show!"', "WorkflowExecutionCompleted"):
        assert expected in table.stdout

    as_json = await wf("show", "-w", handle.id, "-r", handle.run_id or "", "-o", "json", address=server.address)
    assert as_json.returncode == 0, as_json.stderr
    history = json_format.Parse(as_json.stdout, history_pb2.History())
    assert len(history.events) == len((await handle.fetch_history()).events)


async def test_list_with_a_query(server: Server, client: Client, worker: Worker, task_queue: str) -> None:
    greetings = [
        await client.start_workflow(CliGreeting.run, "list", id=wid("cli-list"), task_queue=task_queue)
        for _ in range(2)
    ]
    charge = await client.start_workflow(CliCharge.run, 1, id=wid("cli-list-other"), task_queue=task_queue)
    for h in greetings:
        await h.result()
    query = f"WorkflowType = 'CliGreeting' AND TaskQueue = '{task_queue}' AND ExecutionStatus = 'Completed'"

    # Options on the group and the address from the environment, as scripts often do.
    listed = await wf("-o", "json", "list", "-q", query, env={"WF_ADDRESS": server.address})
    assert listed.returncode == 0, listed.stderr
    rows = json.loads(listed.stdout)
    assert {r["workflowId"] for r in rows} == {h.id for h in greetings}
    assert {(r["type"], r["status"]) for r in rows} == {("CliGreeting", "COMPLETED")}

    table = await wf("list", "--query", f"TaskQueue = '{task_queue}'", address=server.address)
    assert table.returncode == 0, table.stderr
    assert all(h.id in table.stdout for h in [*greetings, charge])

    limited = await wf("list", "-q", query, "--limit", "1", "-o", "json", address=server.address)
    assert len(json.loads(limited.stdout)) == 1

    bad = await wf("list", "-q", "Color = 'red'", address=server.address)
    assert bad.returncode == 1
    assert bad.stderr.startswith("error: invalid list query at position 1: unknown search attribute 'Color'")
    assert "(INVALID_ARGUMENT)" in bad.stderr


async def test_id_reuse_policy(server: Server, worker: Worker, task_queue: str) -> None:
    workflow_id = wid("cli-reuse")
    args = ["execute", "--type", "CliGreeting", "-t", task_queue, "-w", workflow_id, "-i", '"again"']
    assert (await wf(*args, address=server.address)).returncode == 0
    again = await wf(*args, "--id-reuse-policy", "RejectDuplicate", address=server.address)
    assert again.returncode == 1
    assert "error:" in again.stderr and "(ALREADY_EXISTS)" in again.stderr


async def test_bad_input_json_is_a_usage_error() -> None:
    done = await wf("start", "--type", "X", "-t", "q", "-i", "{not json", address="127.0.0.1:1")
    assert done.returncode == 2
    assert "'{not json' is not JSON" in done.stderr and "--input" in done.stderr


async def test_signal(server: Server, client: Client, worker: Worker, task_queue: str) -> None:
    handle = await client.start_workflow(CliWaiter.run, id=wid("cli-signal"), task_queue=task_queue)

    sent = await wf("signal", "-w", handle.id, "--name", "set_x", "-i", '"the CLI"', address=server.address)
    assert sent.returncode == 0, sent.stderr
    assert sent.stdout.strip() == f"signal set_x sent to workflow {handle.id}"

    result = await wf("result", "-w", handle.id, "-o", "json", address=server.address)
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["result"] == "got the CLI"

    # The run is closed now: the server says no, and so does the CLI.
    late = await wf("signal", "-w", handle.id, "-r", handle.run_id or "", "--name", "set_x", "-i", '"late"',
                    "-o", "json", address=server.address)
    assert late.returncode == 1
    assert late.stderr.startswith("error: ") and late.stderr.strip().endswith("(FAILED_PRECONDITION)")


async def test_signal_output_as_json(server: Server, client: Client, worker: Worker, task_queue: str) -> None:
    handle = await client.start_workflow(CliWaiter.run, id=wid("cli-signal-json"), task_queue=task_queue)
    sent = await wf("signal", "-w", handle.id, "-r", handle.run_id or "", "--name", "set_x", "-i", '"json"',
                    "-o", "json", address=server.address)
    assert sent.returncode == 0, sent.stderr
    assert json.loads(sent.stdout) == {"workflowId": handle.id, "runId": handle.run_id, "signal": "set_x"}
    assert await handle.result() == "got json"


async def test_query(server: Server, client: Client, worker: Worker, task_queue: str) -> None:
    handle = await client.start_workflow(CliWaiter.run, id=wid("cli-query"), task_queue=task_queue)

    before = await wf("query", "-w", handle.id, "--name", "x_value", address=server.address)
    assert before.returncode == 0, before.stderr
    assert before.stdout == "null\n"

    await handle.signal(CliWaiter.set_x, "y")
    await handle.result()
    # A closed run answers from its final state; arguments are JSON, one --input each.
    after = await wf("query", "-w", handle.id, "-r", handle.run_id or "", "--name", "x_with",
                     "-i", '"<"', "-i", '">"', "-o", "json", address=server.address)
    assert after.returncode == 0, after.stderr
    assert json.loads(after.stdout) == {"result": "<y>"}
    history_length = len((await handle.fetch_history()).events)

    unknown = await wf("query", "-w", handle.id, "--name", "no_such_query", address=server.address)
    assert unknown.returncode == 1
    assert unknown.stderr.startswith("error: query 'no_such_query' failed")
    assert "(known: x_value, x_with)" in unknown.stderr and unknown.stderr.strip().endswith("(FAILED_PRECONDITION)")
    assert len((await handle.fetch_history()).events) == history_length  # queries record nothing


async def test_update(server: Server, client: Client, worker: Worker, task_queue: str) -> None:
    handle = await client.start_workflow(CliCounter.run, id=wid("cli-update"), task_queue=task_queue)

    added = await wf("update", "-w", handle.id, "--name", "add", "-i", "2", address=server.address)
    assert added.returncode == 0, added.stderr
    assert added.stdout == "2\n"

    as_json = await wf("update", "-w", handle.id, "-r", handle.run_id or "", "--name", "add", "-i", "3",
                       "--update-id", "add-3", "-o", "json", address=server.address)
    assert as_json.returncode == 0, as_json.stderr
    expected = {"workflowId": handle.id, "runId": handle.run_id, "updateId": "add-3", "result": 5}
    assert json.loads(as_json.stdout) == expected
    # The same update id again is the same update: it is not run twice, and answers as it did.
    again = await wf("update", "-w", handle.id, "--name", "add", "-i", "3", "--update-id", "add-3", "-o", "json",
                     address=server.address)
    assert json.loads(again.stdout) == expected

    await handle.signal(CliCounter.finish)
    assert await handle.result() == 5
    table = await wf("show", "-w", handle.id, address=server.address)
    assert table.returncode == 0, table.stderr
    for expected_text in ("WorkflowExecutionUpdateAccepted", "name=add, updateId=add-3, input=3",
                          "WorkflowExecutionUpdateCompleted", "updateId=add-3, result=5"):
        assert expected_text in table.stdout
    assert table.stdout.count("WorkflowExecutionUpdateAccepted") == 2


async def test_update_failures(server: Server, client: Client, worker: Worker, task_queue: str) -> None:
    handle = await client.start_workflow(CliCounter.run, id=wid("cli-update-fail"), task_queue=task_queue)

    # The validator says no: exit 1 with the failure chain, and no update event is recorded.
    rejected = await wf("update", "-w", handle.id, "--name", "add", "-i", "-1", address=server.address)
    assert rejected.returncode == 1, rejected.stderr
    assert rejected.stdout == (
        "update 'add' failed\n  caused by ValueError: cannot add a negative number, got -1\n"
    )
    unknown = await wf("update", "-w", handle.id, "--name", "subtract", "-i", "1", address=server.address)
    assert unknown.returncode == 1, unknown.stderr
    assert "UnknownUpdate: workflow 'CliCounter' has no update 'subtract' (known: add, refuse)" in unknown.stdout
    assert "WorkflowExecutionUpdate" not in (await wf("show", "-w", handle.id, address=server.address)).stdout

    # The handler raises: the update was accepted, so its failure is recorded.
    refused = await wf("update", "-w", handle.id, "--name", "refuse", "-i", '"not today"', "-o", "json",
                       address=server.address)
    assert refused.returncode == 1, refused.stderr
    out = json.loads(refused.stdout)
    assert (out["workflowId"], out["runId"]) == (handle.id, handle.run_id) and out["updateId"]
    assert out["failure"]["message"] == "not today"
    assert out["failure"]["applicationFailureInfo"]["type"] == "Refused"
    table = await wf("show", "-w", handle.id, address=server.address)
    assert f"updateId={out['updateId']}, failure=Refused: not today" in table.stdout

    await handle.terminate("closed first")
    closed = await wf("update", "-w", handle.id, "--name", "add", "-i", "1", address=server.address)
    assert closed.returncode == 1
    assert closed.stderr.startswith("error: ") and closed.stderr.strip().endswith("(FAILED_PRECONDITION)")


async def test_update_waits_for_a_worker(server: Server, client: Client, task_queue: str) -> None:
    handle = await client.start_workflow(CliCounter.run, id=wid("cli-update-wait"), task_queue=task_queue)
    cmd = [WF, "workflow", "update", "-w", handle.id, "--name", "add", "-i", "4", "--update-id", "add-4",
           "--address", server.address]
    code, out, err = await asyncio.to_thread(run_with_stderr_on_a_terminal, cmd, interrupt_on="Waiting for")
    assert code == 130, err
    assert "Waiting for a worker to run update add" in err
    assert "run this again with --update-id add-4 for its outcome" in err

    # The update stayed delivered: a worker runs it, and asking again with its id gets its result.
    async with Worker(client, task_queue=task_queue, workflows=[CliCounter]):
        done = await wf("update", "-w", handle.id, "--name", "add", "-i", "4", "--update-id", "add-4",
                        address=server.address)
        assert done.returncode == 0, done.stderr
        assert done.stdout == "4\n"
        await handle.terminate("test over")


async def test_cancel(server: Server, client: Client, worker: Worker, task_queue: str) -> None:
    handle = await client.start_workflow(CliSleeper.run, id=wid("cli-cancel"), task_queue=task_queue)

    cancelled = await wf("cancel", "-w", handle.id, "--reason", "not needed", address=server.address)
    assert cancelled.returncode == 0, cancelled.stderr
    assert cancelled.stdout.strip() == f"cancellation requested for workflow {handle.id}"

    result = await wf("result", "-w", handle.id, "-o", "json", address=server.address)
    assert result.returncode == 1
    assert json.loads(result.stdout)["status"] == "CANCELED"
    described = await wf("describe", "-w", handle.id, address=server.address)
    assert described.returncode == 0, described.stderr
    assert "CANCELED" in described.stdout


async def test_terminate(server: Server, client: Client, worker: Worker, task_queue: str) -> None:
    handle = await client.start_workflow(CliSleeper.run, id=wid("cli-terminate"), task_queue=task_queue)

    terminated = await wf("terminate", "-w", handle.id, "--reason", "by hand", "-o", "json", address=server.address)
    assert terminated.returncode == 0, terminated.stderr
    assert json.loads(terminated.stdout) == {"workflowId": handle.id, "runId": None, "reason": "by hand"}

    described = await wf("describe", "-w", handle.id, "-o", "json", address=server.address)
    assert json.loads(described.stdout)["workflowExecutionInfo"]["status"] == "WORKFLOW_EXECUTION_STATUS_TERMINATED"

    again = await wf("terminate", "-w", handle.id, "-r", handle.run_id or "", address=server.address)
    assert again.returncode == 1
    assert again.stderr.startswith("error: ") and again.stderr.strip().endswith("(FAILED_PRECONDITION)")

    # Following a closed run prints its history and exits at once, with 1 as it did not complete.
    followed = await wf("show", "-w", handle.id, "--follow", address=server.address)
    assert followed.returncode == 1, followed.stderr
    assert "WorkflowExecutionTerminated" in followed.stdout and "by hand" in followed.stdout


async def test_show_follow(server: Server, client: Client, worker: Worker, task_queue: str) -> None:
    handle = await client.start_workflow(CliWaiter.run, id=wid("cli-follow"), task_queue=task_queue)
    follow = [WF, "workflow", "show", "-w", handle.id, "--address", server.address]
    # os.environ, not the process's C environment, which readline (loaded by pytest) gives COLUMNS=80.
    pipes: dict[str, Any] = {"stdout": asyncio.subprocess.PIPE, "stderr": asyncio.subprocess.PIPE,
                             "env": {k: v for k, v in os.environ.items() if not k.startswith("WF_")}}
    table = await asyncio.create_subprocess_exec(*follow, "--follow", **pipes)
    lines = await asyncio.create_subprocess_exec(*follow, "-f", "-o", "json", **pipes)
    try:
        # Both print the events written so far, then wait for more: the run waits for its signal.
        assert table.stdout is not None and lines.stdout is not None
        seen = ""
        async with asyncio.timeout(20):
            while "WorkflowTaskCompleted" not in seen:
                seen += (await table.stdout.readline()).decode()
            first = json.loads(await lines.stdout.readline())
        assert first["eventType"] == "EVENT_TYPE_WORKFLOW_EXECUTION_STARTED"
        assert table.returncode is None and lines.returncode is None

        await handle.signal(CliWaiter.set_x, "forward")
        async with asyncio.timeout(20):
            (out, err), (json_out, json_err) = await asyncio.gather(table.communicate(), lines.communicate())
    finally:
        for proc in (table, lines):
            if proc.returncode is None:
                proc.kill()
                await proc.wait()
    assert table.returncode == 0, err.decode()
    assert lines.returncode == 0, json_err.decode()

    out_text = seen + out.decode()
    assert sum(line.split()[:2] == ["ID", "Time"] for line in out_text.splitlines()) == 1  # one header
    assert "WorkflowExecutionSignaled" in out_text and "WorkflowExecutionCompleted" in out_text
    assert '"got forward"' in out_text
    events = [first, *(json.loads(line) for line in json_out.decode().splitlines())]
    assert [int(e["eventId"]) for e in events] == list(range(1, len(events) + 1))
    assert "EVENT_TYPE_WORKFLOW_EXECUTION_SIGNALED" in {e["eventType"] for e in events}
    assert events[-1]["eventType"] == "EVENT_TYPE_WORKFLOW_EXECUTION_COMPLETED"
    assert len(events) == len((await handle.fetch_history()).events)


async def test_show_follow_stops_on_ctrl_c(server: Server, client: Client, worker: Worker, task_queue: str) -> None:
    handle = await client.start_workflow(CliWaiter.run, id=wid("cli-follow-int"), task_queue=task_queue)
    proc = await asyncio.create_subprocess_exec(
        WF, "workflow", "show", "-w", handle.id, "-f", "--address", server.address,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE, preexec_fn=_as_in_a_terminal,
    )
    try:
        assert proc.stdout is not None
        async with asyncio.timeout(20):
            assert b"WorkflowExecutionStarted" in await proc.stdout.readline() + await proc.stdout.readline()
            proc.send_signal(signal.SIGINT)
            _, err = await proc.communicate()
    finally:
        if proc.returncode is None:
            proc.kill()
            await proc.wait()
    assert proc.returncode == 130, err.decode()
    assert err.decode().startswith("interrupted")
    await handle.terminate("done")


async def test_unknown_workflow_id(server: Server) -> None:
    for command, *args in (("describe",), ("result",), ("show",), ("show", "--follow"), ("cancel",),
                           ("terminate",), ("signal", "--name", "set_x"), ("query", "--name", "x_value"),
                           ("update", "--name", "add")):
        done = await wf(command, "-w", "no-such-workflow", *args, address=server.address)
        assert done.returncode == 1, command
        assert done.stderr.strip() == "error: workflow 'no-such-workflow' not found in namespace 'default' (NOT_FOUND)"


async def test_unreachable_server() -> None:
    address = f"127.0.0.1:{free_port()}"
    done = await wf("list", address=address)
    assert done.returncode == 1
    assert done.stderr.startswith(f"error: cannot reach a wf server at {address}")
    assert "Traceback" not in done.stderr


async def test_a_database_pool_too_small_to_share_is_a_usage_error() -> None:
    # A quarter of the pool starts new runs; fewer than four connections would leave none for that.
    cmd = [WF, "server", "start", "--db", "postgresql://wf@127.0.0.1:1/wf", "--db-pool-size", "3"]
    done = await asyncio.to_thread(subprocess.run, cmd, capture_output=True, text=True, timeout=30)
    assert done.returncode == 2
    assert "--db-pool-size" in done.stderr and "x>=4" in done.stderr


async def test_otel_console_prints_a_span_per_rpc(db_url: str) -> None:
    # Being ready means it answered GetSystemInfo.
    async with wf_server_process(db_url, args=["--no-migrate", "--otel-console"]) as proc:
        await assert_eventually(lambda: '"name": "wf.v1.WorkflowService/GetSystemInfo"' in proc.output())
        # A client's calls travel on a Multiplex stream; each still gets the span of its method.
        async with await Client.connect(proc.address) as client:
            with pytest.raises(RPCError) as exc:
                await client.get_workflow_handle(f"otel-{uuid.uuid4().hex[:8]}").describe()
            assert exc.value.status == grpc.StatusCode.NOT_FOUND
        await assert_eventually(
            lambda: '"name": "wf.v1.WorkflowService/DescribeWorkflowExecution"' in proc.output()
        )


async def test_what_others_wrote_cannot_drive_the_readers_terminal(server: Server, client: Client) -> None:
    # A writer's text, shown as sent, would erase the line and retitle or recolour the terminal.
    hostile = "\x1b[2K\x1b]0;pwned\x1b\\\u202e"
    kind, base = wid("Nobody"), wid("cli-ansi")
    handle = await client.start_workflow(kind, f"input {hostile}", id=base + hostile,
                                         task_queue=wid("nobody"))
    await handle.signal("poke" + hostile, hostile)
    shown = await wf("show", "-w", handle.id, address=server.address)
    listed = await wf("list", "-q", f"WorkflowType = '{kind}'", address=server.address)
    for result in (shown, listed):
        assert result.returncode == 0, result.stderr
        assert not set("\x1b\u202e") & set(result.stdout), repr(result.stdout)
    assert "poke\ufffd[2K" in shown.stdout and base + "\ufffd[2K" in listed.stdout
    await handle.terminate()
