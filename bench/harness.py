"""The processes a benchmark runs on: PostgreSQL, a ``wf server`` subprocess, a worker subprocess.

Everything started here is stopped here, in reverse order, whether the benchmark ends normally,
fails, or is interrupted: children get SIGTERM, then SIGKILL after a timeout; an embedded
PostgreSQL is stopped and its data directory removed.
"""

from __future__ import annotations

import asyncio
import base64
import json
import logging
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import uuid
from collections import Counter
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import IO, Any

log = logging.getLogger("bench")

REPO = Path(__file__).resolve().parent.parent
STOP_TIMEOUT = 15.0
START_TIMEOUT = 60.0


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wf_executable() -> str:
    beside = Path(sys.executable).parent / "wf"
    if beside.exists():
        return str(beside)
    found = shutil.which("wf")
    if found is None:
        raise RuntimeError("the `wf` console script is not installed next to this Python (pip install -e .)")
    return found


# -- child processes -------------------------------------------------------------------------------


class Child:
    """One subprocess in its own session (a terminal's Ctrl-C reaches only the bench, which then
    stops its children in order); stderr goes to a log file, stdout optionally to a pipe."""

    def __init__(self, name: str, argv: list[str], log_path: Path, *, pipe_stdout: bool = False) -> None:
        self.name = name
        self.log_path = log_path
        env = dict(os.environ)
        env["PYTHONPATH"] = os.pathsep.join(p for p in (str(REPO), env.get("PYTHONPATH", "")) if p)
        self._log: IO[bytes] = open(log_path, "wb")  # noqa: SIM115 (closed in stop())
        self.popen = subprocess.Popen(
            argv,
            cwd=REPO,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE if pipe_stdout else self._log,
            stderr=self._log,
            start_new_session=True,
        )
        self._lines: asyncio.Queue[str] | None = None
        if pipe_stdout:
            self._lines = asyncio.Queue()
            loop = asyncio.get_running_loop()
            threading.Thread(target=self._read_stdout, args=(loop,), daemon=True).start()

    def _read_stdout(self, loop: asyncio.AbstractEventLoop) -> None:
        assert self.popen.stdout is not None and self._lines is not None
        lines = self._lines
        for raw in self.popen.stdout:
            line = raw.decode(errors="replace").rstrip("\n")
            try:
                loop.call_soon_threadsafe(lines.put_nowait, line)
            except RuntimeError:  # the loop is closed
                return

    async def read_line(self, timeout: float) -> str:
        """The next line the child printed on stdout."""
        assert self._lines is not None
        try:
            return await asyncio.wait_for(self._lines.get(), timeout)
        except TimeoutError:
            raise RuntimeError(f"{self.name} printed nothing within {timeout:.0f}s\n{self.tail()}") from None

    def check_alive(self) -> None:
        code = self.popen.poll()
        if code is not None:
            raise RuntimeError(f"{self.name} exited with code {code}\n{self.tail()}")

    def tail(self, lines: int = 30) -> str:
        try:
            text = self.log_path.read_text(errors="replace").splitlines()[-lines:]
        except OSError:
            return ""
        return "\n".join(f"  [{self.name}] {line}" for line in text)

    async def stop(self, timeout: float = STOP_TIMEOUT) -> None:
        """SIGTERM, then SIGKILL if it is still running after ``timeout`` seconds."""
        p = self.popen
        if p.poll() is None:
            p.send_signal(signal.SIGTERM)
            try:
                await asyncio.to_thread(p.wait, timeout)
            except subprocess.TimeoutExpired:
                log.warning("%s did not stop within %.0fs of SIGTERM: killing it", self.name, timeout)
                p.kill()
                await asyncio.to_thread(p.wait)
        if p.stdout is not None:
            p.stdout.close()
        self._log.close()


# -- PostgreSQL ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Database:
    url: str
    # The embedded PostgreSQL's postmaster (None for --db): its CPU time is measured.
    postmaster_pid: int | None = None


@asynccontextmanager
async def database(db_url: str | None, workdir: Path) -> AsyncIterator[Database]:
    """A migrated wf database: ``db_url``, or an embedded PostgreSQL under ``workdir`` (stopped after)."""
    from wf import migrations
    from wf.server.embedded import EmbeddedPostgres

    if db_url:
        log.info("migrating %s", db_url)
        await asyncio.to_thread(migrations.upgrade, db_url)
        yield Database(db_url)
        return
    pg = EmbeddedPostgres(workdir / "pg")
    log.info("starting embedded PostgreSQL in %s", pg.pgdata)
    starting = asyncio.ensure_future(asyncio.to_thread(pg.start))
    try:
        # Shielded: interrupted while starting, it must finish starting to be stopped below.
        url = await asyncio.shield(starting)
        await pg.ensure_database()
        await asyncio.to_thread(migrations.upgrade, url)
        pid = int((pg.pgdata / "postmaster.pid").read_text().split()[0])
        yield Database(url, pid)
    finally:
        if not starting.done():
            await asyncio.wait([starting])
        log.info("stopping embedded PostgreSQL")
        await asyncio.to_thread(pg.stop)


@asynccontextmanager
async def workdir() -> AsyncIterator[Path]:
    """A temporary directory (short, under /tmp: PostgreSQL's socket path must stay short)."""
    path = Path(tempfile.mkdtemp(prefix="wf-bench-", dir="/tmp"))
    try:
        yield path
    finally:
        shutil.rmtree(path, ignore_errors=True)


# -- CPU time --------------------------------------------------------------------------------------

_TICK = os.sysconf("SC_CLK_TCK")


def _stat(pid: int) -> list[str]:
    """Fields of /proc/PID/stat after the command name: [state, ppid, ..., utime (11), stime,
    cutime, cstime, ...]."""
    text = Path(f"/proc/{pid}/stat").read_text()
    return text[text.rindex(")") + 2 :].split()


def cpu_seconds(pid: int, *, with_children: bool = False) -> float:
    """CPU seconds a live process has used (all its threads); with its exited, reaped children's."""
    try:
        f = _stat(pid)
    except OSError:
        return 0.0
    ticks = int(f[11]) + int(f[12]) + (int(f[13]) + int(f[14]) if with_children else 0)
    return ticks / _TICK


def postgres_cpu_seconds(postmaster_pid: int) -> float:
    """CPU seconds of a PostgreSQL cluster: the postmaster, its live children, and its exited ones."""
    total = cpu_seconds(postmaster_pid, with_children=True)
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            f = _stat(int(entry.name))
        except OSError:
            continue
        if int(f[1]) == postmaster_pid:
            total += (int(f[11]) + int(f[12])) / _TICK
    return total


# -- security (--secure) ---------------------------------------------------------------------------

SECURE_ENV = "WF_BENCH_SECURE"
"""The worker learns the stack's security from this variable: a JSON of file paths and the key."""


@dataclass(frozen=True)
class Security:
    """Mutual TLS (``tls``), ``--auth required`` (``auth``) and payload encryption (``encryption``):
    the server's certificate, and the client certificate, cluster-admin API key and AES-GCM key every
    client of the stack (the worker's and the driver's) connects with."""

    parts: tuple[str, ...]
    codec_key: str  # base64 of 32 bytes
    ca: str
    server_cert: str
    server_key: str
    client_cert: str
    client_key: str
    api_key: str

    def server_args(self) -> list[str]:
        args = []
        if "tls" in self.parts:
            args += ["--tls-cert", self.server_cert, "--tls-key", self.server_key, "--tls-client-ca", self.ca]
        if "auth" in self.parts:
            args += ["--auth", "required"]
        return args

    def connect_kwargs(self) -> dict[str, Any]:
        """``Client.connect``'s ``tls=`` and ``api_key=``."""
        from worker_sdk import TLSConfig

        kwargs: dict[str, Any] = {}
        if "tls" in self.parts:
            kwargs["tls"] = TLSConfig(
                server_root_ca_cert=Path(self.ca).read_bytes(),
                client_cert=Path(self.client_cert).read_bytes(),
                client_private_key=Path(self.client_key).read_bytes(),
                domain="localhost",
            )
        if "auth" in self.parts:
            kwargs["api_key"] = self.api_key
        if "encryption" in self.parts:
            from worker_sdk import DataConverter
            from worker_sdk.codecs import EncryptionCodec

            codec = EncryptionCodec({"bench": base64.b64decode(self.codec_key)})
            kwargs["data_converter"] = DataConverter(payload_codec=codec)
        return kwargs

    def to_env(self) -> str:
        return json.dumps(self.__dict__)

    @classmethod
    def from_env(cls) -> Security | None:
        text = os.environ.get(SECURE_ENV)
        if not text:
            return None
        fields = json.loads(text)
        return cls(**{**fields, "parts": tuple(fields["parts"])})


async def make_security(db_url: str, workdir: Path, parts: Sequence[str]) -> Security:
    """Certificates made for this run (a CA, a server's for localhost, a client's; with the tests'
    maker, ``tests/tls_certs.py``) and a cluster-admin key written to the database by ``wf operator
    api-key create --db``, as an operator bootstraps one."""
    from tests.tls_certs import make_pki

    directory = workdir / "pki"
    directory.mkdir(mode=0o700)
    pki = make_pki(directory, client_name="wf-bench-client")
    made = await asyncio.to_thread(
        subprocess.run,
        [wf_executable(), "operator", "api-key", "create", "--db", db_url, "--name", "bench",
         "--role", "cluster-admin", "-o", "json"],
        capture_output=True, text=True, timeout=START_TIMEOUT,
    )
    if made.returncode != 0:
        raise RuntimeError(f"wf operator api-key create failed: {made.stderr.strip()}")
    return Security(
        parts=tuple(parts), codec_key=base64.b64encode(os.urandom(32)).decode(), ca=str(pki.ca.cert_path),
        server_cert=str(pki.server.cert_path), server_key=str(pki.server.key_path),
        client_cert=str(pki.client.cert_path), client_key=str(pki.client.key_path),
        api_key=json.loads(made.stdout)["key"],
    )


# -- the wf server and the worker ------------------------------------------------------------------


@dataclass
class Stack:
    """A running ``wf server`` and benchmark worker; ``rpcs()`` asks the worker for its RPC counts."""

    address: str
    task_queue: str
    server: Child
    worker: Child
    connect_kwargs: dict[str, Any]
    """What every client of this stack passes to ``Client.connect`` (``--secure``: TLS and a key)."""

    async def worker_rpcs(self) -> Counter[str]:
        self.worker.check_alive()
        self.worker.popen.send_signal(signal.SIGUSR1)
        while True:
            line = await self.worker.read_line(timeout=30)
            if line.startswith("rpcs "):
                return Counter(json.loads(line[len("rpcs ") :]))

    def cpu_seconds(self) -> dict[str, float]:
        """CPU seconds used so far by the server and the worker processes."""
        return {"server": cpu_seconds(self.server.popen.pid), "worker": cpu_seconds(self.worker.popen.pid)}

    def check_alive(self) -> None:
        self.server.check_alive()
        self.worker.check_alive()

    def tails(self) -> str:
        return "\n".join(t for t in (self.server.tail(), self.worker.tail()) if t)


@asynccontextmanager
async def wf_stack(
    db_url: str, workdir: Path, server_args: Sequence[str] = (), security: Security | None = None
) -> AsyncIterator[Stack]:
    """``wf server start`` (with ``server_args``) and ``python -m bench.worker`` as subprocesses,
    ready to take work; with ``security``, over mutual TLS with an API key on every call."""
    from worker_sdk import Client

    connect_kwargs: dict[str, Any] = {}
    if security is not None:
        server_args = [*server_args, *security.server_args()]
        connect_kwargs = security.connect_kwargs()
        os.environ[SECURE_ENV] = security.to_env()  # the worker subprocess inherits it
    port = free_port()
    address = f"127.0.0.1:{port}"
    task_queue = f"bench-{uuid.uuid4().hex[:8]}"
    log.info("starting wf server on %s", address)
    server = Child(
        "wf server",
        [wf_executable(), "server", "start", "--db", db_url, "--port", str(port), "--no-migrate", *server_args],
        workdir / "server.log",
    )
    worker: Child | None = None
    try:
        try:
            client = await Client.connect(
                address, timeout=timedelta(seconds=START_TIMEOUT), wait_for_ready=True, **connect_kwargs
            )
        except Exception as exc:
            server.check_alive()
            raise RuntimeError(f"wf server did not answer: {exc}\n{server.tail()}") from exc
        await client.close()
        log.info("starting worker on task queue %s", task_queue)
        worker = Child(
            "worker",
            [sys.executable, "-m", "bench.worker", address, task_queue],
            workdir / "worker.log",
            pipe_stdout=True,
        )
        line = await worker.read_line(timeout=START_TIMEOUT)
        if line != "ready":
            raise RuntimeError(f"worker said {line!r} instead of 'ready'\n{worker.tail()}")
        yield Stack(address, task_queue, server, worker, connect_kwargs)
    except BaseException:
        for child in (worker, server):
            if child is not None and child.tail():
                print(f"--- last lines of the {child.name} log ---\n{child.tail()}", file=sys.stderr)
        raise
    finally:
        if worker is not None:
            log.info("stopping worker")
            await worker.stop()
        log.info("stopping wf server")
        await server.stop()
