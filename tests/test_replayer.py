"""The Replayer and ``wf replay``: recorded histories checked against today's workflow code.

``tests/histories/order_v1.json`` was recorded once from :class:`OrderV1` below (two activities and a
timer) and is checked in, as users keep theirs; ``order_v2.json`` was recorded from :class:`OrderV2`,
an incompatible change of the same workflow type. Neither may be regenerated casually: they stand for
runs already in production.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import zlib
from collections.abc import Sequence
from datetime import timedelta
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from wf.v1 import common_pb2, history_pb2
from worker_sdk import Client, DataConverter, PayloadCodec, Worker, WorkflowHistory, activity, workflow
from worker_sdk.errors import NondeterminismError
from worker_sdk.testing import Replayer, ReplayResult

if TYPE_CHECKING:
    from wf.server.app import Server

ROOT = Path(__file__).resolve().parent.parent
HISTORIES = Path(__file__).resolve().parent / "histories"
ORDER_V1 = HISTORIES / "order_v1.json"
ORDER_V2 = HISTORIES / "order_v2.json"
WF = str(Path(sys.executable).parent / "wf")
T = timedelta(seconds=5)


@activity.defn
async def reserve_stock(item: str) -> str:
    return f"reserved {item}"


@activity.defn
async def charge_card(item: str) -> str:
    return f"charged for {item}"


@activity.defn
async def authorize_payment(item: str) -> str:
    return f"authorized {item}"


@workflow.defn(name="Order")
class OrderV1:
    """The code that recorded order_v1.json."""

    @workflow.run
    async def run(self, item: str) -> str:
        reserved = await workflow.execute_activity(reserve_stock, item, start_to_close_timeout=T)
        await workflow.sleep(0.1)
        charged = await workflow.execute_activity(charge_card, item, start_to_close_timeout=T)
        return f"{reserved}, {charged}"


@workflow.defn(name="Order")
class OrderV2:
    """An incompatible change: after the timer it calls another activity. It recorded order_v2.json."""

    @workflow.run
    async def run(self, item: str) -> str:
        reserved = await workflow.execute_activity(reserve_stock, item, start_to_close_timeout=T)
        await workflow.sleep(0.1)
        authorized = await workflow.execute_activity(authorize_payment, item, start_to_close_timeout=T)  # changed
        return f"{reserved}, {authorized}"


def line_of(cls: type, text: str) -> int:
    import inspect

    source, start = inspect.getsourcelines(cls)
    return start + next(i for i, line in enumerate(source) if text in line)


# -- the Replayer ---------------------------------------------------------------------------------


async def test_history_of_a_real_run_replays(client: Client, task_queue: str) -> None:
    async with Worker(client, task_queue=task_queue, workflows=[OrderV1], activities=[reserve_stock, charge_card]):
        handle = await client.start_workflow(OrderV1.run, "lamp", id=f"order-{task_queue}", task_queue=task_queue)
        assert await handle.result() == "reserved lamp, charged for lamp"
    history = await handle.fetch_history()

    replayer = Replayer(workflows=[OrderV1])
    assert await replayer.replay_workflow(history) == ReplayResult(f"order-{task_queue}")
    # The JSON `wf workflow show -o json` prints replays the same.
    assert (await replayer.replay_workflow(history.to_json())).ok
    with pytest.raises(NondeterminismError, match="ActivityTaskScheduled\\(activity 'charge_card'"):
        await Replayer(workflows=[OrderV2]).replay_workflow(history)


async def test_checked_in_history_replays_with_the_same_code() -> None:
    result = await Replayer(workflows=[OrderV1]).replay_workflow(ORDER_V1)
    assert result == ReplayResult("order_v1", None)
    assert result.ok


async def test_incompatible_change_is_named_with_event_and_line() -> None:
    with pytest.raises(NondeterminismError) as info:
        await Replayer(workflows=[OrderV2]).replay_workflow(ORDER_V1)
    message = str(info.value)
    # Events 5-7 are reserve_stock, 11-12 the timer, 16 the second activity.
    assert "nondeterminism at history event 16" in message
    assert "history recorded ActivityTaskScheduled(activity 'charge_card'" in message
    assert "asked for ScheduleActivityTask(activity 'authorize_payment'" in message
    assert f"test_replayer.py:{line_of(OrderV2, '# changed')}" in message


async def test_replay_workflows_reports_each_without_raising() -> None:
    results = await Replayer(workflows=[OrderV1]).replay_workflows([ORDER_V1, str(ORDER_V2)])
    assert [r.workflow_id for r in results] == ["order_v1", "order_v2"]
    assert results[0].ok
    assert isinstance(results[1].error, NondeterminismError)
    assert "ActivityTaskScheduled(activity 'authorize_payment'" in str(results[1].error)


async def test_unreadable_or_unknown_histories_are_reported(tmp_path: Path) -> None:
    not_json = tmp_path / "broken.json"
    not_json.write_text("{ not json")
    replayer = Replayer(workflows=[OrderV1])
    results = await replayer.replay_workflows([not_json, tmp_path / "missing.json", ORDER_V1])
    assert isinstance(results[0].error, ValueError)
    assert "is not a wf.v1.History in JSON" in str(results[0].error)
    assert isinstance(results[1].error, FileNotFoundError)
    assert results[2].ok

    @workflow.defn(name="Shipping")
    class Shipping:
        @workflow.run
        async def run(self) -> None: ...

    with pytest.raises(LookupError, match="workflow type 'Order' of 'order_v1' is not among the replayer's"):
        await Replayer(workflows=[Shipping]).replay_workflow(ORDER_V1)
    with pytest.raises(ValueError, match="does not begin with WorkflowExecutionStarted"):
        await replayer.replay_workflow(WorkflowHistory("empty", []))


async def test_open_history_replays_to_its_last_completed_task() -> None:
    events = WorkflowHistory.from_json("order_v1", ORDER_V1.read_text()).events
    # The run as it was after the timer fired (event 12): the workflow task that scheduled
    # charge_card (event 16) first scheduled (13), then in flight (14). Up to there OrderV2 is
    # compatible, since what a workflow task in flight will ask for is not recorded yet.
    assert events[13].event_type == history_pb2.EVENT_TYPE_WORKFLOW_TASK_STARTED
    for cut in (13, 14):
        for code in (OrderV1, OrderV2):
            assert (await Replayer(workflows=[code]).replay_workflow(WorkflowHistory("open", events[:cut]))).ok
    with pytest.raises(NondeterminismError, match="history event 16"):
        await Replayer(workflows=[OrderV2]).replay_workflow(WorkflowHistory("open", events[:16]))


class ZlibCodec(PayloadCodec):
    async def encode(self, payloads: Sequence[common_pb2.Payload]) -> list[common_pb2.Payload]:
        return [
            common_pb2.Payload(metadata={"encoding": b"binary/zlib"}, data=zlib.compress(p.SerializeToString()))
            for p in payloads
        ]

    async def decode(self, payloads: Sequence[common_pb2.Payload]) -> list[common_pb2.Payload]:
        return [common_pb2.Payload.FromString(zlib.decompress(p.data)) for p in payloads]


async def test_codec_decodes_the_history_before_replay(server: Server, task_queue: str) -> None:
    converter = DataConverter(payload_codec=ZlibCodec())
    client = await Client.connect(server.address, data_converter=converter)
    try:
        async with Worker(client, task_queue=task_queue, workflows=[OrderV1], activities=[reserve_stock, charge_card]):
            handle = await client.start_workflow(OrderV1.run, "desk", id=f"zip-{task_queue}", task_queue=task_queue)
            assert await handle.result() == "reserved desk, charged for desk"
        history = await handle.fetch_history()
    finally:
        await client.close()
    assert (
        history.events[0].workflow_execution_started_event_attributes.input.payloads[0].metadata["encoding"]
        == b"binary/zlib"
    )
    assert (await Replayer(workflows=[OrderV1], data_converter=converter).replay_workflow(history)).ok
    with pytest.raises(ValueError, match="is a payload codec missing"):
        await Replayer(workflows=[OrderV1]).replay_workflow(history)
    # The caller's history is left as it was recorded.
    assert (
        history.events[0].workflow_execution_started_event_attributes.input.payloads[0].metadata["encoding"]
        == b"binary/zlib"
    )


# -- wf replay --------------------------------------------------------------------------------------


def wf_replay(*args: str | Path) -> subprocess.CompletedProcess[str]:
    """``wf replay`` as users run it, from the project root (so ``tests.test_replayer`` imports)."""
    return subprocess.run(
        [WF, "replay", *map(str, args)], cwd=ROOT, capture_output=True, text=True, timeout=60, check=False
    )


def test_cli_replays_a_history() -> None:
    done = wf_replay("--history", ORDER_V1, "--workflows", "tests.test_replayer:OrderV1")
    assert done.returncode == 0, done.stderr
    assert done.stdout == f"ok {ORDER_V1}\n"


def test_cli_names_an_incompatible_change() -> None:
    done = wf_replay("--history", "tests/histories/order_v1.json", "--workflows", "tests.test_replayer:OrderV2")
    assert done.returncode == 1, done.stderr
    assert done.stdout.startswith("FAILED tests/histories/order_v1.json: nondeterminism at history event 16")
    assert f"test_replayer.py:{line_of(OrderV2, '# changed')}" in done.stdout


def test_cli_history_dir_reports_every_file_as_json(tmp_path: Path) -> None:
    for fixture in (ORDER_V1, ORDER_V2):
        shutil.copy(fixture, tmp_path)
    done = wf_replay("--history-dir", tmp_path, "--workflows", "tests.test_replayer:OrderV1", "-o", "json")
    assert done.returncode == 1, done.stderr
    rows = json.loads(done.stdout)
    assert [(Path(r["file"]).name, r["ok"]) for r in rows] == [("order_v1.json", True), ("order_v2.json", False)]
    assert rows[0]["error"] is None
    assert "nondeterminism at history event 16" in rows[1]["error"]

    done = wf_replay("--history-dir", tmp_path, "--workflows", "tests.test_replayer:OrderV1")
    assert done.returncode == 1
    assert done.stdout.splitlines()[0] == f"ok {tmp_path / 'order_v1.json'}"
    assert done.stdout.splitlines()[1].startswith(f"FAILED {tmp_path / 'order_v2.json'}: nondeterminism")


def test_cli_usage_errors(tmp_path: Path) -> None:
    done = wf_replay("--history", tmp_path / "nope.json", "--workflows", "tests.test_replayer:OrderV1")
    assert done.returncode == 2
    assert "does not exist" in done.stderr

    done = wf_replay("--history", ORDER_V1, "--workflows", "no_such_module:Order")
    assert done.returncode == 2
    assert "cannot import 'no_such_module'" in done.stderr

    done = wf_replay("--history", ORDER_V1, "--workflows", "tests.test_replayer:Nothing")
    assert done.returncode == 2
    assert "'tests.test_replayer' has no 'Nothing'" in done.stderr

    done = wf_replay("--history", ORDER_V1, "--workflows", "tests.test_replayer")
    assert done.returncode == 2
    assert "is not module:attr" in done.stderr

    done = wf_replay("--workflows", "tests.test_replayer:OrderV1")
    assert done.returncode == 2
    assert "--history FILE" in done.stderr
