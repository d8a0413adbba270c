"""Batch operations: ``wf workflow terminate|cancel|signal|delete --query Q``, as Temporal's CLI.

Temporal runs a batch as a server-side job; wf's CLI does the same work from the client: it lists
the runs the query matches (``client.list_workflows``), shows how many (and the first few) and asks
for confirmation unless ``--yes``, then acts on each run by its run id, a few at a time, showing
progress on stderr, and ends with how many were done and how many failed (each failure named). The
exit code is 1 when any failed. A run that closed between the listing and its turn fails (for
terminate, cancel, signal) rather than being skipped silently.
"""

from __future__ import annotations

import asyncio
import json
import sys
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any, TypeVar

import click

from worker_sdk._cli import _render as render
from worker_sdk._client import Client, WorkflowExecution, WorkflowHandle
from worker_sdk.errors import RPCError

F = TypeVar("F", bound=Callable[..., Any])

CONCURRENCY = 10
"""Runs acted on at once."""
_SHOWN = 10
"""Runs listed before asking for confirmation."""


def target_options(f: F) -> F:
    """``--workflow-id/-w`` with ``--run-id/-r`` for one run, or ``--query/-q`` (with ``--yes/-y``) for
    every run the query matches, as Temporal's CLI takes them."""
    f = click.option("--yes", "-y", is_flag=True, help="With --query: do not ask for confirmation.")(f)
    f = click.option("--query", "-q", metavar="QUERY",
                     help="Act on every run this list filter matches (a batch), instead of -w: "
                          "ExecutionStatus = 'Running' AND WorkflowType = 'Order'.")(f)
    f = click.option("--run-id", "-r", help="A run of the workflow (default: its latest run).")(f)
    return click.option("--workflow-id", "-w", help="The workflow id (or --query for many).")(f)


def check_target(workflow_id: str | None, run_id: str | None, query: str | None) -> None:
    """Exactly one of -w and -q; -r only with -w."""
    if (workflow_id is None) == (query is None):
        raise click.UsageError("give either --workflow-id (one run) or --query (every run it matches)")
    if query is not None and run_id is not None:
        raise click.UsageError("--run-id names a run of --workflow-id; it does not go with --query")


@dataclass
class BatchOutcome:
    matched: int
    done: int
    failed: list[tuple[WorkflowExecution, str]]


async def run_batch(
    client: Client,
    query: str,
    verb: str,
    action: Callable[[WorkflowHandle], Awaitable[None]],
    *,
    yes: bool,
    as_json: bool,
) -> int:
    """Act with ``action`` on every run ``query`` matches; ``verb`` (``terminate``…) for messages.
    Returns the exit code: 0 when every run was done, 1 when any failed or the batch was declined."""
    matches = [e async for e in client.list_workflows(query, page_size=1000)]
    if not matches:
        _say(as_json, {"matched": 0, "done": 0, "failed": []}, "No workflows match the query.")
        return 0
    if not yes:
        click.echo(f"{len(matches)} workflow run(s) match the query:", err=True)
        for e in matches[:_SHOWN]:
            click.echo(f"  {e.id}  {e.run_id}  {e.workflow_type}  {e.status.name}", err=True)
        if len(matches) > _SHOWN:
            click.echo(f"  … and {len(matches) - _SHOWN} more", err=True)
        if not click.confirm(f"{verb.capitalize()} {len(matches)} workflow run(s)?", default=False, err=True):
            click.echo("nothing done", err=True)
            return 1
    outcome = await _act(client, matches, verb, action, progress=not as_json)
    summary = f"{_past(verb).capitalize()} {outcome.done} of {outcome.matched} workflow run(s)" + (
        f"; {len(outcome.failed)} failed:" if outcome.failed else "."
    )
    lines = [summary] + [f"  {e.id} (run {e.run_id}): {why}" for e, why in outcome.failed]
    _say(as_json, {
        "matched": outcome.matched, "done": outcome.done,
        "failed": [{"workflowId": e.id, "runId": e.run_id, "error": why} for e, why in outcome.failed],
    }, "\n".join(lines))
    return 1 if outcome.failed else 0


async def _act(
    client: Client, runs: list[WorkflowExecution], verb: str, action: Callable[[WorkflowHandle], Awaitable[None]],
    *, progress: bool,
) -> BatchOutcome:
    outcome = BatchOutcome(len(runs), 0, [])
    slots = asyncio.Semaphore(CONCURRENCY)
    finished = 0
    terminal = sys.stderr.isatty()
    step = max(1, len(runs) // 20)

    async def one(e: WorkflowExecution) -> None:
        nonlocal finished
        async with slots:
            try:
                await action(client.get_workflow_handle(e.id, run_id=e.run_id))
                outcome.done += 1
            except RPCError as exc:
                outcome.failed.append((e, f"{exc.message} ({exc.status.name})"))
            finished += 1
            if progress and (terminal or finished % step == 0 or finished == len(runs)):
                end = "" if terminal and finished < len(runs) else "\n"
                click.echo(f"\r{verb}: {finished}/{len(runs)} ({len(outcome.failed)} failed)", err=True, nl=False)
                if end:
                    click.echo("", err=True)

    await asyncio.gather(*(one(e) for e in runs))
    return outcome


def _past(verb: str) -> str:
    return {"cancel": "cancellation requested for", "signal": "signaled", "delete": "deleted"}.get(verb, verb + "d")


def _say(as_json: bool, out: dict[str, Any], text: str) -> None:
    if as_json:
        click.echo(json.dumps(out, indent=2, default=render.json_default, ensure_ascii=False))
    else:
        click.echo(text)


__all__ = ["BatchOutcome", "check_target", "run_batch", "target_options"]
