"""The benchmark's worker process: ``python -m bench.worker ADDRESS TASK_QUEUE``.

It runs every benchmark workflow and activity until SIGTERM or SIGINT. Its stdout is a control
channel for the driver: one ``ready`` line once it polls, then, on each SIGUSR1, one line
``rpcs {"Method": count, ...}`` with the RPCs it has sent so far. Logs go to stderr.
"""

from __future__ import annotations

import asyncio
import json
import logging
import signal
import sys

from bench.rpcs import count_rpcs
from bench.workloads import ACTIVITIES, WORKFLOWS
from worker_sdk import Client, Worker

POLLERS = 8
MAX_CONCURRENCY = 200


async def main(address: str, task_queue: str) -> None:
    client = await Client.connect(address)
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
