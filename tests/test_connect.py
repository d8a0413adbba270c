"""Clients that connect or fail fast, and never wait on a server without saying why.

`Client.connect` to an address where nothing listens fails at once, in the CLI's words, as
temporalio's does; waiting for a server that comes up later is `wait_for_ready=True`. A server that
does not answer, or whose database is gone, ends the CLI's command within its deadline with a line
that says what is wrong, after saying that it waits.
"""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import time
from collections.abc import AsyncIterator
from datetime import timedelta

import grpc
import pytest
import pytest_asyncio

from tests.helpers import free_port, wf_executable, wf_server_process
from tests.test_outage import Postgres
from wf.v1 import service_pb2
from worker_sdk import Client
from worker_sdk.errors import RPCError

WF = wf_executable()
HINT = ("hint: is a server running there? Start one with `wf server start-dev`, "
        "or point --address / WF_ADDRESS at yours.")


async def test_connect_to_a_closed_port_fails_at_once() -> None:
    address = f"127.0.0.1:{free_port()}"
    started = time.monotonic()
    with pytest.raises(RPCError) as caught:
        await Client.connect(address)
    took = time.monotonic() - started
    assert str(caught.value) == f"cannot reach a wf server at {address}: connection refused"
    assert caught.value.status == grpc.StatusCode.UNAVAILABLE
    assert took < 1.0, f"took {took:.2f}s"


async def test_connect_to_an_unknown_host_names_it() -> None:
    with pytest.raises(RPCError) as caught:
        await Client.connect("no-such-host.invalid:7233")
    assert str(caught.value) == "cannot reach a wf server at no-such-host.invalid:7233: unknown host name"


async def test_connect_can_wait_for_a_server_that_comes_up_later(db_url: str) -> None:
    port = free_port()
    connecting = asyncio.create_task(
        Client.connect(f"127.0.0.1:{port}", wait_for_ready=True, timeout=timedelta(seconds=60))
    )
    # Still waiting (not refused) while nothing listens.
    done, _ = await asyncio.wait({connecting}, timeout=1.0)
    assert not done
    async with wf_server_process(db_url, port=port):
        client = await asyncio.wait_for(connecting, 60)
        async with client:
            assert [w async for w in client.list_workflows("WorkflowId = 'none-such'")] == []


async def test_the_cli_on_a_closed_port_says_so_at_once() -> None:
    address = f"127.0.0.1:{free_port()}"
    started = time.monotonic()
    done = await asyncio.to_thread(
        subprocess.run, [WF, "workflow", "list", "--address", address], capture_output=True, text=True, timeout=30
    )
    assert done.returncode == 1
    assert done.stderr.strip() == (
        f"error: cannot reach a wf server at {address}: connection refused (UNAVAILABLE)\n{HINT}"
    )
    assert time.monotonic() - started < 5


async def test_a_server_that_does_not_answer_ends_the_cli_within_its_deadline(db_url: str) -> None:
    async with wf_server_process(db_url) as server:
        server.popen.send_signal(signal.SIGSTOP)  # listening, accepting, answering nothing
        try:
            started = time.monotonic()
            done = await asyncio.to_thread(
                subprocess.run, [WF, "workflow", "list", "--address", server.address],
                capture_output=True, text=True, timeout=60,
            )
            took = time.monotonic() - started
        finally:
            server.popen.send_signal(signal.SIGCONT)
    assert done.returncode == 1
    assert done.stderr.strip() == (
        f"error: cannot reach a wf server at {server.address}: no answer within 10s (DEADLINE_EXCEEDED)\n{HINT}"
    )
    assert took < 20, f"took {took:.1f}s"


@pytest_asyncio.fixture(loop_scope="session")
async def lost_database() -> AsyncIterator[str]:
    """The address of a `wf server start` whose PostgreSQL has just gone away."""
    pg = Postgres()
    try:
        url = await pg.start()
        async with wf_server_process(url) as server:
            await pg.crash()
            yield server.address
    finally:
        pg.remove()


async def test_a_server_whose_database_is_gone_ends_the_cli_within_its_deadline(lost_database: str) -> None:
    started = time.monotonic()
    cli = await asyncio.create_subprocess_exec(
        WF, "workflow", "list", "--address", lost_database,
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )
    assert cli.stderr is not None
    try:
        # It says at once that it waits, and why; then gives up within its deadline, saying why.
        first = (await asyncio.wait_for(cli.stderr.readline(), 15)).decode()
        waiting = f"waiting for the wf server at {lost_database} (UNAVAILABLE: the database is unavailable"
        assert first.startswith(waiting), first
        assert time.monotonic() - started < 10
        rest = (await asyncio.wait_for(cli.stderr.read(), 90)).decode()
        assert await cli.wait() == 1
    finally:
        if cli.returncode is None:
            cli.kill()
            await cli.wait()
    assert rest.startswith("error: the database is unavailable"), rest
    assert rest.rstrip().endswith("(UNAVAILABLE)"), rest
    assert time.monotonic() - started < 75


async def test_a_call_to_a_server_that_stopped_answering_fails_within_its_deadline(db_url: str) -> None:
    async with wf_server_process(db_url) as server:
        for multiplex in (True, False):
            async with await Client.connect(server.address, multiplex=multiplex) as client:
                server.popen.send_signal(signal.SIGSTOP)
                try:
                    started = time.monotonic()
                    with pytest.raises(RPCError) as caught:
                        await client.call(
                            client.service.ListWorkflowExecutions,
                            service_pb2.ListWorkflowExecutionsRequest(namespace="default"), timeout=2.0,
                        )
                    took = time.monotonic() - started
                finally:
                    server.popen.send_signal(signal.SIGCONT)
            assert str(caught.value) == f"no answer from the wf server at {server.address} within 2s"
            assert caught.value.status == grpc.StatusCode.DEADLINE_EXCEEDED
            assert took < 5, f"took {took:.1f}s"
