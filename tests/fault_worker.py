"""A worker process for the fault tests: ``python tests/fault_worker.py ADDRESS TASK_QUEUE``.

Runs ``Steps``: a workflow of sequential activities, each taking a moment, so a process can be killed
while activities are running.
"""

from __future__ import annotations

import asyncio
import signal
import sys
from datetime import timedelta

from worker_sdk import Client, RetryPolicy, Worker, activity, workflow


@activity.defn
async def step(i: int, seconds: float) -> int:
    await asyncio.sleep(seconds)
    return i * i


@workflow.defn
class Steps:
    @workflow.run
    async def run(self, steps: int, seconds: float) -> int:
        total = 0
        for i in range(steps):
            total += await workflow.execute_activity(
                step,
                i,
                seconds,
                start_to_close_timeout=timedelta(seconds=2),
                retry_policy=RetryPolicy(
                    initial_interval=timedelta(milliseconds=100), maximum_interval=timedelta(milliseconds=500)
                ),
            )
        return total


@workflow.defn
class Ledger:
    """Updates that run an activity: accepted by one worker, finished by another after a crash."""

    def __init__(self) -> None:
        self.total = 0
        self.closed = False

    @workflow.run
    async def run(self) -> int:
        await workflow.wait_condition(lambda: self.closed)
        return self.total

    @workflow.update
    async def add(self, amount: int, seconds: float) -> int:
        squared = await workflow.execute_activity(
            step, amount, seconds, start_to_close_timeout=timedelta(seconds=2),
            retry_policy=RetryPolicy(initial_interval=timedelta(milliseconds=100)),
        )
        self.total += squared
        return self.total

    @workflow.signal
    def close(self) -> None:
        self.closed = True


@workflow.defn
class Napper:
    @workflow.run
    async def run(self, seconds: float) -> str:
        await workflow.sleep(seconds)
        return "rested"


def expected(steps: int) -> int:
    return sum(i * i for i in range(steps))


async def main(address: str, task_queue: str) -> None:
    client = await Client.connect(address, timeout=timedelta(seconds=30), wait_for_ready=True)
    worker = Worker(client, task_queue=task_queue, workflows=[Steps, Ledger, Napper], activities=[step])
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, lambda: asyncio.ensure_future(worker.shutdown()))
    print("worker ready", flush=True)
    await worker.run()


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1], sys.argv[2]))
