"""Onboard a user and print the summary (a worker must be running).

    .venv/bin/python examples/onboarding/starter.py [user-id]
"""

from __future__ import annotations

import asyncio
import os
import sys

from workflows import TASK_QUEUE, Onboarding, OnboardingInput, User

from worker_sdk import Client
from worker_sdk.errors import WorkflowFailureError


async def main() -> int:
    user_id = sys.argv[1] if len(sys.argv) > 1 else "ada"
    user = User(id=user_id, email=f"{user_id}@example.com", name=user_id.capitalize())
    client = await Client.connect(os.environ.get("WF_ADDRESS", "localhost:7233"))
    try:
        summary = await client.execute_workflow(
            Onboarding.run, OnboardingInput(user), id=f"onboarding-{user_id}", task_queue=TASK_QUEUE
        )
    except WorkflowFailureError as exc:
        cause = exc.cause
        print(f"onboarding failed: {cause}", file=sys.stderr)
        while cause.__cause__ is not None:
            cause = cause.__cause__
            print(f"  caused by: {cause}", file=sys.stderr)
        return 1
    finally:
        await client.close()
    print(summary)
    return 0


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))
