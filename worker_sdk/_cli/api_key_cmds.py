"""``wf operator api-key create|list|revoke``: API keys scoped to a namespace and a role.

``create`` prints the key once (only a salted hash is stored); ``create --db URL`` writes it straight
to the database, without a server: how the first cluster-admin key of a server run with ``--auth
required`` is made (the server prints one itself at its first start when no key exists).
"""

from __future__ import annotations

import asyncio
import importlib
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import click
from rich.table import Table

from wf.v1 import auth_pb2, service_pb2
from worker_sdk._cli.namespace_cmds import parse_duration
from worker_sdk._cli.operator_cmds import operator_group
from worker_sdk._cli.workflow_cmds import CliError, _confirm, _connection_options, _print, _print_json, _run, _Settings
from worker_sdk._client import Client

_ROLES = {"reader": auth_pb2.ROLE_READER, "writer": auth_pb2.ROLE_WRITER, "worker": auth_pb2.ROLE_WORKER,
          "admin": auth_pb2.ROLE_ADMIN, "cluster-admin": auth_pb2.ROLE_CLUSTER_ADMIN}
_NAMES = {v: k for k, v in _ROLES.items()}
_ONCE = "This key is shown once and will not be shown again; keep it in a secret store."


@operator_group.group("api-key")
@_connection_options(group=True)
@click.pass_context
def api_key_group(ctx: click.Context, address: str, namespace: str, output: str) -> None:
    """Create, list and revoke API keys (servers run with --auth required check them)."""
    ctx.obj = _Settings(address=address, namespace=namespace, output=output)


def _expiry(ctx: click.Context, param: click.Parameter, value: str | None) -> datetime | None:
    if value is None:
        return None
    try:
        lifetime = parse_duration(value)
    except ValueError:
        raise click.BadParameter(f"{value!r} is not a duration such as 30d, 12h or 90m", ctx=ctx, param=param) from None
    if lifetime.total_seconds() <= 0:
        raise click.BadParameter(f"{value!r}: a key's lifetime must be longer than nothing", ctx=ctx, param=param)
    return datetime.now(UTC) + lifetime


def _shown(info: Any) -> dict[str, Any]:
    return {
        "keyId": info.key_id, "name": info.name, "namespace": info.grant.namespace,
        "role": _NAMES.get(info.grant.role, "?"), "createdBy": info.created_by,
        "created": info.create_time.ToDatetime(tzinfo=UTC).isoformat() if info.HasField("create_time") else None,
        "expires": info.expire_time.ToDatetime(tzinfo=UTC).isoformat() if info.HasField("expire_time") else None,
        "revoked": info.revoke_time.ToDatetime(tzinfo=UTC).isoformat() if info.HasField("revoke_time") else None,
    }


@api_key_group.command("create")
@click.option("--name", required=True, help="What the key is for (shown in lists and the audit log).")
@click.option("--role", required=True, type=click.Choice(list(_ROLES)), help="The key's role in its namespace.")
@click.option("--expires", callback=_expiry, help="Lifetime, e.g. 30d, 12h (default: never expires).")
@click.option("--db", "db_url", help="Write the key straight to this PostgreSQL database "
              "(no server needed: the first admin key).")
@click.option("--db-password-file", type=click.Path(exists=True, dir_okay=False, path_type=Path), default=None,
              help="With --db: a file holding the database password (its first line), as wf server start "
                   "takes it, so the password shows neither in `ps` nor in the shell's history.")
@_connection_options(group=False)
@click.pass_context
def create_cmd(ctx: click.Context, name: str, role: str, expires: datetime | None, db_url: str | None,
               db_password_file: Path | None) -> None:
    """Create a key and print it once."""
    settings = ctx.find_object(_Settings) or _Settings()
    # A cluster admin's grant names no namespace; every other key's is --namespace / WF_NAMESPACE.
    namespace = "" if role == "cluster-admin" else settings.namespace
    if db_password_file is not None and not db_url:
        raise click.UsageError("--db-password-file goes with --db")
    if db_url:
        try:
            keys = importlib.import_module("wf.server.auth.keys")
            server_cli = importlib.import_module("wf.server.cli")
        except ImportError as exc:
            raise CliError("--db needs the wf server installed (pip install 'wf-workflows[server]')") from exc
        refused = importlib.import_module("wf.history.errors").HistoryError
        # The server's own handling: the file's password put into the URL, a warning for one typed in it.
        db_url = server_cli._db_url(db_url, db_password_file)
        try:
            key, info = asyncio.run(keys.create_in_database(db_url, name, namespace, _ROLES[role], expires))
        except (keys.BootstrapError, refused) as exc:  # a name taken or reserved: said as the server would
            raise CliError(str(exc)) from exc
        _print_created(settings, key, info)
        return

    async def body(client: Client, settings: _Settings) -> int:
        request = service_pb2.CreateApiKeyRequest(name=name, grant=auth_pb2.Grant(namespace=namespace,
                                                                                   role=_ROLES[role]))
        if expires is not None:
            request.expire_time.FromDatetime(expires)
        # Not retried: a create the server took before the connection dropped would make two keys.
        resp = await client.call(client.service.CreateApiKey, request, retry=False)
        _print_created(settings, resp.key, resp.info)
        return 0

    _run(body)


def _print_created(settings: _Settings, key: str, info: Any) -> None:
    if settings.json:
        _print_json({"key": key, **_shown(info)})
    else:
        where = f" in {info.grant.namespace}" if info.grant.namespace else ""
        click.echo(f"{key}\n\n{_ONCE}\nKey id {info.key_id}: {info.name}, {_NAMES.get(info.grant.role, '?')}{where}")


@api_key_group.command("list")
@click.option("--all", "all_namespaces", is_flag=True, help="Every namespace's keys (cluster admins).")
@click.option("--include-revoked", is_flag=True, help="Show revoked keys too.")
@_connection_options(group=False)
def list_cmd(all_namespaces: bool, include_revoked: bool) -> None:
    """List the namespace's keys (never their secrets)."""

    async def body(client: Client, settings: _Settings) -> int:
        resp = await client.call(client.service.ListApiKeys, service_pb2.ListApiKeysRequest(
            namespace="" if all_namespaces else settings.namespace, include_revoked=include_revoked))
        rows = [_shown(k) for k in resp.keys]
        if settings.json:
            _print_json(rows)
        else:
            table = Table("Key id", "Name", "Namespace", "Role", "Created by", "Expires", "Revoked")
            for r in rows:
                table.add_row(r["keyId"], r["name"], r["namespace"], r["role"], r["createdBy"],
                              r["expires"] or "never", r["revoked"] or "")
            _print(table)
        return 0

    _run(body)


@api_key_group.command("revoke")
@click.argument("key_id")
@_connection_options(group=False)
def revoke_cmd(key_id: str) -> None:
    """Revoke a key by its id (servers refuse it within 5 seconds)."""

    async def body(client: Client, settings: _Settings) -> int:
        await client.call(client.service.RevokeApiKey, service_pb2.RevokeApiKeyRequest(key_id=key_id))
        return _confirm(settings, f"API key {key_id} revoked", {"revoked": key_id})

    _run(body)

