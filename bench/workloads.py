"""The benchmark's workflows and activities, imported by both the worker and the driver.

Everything here is deliberately tiny: the benchmarks measure wf's own cost per workflow, per step
and per event, not the cost of user code.
"""

from __future__ import annotations

import asyncio
import time
from datetime import timedelta

from worker_sdk import RetryPolicy, activity, workflow

# A failing activity is retried a little (a slow machine may time one out), never forever: a
# benchmark that stops making progress must fail, not hang.
_RETRY = RetryPolicy(maximum_attempts=3)
_TIMEOUT = timedelta(seconds=60)


def hello_result(name: str) -> str:
    """What :class:`HelloWorkflow` must return for ``name`` (the driver checks every result)."""
    return f"Hello, {name}!"


@activity.defn
async def bench_greet(name: str) -> str:
    return hello_result(name)


@activity.defn
async def bench_stamp(step: int) -> float:
    """The wall-clock time at which this step's activity ran (the driver derives ms per step)."""
    return time.time()


@activity.defn
async def bench_echo(value: int) -> int:
    return value


@workflow.defn
class HelloWorkflow:
    """One activity: the smallest useful workflow."""

    @workflow.run
    async def run(self, name: str) -> str:
        result: str = await workflow.execute_activity(
            bench_greet, name, start_to_close_timeout=_TIMEOUT, retry_policy=_RETRY
        )
        return result


@workflow.defn
class LongWorkflow:
    """``steps`` sequential activities; returns the time each one ran at."""

    @workflow.run
    async def run(self, steps: int) -> list[float]:
        stamps: list[float] = []
        for i in range(steps):
            stamp: float = await workflow.execute_activity(
                bench_stamp, i, start_to_close_timeout=_TIMEOUT, retry_policy=_RETRY
            )
            stamps.append(stamp)
        return stamps


@workflow.defn
class FanoutWorkflow:
    """``width`` activities scheduled at once and awaited together; returns the sum of their results."""

    @workflow.run
    async def run(self, width: int) -> int:
        handles = [
            workflow.start_activity(bench_echo, i, start_to_close_timeout=_TIMEOUT, retry_policy=_RETRY)
            for i in range(width)
        ]
        results = await asyncio.gather(*handles)
        return sum(results)


def fanout_result(width: int) -> int:
    return width * (width - 1) // 2


@workflow.defn
class TimerWorkflow:
    """One durable timer of ``seconds``; returns ``[seconds, lateness_ms]``.

    The lateness is ``workflow.now()`` after the sleep (the start of the workflow task that follows
    the TimerFired) minus ``workflow.now()`` before it + ``seconds``, on the server's clock: the
    timer's lateness plus the time the workflow task that set it took to complete (the timer starts
    when its command is recorded). The driver also measures from the TimerStarted event.
    """

    @workflow.run
    async def run(self, seconds: float) -> list[float]:
        due = workflow.now() + timedelta(seconds=seconds)
        await workflow.sleep(seconds)
        return [seconds, (workflow.now() - due).total_seconds() * 1000]


@workflow.defn
class ChildrenWorkflow:
    """``count`` children, each a :class:`HelloWorkflow`, started at once and awaited together;
    returns how many returned what they should."""

    @workflow.run
    async def run(self, count: int) -> int:
        run_id = workflow.info().run_id
        results = await asyncio.gather(
            *(workflow.execute_child_workflow(HelloWorkflow.run, f"c{i}", id=f"{run_id}-c{i}") for i in range(count))
        )
        return sum(1 for i, result in enumerate(results) if result == hello_result(f"c{i}"))


@workflow.defn
class ContinueWorkflow:
    """One activity per run, then continue as new until ``runs`` runs have run; returns the number
    of runs, carried from run to run in the arguments."""

    @workflow.run
    async def run(self, runs: int, done: int = 0) -> int:
        done = await workflow.execute_activity(
            bench_echo, done + 1, start_to_close_timeout=_TIMEOUT, retry_policy=_RETRY
        )
        if done < runs:
            workflow.continue_as_new(runs, done)
        return done


WORKFLOWS = [HelloWorkflow, LongWorkflow, FanoutWorkflow, TimerWorkflow, ChildrenWorkflow, ContinueWorkflow]
ACTIVITIES = [bench_greet, bench_stamp, bench_echo]
