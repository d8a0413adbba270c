"""The database's own ceiling, and the database counters the workloads report.

``commits_per_s`` is what the same PostgreSQL does with the smallest useful write transaction
(insert one ~200-byte row, update one row, commit) at a given concurrency: the yardstick every wf
figure is divided by. Scratch tables live in their own schema, dropped afterwards.
"""

from __future__ import annotations

import asyncio
import os
import time
from dataclasses import dataclass

import asyncpg

from wf.server.app import asyncpg_dsn

SCHEMA = "wf_bench_scratch"


async def connect(url: str) -> asyncpg.Connection:
    return await asyncpg.connect(asyncpg_dsn(url))


async def prepare(url: str, connections: int) -> None:
    conn = await connect(url)
    try:
        await conn.execute(
            f"""
            DROP SCHEMA IF EXISTS {SCHEMA} CASCADE;
            CREATE SCHEMA {SCHEMA};
            CREATE TABLE {SCHEMA}.rows (
                id bigserial PRIMARY KEY, conn int NOT NULL, payload text NOT NULL,
                created timestamptz NOT NULL DEFAULT now()
            );
            CREATE TABLE {SCHEMA}.counters (conn int PRIMARY KEY, n bigint NOT NULL);
            """
        )
        await conn.execute(f"INSERT INTO {SCHEMA}.counters SELECT g, 0 FROM generate_series(0, $1 - 1) g", connections)
    finally:
        await conn.close()


async def drop(url: str) -> None:
    conn = await connect(url)
    try:
        await conn.execute(f"DROP SCHEMA IF EXISTS {SCHEMA} CASCADE")
    finally:
        await conn.close()


async def commits_per_s(url: str, concurrency: int, seconds: float) -> float:
    """Commits per second of ``concurrency`` connections each looping one small write transaction.

    Each connection updates its own counter row, so they do not queue on one row lock: this is the
    ceiling of independent writers, as wf's writes to different workflows are.
    """
    await prepare(url, concurrency)
    conns = await asyncio.gather(*(connect(url) for _ in range(concurrency)))
    try:
        start = asyncio.Event()
        stop_at = 0.0

        async def loop(i: int, conn: asyncpg.Connection) -> int:
            payload = os.urandom(100).hex()  # 200 bytes
            done = 0
            await start.wait()
            while time.perf_counter() < stop_at:
                async with conn.transaction():
                    await conn.execute(f"INSERT INTO {SCHEMA}.rows (conn, payload) VALUES ($1, $2)", i, payload)
                    await conn.execute(f"UPDATE {SCHEMA}.counters SET n = n + 1 WHERE conn = $1", i)
                done += 1
            return done

        tasks = [asyncio.create_task(loop(i, c)) for i, c in enumerate(conns)]
        began = time.perf_counter()
        stop_at = began + seconds
        start.set()
        counts = await asyncio.gather(*tasks)
        elapsed = time.perf_counter() - began
    finally:
        await asyncio.gather(*(c.close() for c in conns), return_exceptions=True)
        await drop(url)
    return sum(counts) / elapsed


@dataclass(frozen=True)
class DbCounters:
    """Cumulative counters of the wf database at one moment."""

    at: float  # time.monotonic()
    commits: int  # pg_stat_database.xact_commit: every committed transaction, read-only ones included
    next_xid: int  # the next transaction id: its growth counts write transactions only

    @staticmethod
    async def read(url: str) -> DbCounters:
        conn = await connect(url)
        try:
            row = await conn.fetchrow(
                "SELECT (SELECT xact_commit FROM pg_stat_database WHERE datname = current_database()) AS commits,"
                " pg_snapshot_xmax(pg_current_snapshot())::text::bigint AS next_xid"
            )
        finally:
            await conn.close()
        assert row is not None
        return DbCounters(time.monotonic(), int(row["commits"]), int(row["next_xid"]))
