"""Start a Greeting workflow and print its result (a worker must be running).

    .venv/bin/python examples/hello/starter.py [name]
"""

from __future__ import annotations

import asyncio
import os
import sys

from workflows import TASK_QUEUE, Greeting

from worker_sdk import Client


async def main() -> None:
    name = sys.argv[1] if len(sys.argv) > 1 else "world"
    client = await Client.connect(os.environ.get("WF_ADDRESS", "localhost:7233"))
    try:
        result = await client.execute_workflow(
            Greeting.run, name, id=f"greet-{name}", task_queue=TASK_QUEUE
        )
    finally:
        await client.close()
    print(result)


if __name__ == "__main__":
    asyncio.run(main())
