"""The client's API key: sent as ``authorization: Bearer <key>`` on every call of its channel.

One gRPC client interceptor on the channel adds the header to every RPC and to the ``Multiplex``
stream (whose calls the server authenticates by the stream's metadata), so no call path can forget
it. The key is held only here and never shown: the interceptor's ``repr`` masks it.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import grpc
from grpc.aio import ClientCallDetails, Metadata


def mask(key: str) -> str:
    """A key as it may be shown: its public id (``wf_<id>_…``), never its secret."""
    if key.startswith("wf_") and key.count("_") >= 2:
        return "wf_" + key[3:].split("_", 1)[0] + "_…"
    return "…"


class _BearerKey(
    grpc.aio.UnaryUnaryClientInterceptor,
    grpc.aio.UnaryStreamClientInterceptor,
    grpc.aio.StreamUnaryClientInterceptor,
    grpc.aio.StreamStreamClientInterceptor,
):
    """Adds the bearer header to every call's metadata."""

    __slots__ = ("_header",)

    def __init__(self, api_key: str) -> None:
        self._header = ("authorization", f"Bearer {api_key}")

    def __repr__(self) -> str:
        return f"<api key {mask(self._header[1][len('Bearer '):])}>"

    def _details(self, details: ClientCallDetails) -> ClientCallDetails:
        metadata = Metadata(*(details.metadata or ()))
        metadata.add(*self._header)
        return ClientCallDetails(
            details.method, details.timeout, metadata, details.credentials, details.wait_for_ready
        )

    async def intercept_unary_unary(self, continuation: Callable[..., Any], details: Any, request: Any) -> Any:
        return await continuation(self._details(details), request)

    async def intercept_unary_stream(self, continuation: Callable[..., Any], details: Any, request: Any) -> Any:
        return await continuation(self._details(details), request)

    async def intercept_stream_unary(self, continuation: Callable[..., Any], details: Any, requests: Any) -> Any:
        return await continuation(self._details(details), requests)

    async def intercept_stream_stream(self, continuation: Callable[..., Any], details: Any, requests: Any) -> Any:
        return await continuation(self._details(details), requests)


def key_interceptors(api_key: str | None) -> list[Any] | None:
    """The channel's interceptors for ``api_key`` (None without one)."""
    return [_BearerKey(api_key)] if api_key else None
