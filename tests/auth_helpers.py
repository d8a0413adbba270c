"""Helpers of the authentication tests: a server with ``--auth required`` on a database of its own."""

from __future__ import annotations

import contextlib
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import grpc

from tests.helpers import scratch_database
from wf.server.app import Server
from wf.server.auth import roles
from wf.server.config import ServerConfig
from wf.v1 import auth_pb2, service_pb2, service_pb2_grpc


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


@dataclass
class Cluster:
    """A server requiring credentials, its bootstrap key, two namespaces and a key per role in the first."""

    server: Server
    admin_key: str
    a: str
    b: str
    keys: dict[str, str]  # role name → a key with that role in namespace a


@contextlib.asynccontextmanager
async def two_namespaces(db_url: str) -> AsyncIterator[Cluster]:
    """A :class:`Cluster` on a database of its own (for a module's fixture)."""
    async with scratch_database(db_url) as url, auth_server(url) as server:
        assert server.bootstrap_key is not None
        admin = server.bootstrap_key
        a, b = f"a-{uuid.uuid4().hex[:6]}", f"b-{uuid.uuid4().hex[:6]}"
        async with channel(server) as stub:
            for ns in (a, b):
                await stub.RegisterNamespace(service_pb2.RegisterNamespaceRequest(namespace=ns), metadata=bearer(admin))
            keys = {
                name: await create_key(stub, admin, f"{name}-key", a, role)
                for name, role in roles.BY_NAME.items() if role != roles.CLUSTER_ADMIN
            }
        yield Cluster(server, admin, a, b, keys)
