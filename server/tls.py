"""TLS on the server's gRPC port: certificates from files, re-read when the files change.

``wf server start --tls-cert F --tls-key F`` serves TLS; ``--tls-client-ca F`` makes it mutual: every
client must present a certificate signed by that CA, and the call's ``auth_context`` carries its
subject (``x509_subject``), which the authentication link can map to a namespace and a role.

Rotation without restart: gRPC asks :class:`CertificateFiles` for the configuration before each new
handshake; it answers with a new one when the modification time or size of any of the three files
changed since the last read, and "no change" otherwise (a ``stat`` of three files per connection, not
per call). A file caught half-written (its key no longer matching the certificate) is not taken: the
last good configuration stays in use, and the next handshake tries again. Connections already open
keep the certificate they were made with, as in every TLS server.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import cast

import grpc

from worker_sdk._tls import FileWatch

log = logging.getLogger(__name__)


class TlsConfigError(ValueError):
    """The TLS files given to the server cannot be used; the message names the flag to fix."""


@dataclass(frozen=True)
class TlsFiles:
    """The server's certificate chain and key (PEM files), and the CA its clients' certificates must
    be signed by (None: clients need no certificate)."""

    cert: Path
    key: Path
    client_ca: Path | None = None

    @classmethod
    def from_flags(cls, cert: str, key: str, client_ca: str) -> TlsFiles | None:
        """The files named by ``--tls-cert``, ``--tls-key`` and ``--tls-client-ca`` ("" when not
        given), or None for plaintext; :class:`TlsConfigError` when they do not make a whole."""
        if not cert and not key:
            if client_ca:
                raise TlsConfigError("--tls-client-ca needs --tls-cert and --tls-key (mutual TLS is TLS first)")
            return None
        if not cert or not key:
            raise TlsConfigError("TLS needs both --tls-cert and --tls-key")
        files = cls(Path(cert), Path(key), Path(client_ca) if client_ca else None)
        for flag, path in (("--tls-cert", files.cert), ("--tls-key", files.key), ("--tls-client-ca", files.client_ca)):
            if path is not None and not path.is_file():
                raise TlsConfigError(f"{flag} {path}: no such file")
        return files


class CertificateFiles:
    """The certificate configuration of :class:`TlsFiles`, read again whenever a file changes."""

    def __init__(self, files: TlsFiles) -> None:
        self.files = files
        self._lock = threading.Lock()
        self._watch = FileWatch(files.cert, files.key, *([files.client_ca] if files.client_ca else []))
        self.initial = self._configuration()
        # How many times a changed set of files was taken (tests and logs).
        self.reloads = 0

    def _configuration(self) -> grpc.ServerCertificateConfiguration:
        f = self.files
        cert = f.cert.read_bytes()
        key = f.key.read_bytes()
        roots = f.client_ca.read_bytes() if f.client_ca is not None else None
        if b"-----BEGIN" not in cert or b"-----BEGIN" not in key:
            # Never the file's contents: the key file holds a secret.
            raise TlsConfigError(f"--tls-cert {f.cert} and --tls-key {f.key} must be PEM files")
        _check_pair(cert, key, f)
        return grpc.ssl_server_certificate_configuration([(key, cert)], root_certificates=roots)

    def fetch(self) -> grpc.ServerCertificateConfiguration | None:
        """gRPC's certificate-configuration fetcher: a new configuration when a file changed, else None."""
        with self._lock:
            stamps = self._watch.changed()
            if stamps is None:
                return None
            try:
                configuration = self._configuration()
            except (OSError, TlsConfigError) as exc:
                log.warning("TLS files changed but cannot be used yet (%s): keeping the current certificate", exc)
                return None
            self._watch.accept(stamps)
            self.reloads += 1
            log.info("TLS certificate files changed: new connections use the new certificate")
            return configuration

    def credentials(self) -> grpc.ServerCredentials:
        """Server credentials that ask :meth:`fetch` before each handshake."""
        # gRPC documents None as "no change"; its type stubs forget it.
        fetcher = cast(Callable[[], grpc.ServerCertificateConfiguration], self.fetch)
        return grpc.dynamic_ssl_server_credentials(
            self.initial, fetcher, require_client_authentication=self.files.client_ca is not None
        )


def _check_pair(cert: bytes, key: bytes, files: TlsFiles) -> None:
    """Whether ``key`` is the private key of ``cert``'s public key, so a mismatched or half-written
    pair is refused here rather than by every handshake."""
    from cryptography import x509
    from cryptography.hazmat.primitives import serialization

    try:
        public = x509.load_pem_x509_certificate(cert).public_key()
        private = serialization.load_pem_private_key(key, password=None)
    except (ValueError, TypeError) as exc:  # not PEM, not a certificate or key, or an encrypted key
        raise TlsConfigError(
            f"--tls-key {files.key} is not the private key of --tls-cert {files.cert} (cannot read them: {exc})"
        ) from None
    der = (serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
    if private.public_key().public_bytes(*der) != public.public_bytes(*der):
        raise TlsConfigError(f"--tls-key {files.key} is not the private key of --tls-cert {files.cert}")
