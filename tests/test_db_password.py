"""The database password: never required on the command line, and a warning when it is there.

A password in ``--db`` shows in ``ps`` (and /proc/PID/cmdline) to every user of the machine.
``wf server start`` and ``wf db migrate`` take the URL from ``WF_DB_URL`` or the password from a file
(``--db-password-file``), and warn when a password was typed on the command line. These run the real
console script, as an operator does.
"""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

from tests.helpers import free_port, wf_executable

WARNING = "shows in `ps`"


def _wf(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    environment = {k: v for k, v in os.environ.items() if not k.startswith("WF_")}
    environment.update(env or {})
    return subprocess.run([wf_executable(), *args], capture_output=True, text=True, timeout=60, env=environment)


def test_a_password_in_db_on_the_command_line_is_warned_about() -> None:
    url = f"postgresql://wf:s3cret-pw@127.0.0.1:{free_port()}/wf"  # nothing listens: start fails after the check
    done = _wf("server", "start", "--db", url)
    assert done.returncode == 1, done.stderr
    assert WARNING in done.stderr and "WF_DB_URL" in done.stderr and "--db-password-file" in done.stderr
    assert "s3cret-pw" not in done.stderr + done.stdout


def test_a_password_in_wf_db_url_or_a_file_is_not_warned_about(db_url: str, tmp_path: Path) -> None:
    url = f"postgresql://wf:s3cret-pw@127.0.0.1:{free_port()}/wf"
    from_env = _wf("server", "start", env={"WF_DB_URL": url})
    assert from_env.returncode == 1, from_env.stderr
    assert WARNING not in from_env.stderr
    # The session's PostgreSQL trusts local connections: the password from the file is sent and ignored.
    password = tmp_path / "db-password"
    password.write_text("s3cret-pw\n")
    migrated = _wf("db", "migrate", "--db", db_url, "--db-password-file", str(password))
    assert migrated.returncode == 0, migrated.stderr
    assert "up to date" in migrated.stdout
    assert WARNING not in migrated.stderr


def test_a_password_both_in_db_and_in_a_file_is_refused(tmp_path: Path) -> None:
    password = tmp_path / "db-password"
    password.write_text("other\n")
    done = _wf("db", "migrate", "--db", "postgresql://wf:s3cret-pw@127.0.0.1:1/wf", "--db-password-file", str(password))
    assert done.returncode == 2
    assert "use one" in done.stderr
