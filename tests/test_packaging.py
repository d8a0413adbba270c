"""What ships beside the code: docker-compose.yml and its Dockerfile, the CI entry point, the README.

No Docker engine runs where the tests run: ``docker-compose config`` validates the file without one,
and the commands in it are checked to be the ``wf`` commands the rest of the suite runs.
"""

from __future__ import annotations

import asyncio
import json
import os
import re
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

from tests.helpers import free_port
from wf.server.app import Server

ROOT = Path(__file__).resolve().parent.parent
WF_START = "wf server start --ip 0.0.0.0 --port 7233"
WF_DB_URL = "postgresql://wf:wf@postgres:5432/wf"


def compose_service(name: str) -> str:
    """The text of one top-level service block of docker-compose.yml."""
    text = (ROOT / "docker-compose.yml").read_text()
    match = re.search(rf"^  {name}:\n((?:    .*\n|\s*\n)*)", text, re.MULTILINE)
    assert match, f"docker-compose.yml has no service {name!r}"
    return match.group(1)


def test_docker_compose_config_is_valid() -> None:
    compose = shutil.which("docker-compose")
    if compose is None:
        pytest.skip("docker-compose is not installed (Debian: apt-get install docker-compose)")
    result = subprocess.run(
        [compose, "config", "-q"], cwd=ROOT, capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0, result.stderr


def test_docker_compose_runs_wf_server_start_on_postgres() -> None:
    wf = compose_service("wf")
    assert f"command: {WF_START}" in wf
    # The URL, password included, comes from the environment: never on a command line (`ps` shows those).
    assert f"WF_DB_URL: {WF_DB_URL}" in wf
    assert "--db" not in wf
    assert re.search(r"build: \.$", wf, re.MULTILINE)
    assert re.search(r"condition: service_healthy", wf)
    assert '"7233:7233"' in wf

    postgres = compose_service("postgres")
    assert "image: postgres:16" in postgres
    for var in ("POSTGRES_USER", "POSTGRES_PASSWORD", "POSTGRES_DB"):
        assert f"{var}: wf" in postgres
    assert "pg_isready" in postgres


def compose_health_check() -> str:
    """The Python the wf service's health check runs (its folded ``>-`` block, joined as YAML does)."""
    wf = compose_service("wf")
    match = re.search(r"healthcheck:\n\s+test:\n((?:\s+- .*\n)+?)\s+- >-\n((?:\s{10}.*\n)+)", wf)
    assert match, "the wf service has no health check running Python"
    assert [line.strip() for line in match.group(1).splitlines()] == ["- CMD", "- python", "- -c"]
    return " ".join(line.strip() for line in match.group(2).splitlines())


async def test_the_compose_health_check_asks_grpc_health(server: Server) -> None:
    """The health check's own code, run against a serving wf server, passes; against a port where
    nothing listens it fails."""
    code = compose_health_check()
    assert "localhost:7233" in code

    async def run(address: str) -> int:
        proc = await asyncio.create_subprocess_exec(
            sys.executable, "-c", code.replace("localhost:7233", address),
            stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.DEVNULL,
        )
        return await asyncio.wait_for(proc.wait(), 30)

    assert await run(server.address) == 0
    assert await run(f"127.0.0.1:{free_port()}") != 0


def test_dockerfile_runs_as_a_user_without_the_embedded_postgres() -> None:
    dockerfile = (ROOT / "Dockerfile").read_text()
    users = re.findall(r"^USER (\S+)$", dockerfile, re.MULTILINE)
    assert users and users[-1] not in ("root", "0"), "the image runs as root"
    installs = re.findall(r"^RUN pip install .*$", dockerfile, re.MULTILINE)
    assert installs and all("dev" not in line and "embedded" not in line for line in installs)
    # The server extra itself does not pull the embedded PostgreSQL in.
    pyproject = tomllib.loads((ROOT / "pyproject.toml").read_text())
    server_extra = pyproject["project"]["optional-dependencies"]["server"]
    assert not [r for r in server_extra if "embedded" in r or "[dev" in r], server_extra


def test_dockerfile_installs_the_package_and_starts_the_same_server() -> None:
    dockerfile = (ROOT / "Dockerfile").read_text()
    assert "FROM python:3.11-slim" in dockerfile
    assert re.search(r"^RUN pip install .* '\.\[server\]'$", dockerfile, re.MULTILINE)
    cmd = re.search(r"^CMD (\[.*\])$", dockerfile, re.MULTILINE)
    assert cmd, "the Dockerfile has no CMD"
    assert " ".join(json.loads(cmd.group(1))) == WF_START
    ignored = (ROOT / ".dockerignore").read_text().split()
    assert {".venv", ".git", "__pycache__"} <= set(ignored)


def test_installing_prints_no_deprecation_warning(tmp_path: Path) -> None:
    """``pip install -e .`` reads pyproject.toml through setuptools, which warns of every deprecated
    form in it (a license table, say): none may be left. (``--dry-run``: the metadata is built, which
    is where those warnings come from, and nothing is installed.)"""
    done = subprocess.run(
        [sys.executable, "-m", "pip", "install", "--dry-run", "--no-deps", "-v", "-e", str(ROOT)],
        cwd=tmp_path, capture_output=True, text=True, timeout=300,
    )
    assert done.returncode == 0, done.stderr
    output = done.stdout + done.stderr
    assert "Preparing editable metadata" in output or "Getting requirements to build editable" in output, output
    warned = [line for line in output.splitlines() if re.search(r"deprecat|BuildBackendWarning", line, re.I)]
    assert not warned, "\n".join(warned)


def test_ci_runs_the_readme_test_command() -> None:
    readme = (ROOT / "README.md").read_text()
    commands = [line for line in readme.splitlines() if line.startswith("make ") and "test" in line]
    assert commands == ["make test"], commands
    ci = ROOT / ".ci" / "run"
    assert os.access(ci, os.X_OK), ".ci/run is not executable"
    lines = [line for line in ci.read_text().splitlines() if line.strip() and not line.startswith("#")]
    assert lines[-1] == "make test"
