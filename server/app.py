"""Assembly of one ``wf server`` process: database pool, history, matching, timers, gRPC."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Sequence
from urllib.parse import urlsplit

import asyncpg
import grpc

from wf.history.audit import AuditStore
from wf.history.namespaces import Namespaces
from wf.history.notify import Notifier
from wf.history.outage import DatabaseHealth
from wf.history.retention import RetentionSettings
from wf.history.service import HistoryService
from wf.history.store import Store
from wf.history.timers import TimerProcessor
from wf.history.tokens import TaskTokens
from wf.matching import Matcher
from wf.server.audit import AuditLog
from wf.server.auth.keys import ApiKeys
from wf.server.auth.link import Authentication, Authorization
from wf.server.auth.subjects import load as load_subjects
from wf.server.checks import RequestChecks
from wf.server.config import ServerConfig
from wf.server.frontend import WorkflowService
from wf.server.health import DatabaseProbe, add_health_and_reflection
from wf.server.pipeline import (
    SERVICE,
    Interceptor,
    NamespaceCheck,
    Pipeline,
    Telemetry,
    Validation,
    decoder,
    unary_methods,
)
from wf.server.tls import CertificateFiles, TlsFiles
from wf.v1 import service_pb2
from wf.v1.auth_pb2 import ROLE_CLUSTER_ADMIN

log = logging.getLogger(__name__)

# The server's own keepalive pings: a client that vanished without closing its connection (its
# machine died, a network partition) is found within a minute and a half, and its Multiplex stream and
# polls end rather than wait for the operating system's TCP timeout (hours).
_KEEPALIVE_TIME_MS = 60_000
_KEEPALIVE_TIMEOUT_MS = 20_000


def asyncpg_dsn(url: str) -> str:
    """A ``postgresql://`` URL as asyncpg takes it (SQLAlchemy's ``+asyncpg`` suffix removed)."""
    scheme = urlsplit(url).scheme
    if scheme not in ("postgresql", "postgres", "postgresql+asyncpg"):
        raise ValueError(f"not a PostgreSQL URL: {url!r} (expected postgresql://user@host:port/db)")
    return "postgresql" + url[len(scheme):]


async def _keep_session(conn: asyncpg.Connection) -> None:
    """Pool connections carry no session state (no SET, LISTEN or advisory locks), so returning one
    to the pool needs no reset query: that saves a round trip on every statement."""


def _report_end(task: asyncio.Task[None]) -> None:
    """A background loop ends only when the server stops; one that ends otherwise is said loudly,
    since whatever it does (firing timers) stops with it."""
    if not task.cancelled() and task.exception() is not None:
        log.error("background task %s ended; the server must be restarted", task.get_name(),
                  exc_info=task.exception())


def interceptors(
    config: ServerConfig, added: Sequence[Interceptor] = (), namespaces: Namespaces | None = None,
    audit: Interceptor | None = None, auth: tuple[Authentication, Authorization] | None = None,
) -> list[Interceptor]:
    """The call pipeline's links after its error mapping, outermost first (see ``server/pipeline.py``):

    telemetry, the audit log, authentication, validation, authorization, the namespace check, then
    ``added``.

    ``audit``: the audit log's link (``server/audit.py``), outside authentication so that it sees the
    principal decided and records every refusal, those of authentication included.

    ``auth``: the authentication and authorization links (``server/auth/link.py``). Authentication
    comes before anything reads the request, so a caller without credentials learns nothing of it;
    authorization comes before the namespace check, so only a caller holding a role in a namespace
    learns whether it exists.

    ``namespaces``: the registry the namespace check asks (none: no check).

    ``added`` see every call that passed all of these, whether it came as its own RPC or on a
    Multiplex stream.
    """
    authentication, authorization = auth if auth is not None else (None, None)
    links: list[Interceptor | None] = [
        Telemetry(),
        audit,
        authentication,
        Validation(RequestChecks(config.limits).by_method()),
        authorization,
        NamespaceCheck(namespaces.known, namespaces.check) if namespaces is not None else None,
        *added,
    ]
    return [link for link in links if link is not None]


def grpc_options(config: ServerConfig) -> list[tuple[str, int]]:
    """The gRPC server's channel options: message sizes and the keepalive policy.

    gRPC's default policy refuses a client's pings more often than every 5 minutes, and only while
    calls are in flight; clients ping every 30 s (the SDK, as Temporal's do) to find dead connections,
    so a client idle on an open stream would be sent ``GOAWAY too_many_pings`` and lose its calls.
    The server accepts pings every ``min_client_ping_interval`` seconds, with or without calls.
    """
    return [
        ("grpc.max_receive_message_length", config.max_grpc_message_bytes),
        ("grpc.max_send_message_length", -1),
        ("grpc.so_reuseport", 0),
        ("grpc.keepalive_permit_without_calls", 1),
        ("grpc.http2.min_ping_interval_without_data_ms", max(1, round(config.min_client_ping_interval * 1000))),
        ("grpc.keepalive_time_ms", _KEEPALIVE_TIME_MS),
        ("grpc.keepalive_timeout_ms", _KEEPALIVE_TIMEOUT_MS),
        ("grpc.http2.max_pings_without_data", 0),
    ]


class Server:
    """One running wf server; ``await start()`` then ``await stop()``.

    ``interceptors`` are added to the call pipeline at the place of authorization (see
    :func:`interceptors`).
    """

    def __init__(self, config: ServerConfig, *, interceptors: Sequence[Interceptor] = ()) -> None:
        self.config = config
        self._added = list(interceptors)
        self.port = config.port
        self._grpc: grpc.aio.Server | None = None
        self._service: WorkflowService | None = None
        self._pool: asyncpg.Pool | None = None
        self._notifier: Notifier | None = None
        self._tokens: TaskTokens | None = None
        self._background: list[asyncio.Task[None]] = []
        self._probe: DatabaseProbe | None = None
        self.history: HistoryService | None = None
        self.matcher: Matcher | None = None
        self.timers: TimerProcessor | None = None
        self.bootstrap_key: str | None = None
        """The cluster-admin key made at the first start with ``--auth required`` (none before)."""
        # The TLS certificate files being served, when the port serves TLS.
        self.certificates: CertificateFiles | None = None
        self.audit: AuditLog | None = None
        self.api_keys: ApiKeys | None = None
        """The API key table the authentication link verifies keys with."""

    async def start(self) -> None:
        cfg = self.config
        dsn = asyncpg_dsn(cfg.db_url)
        # No floor of connections (min_size 0): connections open as calls need them. With a floor,
        # asyncpg reconnects in the background while the database is down and logs a traceback for
        # each attempt, past the server's own outage log.
        self._pool = await asyncpg.create_pool(
            dsn, min_size=0, max_size=cfg.db_pool_size, reset=_keep_session
        )
        # One log of database outages for the process: its store, notifier and call pipeline report to it.
        health = DatabaseHealth()
        self._notifier = Notifier(dsn, health)
        await self._notifier.start()
        store = Store(self._pool, health)
        # The keys that sign task tokens, shared by every server of the database (the first to start
        # generates one), read before the first task is handed out.
        self._tokens = tokens = TaskTokens(store)
        await tokens.start(self._notifier)
        matcher = Matcher(store, self._notifier)
        history = HistoryService(
            store,
            self._notifier,
            cfg.limits,
            on_tasks=matcher.offer,
            reserve=matcher.reserve,
            tokens=tokens,
            start_concurrency=max(1, cfg.db_pool_size // 4),
        )
        timers = TimerProcessor(history, poll_interval=cfg.timer_poll_interval)
        history.on_timer = timers.wake
        self.history = history
        self.matcher = matcher
        self.timers = timers
        self._background.append(asyncio.create_task(timers.run(), name="wf-timers"))
        # What this server saw of pollers, written for the other servers every few seconds.
        self._background.append(asyncio.create_task(matcher.poller_log.run(), name="wf-pollers"))
        # The registered namespaces, checked on every call, and the deletion of runs past their
        # namespace's retention, in small batches shared with the other servers.
        await history.namespaces.start(self._notifier)
        # The search attributes registered per namespace, held in memory the same way.
        await history.search_attributes.start(self._notifier)
        history.retention.settings = RetentionSettings(
            cfg.retention_batch_size, cfg.retention_pause, cfg.retention_idle
        )
        self._background.append(asyncio.create_task(history.retention.run(), name="wf-retention"))
        # The schedules' loop: takes each schedule's due times, with every other server of the database.
        self._background.append(asyncio.create_task(history.schedules.scheduler.run(), name="wf-schedules"))
        for task in self._background:
            task.add_done_callback(_report_end)

        self._grpc = grpc.aio.server(options=grpc_options(cfg))
        self._service = service = WorkflowService(cfg, history, matcher)
        auth = await self._start_auth(service, tokens)
        # The one call pipeline, served as the service's RPCs and on its Multiplex streams.
        pipeline = Pipeline(
            unary_methods(service),
            interceptors(cfg, self._added, history.namespaces, self._start_audit(store, tokens), auth),
            health=health,
        )
        service.attach(pipeline)
        handlers = pipeline.grpc_handlers()
        handlers["Multiplex"] = grpc.stream_stream_rpc_method_handler(
            service.Multiplex,
            # A corrupt stream message ends the stream with INVALID_ARGUMENT (server/multiplex.py).
            request_deserializer=decoder(service_pb2.MultiplexRequest),
            response_serializer=service_pb2.MultiplexResponse.SerializeToString,
        )
        self._grpc.add_generic_rpc_handlers((grpc.method_handlers_generic_handler(SERVICE, handlers),))
        self._grpc.add_registered_method_handlers(SERVICE, handlers)
        # grpc.health.v1 and reflection, outside the pipeline (server/health.py); the first probe
        # runs before the port opens, so no caller ever sees a status the database did not earn.
        self._probe = probe = DatabaseProbe(self._pool, add_health_and_reflection(self._grpc))
        await probe.update()
        self._background.append(asyncio.create_task(probe.run(), name="wf-health"))
        self.port = self._listen(self._grpc)
        if self.port == 0:
            raise OSError(f"cannot listen on {cfg.host}:{cfg.port} (is another server using the port?)")
        await self._grpc.start()
        log.info("wf server listening on %s:%d", cfg.host, self.port)

    async def _start_auth(self, service: WorkflowService, tokens: TaskTokens) -> tuple[Authentication, Authorization]:
        """The pipeline's authentication and authorization links (``server/auth/``), with the key table
        the service's key RPCs use; with ``--auth required`` and no key yet, a first cluster-admin key,
        printed once to standard output (never logged) so an operator can make the others."""
        cfg = self.config
        assert self._pool is not None
        keys = ApiKeys(self._pool, self._notifier)
        subjects = load_subjects(cfg.auth_subjects) if cfg.auth_subjects else {}

        async def token_namespace(data: bytes) -> str:
            return (await tokens.verify(data)).namespace

        authentication = Authentication(cfg.auth, keys, subjects)
        authorization = Authorization(cfg.auth, token_namespace)
        service.api_keys = self.api_keys = keys
        service.auth_required = authorization.required
        if authorization.required and await keys.count() == 0:
            key, _ = await keys.create("bootstrap-admin", "", ROLE_CLUSTER_ADMIN, "server (first start)")
            self.bootstrap_key = key
            print(
                "wf: --auth required and no API key exists yet; this cluster-admin key is shown once, now, "
                f"and will not be shown again:\n\n    {key}\n\n"
                "Keep it in a secret store; use it to create the other keys (wf operator api-key create).",
                flush=True,
            )
        log.info("authentication: %s", "required" if authorization.required else "off (every caller is an admin)")
        return authentication, authorization

    def _listen(self, server: grpc.aio.Server) -> int:
        """Open the gRPC port: TLS when the configuration names a certificate (``server/tls.py``),
        plaintext otherwise. Returns the port (0 when it could not be taken)."""
        cfg = self.config
        files = TlsFiles.from_flags(cfg.tls_cert, cfg.tls_key, cfg.tls_client_ca)
        if files is None:
            return server.add_insecure_port(f"{cfg.host}:{cfg.port}")
        self.certificates = CertificateFiles(files)
        return server.add_secure_port(f"{cfg.host}:{cfg.port}", self.certificates.credentials())

    @property
    def address(self) -> str:
        return f"{self.config.host}:{self.port}"

    async def stop(self, grace: float = 5.0) -> None:
        """Stop taking requests, let running ones finish for ``grace`` seconds, then close."""
        # Waiting polls (of tasks and of histories) answer empty and streams end once their calls are
        # answered, so workers and clients go on with another server at once rather than after the
        # grace period.
        if self._probe is not None:
            await self._probe.stop()
        if self._service is not None:
            self._service.stop_streams()
        if self.matcher is not None:
            self.matcher.close()
        if self.history is not None:
            self.history.stop_waits()
        if self._grpc is not None:
            await self._grpc.stop(grace)
        for task in self._background:
            task.cancel()
        await asyncio.gather(*self._background, return_exceptions=True)
        if self._tokens is not None:
            self._tokens.close()
        if self.history is not None:
            self.history.namespaces.close()
            self.history.search_attributes.close()
        if self._notifier is not None:
            await self._notifier.close()
        if self.audit is not None:
            await self.audit.close()  # the lines of the last second, before the pool closes
        if self._pool is not None:
            await self._pool.close()

    def _start_audit(self, store: Store, tokens: TaskTokens) -> AuditLog:
        """The audit log's link, and its background writer (``server/audit.py``); ``tokens`` name the
        run of a call by task token."""
        self.audit = audit = AuditLog(AuditStore(store), token_of=tokens.verify)
        task = asyncio.create_task(audit.run(), name="wf-audit")
        task.add_done_callback(_report_end)
        self._background.append(task)
        return audit

    def debug_state(self) -> str:
        """What the background tasks, the timer processor, the matcher, the notifier and the schedules'
        loop hold now (``server/debug.py``); ``wf server start`` logs it on SIGUSR1."""
        from wf.server.debug import describe_state

        return describe_state({"background tasks": self._background, "timers": self.timers,
                               "matcher": self.matcher, "notifier": self._notifier,
                               "schedules": self.history.schedules.scheduler if self.history else None})

    async def wait(self) -> None:
        assert self._grpc is not None
        await self._grpc.wait_for_termination()
