"""The committed wire modules are exactly what ``make proto`` generates from ``proto/``."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def test_generated_modules_match_the_proto_files(tmp_path: Path) -> None:
    protos = sorted(str(p.relative_to(ROOT / "proto")) for p in (ROOT / "proto" / "wf" / "v1").glob("*.proto"))
    subprocess.run(
        [sys.executable, "-m", "grpc_tools.protoc", "-I", ".", f"--python_out={tmp_path}",
         f"--pyi_out={tmp_path}", f"--grpc_python_out={tmp_path}", *protos],
        cwd=ROOT / "proto",
        check=True,
    )
    generated = {p.name: p.read_bytes() for p in (tmp_path / "wf" / "v1").iterdir()}
    committed = {p.name: p.read_bytes() for p in (ROOT / "wf" / "v1").iterdir() if p.suffix in (".py", ".pyi")}
    committed.pop("__init__.py")
    assert sorted(generated) == sorted(committed), "run `make proto` and commit the result"
    stale = [name for name in generated if generated[name] != committed[name]]
    assert not stale, f"these generated modules are out of date, run `make proto`: {stale}"
