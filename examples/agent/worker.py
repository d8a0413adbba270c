"""Run a worker for the agent example until Ctrl-C (or SIGTERM).

    .venv/bin/python examples/agent/worker.py   # WF_ADDRESS=host:port to use another server
"""

from __future__ import annotations

import asyncio
import logging
import os
import signal

from workflows import TASK_QUEUE, Agent, calculator, decide, request_approval, search, send_email

from worker_sdk import Client, Worker


async def main() -> None:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    address = os.environ.get("WF_ADDRESS", "localhost:7233")
    client = await Client.connect(address)
    worker = Worker(
        client,
        task_queue=TASK_QUEUE,
        workflows=[Agent],
        activities=[decide, calculator, search, send_email, request_approval],
    )
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, lambda: asyncio.ensure_future(worker.shutdown()))
    print(f"worker polling task queue {TASK_QUEUE!r} on {address}; Ctrl-C to stop", flush=True)
    try:
        await worker.run()
    finally:
        await client.close()
    print("worker stopped", flush=True)


if __name__ == "__main__":
    asyncio.run(main())
