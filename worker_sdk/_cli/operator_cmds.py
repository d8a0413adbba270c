"""``wf operator``: the namespace's setup, as Temporal's CLI has it.

``wf operator search-attribute create --name N --type T | list | remove --name N``: the custom search
attributes a namespace registers, which start, upsert and list queries then accept.
"""

from __future__ import annotations

import click

from worker_sdk._cli import _render as render
from worker_sdk._cli.workflow_cmds import _confirm, _connection_options, _print, _print_json, _run, _Settings
from worker_sdk._client import Client
from worker_sdk._visibility import SearchAttributeIndexedValueType

_TYPES = [t.label for t in SearchAttributeIndexedValueType]


@click.group("operator")
def operator_group() -> None:
    """Set up namespaces: their search attributes."""


@operator_group.group("search-attribute")
@_connection_options(group=True)
@click.pass_context
def search_attribute_group(ctx: click.Context, address: str, namespace: str, output: str) -> None:
    """Register, list and remove the namespace's custom search attributes."""
    ctx.obj = _Settings(address=address, namespace=namespace, output=output)


@search_attribute_group.command("create")
@click.option("--name", "names", required=True, multiple=True, help="The attribute's name; repeat it for several.")
@click.option("--type", "types", required=True, multiple=True, type=click.Choice(_TYPES, case_sensitive=False),
              help="Its type; one for all names, or one per --name in order.")
@_connection_options(group=False)
def create_cmd(names: tuple[str, ...], types: tuple[str, ...]) -> None:
    """Register custom search attributes (a name registered with the same type is accepted again)."""
    if len(types) not in (1, len(names)):
        raise click.UsageError("give one --type for all names, or one --type per --name")
    chosen = [SearchAttributeIndexedValueType.from_label(t) for t in (types * len(names) if len(types) == 1 else types)]

    async def body(client: Client, settings: _Settings) -> int:
        await client.add_search_attributes(dict(zip(names, chosen, strict=True)))
        listed = ", ".join(f"{n} ({t.label})" for n, t in zip(names, chosen, strict=True))
        return _confirm(settings, f"Search attributes added: {listed}",
                        {"added": {n: t.label for n, t in zip(names, chosen, strict=True)}})

    _run(body)


@search_attribute_group.command("list")
@_connection_options(group=False)
def list_cmd() -> None:
    """List the namespace's custom search attributes and their types."""

    async def body(client: Client, settings: _Settings) -> int:
        found = await client.list_search_attributes()
        if settings.json:
            _print_json({"customAttributes": {n: t.label for n, t in found.items()}})
        else:
            _print(render.key_values([(name, t.label) for name, t in found.items()] or [("(none)", "")]))
        return 0

    _run(body)


@search_attribute_group.command("remove")
@click.option("--name", "names", required=True, multiple=True, help="The attribute's name; repeat it for several.")
@click.option("--yes", "-y", is_flag=True, help="Do not ask for confirmation.")
@_connection_options(group=False)
def remove_cmd(names: tuple[str, ...], yes: bool) -> None:
    """Unregister custom search attributes: queries and new values may no longer name them (values
    already stored stay in their runs)."""
    if not yes and not click.confirm(f"Remove search attributes {', '.join(names)}?", default=False, err=True):
        raise click.Abort()

    async def body(client: Client, settings: _Settings) -> int:
        await client.remove_search_attributes(list(names))
        return _confirm(settings, f"Search attributes removed: {', '.join(names)}", {"removed": list(names)})

    _run(body)
