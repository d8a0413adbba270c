"""The web UI inside a ``wf server`` process: its flags, checked before anything starts, and its start.

As Temporal's dev server: ``wf server start-dev`` serves the UI on the gRPC port + 1000 (8233 beside
7233) unless ``--headless``; ``--ui-port`` and ``--ui-ip`` move it. ``wf server start`` serves it only
when given ``--ui-port``. The UI is the same ASGI app ``wf ui`` serves (``wf.ui``, a client of the
public API over gRPC): here it dials this process's own gRPC port and runs on the server's event
loop, so it starts and stops with the server.
"""

from __future__ import annotations

import asyncio
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, TypeVar

import click

from wf.server.tls import TlsFiles
from worker_sdk._cli.tls_options import certificate_name
from worker_sdk._cli.ui_cmd import (
    RunningUi,
    UiUnavailable,
    bind,
    dial_address,
    exposure_warning,
    load_create_app,
    start_ui,
)
from worker_sdk._tls import FileWatch, RenewedTls, TLSConfig

F = TypeVar("F", bound=Callable[..., Any])

# The dev server's UI port is its gRPC port plus this (Temporal's: 7233 → 8233).
UI_PORT_OFFSET = 1000


@dataclass(frozen=True)
class UiOptions:
    """Where the server's web UI listens, and the codec server its pages use."""

    host: str
    port: int
    codec_endpoint: str | None = None
    codec_auth: str | None = field(default=None, repr=False)  # the Authorization header sent to it
    allowed_hosts: tuple[str, ...] = ()  # names besides loopback ones it answers to without sign-in


def ui_options(*, dev: bool) -> Callable[[F], F]:
    """The web UI's flags of ``wf server start-dev`` (``dev``) or ``wf server start``."""
    port_help = (
        "Port of the web UI (default: the gRPC port + 1000, so 8233 beside 7233)."
        if dev else "Serve the web UI on this port (none unless given)."
    )
    options = [
        click.option("--ui-port", "ui_port", type=click.IntRange(0, 65535), default=None, envvar="WF_UI_PORT",
                     show_envvar=True, help=port_help),
        click.option("--ui-ip", "ui_ip", default="127.0.0.1", show_default=True, envvar="WF_UI_IP",
                     show_envvar=True,
                     help="Address the web UI listens on (127.0.0.1: this machine only)."),
        click.option("--ui-codec-endpoint", "ui_codec_endpoint", default=None, envvar="WF_UI_CODEC_ENDPOINT",
                     show_envvar=True,
                     help="A codec server's URL: the browser posts payloads to <URL>/decode, so encrypted "
                          "payloads are decoded there and never in the server."),
        click.option("--ui-codec-auth", "ui_codec_auth", default=None, envvar="WF_UI_CODEC_AUTH",
                     show_envvar=True,
                     help="The Authorization header the browser sends to the codec server (its --codec-auth)."),
        click.option("--ui-allowed-host", "ui_allowed_hosts", multiple=True, metavar="NAME",
                     help="On a loopback --ui-ip, a name besides localhost and loopback addresses the UI "
                          "answers to while it asks no one to sign in (a proxy on this machine that forwards "
                          "another Host). Repeatable."),
    ]
    if dev:
        options.append(click.option("--headless", is_flag=True, default=False, help="Serve no web UI."))

    def apply(f: F) -> F:
        for option in reversed(options):
            f = option(f)
        return f

    return apply


def take_ui_options(opts: dict[str, Any], *, dev: bool) -> UiOptions | None:
    """Remove the web UI's flags from the parsed options ``opts``; the UI to serve, or None."""
    port: int | None = opts.pop("ui_port", None)
    host: str = opts.pop("ui_ip", "127.0.0.1")
    codec_endpoint: str | None = opts.pop("ui_codec_endpoint", None)
    codec_auth: str | None = opts.pop("ui_codec_auth", None)
    allowed_hosts: tuple[str, ...] = tuple(opts.pop("ui_allowed_hosts", ()))
    headless: bool = opts.pop("headless", False)
    if dev and headless:
        return None
    if port is None:
        if not dev:
            return None
        grpc_port = int(opts["port"])
        port = grpc_port + UI_PORT_OFFSET if grpc_port else 0
        if port > 65535:
            raise click.UsageError(
                f"the web UI's default port (--port + {UI_PORT_OFFSET} = {port}) does not exist: "
                "give --ui-port, or --headless"
            )
    return UiOptions(host=host, port=port, codec_endpoint=codec_endpoint, codec_auth=codec_auth,
                     allowed_hosts=allowed_hosts)


def check_ui(ui: UiOptions | None, *, dev: bool, https: bool, auth_required: bool) -> None:
    """Exit with one line on stderr when the UI cannot be served (dependencies missing, port taken);
    warn when it listens where other machines reach it without HTTPS (``https``: the server has a
    certificate) or sign-in (``auth_required``). Run before PostgreSQL starts."""
    if ui is None:
        return
    try:
        load_create_app()
        if ui.port:
            bind(ui.host, ui.port, port_flag="--ui-port").close()
    except UiUnavailable as exc:
        hint = " (or start without a UI: --headless)" if dev else ""
        click.echo(f"error: {exc.message}{hint}", err=True)
        sys.exit(1)
    warning = exposure_warning(ui.host, https=https, auth_required=auth_required)
    if warning is not None:
        click.echo(warning, err=True)


async def start_server_ui(
    ui: UiOptions, *, server_host: str, server_port: int, tls: TlsFiles | None = None
) -> RunningUi:
    """Serve the UI on the running loop for the server listening on ``server_host:server_port``.

    With ``tls`` (the server serves TLS) the UI is served over HTTPS with the same certificate and
    dials the gRPC port with TLS, trusting that certificate and, under mutual TLS, presenting it as
    its client certificate (it must then allow client authentication too). Under mutual TLS the UI
    requires a client certificate of the same CA from each browser, as the gRPC port does of each
    client: otherwise anyone who can reach the UI would act through it with the server's own
    certificate, past the check the gRPC port makes."""
    address = dial_address(server_host, server_port)
    client_tls: RenewedTls | bool = False
    if tls is not None:
        files = tls  # narrowed, for the closure
        client_tls = await asyncio.to_thread(
            RenewedTls, lambda: _own_server_tls(address, files), FileWatch(files.cert, files.key)
        )
    return await start_ui(
        address=address, host=ui.host, port=ui.port,
        codec_endpoint=ui.codec_endpoint, port_flag="--ui-port", codec_auth=ui.codec_auth, tls=client_tls,
        ssl_certfile=str(tls.cert) if tls else None, ssl_keyfile=str(tls.key) if tls else None,
        ssl_client_ca=str(tls.client_ca) if tls and tls.client_ca else None, allowed_hosts=ui.allowed_hosts,
    )


def _own_server_tls(address: str, tls: TlsFiles) -> TLSConfig:
    """How the UI of this process reaches its own TLS port: the served certificate is its trust
    anchor, the name checked is one the certificate carries (the UI dials an address, which the
    certificate need not name)."""
    mutual = tls.client_ca is not None
    name = certificate_name(address, tls.cert, tls.cert if mutual else None, tls.key if mutual else None)
    return TLSConfig(
        server_root_ca_cert=tls.cert.read_bytes(),
        client_cert=tls.cert.read_bytes() if mutual else None,
        client_private_key=tls.key.read_bytes() if mutual else None,
        domain=name,
    )
