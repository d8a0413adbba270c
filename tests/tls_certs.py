"""Certificates for the security tests: a CA, server and client certificates made with ``cryptography``.

Every test that needs TLS makes its own short-lived certificates here, in a temporary directory, so no
key material is checked in and nothing depends on the machine's trust store. ``make_pki(tmp_path)``
returns the paths of a CA, a server certificate for ``localhost``/``127.0.0.1`` and a client certificate
signed by the same CA; ``issue`` makes more (a second server certificate for rotation, a client of
another CA, a given subject for the mTLS subject mapping).
"""

from __future__ import annotations

import datetime
import ipaddress
from dataclasses import dataclass
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID


@dataclass(frozen=True)
class Authority:
    """A certificate authority: its certificate (PEM file) and the key it signs with."""

    cert_path: Path
    cert: x509.Certificate
    key: ec.EllipticCurvePrivateKey


@dataclass(frozen=True)
class Issued:
    """A certificate and its private key, as PEM files."""

    cert_path: Path
    key_path: Path
    subject: str  # RFC 4514, as gRPC's auth context and `--auth-subjects` name it


@dataclass(frozen=True)
class Pki:
    """A CA, a server certificate for localhost and a client certificate, all in one directory."""

    ca: Authority
    server: Issued
    client: Issued


def _name(common_name: str, organization: str | None = None) -> x509.Name:
    attrs = [x509.NameAttribute(NameOID.COMMON_NAME, common_name)]
    if organization:
        attrs.insert(0, x509.NameAttribute(NameOID.ORGANIZATION_NAME, organization))
    return x509.Name(attrs)


def _write_key(key: ec.EllipticCurvePrivateKey, path: Path) -> None:
    path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    path.chmod(0o600)


def make_ca(directory: Path, name: str = "wf test CA") -> Authority:
    """A self-signed CA certificate, written to ``directory/<slug>-ca.pem``."""
    directory.mkdir(parents=True, exist_ok=True)
    key = ec.generate_private_key(ec.SECP256R1())
    now = datetime.datetime.now(datetime.UTC)
    subject = _name(name)
    cert = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=2))
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=True, content_commitment=False, key_encipherment=False,
                data_encipherment=False, key_agreement=False, key_cert_sign=True, crl_sign=True,
                encipher_only=False, decipher_only=False,
            ),
            critical=True,
        )
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
        .sign(key, hashes.SHA256())
    )
    path = directory / f"{name.replace(' ', '-')}-ca.pem"
    path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    return Authority(cert_path=path, cert=cert, key=key)


def issue(
    ca: Authority,
    directory: Path,
    common_name: str,
    *,
    organization: str | None = None,
    server: bool = False,
    hosts: tuple[str, ...] = ("localhost", "127.0.0.1"),
    stem: str | None = None,
) -> Issued:
    """A leaf certificate signed by ``ca``: a server's (with ``hosts`` as names) or a client's."""
    key = ec.generate_private_key(ec.SECP256R1())
    now = datetime.datetime.now(datetime.UTC)
    subject = _name(common_name, organization)
    builder = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(ca.cert.subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(
            # A server's certificate may also authenticate it as a client: the web UI that wf server
            # serves dials its own port with it under mutual TLS.
            x509.ExtendedKeyUsage(
                [ExtendedKeyUsageOID.SERVER_AUTH, ExtendedKeyUsageOID.CLIENT_AUTH]
                if server else [ExtendedKeyUsageOID.CLIENT_AUTH]
            ),
            critical=False,
        )
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(ca.key.public_key()), critical=False
        )
    )
    if server:
        names: list[x509.GeneralName] = []
        for host in hosts:
            try:
                names.append(x509.IPAddress(ipaddress.ip_address(host)))
            except ValueError:
                names.append(x509.DNSName(host))
        builder = builder.add_extension(x509.SubjectAlternativeName(names), critical=False)
    cert = builder.sign(ca.key, hashes.SHA256())
    base = stem or common_name.replace(" ", "-")
    cert_path = directory / f"{base}.pem"
    key_path = directory / f"{base}-key.pem"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    _write_key(key, key_path)
    return Issued(cert_path=cert_path, key_path=key_path, subject=subject.rfc4514_string())


def make_pki(directory: Path, client_name: str = "wf-test-client") -> Pki:
    """A CA with a server certificate (localhost, 127.0.0.1) and a client certificate it signed."""
    ca = make_ca(directory)
    srv = issue(ca, directory, "wf-test-server", server=True, stem="server")
    cli = issue(ca, directory, client_name, organization="wf tests", stem="client")
    return Pki(ca=ca, server=srv, client=cli)
