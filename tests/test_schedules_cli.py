"""``wf schedule …`` as users run it: the real console script in a subprocess against the session
server, with a worker running the scheduled workflow in the test process; ``-o json`` parsed."""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
import pytest_asyncio

from tests.helpers import assert_eventually
from wf.server.app import Server
from worker_sdk import Client, Worker, workflow
from worker_sdk._cli.schedule_cmds import calendar_to_cron, fmt_duration

WF = str(Path(sys.executable).parent / "wf")


@workflow.defn
class CliScheduled:
    @workflow.run
    async def run(self, name: str) -> str:
        return f"hello {name}"


@pytest_asyncio.fixture(loop_scope="session")
async def worker(client: Client, task_queue: str) -> AsyncIterator[Worker]:
    async with Worker(client, task_queue=task_queue, workflows=[CliScheduled]) as w:
        yield w


async def wf(
    *args: str, address: str | None = None, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    """``wf schedule ARGS --address ADDRESS``, without blocking the event loop the server runs on."""
    cmd = [WF, "schedule", *args, *(["--address", address] if address else [])]
    environ = {k: v for k, v in os.environ.items() if not k.startswith("WF_")} | (env or {})
    return await asyncio.to_thread(subprocess.run, cmd, capture_output=True, text=True, timeout=30, env=environ)


def sid(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:8]}"


# -- parsing, without a server ----------------------------------------------------------------------


def test_calendar_json_becomes_temporals_seven_field_cron() -> None:
    assert calendar_to_cron('{"dayOfWeek": "Mon-Fri", "hour": "9", "minute": "30"}') == "0 30 9 * * Mon-Fri *"
    assert calendar_to_cron("{}") == "0 0 0 * * * *"
    assert calendar_to_cron('{"day_of_month": 1, "month": "jan,jul", "year": "2027", "comment": "twice"}') == (
        "0 0 0 1 jan,jul * 2027 # twice")
    for bad, why in (("[1]", "not a JSON object"), ("{", "not JSON"), ('{"hours": "1"}', "unknown field 'hours'"),
                     ('{"hour": "1 2"}', "hour must be one field")):
        with pytest.raises(ValueError, match=why):
            calendar_to_cron(bad)


def test_durations_print_as_temporals_cli_does() -> None:
    assert fmt_duration(timedelta(days=365)) == "365d"
    assert fmt_duration(timedelta(hours=1, minutes=15)) == "1h 15m"
    assert fmt_duration(timedelta(seconds=10)) == "10s"
    assert fmt_duration(timedelta(seconds=0.5)) == "0.5s"


async def test_bad_flags_are_usage_errors_naming_the_flag() -> None:
    base = ["create", "-s", "x", "-w", "x", "--type", "T", "-t", "q"]
    for extra, flag in (
        (["--interval", "1h/"], "--interval"),
        (["--interval", "soon"], "--interval"),
        (["--calendar", '{"hours": "9"}'], "--calendar"),
        (["--start-time", "yesterday"], "--start-time"),
        (["--overlap-policy", "Sometimes"], "--overlap-policy"),
        (["--input", "not json"], "--input"),
        (["--catchup-window", "0s"], "--catchup-window"),
    ):
        done = await wf(*base, *extra)
        assert done.returncode == 2, extra
        assert flag in done.stderr, (extra, done.stderr)
    done = await wf("toggle", "-s", "x")
    assert done.returncode == 2 and "--pause or --unpause" in done.stderr
    done = await wf("backfill", "-s", "x", "--start-time", "2026-01-02T00:00:00Z", "--end-time", "2026-01-01T00:00:00Z")
    assert done.returncode == 2 and "--end-time" in done.stderr


# -- against the server -----------------------------------------------------------------------------


async def test_schedule_commands(server: Server, client: Client, worker: Worker, task_queue: str) -> None:
    s, w = sid("cli-sched"), sid("cli-run")
    created = await wf(
        "create", "-s", s, "-w", w, "--type", "CliScheduled", "-t", task_queue, "-i", '"cli"',
        "--cron", "0 12 * * MON-FRI", "--interval", "1h/15m", "--calendar", '{"dayOfMonth": "1", "hour": "6"}',
        "--overlap-policy", "BufferOne", "--catchup-window", "10m", "--notes", "made by the cli",
        "--schedule-memo", "owner=ops", "-o", "json", address=server.address,
    )
    assert created.returncode == 0, created.stderr
    assert json.loads(created.stdout) == {"scheduleId": s}
    again = await wf("create", "-s", s, "-w", w, "--type", "CliScheduled", "-t", task_queue, "--interval", "1h",
                     address=server.address)
    assert again.returncode == 1 and again.stderr.startswith("error: ") and "ALREADY_EXISTS" in again.stderr

    # describe -o json: the wire's description, the spec canonical (no cron strings).
    described = await wf("describe", "-s", s, "-o", "json", address=server.address)
    assert described.returncode == 0, described.stderr
    d = json.loads(described.stdout)
    assert d["scheduleId"] == s
    spec = d["schedule"]["spec"]
    assert "cronString" not in spec and len(spec["structuredCalendar"]) == 2
    assert spec["interval"] == [{"interval": "3600s", "phase": "900s"}]
    assert d["schedule"]["policies"]["overlapPolicy"] == "SCHEDULE_OVERLAP_POLICY_BUFFER_ONE"
    assert d["schedule"]["policies"]["catchupWindow"] == "600s"
    assert d["schedule"]["state"]["notes"] == "made by the cli"
    assert d["schedule"]["action"]["startWorkflow"]["workflowId"] == w
    assert len(d["info"]["futureActionTimes"]) == 10

    # describe for people: the next times in the local zone (TZ) and in UTC.
    shown = await wf("describe", "-s", s, address=server.address, env={"TZ": "Asia/Kolkata"})
    assert shown.returncode == 0, shown.stderr
    out = shown.stdout
    assert "Schedule ID" in out and s in out and "BufferOne" in out and "10m" in out and "made by the cli" in out
    assert "every 1h offset 15m" in out and '"dayOfWeek": "1-5"' in out and '"hour": "12"' in out
    assert "Next action times" in out and "Local time" in out and "UTC" in out
    first_next = datetime.fromisoformat(d["info"]["futureActionTimes"][0].replace("Z", "+00:00"))
    assert first_next.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S") in out
    assert first_next.astimezone(ZoneInfo("Asia/Kolkata")).strftime("%Y-%m-%dT%H:%M:%S+05:30") in out

    # toggle, trigger while paused (it stays paused), backfill.
    paused = await wf("toggle", "-s", s, "--pause", "--reason", "maintenance", address=server.address)
    assert paused.returncode == 0, paused.stderr
    triggered = await wf("trigger", "-s", s, "--overlap-policy", "AllowAll", address=server.address)
    assert triggered.returncode == 0 and "Trigger request sent" in triggered.stdout
    backfilled = await wf("backfill", "-s", s, "--start-time", "2026-11-02T00:00:00Z",
                          "--end-time", "2026-11-02T02:15:00Z", "--overlap-policy", "AllowAll",
                          address=server.address)
    assert backfilled.returncode == 0 and "Backfill request sent" in backfilled.stdout
    for t in ("2026-11-02T00:15:00Z", "2026-11-02T01:15:00Z", "2026-11-02T02:15:00Z"):
        assert await client.get_workflow_handle(f"{w}-{t}").result() == "hello cli"

    async def all_taken() -> dict[str, Any]:
        done = await wf("describe", "-s", s, "-o", "json", address=server.address)
        d = json.loads(done.stdout)
        assert int(d["info"].get("actionCount", 0)) == 4, d["info"]
        assert not d["info"].get("runningWorkflows"), d["info"]
        return d

    d = await assert_eventually(all_taken, timeout=20)
    assert d["schedule"]["state"]["paused"] is True and d["schedule"]["state"]["notes"] == "maintenance"
    shown = await wf("describe", "-s", s, address=server.address)
    assert "Recent actions" in shown.stdout and f"{w}-2026-11-02T02:15:00Z" in shown.stdout
    assert "4 taken" in shown.stdout

    # list-matching-times: the spec's times in a window.
    matching = await wf("list-matching-times", "-s", s, "--start-time", "2026-11-02T00:00:00Z",
                        "--end-time", "2026-11-02T03:00:00Z", "-o", "json", address=server.address)
    assert matching.returncode == 0, matching.stderr
    assert json.loads(matching.stdout)["startTime"] == [
        "2026-11-02T00:15:00.000Z", "2026-11-02T01:15:00.000Z", "2026-11-02T02:15:00.000Z"]

    # list: the schedule is there, with what it starts and its state.
    async def listed() -> None:
        done = await wf("list", "-o", "json", address=server.address)
        assert done.returncode == 0, done.stderr
        entries = {e["scheduleId"]: e for e in json.loads(done.stdout)}
        assert entries[s]["info"]["workflowType"]["name"] == "CliScheduled"
        assert entries[s]["info"]["paused"] is True

    await assert_eventually(listed)
    table = await wf("list", address=server.address)
    assert s in table.stdout and "CliScheduled" in table.stdout

    # update replaces the whole schedule with the flags (unpaused, an interval only).
    updated = await wf("update", "-s", s, "-w", w, "--type", "CliScheduled", "-t", task_queue, "-i", '"again"',
                       "--interval", "1d", address=server.address)
    assert updated.returncode == 0, updated.stderr
    d = json.loads((await wf("describe", "-s", s, "-o", "json", address=server.address)).stdout)
    assert d["schedule"]["spec"]["interval"] == [{"interval": "86400s"}]
    assert "structuredCalendar" not in d["schedule"]["spec"]
    assert not d["schedule"]["state"].get("paused") and int(d["info"]["actionCount"]) == 4

    deleted = await wf("delete", "-s", s, address=server.address)
    assert deleted.returncode == 0 and "Schedule deleted" in deleted.stdout
    gone = await wf("describe", "-s", s, address=server.address)
    assert gone.returncode == 1 and gone.stderr.startswith("error: ") and "NOT_FOUND" in gone.stderr


async def test_a_refused_schedule_is_reported_as_other_commands_do(server: Server, task_queue: str) -> None:
    s = sid("cli-bad")
    done = await wf("create", "-s", s, "-w", "w", "--type", "CliScheduled", "-t", task_queue,
                    "--cron", "not a cron", address=server.address)
    assert done.returncode == 1
    assert done.stderr.startswith("error: ") and "(INVALID_ARGUMENT)" in done.stderr and "cron" in done.stderr
    assert "Traceback" not in done.stderr
    gone = await wf("describe", "-s", s, address=server.address)
    assert gone.returncode == 1 and "NOT_FOUND" in gone.stderr
