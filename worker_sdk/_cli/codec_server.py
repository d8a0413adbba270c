"""``wf codec-server``: Temporal's remote codec protocol over HTTP, for the UI and the CLI.

``POST /encode`` and ``POST /decode`` take and give ``{"payloads": [{"metadata": {k: base64}, "data":
base64}]}`` and run the user's codec (``--codec module:attr``), so people see plaintext in their
browser or terminal while the wf server only ever holds ciphertext. CORS admits the UI's origin
(``--cors-origin``); with ``--codec-auth`` a request must carry exactly that ``Authorization`` header
(compared in constant time; never logged). Bound to a loopback address (the default) without
``--codec-auth``, it answers only requests to a loopback name, which defeats DNS rebinding. A request
body larger than ``--max-request-bytes`` is refused (413) as it arrives, before it is held whole, so
no caller can make the server hold more. Starlette and uvicorn, as the UI, imported only when the
command runs.
"""

from __future__ import annotations

import asyncio
import hmac
import importlib
import json
import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any, Final

import click

from worker_sdk._converter import DataConverter, PayloadCodec
from worker_sdk._remote_codec import payload_from_json, payload_to_json
from worker_sdk._tls import host_of, is_loopback, serve_renewed_certificates

if TYPE_CHECKING:
    from starlette.applications import Starlette
    from starlette.requests import Request

MAX_REQUEST_BYTES: Final = 64 * 1024 * 1024
"""The largest request body served by default: a page's payloads (each at most the server's 2 MiB by
default, a third more in base64) with room to spare."""


def load_codec(spec: str) -> PayloadCodec:
    """``module:attr`` → a PayloadCodec: the attribute may be a codec, a DataConverter with one, or a
    function of no arguments returning either (so keys are read when the server starts)."""
    module_name, sep, attr = spec.partition(":")
    if not sep or not module_name or not attr:
        raise click.BadParameter(f"{spec!r} is not module:attr", param_hint="--codec")
    # As `wf replay` (and `python -m`): the user's own modules, next to where they run the command, import.
    cwd = os.getcwd()
    if cwd not in sys.path and "" not in sys.path:
        sys.path.insert(0, cwd)
    try:
        value: Any = importlib.import_module(module_name)
        for part in attr.split("."):
            value = getattr(value, part)
        if callable(value) and not isinstance(value, PayloadCodec | DataConverter):
            value = value()
    except Exception as exc:  # ImportError, AttributeError, and what the module raises (keys not set, say)
        raise click.BadParameter(
            f"cannot load {spec!r} ({type(exc).__name__}: {exc}); it is imported with the current directory "
            f"({cwd}) on sys.path", param_hint="--codec",
        ) from exc
    if isinstance(value, DataConverter):
        value = value.payload_codec
    if not isinstance(value, PayloadCodec):
        raise click.BadParameter(f"{spec!r} is not a PayloadCodec (nor a DataConverter with one)",
                                 param_hint="--codec")
    return value


async def _body(request: Request, limit: int) -> bytes | None:
    """The request's body, or None as soon as it is known to be longer than ``limit`` bytes."""
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > limit:
        return None
    body = bytearray()
    async for chunk in request.stream():
        body += chunk
        if len(body) > limit:
            return None
    return bytes(body)


def create_codec_app(codec: PayloadCodec, *, cors_origins: list[str] | None = None,
                     authorization: str | None = None, max_request_bytes: int = MAX_REQUEST_BYTES,
                     loopback_only: bool = False) -> Starlette:
    """The codec server as an ASGI app (``wf codec-server`` serves it; tests mount it directly).

    ``loopback_only`` (a server bound to a loopback address, without ``authorization``): refuse a
    request whose ``Host`` is not a loopback name or address. A page of any site the user opens could
    otherwise rebind its own name to 127.0.0.1 and, being then of the same origin, read what
    ``/decode`` answers; with ``authorization`` it could not, lacking the token."""
    from starlette.applications import Starlette
    from starlette.middleware import Middleware
    from starlette.middleware.cors import CORSMiddleware
    from starlette.responses import JSONResponse, Response
    from starlette.routing import Route

    expected = authorization.encode() if authorization else None

    def endpoint(op: str) -> Any:
        async def handle(request: Request) -> Response:
            if loopback_only and not is_loopback(host_of(request.headers.get("host", ""))):
                return JSONResponse({"error": "without --codec-auth, this codec server answers requests to a "
                                              "loopback name only (a web page can point its own name here)"},
                                    status_code=421)
            if expected is not None:
                given = request.headers.get("authorization", "").encode()
                if not hmac.compare_digest(given, expected):
                    return JSONResponse({"error": "missing or wrong Authorization"}, status_code=401)
            raw = await _body(request, max_request_bytes)
            if raw is None:
                return JSONResponse({"error": f"the request is larger than {max_request_bytes:,} bytes"},
                                    status_code=413)
            try:
                body = json.loads(raw)
                items = body.get("payloads") if isinstance(body, dict) else None
                if not isinstance(items, list):
                    raise ValueError('expected {"payloads": [...]}')
                payloads = [payload_from_json(p) for p in items]
            except (ValueError, RecursionError) as exc:  # RecursionError: JSON nested too deep
                return JSONResponse({"error": str(exc)}, status_code=400)
            try:
                out = await (codec.encode(payloads) if op == "encode" else codec.decode(payloads))
            except Exception as exc:  # the codec's message names a key id at most, never a key
                return JSONResponse({"error": f"{op} failed: {exc}"}, status_code=400)
            return JSONResponse({"payloads": [payload_to_json(p) for p in out]})

        return handle

    middleware = [Middleware(
        CORSMiddleware, allow_origins=list(cors_origins or []), allow_methods=["POST"],
        allow_headers=["Authorization", "Content-Type", "X-Namespace"], allow_credentials=True,
    )]
    return Starlette(
        routes=[Route("/encode", endpoint("encode"), methods=["POST"]),
                Route("/decode", endpoint("decode"), methods=["POST"])],
        middleware=middleware,
    )


@click.command("codec-server")
@click.option("--codec", "codec_spec", required=True, metavar="MODULE:ATTR",
              help="Your payload codec: a PayloadCodec, a DataConverter, or a function returning one.")
@click.option("--port", type=click.IntRange(1, 65535), required=True, help="The port to listen on.")
@click.option("--ip", default="127.0.0.1", show_default=True, help="The address to bind.")
@click.option("--cors-origin", "cors_origins", multiple=True, metavar="URL",
              help="An origin whose pages may call this server (the web UI's, e.g. http://localhost:8233). "
                   "Repeat for several.")
@click.option("--codec-auth", envvar="WF_CODEC_AUTH", default=None, show_envvar=True,
              help="Refuse requests whose Authorization header is not exactly this value.")
@click.option("--max-request-bytes", type=click.IntRange(min=1), default=MAX_REQUEST_BYTES, show_default=True,
              help="Refuse (413) a request whose body is larger than this.")
@click.option("--tls-cert", type=click.Path(exists=True, dir_okay=False), default=None,
              help="PEM certificate chain to serve HTTPS with (with --tls-key); re-read when it changes. "
                   "Needed when the UI is served over HTTPS from another machine (browsers refuse plain HTTP there).")
@click.option("--tls-key", type=click.Path(exists=True, dir_okay=False), default=None,
              help="PEM private key of --tls-cert.")
def codec_server_cmd(codec_spec: str, port: int, ip: str, cors_origins: tuple[str, ...],
                     codec_auth: str | None, max_request_bytes: int, tls_cert: str | None,
                     tls_key: str | None) -> None:
    """Serve /encode and /decode for your codec (Temporal's codec server protocol), so the UI and
    `wf workflow --codec-endpoint` show decoded payloads while the wf server stores ciphertext."""
    if (tls_cert is None) != (tls_key is None):
        raise click.UsageError("--tls-cert and --tls-key go together")
    try:
        import uvicorn
    except ImportError as exc:
        raise click.ClickException(
            f"`wf codec-server` needs Starlette and uvicorn (pip install 'wf-workflows[ui]'): {exc}"
        ) from exc
    codec = load_codec(codec_spec)
    app = create_codec_app(codec, cors_origins=list(cors_origins), authorization=codec_auth,
                           max_request_bytes=max_request_bytes,
                           loopback_only=is_loopback(ip) and not codec_auth)
    scheme = "https" if tls_cert else "http"
    click.echo(f"codec server on {scheme}://{ip}:{port} ({'Authorization required' if codec_auth else 'no auth'})",
               err=True)
    if tls_cert is None and not is_loopback(ip):
        click.echo(f"warning: the codec server listens on {ip} without TLS: the plaintext it decodes, and the "
                   "--codec-auth header, cross the network in clear; give --tls-cert and --tls-key", err=True)
    config = uvicorn.Config(app, host=ip, port=port, log_level="warning", access_log=False,
                            ssl_certfile=tls_cert, ssl_keyfile=tls_key)
    if tls_cert is not None and tls_key is not None:
        config.load()  # makes config.ssl, which serve() then uses as it is
        assert config.ssl is not None
        serve_renewed_certificates(config.ssl, Path(tls_cert), Path(tls_key))
    asyncio.run(uvicorn.Server(config).serve())
