"""Where the web UI runs: ``wf ui`` against any server, ``wf server start-dev`` beside its server (the
gRPC port + 1000, or none with ``--headless``), ``wf server start --ui-port``.

Real ``wf`` processes, real HTTP: each UI is asked for its workflows page, stopped with SIGTERM as
Ctrl-C would, and its port must be free afterwards.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import re
import signal
import socket
import subprocess
import time
from collections.abc import AsyncIterator, Sequence
from pathlib import Path

import httpx
import pytest

from tests.helpers import (
    ServerProcess,
    assert_eventually,
    free_port,
    wait_until_serving,
    wf_executable,
    wf_server_process,
)
from wf.server.app import Server
from worker_sdk import Client

WF = wf_executable()


@pytest.fixture
def short_dir(dev_data_dir: Path) -> Path:
    """A directory with a short path: PostgreSQL's socket lives in the data directory."""
    return dev_data_dir


def port_is_free(port: int, host: str = "127.0.0.1") -> bool:
    """Whether ``host:port`` can be listened on again (as the UI binds: SO_REUSEADDR)."""
    with socket.socket() as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((host, port))
        except OSError:
            return False
    return True


async def ui_answers(url: str) -> httpx.Response:
    """The UI's first page at ``url`` once it answers (following its redirect to the list)."""
    async with httpx.AsyncClient(timeout=10, follow_redirects=True) as http:

        async def get() -> httpx.Response:
            try:
                response = await http.get(url)
            except httpx.TransportError as exc:
                raise AssertionError(f"{url} does not answer yet: {exc!r}") from None
            assert response.status_code == 200, response.text[:2000]
            return response

        return await assert_eventually(get, timeout=30, interval=0.1)


def assert_a_workflows_page(response: httpx.Response) -> None:
    assert "text/html" in response.headers["content-type"]
    assert "Workflows" in response.text
    assert "Traceback" not in response.text


@contextlib.asynccontextmanager
async def wf_process(args: Sequence[str], log_path: Path) -> AsyncIterator[subprocess.Popen[bytes]]:
    """``wf ARGS`` running until the block ends, then stopped with SIGTERM (it must exit 0 in time)."""
    with open(log_path, "wb") as log:
        popen = subprocess.Popen([WF, *args], stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                 env={**os.environ, "PYTHONUNBUFFERED": "1"})
    try:
        yield popen
    finally:
        if popen.poll() is None:
            popen.send_signal(signal.SIGTERM)
            try:
                await asyncio.to_thread(popen.wait, 30)
            except subprocess.TimeoutExpired:
                popen.kill()
                await asyncio.to_thread(popen.wait)
                output = log_path.read_text()
                raise AssertionError(f"`wf {' '.join(args)}` did not stop on SIGTERM:\n{output}") from None


async def stop(popen: subprocess.Popen[bytes], log_path: Path) -> str:
    """SIGTERM, as Ctrl-C: the process exits 0 within 30 s; returns its output."""
    popen.send_signal(signal.SIGTERM)
    code = await asyncio.to_thread(popen.wait, 30)
    output = log_path.read_text(errors="replace")
    assert code == 0, output
    assert "Traceback" not in output, output
    return output


async def test_wf_ui_serves_a_running_server_and_stops_cleanly(server: Server, short_dir: Path) -> None:
    port = free_port()
    log_path = short_dir / "ui.log"
    async with wf_process(["ui", "--address", server.address, "--port", str(port)], log_path) as ui:
        assert_a_workflows_page(await ui_answers(f"http://127.0.0.1:{port}/"))
        output = await stop(ui, log_path)
    assert f"wf web UI on http://127.0.0.1:{port} (server {server.address}, namespace default)" in output
    assert "warning" not in output  # loopback: nothing to warn of
    assert port_is_free(port)


async def test_wf_ui_on_loopback_answers_the_names_allowed(server: Server, short_dir: Path) -> None:
    port = free_port()
    log_path = short_dir / "ui.log"
    args = ["ui", "--address", server.address, "--port", str(port), "--allowed-host", "wf.proxy"]
    async with wf_process(args, log_path) as ui:
        await ui_answers(f"http://127.0.0.1:{port}/")
        async with httpx.AsyncClient(timeout=10) as http:
            page = f"http://127.0.0.1:{port}/namespaces/default/workflows"
            assert (await http.get(page, headers={"host": "wf.proxy"})).status_code == 200
            assert (await http.get(page, headers={"host": "rebound.example"})).status_code == 421
        await stop(ui, log_path)
    assert port_is_free(port)


async def test_wf_ui_beyond_loopback_warns_of_plain_http_and_sign_in(server: Server, short_dir: Path) -> None:
    port = free_port()
    log_path = short_dir / "ui.log"
    async with wf_process(["ui", "--address", server.address, "--port", str(port), "--ip", "0.0.0.0"],
                          log_path) as ui:
        await ui_answers(f"http://127.0.0.1:{port}/")
        output = await stop(ui, log_path)
    assert "warning: the web UI listens on 0.0.0.0, where other machines can reach it: it asks people to " \
           "sign in only when the wf server requires credentials (--auth required)" in output
    assert "it serves plain HTTP" in output
    assert port_is_free(port, "0.0.0.0")


async def test_wf_ui_on_a_port_in_use_says_so_in_one_line(server: Server) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        done = await asyncio.to_thread(
            subprocess.run, [WF, "ui", "--address", server.address, "--port", str(port)],
            capture_output=True, text=True, timeout=60,
        )
    assert done.returncode == 1
    assert done.stderr.strip() == (
        f"error: port {port} on 127.0.0.1 is in use, so the web UI cannot listen there: "
        "stop what uses it, or choose another port with --port"
    )


def _ui_url(output: str) -> str | None:
    found = re.search(r"; web UI on (http://\S+)", output)
    return found.group(1) if found else None


async def start_dev(short_dir: Path, *args: str) -> tuple[subprocess.Popen[bytes], int, Path]:
    """A ``wf server start-dev`` on a free port, once its gRPC port answers; (process, port, log)."""
    port = free_port()
    log_path = short_dir / f"dev-{port}.log"
    with open(log_path, "wb") as log:
        popen = subprocess.Popen(
            [WF, "server", "start-dev", "--port", str(port), "--data-dir", str(short_dir / "data"), *args],
            stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
            env={**os.environ, "PYTHONUNBUFFERED": "1"},
        )
    proc = ServerProcess(popen, port, log_path)
    try:
        await wait_until_serving(proc.address, timeout=60, alive=proc.running)
        # The start line comes once the server and its UI both serve.
        await assert_eventually(lambda: "wf server listening on" in proc.output(), timeout=30)
    except AssertionError as exc:
        await proc.kill()
        raise AssertionError(f"{exc}\n{proc.output()}") from None
    return popen, port, log_path


async def test_start_dev_serves_the_ui_on_the_grpc_port_plus_1000(short_dir: Path) -> None:
    popen, port, log_path = await start_dev(short_dir)
    try:
        ui_port = port + 1000
        assert _ui_url(log_path.read_text()) == f"http://127.0.0.1:{ui_port}"
        assert_a_workflows_page(await ui_answers(f"http://127.0.0.1:{ui_port}/"))
    finally:
        await stop(popen, log_path)
    assert port_is_free(ui_port) and port_is_free(port)


async def test_start_dev_headless_serves_no_ui(short_dir: Path) -> None:
    popen, port, log_path = await start_dev(short_dir, "--headless")
    try:
        assert _ui_url(log_path.read_text()) is None
        with pytest.raises(httpx.ConnectError):
            async with httpx.AsyncClient(timeout=5) as http:
                await http.get(f"http://127.0.0.1:{port + 1000}/")
    finally:
        output = await stop(popen, log_path)
    assert "web UI" not in output
    assert port_is_free(port)


async def test_start_dev_with_its_ui_port_in_use_says_so_before_starting(short_dir: Path) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        ui_port = taken.getsockname()[1]
        port = free_port()
        done = await asyncio.to_thread(
            subprocess.run,
            [WF, "server", "start-dev", "--port", str(port), "--ui-port", str(ui_port),
             "--data-dir", str(short_dir / "data")],
            capture_output=True, text=True, timeout=60,
        )
    assert done.returncode == 1
    assert done.stderr.strip() == (
        f"error: port {ui_port} on 127.0.0.1 is in use, so the web UI cannot listen there: stop what uses "
        "it, or choose another port with --ui-port (or start without a UI: --headless)"
    )
    assert not (short_dir / "data" / "pgdata").exists(), "nothing starts before the UI's port is known to be free"
    assert port_is_free(port)


async def test_wf_server_start_serves_the_ui_only_when_given_a_port(db_url: str) -> None:
    ui_port = free_port()
    args = ["--no-migrate", "--ui-port", str(ui_port), "--ui-ip", "0.0.0.0"]
    async with wf_server_process(db_url, args=args) as proc:
        assert_a_workflows_page(await ui_answers(f"http://127.0.0.1:{ui_port}/"))
        await assert_eventually(lambda: _ui_url(proc.output()) == f"http://127.0.0.1:{ui_port}")
        assert "warning: the web UI listens on 0.0.0.0, where other machines can reach it" in proc.output()
        assert await proc.terminate() == 0
    assert port_is_free(ui_port, "0.0.0.0")
    async with wf_server_process(db_url, args=["--no-migrate"]) as plain:
        await assert_eventually(lambda: "wf server listening on" in plain.output())
        assert "web UI" not in plain.output()


async def test_wf_ui_stops_while_a_page_follows_a_running_workflow(
    server: Server, client: Client, task_queue: str, short_dir: Path
) -> None:
    """A live page's event stream never ends by itself: SIGTERM still stops the UI within seconds,
    cleanly, and the browser's stream ends."""
    handle = await client.start_workflow("UiNobodyRunsThis", id=f"ui-live-{task_queue}", task_queue=task_queue)
    port = free_port()
    log_path = short_dir / "ui.log"
    async with wf_process(["ui", "--address", server.address, "--port", str(port)], log_path) as ui:
        await ui_answers(f"http://127.0.0.1:{port}/")
        async with (
            httpx.AsyncClient(timeout=30) as http,
            http.stream("GET", f"http://127.0.0.1:{port}/namespaces/default/workflow/live",
                        params={"id": handle.id}) as live,
        ):
            assert live.headers["content-type"].startswith("text/event-stream")
            lines = live.aiter_lines()
            assert await anext(lines) == "event: status"
            began = time.monotonic()
            output = await stop(ui, log_path)
            assert time.monotonic() - began < 10
            # The stream ends (closed by the stopping UI) rather than hanging.
            with contextlib.suppress(httpx.HTTPError):
                async for _ in lines:
                    pass
    assert port_is_free(port)
    assert "wf web UI stopping" in output


def test_the_ui_warns_beyond_loopback_until_it_has_both_https_and_sign_in() -> None:
    from worker_sdk._cli.ui_cmd import exposure_warning

    assert exposure_warning("127.0.0.1") is None
    assert exposure_warning("0.0.0.0", https=True, auth_required=True) is None
    plain = exposure_warning("0.0.0.0", https=False, auth_required=True)
    assert plain is not None and "plain HTTP" in plain and "credentials" not in plain
    open_ = exposure_warning("10.0.0.5", https=True, auth_required=False)
    assert open_ is not None and "does not require credentials (--auth required)" in open_
    assert "plain HTTP" not in open_
