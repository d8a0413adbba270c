"""Cross-process wake-ups over PostgreSQL LISTEN/NOTIFY.

Several ``wf server`` processes share one database. When one commits a task that no local poller
took, or closes a run, it publishes a short message on the ``wf`` channel; every process listens and
wakes its own waiters. Messages are hints: a lost one delays work, never loses it, because task rows
and events are in the database.

Publishing goes through one dedicated connection and is batched, so it adds no round trip and no
lock to the transaction that wrote the change.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable

import asyncpg

from wf.history.outage import DatabaseHealth

log = logging.getLogger(__name__)

CHANNEL = "wf"


class Notifier:
    """Publishes and receives messages on the ``wf`` channel."""

    def __init__(self, dsn: str, health: DatabaseHealth | None = None) -> None:
        self._dsn = dsn
        # Where failures of its connections go while the database is down: the process's outage log.
        self.health = health or DatabaseHealth()
        self._handlers: dict[str, list[Callable[[str], None]]] = {}
        self._pending: list[str] = []
        self._wake = asyncio.Event()
        self._listen_conn: asyncpg.Connection | None = None
        self._tasks: list[asyncio.Task[None]] = []
        self._closed = False
        # The database backend that publishes for this process: its messages are not for us, as
        # this process's own subscribers were told in-process already.
        self._publisher_pid: int | None = None

    def subscribe(self, prefix: str, handler: Callable[[str], None]) -> None:
        """Call ``handler(rest)`` for each message ``prefix|rest`` (from any process, this one too)."""
        self._handlers.setdefault(prefix, []).append(handler)

    def publish(self, prefix: str, body: str) -> None:
        self._pending.append(f"{prefix}|{body}")
        self._wake.set()

    async def start(self) -> None:
        await self._listen()
        self._tasks.append(asyncio.create_task(self._publisher(), name="wf-notify-publisher"))
        self._tasks.append(asyncio.create_task(self._watch_listener(), name="wf-notify-listener"))

    async def _listen(self) -> None:
        self._listen_conn = await asyncpg.connect(self._dsn)
        await self._listen_conn.add_listener(CHANNEL, self._on_message)

    async def _watch_listener(self) -> None:
        """Reconnect the listening connection when the database restarts under it."""
        while not self._closed:
            await asyncio.sleep(1.0)
            if self._listen_conn is None or self._listen_conn.is_closed():
                try:
                    await self._listen()
                    self.health.ok()
                    log.info("listening for notifications again")
                    # Anything published meanwhile was missed: tell every subscriber to look again.
                    for handlers in self._handlers.values():
                        for handler in handlers:
                            handler("")
                except (OSError, asyncpg.PostgresError, asyncpg.InterfaceError,
                        asyncpg.exceptions.InternalClientError) as exc:
                    self.health.failed("listening for notifications", exc)
                except Exception:  # a bug, not the database: logged in full, and this loop must not end
                    log.exception("listening for notifications failed")

    async def close(self) -> None:
        self._closed = True
        for t in self._tasks:
            t.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        if self._listen_conn is not None:
            await self._listen_conn.close()

    def _on_message(self, conn: object, pid: int, channel: str, payload: str) -> None:
        if pid == self._publisher_pid:
            return
        prefix, _, rest = payload.partition("|")
        for handler in self._handlers.get(prefix, ()):
            try:
                handler(rest)
            except Exception:  # a bad handler must not stop the listener
                log.exception("notification handler failed for %r", payload)

    async def _publisher(self) -> None:
        conn: asyncpg.Connection | None = None
        try:
            while not self._closed:
                await self._wake.wait()
                self._wake.clear()
                batch, self._pending = list(dict.fromkeys(self._pending)), []
                if not batch:
                    continue
                try:
                    if conn is None or conn.is_closed():
                        conn = await asyncpg.connect(self._dsn)
                        self._publisher_pid = conn.get_server_pid()
                    await conn.execute("SELECT pg_notify($1, m) FROM unnest($2::text[]) AS m", CHANNEL, batch)
                    self.health.ok()
                except (OSError, asyncpg.PostgresError, asyncpg.InterfaceError,
                        asyncpg.exceptions.InternalClientError) as exc:
                    # Dropped: notifications are hints, and a listener that reconnects looks again.
                    self.health.failed(f"publishing {len(batch)} notifications", exc)
                    conn = None
                    await asyncio.sleep(0.5)
                except Exception:  # a bug, not the database: logged in full, and this loop must not end
                    log.exception("publishing notifications failed")
                    conn = None
                    await asyncio.sleep(0.5)
        finally:
            # close() cancels this task while it waits: the connection must not leak then either.
            if conn is not None and not conn.is_closed():
                conn.terminate()
