"""The UI's ASGI application: routes, templates, and what every page shares (the banner when the
server is down, the CSRF cookie, error pages that never show a traceback)."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from contextlib import asynccontextmanager
from datetime import timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import grpc
from jinja2 import Environment, FileSystemLoader, select_autoescape
from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse, Response
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles

from wf.ui import render
from wf.ui.connection import Connections, is_down
from wf.ui.csrf import COOKIE, FIELD, CsrfTokens
from wf.ui.session import CURRENT, IDLE, Identity, Sessions
from worker_sdk import Client, TLSConfig
from worker_sdk._tls import RenewedTls
from worker_sdk.errors import RPCError

log = logging.getLogger(__name__)
HERE = Path(__file__).parent


class Ui:
    """What the views share: the connections, templates, the CSRF secret, the codec endpoint."""

    def __init__(
        self, address: str, namespace: str, codec_endpoint: str | None, client: Client | None,
        tls: TLSConfig | RenewedTls | bool = False, session_idle: timedelta = IDLE,
    ) -> None:
        self.address = address
        self.namespace = namespace
        self.codec_endpoint = codec_endpoint.rstrip("/") if codec_endpoint else None
        self.codec_auth: str | None = None  # the Authorization header codec.js sends (set by create_app)
        self.connections = Connections(address, client, {"tls": tls})
        self.csrf = CsrfTokens()
        # Signed-in people (when the server requires credentials), and who the UI's own connection is.
        self.sessions = Sessions(session_idle)
        self.own: Identity | None = None
        # A UI listening on a loopback address: the other names it may be addressed by when it serves
        # everyone without sign-in (None: any name; see ``login.gate``).
        self.host_check: tuple[str, ...] | None = None
        self.templates = Environment(
            loader=FileSystemLoader(HERE / "templates"),
            autoescape=select_autoescape(default=True, default_for_string=True),
            enable_async=False,
        )
        self.templates.filters.update(
            when=render.when, status_word=render.status_word, status_class=render.status_class,
            ename=render.event_name, etime=lambda e: render.when(render.event_time(e)),
        )
        self.templates.tests["payload"] = lambda v: isinstance(v, render.Payload)
        self.templates.globals.update(qs=qs, between=render.between, duration=render.duration)

    async def client(self, namespace: str) -> Client:
        """The client of the person this request is for: their session's when signed in."""
        viewer = CURRENT.get()
        if viewer is not None and viewer.session is not None:
            return await viewer.session.connections.client(namespace)
        return await self.connections.client(namespace)

    def page(self, request: Request, template: str, status_code: int = 200, **context: Any) -> HTMLResponse:
        """Render a page; it carries a CSRF token for its forms (the cookie's, or a new one)."""
        token = request.cookies.get(COOKIE)
        fresh = not self.csrf.valid(token)
        if fresh or token is None:
            token = self.csrf.new()
        body = self.templates.get_template(template).render(
            request=request, ui=self, csrf_field=FIELD, csrf_token=token, viewer=CURRENT.get(), **context
        )
        response = HTMLResponse(body, status_code=status_code)
        if fresh:
            # Secure over https, as the session's: cookies are not kept apart by port, so a
            # plain-http request to the same host would otherwise carry it in clear.
            response.set_cookie(COOKIE, token, httponly=True, samesite="strict", path="/",
                                secure=request.url.scheme == "https")
        return response

    def fragment(self, template: str, **context: Any) -> str:
        return self.templates.get_template(template).render(ui=self, viewer=CURRENT.get(), **context)

    def error(self, request: Request, exc: BaseException, namespace: str | None = None) -> HTMLResponse:
        """The page for a call that failed: the banner when the server is down, else the reason."""
        ns = namespace or self.namespace
        if is_down(exc):
            reason = str(exc) if not isinstance(exc, TimeoutError) else "no answer in time"
            return self.page(request, "error.html", 503, namespace=ns, down=reason, title="Server unavailable")
        if isinstance(exc, RPCError):
            code = {
                grpc.StatusCode.NOT_FOUND: 404, grpc.StatusCode.INVALID_ARGUMENT: 400,
                grpc.StatusCode.FAILED_PRECONDITION: 409, grpc.StatusCode.PERMISSION_DENIED: 403,
            }.get(exc.status, 502)
            return self.page(request, "error.html", code, namespace=ns, message=exc.message,
                             title=exc.status.name.replace("_", " ").capitalize())
        log.exception("UI page failed", exc_info=exc)
        return self.page(request, "error.html", 500, namespace=ns, title="Something went wrong",
                         message="The UI could not show this page; its log has the details.")


def qs(**params: Any) -> str:
    """A query string from the parameters that are set (ids percent-encoded, never raw in a URL)."""
    return urlencode({k: v for k, v in params.items() if v not in (None, "")})


Handler = Callable[[Request], Awaitable[Response]]

# Sent with every response: no other site may frame the UI (its buttons signal, cancel, terminate:
# a page that framed it could trick a click), and no response is read as another type than it says.
SECURITY_HEADERS: tuple[tuple[bytes, bytes], ...] = (
    (b"x-frame-options", b"DENY"),
    (b"content-security-policy", b"frame-ancestors 'none'"),
    (b"x-content-type-options", b"nosniff"),
)


class _SecurityHeaders:
    """ASGI middleware adding :data:`SECURITY_HEADERS` to every HTTP response."""

    def __init__(self, app: Any) -> None:
        self.app = app

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def with_headers(message: Any) -> None:
            if message["type"] == "http.response.start":
                message = {**message, "headers": [*message.get("headers", []), *SECURITY_HEADERS]}
            await send(message)

        await self.app(scope, receive, with_headers)


def create_app(
    *,
    address: str,
    namespace: str = "default",
    codec_endpoint: str | None = None,
    client: Client | None = None,
    tls: TLSConfig | RenewedTls | bool = False,
    codec_auth: str | None = None,
    session_idle: timedelta = IDLE,
    host_check: Sequence[str] | None = None,
) -> Starlette:
    """The web UI for the wf server at ``address`` ("host:port"), opening on ``namespace``.

    It connects when a page first needs the server (``client``, when given, serves its namespace and
    is not closed by the app). With ``codec_endpoint`` the browser decodes payloads through that
    codec server (``POST <endpoint>/decode``); this process never decodes them. The app binds
    nothing itself: serve it with any ASGI server. ``tls`` is how its clients connect to a TLS server
    (``Client.connect``'s ``tls=``, or a ``RenewedTls`` re-read when the server's certificate is
    renewed). ``codec_auth`` is the ``Authorization`` header the browser sends
    with codec requests (a codec server started with ``--codec-auth``); every page then carries it, so
    it must be a token meant for the UI's users, never a payload key.

    When the server requires credentials and the UI's own connection has none, each person signs in
    with an API key (``/login``) and their calls carry it; a session unused for ``session_idle`` ends.

    ``host_check`` (a UI listening on a loopback address): while it serves everyone without sign-in,
    it answers only requests addressed to a loopback name or to one of these names, so a web page
    that points a name of its own at 127.0.0.1 (DNS rebinding) cannot read or drive it.
    """
    from wf.ui.views import actions, live, login, misc, schedules, workflow, workflows

    ui = Ui(address, namespace, codec_endpoint, client, tls, session_idle)
    ui.codec_auth = codec_auth
    ui.host_check = tuple(name.lower() for name in host_check) if host_check is not None else None

    def guarded(view: Callable[[Ui, Request], Awaitable[Response]]) -> Handler:
        async def endpoint(request: Request) -> Response:
            try:
                return await signed_in(view, request)
            except HTTPException:
                raise
            except Exception as exc:  # every failure is a page, never a traceback
                return ui.error(request, exc, request.path_params.get("namespace"))

        return endpoint

    async def signed_in(view: Callable[[Ui, Request], Awaitable[Response]], request: Request) -> Response:
        """Run ``view`` as the request's viewer; to the sign-in page when there is none, or when the
        server no longer accepts the credential (a key revoked or expired)."""
        viewer = await login.gate(ui, request)
        if isinstance(viewer, Response):
            return viewer
        token = CURRENT.set(viewer)
        try:
            return await view(ui, request)
        except RPCError as exc:
            if exc.status != grpc.StatusCode.UNAUTHENTICATED:
                raise
            ui.own = None
            if viewer.session is not None:
                await ui.sessions.drop(viewer.session.id)
            return login.to_login(request)
        finally:
            CURRENT.reset(token)

    def plain(view: Callable[[Ui, Request], Awaitable[Response]]) -> Handler:
        async def endpoint(request: Request) -> Response:
            try:
                return await view(ui, request)
            except Exception as exc:  # every failure is a page, never a traceback
                return ui.error(request, exc)

        return endpoint

    async def home(request: Request) -> Response:
        return RedirectResponse(f"/namespaces/{namespace}/workflows", status_code=302)

    async def not_found(request: Request, exc: Exception) -> Response:
        code = exc.status_code if isinstance(exc, HTTPException) else 500
        detail = exc.detail if isinstance(exc, HTTPException) else "The UI could not show this page."
        return ui.page(request, "error.html", code, namespace=namespace, title=f"Error {code}", message=detail)

    async def crashed(request: Request, exc: Exception) -> Response:
        return ui.error(request, exc)

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        try:
            yield
        finally:
            await ui.sessions.close()
            await ui.connections.close()

    ns = "/namespaces/{namespace}"
    routes = [
        Route("/", home),
        Route("/login", plain(login.login), methods=["GET", "POST"]),
        Route("/logout", plain(login.logout), methods=["POST"]),
        Route(f"{ns}/workflows", guarded(workflows.list_page)),
        Route(f"{ns}/workflow", guarded(workflow.page)),
        Route(f"{ns}/workflow/events", guarded(workflow.events_fragment)),
        Route(f"{ns}/workflow/timeline", guarded(workflow.timeline_fragment)),
        Route(f"{ns}/workflow/stack", guarded(workflow.stack_fragment)),
        Route(f"{ns}/workflow/history.json", guarded(workflow.download)),
        Route(f"{ns}/workflow/live", guarded(live.stream)),
        Route(f"{ns}/workflow/{{action}}", guarded(actions.act), methods=["POST"]),
        Route(f"{ns}/task-queues", guarded(misc.task_queue_page)),
        Route(f"{ns}/schedules", guarded(schedules.list_page)),
        Route(f"{ns}/schedule", guarded(schedules.page)),
        Route(f"{ns}/schedule/{{action}}", guarded(actions.act_on_schedule), methods=["POST"]),
        Route("/namespaces", guarded(misc.namespaces_page)),
        Route(f"{ns}", guarded(misc.namespace_page)),
        Mount("/static", StaticFiles(directory=HERE / "static"), name="static"),
    ]
    app = Starlette(
        routes=routes,
        exception_handlers={HTTPException: not_found, Exception: crashed},
        lifespan=lifespan,
        middleware=[Middleware(_SecurityHeaders)],
    )
    app.state.ui = ui
    return app
