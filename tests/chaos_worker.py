"""A worker process for the chaos test: ``python tests/chaos_worker.py ADDRESS TASK_QUEUE``.

Runs ``Mixed``: three sequential activities (some fail their first attempt and are retried), a
durable timer, then a wait for ``k`` signals; its result is computed from its input and the signals,
so a lost or doubled activity result, timer or signal shows in it.
"""

from __future__ import annotations

import asyncio
import signal
import sys
from collections.abc import Iterable
from datetime import timedelta

from worker_sdk import Client, RetryPolicy, Worker, activity, workflow
from worker_sdk.errors import ApplicationError

STEPS = 3


def step_value(seed: int, i: int) -> int:
    return seed * 10 + i


def fails_first_attempt(seed: int, i: int) -> bool:
    return (seed + i) % 2 == 0


@activity.defn
async def flaky_step(seed: int, i: int) -> int:
    if fails_first_attempt(seed, i) and activity.info().attempt == 1:
        raise ApplicationError(f"step {i} of {seed}: first attempt fails on purpose")
    await asyncio.sleep(0.1)
    return step_value(seed, i)


@workflow.defn
class Mixed:
    def __init__(self) -> None:
        self.values: list[int] = []

    @workflow.run
    async def run(self, seed: int, k: int) -> int:
        total = 0
        for i in range(STEPS):
            r = await workflow.execute_activity(
                flaky_step,
                seed,
                i,
                start_to_close_timeout=timedelta(seconds=2),
                retry_policy=RetryPolicy(
                    initial_interval=timedelta(milliseconds=100), maximum_interval=timedelta(milliseconds=500)
                ),
            )
            total += r * r
        await workflow.sleep(0.5)
        await workflow.wait_condition(lambda: len(self.values) >= k)
        return total + sum(self.values)

    @workflow.signal
    def add(self, n: int) -> None:
        self.values.append(n)


def expected(seed: int, signals: Iterable[int]) -> int:
    return sum(step_value(seed, i) ** 2 for i in range(STEPS)) + sum(signals)


async def main(address: str, task_queue: str) -> None:
    client = await Client.connect(address, timeout=timedelta(seconds=30), wait_for_ready=True)
    worker = Worker(client, task_queue=task_queue, workflows=[Mixed], activities=[flaky_step])
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, lambda: asyncio.ensure_future(worker.shutdown()))
    print("worker ready", flush=True)
    await worker.run()


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1], sys.argv[2]))
