"""The UI's clients of the wf server: one per namespace, connected on first use.

The UI starts whether or not the server is up. A page that needs the server asks for a client; if
none can be had (nothing listens, or the server does not answer in time) the page says so in a
banner, and the next request tries again, so the UI recovers by itself when the server comes back.
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from datetime import timedelta
from typing import Any

import grpc

from worker_sdk import Client
from worker_sdk._tls import RenewedTls
from worker_sdk.errors import RPCError

# How long a page waits for the server before it shows the banner instead.
CONNECT_TIMEOUT = timedelta(seconds=3)
CALL_TIMEOUT = timedelta(seconds=5)
# The statuses that mean "the server is not there", not "the request was wrong".
DOWN = (grpc.StatusCode.UNAVAILABLE, grpc.StatusCode.DEADLINE_EXCEEDED)
# The statuses of a server that requires credentials the caller did not give.
REFUSED = (grpc.StatusCode.UNAUTHENTICATED, grpc.StatusCode.PERMISSION_DENIED)


class ServerDown(Exception):
    """The wf server cannot be reached or does not answer; ``str()`` says why."""


def is_down(exc: BaseException) -> bool:
    return isinstance(exc, ServerDown | TimeoutError) or (isinstance(exc, RPCError) and exc.status in DOWN)


class Connections:
    """Clients by namespace. A client handed in is used for its namespace and never closed here."""

    def __init__(self, address: str, client: Client | None, connect_kwargs: Mapping[str, Any] | None = None) -> None:
        self.address = address
        # How its clients connect (``tls=``, a signed-in person's ``api_key=``), kept out of ``repr``.
        self._connect_kwargs = dict(connect_kwargs or {})
        self._clients: dict[str, Client] = {}
        self._owned: list[Client] = []
        if client is not None:
            self._clients[client.namespace] = client
        self._lock: asyncio.Lock | None = None
        self._generation = 0  # of a RenewedTls ``tls=``: the renewal the cached clients were made with

    def with_credential(self, credential_kwargs: Mapping[str, Any]) -> Connections:
        """Clients for one signed-in person: connected as these are (``tls=``), plus their credential."""
        return Connections(self.address, None, {**self._connect_kwargs, **credential_kwargs})

    async def client(self, namespace: str) -> Client:
        await self._renew()
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
                kwargs = dict(self._connect_kwargs)
                if isinstance(kwargs.get("tls"), RenewedTls):
                    kwargs["tls"] = kwargs["tls"].config
                found = await Client.connect(
                    self.address, namespace=namespace, timeout=CONNECT_TIMEOUT, multiplex=False, **kwargs,
                )
            except RPCError as exc:
                if exc.status in REFUSED:
                    raise  # the server is there and said no: the caller needs to sign in
                raise ServerDown(exc.message) from exc
            self._clients[namespace] = found
            self._owned.append(found)
            return found

    async def _renew(self) -> None:
        """Forget the clients made before the server's certificate was renewed: their connections
        trust the old one and fail once they reconnect. They are closed with the others, by
        :meth:`close`, as a page may be using one now."""
        tls = self._connect_kwargs.get("tls")
        if not isinstance(tls, RenewedTls):
            return
        if tls.changed():
            await asyncio.to_thread(tls.refresh)
        if tls.generation != self._generation:
            self._generation = tls.generation
            self._clients = {ns: c for ns, c in self._clients.items() if c not in self._owned}

    async def close(self) -> None:
        owned, self._owned = self._owned, []
        for c in owned:
            self._clients.pop(c.namespace, None)
            await c.close()
