"""gRPC health checking (``grpc.health.v1``) and server reflection for one wf server.

A load balancer, an orchestrator's probe or ``docker-compose``'s health check asks ``Check`` (or
``Watch``es) whether this process can do its work, and ``grpcurl`` lists and calls the API by
reflection without the ``.proto`` files. Both are served beside the wf API, outside its call
pipeline: they carry no workflow data, and a probe must reach them without credentials once the
pipeline authenticates callers.

A server can do its work when its database answers and carries the schema this server's migrations
end at. :class:`DatabaseProbe` asks exactly that, every ``interval`` seconds, and sets the status of
the overall service (``""``) and of ``wf.v1.WorkflowService`` to SERVING or NOT_SERVING. It asks on
its own rather than reading what the last call saw: a server that nobody calls while its database
is down is still not serving, and must say so before the first caller learns it the hard way.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging

import asyncpg
import grpc
from alembic.script import ScriptDirectory
from grpc_health.v1 import health, health_pb2, health_pb2_grpc
from grpc_reflection.v1alpha import reflection

from wf import migrations
from wf.server.pipeline import SERVICE

log = logging.getLogger(__name__)

INTERVAL = 1.0
"""Seconds between two probes of the database: how soon the status follows an outage and its end."""

_TIMEOUT = 2.0
"""A probe that takes longer than this counts as the database not answering."""

_SERVICES = ("", SERVICE)


def schema_head() -> str:
    """The revision this server's migrations end at: a database at any other is not ready for it."""
    head = ScriptDirectory.from_config(migrations.alembic_config("postgresql://-/-")).get_current_head()
    if head is None:
        raise RuntimeError("wf's migrations have no head revision")
    return head


class DatabaseProbe:
    """Sets the health status from whether the database answers and is migrated to ``head``."""

    def __init__(self, pool: asyncpg.Pool, servicer: health.aio.HealthServicer, *,
                 interval: float = INTERVAL) -> None:
        self._pool = pool
        self._servicer = servicer
        self.interval = interval
        self._head = schema_head()
        self._serving: bool | None = None
        self._stopped = False

    async def check(self) -> str | None:
        """Why the server cannot serve now, or None when it can."""
        try:
            async with self._pool.acquire(timeout=_TIMEOUT) as conn:
                revision = await conn.fetchval("SELECT version_num FROM alembic_version", timeout=_TIMEOUT)
        except asyncpg.UndefinedTableError:
            return "the database has no wf schema: run `wf db migrate`"
        except (TimeoutError, OSError, asyncpg.PostgresError, asyncpg.InterfaceError) as exc:
            return f"the database does not answer: {type(exc).__name__}: {exc}"
        if revision != self._head:
            return f"the database's schema is at {revision}, this server needs {self._head}: run `wf db migrate`"
        return None

    async def update(self) -> bool:
        """Probe once and set the status; whether the server is serving."""
        problem = await self.check()
        serving = problem is None and not self._stopped
        if serving != self._serving:
            if self._serving is not None or not serving:
                log.warning("health: %s", "SERVING" if serving else f"NOT_SERVING ({problem})")
            self._serving = serving
            status = health_pb2.HealthCheckResponse.SERVING if serving else health_pb2.HealthCheckResponse.NOT_SERVING
            for service in _SERVICES:
                await self._servicer.set(service, status)
        return serving

    async def run(self) -> None:
        """Probe every ``interval`` seconds until cancelled."""
        while True:
            with contextlib.suppress(Exception):  # a probe that breaks oddly is retried, never fatal
                await self.update()
            await asyncio.sleep(self.interval)

    async def stop(self) -> None:
        """A stopping server serves no more: NOT_SERVING from now on, so balancers drain it first."""
        self._stopped = True
        self._serving = False
        await self._servicer.enter_graceful_shutdown()


def add_health_and_reflection(server: grpc.aio.Server) -> health.aio.HealthServicer:
    """Serve ``grpc.health.v1.Health`` (NOT_SERVING until a probe says otherwise) and reflection of
    the wf API, the health service and reflection itself."""
    servicer = health.aio.HealthServicer()
    health_pb2_grpc.add_HealthServicer_to_server(servicer, server)
    reflection.enable_server_reflection(
        (SERVICE, health.SERVICE_NAME, reflection.SERVICE_NAME), server,
    )
    return servicer

