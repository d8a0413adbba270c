"""``wf operator api-key`` and ``--api-key`` / ``WF_API_KEY`` against a server run with ``--auth required``."""

from __future__ import annotations

import asyncio
import json
import os
import shutil
import subprocess
import tempfile
from pathlib import Path

from tests.auth_helpers import auth_server
from tests.helpers import assert_eventually, scratch_database, wf_executable, wf_server_process

WF = wf_executable()


async def wf(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    """``wf ARGS`` with none of the caller's ``WF_`` variables but ``env``."""
    environ = {k: v for k, v in os.environ.items() if not k.startswith("WF_")} | (env or {})
    return await asyncio.to_thread(subprocess.run, [WF, *args], capture_output=True, text=True, timeout=60,
                                   env=environ)


async def test_the_first_admin_key_from_the_database_then_keys_made_listed_used_and_revoked(db_url: str) -> None:
    async with scratch_database(db_url) as url:
        made = await wf("operator", "api-key", "create", "--db", url, "--name", "root", "--role", "cluster-admin",
                        "-o", "json")
        assert made.returncode == 0, made.stderr
        root = json.loads(made.stdout)
        assert (root["name"], root["role"], root["namespace"], root["createdBy"]) == (
            "root", "cluster-admin", "", "database")
        root_key = root["key"]
        # A name is one key's for good: a second "root" would pass, in the audit log, for the first.
        again = await wf("operator", "api-key", "create", "--db", url, "--name", "root", "--role", "reader",
                         "-n", "default")
        assert again.returncode == 1 and "an API key named 'root' exists already" in again.stderr, again.stderr
        assert "Traceback" not in again.stderr
        async with auth_server(url) as server:
            assert server.bootstrap_key is None  # a key exists: nothing printed at start
            address = ["--address", server.address]

            refused = await wf("workflow", "list", *address)
            assert refused.returncode == 1 and "UNAUTHENTICATED" in refused.stderr

            reader = await wf("operator", "api-key", "create", *address, "--api-key", root_key,
                              "--name", "ci-reader", "--role", "reader", "-n", "default", "--expires", "30d")
            assert reader.returncode == 0, reader.stderr
            reader_key = reader.stdout.split()[0]
            assert reader_key.startswith("wf_") and "will not be shown again" in reader.stdout

            listed = await wf("workflow", "list", *address, env={"WF_API_KEY": reader_key})
            assert listed.returncode == 0, listed.stderr
            denied = await wf("workflow", "terminate", *address, "-w", "nope", env={"WF_API_KEY": reader_key})
            assert denied.returncode == 1
            assert "TerminateWorkflowExecution needs role writer in namespace 'default'" in denied.stderr
            assert reader_key.split("_", 2)[2] not in denied.stderr

            keys = await wf("operator", "api-key", "list", *address, "--all", "-o", "json",
                            env={"WF_API_KEY": root_key})
            assert keys.returncode == 0, keys.stderr
            rows = {r["name"]: r for r in json.loads(keys.stdout)}
            assert rows["ci-reader"]["role"] == "reader" and rows["ci-reader"]["expires"] is not None
            assert reader_key.split("_", 2)[2] not in keys.stdout and root_key.split("_", 2)[2] not in keys.stdout
            table = await wf("operator", "api-key", "list", *address, "--all", env={"WF_API_KEY": root_key})
            assert "ci-reader" in table.stdout

            revoked = await wf("operator", "api-key", "revoke", rows["ci-reader"]["keyId"], *address,
                               env={"WF_API_KEY": root_key})
            assert revoked.returncode == 0, revoked.stderr
            after = await wf("workflow", "list", *address, env={"WF_API_KEY": reader_key})
            assert after.returncode == 1 and "UNAUTHENTICATED" in after.stderr


async def test_wf_server_start_with_auth_required_prints_the_first_key_once(db_url: str) -> None:
    async with scratch_database(db_url) as url:
        async with wf_server_process(url, args=["--auth", "required"]) as proc:
            key = await assert_eventually(lambda: _printed_key(proc.output()))
            secret = key.split("_", 2)[2]
            address = ["--address", proc.address]
            refused = await wf("workflow", "list", *address)
            assert "UNAUTHENTICATED" in refused.stderr
            who = await wf("workflow", "list", *address, "--api-key", key)
            assert who.returncode == 0, who.stderr
            bad = await wf("workflow", "list", *address, "--api-key", key[:-4] + "xxxx")
            assert "UNAUTHENTICATED" in bad.stderr and secret[:-4] not in bad.stderr
            await proc.terminate()
            output = proc.output()
            assert output.count(secret) == 1 and "will not be shown again" in output  # the one print, no log line
        async with wf_server_process(url, args=["--auth", "required"]) as again:
            await again.terminate()
            assert "wf_" not in again.output()


def _printed_key(output: str) -> str:
    keys = [word for word in output.split() if word.startswith("wf_") and word.count("_") >= 2]
    assert keys, "no key printed yet"
    return keys[0]


async def test_the_first_admin_key_from_a_database_no_server_has_started_on(db_url: str) -> None:
    """The README's order: the key before the first start, on a database with no schema yet."""
    async with scratch_database(db_url, migrated=False) as url:
        made = await wf("operator", "api-key", "create", "--db", url, "--name", "root", "--role", "cluster-admin",
                        "-o", "json")
        assert made.returncode == 0, made.stderr
        root_key = json.loads(made.stdout)["key"]
        async with auth_server(url) as server:
            listed = await wf("workflow", "list", "--address", server.address, "--api-key", root_key)
            assert listed.returncode == 0, listed.stderr
    # The password from a file, as `wf server start --db-password-file` takes it, never on the command line.
    async with scratch_database(db_url, migrated=False) as url:
        password_file = Path(tempfile.mkdtemp(prefix="wf-auth-")) / "password"
        password_file.write_text("not-on-the-command-line\n")
        from_file = await wf("operator", "api-key", "create", "--db", url, "--db-password-file", str(password_file),
                             "--name", "root", "--role", "cluster-admin")
        assert from_file.returncode == 0, from_file.stderr
        shutil.rmtree(password_file.parent)
    alone = await wf("operator", "api-key", "create", "--db-password-file", "/etc/hostname", "--name", "x",
                     "--role", "reader")
    assert alone.returncode == 2 and "--db-password-file goes with --db" in alone.stderr
    unreachable = await wf("operator", "api-key", "create", "--db", "postgresql://wf:hunter2@127.0.0.1:1/wf",
                           "--name", "root", "--role", "cluster-admin")
    assert unreachable.returncode == 1 and "Traceback" not in unreachable.stderr
    assert "cannot reach the database" in unreachable.stderr and "hunter2" not in unreachable.stderr


async def test_refusals_and_mistakes_are_one_line_with_a_hint_never_a_traceback(db_url: str) -> None:
    async with scratch_database(db_url) as url:
        async with auth_server(url) as server:
            address = ["--address", server.address]
            assert server.bootstrap_key is not None  # the first start on a database without keys prints one
            root_key = server.bootstrap_key
            reader = await wf("operator", "api-key", "create", *address, "--api-key", root_key, "--name", "r",
                              "--role", "reader", "-o", "json")
            reader_key = json.loads(reader.stdout)["key"]

            no_key = await wf("workflow", "list", *address)
            assert no_key.returncode == 1 and "UNAUTHENTICATED" in no_key.stderr
            # The server was reached and said no: the hint is about credentials, not about starting one.
            assert "cannot reach" not in no_key.stderr and "start-dev" not in no_key.stderr
            assert "--api-key" in no_key.stderr and "WF_API_KEY" in no_key.stderr

            unknown = await wf("operator", "api-key", "revoke", "0000000000000000", *address, "--api-key", root_key)
            assert unknown.returncode == 1 and "Traceback" not in unknown.stderr
            assert unknown.stderr.startswith("error: no API key with id '0000000000000000' (NOT_FOUND)")

            denied = await wf("operator", "api-key", "list", *address, "--api-key", reader_key)
            assert denied.returncode == 1 and "Traceback" not in denied.stderr
            assert "plaintext" not in denied.stderr  # a key sent to this machine crosses no network
            assert "ListApiKeys needs role admin in namespace 'default' (PERMISSION_DENIED)" in denied.stderr

            past = await wf("operator", "api-key", "create", *address, "--api-key", root_key, "--name", "p",
                            "--role", "reader", "--expires", "0d")
            assert past.returncode == 2 and "Traceback" not in past.stderr and "--expires" in past.stderr
            keys = await wf("operator", "api-key", "list", *address, "--api-key", root_key, "-o", "json")
            assert [k["name"] for k in json.loads(keys.stdout)] == ["r"]  # the refused create made nothing


async def test_a_key_sent_without_tls_to_another_machine_is_warned_of() -> None:
    """The key is a bearer secret: over plaintext gRPC anyone on the way can replay it."""
    sent = await wf("workflow", "list", "--address", "192.0.2.1:7233", env={"WF_API_KEY": "wf_0123abcd_s3cret"})
    assert sent.returncode == 1
    assert "the API key is sent to 192.0.2.1:7233 over plaintext gRPC" in sent.stderr and "--tls" in sent.stderr
    assert "s3cret" not in sent.stderr
    without_key = await wf("workflow", "list", "--address", "192.0.2.1:7233")
    assert "plaintext gRPC" not in without_key.stderr


async def test_a_revoked_key_still_in_use_is_named_in_the_audit_log_by_its_id(db_url: str) -> None:
    async with scratch_database(db_url) as url:
        async with auth_server(url) as server:
            address = ["--address", server.address]
            assert server.bootstrap_key is not None
            root = {"WF_API_KEY": server.bootstrap_key}
            made = await wf("operator", "api-key", "create", *address, "--name", "leaked", "--role", "writer",
                            "-o", "json", env=root)
            leaked = json.loads(made.stdout)
            await wf("operator", "api-key", "revoke", leaked["keyId"], *address, env=root)
            refused = await wf("workflow", "list", *address, env={"WF_API_KEY": leaked["key"]})
            assert "UNAUTHENTICATED" in refused.stderr

            async def line() -> dict[str, str]:
                listed = await wf("operator", "audit", "list", *address, "--all-namespaces", "-o", "json", env=root)
                lines = [e for e in json.loads(listed.stdout) if e["status"] == "UNAUTHENTICATED"]
                assert lines, "not written yet"
                return dict(lines[0])

            found = await assert_eventually(line)
            assert (found["principal"], found["principalKind"]) == (f"wf_{leaked['keyId']}_…", "api_key")
            secret = leaked["key"].split("_", 2)[2]
            listed = await wf("operator", "audit", "list", *address, "--all-namespaces", "-o", "json", env=root)
            assert secret not in listed.stdout
