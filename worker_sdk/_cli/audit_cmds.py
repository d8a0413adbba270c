"""``wf operator audit list``: the server's audit log of state-changing calls, newest first.

``--namespace/-n`` (``WF_NAMESPACE``, ``default``) picks the namespace; ``--all-namespaces`` lists
every namespace's lines (a cluster admin's view). ``--since 1h`` keeps the lines of the last hour
(``7d``, ``90m``, ``1h30m``); ``--limit`` caps how many are shown (pages are fetched as needed).
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import click

from wf.v1 import auth_pb2, service_pb2
from worker_sdk._cli import _render as render
from worker_sdk._cli.namespace_cmds import _retention
from worker_sdk._cli.workflow_cmds import _connection_options, _print, _print_json, _run, _Settings
from worker_sdk._client import Client


@click.group("audit")
@_connection_options(group=True)
@click.pass_context
def audit_group(ctx: click.Context, address: str, namespace: str, output: str) -> None:
    """The audit log: who changed what, when, from where, and how it ended."""
    ctx.obj = _Settings(address=address, namespace=namespace, output=output)


def _kind(value: int) -> str:
    name = auth_pb2.IdentityKind.Name(value) if value in auth_pb2.IdentityKind.values() else str(value)
    return name.removeprefix("IDENTITY_KIND_").lower()


def _as_json(e: auth_pb2.AuditEvent) -> dict[str, Any]:
    return {
        "time": render.fmt_time(e.time), "principal": e.principal, "principalKind": _kind(e.principal_kind),
        "method": e.method, "namespace": e.namespace, "workflowId": e.workflow_id, "runId": e.run_id,
        "peer": e.peer, "status": e.status, "detail": e.detail,
    }


@audit_group.command("list")
@click.option("--since", callback=_retention, default=None,
              help="Only the lines of this last while: 1h, 7d, 90m (default: all that are kept).")
@click.option("--all-namespaces", is_flag=True, help="Every namespace's lines, not only --namespace's.")
@click.option("--limit", type=click.IntRange(min=1), default=100, show_default=True,
              help="Most lines shown.")
@_connection_options(group=False)
def list_cmd(since: timedelta | None, all_namespaces: bool, limit: int) -> None:
    """List the audit log's lines, newest first."""

    async def body(client: Client, settings: _Settings) -> int:
        request = service_pb2.ListAuditEventsRequest(
            namespace="" if all_namespaces else settings.namespace, page_size=min(limit, 1000)
        )
        if since is not None:
            request.start_time.FromDatetime(datetime.now(UTC) - since)
        found: list[auth_pb2.AuditEvent] = []
        while len(found) < limit:
            resp = await client.call(client.service.ListAuditEvents, request)
            found.extend(resp.events)
            if not resp.next_page_token:
                break
            request.next_page_token = resp.next_page_token
        found = found[:limit]
        if settings.json:
            _print_json([_as_json(e) for e in found])
            return 0
        from rich.table import Table
        from rich.text import Text

        table = Table(box=None, header_style="bold", pad_edge=False)
        for column in ("Time", "Principal", "Method", "Namespace", "Workflow Id", "Status", "Peer", "Detail"):
            table.add_column(column, overflow="fold")
        for e in found:
            table.add_row(*(Text(v) for v in (
                render.fmt_time(e.time), e.principal, e.method, e.namespace, e.workflow_id, e.status, e.peer,
                e.detail,
            )))
        _print(table)
        return 0

    _run(body)


__all__ = ["audit_group"]
