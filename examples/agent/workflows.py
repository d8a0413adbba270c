"""An agent loop: a model decides the next tool call, tools run as activities, a person approves the
risky ones, and the loop continues as new every few steps, carrying its memory from run to run.

The "model" is a fake that follows a fixed script, so the example runs anywhere and always the same
way; swap ``decide`` for a call to a real model and nothing else changes. The workflow is what makes
the agent durable: a worker or server that dies mid-run loses nothing, each tool call is recorded
once, and the history never grows past a few steps however long the agent runs.
"""

from __future__ import annotations

import ast
import logging
import operator
from dataclasses import dataclass, field
from datetime import timedelta

from worker_sdk import RetryPolicy, activity, workflow

TASK_QUEUE = "agent"
# Tools that change the world: the agent waits for a person to approve each call.
NEEDS_APPROVAL = frozenset({"send_email"})
log = logging.getLogger("agent")


@dataclass
class ToolCall:
    tool: str
    argument: str


@dataclass
class Decision:
    """What the model decided: a tool to call, or the final answer (``tool`` "finish")."""

    tool: str
    argument: str
    thought: str


@dataclass
class AgentInput:
    goal: str
    # The fake model's script: one (tool, argument) per step, ending with ("finish", answer).
    script: list[ToolCall]
    # Continue as new after this many steps (the history of one run stays small).
    steps_per_run: int = 3
    # Carried from run to run: what the agent has learned, and how far it got.
    memory: list[str] = field(default_factory=list)
    step: int = 0
    runs: int = 1


@dataclass
class AgentResult:
    answer: str
    steps: int
    runs: int
    memory: list[str]


# -- activities: the model and the tools ------------------------------------------------------------


@activity.defn
async def decide(goal: str, script: list[ToolCall], step: int, memory: list[str]) -> Decision:
    """The fake model: the script's call for this step (a real one would read the goal and memory)."""
    call = script[step] if step < len(script) else ToolCall("finish", memory[-1] if memory else "")
    return Decision(call.tool, call.argument, f"step {step + 1} towards {goal!r}, knowing {len(memory)} things")


_OPERATORS = {ast.Add: operator.add, ast.Sub: operator.sub, ast.Mult: operator.mul, ast.Div: operator.truediv}


def _evaluate(node: ast.AST) -> float:
    if isinstance(node, ast.Constant) and isinstance(node.value, int | float):
        return node.value
    if isinstance(node, ast.BinOp) and type(node.op) in _OPERATORS:
        return _OPERATORS[type(node.op)](_evaluate(node.left), _evaluate(node.right))
    raise ValueError("only numbers and + - * / are supported")


@activity.defn
async def calculator(expression: str) -> str:
    return f"{expression} = {_evaluate(ast.parse(expression, mode='eval').body):g}"


@activity.defn
async def search(query: str) -> str:
    facts = {"capital of france": "Paris", "population of paris": "about 2.1 million"}
    return f"{query}: {facts.get(query.lower(), 'no result')}"


@activity.defn
async def send_email(body: str) -> str:
    return f"sent: {body}"


@activity.defn
async def request_approval(call: ToolCall) -> bool:
    """Wait for a person: the activity hands its completion to the outside and returns nothing
    itself. A person approves with ``wf activity complete --workflow-id W --activity-id A --result
    true`` (or ``false``), or a program with ``client.get_async_activity_handle(...).complete(True)``."""
    info = activity.info()
    log.info(
        "waiting for approval of %s(%r): wf activity complete --workflow-id %s --activity-id %s --result true",
        call.tool, call.argument, info.workflow_id, info.activity_id,
    )
    activity.raise_complete_async()


TOOLS = {"calculator": calculator, "search": search, "send_email": send_email}


def approval_id(step: int) -> str:
    """The id of the approval activity of a step: a person completes it by this id."""
    return f"approve-{step}"


# -- the workflow ------------------------------------------------------------------------------------


@workflow.defn
class Agent:
    def __init__(self) -> None:
        self.memory: list[str] = []
        self.waiting_for: str | None = None

    @workflow.run
    async def run(self, state: AgentInput) -> AgentResult:
        self.memory = list(state.memory)
        step = state.step
        quick = timedelta(seconds=30)
        for _ in range(state.steps_per_run):
            decision = await workflow.execute_activity(
                decide, state.goal, state.script, step, self.memory, start_to_close_timeout=quick,
                retry_policy=RetryPolicy(maximum_attempts=5),
            )
            if decision.tool == "finish":
                return AgentResult(decision.argument, step, state.runs, self.memory)
            call = ToolCall(decision.tool, decision.argument)
            if call.tool in NEEDS_APPROVAL:
                self.waiting_for = f"approval of {call.tool}({call.argument!r}) as activity {approval_id(step)}"
                approved = await workflow.execute_activity(
                    request_approval, call, activity_id=approval_id(step),
                    start_to_close_timeout=timedelta(days=1),
                )
                self.waiting_for = None
                if not approved:
                    self.memory.append(f"{call.tool} was not approved")
                    step += 1
                    continue
            observation = await workflow.execute_activity(
                TOOLS[call.tool], call.argument, start_to_close_timeout=quick
            )
            self.memory.append(observation)
            step += 1
        # A few steps per run: the next run starts with the memory, not with this run's history.
        workflow.continue_as_new(
            AgentInput(state.goal, state.script, state.steps_per_run, self.memory, step, state.runs + 1)
        )

    @workflow.query
    def status(self) -> dict[str, object]:
        return {"memory": self.memory, "waiting_for": self.waiting_for}
