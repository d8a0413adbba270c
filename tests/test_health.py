"""grpc.health.v1 and server reflection, as a load balancer and ``grpcurl`` use them.

The health test runs a server on a PostgreSQL of its own, which it stops and starts again: the
status must follow the database (SERVING while it answers and is migrated, NOT_SERVING while it is
down, SERVING again once it is back), and a stopping server says NOT_SERVING.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import asyncpg
import grpc
import pytest_asyncio
from grpc_health.v1 import health, health_pb2, health_pb2_grpc
from grpc_reflection.v1alpha import reflection_pb2, reflection_pb2_grpc

from tests.helpers import assert_eventually
from tests.test_outage import Postgres
from wf.server.app import Server
from wf.server.config import ServerConfig
from wf.server.health import DatabaseProbe

SERVING = health_pb2.HealthCheckResponse.SERVING
NOT_SERVING = health_pb2.HealthCheckResponse.NOT_SERVING


@pytest_asyncio.fixture(scope="module", loop_scope="session")
async def health_db() -> AsyncIterator[tuple[Postgres, str]]:
    pg = Postgres()
    try:
        url = await pg.start()
        yield pg, url
    finally:
        await asyncio.to_thread(pg.remove)


async def _status(channel: grpc.aio.Channel, service: str = "") -> int:
    stub = health_pb2_grpc.HealthStub(channel)
    resp = await stub.Check(health_pb2.HealthCheckRequest(service=service), timeout=5)
    return int(resp.status)


async def test_health_follows_the_database(health_db: tuple[Postgres, str]) -> None:
    pg, url = health_db
    server = Server(ServerConfig(db_url=url, port=0))
    await server.start()
    stopped = False
    try:
        async with grpc.aio.insecure_channel(f"127.0.0.1:{server.port}") as channel:
            assert await _status(channel) == SERVING
            assert await _status(channel, "wf.v1.WorkflowService") == SERVING
            # Watch streams the changes, as a balancer's long-lived health stream sees them.
            watch = health_pb2_grpc.HealthStub(channel).Watch(health_pb2.HealthCheckRequest(service=""))
            assert (await watch.read()).status == SERVING

            await pg.crash("fast")

            async def not_serving() -> None:
                assert await _status(channel) == NOT_SERVING
                assert await _status(channel, "wf.v1.WorkflowService") == NOT_SERVING

            await assert_eventually(not_serving, timeout=15)
            assert (await asyncio.wait_for(watch.read(), 15)).status == NOT_SERVING

            await pg.restart()

            async def serving() -> None:
                assert await _status(channel) == SERVING

            await assert_eventually(serving, timeout=15)
            assert (await asyncio.wait_for(watch.read(), 15)).status == SERVING

            # A stopping server is drained first: its watchers hear NOT_SERVING.
            stopping = asyncio.create_task(server.stop(grace=1.0))
            stopped = True
            assert (await asyncio.wait_for(watch.read(), 15)).status == NOT_SERVING
            await stopping
    finally:
        await pg.restart()
        if not stopped:
            await server.stop(grace=1.0)


async def test_an_unmigrated_database_is_not_served(health_db: tuple[Postgres, str]) -> None:
    pg, url = health_db
    await pg.restart()
    admin = await asyncpg.connect(url)
    try:
        await admin.execute("DROP DATABASE IF EXISTS wf_health_empty")
        await admin.execute("CREATE DATABASE wf_health_empty")
    finally:
        await admin.close()
    head, _, query = url.partition("?")
    empty = head.rsplit("/", 1)[0] + "/wf_health_empty" + (f"?{query}" if query else "")
    pool = await asyncpg.create_pool(empty, min_size=0, max_size=1)
    try:
        servicer = health.aio.HealthServicer()
        probe = DatabaseProbe(pool, servicer)
        assert not await probe.update()
        problem = await probe.check()
        assert problem is not None and "wf db migrate" in problem
        resp = await servicer.Check(health_pb2.HealthCheckRequest(service="wf.v1.WorkflowService"), None)
        assert resp.status == NOT_SERVING
    finally:
        await pool.close()


async def test_reflection_lists_the_api(health_db: tuple[Postgres, str]) -> None:
    pg, url = health_db
    await pg.restart()
    server = Server(ServerConfig(db_url=url, port=0))
    await server.start()
    try:
        async with grpc.aio.insecure_channel(f"127.0.0.1:{server.port}") as channel:
            stub = reflection_pb2_grpc.ServerReflectionStub(channel)
            call = stub.ServerReflectionInfo()
            await call.write(reflection_pb2.ServerReflectionRequest(list_services=""))
            listed = await call.read()
            names = {s.name for s in listed.list_services_response.service}
            assert {"wf.v1.WorkflowService", "grpc.health.v1.Health"} <= names
            # grpcurl describes a method from the file that declares the service.
            await call.write(reflection_pb2.ServerReflectionRequest(file_containing_symbol="wf.v1.WorkflowService"))
            described = await call.read()
            assert described.file_descriptor_response.file_descriptor_proto
            await call.done_writing()
    finally:
        await server.stop(grace=1.0)
