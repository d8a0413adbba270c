"""Helpers of the authentication tests: a server with ``--auth required`` on a database of its own."""

from __future__ import annotations

import asyncio
import contextlib
import uuid
from collections.abc import AsyncIterator
from typing import Any

import asyncpg
import grpc

from tests.test_migrations import with_database
from wf import migrations
from wf.server.app import Server, asyncpg_dsn
from wf.server.config import ServerConfig
from wf.v1 import auth_pb2, service_pb2, service_pb2_grpc


@contextlib.asynccontextmanager
async def scratch_database(db_url: str, *, migrated: bool = True) -> AsyncIterator[str]:
    """A new database on the session's PostgreSQL, migrated to head (or empty: ``migrated=False``);
    dropped afterwards."""
    name = f"wf_auth_{uuid.uuid4().hex[:12]}"
    conn = await asyncpg.connect(asyncpg_dsn(db_url))
    try:
        await conn.execute(f'CREATE DATABASE "{name}"')
    finally:
        await conn.close()
    url = with_database(db_url, name)
    try:
        if migrated:
            await asyncio.to_thread(migrations.upgrade, url)
        yield url
    finally:
        conn = await asyncpg.connect(asyncpg_dsn(db_url))
        try:
            await conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        finally:
            await conn.close()


@contextlib.asynccontextmanager
async def auth_server(db_url: str, **config: Any) -> AsyncIterator[Server]:
    """A server with ``--auth required`` (and ``config``) on ``db_url``, stopped afterwards."""
    server = Server(ServerConfig(db_url=db_url, port=0, auth="required", **config))
    await server.start()
    try:
        yield server
    finally:
        await server.stop()


def bearer(key: str) -> tuple[tuple[str, str]]:
    return (("authorization", f"Bearer {key}"),)


async def create_key(
    stub: service_pb2_grpc.WorkflowServiceStub, admin_key: str, name: str, namespace: str, role: int
) -> str:
    """A new key with ``role`` in ``namespace``, made by ``admin_key``'s holder."""
    resp = await stub.CreateApiKey(
        service_pb2.CreateApiKeyRequest(name=name, grant=auth_pb2.Grant(namespace=namespace, role=role)),
        metadata=bearer(admin_key), timeout=10,
    )
    return str(resp.key)


@contextlib.asynccontextmanager
async def channel(server: Server) -> AsyncIterator[service_pb2_grpc.WorkflowServiceStub]:
    async with grpc.aio.insecure_channel(server.address) as ch:
        yield service_pb2_grpc.WorkflowServiceStub(ch)
