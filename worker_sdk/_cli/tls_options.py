"""The CLI's TLS flags, Temporal's names, on every command that connects to a server.

``--tls`` (system roots), ``--tls-ca-path``, ``--tls-cert-path``, ``--tls-key-path``,
``--tls-server-name`` and ``--tls-disable-host-verification``, each also read from its ``WF_TLS…``
variable, as ``--address`` is from ``WF_ADDRESS``. Giving any of them turns TLS on. They are accepted
on a command group and on each of its commands (the command's win), and gathered in the context's
``meta``, which click shares between a group and its commands, so no command's signature changes.
"""

from __future__ import annotations

import socket
import ssl
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import click

from worker_sdk._tls import TLSConfig

F = TypeVar("F", bound=Callable[..., Any])

_META = "wf.tls"

# (flag, parameter name, environment variable, is a flag, is a file, help)
_FLAGS: list[tuple[str, str, str, bool, bool, str]] = [
    ("--tls", "tls", "WF_TLS", True, False,
     "Connect with TLS, checking the server's certificate against the system's roots (any other --tls-… "
     "flag implies it)."),
    ("--tls-ca-path", "tls_ca_path", "WF_TLS_CA_PATH", False, True,
     "PEM file of the CA the server's certificate must be signed by (a private CA's)."),
    ("--tls-cert-path", "tls_cert_path", "WF_TLS_CERT_PATH", False, True,
     "PEM client certificate, for a server that requires mutual TLS (with --tls-key-path)."),
    ("--tls-key-path", "tls_key_path", "WF_TLS_KEY_PATH", False, True, "PEM private key of --tls-cert-path."),
    ("--tls-server-name", "tls_server_name", "WF_TLS_SERVER_NAME", False, False,
     "The name the server's certificate must be valid for, when it is not the host of --address."),
    ("--tls-disable-host-verification", "tls_disable_host_verification", "WF_TLS_DISABLE_HOST_VERIFICATION",
     True, False,
     "Do not check that the server's certificate names the host dialled (its CA is still checked)."),
]


def _store(ctx: click.Context, param: click.Parameter, value: Any) -> Any:
    if value not in (None, False):
        ctx.meta.setdefault(_META, {})[str(param.name)] = value
    return value


def tls_options(*, group: bool) -> list[Callable[[F], F]]:
    """The TLS flags: with their environment variables on a group (or a lone command), as overrides
    on a group's commands."""
    options: list[Callable[[F], F]] = []
    for flag, name, env, is_flag, is_file, help_text in _FLAGS:
        kw: dict[str, Any] = {"expose_value": False, "callback": _store, "help": help_text}
        if group:
            kw.update(envvar=env, show_envvar=True)
        else:
            kw["help"] = f"{help_text} [env {env}]"
        if is_flag:
            kw.update(is_flag=True, default=False)
        else:
            kw["default"] = None
            if is_file:
                kw["type"] = click.Path(exists=True, dir_okay=False, path_type=Path)
        options.append(click.option(flag, name, **kw))
    return options


def with_tls_options(f: F) -> F:
    """Decorate a lone command (``wf ui``) with the TLS flags and their environment variables."""
    for option in reversed(tls_options(group=True)):
        f = option(f)
    return f


def tls_from_context(ctx: click.Context | None, address: str) -> TLSConfig | bool:
    """The ``tls=`` argument of ``Client.connect`` the flags given describe (False: plaintext)."""
    given: dict[str, Any] = dict(ctx.meta.get(_META, {})) if ctx is not None else {}
    if not given:
        return False
    cert: Path | None = given.get("tls_cert_path")
    key: Path | None = given.get("tls_key_path")
    if (cert is None) != (key is None):
        raise click.UsageError("--tls-cert-path and --tls-key-path go together (mutual TLS needs both)")
    ca: Path | None = given.get("tls_ca_path")
    domain: str | None = given.get("tls_server_name")
    if given.get("tls_disable_host_verification"):
        # With --tls-server-name too (a proxy routing by SNI), that name is asked for and whatever
        # name the certificate carries is accepted, as Temporal's CLI skips the host check then too.
        domain = certificate_name(address, ca, cert, key, server_name=domain)
    if ca is None and cert is None and domain is None:
        return True
    return TLSConfig(
        server_root_ca_cert=ca.read_bytes() if ca else None,
        client_cert=cert.read_bytes() if cert else None,
        client_private_key=key.read_bytes() if key else None,
        domain=domain,
    )


def certificate_name(
    address: str, ca: Path | None, cert: Path | None, key: Path | None, *, server_name: str | None = None
) -> str | None:
    """A name the certificate of the server at ``address`` is valid for, read from it after checking
    it against ``ca`` (or the system's roots), without checking the host name: what
    ``--tls-disable-host-verification`` then tells gRPC to expect. ``server_name`` is the name asked
    for (SNI; default: the host dialled). None when it cannot be read (the connection then fails with
    gRPC's own message)."""
    host, _, port = address.rpartition(":")
    host = host.strip("[]") or "localhost"
    context = ssl.create_default_context(cafile=str(ca) if ca else None)
    context.check_hostname = False
    # A CA file that holds the server's own certificate (no CA of its own) is trusted as given.
    context.verify_flags |= ssl.VERIFY_X509_PARTIAL_CHAIN
    if cert is not None and key is not None:
        context.load_cert_chain(cert, key)
    try:
        with socket.create_connection((host, int(port)), timeout=5) as raw, \
                context.wrap_socket(raw, server_hostname=server_name or host) as tls:
            peer: dict[str, Any] = dict(tls.getpeercert() or {})
    except (OSError, ValueError):
        return None
    alt_names: tuple[tuple[str, str], ...] = peer.get("subjectAltName", ())
    names = [value for kind, value in alt_names if kind == "DNS"]
    if names:
        return str(names[0]).replace("*.", "any.", 1)
    subject: tuple[tuple[tuple[str, str], ...], ...] = peer.get("subject", ())
    for rdn in subject:
        for attr, value in rdn:
            if attr == "commonName":
                return str(value)
    return None
