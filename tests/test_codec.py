"""Payloads the server never reads: the EncryptionCodec, ``wf codec-server``, and decoding in the CLI and
the web UI.

A worker and a client with an ``EncryptionCodec`` run a workflow whose input, activity input and result,
signal, memo (at start and upserted) and result all carry a marker string; then every column of every
table of the database is read and the marker appears nowhere (neither as text nor as bytes nor
base64), while a run started without the codec shows that the same search does find a plaintext
marker. The codec server decodes the stored payloads back; ``wf workflow show/describe/result
--codec-endpoint`` prints the marker; the UI page, in a real browser, shows it decoded through the
codec server, while the HTML the UI serves does not hold it.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import json
import os
import socket
import subprocess
import sys
import uuid
from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import asyncpg
import pytest
import pytest_asyncio
import uvicorn

from tests.helpers import assert_eventually, free_port
from tests.test_cli import wf
from tests.test_ui_browser import CHROMIUM, CHROMIUM_ARGS, DESKTOP, _check_versions
from wf.server.app import Server
from wf.v1 import common_pb2
from worker_sdk import Client, Worker, activity, workflow
from worker_sdk._cli.codec_server import create_codec_app, load_codec
from worker_sdk._cli.ui_cmd import start_ui
from worker_sdk._converter import DataConverter
from worker_sdk._remote_codec import RemoteCodec, payload_to_json
from worker_sdk.codecs import ENCRYPTED_ENCODING, KEY_ID, EncryptionCodec

OLD_KEY = bytes(range(32))
NEW_KEY = bytes(range(100, 132))
# What `wf codec-server --codec tests.test_codec:CODEC` loads.
CODEC = EncryptionCodec({"2026-11": OLD_KEY, "2026-12": NEW_KEY})
AUTH = "Bearer codec-test-token"


def _json_payload(value: Any) -> common_pb2.Payload:
    return common_pb2.Payload(metadata={"encoding": b"json/plain"}, data=json.dumps(value).encode())


# -- the codec ----------------------------------------------------------------------------------


async def test_round_trip_hides_the_plaintext_and_names_the_key_id() -> None:
    codec = EncryptionCodec({"k1": OLD_KEY})
    original = _json_payload({"secret": "marker-round-trip"})
    [sealed] = await codec.encode([original])
    assert sealed.metadata["encoding"] == ENCRYPTED_ENCODING
    assert sealed.metadata[KEY_ID] == b"k1"
    assert b"marker-round-trip" not in sealed.SerializeToString()
    [opened] = await codec.decode([sealed])
    assert opened == original
    # Two encryptions of one payload differ (a fresh nonce each time).
    [again] = await codec.encode([original])
    assert again.data != sealed.data
    # A payload that was never encrypted passes through decode untouched.
    assert await codec.decode([original]) == [original]


async def test_rotation_old_payloads_decode_after_a_new_key_is_added() -> None:
    before = EncryptionCodec({"2026-11": OLD_KEY})
    [old] = await before.encode([_json_payload("written under the old key")])
    after = EncryptionCodec({"2026-11": OLD_KEY, "2026-12": NEW_KEY})
    [new] = await after.encode([_json_payload("written under the new key")])
    assert new.metadata[KEY_ID] == b"2026-12"  # the newest key encrypts
    assert [json.loads(p.data) for p in await after.decode([old, new])] == [
        "written under the old key", "written under the new key",
    ]


async def test_an_unknown_key_id_fails_naming_the_id_never_a_key() -> None:
    [sealed] = await EncryptionCodec({"2026-12": NEW_KEY}).encode([_json_payload("x")])
    other = EncryptionCodec({"2026-11": OLD_KEY})
    with pytest.raises(ValueError, match="unknown key id '2026-12'") as caught:
        await other.decode([sealed])
    message = str(caught.value) + repr(other)
    for key in (OLD_KEY, NEW_KEY):
        assert base64.b64encode(key).decode() not in message and key.hex() not in message
    # Relabelled with a known id, the payload fails authentication (the id is bound to the ciphertext).
    sealed.metadata[KEY_ID] = b"2026-11"
    with pytest.raises(ValueError, match="failed authentication"):
        await other.decode([sealed])


async def test_keys_from_the_environment_and_from_a_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    text = json.dumps({"a": base64.b64encode(OLD_KEY).decode(), "b": base64.b64encode(NEW_KEY).decode()})
    monkeypatch.setenv("WF_CODEC_KEYS_TEST", text)
    from_env = EncryptionCodec.from_env("WF_CODEC_KEYS_TEST")
    path = tmp_path / "keys.json"
    path.write_text(text)
    path.chmod(0o600)
    from_file = EncryptionCodec.from_file(path)
    assert from_env.key_ids == from_file.key_ids == ["a", "b"]
    [sealed] = await from_env.encode([_json_payload(1)])
    assert sealed.metadata[KEY_ID] == b"b"
    assert json.loads((await from_file.decode([sealed]))[0].data) == 1
    monkeypatch.setenv("WF_CODEC_KEYS_TEST", json.dumps({"short": base64.b64encode(b"0123").decode()}))
    with pytest.raises(ValueError, match="'short' must be 32 bytes") as caught:
        EncryptionCodec.from_env("WF_CODEC_KEYS_TEST")
    assert "MDEyMw" not in str(caught.value)
    with pytest.raises(ValueError, match="WF_CODEC_KEYS_MISSING is not set"):
        EncryptionCodec.from_env("WF_CODEC_KEYS_MISSING")


def test_a_key_file_other_users_may_read_is_warned_of(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    path = tmp_path / "keys.json"
    path.write_text(json.dumps({"a": base64.b64encode(OLD_KEY).decode()}))
    path.chmod(0o600)
    with caplog.at_level("WARNING", logger="worker_sdk._codecs"):
        EncryptionCodec.from_file(path)
    assert caplog.records == []
    path.chmod(0o644)
    with caplog.at_level("WARNING", logger="worker_sdk._codecs"):
        assert EncryptionCodec.from_file(path).key_ids == ["a"]  # still loads: a warning, as ssh's
    [warned] = [r.getMessage() for r in caplog.records]
    assert f"key file {path} may be read by other users of this machine (mode 644)" in warned
    assert base64.b64encode(OLD_KEY).decode() not in warned


def test_the_codec_server_loads_module_attr() -> None:
    assert load_codec("tests.test_codec:CODEC") is CODEC


# -- a codec server on a real port --------------------------------------------------------------


@contextlib.asynccontextmanager
async def serve(app: Any) -> AsyncIterator[str]:
    """Serve an ASGI app with uvicorn on a free port of this event loop; its URL."""
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    server = uvicorn.Server(uvicorn.Config(app, log_level="warning", access_log=False, lifespan="off"))
    task = asyncio.create_task(server.serve(sockets=[sock]))
    await assert_eventually(lambda: server.started, timeout=10)
    try:
        yield f"http://127.0.0.1:{sock.getsockname()[1]}"
    finally:
        server.should_exit = True
        await task
        sock.close()


def _post(url: str, body: dict[str, Any], headers: dict[str, str]) -> tuple[int, dict[str, str], Any]:
    import urllib.error
    import urllib.request

    request = urllib.request.Request(url, data=json.dumps(body).encode(), headers=headers, method="POST")
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, dict(response.headers), json.loads(response.read())
    except urllib.error.HTTPError as exc:
        with exc:
            return exc.code, dict(exc.headers), json.loads(exc.read())


async def test_codec_server_protocol_cors_and_authorization() -> None:
    app = create_codec_app(CODEC, cors_origins=["http://ui.example"], authorization=AUTH)
    async with serve(app) as url:
        payload = payload_to_json(_json_payload("marker-codec-server"))
        headers = {"Content-Type": "application/json", "X-Namespace": "default", "Origin": "http://ui.example"}
        status, _, answer = await asyncio.to_thread(_post, url + "/encode", {"payloads": [payload]}, headers)
        assert status == 401 and "marker" not in json.dumps(answer)
        status, got, answer = await asyncio.to_thread(
            _post, url + "/encode", {"payloads": [payload]}, headers | {"Authorization": AUTH})
        assert status == 200, answer
        assert {k.lower(): v for k, v in got.items()}["access-control-allow-origin"] == "http://ui.example"
        [sealed] = answer["payloads"]
        assert base64.b64decode(sealed["metadata"]["encoding"]) == ENCRYPTED_ENCODING
        assert b"marker-codec-server" not in base64.b64decode(sealed["data"])
        status, _, answer = await asyncio.to_thread(
            _post, url + "/decode", {"payloads": [sealed]}, headers | {"Authorization": AUTH})
        assert status == 200 and answer["payloads"] == [payload]
        # A wrong token is refused too, and bad input is a 400, not a crash.
        status, _, _ = await asyncio.to_thread(
            _post, url + "/decode", {"payloads": [sealed]}, headers | {"Authorization": "Bearer nope"})
        assert status == 401
        status, _, answer = await asyncio.to_thread(
            _post, url + "/decode", {"payloads": "no"}, headers | {"Authorization": AUTH})
        assert status == 400
        # The CLI's client of the protocol, end to end.
        remote = RemoteCodec(url, authorization=AUTH)
        [sealed_pb] = await remote.encode([_json_payload("via RemoteCodec")])
        assert sealed_pb.metadata[KEY_ID] == b"2026-12"
        assert json.loads((await remote.decode([sealed_pb]))[0].data) == "via RemoteCodec"
        with pytest.raises(ValueError, match="HTTP 401") as caught:
            await RemoteCodec(url).decode([sealed_pb])
        assert "codec-test-token" not in str(caught.value) + repr(remote)


def _post_chunked(url: str, chunks: list[bytes]) -> tuple[int, Any]:
    """POST ``chunks`` with chunked transfer encoding (no Content-Length to refuse it by)."""
    import http.client
    from urllib.parse import urlsplit

    parts = urlsplit(url)
    conn = http.client.HTTPConnection(parts.hostname or "", parts.port, timeout=10)
    try:
        conn.request("POST", parts.path, body=iter(chunks), headers={"Authorization": AUTH}, encode_chunked=True)
        response = conn.getresponse()
        return response.status, json.loads(response.read())
    finally:
        conn.close()


async def test_the_codec_server_refuses_a_body_over_its_limit_and_deep_json_without_crashing() -> None:
    payload = payload_to_json(_json_payload("x" * 100))
    async with serve(create_codec_app(CODEC, authorization=AUTH, max_request_bytes=2_000)) as url:
        headers = {"Content-Type": "application/json", "Authorization": AUTH}
        status, _, answer = await asyncio.to_thread(_post, url + "/encode", {"payloads": [payload]}, headers)
        assert status == 200, answer
        status, _, answer = await asyncio.to_thread(_post, url + "/encode", {"payloads": [payload] * 20}, headers)
        assert (status, answer) == (413, {"error": "the request is larger than 2,000 bytes"})
        # Without a Content-Length the body is cut off as it arrives.
        status, answer = await asyncio.to_thread(_post_chunked, url + "/encode", [b" " * 1_000] * 50)
        assert (status, answer) == (413, {"error": "the request is larger than 2,000 bytes"})
        status, answer = await asyncio.to_thread(_post_chunked, url + "/decode", [b"[" * 1_500])
        assert status == 400 and "[" not in answer["error"]


def _post_as(url: str, host: str) -> int:
    """The status of an /encode POST to ``url`` whose Host header says ``host``."""
    import http.client
    from urllib.parse import urlsplit

    parts = urlsplit(url)
    conn = http.client.HTTPConnection(parts.hostname or "", parts.port, timeout=10)
    try:
        conn.request("POST", "/encode", body=json.dumps({"payloads": []}),
                     headers={"Host": host, "Content-Type": "application/json"})
        return conn.getresponse().status
    finally:
        conn.close()


async def test_a_codec_server_on_loopback_answers_loopback_names_only() -> None:
    # A page of another site that rebinds its name to 127.0.0.1 is of the same origin, and asks with
    # its own name as the Host.
    async with serve(create_codec_app(CODEC, loopback_only=True)) as url:
        port = url.rsplit(":", 1)[1]
        for host in (f"127.0.0.1:{port}", f"localhost:{port}", f"[::1]:{port}"):
            assert await asyncio.to_thread(_post_as, url, host) == 200, host
        for host in (f"evil.example:{port}", "evil.example", f"127.0.0.1.evil.example:{port}", ""):
            assert await asyncio.to_thread(_post_as, url, host) == 421, host


# -- the workflow whose payloads carry the marker -----------------------------------------------


@activity.defn(name="codec_shout")
async def codec_shout(text: str) -> str:
    return text.upper() + " / " + text


@workflow.defn(name="CodecSecret")
class CodecSecret:
    def __init__(self) -> None:
        self.note: str | None = None

    @workflow.run
    async def run(self, secret: str) -> str:
        shouted = await workflow.execute_activity(codec_shout, secret, start_to_close_timeout=timedelta(seconds=10))
        workflow.upsert_memo({"upserted": f"upsert {secret}", "removed": None})
        await workflow.wait_condition(lambda: self.note is not None)
        return f"{shouted} + {self.note}"

    @workflow.signal
    def add_note(self, note: str) -> None:
        self.note = note

    @workflow.query
    def current_note(self) -> str | None:
        return self.note

    @workflow.query
    def memo_seen(self) -> dict[str, Any]:
        return workflow.memo()


async def _database_holds(db_url: str, marker: str) -> list[str]:
    """Every place in every table of the database where ``marker`` is, as text, bytes or base64."""
    needles = [marker.encode(), marker.upper().encode()]
    for needle in list(needles):
        for shift in range(3):  # base64 of the marker at each alignment
            chunk = base64.b64encode(b"\0" * shift + needle)[4 if shift else 0:-4]
            needles.append(chunk)
    found: list[str] = []
    conn = await asyncpg.connect(db_url)
    try:
        tables = await conn.fetch(
            "SELECT table_schema, table_name FROM information_schema.tables "
            "WHERE table_type = 'BASE TABLE' AND table_schema NOT IN ('pg_catalog', 'information_schema')"
        )
        assert len(tables) > 5, tables
        for table in tables:
            name = f'"{table["table_schema"]}"."{table["table_name"]}"'
            for row in await conn.fetch(f"SELECT * FROM {name}"):  # noqa: S608 - names from the catalog
                for column, value in row.items():
                    raw = value if isinstance(value, bytes) else str(value).encode()
                    if any(needle in raw for needle in needles):
                        found.append(f"{name}.{column}")
    finally:
        await conn.close()
    return found


@pytest_asyncio.fixture(loop_scope="session")
async def secret_client(server: Server) -> AsyncIterator[Client]:
    c = await Client.connect(server.address, data_converter=DataConverter(payload_codec=CODEC))
    try:
        yield c
    finally:
        await c.close()


@pytest.mark.timeout(120)
async def test_with_encryption_no_plaintext_reaches_the_database_and_decoders_show_it(
    server: Server, db_url: str, secret_client: Client, client: Client, task_queue: str
) -> None:
    marker = f"marker-{uuid.uuid4().hex}"
    workflow_id = f"codec-{uuid.uuid4().hex[:8]}"
    async with Worker(secret_client, task_queue=task_queue, workflows=[CodecSecret], activities=[codec_shout]):
        handle = await secret_client.start_workflow(
            CodecSecret.run, f"input {marker}", id=workflow_id, task_queue=task_queue,
            memo={"started": f"memo {marker}", "removed": "gone after the upsert"},
        )
        await handle.signal(CodecSecret.add_note, f"signal {marker}")
        assert await handle.query(CodecSecret.current_note) == f"signal {marker}"
        expected_memo = {"started": f"memo {marker}", "upserted": f"upsert input {marker}"}
        assert await handle.query(CodecSecret.memo_seen) == expected_memo
        result = await handle.result()
    assert result == f"INPUT {marker.upper()} / input {marker} + signal {marker}"
    assert (await handle.describe()).memo == expected_memo
    # Without the key, describe still answers: the memo's values stay ciphertext.
    sealed_memo = (await client.get_workflow_handle(workflow_id).describe()).memo
    assert set(sealed_memo) == set(expected_memo)
    assert all(p.metadata["encoding"] == ENCRYPTED_ENCODING for p in sealed_memo.values())

    assert await _database_holds(db_url, marker) == []

    # The search can fail: a run started without the codec leaves its marker in plain sight.
    plain_marker = f"plain-{uuid.uuid4().hex}"
    async with Worker(client, task_queue=task_queue + "-plain", workflows=[CodecSecret],
                      activities=[codec_shout]):
        plain = await client.start_workflow(CodecSecret.run, plain_marker, id=f"{workflow_id}-plain",
                                            task_queue=task_queue + "-plain")
        await plain.signal(CodecSecret.add_note, "n")
        await plain.result()
    assert await _database_holds(db_url, plain_marker) != []

    # What the server hands out is ciphertext; the codec server opens it.
    history = await client.get_workflow_handle(workflow_id).fetch_history()
    started = history.events[0].workflow_execution_started_event_attributes.input.payloads[0]
    assert started.metadata[KEY_ID] == b"2026-12" and marker.encode() not in started.data
    async with serve(create_codec_app(CODEC, authorization=AUTH)) as url:
        [opened] = await RemoteCodec(url, authorization=AUTH).decode([started])
        assert json.loads(opened.data) == f"input {marker}"

        # The CLI: ciphertext without the endpoint, the marker with it.
        for args in (["show", "-w", workflow_id], ["describe", "-w", workflow_id]):
            sealed_out = await wf(*args, address=server.address)
            assert sealed_out.returncode == 0, sealed_out.stderr
            assert marker not in sealed_out.stdout
        for args in (["show", "-w", workflow_id], ["describe", "-w", workflow_id], ["result", "-w", workflow_id]):
            done = await wf(*args, "--codec-endpoint", url, address=server.address, env={"WF_CODEC_AUTH": AUTH})
            assert done.returncode == 0, (args, done.stderr)
            assert marker in done.stdout, (args, done.stdout)
            if args[0] == "describe":
                assert f"memo {marker}" in done.stdout and f"upsert input {marker}" in done.stdout
            assert "codec-test-token" not in done.stdout + done.stderr
        refused = await wf("show", "-w", workflow_id, "--codec-endpoint", url, address=server.address)
        assert refused.returncode != 0 and "401" in refused.stderr and marker not in refused.stdout
        # One line and a hint, not a traceback.
        assert refused.returncode == 1 and "Traceback" not in refused.stderr
        assert "--codec-auth" in refused.stderr and "codec-test-token" not in refused.stderr


@pytest.mark.timeout(120)
async def test_inputs_the_cli_sends_with_a_codec_endpoint_reach_the_server_encrypted(
    server: Server, db_url: str, secret_client: Client, task_queue: str
) -> None:
    """start, signal, signal-with-start and update take --codec-endpoint as show and query do: their
    inputs are encoded through the codec server, so the workers' encryption is not bypassed; so does
    schedule create (and update) for the input of the runs it starts."""
    marker = f"marker-{uuid.uuid4().hex}"
    workflow_id = f"codec-cli-{uuid.uuid4().hex[:8]}"
    async with serve(create_codec_app(CODEC, authorization=AUTH)) as url:
        codec = ["--codec-endpoint", url]
        env = {"WF_CODEC_AUTH": AUTH}
        started = await wf("start", "--type", "CodecSecret", "-t", task_queue, "-w", workflow_id,
                           "-i", json.dumps(f"input {marker}"), *codec, address=server.address, env=env)
        assert started.returncode == 0, started.stderr
        signalled = await wf("signal", "-w", workflow_id, "--name", "add_note", "-i", json.dumps(f"signal {marker}"),
                             *codec, address=server.address, env=env)
        assert signalled.returncode == 0, signalled.stderr
        both = await wf("signal-with-start", "--type", "CodecSecret", "-t", task_queue, "-w", workflow_id,
                        "-i", json.dumps(f"input {marker}"), "--signal-name", "add_note",
                        "--signal-input", json.dumps(f"again {marker}"), *codec, address=server.address, env=env)
        assert both.returncode == 0, both.stderr
        for cmd in ("execute", "update"):
            assert "--codec-endpoint" in (await wf(cmd, "--help")).stdout
        schedule_id = f"{workflow_id}-every-hour"
        scheduled = await asyncio.to_thread(subprocess.run, [
            str(Path(sys.executable).parent / "wf"), "schedule", "create", "-s", schedule_id,
            "-w", f"{workflow_id}-scheduled", "--interval", "1h", "--type", "CodecSecret", "--task-queue", task_queue,
            "-i", json.dumps(f"scheduled {marker}"), *codec, "--address", server.address,
        ], capture_output=True, text=True, timeout=30, env={**os.environ, **env})
        assert scheduled.returncode == 0, scheduled.stderr
    assert await _database_holds(db_url, marker) == []
    action = (await secret_client.get_schedule_handle(schedule_id).describe()).raw_description.schedule.action
    [scheduled_input] = action.start_workflow.input.payloads
    assert scheduled_input.metadata["encoding"] == ENCRYPTED_ENCODING
    await secret_client.get_schedule_handle(schedule_id).delete()
    history = await secret_client.get_workflow_handle(workflow_id).fetch_history()
    inputs = [e.workflow_execution_started_event_attributes.input for e in history.events[:1]] + [
        e.workflow_execution_signaled_event_attributes.input for e in history.events
        if e.HasField("workflow_execution_signaled_event_attributes")]
    assert len(inputs) == 3
    assert all(p.metadata["encoding"] == ENCRYPTED_ENCODING for ps in inputs for p in ps.payloads)
    # The workers' codec opens them: they were sealed with its key, not merely hidden.
    decoded = await CODEC.decode(list(inputs[1].payloads))
    assert json.loads(decoded[0].data) == f"signal {marker}"
    await secret_client.get_workflow_handle(workflow_id).terminate("done")


@pytest.mark.timeout(180)
async def test_the_ui_shows_the_payload_decoded_in_the_browser_never_in_its_html(
    server: Server, db_url: str, secret_client: Client, task_queue: str
) -> None:
    _check_versions()
    import httpx
    from playwright.async_api import async_playwright, expect

    marker = f"marker-{uuid.uuid4().hex}"
    workflow_id = f"codec-ui-{uuid.uuid4().hex[:8]}"
    async with Worker(secret_client, task_queue=task_queue, workflows=[CodecSecret], activities=[codec_shout]):
        handle = await secret_client.start_workflow(CodecSecret.run, f"input {marker}", id=workflow_id,
                                                    task_queue=task_queue)
        await handle.signal(CodecSecret.add_note, "ok")
        await handle.result()

    # The UI's origin is known only once it listens; the codec server admits it by CORS.
    codec_sock = socket.socket()
    codec_sock.bind(("127.0.0.1", 0))
    codec_url = f"http://127.0.0.1:{codec_sock.getsockname()[1]}"
    codec_sock.close()
    ui = await start_ui(address=server.address, host="127.0.0.1", port=0, codec_endpoint=codec_url,
                        codec_auth=AUTH)
    try:
        page_url = f"{ui.url}/namespaces/default/workflow?id={workflow_id}"
        async with httpx.AsyncClient() as http:
            html = (await http.get(page_url)).text
        assert workflow_id in html and marker not in html

        app = create_codec_app(CODEC, cors_origins=[ui.url], authorization=AUTH)
        config = uvicorn.Config(app, host="127.0.0.1", port=int(codec_url.rsplit(":", 1)[1]),
                                log_level="warning", access_log=False, lifespan="off")
        codec_server = uvicorn.Server(config)
        served = asyncio.create_task(codec_server.serve())
        await assert_eventually(lambda: codec_server.started, timeout=10)
        try:
            async with async_playwright() as playwright:
                browser = await playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
                try:
                    page = await browser.new_page(viewport=DESKTOP)
                    page.set_default_timeout(15_000)
                    await page.goto(page_url)
                    await expect(page.get_by_text(f"input {marker}").first).to_be_visible()

                    # A signal's Input typed in the page is encoded in the browser through the codec
                    # server, so it reaches the wf server sealed like the workers' own payloads.
                    running = await secret_client.start_workflow(
                        CodecSecret.run, "waits", id=f"{workflow_id}-running", task_queue=f"{task_queue}-none")
                    await page.goto(f"{ui.url}/namespaces/default/workflow?id={running.id}")
                    form = page.locator("form.action", has=page.get_by_role("button", name="Signal"))
                    await form.get_by_label("Name").fill("add_note")
                    await form.get_by_label("Input").fill(json.dumps(f"typed {marker}"))
                    await form.get_by_role("button", name="Signal").click()
                    await page.get_by_role("button", name="Confirm").click()
                    await expect(page.get_by_role("alert")).to_contain_text("Signal 'add_note' sent.")
                    history = await running.fetch_history()
                    [signalled] = [e.workflow_execution_signaled_event_attributes.input.payloads[0]
                                   for e in history.events
                                   if e.HasField("workflow_execution_signaled_event_attributes")]
                    assert signalled.metadata["encoding"] == ENCRYPTED_ENCODING
                    [opened] = await CODEC.decode([signalled])
                    assert json.loads(opened.data) == f"typed {marker}"
                    assert await _database_holds(db_url, f"typed {marker}") == []
                    await running.terminate("done")
                finally:
                    await browser.close()
        finally:
            codec_server.should_exit = True
            await served
    finally:
        await ui.stop()



async def test_the_readme_encryption_snippet_connects_with_the_codec(
    server: Server, monkeypatch: pytest.MonkeyPatch
) -> None:
    import ast

    from tests.test_readme import python_block

    monkeypatch.setenv("WF_CODEC_KEYS", json.dumps({"2026-12": base64.b64encode(NEW_KEY).decode()}))
    snippet = python_block(r"^from worker_sdk\.codecs import EncryptionCodec")
    text = snippet.text.replace("localhost:7233", server.address)
    namespace: dict[str, Any] = {}
    code = compile(text, "README.md", "exec", flags=ast.PyCF_ALLOW_TOP_LEVEL_AWAIT)
    await eval(code, namespace)  # noqa: S307 - the README's own snippet
    client: Client = namespace["client"]
    try:
        sealed = await client.data_converter.encode(["readme"])
        assert sealed.payloads[0].metadata[KEY_ID] == b"2026-12"
        assert await CODEC.decode(list(sealed.payloads)) != list(sealed.payloads)
    finally:
        await client.close()


async def encoded_once_up(remote: RemoteCodec, text: str) -> common_pb2.Payload:
    """``text`` as the codec server behind ``remote`` encodes it, once that server answers (it is
    starting in a process of its own)."""

    async def answers() -> list[common_pb2.Payload]:
        try:
            return await remote.encode([_json_payload(text)])
        except ValueError as exc:
            raise AssertionError(str(exc)) from exc

    [sealed] = await assert_eventually(answers, timeout=30)
    return sealed


def wf_codec_server(
    *args: str, env: dict[str, str] | None = None, codec: str = "tests.test_codec:CODEC", cwd: Path | None = None
) -> tuple[subprocess.Popen[str], int]:
    """``wf codec-server --codec CODEC --port P ARGS``, run from the repository's root (or ``cwd``, then
    without PYTHONPATH) with none of the caller's ``WF_`` variables but ``env``; and P."""
    root = Path(__file__).resolve().parent.parent
    port = free_port()
    environ = {k: v for k, v in os.environ.items() if not k.startswith("WF_") and k != "PYTHONPATH"}
    if cwd is None:
        environ["PYTHONPATH"] = str(root)
    proc = subprocess.Popen(
        [str(Path(sys.executable).parent / "wf"), "codec-server", "--codec", codec, "--port", str(port), *args],
        cwd=cwd or root, env=environ | (env or {}), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )
    return proc, port


@pytest.mark.timeout(60)
async def test_wf_codec_server_loads_the_codec_of_the_directory_it_runs_in(tmp_path: Path) -> None:
    """As the README runs it (`--codec myapp.codec:codec` in the project), and as `wf replay` imports."""
    (tmp_path / "mycodec.py").write_text(
        "from worker_sdk.codecs import EncryptionCodec\ncodec = EncryptionCodec.from_env('MY_CODEC_KEYS')\n"
    )
    keys = json.dumps({"2026-12": base64.b64encode(NEW_KEY).decode()})
    proc, port = wf_codec_server(codec="mycodec:codec", cwd=tmp_path, env={"MY_CODEC_KEYS": keys})
    try:
        sealed = await encoded_once_up(RemoteCodec(f"http://127.0.0.1:{port}", timeout=5), "from my module")
        assert await CODEC.decode([sealed]) == [_json_payload("from my module")]
    finally:
        proc.terminate()
        await asyncio.to_thread(proc.communicate, timeout=20)
    # Its keys not set: one line naming what is missing, no traceback.
    unset, _ = wf_codec_server(codec="mycodec:codec", cwd=tmp_path)
    out, err = await asyncio.to_thread(unset.communicate, timeout=30)
    assert unset.returncode == 2 and "Traceback" not in err
    assert "cannot load 'mycodec:codec' (ValueError: environment variable MY_CODEC_KEYS is not set" in err


@pytest.mark.timeout(60)
async def test_wf_codec_server_command_serves_the_named_codec() -> None:
    proc, port = wf_codec_server(env={"WF_CODEC_AUTH": AUTH})
    try:
        remote = RemoteCodec(f"http://127.0.0.1:{port}", authorization=AUTH, timeout=5)
        sealed = await encoded_once_up(remote, "from the command")
        assert sealed.metadata[KEY_ID] == b"2026-12"
        assert await CODEC.decode([sealed]) == [_json_payload("from the command")]
    finally:
        proc.terminate()
        out, err = await asyncio.to_thread(proc.communicate, timeout=20)
    assert "codec-test-token" not in out + err


async def test_wf_codec_server_serves_https_with_tls_cert_and_warns_without_it_off_this_machine(
    tmp_path: Path,
) -> None:
    """A UI served over HTTPS from another machine can only call an HTTPS codec server (browsers
    refuse plain HTTP from an HTTPS page), and plaintext should not cross a network in clear."""
    import ssl

    from tests.tls_certs import make_pki

    pki = make_pki(tmp_path)
    proc, port = wf_codec_server("--codec-auth", AUTH, "--tls-cert", str(pki.server.cert_path),
                                 "--tls-key", str(pki.server.key_path))
    try:
        context = ssl.create_default_context(cafile=str(pki.ca.cert_path))
        body = {"payloads": [payload_to_json(_json_payload("over https"))]}

        def encode() -> Any:
            import urllib.request

            request = urllib.request.Request(
                f"https://localhost:{port}/encode", data=json.dumps(body).encode(), method="POST",
                headers={"Content-Type": "application/json", "Authorization": AUTH},
            )
            try:
                with urllib.request.urlopen(request, timeout=5, context=context) as response:
                    return json.loads(response.read())
            except OSError as exc:
                raise AssertionError(str(exc)) from exc

        answer = await assert_eventually(lambda: asyncio.to_thread(encode), timeout=30)
        assert len(answer["payloads"]) == 1
    finally:
        proc.terminate()
        out, err = await asyncio.to_thread(proc.communicate, timeout=20)
    assert f"codec server on https://127.0.0.1:{port}" in err
    assert "codec-test-token" not in out + err

    # Plain HTTP on an address other machines reach: a warning at start.
    warned, port = wf_codec_server("--ip", "0.0.0.0")
    try:
        assert warned.stderr is not None
        first = await asyncio.to_thread(warned.stderr.readline)
        second = await asyncio.to_thread(warned.stderr.readline)
    finally:
        warned.terminate()
        await asyncio.to_thread(warned.communicate, timeout=20)
    assert first.startswith("codec server on http://0.0.0.0")
    assert second.startswith("warning: the codec server listens on 0.0.0.0 without TLS")
