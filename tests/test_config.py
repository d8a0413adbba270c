"""Configuration comes from one description: every setting has its flag and environment variable,
every limit's error names a flag ``wf server start`` has, and a variable reaches the running server."""

from __future__ import annotations

import asyncio
import os
import re
import subprocess
from datetime import timedelta
from pathlib import Path

import grpc
import pytest

from tests.helpers import new_id, rpc_error, start_request, wf_executable, wf_server_process
from wf.history.limits import Limits, settings
from wf.server.cli import config_from_options, start, start_dev
from wf.server.config import ServerConfig
from wf.v1 import service_pb2_grpc

ROOT = Path(__file__).resolve().parent.parent


def server_help(command: str) -> str:
    done = subprocess.run(
        [wf_executable(), "server", command, "--help"], capture_output=True, text=True, timeout=60, check=True
    )
    return done.stdout


def test_every_limit_names_a_flag_that_wf_server_start_has() -> None:
    helps = {command: server_help(command) for command in ("start", "start-dev")}
    limits = Limits()
    names = [f.name for f, _ in settings(Limits)]
    assert names == [f for f in Limits.__dataclass_fields__], "every limit is a setting with a flag"
    for name in names:
        message = limits.describe(name)
        flags = re.findall(r"`(--[a-z-]+)`", message)
        assert len(flags) == 1, message
        for command, text in helps.items():
            assert flags[0] in text, f"`wf server {command}` has no {flags[0]} (named by: {message})"
    # The one that used to name a flag which did not exist.
    assert "`--max-updates-per-run`" in limits.describe("max_updates_per_run")


def test_the_server_names_only_limits_that_describe_knows() -> None:
    # Every `describe('<limit>')` in the server's code names a described limit (a typo would be a
    # KeyError in the middle of refusing a request).
    described = {f.name for f, _ in settings(Limits)}
    named = set()
    for folder in ("history", "server", "matching"):
        for path in (ROOT / folder).rglob("*.py"):
            named |= set(re.findall(r"""describe\(\s*["'](\w+)["']\s*\)""", path.read_text()))
    assert named, "no limit is described anywhere: the pattern is out of date"
    assert named <= described, named - described


def test_every_setting_has_one_flag_and_one_variable() -> None:
    every = settings(ServerConfig) + settings(Limits)
    flags = [s.flag for _, s in every]
    envs = [s.env for _, s in every]
    assert len(set(flags)) == len(flags) and len(set(envs)) == len(envs)
    assert all(e.startswith("WF_") for e in envs)
    # The names users already type keep working.
    text = server_help("start")
    for flag in ("--db", "--ip", "--port", "--long-poll-timeout", "--db-pool-size", "--otel-console", "--migrate"):
        assert flag in text
    assert "WF_DB_URL" in text


def parse(command: object, args: list[str]) -> ServerConfig:
    """The configuration ``wf server <command> ARGS`` would run with (the environment included)."""
    ctx = command.make_context("wf server", args)  # type: ignore[attr-defined]
    return config_from_options({"db_url": "postgresql://embedded/wf", **ctx.params})


def test_flags_then_variables_then_defaults(monkeypatch: pytest.MonkeyPatch) -> None:
    assert parse(start, ["--db", "postgresql://a/b"]) == ServerConfig(db_url="postgresql://a/b")
    monkeypatch.setenv("WF_DB_URL", "postgresql://from-env/wf")
    monkeypatch.setenv("WF_MAX_UPDATES_PER_RUN", "17")
    monkeypatch.setenv("WF_WORKFLOW_TASK_RETRY_CAP", "2.5")
    monkeypatch.setenv("WF_LONG_POLL_TIMEOUT", "5")
    monkeypatch.setenv("WF_OTEL_CONSOLE", "1")
    config = parse(start, ["--long-poll-timeout", "7"])
    assert config.db_url == "postgresql://from-env/wf"
    assert config.limits.max_updates_per_run == 17
    assert config.limits.workflow_task_retry_cap == timedelta(seconds=2.5)
    assert config.long_poll_timeout == 7.0  # the flag wins over the variable
    assert config.otel_console is True
    assert parse(start_dev, ["--ip", "0.0.0.0"]).host == "0.0.0.0"


async def test_an_environment_variable_reaches_the_running_server(db_url: str, task_queue: str) -> None:
    async with wf_server_process(db_url, args=["--no-migrate"], env={"WF_MAX_ID_LENGTH": "20"}) as proc:
        async with grpc.aio.insecure_channel(proc.address) as channel:
            stub = service_pb2_grpc.WorkflowServiceStub(channel)
            request = start_request("x" * 21, task_queue)
            err = await rpc_error(stub.StartWorkflowExecution(request, timeout=10))
            assert err.code() == grpc.StatusCode.INVALID_ARGUMENT
            assert "20" in (err.details() or "") and "--max-id-length" in (err.details() or "")
            # Within the limit the same server starts it.
            await stub.StartWorkflowExecution(start_request(new_id()[:20], task_queue), timeout=10)


async def test_a_bad_variable_is_a_usage_error_naming_it() -> None:
    cmd = [wf_executable(), "server", "start", "--db", "postgresql://wf@127.0.0.1:1/wf"]
    done = await asyncio.to_thread(
        subprocess.run, cmd, capture_output=True, text=True, timeout=30, env={**os.environ, "WF_MAX_PAYLOAD_BYTES": "0"}
    )
    assert done.returncode == 2
    assert "--max-payload-bytes" in done.stderr and "x>=1" in done.stderr
