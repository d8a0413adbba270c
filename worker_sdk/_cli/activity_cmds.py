"""``wf activity complete|fail``: answer a pending activity from the command line, as Temporal's
``temporal activity complete|fail`` do, e.g. a person approving what an activity waits for
(one that called ``activity.raise_complete_async()``).

The activity is named by workflow id, run id (default: the workflow's running run) and activity
id; the answer is for its current attempt. A failure is retried per the activity's retry policy.
"""

from __future__ import annotations

import json
from typing import Any

import click

from worker_sdk._cli.workflow_cmds import _confirm, _connection_options, _on_run, _run, _Settings
from worker_sdk._client import Client
from worker_sdk.errors import ApplicationError


def _parse_json(ctx: click.Context, param: click.Parameter, value: str | None) -> Any:
    if value is None:
        return None
    try:
        return json.loads(value)
    except json.JSONDecodeError as exc:
        raise click.BadParameter(
            f"{value!r} is not JSON ({exc.msg}); a string needs quotes: '\"text\"'", ctx=ctx, param=param
        ) from exc


def _activity_options(f: Any) -> Any:
    """``--workflow-id/-w``, ``--run-id/-r``, ``--activity-id`` and ``--identity``, as Temporal's CLI names them."""
    f = click.option("--identity", help="Who answers, as recorded in the history (default: wf-cli:PID@HOST).")(f)
    f = click.option("--activity-id", required=True, help="The activity's id (its activity_id in the workflow).")(f)
    f = click.option("--run-id", "-r", help="A run of the workflow (default: its running run).")(f)
    return click.option("--workflow-id", "-w", required=True, help="The workflow id.")(f)


def _what(activity_id: str, workflow_id: str, run_id: str | None) -> str:
    return f"activity {activity_id} of {_on_run(workflow_id, run_id)}"


@click.group("activity")
@_connection_options(group=True)
@click.pass_context
def activity_group(ctx: click.Context, address: str, namespace: str, output: str) -> None:
    """Answer pending activities from outside their workers."""
    ctx.obj = _Settings(address=address, namespace=namespace, output=output)


@activity_group.command("complete")
@_activity_options
@click.option("--result", required=True, callback=_parse_json,
              help="The activity's result, as JSON (a string needs quotes: '\"ok\"').")
@_connection_options(group=False)
def complete_cmd(workflow_id: str, run_id: str | None, activity_id: str, identity: str | None, result: Any) -> None:
    """Complete a pending activity with a result: the workflow's execute_activity returns it."""

    async def body(client: Client, settings: _Settings) -> int:
        if identity:
            client.identity = identity
        handle = client.get_async_activity_handle(workflow_id=workflow_id, run_id=run_id, activity_id=activity_id)
        await handle.complete(result)
        return _confirm(settings, f"{_what(activity_id, workflow_id, run_id)} completed",
                        {"workflowId": workflow_id, "runId": run_id, "activityId": activity_id, "result": result})

    _run(body)


@activity_group.command("fail")
@_activity_options
@click.option("--reason", default="", help="Why the activity failed: the failure's message.")
@click.option("--detail", callback=_parse_json, help="Details of the failure, as JSON.")
@_connection_options(group=False)
def fail_cmd(
    workflow_id: str, run_id: str | None, activity_id: str, identity: str | None, reason: str, detail: Any
) -> None:
    """Fail a pending activity's current attempt: it is retried per its retry policy, and once
    that gives up the workflow sees an ActivityError whose cause is an ApplicationError with the reason."""

    async def body(client: Client, settings: _Settings) -> int:
        if identity:
            client.identity = identity
        handle = client.get_async_activity_handle(workflow_id=workflow_id, run_id=run_id, activity_id=activity_id)
        details = () if detail is None else (detail,)
        await handle.fail(ApplicationError(reason or "failed from the command line", *details))
        return _confirm(settings, f"{_what(activity_id, workflow_id, run_id)} failed",
                        {"workflowId": workflow_id, "runId": run_id, "activityId": activity_id,
                         "reason": reason, "detail": detail})

    _run(body)
