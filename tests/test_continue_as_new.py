"""Continue-as-new end to end: a run closes as ContinuedAsNew and the next run of the same workflow id
starts in the same transaction; real worker, real server, real PostgreSQL."""

from __future__ import annotations

import asyncio
import dataclasses
import json
import logging
import os
import subprocess
import uuid
from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path

import asyncpg
import pytest
import pytest_asyncio

from bench.rpcs import count_rpcs
from tests.helpers import assert_eventually, wf_executable
from wf.history.errors import ConcurrentUpdate
from wf.history.execution import Execution
from wf.history.limits import Limits
from wf.history.new_run import RunSpec, new_run
from wf.history.runs import now
from wf.server.app import Server
from wf.server.config import ServerConfig
from wf.v1 import command_pb2, common_pb2, history_pb2
from worker_sdk import (
    Client,
    SearchAttributeIndexedValueType,
    Worker,
    WorkflowExecutionStatus,
    activity,
    workflow,
)
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


@workflow.defn(name="Counter")
class CounterCompletes:
    """Counter changed so that a run completes where it continued as new."""

    @workflow.run
    async def run(self, runs_left: int, total: int) -> int:
        total = await workflow.execute_activity(add_one, total, start_to_close_timeout=SECONDS_5)
        return total  # was: continue_as_new


async def test_changing_a_continue_as_new_into_a_complete_is_nondeterminism(
    client: Client, task_queue: str
) -> None:
    async with Worker(client, task_queue=task_queue, workflows=[Counter], activities=[add_one]):
        handle = await client.start_workflow(Counter.run, 2, 0, id=f"chain-{uuid.uuid4()}", task_queue=task_queue)
        assert await handle.result() == 2
    history = await client.get_workflow_handle(handle.id, run_id=handle.run_id).fetch_history()
    await Replayer(workflows=[Counter]).replay_workflow(history)
    with pytest.raises(NondeterminismError) as info:
        await Replayer(workflows=[CounterCompletes]).replay_workflow(history)
    close = history.events[-1]
    message = str(info.value)
    assert f"nondeterminism at history event {close.event_id}" in message
    assert "history recorded WorkflowExecutionContinuedAsNew(workflow type 'Counter')" in message
    assert "asked for CompleteWorkflowExecution at return of Counter" in message

    # The other way round: the code now continues as new where the history completed.
    async with Worker(client, task_queue=task_queue, workflows=[CounterCompletes], activities=[add_one]):
        handle = await client.start_workflow("Counter", 2, 0, id=f"chain-{uuid.uuid4()}", task_queue=task_queue)
        assert await handle.result() == 1
    history = await handle.fetch_history()
    with pytest.raises(NondeterminismError) as info:
        await Replayer(workflows=[Counter]).replay_workflow(history)
    message = str(info.value)
    assert f"nondeterminism at history event {history.events[-1].event_id}" in message
    assert "history recorded WorkflowExecutionCompleted" in message
    line = _line_of(Counter.run, "workflow.continue_as_new(")
    assert f"asked for ContinueAsNewWorkflowExecution(same workflow type) at {__file__}:{line} in run" in message


def _line_of(fn: object, text: str) -> int:
    import inspect

    lines, first = inspect.getsourcelines(fn)  # type: ignore[arg-type]
    return first + next(i for i, line in enumerate(lines) if text in line)


# -- a recorded chain, replayed by `wf replay` --------------------------------------------------------

ROOT = Path(__file__).resolve().parent.parent
# Recorded once from Counter above: a chain of 3 runs (workflow id counter-chain), one file a run.
CHAIN = Path("tests/histories/continue_as_new")


def test_wf_replay_replays_a_recorded_chain() -> None:
    def wf_replay(workflows: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [wf_executable(), "replay", "--history-dir", str(CHAIN), "--workflows", workflows],
            cwd=ROOT, capture_output=True, text=True, timeout=60, check=False,
        )

    done = wf_replay("tests.test_continue_as_new:Counter")
    assert done.returncode == 0, done.stderr
    files = [CHAIN / f"counter_run{i}.json" for i in (1, 2, 3)]
    assert done.stdout.splitlines() == [f"ok {f}" for f in files]
    # Runs that continued as new no longer replay on code that completes there; the last run does.
    done = wf_replay("tests.test_continue_as_new:CounterCompletes")
    assert done.returncode == 1
    lines = done.stdout.splitlines()
    assert lines[0].startswith(f"FAILED {files[0]}: nondeterminism at history event 11: history recorded "
                               "WorkflowExecutionContinuedAsNew")
    assert lines[1].startswith(f"FAILED {files[1]}: nondeterminism")
    assert lines[2] == f"ok {files[2]}"


# -- signals across the hand-overs --------------------------------------------------------------------


@workflow.defn
class Tally:
    """Counts signals; every few it continues as new with what it has seen."""

    def __init__(self) -> None:
        self.seen: list[int] = []

    @workflow.run
    async def run(self, seen: list[int], expected: int) -> list[int]:
        self.seen = seen + self.seen  # signals delivered with the start come after the carried state
        target = min(expected, len(seen) + 7)
        await workflow.wait_condition(lambda: len(self.seen) >= target)
        if len(self.seen) >= expected:
            return sorted(self.seen)
        workflow.continue_as_new(self.seen, expected)

    @workflow.signal
    def add(self, value: int) -> None:
        self.seen.append(value)


async def test_a_signal_storm_across_hand_overs_counts_each_signal_once(
    client: Client, task_queue: str, caplog: pytest.LogCaptureFixture
) -> None:
    """200 signals by workflow id from 4 concurrent senders, in bursts of 12 that race the run's
    continue-as-new after 7: a close refused for a signal that came meanwhile decides again, and a
    signal after the close reaches the new run; each is counted once in the final state. The worker
    takes such a refusal calmly: no warning that a task was left to time out."""
    caplog.set_level(logging.INFO, logger="worker_sdk.worker")
    senders, burst, bursts = 4, 12, 17
    total = burst * bursts - 4  # the last burst is short
    async with Worker(client, task_queue=task_queue, workflows=[Tally]):
        handle = await client.start_workflow(Tally.run, [], total, id=f"tally-{uuid.uuid4()}", task_queue=task_queue)
        by_id = client.get_workflow_handle(handle.id)

        async def send(values: range) -> None:
            for value in values:
                await by_id.signal(Tally.add, value)

        async def runs() -> int:
            return len([r async for r in client.list_workflows(f"WorkflowId = '{handle.id}'")])

        for b in range(bursts):
            values = range(b * burst, min((b + 1) * burst, total))
            await asyncio.gather(*(send(values[i::senders]) for i in range(senders)))
            if b < bursts - 1:
                # The burst's signals made the run hand over (at least once) before the next burst.
                await assert_eventually(lambda b=b: _at_least(runs, b + 2))
        assert await handle.result() == list(range(total))
    assert await runs() >= bursts
    assert not [r for r in caplog.records if r.levelno >= logging.WARNING and r.name == "worker_sdk.worker"]


async def _at_least(count: object, n: int) -> None:
    assert await count() >= n  # type: ignore[operator]


# -- updates across a hand-over -----------------------------------------------------------------------


@workflow.defn
class Updatable:
    def __init__(self) -> None:
        self.go = False

    @workflow.run
    async def run(self, generation: int) -> int:
        await workflow.wait_condition(lambda: self.go)
        if generation == 0:
            workflow.continue_as_new(1)
        return generation

    @workflow.signal
    def proceed(self) -> None:
        self.go = True

    @workflow.update
    async def hang(self) -> str:
        await workflow.wait_condition(lambda: False)
        return "never"

    @workflow.update
    def where(self) -> str:
        return workflow.info().run_id


async def test_updates_across_a_hand_over(client: Client, task_queue: str, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.WARNING, logger="worker_sdk.workflow")
    async with Worker(client, task_queue=task_queue, workflows=[Updatable]):
        handle = await client.start_workflow(Updatable.run, 0, id=f"upd-{uuid.uuid4()}", task_queue=task_queue)
        first_run = handle.run_id
        hanging = await handle.start_update(Updatable.hang)  # accepted; its handler never finishes
        await handle.signal(Updatable.proceed)
        second_run = await assert_eventually(lambda: _next_run(handle))
        # Accepted but unfinished when the run continued as new: it fails, as in Temporal.
        with pytest.raises(WorkflowUpdateFailedError) as info:
            await hanging.result()
        cause = info.value.cause
        assert isinstance(cause, ApplicationError) and cause.type == "AcceptedUpdateCompletedWorkflow"
        # An update sent through the first run's handle after the hand-over lands on the new run.
        assert await handle.execute_update(Updatable.where) == second_run
        await client.get_workflow_handle(handle.id).signal(Updatable.proceed)
        assert await handle.result() == 1
    assert second_run != first_run
    # The run closed while the update handler ran: a warning names it (HandlerUnfinishedPolicy).
    warnings = [r.getMessage() for r in caplog.records if "still running" in r.getMessage()]
    assert any("update handler 'hang'" in w and "continued as new" in w for w in warnings), warnings


async def _next_run(handle: object) -> str:
    description = await handle.describe()  # type: ignore[attr-defined]
    assert description.new_execution_run_id
    return str(description.new_execution_run_id)


@workflow.defn
class QuietHandlers:
    def __init__(self) -> None:
        self.started = 0

    @workflow.run
    async def run(self, wait: bool) -> int:
        await workflow.wait_condition(lambda: self.started >= 2)
        if wait:
            await workflow.wait_condition(workflow.all_handlers_finished)
        return self.started

    @workflow.signal(unfinished_policy=workflow.HandlerUnfinishedPolicy.ABANDON)
    async def quiet(self) -> None:
        self.started += 1
        await workflow.sleep(0.3)

    @workflow.signal
    async def loud(self) -> None:
        self.started += 1
        await workflow.sleep(0.3)


async def test_unfinished_handlers_are_warned_about_unless_abandoned_or_awaited(
    client: Client, task_queue: str, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING, logger="worker_sdk.workflow")
    async with Worker(client, task_queue=task_queue, workflows=[QuietHandlers]):
        for wait in (False, True):
            handle = await client.start_workflow(
                QuietHandlers.run, wait, id=f"quiet-{uuid.uuid4()}", task_queue=task_queue,
                start_signal=QuietHandlers.quiet,
            )
            await handle.signal(QuietHandlers.loud)
            assert await handle.result() == 2
    warnings = [r.getMessage() for r in caplog.records if "still running" in r.getMessage()]
    assert len(warnings) == 1, warnings  # the run that waited for its handlers has nothing to warn of
    assert "completed while signal handler 'loud' is still running" in warnings[0]
    assert "handler 'quiet'" not in warnings[0]


# -- what the server decides: the suggestion, the history's size, the payload limit ------------------

SUGGEST_EVENTS = 20
SMALL_PAYLOAD = 64 * 1024


@pytest_asyncio.fixture(scope="module", loop_scope="session")
async def small_client(db_url: str) -> AsyncIterator[Client]:
    """A client of a server of the session's database that suggests continue-as-new from 20 events
    and takes payloads of at most 64 KB."""
    limits = Limits(suggest_continue_as_new_events=SUGGEST_EVENTS, max_payload_bytes=SMALL_PAYLOAD)
    server = Server(ServerConfig(db_url=db_url, port=0, limits=limits))
    await server.start()
    try:
        client = await Client.connect(server.address)
        try:
            yield client
        finally:
            await client.close()
    finally:
        await server.stop()


@workflow.defn
class Suggested:
    """Runs activities until the server suggests continue-as-new, then does so once."""

    @workflow.run
    async def run(self, generation: int) -> dict[str, object]:
        steps = 0
        while not workflow.info().is_continue_as_new_suggested():
            await workflow.execute_activity(add_one, steps, start_to_close_timeout=SECONDS_5)
            steps += 1
        info = workflow.info()
        if generation == 0:
            workflow.continue_as_new(1)
        return {
            "run_id": info.run_id,
            "continued_run_id": info.continued_run_id,
            "first_execution_run_id": info.first_execution_run_id,
            "length": info.get_current_history_length(),
            "size": info.get_current_history_size(),
            "steps": steps,
        }


async def test_info_reads_what_the_server_recorded_and_replays_the_same(small_client: Client, task_queue: str) -> None:
    client = small_client
    async with Worker(client, task_queue=task_queue, workflows=[Suggested], activities=[add_one]):
        handle = await client.start_workflow(Suggested.run, 0, id=f"suggest-{uuid.uuid4()}", task_queue=task_queue)
        result = await handle.result()
    assert result["continued_run_id"] == handle.run_id
    assert result["first_execution_run_id"] == handle.run_id
    assert result["length"] >= SUGGEST_EVENTS
    last_run = client.get_workflow_handle(handle.id, run_id=str(result["run_id"]))
    for run in (client.get_workflow_handle(handle.id, run_id=handle.run_id), last_run):
        history = await run.fetch_history()
        started = [e for e in history.events if e.event_type == H.EVENT_TYPE_WORKFLOW_TASK_STARTED]
        # The server suggests from the limit on, and records the history's size as of each task.
        assert [e.workflow_task_started_event_attributes.suggest_continue_as_new for e in started] == [
            e.event_id >= SUGGEST_EVENTS for e in started
        ]
        sizes = [e.workflow_task_started_event_attributes.history_size_bytes for e in started]
        assert sizes == sorted(sizes) and sizes[0] > 0
        # The code branched on the recorded suggestion: a replay takes the same branches.
        await Replayer(workflows=[Suggested]).replay_workflow(history)
    last_started = [e for e in history.events if e.event_type == H.EVENT_TYPE_WORKFLOW_TASK_STARTED][-1]
    assert result["size"] == last_started.workflow_task_started_event_attributes.history_size_bytes
    assert result["length"] == last_started.event_id


@workflow.defn
class KeepsGoing:
    """Sequential activities past the suggestion, noting the suggestion after each one."""

    @workflow.run
    async def run(self, steps: int) -> list[bool]:
        seen = []
        for i in range(steps):
            await workflow.execute_activity(add_one, i, start_to_close_timeout=SECONDS_5)
            seen.append(workflow.info().is_continue_as_new_suggested())
        return seen


async def test_tasks_are_run_ahead_before_and_after_the_first_suggestion(
    small_client: Client, task_queue: str
) -> None:
    """Only the task that may be the first to suggest continue-as-new goes the plain way: before it
    and after it, each step's workflow task is run ahead with the activity's result, and its
    recorded suggestion is the one the code saw (the same on replay)."""
    client = small_client
    rpcs = count_rpcs(client)
    async with Worker(client, task_queue=task_queue, workflows=[KeepsGoing], activities=[add_one]):
        handle = await client.start_workflow(KeepsGoing.run, 12, id=f"keeps-{uuid.uuid4()}", task_queue=task_queue)
        seen = await handle.result()
    assert seen == sorted(seen) and seen[0] is False and seen[-1] is True
    history = await handle.fetch_history()
    started = [e for e in history.events if e.event_type == H.EVENT_TYPE_WORKFLOW_TASK_STARTED]
    flags = [e.workflow_task_started_event_attributes.suggest_continue_as_new for e in started]
    assert flags[1:] == seen
    # The start's task, and the few near the limit before the first suggestion; not one per step.
    assert rpcs["RespondWorkflowTaskCompleted"] <= 4, rpcs
    assert rpcs["RespondActivityTaskCompleted"] == 12
    await Replayer(workflows=[KeepsGoing]).replay_workflow(history)


@workflow.defn
class Oversized:
    @workflow.run
    async def run(self, size: int) -> None:
        workflow.continue_as_new("x" * size)


async def test_a_continue_as_new_over_the_payload_limit_fails_and_writes_no_new_run(
    small_client: Client, task_queue: str, db_url: str
) -> None:
    client = small_client
    async with Worker(client, task_queue=task_queue, workflows=[Oversized]):
        handle = await client.start_workflow(Oversized.run, 100_000, id=f"big-{uuid.uuid4()}", task_queue=task_queue)
        with pytest.raises(WorkflowFailureError) as info:
            await handle.result()
    assert "`--max-payload-bytes`" in str(info.value.cause)
    failed = [e for e in (await handle.fetch_history()).events if e.event_type == H.EVENT_TYPE_WORKFLOW_TASK_FAILED]
    message = failed[-1].workflow_task_failed_event_attributes.failure.message
    assert "command 0 (COMMAND_TYPE_CONTINUE_AS_NEW_WORKFLOW_EXECUTION) carries 100,0" in message
    assert "`--max-payload-bytes`" in message
    conn = await asyncpg.connect(db_url)
    try:
        runs = await conn.fetchval("SELECT count(*) FROM executions WHERE workflow_id = $1", handle.id)
    finally:
        await conn.close()
    assert runs == 1


# -- the two runs are one transaction ----------------------------------------------------------------


async def test_the_close_and_the_new_run_commit_together_or_not_at_all(server: Server, db_url: str) -> None:
    """Written by the store directly: a continue-as-new whose closing run changed since it was read
    writes nothing, neither the close nor the new run; with the right version, both."""
    client = await Client.connect(server.address)
    try:
        handle = await client.start_workflow("NoWorker", id=f"tx-{uuid.uuid4()}", task_queue=f"tq-{uuid.uuid4()}")
    finally:
        await client.close()
    runs = server.history.runs
    key = ("default", handle.id, str(handle.run_id))
    record = await runs.store.load(*key)
    assert record is not None

    def continued(version: int) -> tuple[Execution, str]:
        ex = Execution(dataclasses.replace(record, db_version=version), now(), runs.limits)
        attrs = command_pb2.ContinueAsNewWorkflowExecutionCommandAttributes()
        new = new_run(RunSpec.continuing(ex, attrs), runs.limits, ex.now)
        ex.add_workflow_execution_continued_as_new(new, attrs, 0)
        return ex, new.record.run_id

    stale, stale_run = continued(record.db_version + 1)  # not the version the row has
    with pytest.raises(ConcurrentUpdate):
        await runs.store.write(stale.mutation())
    assert await runs.store.load("default", handle.id, stale_run) is None
    still = await runs.store.load(*key)
    assert still is not None and still.status == WorkflowExecutionStatus.RUNNING

    ex, new_run_id = continued(record.db_version)
    await runs.store.write(ex.mutation())
    closed = await runs.store.load(*key)
    created = await runs.store.load("default", handle.id, new_run_id)
    assert closed is not None and closed.status == WorkflowExecutionStatus.CONTINUED_AS_NEW
    assert created is not None and created.status == WorkflowExecutionStatus.RUNNING
    runs.cache.drop(key)  # written behind the cache's back
    latest = await runs.store.latest_run("default", handle.id)
    assert latest is not None and latest.run_id == new_run_id


# -- the CLI: start with a memo and search attributes, describe the chain, the chain's result ---------


async def _wf(*args: str, address: str) -> subprocess.CompletedProcess[str]:
    cmd = [wf_executable(), "workflow", *args, "--address", address]
    environ = {k: v for k, v in os.environ.items() if not k.startswith("WF_")}
    return await asyncio.to_thread(subprocess.run, cmd, capture_output=True, text=True, timeout=30, env=environ)


async def test_cli_starts_with_a_memo_describes_the_chain_and_prints_its_result(
    server: Server, client: Client, task_queue: str
) -> None:
    workflow_id = f"cli-chain-{uuid.uuid4()}"
    address = server.address
    await client.add_search_attributes({"Priority": SearchAttributeIndexedValueType.INT})
    async with Worker(client, task_queue=task_queue, workflows=[Counter], activities=[add_one]):
        started = await _wf(
            "start", "--type", "Counter", "-t", task_queue, "-w", workflow_id, "-i", "3", "-i", "0",
            "--memo", 'owner="ann"', "--memo", "note=plain text", "--search-attribute", "Priority=2",
            address=address,
        )
        assert started.returncode == 0, started.stderr
        done = await _wf("result", "-w", workflow_id, address=address)
        assert done.returncode == 0, done.stderr
        assert "COMPLETED" in done.stdout and "3" in done.stdout

    first = client.get_workflow_handle(workflow_id)
    runs = [r async for r in client.list_workflows(f"WorkflowId = '{workflow_id}'")]
    first_run = min(runs, key=lambda r: r.start_time).run_id
    described = await client.get_workflow_handle(workflow_id, run_id=first_run).describe()
    assert described.memo == {"owner": "ann", "note": "plain text"}
    assert described.search_attributes == {"Priority": 2}
    # The next runs carry the memo and search attributes over.
    assert (await first.describe()).memo == {"owner": "ann", "note": "plain text"}

    shown = await _wf("describe", "-w", workflow_id, "-r", first_run, address=address)
    assert shown.returncode == 0, shown.stderr
    assert "ContinuedAsNew" in shown.stdout.replace("CONTINUED_AS_NEW", "ContinuedAsNew")
    assert "Next run ID" in shown.stdout and str(described.new_execution_run_id) in shown.stdout
    assert 'Memo owner' in shown.stdout and '"ann"' in shown.stdout
    as_json = await _wf("describe", "-w", workflow_id, "-r", first_run, "-o", "json", address=address)
    info = json.loads(as_json.stdout)["workflowExecutionInfo"]
    assert info["newExecutionRunId"] == described.new_execution_run_id
    assert info["firstRunId"] == first_run


@workflow.defn
class Finisher:
    @workflow.run
    async def run(self, note: str) -> str:
        return f"{note} by {workflow.info().workflow_type} after {workflow.info().continued_run_id}"


@workflow.defn
class Relabel:
    @workflow.run
    async def run(self) -> str:
        workflow.continue_as_new("relabelled", workflow=Finisher, memo={"stage": "two"},
                                 run_timeout=timedelta(minutes=5))


async def test_continue_as_new_may_change_the_type_memo_and_timeouts(client: Client, task_queue: str) -> None:
    await client.add_search_attributes({"Team": SearchAttributeIndexedValueType.KEYWORD})
    async with Worker(client, task_queue=task_queue, workflows=[Relabel, Finisher]):
        handle = await client.start_workflow(Relabel.run, id=f"relabel-{uuid.uuid4()}", task_queue=task_queue,
                                             memo={"stage": "one"}, search_attributes={"Team": "ops"})
        assert await handle.result() == f"relabelled by Finisher after {handle.run_id}"
    last = await client.get_workflow_handle(handle.id).describe()
    assert last.workflow_type == "Finisher" and last.task_queue == task_queue
    assert last.memo == {"stage": "two"}
    assert last.search_attributes == {"Team": "ops"}  # not named by the command: carried over
    assert last.raw.workflow_run_timeout.ToTimedelta() == timedelta(minutes=5)
    assert (await handle.describe()).memo == {"stage": "one"}


@workflow.defn
class SizeWatcher:
    """Reads the history's size after every activity: only the server knows it, so no task of this
    run may be run ahead by the worker on a guess."""

    @workflow.run
    async def run(self, steps: int) -> list[int]:
        sizes = [workflow.info().get_current_history_size()]
        for i in range(steps):
            await workflow.execute_activity(add_one, i, start_to_close_timeout=SECONDS_5)
            sizes.append(workflow.info().get_current_history_size())
        return sizes


async def test_the_history_size_workflow_code_reads_is_the_recorded_one(client: Client, task_queue: str) -> None:
    async with Worker(client, task_queue=task_queue, workflows=[SizeWatcher], activities=[add_one]):
        handle = await client.start_workflow(SizeWatcher.run, 5, id=f"size-{uuid.uuid4()}", task_queue=task_queue)
        sizes = await handle.result()
    history = await handle.fetch_history()
    recorded = [
        e.workflow_task_started_event_attributes.history_size_bytes
        for e in history.events
        if e.event_type == H.EVENT_TYPE_WORKFLOW_TASK_STARTED
    ]
    assert sizes == recorded and len(set(sizes)) == 6
    await Replayer(workflows=[SizeWatcher]).replay_workflow(history)
