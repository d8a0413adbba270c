"""Run the agent on a goal, approving its email as a person would, and print what it did.

    .venv/bin/python examples/agent/starter.py [workflow-id]

A worker must be running (examples/agent/worker.py). The agent asks for approval before it sends an
email: this script gives it, by completing the waiting approval activity by its id, exactly what
`wf activity complete --workflow-id W --activity-id approve-N --result true` does.
"""

from __future__ import annotations

import asyncio
import os
import sys

from workflows import TASK_QUEUE, Agent, AgentInput, ToolCall

from worker_sdk import Client

SCRIPT = [
    ToolCall("search", "capital of France"),
    ToolCall("search", "population of Paris"),
    ToolCall("calculator", "2.1 * 1000000 / 105"),
    ToolCall("send_email", "Paris: about 2.1 million people, 20,000 per km²"),
    ToolCall("calculator", "20000 * 105"),
    ToolCall("finish", "Paris has about 2.1 million people, about 20,000 per km²; the team was told."),
]


async def main() -> int:
    workflow_id = sys.argv[1] if len(sys.argv) > 1 else "agent-paris"
    client = await Client.connect(os.environ.get("WF_ADDRESS", "localhost:7233"))
    try:
        handle = await client.start_workflow(
            Agent.run, AgentInput("how dense is Paris?", SCRIPT, steps_per_run=2), id=workflow_id,
            task_queue=TASK_QUEUE,
        )
        print(f"started agent {workflow_id}")
        approved = False
        while not approved:
            await asyncio.sleep(0.5)
            status = await client.get_workflow_handle(workflow_id).query(Agent.status)
            waiting = status["waiting_for"]
            if waiting:
                activity_id = waiting.rsplit(" ", 1)[-1]
                print(f"the agent waits for {waiting}: approving")
                approval = client.get_async_activity_handle(workflow_id=workflow_id, activity_id=activity_id)
                await approval.complete(True)
                approved = True
        result = await handle.result()  # follows the agent from run to run
    finally:
        await client.close()
    print(f"answer after {result.steps} steps in {result.runs} runs: {result.answer}")
    for fact in result.memory:
        print(f"  - {fact}")
    return 0


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))
