"""TLS for the client's connection: :class:`TLSConfig`, in temporalio's shape, and the channel it makes.

``Client.connect(target, tls=True)`` checks the server's certificate against the system's roots;
``tls=TLSConfig(server_root_ca_cert=..., client_cert=..., client_private_key=..., domain=...)`` names
the CA to trust (a private CA's), the client's own certificate and key for a server that requires
mutual TLS, and the name the server's certificate must carry when it differs from the host dialled.
``tls=False`` (the default) is plaintext.
"""

from __future__ import annotations

import ipaddress
import logging
import os
import ssl
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import grpc

log = logging.getLogger(__name__)

Stamps = tuple[tuple[int, int] | None, ...]


def host_of(header: str) -> str:
    """A ``Host`` header's name, without its port: ``[::1]:8081`` → ``::1``, ``localhost:8081`` → ``localhost``."""
    if header.startswith("["):
        return header[1:].partition("]")[0]
    return header.rpartition(":")[0] if header.count(":") == 1 else header


def is_loopback(host: str) -> bool:
    """Whether ``host`` is reachable from this machine only (``localhost``, 127.0.0.0/8, ``::1``)."""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def plaintext_key_warning(target: str) -> str | None:
    """The warning for an API key about to be sent without TLS to ``target`` ("host:port"), or None
    when the host is this machine (where nobody else can read it on the way)."""
    host = target.rpartition(":")[0] or target
    if is_loopback(host):
        return None
    return (f"the API key is sent to {target} over plaintext gRPC: anyone on the network between can read and "
            "use it. Connect with TLS (tls=True or a TLSConfig; the CLI's --tls or --tls-ca-path).")


@dataclass(frozen=True)
class TLSConfig:
    """How the client secures its connection (temporalio.service.TLSConfig's fields).

    Attributes:
        server_root_ca_cert: PEM certificate(s) of the CA the server's certificate must chain to;
            None trusts the system's roots.
        domain: the name the server's certificate must be valid for, instead of the host of the
            address dialled (a server reached by IP address or through a tunnel, say).
        client_cert: the client's PEM certificate chain, for a server that requires mutual TLS.
        client_private_key: the PEM private key of ``client_cert``.
    """

    server_root_ca_cert: bytes | None = None
    domain: str | None = None
    client_cert: bytes | None = None
    client_private_key: bytes | None = None

    def __post_init__(self) -> None:
        if (self.client_cert is None) != (self.client_private_key is None):
            raise ValueError("TLSConfig needs client_cert and client_private_key together, or neither")

    def __repr__(self) -> str:
        # The private key never shows, in logs or tracebacks.
        return (
            f"TLSConfig(server_root_ca_cert={'<PEM>' if self.server_root_ca_cert else None}, "
            f"domain={self.domain!r}, client_cert={'<PEM>' if self.client_cert else None}, "
            f"client_private_key={'<hidden>' if self.client_private_key else None})"
        )


def open_channel(
    target: str,
    options: Sequence[tuple[str, int | str]],
    tls: TLSConfig | bool,
    *,
    interceptors: Sequence[Any] | None = None,
) -> grpc.aio.Channel:
    """A channel to ``target``: plaintext when ``tls`` is False, else TLS as ``tls`` describes;
    ``interceptors`` see every call on it (the API key's, ``worker_sdk/_auth.py``)."""
    if tls is False:
        return grpc.aio.insecure_channel(target, options=list(options), interceptors=interceptors)
    config = TLSConfig() if tls is True else tls
    credentials = grpc.ssl_channel_credentials(
        root_certificates=config.server_root_ca_cert,
        private_key=config.client_private_key,
        certificate_chain=config.client_cert,
    )
    opts = list(options)
    if config.domain:
        opts.append(("grpc.ssl_target_name_override", config.domain))
    return grpc.aio.secure_channel(target, credentials, options=opts, interceptors=interceptors)


def connect_hint(details: str, tls: bool) -> str:
    """A hint to add to "cannot reach a wf server" when TLS may be why: a plaintext client that a
    TLS server hung up on, or a TLS handshake that failed (untrusted or missing certificates)."""
    text = details.lower()
    if "connection refused" in text or "dns resolution failed" in text or "domain name not found" in text:
        return ""
    if not tls:
        return " (if the server serves TLS, connect with tls=True or a TLSConfig; in the CLI, --tls)"
    if "certificate required" in text or "alert number 116" in text or "peer did not return a certificate" in text:
        return (" (the server requires a client certificate, mutual TLS: give TLSConfig(client_cert=, "
                "client_private_key=), in the CLI --tls-cert-path and --tls-key-path)")
    if any(word in text for word in ("handshake", "ssl", "certificate", "tls", "verification", "socket closed")):
        return (" (the TLS handshake failed: is the server's certificate signed by the CA given (server_root_ca_cert=, "
                "--tls-ca-path) and valid for the name dialled (domain=, --tls-server-name)? Does the server "
                "require a client certificate? Does it serve TLS at all?)")
    return ""


class FileWatch:
    """Whether certificate files changed since they were last taken: their modification times and
    sizes, a ``stat`` each (cheap enough to look before every new connection). A change is taken
    only once its files proved usable (:meth:`accept`), so a file caught half-written is looked at
    again next time."""

    def __init__(self, *paths: Path) -> None:
        self._paths = paths
        self._taken = self._read()

    def _read(self) -> Stamps:
        stamps: list[tuple[int, int] | None] = []
        for path in self._paths:
            try:
                st = os.stat(path)
            except OSError:
                stamps.append(None)  # mid-rename: not usable yet
            else:
                stamps.append((st.st_mtime_ns, st.st_size))
        return tuple(stamps)

    def changed(self) -> Stamps | None:
        """The files' new stamps when any differs from those taken, else None."""
        stamps = self._read()
        return None if stamps == self._taken else stamps

    def accept(self, stamps: Stamps) -> None:
        """The files of ``stamps`` are in use now."""
        self._taken = stamps


class RenewedTls:
    """``tls=`` for a server whose certificate files are renewed while its clients run: the web UI
    that ``wf server`` serves trusts the very certificate the server serves (and, under mutual TLS,
    presents it), so a renewed certificate must replace the old one on the UI's side too, or its new
    connections fail the handshake. :attr:`config` is the configuration for new connections, made by
    ``load`` again when :meth:`refresh` finds the files changed; :attr:`generation` counts the
    renewals, so connections made before one can be replaced."""

    def __init__(self, load: Callable[[], TLSConfig], watch: FileWatch) -> None:
        self._load = load
        self._watch = watch
        self._lock = threading.Lock()
        self.config = load()
        self.generation = 0

    def changed(self) -> bool:
        """Whether the files changed since :attr:`config` was made (a ``stat`` each)."""
        return self._watch.changed() is not None

    def refresh(self) -> None:
        """Make :attr:`config` again if the files changed (blocking: it reads them, and ``load`` may
        dial the server). Files that do not make a configuration yet are tried again next time."""
        with self._lock:
            stamps = self._watch.changed()
            if stamps is None:
                return
            try:
                config = self._load()
            except (OSError, ValueError):
                return
            self.config = config
            self._watch.accept(stamps)
            self.generation += 1


def serve_renewed_certificates(
    context: ssl.SSLContext, certfile: Path, keyfile: Path, client_ca: Path | None = None
) -> None:
    """Make ``context`` serve the certificate of ``certfile``/``keyfile`` as they are when each new
    connection arrives: a renewed certificate is served without a restart, as the gRPC port does.
    With ``client_ca`` (mutual TLS), every context switched to requires a client certificate that CA
    signed, as ``context`` does, the CA's file renewed with the others.

    Every handshake (with or without SNI) asks the files whether they changed since last taken; a
    changed pair that loads becomes the context handshakes switch to, one that does not (caught half
    written) is logged and the last good one stays. Connections already open keep theirs."""
    watch = FileWatch(certfile, keyfile, *([client_ca] if client_ca is not None else []))
    current = context

    def on_hello(conn: ssl.SSLObject | ssl.SSLSocket, server_name: str | None, base: ssl.SSLContext) -> None:
        nonlocal current
        stamps = watch.changed()
        if stamps is not None:
            fresh = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
            try:
                fresh.load_cert_chain(certfile, keyfile)
                if client_ca is not None:
                    fresh.load_verify_locations(cafile=client_ca)
                    fresh.verify_mode = ssl.CERT_REQUIRED
            except (OSError, ssl.SSLError) as exc:
                log.warning("HTTPS certificate files changed but cannot be used yet (%s): keeping the "
                            "current certificate", getattr(exc, "reason", None) or exc.__class__.__name__)
            else:
                watch.accept(stamps)
                current = fresh
                log.info("HTTPS certificate files changed: new connections use the new certificate")
        if current is not base:
            conn.context = current

    context.sni_callback = on_hello
