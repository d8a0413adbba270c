"""Signalling another workflow from workflow code: delivered once, through a cross-run task.

``tests/histories/external_signal.json`` was recorded once from :class:`Sender` below signalling a
:class:`Receiver`, and is checked in: it stands for a run already in production, which today's code
must replay.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from tests.test_replayer import line_of
from wf.history.tasks import TimerKind, TimerRow
from wf.server.app import Server
from wf.v1 import history_pb2
from worker_sdk import Client, Worker, WorkflowHistory, workflow
from worker_sdk._replay import event_name
from worker_sdk.errors import ApplicationError, NondeterminismError
from worker_sdk.testing import Replayer

H = history_pb2
ROOT = Path(__file__).resolve().parent.parent
FIXTURE = ROOT / "tests" / "histories" / "external_signal.json"
WF = str(Path(sys.executable).parent / "wf")


@workflow.defn
class Receiver:
    def __init__(self) -> None:
        self.got: list[str] = []

    @workflow.run
    async def run(self, expected: int) -> list[str]:
        await workflow.wait_condition(lambda: len(self.got) >= expected)
        return self.got

    @workflow.signal
    def note(self, text: str) -> None:
        self.got.append(text)


@workflow.defn
class Sender:
    @workflow.run
    async def run(self, target: str, texts: list[str]) -> str:
        handle = workflow.get_external_workflow_handle(target)
        for text in texts:
            await handle.signal(Receiver.note, text)
        return f"sent {len(texts)}"


@workflow.defn(name="Sender")
class SenderToAnother:
    """Sender, changed: it signals another workflow than it did (a nondeterministic change)."""

    @workflow.run
    async def run(self, target: str, texts: list[str]) -> str:
        handle = workflow.get_external_workflow_handle(target + "-elsewhere")
        for text in texts:
            await handle.signal(Receiver.note, text)  # changed
        return f"sent {len(texts)}"


@workflow.defn
class SenderToNobody:
    @workflow.run
    async def run(self, target: str) -> str:
        try:
            await workflow.get_external_workflow_handle(target).signal("note", "hello")
        except ApplicationError as exc:
            return f"{exc.type}: {exc}"
        return "delivered"


async def event_names(client: Client, workflow_id: str) -> list[str]:
    return [event_name(e.event_type) for e in (await client.get_workflow_handle(workflow_id).fetch_history()).events]


async def test_a_workflow_signals_another_and_both_histories_record_it(client: Client, task_queue: str) -> None:
    async with Worker(client, task_queue=task_queue, workflows=[Sender, Receiver]):
        receiver = await client.start_workflow(Receiver.run, 2, id=f"rcv-{task_queue}", task_queue=task_queue)
        sent = await client.execute_workflow(
            Sender.run, receiver.id, ["a", "b"], id=f"snd-{task_queue}", task_queue=task_queue
        )
        assert sent == "sent 2"
        assert await receiver.result() == ["a", "b"]
    names = await event_names(client, f"snd-{task_queue}")
    assert names.count("SignalExternalWorkflowExecutionInitiated") == 2
    assert names.count("ExternalWorkflowExecutionSignaled") == 2
    history = await client.get_workflow_handle(f"snd-{task_queue}").fetch_history()
    signaled = [e for e in history.events if e.event_type == H.EVENT_TYPE_EXTERNAL_WORKFLOW_EXECUTION_SIGNALED]
    initiated = [e.event_id for e in history.events
                 if e.event_type == H.EVENT_TYPE_SIGNAL_EXTERNAL_WORKFLOW_EXECUTION_INITIATED]
    assert [e.external_workflow_execution_signaled_event_attributes.initiated_event_id for e in signaled] == initiated
    assert (await event_names(client, receiver.id)).count("WorkflowExecutionSignaled") == 2


async def test_signalling_a_missing_or_closed_workflow_fails_in_the_sender(client: Client, task_queue: str) -> None:
    async with Worker(client, task_queue=task_queue, workflows=[SenderToNobody, Receiver]):
        missing = await client.execute_workflow(
            SenderToNobody.run, f"nobody-{task_queue}", id=f"snd-missing-{task_queue}", task_queue=task_queue
        )
        assert missing == (
            f"ExternalWorkflowExecutionNotFound: unable to signal workflow 'nobody-{task_queue}': "
            "it was not found, or it is closed"
        )
        closed = await client.start_workflow(Receiver.run, 1, id=f"rcv-closed-{task_queue}", task_queue=task_queue)
        await closed.terminate("closed before the signal")
        result = await client.execute_workflow(
            SenderToNobody.run, closed.id, id=f"snd-closed-{task_queue}", task_queue=task_queue
        )
        assert result.startswith("ExternalWorkflowExecutionNotFound")
    assert "SignalExternalWorkflowExecutionFailed" in await event_names(client, f"snd-missing-{task_queue}")
    assert "WorkflowExecutionSignaled" not in await event_names(client, closed.id)


async def test_a_signal_is_delivered_once_when_its_task_fires_again(
    server: Server, client: Client, task_queue: str
) -> None:
    """A server that dies after delivering the signal and before recording it fires the task again:
    the receiver records the signal once (its request id is the sender's run and event)."""
    async with Worker(client, task_queue=task_queue, workflows=[Sender, Receiver]):
        receiver = await client.start_workflow(Receiver.run, 2, id=f"rcv-once-{task_queue}", task_queue=task_queue)
        sender = await client.start_workflow(
            Sender.run, receiver.id, ["x"], id=f"snd-once-{task_queue}", task_queue=task_queue
        )
        await sender.result()
        history = await sender.fetch_history()
        initiated = next(
            e for e in history.events if e.event_type == H.EVENT_TYPE_SIGNAL_EXTERNAL_WORKFLOW_EXECUTION_INITIATED
        )
        record = await server.history.resolve_run("default", sender.id, "")
        # The act of the task as a second firing would run it (the sender is running in that case).
        record.status = 1
        row = TimerRow("default", sender.id, record.run_id, f"sig:{initiated.event_id}", record.start_time,
                       TimerKind.SIGNAL_EXTERNAL, initiated.event_id, 1)
        await server.history.cross_run.kinds[TimerKind.SIGNAL_EXTERNAL].act(record, row)
        assert (await event_names(client, receiver.id)).count("WorkflowExecutionSignaled") == 1
        await receiver.signal(Receiver.note, "y")
        assert await receiver.result() == ["x", "y"]


async def test_an_empty_workflow_id_is_refused_in_workflow_code(client: Client, task_queue: str) -> None:
    @workflow.defn(name="SendsToNoId")
    class SendsToNoId:
        @workflow.run
        async def run(self) -> str:
            try:
                workflow.get_external_workflow_handle("")
            except ValueError as exc:
                return str(exc)
            return "accepted"

    async with Worker(client, task_queue=task_queue, workflows=[SendsToNoId]):
        result = await client.execute_workflow(SendsToNoId.run, id=f"noid-{task_queue}", task_queue=task_queue)
    assert result == "get_external_workflow_handle() needs a workflow id"


def test_the_recorded_history_replays_with_todays_code() -> None:
    done = subprocess.run(
        [WF, "replay", "--history", str(FIXTURE), "--workflows", "tests.test_external:Sender"],
        cwd=ROOT, capture_output=True, text=True, timeout=60, check=False,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert done.stdout == f"ok {FIXTURE}\n"


async def test_signalling_another_workflow_is_checked_on_replay() -> None:
    history = WorkflowHistory.from_json("snd", FIXTURE.read_text())
    with pytest.raises(NondeterminismError) as err:
        await Replayer(workflows=[SenderToAnother]).replay_workflow(history)
    message = str(err.value)
    initiated = next(
        e.event_id for e in history.events if e.event_type == H.EVENT_TYPE_SIGNAL_EXTERNAL_WORKFLOW_EXECUTION_INITIATED
    )
    assert f"nondeterminism at history event {initiated}" in message
    assert "SignalExternalWorkflowExecutionInitiated(signal 'note' to workflow 'rcv-fixture')" in message
    assert "SignalExternalWorkflowExecution(signal 'note' to workflow 'rcv-fixture-elsewhere')" in message
    assert f"test_external.py:{line_of(SenderToAnother, '# changed')}" in message


async def record_fixture(client: Client) -> None:
    """How ``tests/histories/external_signal.json`` was recorded (kept for the record)."""
    async with Worker(client, task_queue="fixture", workflows=[Sender, Receiver]):
        await client.start_workflow(Receiver.run, 2, id="rcv-fixture", task_queue="fixture")
        await client.execute_workflow(Sender.run, "rcv-fixture", ["a", "b"], id="snd-fixture", task_queue="fixture")
    history = await client.get_workflow_handle("snd-fixture").fetch_history()
    FIXTURE.write_text(history.to_json() + "\n")
