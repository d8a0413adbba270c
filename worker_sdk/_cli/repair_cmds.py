"""``wf workflow reset`` and ``wf workflow stack``: repairing a run, with Temporal's CLI flags.

``reset`` takes ``--event-id`` or ``--type FirstWorkflowTask|LastWorkflowTask|LastContinuedAsNew``,
``--reason`` (required), ``--reapply-type All|Signal|None`` and ``--reapply-exclude Signal|Update|All``,
as Temporal's CLI; ``--check`` is wf's own: a live worker replays the history up to the point with
its current code first, and the reset is refused, with the nondeterminism message, if it does not fit.
"""

from __future__ import annotations

import click

from worker_sdk._cli.workflow_cmds import (
    CliError,
    _confirm,
    _connection_options,
    _run,
    _run_options,
    _Settings,
    workflow_group,
)
from worker_sdk._client import Client
from worker_sdk._reset import ResetReapplyExcludeType, ResetReapplyType, ResetType
from worker_sdk.errors import NondeterminismError

_REAPPLY = {"All": ResetReapplyType.ALL, "Signal": ResetReapplyType.SIGNAL, "None": ResetReapplyType.NONE}
_EXCLUDE = {
    "Signal": [ResetReapplyExcludeType.SIGNAL],
    "Update": [ResetReapplyExcludeType.UPDATE],
    "All": [ResetReapplyExcludeType.SIGNAL, ResetReapplyExcludeType.UPDATE],
}


@workflow_group.command("reset")
@_run_options
@click.option("--event-id", "-e", type=int, help="Reset to this event: a workflow task's Completed, Failed, "
              "TimedOut or Started event.")
@click.option("--type", "-t", "reset_type", type=click.Choice([t.value for t in ResetType]),
              help="Reset to the point this names, instead of --event-id.")
@click.option("--reason", required=True, help="Why the run is reset (recorded in both runs).")
@click.option("--reapply-type", type=click.Choice(list(_REAPPLY)), default="All", show_default=True,
              help="What the new run receives again of what came after the point.")
@click.option("--reapply-exclude", type=click.Choice(list(_EXCLUDE)), multiple=True,
              help="Kinds of events never reapplied; repeat it for several.")
@click.option("--check", is_flag=True, help="First have a live worker replay the history up to the point "
              "with its current code, and refuse the reset if it is not deterministic.")
@click.option("--allow-pending-children", is_flag=True, help="Reset even with child workflows pending.")
@_connection_options(group=False)
def reset_cmd(
    workflow_id: str, run_id: str | None, event_id: int | None, reset_type: str | None, reason: str,
    reapply_type: str, reapply_exclude: tuple[str, ...], check: bool, allow_pending_children: bool,
) -> None:
    """Make a new run of the workflow from its history up to a workflow task, which the current code
    decides again; the running run is terminated. Prints the new run's id."""
    if (event_id is None) == (reset_type is None):
        raise click.UsageError("give exactly one of --event-id and --type")
    excluded = [x for name in reapply_exclude for x in _EXCLUDE[name]]

    async def body(client: Client, settings: _Settings) -> int:
        handle = client.get_workflow_handle(workflow_id, run_id=run_id)
        try:
            new = await handle.reset(
                reason=reason, event_id=event_id, type=ResetType(reset_type) if reset_type else None,
                reapply_type=_REAPPLY[reapply_type], reapply_exclude=excluded, check=check,
                allow_pending_children=allow_pending_children,
            )
        except (NondeterminismError, RuntimeError, ValueError) as exc:
            raise CliError(str(exc)) from exc
        return _confirm(settings, f"workflow {workflow_id} reset: new run {new.run_id}",
                        {"workflowId": workflow_id, "runId": new.run_id, "reason": reason})

    _run(body)


@workflow_group.command("stack")
@_run_options
@_connection_options(group=False)
def stack_cmd(workflow_id: str, run_id: str | None) -> None:
    """Print where each of the workflow's coroutines waits, with file:line of workflow code (the
    built-in __stack_trace query, answered by a worker of its task queue)."""

    async def body(client: Client, settings: _Settings) -> int:
        stack = await client.get_workflow_handle(workflow_id, run_id=run_id).stack()
        return _confirm(settings, stack, {"workflowId": workflow_id, "stack": stack})

    _run(body)
