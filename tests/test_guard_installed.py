"""The determinism guard covers workflows deployed as an installed package, and trusts only the
standard library, the SDK and the modules a worker passes through.

The worker runs in a virtualenv of its own whose site-packages holds two installed packages: one of
workflows, and a small library that reads the clock. The workflow package's own ``time.time()`` is
refused; the library's is allowed once the worker passes it through.
"""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import sysconfig
import textwrap
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
import pytest_asyncio

from tests.helpers import assert_eventually, new_id
from wf.server.app import Server
from worker_sdk import Client, Worker, activity

_WORKFLOWS = '''
import time

import clocklib
from worker_sdk import workflow


@workflow.defn
class ReadsTheClock:
    @workflow.run
    async def run(self) -> float:
        return time.time()


@workflow.defn
class ReadsTheClockThroughALibrary:
    @workflow.run
    async def run(self) -> float:
        return clocklib.seconds_since_epoch()
'''

_CLOCKLIB = '''
import time


def seconds_since_epoch() -> float:
    return time.time()
'''

_WORKER = '''
import asyncio
import sys
import sysconfig

import shipped_workflows
from worker_sdk import Client, Worker


async def main(address: str, task_queue: str) -> None:
    # Proof that the workflows are installed: in this interpreter's site-packages.
    assert shipped_workflows.__file__.startswith(sysconfig.get_paths()["purelib"]), shipped_workflows.__file__
    client = await Client.connect(address)
    workflows = [shipped_workflows.ReadsTheClock, shipped_workflows.ReadsTheClockThroughALibrary]
    async with Worker(client, task_queue=task_queue, workflows=workflows, passthrough_modules=["clocklib"]):
        print("ready", flush=True)
        await asyncio.get_running_loop().run_in_executor(None, sys.stdin.read)


asyncio.run(main(sys.argv[1], sys.argv[2]))
'''


def _install(site_packages: Path, name: str, source: str) -> None:
    """Install a one-module package as pip lays one out: the package and its dist-info."""
    (site_packages / name).mkdir()
    (site_packages / name / "__init__.py").write_text(textwrap.dedent(source))
    info = site_packages / f"{name}-1.0.dist-info"
    info.mkdir()
    (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {name}\nVersion: 1.0\n")
    (info / "RECORD").write_text(f"{name}/__init__.py,,\n")


@pytest_asyncio.fixture(loop_scope="session")
async def installed_worker(server: Server, tmp_path: Path, task_queue: str) -> AsyncIterator[str]:
    """A worker process in a fresh virtualenv where the workflows are an installed package."""
    venv = tmp_path / "venv"
    await asyncio.to_thread(subprocess.run, [sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True)
    python = venv / "bin" / "python"
    found = await asyncio.to_thread(
        subprocess.run, [str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
        check=True, capture_output=True, text=True,
    )
    site_packages = Path(found.stdout.strip())
    # The SDK and its dependencies come from the test environment, added as a site directory.
    (site_packages / "wf_test_environment.pth").write_text(
        f"import site; site.addsitedir({sysconfig.get_paths()['purelib']!r})\n"
    )
    _install(site_packages, "shipped_workflows", _WORKFLOWS)
    _install(site_packages, "clocklib", _CLOCKLIB)
    script = tmp_path / "worker.py"
    script.write_text(_WORKER)
    proc = await asyncio.create_subprocess_exec(
        str(python), str(script), server.address, task_queue,
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, cwd=tmp_path,
        env={k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV")},
    )
    assert proc.stdout is not None and proc.stdin is not None
    try:
        line = await asyncio.wait_for(proc.stdout.readline(), 60)
        if line.strip() != b"ready":
            rest = await asyncio.wait_for(proc.stdout.read(), 10)
            raise AssertionError(f"the worker did not start:\n{(line + rest).decode(errors='replace')}")
        yield task_queue
    finally:
        proc.stdin.close()  # the worker stops at the end of its input
        try:
            await asyncio.wait_for(proc.wait(), 30)
        except TimeoutError:
            proc.kill()
            await proc.wait()


async def test_installed_workflow_code_is_guarded(client: Client, installed_worker: str) -> None:
    handle = await client.start_workflow("ReadsTheClock", id=new_id("installed"), task_queue=installed_worker)
    message = "time.time() is not allowed in workflow code: use workflow.now()"

    async def refused() -> bool:
        failure = (await handle.describe()).last_workflow_task_failure
        return failure is not None and message in failure.message

    await assert_eventually(refused, timeout=30)
    assert (await handle.describe()).status.name == "RUNNING"
    await handle.terminate("test over")


async def test_a_library_passed_through_may_read_the_clock(client: Client, installed_worker: str) -> None:
    result = await client.execute_workflow(
        "ReadsTheClockThroughALibrary", id=new_id("passthrough"), task_queue=installed_worker
    )
    assert isinstance(result, float) and result > 0


async def test_passthrough_modules_is_a_list_of_names(client: Client, task_queue: str) -> None:
    with pytest.raises(TypeError, match="a list of module names"):
        Worker(client, task_queue=task_queue, workflows=[], activities=[_an_activity],
               passthrough_modules="clocklib")  # type: ignore[arg-type]


@activity.defn
async def _an_activity() -> None:
    return None
