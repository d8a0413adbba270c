"""``wf task-queue describe``: who polls a task queue, and what waits in it, as Temporal's CLI shows.

A task nobody polls for waits until a worker comes; this is where to look when a workflow seems
stuck: no pollers means no worker runs on that queue (or the one running uses another name).
"""

from __future__ import annotations

from typing import Any

import click
from rich.table import Table
from rich.text import Text

from worker_sdk._cli import _render as render
from worker_sdk._cli.workflow_cmds import _connection_options, _print, _print_json, _run, _Settings
from worker_sdk._client import Client, unpolled_hint


@click.group("task-queue")
@_connection_options(group=True)
@click.pass_context
def task_queue_group(ctx: click.Context, address: str, namespace: str, output: str) -> None:
    """Inspect task queues: their pollers and backlog."""
    ctx.obj = _Settings(address=address, namespace=namespace, output=output)


@task_queue_group.command("describe")
@click.option("--task-queue", "-t", required=True, help="The task queue.")
@_connection_options(group=False)
def describe_cmd(task_queue: str) -> None:
    """List the workers that polled the task queue in the last 5 minutes (workflow and activity
    pollers, with when each last asked) and the tasks waiting in its backlog."""

    async def body(client: Client, settings: _Settings) -> int:
        d = await client.describe_task_queue(task_queue)
        if settings.json:
            out: dict[str, Any] = {
                "taskQueue": d.name,
                "pollers": [
                    {"identity": p.identity, "taskQueueType": p.kind, "lastAccessTime": p.last_access_time}
                    for p in d.pollers
                ],
                "backlog": {"workflowTasks": d.workflow_task_backlog, "activityTasks": d.activity_task_backlog},
            }
            _print_json(out)
            return 0
        rows = render.key_values([
            ("Task queue", d.name),
            ("Workflow task backlog", str(d.workflow_task_backlog)),
            ("Activity task backlog", str(d.activity_task_backlog)),
        ])
        if not d.pollers:
            _print(rows)
            click.echo(f"\n{unpolled_hint(d.name)}")  # one line whatever the width (for grep)
            return 0
        table = Table(box=None, header_style="bold", pad_edge=False)
        for name in ("Poller identity", "Task queue type", "Last access time"):
            table.add_column(name, overflow="fold")
        for p in d.pollers:
            table.add_row(Text(p.identity), Text(p.kind), Text(render.fmt_time(p.last_access_time)))
        _print(rows, Text(""), table)
        return 0

    _run(body)
