"""Signing in and out, and the gate every page passes first.

The gate asks the server, once, who the UI itself is (``GetCallerIdentity`` on its own connection).
A server without auth, or one that recognises the UI's own client certificate (mutual TLS: the
single-operator setup), needs no sign-in: every page is served with that identity. Otherwise each
person signs in with an API key: the key is checked with ``GetCallerIdentity``, kept in this
process's session store (``wf.ui.session``) and used for that person's calls only.
"""

from __future__ import annotations

from typing import TYPE_CHECKING
from urllib.parse import urlencode

import grpc
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from wf.ui.connection import CALL_TIMEOUT, REFUSED
from wf.ui.csrf import COOKIE as CSRF_COOKIE
from wf.ui.csrf import FIELD
from wf.ui.session import COOKIE, ApiKeyCredential, Identity, Viewer
from wf.v1 import auth_pb2
from wf.v1 import service_pb2 as S
from worker_sdk import Client
from worker_sdk._tls import host_of, is_loopback
from worker_sdk.errors import RPCError

if TYPE_CHECKING:
    from wf.ui.app import Ui

# A server from before authentication answers GetCallerIdentity with one of these: it has no auth.
NO_AUTH = (grpc.StatusCode.UNIMPLEMENTED, grpc.StatusCode.FAILED_PRECONDITION)
ANONYMOUS = Identity("anonymous", auth_pb2.IDENTITY_KIND_ANONYMOUS, (), auth_required=True)


async def caller_identity(client: Client, namespace: str) -> Identity:
    answer = await client.call(
        client.service.GetCallerIdentity, S.GetCallerIdentityRequest(namespace=namespace),
        timeout=CALL_TIMEOUT.total_seconds(), retry=False,
    )
    return Identity.from_proto(answer)


async def own_identity(ui: Ui) -> Identity:
    """Who the UI's own connection is: anonymous (sign-in needed when auth is required), its client
    certificate's subject, or anyone at all on a server without auth. Asked once; asked again after
    the server refuses a call as unauthenticated."""
    if ui.own is not None:
        return ui.own
    try:
        client = await ui.connections.client(ui.namespace)
        found = await caller_identity(client, ui.namespace)
    except RPCError as exc:
        if exc.status == grpc.StatusCode.UNAUTHENTICATED:
            found = ANONYMOUS
        elif exc.status in NO_AUTH:
            found = Identity("anonymous", auth_pb2.IDENTITY_KIND_ANONYMOUS, (), auth_required=False)
        else:
            raise
    ui.own = found
    return found


def signs_in(identity: Identity) -> bool:
    return identity.auth_required and identity.kind == auth_pb2.IDENTITY_KIND_ANONYMOUS


async def gate(ui: Ui, request: Request) -> Viewer | Response:
    """The viewer of this request, or the redirect to the sign-in page (or the refusal of a request
    addressed by a name the UI does not answer to, when it serves everyone without sign-in)."""
    own = await own_identity(ui)
    if not signs_in(own):
        if not addressed_as_allowed(ui, request):
            return misaddressed(ui, request)
        return Viewer(own if own.auth_required else None)
    session = await ui.sessions.get(request.cookies.get(COOKIE))
    if session is None:
        return to_login(request)
    return Viewer(session.identity, session)


def addressed_as_allowed(ui: Ui, request: Request) -> bool:
    """Whether the request's ``Host`` is one the UI answers to without sign-in (``Ui.host_check``)."""
    if ui.host_check is None:
        return True
    name = host_of(request.headers.get("host", "")).lower()
    return is_loopback(name) or name in ui.host_check


def misaddressed(ui: Ui, request: Request) -> Response:
    message = (
        "This web UI serves everyone without sign-in, so it answers only requests addressed to this "
        "machine by a loopback name (localhost, 127.0.0.1, [::1]): a web page could otherwise point a name "
        "of its own here and read it. To reach it by another name through a proxy on this machine, start "
        "it with --allowed-host NAME (wf ui) or --ui-allowed-host NAME (wf server)."
    )
    return ui.page(request, "error.html", 421, namespace=ui.namespace, title="Misdirected request",
                   message=message)


def to_login(request: Request) -> Response:
    target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
    response = RedirectResponse(f"/login?{urlencode({'next': target})}", status_code=303)
    response.delete_cookie(COOKIE, path="/")
    return response


def safe_next(value: object) -> str:
    """Where to go after signing in: a path of this UI only (never another site)."""
    text = str(value or "")
    if not text.startswith("/") or text.startswith("//") or "\\" in text:
        return "/"
    return text


async def login(ui: Ui, request: Request) -> Response:
    """GET: the form. POST: check the key with the server; on success a session and its cookie."""
    if request.method == "GET":
        own = await own_identity(ui)
        if not signs_in(own):
            return RedirectResponse("/", status_code=303)
        return ui.page(request, "login.html", namespace=ui.namespace, title="Sign in",
                       next=safe_next(request.query_params.get("next")))
    form = await request.form()
    target = safe_next(form.get("next"))

    def refused(status: int, message: str) -> Response:
        return ui.page(request, "login.html", status, namespace=ui.namespace, title="Sign in", next=target,
                       message=message)

    if not ui.csrf.check(request.cookies.get(CSRF_COOKIE), str(form.get(FIELD) or "")):
        return refused(403, "This form did not carry this UI's security token (CSRF). Reload the page and "
                            "try again.")
    key = str(form.get("api_key") or "").strip()
    if not key:
        return refused(400, "Enter an API key.")
    credential = ApiKeyCredential(key)
    connections = ui.connections.with_credential(credential.connect_kwargs())
    try:
        identity = await caller_identity(await connections.client(ui.namespace), ui.namespace)
    except RPCError as exc:
        await connections.close()
        if exc.status in REFUSED:
            return refused(401, f"That API key was not accepted: {exc.message}")
        raise
    except BaseException:
        await connections.close()
        raise
    if identity.kind == auth_pb2.IDENTITY_KIND_ANONYMOUS:
        await connections.close()
        return refused(401, "That API key was not accepted.")
    session = ui.sessions.create(identity, credential, connections)
    response = RedirectResponse(target, status_code=303)
    response.set_cookie(COOKIE, session.id, httponly=True, samesite="strict", path="/",
                        secure=request.url.scheme == "https")
    return response


async def logout(ui: Ui, request: Request) -> Response:
    """Sign out (a POST with the page's CSRF token): the session's clients are closed, its id forgotten."""
    form = await request.form()
    if not ui.csrf.check(request.cookies.get(CSRF_COOKIE), str(form.get(FIELD) or "")):
        return ui.page(request, "error.html", 403, namespace=ui.namespace, title="Action refused",
                       message="This form did not carry this UI's security token (CSRF); you are still signed in.")
    sid = request.cookies.get(COOKIE)
    if sid:
        await ui.sessions.drop(sid)
    response = RedirectResponse("/login", status_code=303)
    response.delete_cookie(COOKIE, path="/", secure=request.url.scheme == "https", httponly=True,
                           samesite="strict")
    return response
