"""The UI's clients of the wf server: one per namespace, connected on first use.

The UI starts whether or not the server is up. A page that needs the server asks for a client; if
none can be had (nothing listens, or the server does not answer in time) the page says so in a
banner, and the next request tries again, so the UI recovers by itself when the server comes back.
"""

from __future__ import annotations

import asyncio
from datetime import timedelta

import grpc

from worker_sdk import Client, TLSConfig
from worker_sdk.errors import RPCError

# How long a page waits for the server before it shows the banner instead.
CONNECT_TIMEOUT = timedelta(seconds=3)
CALL_TIMEOUT = timedelta(seconds=5)
# The statuses that mean "the server is not there", not "the request was wrong".
DOWN = (grpc.StatusCode.UNAVAILABLE, grpc.StatusCode.DEADLINE_EXCEEDED)


class ServerDown(Exception):
    """The wf server cannot be reached or does not answer; ``str()`` says why."""


def is_down(exc: BaseException) -> bool:
    return isinstance(exc, ServerDown | TimeoutError) or (isinstance(exc, RPCError) and exc.status in DOWN)


class Connections:
    """Clients by namespace. A client handed in is used for its namespace and never closed here."""

    def __init__(self, address: str, client: Client | None, tls: TLSConfig | bool = False) -> None:
        self.address = address
        # How the UI's own clients connect (TLS to a TLS server: Client.connect's tls=).
        self.tls = tls
        self._clients: dict[str, Client] = {}
        self._owned: list[Client] = []
        if client is not None:
            self._clients[client.namespace] = client
        self._lock: asyncio.Lock | None = None

    async def client(self, namespace: str) -> Client:
        found = self._clients.get(namespace)
        if found is not None:
            return found
        if self._lock is None:
            self._lock = asyncio.Lock()
        async with self._lock:
            found = self._clients.get(namespace)
            if found is not None:
                return found
            try:
                # No multiplexing: a page's calls are few, and a plain RPC fails at once when the
                # server is gone rather than waiting on a stream.
                found = await Client.connect(
                    self.address, namespace=namespace, timeout=CONNECT_TIMEOUT, multiplex=False, tls=self.tls
                )
            except RPCError as exc:
                raise ServerDown(exc.message) from exc
            self._clients[namespace] = found
            self._owned.append(found)
            return found

    async def close(self) -> None:
        owned, self._owned = self._owned, []
        for c in owned:
            self._clients.pop(c.namespace, None)
            await c.close()
