"""Assembly of one ``wf server`` process: database pool, history, matching, timers, gRPC."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Sequence
from urllib.parse import urlsplit

import asyncpg
import grpc

from wf.history.notify import Notifier
from wf.history.service import HistoryService
from wf.history.store import Store
from wf.history.timers import TimerProcessor
from wf.matching import Matcher
from wf.server.checks import RequestChecks
from wf.server.config import ServerConfig
from wf.server.frontend import WorkflowService
from wf.server.pipeline import SERVICE, Interceptor, Pipeline, Telemetry, Validation, unary_methods
from wf.v1 import service_pb2

log = logging.getLogger(__name__)


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


def interceptors(config: ServerConfig, added: Sequence[Interceptor] = ()) -> list[Interceptor]:
    """The call pipeline's links after its error mapping, outermost first (see ``server/pipeline.py``).

    ``added`` go where authentication and authorization belong, after validation and inside
    telemetry: an API-key check or an authorizer plugs in there and sees every call, whether it came
    as its own RPC or on a Multiplex stream. wf has none of its own yet.
    """
    return [Telemetry(), Validation(RequestChecks(config.limits).by_method()), *added]


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
        self._background: list[asyncio.Task[None]] = []
        self.history: HistoryService | None = None
        self.matcher: Matcher | None = None
        self.timers: TimerProcessor | None = None

    async def start(self) -> None:
        cfg = self.config
        dsn = asyncpg_dsn(cfg.db_url)
        self._pool = await asyncpg.create_pool(
            dsn, min_size=2, max_size=cfg.db_pool_size, reset=_keep_session
        )
        self._notifier = Notifier(dsn)
        await self._notifier.start()
        store = Store(self._pool)
        matcher = Matcher(store, self._notifier)
        history = HistoryService(
            store,
            self._notifier,
            cfg.limits,
            on_tasks=matcher.offer,
            reserve=matcher.reserve,
            start_concurrency=max(1, cfg.db_pool_size // 4),
        )
        timers = TimerProcessor(history, poll_interval=cfg.timer_poll_interval)
        history.on_timer = timers.wake
        self.history = history
        self.matcher = matcher
        self.timers = timers
        self._background.append(asyncio.create_task(timers.run(), name="wf-timers"))
        for task in self._background:
            task.add_done_callback(_report_end)

        self._grpc = grpc.aio.server(
            options=[
                ("grpc.max_receive_message_length", cfg.max_grpc_message_bytes),
                ("grpc.max_send_message_length", -1),
                ("grpc.so_reuseport", 0),
            ]
        )
        self._service = service = WorkflowService(cfg, history, matcher)
        # The one call pipeline, served as the service's RPCs and on its Multiplex streams.
        pipeline = Pipeline(unary_methods(service), interceptors(cfg, self._added))
        service.attach(pipeline)
        handlers = pipeline.grpc_handlers()
        handlers["Multiplex"] = grpc.stream_stream_rpc_method_handler(
            service.Multiplex,
            request_deserializer=service_pb2.MultiplexRequest.FromString,
            response_serializer=service_pb2.MultiplexResponse.SerializeToString,
        )
        self._grpc.add_generic_rpc_handlers((grpc.method_handlers_generic_handler(SERVICE, handlers),))
        self._grpc.add_registered_method_handlers(SERVICE, handlers)
        self.port = self._grpc.add_insecure_port(f"{cfg.host}:{cfg.port}")
        if self.port == 0:
            raise OSError(f"cannot listen on {cfg.host}:{cfg.port} (is another server using the port?)")
        await self._grpc.start()
        log.info("wf server listening on %s:%d", cfg.host, self.port)

    @property
    def address(self) -> str:
        return f"{self.config.host}:{self.port}"

    async def stop(self, grace: float = 5.0) -> None:
        """Stop taking requests, let running ones finish for ``grace`` seconds, then close."""
        # Waiting polls (of tasks and of histories) answer empty and streams end once their calls are
        # answered, so workers and clients go on with another server at once rather than after the
        # grace period.
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
        if self._notifier is not None:
            await self._notifier.close()
        if self._pool is not None:
            await self._pool.close()

    def debug_state(self) -> str:
        """What the background tasks, the timer processor, the matcher and the notifier hold now (``server/debug.py``);
        ``wf server start`` logs it on SIGUSR1."""
        from wf.server.debug import describe_state

        return describe_state({"background tasks": self._background, "timers": self.timers,
                               "matcher": self.matcher, "notifier": self._notifier})

    async def wait(self) -> None:
        assert self._grpc is not None
        await self._grpc.wait_for_termination()
