"""Workflow code runs on the workflow thread, off the worker's event loop: a long activation holds up
neither the worker's polls nor the heartbeats of its activities."""

from __future__ import annotations

import asyncio
import time
from datetime import timedelta

from tests.helpers import assert_eventually
from worker_sdk import Client, RetryPolicy, Worker, activity, workflow

# Set by the test: the heartbeating activity stops once the busy workflow is done.
_stop: dict[str, asyncio.Event] = {}
_started: dict[str, asyncio.Event] = {}


@activity.defn
async def heartbeat_until_told(key: str) -> list[float]:
    """Heartbeat every 50 ms until the test says stop; the times of the heartbeats."""
    beats: list[float] = []
    _started[key].set()
    while not _stop[key].is_set():
        activity.heartbeat(len(beats))
        beats.append(time.monotonic())
        try:
            await asyncio.wait_for(_stop[key].wait(), 0.05)
        except TimeoutError:
            pass
    return beats


@workflow.defn
class Heartbeating:
    @workflow.run
    async def run(self, key: str) -> list[float]:
        return await workflow.execute_activity(
            heartbeat_until_told,
            key,
            start_to_close_timeout=timedelta(seconds=60),
            # Shorter than the busy activation (1.5 s), so a worker whose loop it held up would miss
            # it; heartbeats go out every 0.8 of it, which leaves 0.2 s for a loaded machine.
            heartbeat_timeout=timedelta(seconds=1),
            retry_policy=RetryPolicy(maximum_attempts=1),  # a heartbeat timeout fails the workflow
        )


@workflow.defn
class Busy:
    @workflow.run
    async def run(self, seconds: float) -> tuple[float, float]:
        """Pure CPU for ``seconds`` in one activation; when it ran, on the process's monotonic clock."""
        start = time.monotonic()
        n = 0
        while time.monotonic() - start < seconds:
            n += 1
        return start, time.monotonic()


async def test_a_long_activation_does_not_hold_up_heartbeats(client: Client, task_queue: str) -> None:
    key = task_queue
    _stop[key], _started[key] = asyncio.Event(), asyncio.Event()
    async with Worker(
        client, task_queue=task_queue, workflows=[Heartbeating, Busy], activities=[heartbeat_until_told],
        deadlock_timeout=timedelta(seconds=30),
    ):
        beating = await client.start_workflow(Heartbeating.run, key, id=f"beating-{key}", task_queue=task_queue)
        await asyncio.wait_for(_started[key].wait(), 20)
        busy_from, busy_to = await client.execute_workflow(Busy.run, 1.5, id=f"busy-{key}", task_queue=task_queue)
        _stop[key].set()
        beats = await beating.result(timeout=timedelta(seconds=20))
    assert busy_to - busy_from >= 1.5
    # The activity heartbeated before the busy activation began and all through it, never 0.4 s apart.
    before = [t for t in beats if t < busy_from]
    assert before, (busy_from, beats)
    points = [before[-1], *(t for t in beats if busy_from <= t <= busy_to), busy_to]
    gaps = [b - a for a, b in zip(points, points[1:], strict=False)]
    assert max(gaps) < 0.4, gaps
    # ...and the server saw them in time: the one attempt allowed completed, without a heartbeat timeout.
    events = (await beating.fetch_history()).events
    assert not any(e.HasField("activity_task_timed_out_event_attributes") for e in events)


@workflow.defn
class Quick:
    @workflow.run
    async def run(self, n: int) -> int:
        return n + 1


async def test_the_workflow_task_executor_may_be_the_users(client: Client, task_queue: str) -> None:
    import concurrent.futures

    names: set[str] = set()

    @workflow.defn(name="ThreadName")
    class ThreadName:
        @workflow.run
        async def run(self) -> str:
            import threading

            return threading.current_thread().name

    with concurrent.futures.ThreadPoolExecutor(1, thread_name_prefix="users-pool") as pool:
        async with Worker(client, task_queue=task_queue, workflows=[ThreadName, Quick], workflow_task_executor=pool):
            names.add(await client.execute_workflow(ThreadName.run, id=f"tn-{task_queue}", task_queue=task_queue))
            assert await client.execute_workflow(Quick.run, 1, id=f"q-{task_queue}", task_queue=task_queue) == 2
        # The worker does not shut down an executor it was given.
        assert pool.submit(lambda: 7).result() == 7
    assert len(names) == 1 and next(iter(names)).startswith("users-pool")


@workflow.defn
class Stuck:
    @workflow.run
    async def run(self) -> None:
        while True:  # never yields
            pass


async def test_a_stuck_activation_is_interrupted_and_its_thread_serves_again(client: Client, task_queue: str) -> None:
    import concurrent.futures

    # One thread only: the next workflow can run only if the stuck code gave its thread back.
    with concurrent.futures.ThreadPoolExecutor(1, thread_name_prefix="one") as pool:
        async with Worker(client, task_queue=task_queue, workflows=[Stuck, Quick], workflow_task_executor=pool,
                          deadlock_timeout=timedelta(milliseconds=300)):
            stuck = await client.start_workflow(Stuck.run, id=f"stuck-{task_queue}", task_queue=task_queue)

            async def reported() -> bool:
                failure = (await stuck.describe()).last_workflow_task_failure
                return failure is not None and "did not yield within 0.3s" in failure.message

            await assert_eventually(reported, timeout=20)
            assert await client.execute_workflow(Quick.run, 41, id=f"after-{task_queue}", task_queue=task_queue) == 42
            await stuck.terminate("test over")
