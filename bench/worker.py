"""The benchmark's worker process: ``python -m bench.worker ADDRESS TASK_QUEUE``.

It runs every benchmark workflow and activity until SIGTERM or SIGINT. Its stdout is a control
channel for the driver: one ``ready`` line once it polls, then, on each SIGUSR1, one line
``rpcs {"Method": count, ...}`` with the RPCs it has sent so far. Logs go to stderr.
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
import signal
import sys

from bench.harness import Security
from bench.rpcs import count_rpcs
from bench.workloads import ACTIVITIES, WORKFLOWS
from worker_sdk import Client, Worker

POLLERS = 8
MAX_CONCURRENCY = 200


async def main(address: str, task_queue: str) -> None:
    # Shortcuts the driver was asked to measure without (`python -m bench --without ...`).
    without = set(filter(None, os.environ.get("WF_BENCH_WITHOUT", "").split(",")))
    security = Security.from_env()  # `python -m bench --secure`: mutual TLS and an API key
    kwargs = security.connect_kwargs() if security is not None else {}
    client = await Client.connect(address, multiplex="multiplex" not in without, **kwargs)
    rpcs = count_rpcs(client)
    worker = Worker(
        client,
        task_queue=task_queue,
        workflows=WORKFLOWS,
        activities=ACTIVITIES,
        max_concurrent_workflow_tasks=MAX_CONCURRENCY,
        max_concurrent_activities=MAX_CONCURRENCY,
        workflow_task_pollers=POLLERS,
        activity_task_pollers=POLLERS,
    )
    if "run-ahead" in without:

        async def never_ahead(*args: object) -> None:
            return None  # the result goes alone, as when the cached run is not level with the history

        worker.run_ahead = never_ahead  # type: ignore[method-assign,assignment]
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, lambda: asyncio.ensure_future(worker.shutdown()))
    loop.add_signal_handler(signal.SIGUSR1, lambda: print("rpcs", json.dumps(dict(rpcs)), flush=True))
    try:
        running = asyncio.create_task(worker.run(), name="bench worker")
        print("ready", flush=True)
        await running
    finally:
        await client.close()


if __name__ == "__main__":
    logging.basicConfig(
        level=logging.WARNING, stream=sys.stderr, format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    if len(sys.argv) != 3:
        sys.exit("usage: python -m bench.worker ADDRESS TASK_QUEUE")
    import uvloop  # as `wf server` runs: the worker's event loop is the user's choice, and this is ours

    with asyncio.Runner(loop_factory=uvloop.new_event_loop) as runner:
        runner.run(main(sys.argv[1], sys.argv[2]))
