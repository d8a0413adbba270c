"""``wf ui``: the web UI against any wf server, and the serving that ``wf server`` shares with it.

The UI (package ``wf.ui``, the ``ui`` extra) is an ASGI app and a client of the public API. uvicorn
serves it on the caller's event loop: in ``wf ui`` that loop is the command's own, in ``wf server
start-dev`` and ``wf server start --ui-port`` it is the server's, so the UI starts and stops with the
server and costs no second process. The listening socket is bound here, before uvicorn runs, so a port
in use is one clear line rather than uvicorn's exit from inside a task.

Nothing here imports the UI or its web framework until a UI is served: the SDK installs without them.
"""

from __future__ import annotations

import asyncio
import contextlib
import errno
import importlib
import signal
import socket
import ssl
from collections.abc import Awaitable, Callable, Iterator, MutableMapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import click

from worker_sdk._cli.tls_options import tls_from_context, with_tls_options
from worker_sdk._tls import RenewedTls, TLSConfig, is_loopback, serve_renewed_certificates

UI_INSTALL_HINT = "pip install 'wf-workflows[ui]'"
DEFAULT_UI_PORT = 8233
# What the UI needs beyond the SDK (the `ui` extra); looked for before the UI loads.
_UI_NEEDS = ("starlette", "jinja2", "uvicorn")
# Seconds a stopping UI waits for responses in flight before uvicorn cancels them (streams are ended
# by _Draining at once, so this bounds only a page still being made).
_GRACE = 2

_Message = MutableMapping[str, Any]
_Asgi = Callable[[_Message, Callable[[], Awaitable[_Message]], Callable[[_Message], Awaitable[None]]], Awaitable[None]]


class UiUnavailable(click.ClickException):
    """The UI cannot be served (its dependencies are missing, or its port cannot be taken)."""

    def show(self, file: Any = None) -> None:
        click.echo(f"error: {self.message}", err=True)


def load_create_app() -> Callable[..., Any]:
    """``wf.ui.app.create_app``, or :class:`UiUnavailable` naming the extra to install."""
    try:
        for needed in _UI_NEEDS:
            importlib.import_module(needed)
        module = importlib.import_module("wf.ui.app")
    except ImportError as exc:
        raise UiUnavailable(f"the web UI needs its dependencies installed ({UI_INSTALL_HINT}): {exc}") from exc
    create_app: Callable[..., Any] = module.create_app
    return create_app


def exposure_warning(host: str, *, https: bool = False, auth_required: bool | None = None) -> str | None:
    """The warning to print when the UI listens where other machines reach it without both HTTPS
    and sign-in, or None. ``auth_required``: whether the wf server requires credentials (None: not
    known here, as for ``wf ui``, which asks people to sign in exactly when its server does)."""
    if is_loopback(host):
        return None
    exposed = "anyone who reaches it can read every workflow's inputs and results, and signal, cancel or terminate them"
    gaps = []
    if auth_required is None:
        gaps.append(f"it asks people to sign in only when the wf server requires credentials (--auth required); "
                    f"otherwise {exposed}")
    elif not auth_required:
        gaps.append(f"the server does not require credentials (--auth required), so {exposed}")
    if not https:
        gaps.append("it serves plain HTTP, so API keys typed into it and decoded pages cross the network in clear")
    if not gaps:
        return None
    return (
        f"warning: the web UI listens on {host}, where other machines can reach it: {'; and '.join(gaps)}. "
        "Keep the default 127.0.0.1 unless a proxy in front of it serves HTTPS and authenticates."
    )


def dial_address(host: str, port: int) -> str:
    """The address a client on this machine dials to reach a server listening on ``host:port``
    (a wildcard address is not one a client can connect to)."""
    if host in ("", "0.0.0.0"):
        host = "127.0.0.1"
    elif host in ("::", "[::]"):
        host = "[::1]"
    elif ":" in host and not host.startswith("["):
        host = f"[{host}]"
    return f"{host}:{port}"


def bind(host: str, port: int, *, port_flag: str = "--port") -> socket.socket:
    """A listening TCP socket on ``host:port`` (0: any free port), or :class:`UiUnavailable` saying
    why not and which flag chooses another port."""
    host = host.strip("[]")
    try:
        infos = socket.getaddrinfo(host or None, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE)
    except socket.gaierror as exc:
        raise UiUnavailable(f"the web UI cannot listen on {host}:{port}: {exc.strerror}") from None
    family, kind, proto, _, sockaddr = infos[0]
    sock = socket.socket(family, kind, proto)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind(sockaddr)
        sock.listen(128)
    except OSError as exc:
        sock.close()
        if exc.errno == errno.EADDRINUSE:
            raise UiUnavailable(
                f"port {port} on {host} is in use, so the web UI cannot listen there: "
                f"stop what uses it, or choose another port with {port_flag}"
            ) from None
        raise UiUnavailable(f"the web UI cannot listen on {host}:{port}: {exc.strerror}") from None
    sock.setblocking(False)
    return sock


def url_of(sock: socket.socket, *, https: bool = False) -> str:
    """The URL a browser on this machine opens for the UI listening on ``sock``."""
    host, port = sock.getsockname()[:2]
    shown = dial_address(host, port)
    return f"{'https' if https else 'http'}://{shown}"


class _Draining:
    """ASGI middleware that ends the responses still running when the UI stops.

    A live page's event stream (server-sent events) never ends by itself, and uvicorn, stopping,
    only waits for it and then cancels it, which the app sees as an error with a traceback. Told
    that the UI stops, this ends each stream cleanly instead (its last, empty chunk: the browser
    sees the stream close) and answers a request not yet answered with 503.
    """

    def __init__(self, app: _Asgi) -> None:
        self.app = app
        self.stopping = asyncio.Event()

    async def __call__(
        self, scope: _Message, receive: Callable[[], Awaitable[_Message]], send: Callable[[_Message], Awaitable[None]]
    ) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = ended = False

        async def tracked(message: _Message) -> None:
            nonlocal started, ended
            if message["type"] == "http.response.start":
                started = True
            elif message["type"] == "http.response.body" and not message.get("more_body", False):
                ended = True
            await send(message)

        handling = asyncio.ensure_future(self.app(scope, receive, tracked))
        stopping = asyncio.ensure_future(self.stopping.wait())
        try:
            await asyncio.wait([handling, stopping], return_when=asyncio.FIRST_COMPLETED)
        finally:
            stopping.cancel()
            if not handling.done():
                handling.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await handling
        if not handling.cancelled():
            handling.result()  # the app's own outcome, errors included
        if not started:
            await send({"type": "http.response.start", "status": 503,
                        "headers": [(b"content-type", b"text/plain; charset=utf-8"), (b"connection", b"close")]})
            await send({"type": "http.response.body", "body": b"the wf web UI is stopping"})
        elif not ended:
            await send({"type": "http.response.body", "body": b"", "more_body": False})


@dataclass
class RunningUi:
    """A UI being served on the running event loop; :meth:`stop` it before the loop ends."""

    url: str
    _server: Any
    _draining: _Draining
    task: asyncio.Task[None]

    async def stop(self) -> None:
        """Stop taking connections, let responses in flight finish (a few seconds at most), return."""
        self._draining.stopping.set()
        self._server.should_exit = True
        with contextlib.suppress(asyncio.CancelledError):
            await self.task


async def start_ui(
    *,
    address: str,
    host: str,
    port: int,
    namespace: str = "default",
    codec_endpoint: str | None = None,
    port_flag: str = "--port",
    tls: TLSConfig | RenewedTls | bool = False,
    ssl_certfile: str | None = None,
    ssl_keyfile: str | None = None,
    codec_auth: str | None = None,
    ssl_client_ca: str | None = None,
    allowed_hosts: Sequence[str] = (),
) -> RunningUi:
    """Serve the UI for the wf server at ``address`` on ``host:port``, on the running event loop.

    Returns once it takes requests. Raises :class:`UiUnavailable` when it cannot (dependencies
    missing, port taken: ``port_flag`` is the flag the message suggests). ``tls``: how the UI's
    clients reach a TLS server; ``ssl_certfile``/``ssl_keyfile``: serve the UI itself over HTTPS;
    ``ssl_client_ca``: and require of each browser a client certificate that CA signed.
    ``allowed_hosts``: names besides loopback ones a UI on a loopback address answers to while it
    serves everyone without sign-in (the app's ``host_check``).
    """
    create_app = load_create_app()
    import uvicorn

    class EmbeddedServer(uvicorn.Server):
        """uvicorn without its own signal handlers: whoever runs the loop decides when it stops."""

        @contextlib.contextmanager
        def capture_signals(self) -> Iterator[None]:
            yield

    app = _Draining(create_app(address=address, namespace=namespace, codec_endpoint=codec_endpoint,
                               codec_auth=codec_auth, tls=tls,
                               host_check=allowed_hosts if is_loopback(host) else None))
    sock = bind(host, port, port_flag=port_flag)
    # Logging is left to the process (the server configures it); uvicorn's own lines are warnings
    # and errors only, as the start line printed by the caller says where the UI is.
    config = uvicorn.Config(
        app, log_config=None, log_level="warning", access_log=False, lifespan="auto",
        timeout_graceful_shutdown=_GRACE, ssl_certfile=ssl_certfile, ssl_keyfile=ssl_keyfile,
        ssl_ca_certs=ssl_client_ca, ssl_cert_reqs=ssl.CERT_REQUIRED if ssl_client_ca else ssl.CERT_NONE,
    )
    if ssl_certfile is not None:
        config.load()  # makes config.ssl, which serve() then uses as it is
        assert config.ssl is not None
        serve_renewed_certificates(config.ssl, Path(ssl_certfile), Path(ssl_keyfile or ssl_certfile),
                                   Path(ssl_client_ca) if ssl_client_ca else None)
    server = EmbeddedServer(config)
    task = asyncio.create_task(server.serve(sockets=[sock]), name="wf web UI")
    # uvicorn says it has started by a flag only; the socket already listens, so this is short.
    while not server.started:
        if task.done():
            sock.close()
            exc = task.exception()
            raise UiUnavailable(f"the web UI did not start: {exc!r}")
        await asyncio.sleep(0.01)
    return RunningUi(url=url_of(sock, https=ssl_certfile is not None), _server=server, _draining=app, task=task)


# -- wf ui --------------------------------------------------------------------------------------


async def _serve_ui(
    address: str, namespace: str, host: str, port: int, codec_endpoint: str | None,
    codec_auth: str | None = None, tls: TLSConfig | bool = False, allowed_hosts: Sequence[str] = (),
) -> None:
    ui = await start_ui(
        address=address, host=host, port=port, namespace=namespace, codec_endpoint=codec_endpoint,
        codec_auth=codec_auth, tls=tls, allowed_hosts=allowed_hosts,
    )
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    click.echo(f"wf web UI on {ui.url} (server {address}, namespace {namespace}); Ctrl-C stops it", err=True)
    stopped = asyncio.ensure_future(stop.wait())
    await asyncio.wait([stopped, ui.task], return_when=asyncio.FIRST_COMPLETED)
    stopped.cancel()
    click.echo("wf web UI stopping…", err=True)
    await ui.stop()


@click.command("ui")
@click.option("--address", envvar="WF_ADDRESS", default="localhost:7233", show_default=True, show_envvar=True,
              help="The wf server's host:port.")
@click.option("--namespace", "-n", envvar="WF_NAMESPACE", default="default", show_default=True, show_envvar=True,
              help="The namespace the UI opens on.")
@click.option("--port", type=click.IntRange(0, 65535), envvar="WF_UI_PORT", default=DEFAULT_UI_PORT,
              show_default=True, show_envvar=True, help="The port the UI listens on (0: any free port).")
@click.option("--ip", envvar="WF_UI_IP", default="127.0.0.1", show_default=True, show_envvar=True,
              help="The address the UI listens on (127.0.0.1: this machine only). It serves plain HTTP.")
@click.option("--codec-endpoint", envvar="WF_CODEC_ENDPOINT", default=None, show_envvar=True,
              help="A codec server's URL: the browser posts payloads to <URL>/decode, so encrypted "
                   "payloads are decoded there and never in the UI process.")
@click.option("--codec-auth", envvar="WF_CODEC_AUTH", default=None, show_envvar=True,
              help="The Authorization header the browser sends to the codec server (its --codec-auth).")
@click.option("--allowed-host", "allowed_hosts", multiple=True, metavar="NAME",
              help="On a loopback --ip, a name besides localhost and loopback addresses the UI answers to "
                   "while it asks no one to sign in (a proxy on this machine that forwards another Host). "
                   "Repeatable.")
@with_tls_options
def ui_cmd(address: str, namespace: str, port: int, ip: str, codec_endpoint: str | None,
           codec_auth: str | None, allowed_hosts: tuple[str, ...]) -> None:
    """Serve the web UI for a wf server: every workflow, its history as a timeline, what it waits
    on, and the actions on it (signal, query, update, cancel, terminate, reset)."""
    warning = exposure_warning(ip)
    if warning is not None:
        click.echo(warning, err=True)
    tls = tls_from_context(click.get_current_context(), address)
    asyncio.run(_serve_ui(address, namespace, ip, port, codec_endpoint, codec_auth, tls, allowed_hosts))
