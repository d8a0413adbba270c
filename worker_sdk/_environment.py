"""``WorkflowEnvironment``: a real wf server for tests, in the test's own process.

The SDK never depends on the server: the server's packages are imported only when
:meth:`WorkflowEnvironment.start_local` runs, and a clear error says what to install when they are
missing.
"""

from __future__ import annotations

import asyncio
import importlib
import os
import shutil
import tempfile
from pathlib import Path
from types import ModuleType, TracebackType
from typing import Any

from worker_sdk._client import Client
from worker_sdk._converter import DataConverter

INSTALL_HINT = "pip install 'wf-workflows[dev]'"


def _server_module(name: str) -> ModuleType:
    try:
        return importlib.import_module(name)
    except ImportError as exc:
        raise ImportError(
            f"WorkflowEnvironment.start_local() runs a wf server in this process, and the server is "
            f"not installed ({exc}): {INSTALL_HINT}"
        ) from exc


class WorkflowEnvironment:
    """A wf server and a client connected to it; stop it with :meth:`shutdown` or ``async with``.

    Example::

        async with await WorkflowEnvironment.start_local() as env:
            async with Worker(env.client, task_queue="tq", workflows=[Greeting], activities=[greet]):
                print(await env.client.execute_workflow(Greeting.run, "world", id="g", task_queue="tq"))
    """

    def __init__(self, client: Client, server: Any, postgres: Any, data_dir: Path | None) -> None:
        self._client = client
        self._server = server
        self._postgres = postgres
        self._data_dir = data_dir

    @property
    def client(self) -> Client:
        """A client of the environment's server, in the namespace it was started with."""
        return self._client

    @property
    def address(self) -> str:
        """The server's "host:port", for workers or clients of their own."""
        return str(self._server.address)

    @classmethod
    async def start_local(
        cls,
        *,
        namespace: str = "default",
        data_converter: DataConverter | None = None,
        db_url: str | None = None,
        port: int = 0,
    ) -> WorkflowEnvironment:
        """Start a wf server in this process on a free loopback port (or ``port``).

        Its database is ``db_url``, else the ``WF_DB_URL`` environment variable, else a new embedded
        PostgreSQL in a temporary directory that :meth:`shutdown` removes. The database is migrated
        to the current schema first.

        Raises:
            ImportError: the server is not installed (``pip install 'wf-workflows[dev]'``).
        """
        migrations = _server_module("wf.migrations")
        app = _server_module("wf.server.app")
        config = _server_module("wf.server.config")
        url = db_url or os.environ.get("WF_DB_URL")
        postgres = None
        data_dir = None
        server = None
        try:
            if not url:
                embedded = _server_module("wf.server.embedded")
                # A short path: PostgreSQL's socket lives in the data directory (about 100 characters at most).
                data_dir = Path(tempfile.mkdtemp(prefix="wf-env-", dir="/tmp" if os.name == "posix" else None))
                postgres = embedded.EmbeddedPostgres(data_dir)
                url = await asyncio.to_thread(postgres.start)
                await postgres.ensure_database()
            await asyncio.to_thread(migrations.upgrade, url)
            server = app.Server(config.ServerConfig(db_url=url, port=port))
            await server.start()
            client = await Client.connect(server.address, namespace=namespace, data_converter=data_converter)
        except BaseException:
            await _stop(server, postgres, data_dir)
            raise
        return cls(client, server, postgres, data_dir)

    async def shutdown(self) -> None:
        """Close the client, stop the server and its embedded PostgreSQL, remove their files."""
        try:
            await self._client.close()
        finally:
            await _stop(self._server, self._postgres, self._data_dir)

    async def __aenter__(self) -> WorkflowEnvironment:
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.shutdown()


async def _stop(server: Any, postgres: Any, data_dir: Path | None) -> None:
    try:
        if server is not None:
            await server.stop()
    finally:
        if postgres is not None:
            await asyncio.to_thread(postgres.stop)
        if data_dir is not None:
            shutil.rmtree(data_dir, ignore_errors=True)
