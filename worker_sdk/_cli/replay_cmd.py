"""``wf replay``: check recorded histories against today's workflow code, without a server.

Each history (a JSON file as ``wf workflow show --output json`` prints it) is replayed with the
SDK's :class:`~worker_sdk.testing.Replayer`. One line per history on stdout, ``ok FILE`` or
``FAILED FILE: why``; ``--output json`` prints a list of ``{"file", "ok", "error"}`` instead.
Exit codes: 0 every history replayed, 1 at least one did not, 2 bad usage (a missing file, a module
that cannot be imported).
"""

from __future__ import annotations

import asyncio
import importlib
import json
import os
import sys
from pathlib import Path
from typing import Any

import click

from worker_sdk._definition import WorkflowDefinition
from worker_sdk.errors import NondeterminismError
from worker_sdk.testing import Replayer


def _load_workflows(ctx: click.Context, param: click.Parameter, values: tuple[str, ...]) -> list[Any]:
    """``module:attr`` → the workflows it names (attr: a workflow, or a list or tuple of them)."""
    # As `python -m` does: the user's own modules, next to where they run the command, are importable.
    cwd = os.getcwd()
    if cwd not in sys.path and "" not in sys.path:
        sys.path.insert(0, cwd)
    workflows: list[Any] = []
    for value in values:
        module_name, sep, attr = value.partition(":")
        if not sep or not module_name or not attr:
            raise click.BadParameter(
                f"{value!r} is not module:attr (for example myapp.workflows:Order, or "
                "myapp.workflows:ALL for a list of workflows)", ctx=ctx, param=param,
            )
        try:
            obj: Any = importlib.import_module(module_name)
        except Exception as exc:  # ImportError, and whatever the module raises while it loads
            raise click.BadParameter(
                f"cannot import {module_name!r} ({type(exc).__name__}: {exc}); it is imported with the "
                f"current directory ({cwd}) on sys.path", ctx=ctx, param=param,
            ) from exc
        for part in attr.split("."):
            try:
                obj = getattr(obj, part)
            except AttributeError as exc:
                raise click.BadParameter(f"{module_name!r} has no {attr!r}", ctx=ctx, param=param) from exc
        items = list(obj) if isinstance(obj, list | tuple) else [obj]
        for item in items:
            try:
                WorkflowDefinition.of(item)
            except TypeError as exc:
                raise click.BadParameter(f"{value}: {exc}", ctx=ctx, param=param) from exc
        workflows.extend(items)
    return workflows


def _message(exc: Exception) -> str:
    if isinstance(exc, NondeterminismError):
        return str(exc)
    # An unreadable history, an unknown workflow type, or an exception out of workflow code: say which.
    return f"{type(exc).__name__}: {exc}"


@click.command("replay")
@click.option("--history", "histories", multiple=True, metavar="FILE",
              type=click.Path(exists=True, dir_okay=False, path_type=Path),
              help="A history as `wf workflow show -o json` prints it; repeat for several.")
@click.option("--history-dir", type=click.Path(exists=True, file_okay=False, path_type=Path),
              help="Replay every *.json file in this directory.")
@click.option("--workflows", "workflows", multiple=True, required=True, callback=_load_workflows,
              metavar="MODULE:ATTR",
              help="Workflow classes to replay with: a class, or a list of them; repeat for several. "
                   "Imported with the current directory on sys.path.")
@click.option("--output", "-o", type=click.Choice(["table", "json"]), default="table", show_default=True,
              help="table for people, json for scripts.")
def replay_cmd(histories: tuple[Path, ...], history_dir: Path | None, workflows: list[Any], output: str) -> None:
    """Replay recorded histories against workflow code, to catch changes that break running workflows.

    A history replays when the code, fed the recorded events, asks for the same commands in the same
    order. Exits 1 if any history does not, naming the event, what the history holds, what the code
    asked for, and the line of workflow code.

    \b
    wf workflow show -w order-1 -o json > histories/order-1.json
    wf replay --history-dir histories --workflows myapp.workflows:Order
    """
    files = list(histories)
    if history_dir is not None:
        found = sorted(history_dir.glob("*.json"))
        if not found:
            raise click.BadParameter(f"no *.json files in {history_dir}", param_hint="'--history-dir'")
        files += found
    if not files:
        raise click.UsageError("give the histories to replay: --history FILE (repeatable) or --history-dir DIR")
    try:
        replayer = Replayer(workflows)
    except ValueError as exc:  # the same workflow type named twice
        raise click.BadParameter(str(exc), param_hint="'--workflows'") from exc

    results = asyncio.run(replayer.replay_workflows(files))
    rows = [
        {"file": str(path), "ok": r.ok, "error": None if r.error is None else _message(r.error)}
        for path, r in zip(files, results, strict=True)
    ]
    if output == "json":
        click.echo(json.dumps(rows, indent=2, ensure_ascii=False))
    else:
        for row in rows:
            click.echo(f"ok {row['file']}" if row["ok"] else f"FAILED {row['file']}: {row['error']}")
    click.get_current_context().exit(0 if all(r.ok for r in results) else 1)
