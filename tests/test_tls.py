"""TLS and mutual TLS on the gRPC port, with certificates the tests make (tests/tls_certs.py).

A TLS server answers a client that trusts its CA, over plain RPCs and the Multiplex stream, and a
worker runs a workflow through it; a plaintext client, a client that trusts another CA and, under
mutual TLS, a client without a certificate (or with one of another CA) are refused with a message
that says what to fix. Under mutual TLS the call pipeline sees the client's subject. A certificate
replaced on disk is served to the next connection, without a restart.
"""

from __future__ import annotations

import contextlib
import os
import shutil
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from tests.helpers import new_id
from tests.tls_certs import Pki, issue, make_ca, make_pki
from wf.server.app import Server
from wf.server.config import ServerConfig
from wf.server.pipeline import Call, CallHandler, Interceptor
from worker_sdk import Client, TLSConfig, Worker, workflow
from worker_sdk.errors import RPCError


@workflow.defn
class Hello:
    @workflow.run
    async def run(self, name: str) -> str:
        return f"hello {name}"


class Subjects(Interceptor):
    """Notes the client certificate subject gRPC reports for every call."""

    def __init__(self) -> None:
        self.seen: list[tuple[str, list[bytes]]] = []

    async def intercept(self, call: Call, next: CallHandler) -> Any:
        self.seen.append((call.method, list(call.auth_context.get("x509_subject", []))))
        return await next(call)


@dataclass
class Running:
    server: Server
    pki: Pki
    subjects: Subjects


async def _serve(db_url: str, pki: Pki, *, mutual: bool) -> Running:
    subjects = Subjects()
    config = ServerConfig(
        db_url=db_url, port=0, tls_cert=str(pki.server.cert_path), tls_key=str(pki.server.key_path),
        tls_client_ca=str(pki.ca.cert_path) if mutual else "",
    )
    server = Server(config, interceptors=[subjects])
    await server.start()
    return Running(server, pki, subjects)


@contextlib.asynccontextmanager
async def serving(db_url: str, tmp_path: Path, *, mutual: bool) -> AsyncIterator[Running]:
    running = await _serve(db_url, make_pki(tmp_path), mutual=mutual)
    try:
        yield running
    finally:
        await running.server.stop(grace=0)


@pytest.fixture
async def tls_server(db_url: str, tmp_path: Path) -> AsyncIterator[Running]:
    async with serving(db_url, tmp_path, mutual=False) as running:
        yield running


@pytest.fixture
async def mtls_server(db_url: str, tmp_path: Path) -> AsyncIterator[Running]:
    async with serving(db_url, tmp_path, mutual=True) as running:
        yield running


def trust(pki: Pki, *, client: bool = False, domain: str | None = None) -> TLSConfig:
    return TLSConfig(
        server_root_ca_cert=pki.ca.cert_path.read_bytes(),
        client_cert=pki.client.cert_path.read_bytes() if client else None,
        client_private_key=pki.client.key_path.read_bytes() if client else None,
        domain=domain,
    )


def address(server: Server) -> str:
    return f"localhost:{server.port}"


@pytest.mark.parametrize("multiplex", [True, False])
async def test_a_client_that_trusts_the_ca_runs_a_workflow_over_tls(
    tls_server: Running, multiplex: bool
) -> None:
    async with await Client.connect(address(tls_server.server), tls=trust(tls_server.pki), multiplex=multiplex) as c:
        queue = new_id("tls")
        async with Worker(c, task_queue=queue, workflows=[Hello]):
            result = await c.execute_workflow(Hello.run, "tls", id=new_id("tls-wf"), task_queue=queue)
        assert result == "hello tls"


async def test_domain_names_the_certificate_when_dialling_another_name(tls_server: Running, tmp_path: Path) -> None:
    # The certificate is valid for localhost and 127.0.0.1: a domain it does not carry is refused,
    # one it carries is accepted whatever the address dialled.
    target = f"127.0.0.1:{tls_server.server.port}"
    with pytest.raises(RPCError, match="TLS handshake failed"):
        await Client.connect(target, tls=trust(tls_server.pki, domain="not-this-server.example"))
    async with await Client.connect(target, tls=trust(tls_server.pki, domain="localhost")) as c:
        assert c.namespace == "default"


async def test_a_plaintext_client_is_refused_by_a_tls_server_and_told_why(tls_server: Running) -> None:
    with pytest.raises(RPCError, match=r"if the server serves TLS, connect with tls=True or a TLSConfig") as refused:
        await Client.connect(address(tls_server.server))
    assert "cannot reach a wf server" in refused.value.message
    assert tls_server.subjects.seen == []


async def test_a_client_that_trusts_another_ca_is_refused(tls_server: Running, tmp_path: Path) -> None:
    other = make_ca(tmp_path / "other", "other CA")
    with pytest.raises(RPCError, match="TLS handshake failed"):
        await Client.connect(
            address(tls_server.server), tls=TLSConfig(server_root_ca_cert=other.cert_path.read_bytes())
        )
    assert tls_server.subjects.seen == []


async def test_mutual_tls_requires_a_client_certificate(mtls_server: Running, tmp_path: Path) -> None:
    pki = mtls_server.pki
    with pytest.raises(RPCError) as refused:
        await Client.connect(address(mtls_server.server), tls=trust(pki))
    assert "client certificate" in refused.value.message or "TLS handshake failed" in refused.value.message
    # A certificate signed by a CA the server does not accept is refused too.
    other = make_ca(tmp_path / "other", "other CA")
    stranger = issue(other, tmp_path / "other", "stranger", stem="stranger")
    with pytest.raises(RPCError):
        await Client.connect(
            address(mtls_server.server),
            tls=TLSConfig(server_root_ca_cert=pki.ca.cert_path.read_bytes(),
                          client_cert=stranger.cert_path.read_bytes(),
                          client_private_key=stranger.key_path.read_bytes()),
        )
    assert mtls_server.subjects.seen == []


@pytest.mark.parametrize("multiplex", [True, False])
async def test_mutual_tls_gives_the_pipeline_the_client_subject(mtls_server: Running, multiplex: bool) -> None:
    pki = mtls_server.pki
    async with await Client.connect(address(mtls_server.server), tls=trust(pki, client=True), multiplex=multiplex) as c:
        await c.count_workflows("")
    assert mtls_server.subjects.seen, "no call reached the pipeline"
    for method, subject in mtls_server.subjects.seen:
        assert subject == [b"CN=wf-test-client,O=wf tests"], method


async def test_a_rotated_certificate_is_served_to_the_next_connection(tls_server: Running, tmp_path: Path) -> None:
    server = tls_server.server
    old = tls_server.pki
    async with await Client.connect(address(server), tls=trust(old), multiplex=False) as c:
        await c.count_workflows("")
    # A new CA and certificate, written over the served files as a deployment would (rename into place).
    new_dir = tmp_path / "rotated"
    new_ca = make_ca(new_dir, "rotated CA")
    new_cert = issue(new_ca, new_dir, "wf-rotated-server", server=True, stem="server")
    for src, dst in ((new_cert.cert_path, old.server.cert_path), (new_cert.key_path, old.server.key_path)):
        staged = dst.with_suffix(".new")
        shutil.copyfile(src, staged)
        os.replace(staged, dst)
    async with await Client.connect(
        address(server), tls=TLSConfig(server_root_ca_cert=new_ca.cert_path.read_bytes()), multiplex=False
    ) as c:
        await c.count_workflows("")
    assert server.certificates is not None and server.certificates.reloads == 1
    # A client that trusts only the old CA is refused by the new certificate.
    with pytest.raises(RPCError, match="TLS handshake failed"):
        await Client.connect(address(server), tls=trust(old))


def test_tls_config_never_shows_the_private_key(tmp_path: Path) -> None:
    pki = make_pki(tmp_path)
    key = pki.client.key_path.read_bytes()
    shown = repr(trust(pki, client=True))
    assert key.decode() not in shown and "PRIVATE KEY" not in shown
    with pytest.raises(ValueError, match="together"):
        TLSConfig(client_cert=pki.client.cert_path.read_bytes())
