"""``wf operator api-key`` and ``--api-key`` / ``WF_API_KEY`` against a server run with ``--auth required``."""

from __future__ import annotations

import asyncio
import json
import os
import subprocess

from tests.auth_helpers import auth_server, scratch_database
from tests.helpers import assert_eventually, wf_executable, wf_server_process

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
