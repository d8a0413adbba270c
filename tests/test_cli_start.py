"""``wf workflow start|execute|signal-with-start|count`` with the options Temporal's CLI users type:
``--input-file``, ``--id-conflict-policy``, the timeouts, ``--signal-name/--signal-input``, ``--query``.

The real console script in a subprocess, against the session server, with a worker for the test's
task queue in the test process (the workflows and the worker fixture are test_cli's).
"""

from __future__ import annotations

import json
from pathlib import Path

from tests import test_cli
from tests.test_cli import CliWaiter, wf, wid
from wf.server.app import Server
from worker_sdk import Client, Worker
from worker_sdk._client import WorkflowExecutionStatus

worker = test_cli.worker  # the fixture: a worker of test_cli's workflows on the test's task queue


async def test_input_files_are_one_argument_each(server: Server, worker: Worker, task_queue: str,
                                                  tmp_path: Path) -> None:
    # A name past the shell's argument limit (128 KiB for one argument on Linux) goes in a file.
    long_name = "x" * 300_000
    name, punctuation = tmp_path / "name.json", tmp_path / "punctuation.json"
    name.write_text(json.dumps(long_name))
    punctuation.write_text('"!"')
    done = await wf("execute", "--type", "CliGreeting", "-t", task_queue, "-w", wid("cli-input-file"),
                    "--input-file", str(name), "--input-file", str(punctuation), "-o", "json",
                    address=server.address)
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["result"] == f"Hello, {long_name}!!"


async def test_input_file_problems_are_usage_errors(tmp_path: Path) -> None:
    bad = tmp_path / "bad.json"
    bad.write_text("{not json")
    done = await wf("start", "--type", "X", "-t", "q", "--input-file", str(bad), address="127.0.0.1:1")
    assert done.returncode == 2 and str(bad) in done.stderr and "is not JSON" in done.stderr

    missing = await wf("start", "--type", "X", "-t", "q", "--input-file", str(tmp_path / "none.json"),
                       address="127.0.0.1:1")
    assert missing.returncode == 2 and "cannot read" in missing.stderr

    good = tmp_path / "good.json"
    good.write_text("1")
    both = await wf("start", "--type", "X", "-t", "q", "-i", "1", "--input-file", str(good), address="127.0.0.1:1")
    assert both.returncode == 2 and "not both" in both.stderr


async def test_id_conflict_policy(server: Server, client: Client, worker: Worker, task_queue: str) -> None:
    workflow_id = wid("cli-conflict")
    args = ["start", "--type", "CliWaiter", "-t", task_queue, "-w", workflow_id, "-o", "json"]
    first = json.loads((await wf(*args, address=server.address)).stdout)["runId"]

    refused = await wf(*args, "--id-conflict-policy", "Fail", address=server.address)
    assert refused.returncode == 1 and "(ALREADY_EXISTS)" in refused.stderr

    existing = await wf(*args, "--id-conflict-policy", "UseExisting", address=server.address)
    assert existing.returncode == 0, existing.stderr
    assert json.loads(existing.stdout)["runId"] == first

    replaced = await wf(*args, "--id-conflict-policy", "TerminateExisting", address=server.address)
    assert replaced.returncode == 0, replaced.stderr
    second = json.loads(replaced.stdout)["runId"]
    assert second != first
    old = await client.get_workflow_handle(workflow_id, run_id=first).describe()
    assert old.status == WorkflowExecutionStatus.TERMINATED


async def test_start_timeouts_are_recorded(server: Server, client: Client, worker: Worker, task_queue: str) -> None:
    workflow_id = wid("cli-timeouts")
    started = await wf("start", "--type", "CliWaiter", "-t", task_queue, "-w", workflow_id,
                       "--execution-timeout", "1h", "--run-timeout", "30m", "--task-timeout", "15s",
                       address=server.address)
    assert started.returncode == 0, started.stderr
    history = await client.get_workflow_handle(workflow_id).fetch_history()
    attrs = history.events[0].workflow_execution_started_event_attributes
    assert attrs.workflow_execution_timeout.seconds == 3600
    assert attrs.workflow_run_timeout.seconds == 1800
    assert attrs.workflow_task_timeout.seconds == 15


async def test_signal_with_start(server: Server, client: Client, worker: Worker, task_queue: str,
                                 tmp_path: Path) -> None:
    workflow_id = wid("cli-sws")
    args = ["signal-with-start", "--type", "CliCounter", "-t", task_queue, "-w", workflow_id]
    started = await wf(*args, "--signal-name", "finish", "-o", "json", address=server.address)
    assert started.returncode == 0, started.stderr
    out = json.loads(started.stdout)
    assert out["workflowId"] == workflow_id and out["runId"] and out["signal"] == "finish"
    assert await client.get_workflow_handle(workflow_id).result() == 0  # the start carried the signal

    # A running workflow is signalled, not started again; the signal's input comes from a file.
    waiter_id = wid("cli-sws-running")
    handle = await client.start_workflow(CliWaiter.run, id=waiter_id, task_queue=task_queue)
    value = tmp_path / "x.json"
    value.write_text('"from a file"')
    sent = await wf("signal-with-start", "--type", "CliWaiter", "-t", task_queue, "-w", waiter_id,
                    "--signal-name", "set_x", "--signal-input-file", str(value), address=server.address)
    assert sent.returncode == 0, sent.stderr
    assert handle.run_id in sent.stdout and "set_x" in sent.stdout
    assert await handle.result() == "got from a file"


async def test_signal_with_start_needs_a_workflow_id() -> None:
    done = await wf("signal-with-start", "--type", "X", "-t", "q", "--signal-name", "s", address="127.0.0.1:1")
    assert done.returncode == 2 and "--workflow-id" in done.stderr


async def test_count(server: Server, client: Client, worker: Worker, task_queue: str) -> None:
    for _ in range(3):
        await client.start_workflow(CliWaiter.run, id=wid("cli-count"), task_queue=task_queue)
    query = f"TaskQueue = '{task_queue}'"
    counted = await wf("count", "-q", query, address=server.address)
    assert counted.returncode == 0, counted.stderr
    assert counted.stdout.strip() == "Total: 3"
    as_json = await wf("count", "--query", query + " AND ExecutionStatus = 'Completed'", "-o", "json",
                       address=server.address)
    assert json.loads(as_json.stdout) == {"count": 0}
    everything = await wf("count", address=server.address)
    assert everything.returncode == 0 and int(everything.stdout.split()[-1]) >= 3

