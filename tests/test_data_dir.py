"""`wf server start-dev` owns its data directory, and a server that cannot take its port says so.

Real `wf` processes on real embedded PostgreSQL: a second dev server on a data directory in use is
refused at once, naming the first, and leaves the first serving (before, it attached to the first
one's PostgreSQL and stopped it on its way out); a SIGKILLed owner leaves no stale lock behind.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import signal
import socket
import subprocess
import time
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from tests.helpers import ServerProcess, free_port, wait_until_serving, wf_executable, wf_server_process
from worker_sdk import Client

WF = wf_executable()


@pytest.fixture
def short_dir(dev_data_dir: Path) -> Path:
    """A directory with a short path: PostgreSQL's socket lives in the data directory."""
    return dev_data_dir


def _dev_cmd(port: int, data_dir: Path) -> list[str]:
    return [WF, "server", "start-dev", "--port", str(port), "--data-dir", str(data_dir)]


@contextlib.asynccontextmanager
async def dev_server(data_dir: Path, port: int | None = None) -> AsyncIterator[ServerProcess]:
    """A `wf server start-dev` on ``data_dir``, serving until the block ends (SIGTERM after)."""
    port = port or free_port()
    log_path = data_dir.parent / f"{data_dir.name}-{port}.log"
    with open(log_path, "wb") as log:
        popen = subprocess.Popen(_dev_cmd(port, data_dir), stdout=log, stderr=subprocess.STDOUT,
                                 stdin=subprocess.DEVNULL, env={**os.environ, "PYTHONUNBUFFERED": "1"})
    proc = ServerProcess(popen, port, log_path)
    try:
        try:
            await wait_until_serving(proc.address, timeout=60, alive=proc.running)
        except AssertionError as exc:
            raise AssertionError(f"{exc}\n{proc.output()}") from None
        yield proc
    finally:
        if proc.running():
            await proc.terminate(timeout=30)
        await asyncio.to_thread(popen.wait)


async def run_wf(*args: str, timeout: float = 60) -> tuple[subprocess.CompletedProcess[str], float]:
    """Run `wf ARGS` to its end; returns it and how long it took."""
    started = time.monotonic()
    done = await asyncio.to_thread(subprocess.run, [WF, *args], capture_output=True, text=True, timeout=timeout)
    return done, time.monotonic() - started


async def list_workflow_ids(address: str) -> list[str]:
    async with await Client.connect(address) as client:
        return [w.id async for w in client.list_workflows()]


async def test_a_second_dev_server_on_a_data_directory_in_use_is_refused(short_dir: Path) -> None:
    data_dir = short_dir / "data"
    async with dev_server(data_dir) as first:
        async with await Client.connect(first.address) as client:
            await client.start_workflow("Anything", id="before-the-second", task_queue="nobody")

        second_port = free_port()
        done, took = await run_wf("server", "start-dev", "--port", str(second_port), "--data-dir", str(data_dir))
        assert done.returncode == 1, done.stderr
        assert done.stderr.strip() == (
            f"error: data directory {data_dir} is in use by the wf server with pid {first.popen.pid} "
            f"at {first.address}: stop it, or give this one another --data-dir"
        )
        assert took < 5, f"refused after {took:.1f}s, not at once"
        # The second never served, and the first serves on, its PostgreSQL untouched.
        with pytest.raises(OSError):
            socket.create_connection(("127.0.0.1", second_port), timeout=1).close()
        assert first.running()
        assert "before-the-second" in await list_workflow_ids(first.address)
        async with await Client.connect(first.address) as client:
            await client.start_workflow("Anything", id="after-the-second", task_queue="nobody")
        listed, _ = await run_wf("workflow", "list", "--address", first.address, "-o", "json", timeout=30)
        assert listed.returncode == 0, listed.stderr
        assert {"before-the-second", "after-the-second"} <= {w["workflowId"] for w in json.loads(listed.stdout)}


async def test_a_sigkilled_owner_leaves_no_stale_lock(short_dir: Path) -> None:
    data_dir = short_dir / "data"
    async with dev_server(data_dir) as first:
        async with await Client.connect(first.address) as client:
            await client.start_workflow("Anything", id="kept", task_queue="nobody")
        await first.kill()
    # The kernel dropped the lock with the process; PostgreSQL, its own process, outlived it and
    # is reused (or started again) by the next owner.
    async with dev_server(data_dir) as second:
        assert "kept" in await list_workflow_ids(second.address)
        refused, _ = await run_wf("server", "start-dev", "--port", str(free_port()), "--data-dir", str(data_dir))
        assert refused.returncode == 1
        assert f"pid {second.popen.pid} at {second.address}" in refused.stderr


async def test_start_dev_on_a_port_in_use_says_so_in_one_line(short_dir: Path) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        done, took = await run_wf(*_dev_cmd(port, short_dir / "data")[1:])
    assert done.returncode == 1
    assert done.stderr.strip() == (
        f"error: port {port} on 127.0.0.1 is in use (another wf server?): stop what uses it, "
        "or choose another port with --port (make run PORT=7300)"
    )
    assert took < 10
    assert not (short_dir / "data" / "pgdata").exists(), "nothing starts before the port is known to be free"
    # The data directory is free again for a server that can listen.
    async with dev_server(short_dir / "data") as dev:
        assert dev.running()


async def test_start_on_a_port_in_use_says_so_in_one_line(db_url: str) -> None:
    async with wf_server_process(db_url) as first:
        done, _ = await run_wf("server", "start", "--db", db_url, "--port", str(first.port))
        assert done.returncode == 1
        assert done.stderr.strip() == (
            f"error: port {first.port} on 127.0.0.1 is in use (another wf server?): stop what uses it, "
            "or choose another port with --port (make run PORT=7300)"
        )
        assert "Traceback" not in done.stderr
        assert first.running()


async def test_the_owner_record_goes_with_a_clean_stop(short_dir: Path) -> None:
    data_dir = short_dir / "data"
    async with dev_server(data_dir) as dev:
        owner = json.loads((data_dir / "server.owner").read_text())
        assert owner == {"pid": dev.popen.pid, "address": dev.address}
        dev.popen.send_signal(signal.SIGTERM)
        assert await asyncio.to_thread(dev.popen.wait, 30) == 0
    assert not (data_dir / "server.owner").exists()


async def test_make_run_takes_a_port_and_a_data_directory(short_dir: Path) -> None:
    root = Path(__file__).resolve().parent.parent
    port = free_port()
    data_dir = short_dir / "made"
    log_path = short_dir / "make.log"
    with open(log_path, "wb") as log:
        make = subprocess.Popen(
            ["make", "--no-print-directory", "run", f"PORT={port}", f"DATA_DIR={data_dir}"], cwd=root,
            stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, start_new_session=True,
        )
    try:
        await wait_until_serving(f"127.0.0.1:{port}", timeout=60, alive=lambda: make.poll() is None)
        owner = json.loads((data_dir / "server.owner").read_text())
        assert owner["address"] == f"127.0.0.1:{port}"
    finally:
        os.killpg(make.pid, signal.SIGTERM)  # make and the server it runs, as Ctrl-C does
        await asyncio.to_thread(make.wait, 30)
    assert f"wf server listening on 127.0.0.1:{port} (embedded PostgreSQL in {data_dir}/pgdata)" in (
        log_path.read_text()
    )
    # and where to open the web UI: the gRPC port + 1000.
    assert f"; web UI on http://127.0.0.1:{port + 1000}" in log_path.read_text()
