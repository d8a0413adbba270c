"""``wf``: the command line for wf servers and workflows.

``wf workflow …`` talks to a server over gRPC with the SDK's client. ``wf server …`` and ``wf db …``
need the server packages, which are imported only when those commands run, so the SDK itself never
depends on them.
"""

from __future__ import annotations

import importlib
from typing import Any

import click

# What `wf server` and `wf db` need beyond the SDK (the `server` extra); looked for before they load.
_SERVER_NEEDS = ("asyncpg", "sqlalchemy", "alembic")

_LAZY = {
    "server": ("wf.server.cli", "server_group"),
    "db": ("wf.server.cli", "db_group"),
}


class _Root(click.Group):
    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted([*super().list_commands(ctx), *_LAZY])

    def get_command(self, ctx: click.Context, name: str) -> Any:
        if name in _LAZY:
            module, attr = _LAZY[name]
            try:
                for needed in _SERVER_NEEDS:
                    importlib.import_module(needed)
                return getattr(importlib.import_module(module), attr)
            except ImportError as exc:
                raise click.ClickException(
                    f"`wf {name}` needs the wf server installed (pip install 'wf-workflows[server]'): {exc}"
                ) from exc
        return super().get_command(ctx, name)


@click.group(cls=_Root)
@click.version_option(package_name="wf-workflows", prog_name="wf")
def main() -> None:
    """wf: durable workflows for Python on PostgreSQL."""


def _operator_group() -> click.Group:
    """``wf operator``: its subgroups (``namespace``, ``search-attribute``) live in modules of their own
    and join the one group, whichever registers first."""
    existing = main.commands.get("operator")
    if isinstance(existing, click.Group):
        return existing
    try:
        group: click.Group = importlib.import_module("worker_sdk._cli.operator_cmds").operator_group
    except (ImportError, AttributeError):
        group = click.Group("operator", help="Manage the server: namespaces, search attributes.")
    main.add_command(group)
    return group


def _register() -> None:
    from worker_sdk._cli import workflow_cmds

    importlib.import_module("worker_sdk._cli.repair_cmds")  # adds reset and stack to the workflow group
    main.add_command(workflow_cmds.workflow_group)
    main.add_command(importlib.import_module("worker_sdk._cli.task_queue_cmds").task_queue_group)
    main.add_command(importlib.import_module("worker_sdk._cli.replay_cmd").replay_cmd)
    main.add_command(importlib.import_module("worker_sdk._cli.activity_cmds").activity_group)
    _operator_group().add_command(importlib.import_module("worker_sdk._cli.namespace_cmds").namespace_group)
    _operator_group().add_command(importlib.import_module("worker_sdk._cli.audit_cmds").audit_group)
    importlib.import_module("worker_sdk._cli.api_key_cmds")  # adds api-key to the operator group
    main.add_command(importlib.import_module("worker_sdk._cli.ui_cmd").ui_cmd)
    main.add_command(importlib.import_module("worker_sdk._cli.schedule_cmds").schedule_group)


def _register_codec_server() -> None:
    """``wf codec-server``: its own module; Starlette and uvicorn load only when it runs."""
    main.add_command(importlib.import_module("worker_sdk._cli.codec_server").codec_server_cmd)


try:
    _register()
    _register_codec_server()
except ImportError:  # pragma: no cover - during bootstrap, before the workflow commands exist
    pass
