"""The web UI in front of a server that requires credentials: signing in with an API key, the
session cookie, what each role sees and may do, signing out.

A second wf server on the session's database runs with ``--auth required``; the runs the tests look
at are started through the session's server (auth off) on the same database, so the UI sees them.
The UI is driven over HTTP in process (httpx on the app), as the other UI tests drive it.
"""

from __future__ import annotations

import logging
import re
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import timedelta
from typing import Any

import httpx
import pytest
import pytest_asyncio

from tests.auth_helpers import auth_server as requiring_credentials
from tests.ui_helpers import csrf_token, no_traceback, workflow_url
from wf.server.app import Server
from wf.server.auth.keys import ApiKeys
from wf.ui.app import create_app
from wf.ui.session import COOKIE
from wf.v1 import auth_pb2
from worker_sdk import Client, WorkflowExecutionStatus

ACTION_BUTTONS = ("Signal", "Update", "Cancel", "Terminate", "Reset")


@pytest_asyncio.fixture(scope="module", loop_scope="session")
async def auth_server(db_url: str, server: Server) -> AsyncIterator[Server]:
    async with requiring_credentials(db_url) as s:
        yield s


@pytest_asyncio.fixture(scope="module", loop_scope="session")
async def keys(auth_server: Server) -> dict[str, str]:
    """A reader's and a writer's key of namespace default, and a writer's key of another namespace."""
    table = ApiKeys(auth_server._pool)  # type: ignore[arg-type]
    tag = uuid.uuid4().hex[:6]
    made = {}
    for who, namespace, role in [
        ("reader", "default", auth_pb2.ROLE_READER),
        ("writer", "default", auth_pb2.ROLE_WRITER),
        ("other", f"elsewhere-{tag}", auth_pb2.ROLE_WRITER),
    ]:
        made[who], _ = await table.create(f"ui-{who}-{tag}", namespace, role, "tests")
    return made


@asynccontextmanager
async def ui(address: str, **options: Any) -> AsyncIterator[httpx.AsyncClient]:
    app = create_app(address=address, **options)
    try:
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="https://ui.test") as http:
            yield http
    finally:
        await app.state.ui.sessions.close()
        await app.state.ui.connections.close()


async def sign_in(http: httpx.AsyncClient, key: str, next_url: str = "/") -> httpx.Response:
    form = await http.get(f"/login?next={next_url}")
    assert form.status_code == 200, form.text
    return await http.post(
        "/login", data={"csrf_token": csrf_token(form.text), "api_key": key, "next": next_url}
    )


def buttons(page: str) -> set[str]:
    return set(re.findall(r'<button type="submit">([^<]+)</button>', page))


async def started(client: Client) -> tuple[str, str]:
    workflow_id = f"ui-auth-{uuid.uuid4().hex[:8]}"
    handle = await client.start_workflow("NoWorkerHere", id=workflow_id, task_queue=f"q-{uuid.uuid4().hex}")
    return workflow_id, handle.run_id or ""


@pytest.mark.timeout(60)
async def test_a_page_asks_to_sign_in_and_a_good_key_opens_it(
    auth_server: Server, keys: dict[str, str], caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    async with ui(auth_server.address) as http:
        first = await http.get("/namespaces/default/workflows")
        assert first.status_code == 303 and first.headers["location"].startswith("/login?next=")
        form = await http.get(first.headers["location"])
        assert 'type="password" name="api_key"' in form.text and "API key" in form.text and "Sign in" in form.text
        # The form's CSRF cookie is Secure over https too.
        assert form.headers["set-cookie"].startswith("wf_csrf=") and "secure" in form.headers["set-cookie"].lower()

        signed = await sign_in(http, keys["reader"], "/namespaces/default/workflows")
        assert signed.status_code == 303 and signed.headers["location"] == "/namespaces/default/workflows"
        cookie = signed.headers["set-cookie"]
        # The cookie: a random id, HttpOnly, SameSite=Strict, Secure (served over https), Path=/; never the key.
        assert cookie.startswith(f"{COOKIE}=")
        lowered = cookie.lower()
        assert "httponly" in lowered and "samesite=strict" in lowered and "secure" in lowered and "path=/" in lowered
        assert keys["reader"] not in cookie and keys["reader"].split("_")[-1] not in cookie

        page = await http.get("/namespaces/default/workflows")
        assert page.status_code == 200, page.text
        assert "ui-reader-" in page.text and "reader in default" in page.text and "Sign out" in page.text
        assert keys["reader"] not in page.text
        session = http._transport.app.state.ui.sessions  # type: ignore[attr-defined]
        assert len(session) == 1
    assert keys["reader"] not in caplog.text and keys["reader"].split("_")[-1] not in caplog.text


@pytest.mark.timeout(60)
async def test_a_bad_key_is_refused_clearly_and_sets_nothing(auth_server: Server, keys: dict[str, str]) -> None:
    async with ui(auth_server.address) as http:
        bad = "wfk_" + uuid.uuid4().hex + "_not-a-secret"
        refused = await sign_in(http, bad)
        assert refused.status_code == 401
        assert "That API key was not accepted" in refused.text
        assert bad not in refused.text
        no_traceback(refused.text)
        assert COOKIE not in refused.headers.get("set-cookie", "")
        assert COOKIE not in http.cookies
        assert (await http.get("/namespaces/default/workflows")).status_code == 303
        assert len(http._transport.app.state.ui.sessions) == 0  # type: ignore[attr-defined]


@pytest.mark.timeout(60)
async def test_a_reader_sees_no_action_and_a_posted_one_is_refused_by_the_server(
    auth_server: Server, keys: dict[str, str], client: Client
) -> None:
    workflow_id, run_id = await started(client)
    async with ui(auth_server.address) as http:
        await sign_in(http, keys["reader"])
        page = await http.get(workflow_url(workflow_id, run_id))
        assert page.status_code == 200, page.text
        shown = buttons(page.text)
        assert "Query" in shown and not shown & set(ACTION_BUTTONS), shown
        assert keys["reader"] not in page.text

        # The form is absent, but a hand-made POST reaches the server, which refuses it.
        done = await http.post(
            "/namespaces/default/workflow/terminate",
            data={"csrf_token": csrf_token(page.text), "id": workflow_id, "run_id": run_id, "reason": "no"},
        )
        assert done.status_code == 403, done.text
        assert "Terminate failed" in done.text
        no_traceback(done.text)
        assert keys["reader"] not in done.text
    described = await client.get_workflow_handle(workflow_id).describe()
    assert described.status == WorkflowExecutionStatus.RUNNING


@pytest.mark.timeout(60)
async def test_a_writer_sees_the_actions_and_uses_them(
    auth_server: Server, keys: dict[str, str], client: Client
) -> None:
    workflow_id, run_id = await started(client)
    async with ui(auth_server.address) as http:
        await sign_in(http, keys["writer"])
        page = await http.get(workflow_url(workflow_id, run_id))
        assert set(ACTION_BUTTONS) <= buttons(page.text)
        assert "writer in default" in page.text
        done = await http.post(
            "/namespaces/default/workflow/terminate",
            data={"csrf_token": csrf_token(page.text), "id": workflow_id, "run_id": run_id, "reason": "by the ui"},
        )
        assert done.status_code == 200 and "Terminated." in done.text, done.text
    described = await client.get_workflow_handle(workflow_id).describe()
    assert described.status == WorkflowExecutionStatus.TERMINATED


@pytest.mark.timeout(60)
async def test_sign_out_ends_the_session_and_its_id_is_worthless(auth_server: Server, keys: dict[str, str]) -> None:
    async with ui(auth_server.address) as http:
        await sign_in(http, keys["writer"])
        old = http.cookies[COOKIE]
        page = await http.get("/namespaces/default/workflows")
        out = await http.post("/logout", data={"csrf_token": csrf_token(page.text)})
        assert out.status_code == 303 and out.headers["location"] == "/login"
        assert (await http.get("/namespaces/default/workflows")).status_code == 303
        assert len(http._transport.app.state.ui.sessions) == 0  # type: ignore[attr-defined]
        http.cookies.set(COOKIE, old)
        assert (await http.get("/namespaces/default/workflows")).status_code == 303


@pytest.mark.timeout(60)
async def test_a_forged_cookie_is_no_session(auth_server: Server, keys: dict[str, str]) -> None:
    async with ui(auth_server.address) as http:
        await sign_in(http, keys["writer"])
        real = http.cookies[COOKIE]
        # Another browser that guesses or alters an id gets the sign-in page, not the writer's session.
        async with httpx.AsyncClient(transport=http._transport, base_url="https://ui.test") as other:
            for forged in [real[:-1] + ("A" if real[-1] != "A" else "B"), "x" * len(real), real.upper(), ""]:
                other.cookies.set(COOKIE, forged)
                answer = await other.get("/namespaces/default/workflows")
                assert answer.status_code == 303, forged
            # A POST with a forged session and a valid-looking form changes nothing either.
            other.cookies.set(COOKIE, "x" * len(real))
            assert (await other.post("/namespaces/default/workflow/terminate", data={"id": "x"})).status_code == 303


@pytest.mark.timeout(60)
async def test_a_key_of_another_namespace_has_no_role_here(auth_server: Server, keys: dict[str, str]) -> None:
    async with ui(auth_server.address) as http:
        await sign_in(http, keys["other"])
        page = await http.get("/namespaces/default/workflows")
        assert page.status_code == 403, page.text
        no_traceback(page.text)
        assert keys["other"] not in page.text


@pytest.mark.timeout(60)
async def test_an_idle_session_ends(auth_server: Server, keys: dict[str, str]) -> None:
    async with ui(auth_server.address, session_idle=timedelta(0)) as http:
        signed = await sign_in(http, keys["reader"])
        assert signed.status_code == 303
        assert (await http.get("/namespaces/default/workflows")).status_code == 303
        assert len(http._transport.app.state.ui.sessions) == 0  # type: ignore[attr-defined]


@pytest.mark.timeout(60)
async def test_without_auth_there_is_no_sign_in(server: Server) -> None:
    async with ui(server.address) as http:
        page = await http.get("/namespaces/default/workflows")
        assert page.status_code == 200 and "Sign in" not in page.text and "Sign out" not in page.text
        assert (await http.get("/login")).status_code == 303


@pytest.mark.timeout(60)
async def test_a_ui_with_its_own_identity_serves_everyone_as_it_without_sign_in(
    auth_server: Server, keys: dict[str, str], client: Client
) -> None:
    """The single-operator setup: the UI's own connection is recognised by the server (a client
    certificate with mutual TLS; here a client connected with a key), so no one signs in and every
    page is served with that identity and its role."""
    workflow_id, run_id = await started(client)
    own = await Client.connect(auth_server.address, api_key=keys["reader"], multiplex=False)
    try:
        async with ui(auth_server.address, client=own) as http:
            page = await http.get(workflow_url(workflow_id, run_id))
            assert page.status_code == 200, page.text
            assert "reader in default" in page.text and "Sign out" not in page.text
            assert not buttons(page.text) & set(ACTION_BUTTONS)
            assert (await http.get("/login")).status_code == 303
    finally:
        await own.close()


@pytest.mark.timeout(60)
async def test_the_codec_token_is_in_signed_in_pages_only(auth_server: Server, keys: dict[str, str]) -> None:
    token = f"Bearer codec-{uuid.uuid4().hex}"
    async with ui(auth_server.address, codec_endpoint="http://codec.test", codec_auth=token) as http:
        # Whoever reaches the UI sees the sign-in page: it must not hand out the codec server's token.
        form = await http.get("/login")
        assert form.status_code == 200 and token not in form.text
        missing = await http.get("/no-such-page")
        assert token not in missing.text
        assert (await sign_in(http, keys["reader"])).status_code == 303
        page = await http.get("/namespaces/default/workflows")
        assert page.status_code == 200 and f'data-codec-auth="{token}"' in page.text


@pytest.mark.timeout(60)
async def test_no_other_site_may_frame_the_ui(auth_server: Server, keys: dict[str, str]) -> None:
    async with ui(auth_server.address) as http:
        assert (await sign_in(http, keys["writer"])).status_code == 303
        for path in ("/login", "/namespaces/default/workflows", "/static/app.js", "/no-such-page"):
            response = await http.get(path)
            assert response.headers["x-frame-options"] == "DENY", path
            assert response.headers["content-security-policy"] == "frame-ancestors 'none'", path
            assert response.headers["x-content-type-options"] == "nosniff", path


@pytest.mark.timeout(60)
async def test_signing_in_never_sends_the_browser_to_another_site(auth_server: Server, keys: dict[str, str]) -> None:
    from urllib.parse import urljoin, urlsplit

    tricks = ["//evil.example/", "/\\evil.example/", "\\/evil.example/", "https://evil.example/",
              "/\t/evil.example/", "/\n/evil.example/", " //evil.example/", "/%2F%2Fevil.example/",
              "javascript:alert(1)", "/./\\evil.example"]
    for trick in tricks:
        async with ui(auth_server.address) as http:
            form = await http.get("/login", params={"next": trick})
            signed = await http.post("/login", data={"csrf_token": csrf_token(form.text), "api_key": keys["reader"],
                                                     "next": trick})
            assert signed.status_code == 303, trick
            # Where a browser goes: resolve the Location as it would, after stripping tabs and newlines.
            location = signed.headers["location"]
            cleaned = "".join(c for c in location if c not in "\t\r\n")
            target = urlsplit(urljoin("https://ui.test/login", cleaned.replace("\\", "/")))
            assert (target.scheme, target.netloc) == ("https", "ui.test"), (trick, location)


async def test_a_ui_without_sign_in_answers_only_loopback_names_and_those_allowed(
    server: Server, auth_server: Server, keys: dict[str, str]
) -> None:
    page = "/namespaces/default/workflows"
    # The server asks no credentials, so the UI serves everyone: a name a web page pointed here is refused.
    async with ui(server.address, host_check=("wf.proxy",)) as http:
        for host in ("localhost:8233", "127.0.0.1:8233", "[::1]:8233", "wf.proxy"):
            answer = await http.get(page, headers={"host": host})
            assert answer.status_code == 200, (host, answer.text[:500])
        refused = await http.get(page, headers={"host": "attacker.example:8233"})
        assert refused.status_code == 421
        assert "--allowed-host NAME" in refused.text and "<table" not in refused.text
        posted = await http.post("/namespaces/default/workflow/terminate", headers={"host": "attacker.example"},
                                 data={"id": "w", "reason": "x"})
        assert posted.status_code == 421
    # A UI with no host check (not on a loopback address) answers any name.
    async with ui(server.address) as http:
        assert (await http.get(page, headers={"host": "attacker.example"})).status_code == 200
    # Where everyone signs in, a page of another site has no session: the sign-in page, whatever the name.
    async with ui(auth_server.address, host_check=()) as http:
        answer = await http.get(page, headers={"host": "wf.example.com"})
        assert answer.status_code == 303 and answer.headers["location"].startswith("/login")
        await sign_in(http, keys["reader"])
        assert (await http.get(page, headers={"host": "wf.example.com"})).status_code == 200
