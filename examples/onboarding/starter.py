"""Onboard a user, following the workflow with queries and approving it with a signal.

    .venv/bin/python examples/onboarding/starter.py [user-id]

A worker must be running (examples/onboarding/worker.py). The waits are shortened to seconds here;
in the product they are three days and one day.
"""

from __future__ import annotations

import asyncio
import os
import sys
from datetime import timedelta

from workflows import TASK_QUEUE, Onboarding, OnboardingInput, User

from worker_sdk import Client
from worker_sdk.errors import WorkflowFailureError


async def main() -> int:
    user_id = sys.argv[1] if len(sys.argv) > 1 else "ada"
    user = User(id=user_id, email=f"{user_id}@example.com", name=user_id.capitalize())
    request = OnboardingInput(
        user, wait_before_tips=timedelta(seconds=3), approval_timeout=timedelta(minutes=5)
    )
    client = await Client.connect(os.environ.get("WF_ADDRESS", "localhost:7233"))
    try:
        handle = await client.start_workflow(
            Onboarding.run, request, id=f"onboarding-{user_id}", task_queue=TASK_QUEUE
        )
        previous = await handle.execute_update(Onboarding.change_email, f"{user_id}@example.org")
        print(f"email changed from {previous}")
        stage = ""
        while stage != "waiting for approval":
            await asyncio.sleep(0.5)
            current = await handle.query(Onboarding.status)
            if current != stage:
                print(f"status: {current}")
                stage = current
        await handle.signal(Onboarding.approve, "the onboarding team")
        summary = await handle.result()
    except WorkflowFailureError as exc:
        cause: BaseException | None = exc.cause
        print(f"onboarding failed: {cause}", file=sys.stderr)
        while cause is not None and cause.__cause__ is not None:
            cause = cause.__cause__
            print(f"  caused by: {cause}", file=sys.stderr)
        return 1
    finally:
        await client.close()
    print(summary)
    return 0


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))
