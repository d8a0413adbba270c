"""``handle.stack()`` and ``wf workflow stack``: where each coroutine of a running workflow waits,
with file:line of workflow code, tasks made with ``asyncio.create_task`` included; real worker,
real server."""

from __future__ import annotations

import asyncio
import subprocess
from datetime import timedelta
from pathlib import Path

from tests.helpers import assert_eventually, new_id, wf_executable
from wf.server.app import Server
from worker_sdk import Client, Worker, workflow

HERE = Path(__file__)


def line_of(marker: str) -> int:
    """The line of this file that holds ``marker`` (a comment beside an await)."""
    lines = HERE.read_text().splitlines()
    return next(i for i, text in enumerate(lines, 1) if text.rstrip().endswith(marker))


@workflow.defn
class Waiting:
    def __init__(self) -> None:
        self.go = False
        self.helper_started = False

    @workflow.run
    async def run(self) -> str:
        helper = asyncio.create_task(self.helper(), name="helper")
        await workflow.wait_condition(lambda: self.go)  # @main-waits
        await helper
        return "done"

    async def helper(self) -> None:
        self.helper_started = True
        await self.nap()

    async def nap(self) -> None:
        await workflow.sleep(timedelta(hours=1))  # @helper-waits

    @workflow.signal
    def release(self) -> None:
        self.go = True

    @workflow.query
    def started(self) -> bool:
        return self.helper_started


async def test_stack_shows_each_coroutine_at_its_line_of_workflow_code(
    server: Server, client: Client, task_queue: str
) -> None:
    async with Worker(client, task_queue=task_queue, workflows=[Waiting]):
        handle = await client.start_workflow(Waiting.run, id=new_id("stack"), task_queue=task_queue)
        await assert_eventually(lambda: handle.query(Waiting.started))
        stack = await handle.stack()
        blocks = {block.splitlines()[0]: block for block in stack.split("\n\n")}
        main = next(b for name, b in blocks.items() if name.startswith("workflow Waiting"))
        assert f"{HERE}:{line_of('# @main-waits')} in run" in main
        helper = blocks["helper:"]
        assert f"{HERE}:{line_of('# @helper-waits')} in nap" in helper
        assert helper.index(" in helper") < helper.index(" in nap")  # outermost first
        assert "worker_sdk" not in stack and "asyncio" not in stack  # SDK frames left out

        out = await asyncio.to_thread(
            subprocess.run,
            [wf_executable(), "workflow", "stack", "-w", handle.id, "--address", server.address],
            capture_output=True, text=True, timeout=60,
        )
        assert out.returncode == 0, out.stderr
        assert f"{HERE.name}:{line_of('# @helper-waits')} in nap" in out.stdout
        await handle.signal(Waiting.release)
