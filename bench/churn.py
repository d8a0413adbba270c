"""``python -m bench churn``: does the database stay the same size while runs come and go?

For ``--minutes`` (default 10) the driver keeps ``--concurrency`` one-activity workflows in flight
(each started as the one before it completes), in the ``default`` namespace with its retention set to
``--retention-seconds`` (default 60; the server runs with ``--min-namespace-retention 0`` to allow
it), so the server's retention task deletes runs as fast as they close. Every ``--sample-seconds``
(default 60) it reads ``pg_total_relation_size`` of every table (indexes and TOAST included). After a
warm-up, the total must stay within 20% of its first value after warm-up: ``flat``. The warm-up is
the retention (no run is deleted before it) plus three rounds of autovacuum (PostgreSQL's
``autovacuum_naptime``, a minute by default): a deleted row's space is reused only once autovacuum
has seen it, so until then the tables grow by what a round of deletions leaves behind.
"""

from __future__ import annotations

import asyncio
import logging
import time
from datetime import timedelta
from typing import Any

import asyncpg

from bench.drivers import CheckFailed, Figures, _result, _tag
from bench.harness import Stack
from bench.workloads import HelloWorkflow, hello_result
from wf.server.app import asyncpg_dsn
from worker_sdk import Client

log = logging.getLogger("bench")

FLAT_WITHIN = 0.20
"""How far the total size may move after warm-up (a fraction of its first value then)."""
AUTOVACUUM_ROUNDS = 3
"""Rounds of autovacuum in the warm-up, after the retention."""
# Extra server options: retentions shorter than the usual minimum, and a deletion loop that looks often.
SERVER_ARGS = ("--min-namespace-retention", "0", "--retention-idle", "1")

_SIZES = """
SELECT c.relname, pg_total_relation_size(c.oid)
FROM pg_class c
WHERE c.relkind = 'r' AND c.relnamespace = 'public'::regnamespace
ORDER BY c.relname
"""


async def table_sizes(conn: asyncpg.Connection) -> dict[str, int]:
    """Bytes of every table of the database, with its indexes and TOAST."""
    return {r[0]: int(r[1]) for r in await conn.fetch(_SIZES)}


async def _autovacuum_naptime(db_url: str) -> float:
    """Seconds between two looks of autovacuum at each table (``autovacuum_naptime``)."""
    conn = await asyncpg.connect(asyncpg_dsn(db_url))
    try:
        return float(await conn.fetchval("SELECT setting::float FROM pg_settings WHERE name = 'autovacuum_naptime'"))
    finally:
        await conn.close()


def _mb(n: int) -> float:
    return round(n / 1_048_576, 2)


async def run_churn(
    client: Client, stack: Stack, db_url: str, *, minutes: float, concurrency: int, retention: float,
    sample_seconds: float,
) -> Figures:
    """Start, complete and (through retention) delete runs for ``minutes``; the size samples."""
    before = await client.describe_namespace("default")
    await client.update_namespace("default", retention=timedelta(seconds=retention))
    conn = await asyncpg.connect(asyncpg_dsn(db_url))
    tag = _tag()
    completed = 0
    stop_at = time.monotonic() + minutes * 60
    samples: list[dict[str, Any]] = []

    async def lane(lane_id: int) -> None:
        nonlocal completed
        i = 0
        while time.monotonic() < stop_at:
            name = f"{tag}-{lane_id}-{i}"
            result = await _result(client, HelloWorkflow.run, name, id=f"churn-{name}", task_queue=stack.task_queue)
            if result != hello_result(name):
                raise CheckFailed(f"workflow churn-{name} returned {result!r}")
            completed += 1
            i += 1

    async def sampler(began: float) -> None:
        while True:
            sizes = await table_sizes(conn)
            runs = await conn.fetchval("SELECT count(*) FROM executions")
            sample = {"at_s": round(time.monotonic() - began, 1), "total_mb": _mb(sum(sizes.values())),
                      "runs_stored": runs, "completed": completed}
            samples.append(sample)
            log.info("churn: %s", sample)
            await asyncio.sleep(sample_seconds)

    try:
        began = time.monotonic()
        sampling = asyncio.create_task(sampler(began))
        try:
            await asyncio.gather(*(lane(n) for n in range(concurrency)))
            stack.check_alive()
        finally:
            sampling.cancel()
            await asyncio.gather(sampling, return_exceptions=True)
        elapsed = time.monotonic() - began
        final = await table_sizes(conn)
        stored = await conn.fetchval("SELECT count(*) FROM executions")
        samples.append({"at_s": round(elapsed, 1), "total_mb": _mb(sum(final.values())), "runs_stored": stored,
                        "completed": completed})
    finally:
        await conn.close()
        await client.update_namespace("default", retention=before.retention)
    naptime = await _autovacuum_naptime(db_url)
    warm_up = retention + AUTOVACUUM_ROUNDS * naptime
    after = [s["total_mb"] for s in samples if s["at_s"] >= warm_up]
    # The farthest the total moved from its first value after warm-up, either way.
    moved = round(max(abs(x / after[0] - 1) for x in after), 3) if after and after[0] else None
    return {
        "minutes": minutes,
        "concurrency": concurrency,
        "retention_seconds": retention,
        "workflows_completed": completed,
        "workflows_per_s": round(completed / elapsed, 2),
        "runs_stored_at_end": stored,
        "runs_deleted": completed - stored,
        "samples": samples,
        "warm_up_seconds": warm_up,
        "moved_after_warm_up": moved,
        "flat": moved is not None and moved <= FLAT_WITHIN,
        "final_total_mb": _mb(sum(final.values())),
        "final_tables_mb": {name: _mb(size) for name, size in final.items() if size},
    }


__all__ = ["FLAT_WITHIN", "SERVER_ARGS", "run_churn", "table_sizes"]
