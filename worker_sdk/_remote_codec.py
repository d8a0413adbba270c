"""A payload codec that asks a codec server: ``POST <endpoint>/encode`` and ``/decode``.

Temporal's remote codec protocol: ``{"payloads": [{"metadata": {name: base64}, "data": base64}]}`` in
and out, the namespace in ``X-Namespace``, an optional ``Authorization`` header. The CLI uses it for
``--codec-endpoint``, so it prints plaintext while holding no key itself. Standard library only (the
SDK carries no HTTP client).
"""

from __future__ import annotations

import asyncio
import base64
import json
import urllib.error
import urllib.request
from collections.abc import Sequence
from typing import Any

from wf.v1 import common_pb2
from worker_sdk._converter import PayloadCodec


def payload_to_json(payload: common_pb2.Payload) -> dict[str, Any]:
    """A payload in the codec server protocol's JSON form."""
    return {
        "metadata": {k: base64.b64encode(v).decode() for k, v in payload.metadata.items()},
        "data": base64.b64encode(payload.data).decode(),
    }


def payload_from_json(value: Any) -> common_pb2.Payload:
    """The reverse of :func:`payload_to_json`; ``ValueError`` on anything else."""
    if not isinstance(value, dict):
        raise ValueError("a payload is a JSON object with metadata and data")
    metadata = value.get("metadata") or {}
    if not isinstance(metadata, dict):
        raise ValueError("a payload's metadata is an object of name → base64")
    try:
        return common_pb2.Payload(
            metadata={str(k): base64.b64decode(v, validate=True) for k, v in metadata.items()},
            data=base64.b64decode(value.get("data") or "", validate=True),
        )
    except (TypeError, ValueError):
        raise ValueError("a payload's metadata values and data must be base64 strings") from None


class _RemoteCodecError(ValueError):
    """The codec server refused, could not be reached, or answered what is not the protocol's. A
    ``ValueError``, as every payload codec's failure to decode; its message names the URL, never the
    ``Authorization`` header."""

    def __init__(self, message: str, status: int | None = None) -> None:
        super().__init__(message)
        self.status = status  # the HTTP status it answered, if it answered one


class RemoteCodec(PayloadCodec):
    """Encodes and decodes through a codec server at ``endpoint``."""

    def __init__(self, endpoint: str, *, namespace: str = "default", authorization: str | None = None,
                 timeout: float = 30.0) -> None:
        self.endpoint = endpoint.rstrip("/")
        self.namespace = namespace
        self._authorization = authorization
        self.timeout = timeout

    def __repr__(self) -> str:  # never the authorization header
        return f"RemoteCodec({self.endpoint!r}, namespace={self.namespace!r})"

    async def encode(self, payloads: Sequence[common_pb2.Payload]) -> list[common_pb2.Payload]:
        return await self._call("encode", payloads)

    async def decode(self, payloads: Sequence[common_pb2.Payload]) -> list[common_pb2.Payload]:
        return await self._call("decode", payloads)

    async def _call(self, op: str, payloads: Sequence[common_pb2.Payload]) -> list[common_pb2.Payload]:
        if not payloads:
            return []
        body = json.dumps({"payloads": [payload_to_json(p) for p in payloads]}).encode()
        return await asyncio.to_thread(self._post, op, body, len(payloads))

    def _post(self, op: str, body: bytes, count: int) -> list[common_pb2.Payload]:
        headers = {"Content-Type": "application/json", "X-Namespace": self.namespace}
        if self._authorization:
            headers["Authorization"] = self._authorization
        url = f"{self.endpoint}/{op}"
        request = urllib.request.Request(url, data=body, headers=headers, method="POST")
        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as response:  # noqa: S310 - the user's URL
                answer = json.loads(response.read())
        except urllib.error.HTTPError as exc:
            exc.close()  # its response's socket
            raise _RemoteCodecError(f"codec server {url} answered HTTP {exc.code}", exc.code) from None
        except (urllib.error.URLError, OSError) as exc:
            raise _RemoteCodecError(f"codec server {url} could not be reached: {exc}") from None
        except ValueError:  # not JSON
            raise _RemoteCodecError(f"codec server {url} answered what is not JSON") from None
        items = answer.get("payloads") if isinstance(answer, dict) else None
        if not isinstance(items, list) or len(items) != count:
            raise _RemoteCodecError(f"codec server {url} answered without {count} payloads")
        try:
            return [payload_from_json(p) for p in items]
        except ValueError as exc:
            raise _RemoteCodecError(f"codec server {url} answered a malformed payload: {exc}") from None
