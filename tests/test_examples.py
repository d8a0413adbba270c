"""The examples under ``examples/`` run end to end: their own workflows and activities, a real worker,
the session's server.
"""

from __future__ import annotations

import importlib.util
import sys
from datetime import timedelta
from pathlib import Path
from types import ModuleType

import pytest

from tests.helpers import assert_eventually
from worker_sdk import Client, Worker
from worker_sdk.errors import ActivityError, ApplicationError, WorkflowFailureError

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"


def load_example(name: str) -> ModuleType:
    """``examples/<name>/workflows.py`` as module ``examples_<name>_workflows``.

    Each example's workflows module is called ``workflows`` (its scripts import it by that name), so
    the tests give each a name of its own. It is registered in ``sys.modules`` so the type hints of its
    dataclasses resolve when payloads are decoded.
    """
    module_name = f"examples_{name}_workflows"
    if module_name in sys.modules:
        return sys.modules[module_name]
    spec = importlib.util.spec_from_file_location(module_name, EXAMPLES / name / "workflows.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[module_name] = module
    spec.loader.exec_module(module)
    return module


hello = load_example("hello")
onboarding = load_example("onboarding")
agent = load_example("agent")


@pytest.mark.parametrize("name", ["hello", "onboarding", "agent"])
def test_each_example_has_a_worker_and_a_starter(name: str) -> None:
    for script in ("workflows.py", "worker.py", "starter.py"):
        assert (EXAMPLES / name / script).is_file(), f"examples/{name}/{script} is missing"


async def test_hello_greets(client: Client, task_queue: str) -> None:
    async with Worker(client, task_queue=task_queue, workflows=[hello.Greeting], activities=[hello.greet]):
        result = await client.execute_workflow(
            hello.Greeting.run, "world", id=f"greet-{task_queue}", task_queue=task_queue
        )
    assert result == "Hello, world!"


def onboarding_worker(client: Client, task_queue: str) -> Worker:
    return Worker(
        client,
        task_queue=task_queue,
        workflows=[onboarding.Onboarding],
        activities=[onboarding.send_welcome_email, onboarding.check_account_status, onboarding.send_tips_email],
    )


async def test_onboarding_waits_for_the_account_then_sends_tips(client: Client, task_queue: str) -> None:
    from worker_sdk.errors import WorkflowUpdateFailedError

    user = onboarding.User(id="ada", email="ada@example.com", name="Ada")
    request = onboarding.OnboardingInput(
        user,
        status_retry_interval=timedelta(milliseconds=100),
        wait_before_tips=timedelta(milliseconds=300),
        approval_timeout=timedelta(seconds=30),
    )
    async with onboarding_worker(client, task_queue):
        handle = await client.start_workflow(
            onboarding.Onboarding.run, request, id=f"onboarding-{task_queue}", task_queue=task_queue
        )
        assert await handle.execute_update(onboarding.Onboarding.change_email, "ada@example.org") == "ada@example.com"
        with pytest.raises(WorkflowUpdateFailedError):
            await handle.execute_update(onboarding.Onboarding.change_email, "not an address")

        async def waiting_for_approval() -> bool:
            return await handle.query(onboarding.Onboarding.status) == "waiting for approval"

        await assert_eventually(waiting_for_approval, timeout=20)
        await handle.signal(onboarding.Onboarding.approve, "grace")
        summary = await handle.result()
        assert await handle.query(onboarding.Onboarding.status) == "done"
    assert summary == onboarding.OnboardingSummary(
        user_id="ada",
        emails_sent=["welcome-ada", "tips-ada"],
        status_checks=onboarding.ACTIVE_ON_ATTEMPT,
        approved_by="grace",
    )


async def test_onboarding_skips_tips_nobody_approved(client: Client, task_queue: str) -> None:
    user = onboarding.User(id="cy", email="cy@example.com", name="Cy")
    request = onboarding.OnboardingInput(
        user,
        status_retry_interval=timedelta(milliseconds=100),
        wait_before_tips=timedelta(milliseconds=100),
        approval_timeout=timedelta(milliseconds=300),
    )
    async with onboarding_worker(client, task_queue):
        summary = await client.execute_workflow(
            onboarding.Onboarding.run, request, id=f"onboarding-{task_queue}", task_queue=task_queue
        )
    assert summary.emails_sent == ["welcome-cy"] and summary.approved_by == ""


async def test_onboarding_fails_when_the_account_never_becomes_active(client: Client, task_queue: str) -> None:
    user = onboarding.User(id="bob", email="bob@example.com", name="Bob")
    request = onboarding.OnboardingInput(
        user,
        status_retry_interval=timedelta(milliseconds=100),
        status_max_attempts=onboarding.ACTIVE_ON_ATTEMPT - 1,
    )
    async with onboarding_worker(client, task_queue):
        with pytest.raises(WorkflowFailureError) as failed:
            await client.execute_workflow(
                onboarding.Onboarding.run, request, id=f"onboarding-{task_queue}", task_queue=task_queue
            )
    cause = failed.value.cause
    assert isinstance(cause, ApplicationError) and cause.type == "AccountNeverActive"
    activity_error = cause.__cause__
    assert isinstance(activity_error, ActivityError)
    last_attempt = activity_error.cause
    assert isinstance(last_attempt, ApplicationError) and last_attempt.type == "AccountNotActive"


def agent_worker(client: Client, task_queue: str) -> Worker:
    return Worker(
        client,
        task_queue=task_queue,
        workflows=[agent.Agent],
        activities=[agent.decide, agent.calculator, agent.search, agent.send_email, agent.request_approval],
    )


async def test_agent_waits_for_approval_and_keeps_its_memory_across_runs(client: Client, task_queue: str) -> None:
    call = agent.ToolCall
    script = [
        call("search", "capital of France"),
        call("calculator", "6 * 7"),
        call("send_email", "the answer is 42"),
        call("send_email", "a second email nobody approves"),
        call("search", "population of Paris"),
        call("finish", "done"),
    ]
    workflow_id = f"agent-{task_queue}"
    async with agent_worker(client, task_queue):
        handle = await client.start_workflow(
            agent.Agent.run, agent.AgentInput("test", script, steps_per_run=2), id=workflow_id, task_queue=task_queue
        )

        async def waiting_for(activity_id: str) -> None:
            status = await client.get_workflow_handle(workflow_id).query(agent.Agent.status)
            assert status["waiting_for"] and status["waiting_for"].endswith(activity_id), status

        await assert_eventually(lambda: waiting_for("approve-2"), timeout=30)
        await client.get_async_activity_handle(workflow_id=workflow_id, activity_id="approve-2").complete(True)
        await assert_eventually(lambda: waiting_for("approve-3"), timeout=30)
        await client.get_async_activity_handle(workflow_id=workflow_id, activity_id="approve-3").complete(False)
        result = await handle.result()
    assert result.answer == "done" and result.steps == 5 and result.runs == 3
    assert result.memory == [
        "capital of France: Paris",
        "6 * 7 = 42",
        "sent: the answer is 42",
        "send_email was not approved",
        "population of Paris: about 2.1 million",
    ]
    first = await client.get_workflow_handle(workflow_id, run_id=handle.first_execution_run_id).describe()
    assert first.status.name == "CONTINUED_AS_NEW"
