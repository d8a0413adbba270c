"""The benchmark harness runs end to end: each workload, tiny, as `python -m bench` in a subprocess.

This checks that the harness works (valid JSON, the expected figures, no error, nothing left
running), not any figure's value. Each invocation starts its own embedded PostgreSQL, wf server and
worker, so the suite's own PostgreSQL is not involved.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

REPO = Path(__file__).resolve().parent.parent
QUICK = ["--runs", "1", "--seconds", "0.3", "--settle", "0"]


def run_bench(*args: str) -> tuple[int, dict[str, Any], str]:
    proc = subprocess.run(
        [sys.executable, "-m", "bench", *args],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=90,
        env={**os.environ, "PYTHONPATH": str(REPO)},
    )
    lines = proc.stdout.strip().splitlines()
    assert len(lines) == 1, f"expected one JSON line on stdout, got {proc.stdout!r}\nstderr:\n{proc.stderr}"
    return proc.returncode, json.loads(lines[0]), proc.stderr


def assert_nothing_left(stderr: str) -> None:
    """The temporary directory is gone and no process still runs from it or on its task queue."""
    workdirs = set(re.findall(r"(/tmp/wf-bench-[^/\s]+)", stderr))
    queues = set(re.findall(r"task queue (bench-[0-9a-f]+)", stderr))
    for d in workdirs:
        assert not Path(d).exists(), f"{d} was not removed"
    marks = workdirs | queues
    for proc in Path("/proc").iterdir():
        if not proc.name.isdigit():
            continue
        try:
            cmdline = (proc / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
        except OSError:
            continue
        leftover = [m for m in marks if m in cmdline]
        assert not leftover, f"process {proc.name} still runs: {cmdline}"


def assert_ok(code: int, result: dict[str, Any], stderr: str, keys: set[str]) -> None:
    assert code == 0 and "error" not in result, f"{result}\nstderr:\n{stderr[-3000:]}"
    missing = keys - result.keys()
    assert not missing, f"missing {sorted(missing)} in {result}"
    assert_nothing_left(stderr)


COUNTS = {"transactions_per_{}", "write_transactions_per_{}", "rpcs_per_{}", "cpu_ms_per_{}"}


@pytest.mark.timeout(120)
def test_limit() -> None:
    code, result, err = run_bench("limit", "--runs", "1", "--seconds", "0.3")
    assert_ok(code, result, err, {"commits_per_s_c1", "commits_per_s_c8", "commits_per_s_c32", "raw"})
    assert result["commits_per_s_c1"] > 0


@pytest.mark.timeout(120)
def test_hello() -> None:
    code, result, err = run_bench("hello", "--n", "5", *QUICK)
    assert_ok(
        code,
        result,
        err,
        {
            "workflows_per_s",
            "p50_ms",
            "p99_ms",
            "limit_commits_per_s",
            "workflows_per_s_over_commits_per_s",
            "p50_ms_over_commit_ms",
        }
        | {k.format("workflow") for k in COUNTS},
    )
    assert result["n"] == 5 and result["workflows_per_s"] > 0


@pytest.mark.timeout(120)
def test_hello_secure() -> None:
    secure = ["--secure", "tls", "--secure", "auth", "--secure", "encryption"]
    code, result, err = run_bench("hello", "--n", "5", *secure, *QUICK)
    assert_ok(code, result, err, {"workflows_per_s", "p50_ms"})
    assert result["secure"] == ["auth", "encryption", "tls"] and result["workflows_per_s"] > 0


@pytest.mark.timeout(120)
def test_long() -> None:
    code, result, err = run_bench("long", "--n", "5", *QUICK)
    assert_ok(
        code,
        result,
        err,
        {"first_100_ms_per_step", "last_100_ms_per_step", "total_s", "first_100_ms_per_step_over_commit_ms"}
        | {k.format("activity") for k in COUNTS},
    )


@pytest.mark.timeout(120)
def test_fanout() -> None:
    code, result, err = run_bench("fanout", "--n", "5", *QUICK)
    assert_ok(code, result, err, {"total_s", "activities_per_s", "activities_per_s_over_commits_per_s"})


@pytest.mark.timeout(120)
def test_replay() -> None:
    code, result, err = run_bench("replay", "--n", "5", *QUICK)
    assert_ok(code, result, err, {"events", "replay_ms", "replay_us_per_event", "replay_ms_over_commit_ms"})
    assert result["events"] > 5 * 3


@pytest.mark.timeout(120)
def test_timers() -> None:
    code, result, err = run_bench("timers", "--n", "20", *QUICK)
    assert_ok(
        code,
        result,
        err,
        {
            "p50_lateness_ms",
            "p99_lateness_ms",
            "max_lateness_ms",
            "p50_fire_lateness_ms",
            "p99_fire_lateness_ms",
            "max_fire_lateness_ms",
            "p99_workflow_view_ms",
            "elapsed_s",
            "p99_lateness_ms_over_commit_ms",
        }
        | {k.format("workflow") for k in COUNTS},
    )
    assert result["n"] == 20 and result["max_lateness_ms"] >= result["p99_lateness_ms"] >= -50
    # The workflow goes on only after its timer fired.
    assert result["max_lateness_ms"] >= result["max_fire_lateness_ms"] >= -50


@pytest.mark.timeout(120)
def test_children() -> None:
    code, result, err = run_bench("children", "--n", "5", *QUICK)
    assert_ok(
        code, result, err,
        {"total_s", "children_per_s", "children_per_s_over_commits_per_s"} | {k.format("child") for k in COUNTS},
    )


@pytest.mark.timeout(120)
def test_continue() -> None:
    code, result, err = run_bench("continue", "--n", "5", *QUICK)
    assert_ok(
        code, result, err,
        {"total_s", "ms_per_run", "ms_per_run_over_commit_ms"} | {k.format("run") for k in COUNTS},
    )


@pytest.mark.timeout(120)
def test_churn() -> None:
    code, result, err = run_bench(
        "churn", "--minutes", "0.1", "--sample-seconds", "1", "--retention-seconds", "1", "--concurrency", "2",
        "--seconds", "0.3",
    )
    assert_ok(
        code, result, err,
        {"workflows_completed", "runs_deleted", "samples", "moved_after_warm_up", "flat", "final_total_mb",
         "final_tables_mb"},
    )
    assert result["workflows_completed"] > 0 and len(result["samples"]) >= 2
    assert "executions" in result["final_tables_mb"]


@pytest.mark.timeout(120)
def test_schedules() -> None:
    code, result, err = run_bench(
        "schedules", "--schedules", "4", "--every", "2", "--minutes", "0.1", *QUICK
    )
    assert_ok(
        code, result, err,
        {"expected_starts", "starts", "missed", "duplicates", "p50_lateness_ms", "p99_lateness_ms",
         "server_cpu_ms_per_start", "p99_lateness_ms_over_commit_ms", "limit_commits_per_s"}
        | {k.format("start") for k in COUNTS},
    )
    assert result["starts"] == result["expected_starts"] > 0
    assert result["missed"] == result["duplicates"] == result["not_completed"] == 0 and result["meets_bar"]


def test_schedules_find_max_doubles_then_halves_the_gap() -> None:
    from bench.schedules import next_level

    assert next_level(500, None, 500) == 1000  # held: twice as many
    assert next_level(1000, 2000, 2000) == 1500  # failed: halfway between
    assert next_level(1500, 2000, 1500) == 1750
    assert next_level(1000, 1080, 1080) is None  # within a tenth of what held: done
    assert next_level(None, 500, 500) == 250  # the first level failed: half as many
    assert next_level(None, 1, 1) is None


@pytest.mark.timeout(120)
def test_ui() -> None:
    code, result, err = run_bench("ui", "--rows", "500", "--runs", "1")
    assert_ok(code, result, err, {"rows", "ms", "page_size", "bar_ms", "within_bar"})
    assert set(result["ms"]) == {"Running", "Failed", "Completed"}
    assert all(f["page_ms"] > 0 and f["list_rpc_ms"] > 0 for f in result["ms"].values())
