"""The hello example: one workflow that greets someone through one activity."""

from __future__ import annotations

from datetime import timedelta

from worker_sdk import RetryPolicy, activity, workflow

TASK_QUEUE = "hello"


@activity.defn
async def greet(name: str) -> str:
    """The side effect lives in an activity: here it only builds the greeting."""
    return f"Hello, {name}!"


@workflow.defn
class Greeting:
    @workflow.run
    async def run(self, name: str) -> str:
        return await workflow.execute_activity(
            greet,
            name,
            start_to_close_timeout=timedelta(seconds=10),
            retry_policy=RetryPolicy(maximum_attempts=5),
        )
