"""TLS from the command line: ``wf server start --tls-…``, the CLI's ``--tls…`` flags and ``WF_TLS…``
variables, the web UI served over HTTPS by a mutual-TLS server, the start line and the warnings."""

from __future__ import annotations

import asyncio
import os
import shutil
import socket
import ssl
import subprocess
from collections.abc import AsyncIterator, Sequence
from contextlib import AbstractAsyncContextManager
from pathlib import Path

import httpx
import pytest

from tests.helpers import ServerProcess, assert_eventually, free_port, wf_executable, wf_server_process
from tests.tls_certs import Pki, issue, make_pki
from wf.server.app import Server
from wf.server.config import ServerConfig

WF = wf_executable()


def started(proc: ServerProcess) -> bool:
    """Whether the start line (printed once the server and its UI serve) is out; the log's own
    "listening" line comes earlier."""
    return any(line.startswith("wf server listening on") for line in proc.output().splitlines())


def tls_server_process(db_url: str, args: Sequence[str], log_dir: Path) -> AbstractAsyncContextManager[ServerProcess]:
    """``wf server start`` with ``args``, once its start line is printed (it serves then), its log
    kept in ``log_dir``."""
    return wf_server_process(db_url, args=["--no-migrate", *args], ready=started, log_dir=log_dir,
                             ready_timeout=60)


async def wf(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return await asyncio.to_thread(
        subprocess.run, [WF, *args], capture_output=True, text=True, timeout=60,
        env={**os.environ, **(env or {})},
    )


async def ui_page_with_a_client_certificate_only(ui_port: int, pki: Pki) -> httpx.Response:
    """The HTTPS UI's workflows page: refused to a browser without a client certificate of the CA,
    served to one with it, and showing the server reached (the UI dials its own port with TLS)."""
    url = f"https://localhost:{ui_port}/namespaces/default/workflows"
    context = ssl.create_default_context(cafile=str(pki.ca.cert_path))
    async with httpx.AsyncClient(verify=context, timeout=10) as http:
        with pytest.raises(httpx.TransportError):
            await http.get(url)
    context.load_cert_chain(str(pki.client.cert_path), str(pki.client.key_path))
    async with httpx.AsyncClient(verify=context, timeout=10) as http:
        page = await http.get(url)
    assert page.status_code == 200
    assert "cannot reach" not in page.text.lower() and "unavailable" not in page.text.lower()
    return page


async def test_a_mutual_tls_server_its_cli_clients_and_its_https_ui(db_url: str, tmp_path: Path) -> None:
    pki = make_pki(tmp_path)
    ui_port = free_port()
    args = ["--tls-cert", str(pki.server.cert_path), "--tls-key", str(pki.server.key_path),
            "--tls-client-ca", str(pki.ca.cert_path), "--ui-port", str(ui_port)]
    async with tls_server_process(db_url, args, tmp_path) as proc:
        output = proc.output()
        assert f"wf server listening on 127.0.0.1:{proc.port}; gRPC over mutual TLS" in output
        assert f"web UI on https://127.0.0.1:{ui_port}" in output
        address = f"localhost:{proc.port}"
        with_cert = ["--tls-ca-path", str(pki.ca.cert_path), "--tls-cert-path", str(pki.client.cert_path),
                     "--tls-key-path", str(pki.client.key_path)]
        listed = await wf("workflow", "list", "--address", address, *with_cert, "-o", "json")
        assert listed.returncode == 0, listed.stderr
        # The same through the environment, as WF_ADDRESS.
        by_env = await wf("workflow", "count", env={
            "WF_ADDRESS": address, "WF_TLS_CA_PATH": str(pki.ca.cert_path),
            "WF_TLS_CERT_PATH": str(pki.client.cert_path), "WF_TLS_KEY_PATH": str(pki.client.key_path),
        })
        assert by_env.returncode == 0, by_env.stderr
        # No client certificate: refused, and told why.
        no_cert = await wf("workflow", "list", "--address", address, "--tls-ca-path", str(pki.ca.cert_path))
        assert no_cert.returncode == 1
        assert "cannot reach a wf server" in no_cert.stderr and "TLS" in no_cert.stderr
        # Plaintext: refused, and told to use --tls.
        plain = await wf("workflow", "list", "--address", address)
        assert plain.returncode == 1 and "--tls" in plain.stderr
        # The UI over HTTPS with the server's certificate, reaching its own port with mutual TLS; it
        # asks each browser for a client certificate of the CA, as the gRPC port asks each client.
        page = await ui_page_with_a_client_certificate_only(ui_port, pki)
        # Over HTTPS every cookie the UI sets is Secure: the CSRF cookie as the session's.
        cookies = page.headers.get_list("set-cookie")
        assert cookies and all("; secure" in c.lower() and "httponly" in c.lower() for c in cookies), cookies
        assert await proc.terminate() == 0
    key = pki.server.key_path.read_text()
    assert key not in proc.output() and "PRIVATE KEY" not in proc.output()


def served_name(port: int, ca: Path) -> str:
    """The common name of the certificate a TLS port serves to a new connection."""
    context = ssl.create_default_context(cafile=str(ca))
    with socket.create_connection(("127.0.0.1", port), timeout=10) as raw, \
            context.wrap_socket(raw, server_hostname="localhost") as tls:
        subject = (tls.getpeercert() or {})["subject"]
    return str(dict(pair[0] for pair in subject)["commonName"])


async def test_a_renewed_certificate_is_served_by_the_https_ui_which_still_reaches_its_server(
    db_url: str, tmp_path: Path
) -> None:
    pki = make_pki(tmp_path)
    ui_port = free_port()
    args = ["--tls-cert", str(pki.server.cert_path), "--tls-key", str(pki.server.key_path),
            "--tls-client-ca", str(pki.ca.cert_path), "--ui-port", str(ui_port)]
    async with tls_server_process(db_url, args, tmp_path) as proc:
        assert await asyncio.to_thread(served_name, ui_port, pki.ca.cert_path) == "wf-test-server"
        # Renewed by the same CA, renamed into place as a deployment would.
        (tmp_path / "renewed").mkdir()
        renewed = issue(pki.ca, tmp_path / "renewed", "wf-renewed-server", server=True, stem="server")
        for src, dst in ((renewed.key_path, pki.server.key_path), (renewed.cert_path, pki.server.cert_path)):
            staged = dst.with_suffix(".new")
            shutil.copyfile(src, staged)
            os.replace(staged, dst)
        assert await asyncio.to_thread(served_name, proc.port, pki.ca.cert_path) == "wf-renewed-server"
        assert await asyncio.to_thread(served_name, ui_port, pki.ca.cert_path) == "wf-renewed-server"
        # The renewed HTTPS still asks each browser for a client certificate of the CA, and the UI
        # dials its own port afresh, trusting the certificate served now, not the one it started with.
        await ui_page_with_a_client_certificate_only(ui_port, pki)
        assert await proc.terminate() == 0


@pytest.fixture
async def named_server(db_url: str, tmp_path: Path) -> AsyncIterator[tuple[Server, Pki]]:
    """A TLS server whose certificate names only wf.internal, not the address the tests dial."""
    pki = make_pki(tmp_path)
    cert = issue(pki.ca, tmp_path, "wf.internal", server=True, hosts=("wf.internal",), stem="internal")
    server = Server(ServerConfig(db_url=db_url, port=0, tls_cert=str(cert.cert_path), tls_key=str(cert.key_path)))
    await server.start()
    try:
        yield server, pki
    finally:
        await server.stop(grace=0)


async def test_server_name_and_disabled_host_verification(named_server: tuple[Server, Pki]) -> None:
    server, pki = named_server
    address = f"127.0.0.1:{server.port}"
    ca = ["--tls-ca-path", str(pki.ca.cert_path)]
    wrong = await wf("workflow", "count", "--address", address, *ca)
    assert wrong.returncode == 1 and "TLS handshake failed" in wrong.stderr
    named = await wf("workflow", "count", "--address", address, *ca, "--tls-server-name", "wf.internal")
    assert named.returncode == 0, named.stderr
    unchecked = await wf("workflow", "count", "--address", address, *ca, "--tls-disable-host-verification")
    assert unchecked.returncode == 0, unchecked.stderr
    # With a server name the certificate does not carry either, as Temporal's CLI: no host check.
    other_name = await wf("workflow", "count", "--address", address, *ca, "--tls-server-name", "wf.elsewhere",
                          "--tls-disable-host-verification")
    assert other_name.returncode == 0, other_name.stderr
    # The CA is still checked: a server certificate no trusted CA signed is refused.
    other = make_pki(Path(str(pki.ca.cert_path.parent) + "-other"))
    untrusted = await wf("workflow", "count", "--address", address, "--tls-ca-path", str(other.ca.cert_path),
                         "--tls-disable-host-verification")
    assert untrusted.returncode == 1


async def test_a_plaintext_server_on_another_address_warns_and_says_plaintext(db_url: str) -> None:
    async with wf_server_process(db_url, args=["--no-migrate", "--ip", "0.0.0.0"]) as proc:
        await assert_eventually(lambda: started(proc))
        output = proc.output()
        assert "plaintext gRPC, no TLS" in output
        assert "warning: the gRPC port listens on 0.0.0.0" in output and "--tls-cert and --tls-key" in output
    async with wf_server_process(db_url, args=["--no-migrate"]) as local:
        await assert_eventually(lambda: started(local))
        assert "warning: the gRPC port" not in local.output()


async def test_tls_flags_that_cannot_work_stop_the_start_with_one_line(db_url: str, tmp_path: Path) -> None:
    pki = make_pki(tmp_path)
    other = issue(pki.ca, tmp_path, "other-server", server=True, stem="other")
    port = str(free_port())
    only_cert = await wf("server", "start", "--db", db_url, "--port", port, "--no-migrate",
                         "--tls-cert", str(pki.server.cert_path))
    assert only_cert.returncode == 1 and "TLS needs both --tls-cert and --tls-key" in only_cert.stderr
    mismatched = await wf("server", "start", "--db", db_url, "--port", port, "--no-migrate",
                          "--tls-cert", str(pki.server.cert_path), "--tls-key", str(other.key_path))
    assert mismatched.returncode == 1
    assert "is not the private key of --tls-cert" in mismatched.stderr
    assert other.key_path.read_text() not in mismatched.stderr + mismatched.stdout
