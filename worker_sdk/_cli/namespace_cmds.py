"""``wf operator namespace create|describe|list|update|delete``, as Temporal's ``temporal operator namespace``.

The namespace acted on is the positional argument, else ``--namespace/-n`` (``WF_NAMESPACE``,
``default``), as Temporal's CLI takes it. ``--retention`` takes a duration with a unit: ``7d``,
``72h``, ``90m``, ``1h30m``; closed runs are deleted that long after they close. Deleting asks to
type the namespace's name unless ``--yes``.
"""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Any

import click

from worker_sdk._cli import _render as render
from worker_sdk._cli.workflow_cmds import CliError, _connection_options, _print, _print_json, _run, _Settings
from worker_sdk._client import Client
from worker_sdk._namespaces import NamespaceDescription

_UNITS = {"d": 86_400, "h": 3_600, "m": 60, "s": 1}
_DURATION = re.compile(r"(\d+(?:\.\d+)?)([dhms])")


def parse_duration(text: str) -> timedelta:
    """``7d``, ``72h``, ``1h30m``, ``45s`` as a timedelta; ValueError for anything else."""
    text = text.strip().lower()
    if not text or _DURATION.sub("", text):
        raise ValueError(text)
    return timedelta(seconds=sum(float(n) * _UNITS[u] for n, u in _DURATION.findall(text)))


def shown_duration(d: timedelta) -> str:
    """A duration as ``--retention`` takes it, in its largest whole unit: ``7d``, ``36h``, ``90s``."""
    seconds = int(d.total_seconds())
    for unit, size in _UNITS.items():
        if seconds and seconds % size == 0:
            return f"{seconds // size}{unit}"
    return "0s"


def _retention(ctx: click.Context, param: click.Parameter, value: str | None) -> timedelta | None:
    if value is None:
        return None
    try:
        return parse_duration(value)
    except ValueError:
        raise click.BadParameter(f"{value!r} is not a duration: write it as 7d, 72h, 90m or 1h30m", ctx=ctx,
                                 param=param) from None


def _target(name: str | None) -> str:
    """The namespace a command acts on: its argument, else ``--namespace``."""
    settings = click.get_current_context().find_object(_Settings) or _Settings()
    return name or settings.namespace


def _as_json(d: NamespaceDescription) -> dict[str, Any]:
    return {
        "name": d.name, "state": d.state, "description": d.description, "ownerEmail": d.owner_email,
        "retention": shown_duration(d.retention), "createTime": d.create_time, "updateTime": d.update_time,
    }


def _show(d: NamespaceDescription, settings: _Settings) -> None:
    if settings.json:
        _print_json(_as_json(d))
        return
    _print(render.key_values([
        ("Name", d.name),
        ("State", d.state),
        ("Description", d.description),
        ("Owner email", d.owner_email),
        ("Retention", shown_duration(d.retention)),
        ("Created", render.fmt_time(d.create_time)),
        ("Updated", render.fmt_time(d.update_time)),
    ]))


_name_argument = click.argument("name", metavar="[NAMESPACE]", required=False)


@click.group("namespace")
@_connection_options(group=True)
@click.pass_context
def namespace_group(ctx: click.Context, address: str, namespace: str, output: str) -> None:
    """Register, describe, list, update and delete namespaces."""
    ctx.obj = _Settings(address=address, namespace=namespace, output=output)


@namespace_group.command("create")
@_name_argument
@click.option("--retention", callback=_retention, default="72h", show_default=True,
              help="How long closed runs are kept before they are deleted with their history: 7d, 72h, 90m.")
@click.option("--description", default="", help="What the namespace is for.")
@click.option("--email", default="", help="The owner's email address.")
@_connection_options(group=False)
def create_cmd(name: str | None, retention: timedelta, description: str, email: str) -> None:
    """Register a namespace (the argument, or --namespace)."""
    target = _target(name)

    async def body(client: Client, settings: _Settings) -> int:
        await client.register_namespace(target, retention=retention, description=description, owner_email=email)
        click.echo(f"Namespace {target} successfully registered.")
        return 0

    _run(body)


@namespace_group.command("describe")
@_name_argument
@_connection_options(group=False)
def describe_cmd(name: str | None) -> None:
    """Show a namespace: its state, description, owner and retention."""
    target = _target(name)

    async def body(client: Client, settings: _Settings) -> int:
        _show(await client.describe_namespace(target), settings)
        return 0

    _run(body)


@namespace_group.command("list")
@_connection_options(group=False)
def list_cmd() -> None:
    """List the registered namespaces."""

    async def body(client: Client, settings: _Settings) -> int:
        found = await client.list_namespaces()
        if settings.json:
            _print_json([_as_json(d) for d in found])
            return 0
        from rich.table import Table
        from rich.text import Text

        table = Table(box=None, header_style="bold", pad_edge=False)
        for column in ("Name", "State", "Retention", "Description"):
            table.add_column(column, overflow="fold")
        for d in found:
            table.add_row(Text(d.name), Text(d.state), Text(shown_duration(d.retention)), Text(d.description))
        _print(table)
        return 0

    _run(body)


@namespace_group.command("update")
@_name_argument
@click.option("--retention", callback=_retention, help="How long closed runs are kept: 7d, 72h, 90m.")
@click.option("--description", default=None, help="What the namespace is for.")
@click.option("--email", default=None, help="The owner's email address.")
@_connection_options(group=False)
def update_cmd(name: str | None, retention: timedelta | None, description: str | None, email: str | None) -> None:
    """Change a namespace's retention, description or owner (what is not given is kept)."""
    target = _target(name)
    if retention is None and description is None and email is None:
        raise click.UsageError("nothing to update: give --retention, --description or --email")

    async def body(client: Client, settings: _Settings) -> int:
        d = await client.update_namespace(target, retention=retention, description=description, owner_email=email)
        if settings.json:
            _print_json(_as_json(d))
        else:
            click.echo(f"Namespace {target} update succeeded.")
        return 0

    _run(body)


@namespace_group.command("delete")
@_name_argument
@click.option("--yes", "-y", is_flag=True, help="Do not ask for confirmation.")
@_connection_options(group=False)
def delete_cmd(name: str | None, yes: bool) -> None:
    """Delete a namespace with every run in it (running ones too), as Temporal's: calls naming it
    fail at once, and its runs are deleted in the background."""
    target = _target(name)
    if not yes:
        typed = click.prompt(
            f"Are you sure you want to delete namespace {target}? Type namespace name to confirm",
            default="", show_default=False, err=True,
        )
        if typed != target:
            raise CliError(f"namespace {target} not deleted: the name typed did not match")

    async def body(client: Client, settings: _Settings) -> int:
        await client.delete_namespace(target)
        click.echo(f"Namespace {target} has been deleted.")
        return 0

    _run(body)


__all__ = ["namespace_group", "parse_duration", "shown_duration"]
