"""Keepalive: the SDK's pings and the server's ping policy agree.

gRPC's default server policy refuses pings more often than every 5 minutes, and only while calls are
in flight; a client that pings more often is sent ``GOAWAY too_many_pings``, which ends its calls
(the Multiplex stream among them) and its connection. These tests ping far more often than the
defaults, with the server's accepted interval lowered to match, so a few intervals pass in seconds.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import timedelta

import grpc
import pytest

from tests.helpers import new_id
from wf.server.app import Server
from wf.server.config import ServerConfig
from wf.v1 import service_pb2
from worker_sdk import Client

S = service_pb2
# The client pings every 100 ms; the server accepts pings every 50 ms.
INTERVAL = timedelta(milliseconds=100)


@pytest.fixture
async def pinged_server(db_url: str) -> AsyncIterator[Server]:
    s = Server(ServerConfig(db_url=db_url, port=0, min_client_ping_interval=INTERVAL.total_seconds() / 2))
    await s.start()
    yield s
    await s.stop()


async def _watch(channel: grpc.aio.Channel, seen: list[grpc.ChannelConnectivity]) -> None:
    """Record every state the channel passes through (a GOAWAY takes it out of READY)."""
    state = channel.get_state()
    while True:
        seen.append(state)
        await channel.wait_for_state_change(state)
        state = channel.get_state()


@pytest.mark.parametrize("multiplex", [True, False], ids=["stream", "rpc"])
async def test_an_idle_client_keeps_its_connection(pinged_server: Server, multiplex: bool) -> None:
    client = await Client.connect(
        pinged_server.address, keepalive_interval=INTERVAL, keepalive_timeout=timedelta(seconds=5),
        multiplex=multiplex,
    )
    channel = client._channel
    seen: list[grpc.ChannelConnectivity] = []
    watcher = asyncio.create_task(_watch(channel, seen))
    try:
        # With multiplex the stream stays open with no call on it; without, no call is in flight at
        # all. Idle is what is tested here, so it is waited out: 30 ping intervals.
        await asyncio.sleep(30 * INTERVAL.total_seconds())
        described = await client.service.GetSystemInfo(S.GetSystemInfoRequest(), timeout=5)
        assert described.server_version
        assert seen == [grpc.ChannelConnectivity.READY], f"the connection did not stay up: {seen}"
    finally:
        watcher.cancel()
        await client.close()


async def test_a_poll_waits_out_its_timeout_under_pings(db_url: str) -> None:
    """A worker's long poll, with no data on the connection while it waits, answers empty at its
    timeout rather than failing when the server tires of the pings."""
    s = Server(ServerConfig(
        db_url=db_url, port=0, long_poll_timeout=3.0, min_client_ping_interval=INTERVAL.total_seconds() / 2
    ))
    await s.start()
    client = await Client.connect(s.address, keepalive_interval=INTERVAL)
    try:
        poll = S.PollActivityTaskQueueRequest(namespace="default", task_queue={"name": new_id("tq")})
        response = await client.service.PollActivityTaskQueue(poll, timeout=10)
        assert not response.task_token
    finally:
        await client.close()
        await s.stop()
