"""The Actions of a workflow's page: signal, query, update, cancel, terminate, reset. Each is a POST
carrying the page's CSRF token (refused with 403, nothing done, without it); the outcome is shown in
an alert, as a fragment for the page's script or as a page of its own without JavaScript."""

from __future__ import annotations

import asyncio
import json
from datetime import timedelta
from typing import TYPE_CHECKING, Any

import grpc
from starlette.requests import Request
from starlette.responses import HTMLResponse, Response

from wf.ui import render
from wf.ui.app import qs
from wf.ui.connection import CALL_TIMEOUT, is_down
from wf.ui.csrf import COOKIE, FIELD
from worker_sdk import ResetType
from worker_sdk._remote_codec import payload_from_json
from worker_sdk.errors import RPCError, WorkflowQueryFailedError, WorkflowUpdateFailedError

if TYPE_CHECKING:
    from wf.ui.app import Ui

ACTIONS = ("signal", "query", "update", "cancel", "terminate", "reset")
UPDATE_TIMEOUT = timedelta(seconds=10)
REFUSED = (
    "Refused: this form did not carry this UI's security token (CSRF). Reload the page and try again; "
    "nothing was done."
)


class Refused(Exception):
    """The form is wrong; ``str()`` says which field and why. Nothing was sent."""


def arguments(text: str, encoded: Any = None) -> list[Any]:
    """The form's JSON Input as the call's arguments: one JSON value is one argument; none is none.

    ``encoded`` (field ``input_payload``): the Input as the browser encoded it through the codec server
    (``ui/static/codec.js``), in the codec protocol's JSON form; it is sent as it is, so an input to
    workflows whose workers encrypt reaches the server encrypted, as theirs do."""
    if isinstance(encoded, str) and encoded:
        try:
            return [payload_from_json(json.loads(encoded))]
        except ValueError as exc:
            raise Refused(f"The encoded input is not a payload: {exc}") from None
    if not text.strip():
        return []
    try:
        return [json.loads(text)]
    except ValueError as exc:
        raise Refused(f"Input is not JSON: {exc}") from None


def shown(value: Any) -> str:
    try:
        return json.dumps(value, indent=2, ensure_ascii=False, default=str)
    except (TypeError, ValueError):
        return repr(value)


async def act(ui: Ui, request: Request) -> Response:
    namespace = request.path_params["namespace"]
    action = request.path_params["action"]
    form = await request.form()
    fragment = request.headers.get("x-wf-fragment") == "outcome"
    if not ui.csrf.check(request.cookies.get(COOKIE), str(form.get(FIELD) or "")):
        return outcome_response(ui, request, fragment, 403, namespace, "", "", REFUSED, ok=False)
    workflow_id = str(form.get("id") or "")
    run_id = str(form.get("run_id") or "")
    if action not in ACTIONS:
        return outcome_response(ui, request, fragment, 404, namespace, workflow_id, run_id,
                                f"Unknown action {action!r}.", ok=False)
    try:
        if not workflow_id:
            raise Refused("The form needs the workflow id (field id).")
        client = await ui.client(namespace)
        handle = client.get_workflow_handle(workflow_id, run_id=run_id or None)
        name = str(form.get("name") or "").strip()
        reason = str(form.get("reason") or "").strip()
        if action in ("signal", "query", "update") and not name:
            raise Refused(f"Name is required: the {action}'s handler name.")
        args = arguments(str(form.get("input") or ""), form.get("input_payload")) \
            if action in ("signal", "query", "update") else []
        answer: str | None = None
        new_run: str | None = None
        async with asyncio.timeout(UPDATE_TIMEOUT.total_seconds() + CALL_TIMEOUT.total_seconds()):
            if action == "signal":
                await handle.signal(name, *args)
                message = f"Signal {name!r} sent."
            elif action == "query":
                answer = shown(await handle.query(name, *args, timeout=CALL_TIMEOUT))
                message = f"Query {name!r} answered."
            elif action == "update":
                answer = shown(await handle.execute_update(name, *args, timeout=UPDATE_TIMEOUT))
                message = f"Update {name!r} completed."
            elif action == "cancel":
                await handle.cancel(reason=reason)
                message = "Cancellation requested: the workflow receives it as a CancelledError."
            elif action == "terminate":
                await handle.terminate(reason)
                message = "Terminated."
            else:
                event = str(form.get("event_id") or "").strip()
                if not reason:
                    raise Refused("Reason is required to reset a workflow.")
                if event and not event.isdigit():
                    raise Refused("Event id must be a number (a workflow task's event).")
                new = await handle.reset(
                    reason=reason, event_id=int(event) if event else None,
                    type=None if event else ResetType.LAST_WORKFLOW_TASK,
                )
                new_run = new.run_id
                message = f"Reset: the workflow goes on as run {new_run}."
    except Refused as exc:
        return outcome_response(ui, request, fragment, 400, namespace, workflow_id, run_id, str(exc), ok=False)
    except (WorkflowQueryFailedError, WorkflowUpdateFailedError) as exc:
        cause = f": {exc.__cause__}" if exc.__cause__ else ""
        return outcome_response(ui, request, fragment, 200, namespace, workflow_id, run_id,
                                f"{action.capitalize()} failed: {exc}{cause}", ok=False)
    except ValueError as exc:  # the answer's payload, encoded by the workers' codec: the call itself was made
        return outcome_response(ui, request, fragment, 200, namespace, workflow_id, run_id,
                                f"{action.capitalize()} answered, but {render.undecodable(exc)}.", ok=False)
    except TimeoutError:
        return outcome_response(ui, request, fragment, 504, namespace, workflow_id, run_id,
                                f"No answer in time: is a worker polling this workflow's task queue? ({action})",
                                ok=False)
    except RPCError as exc:
        if is_down(exc) and action not in ("query",):
            raise
        return outcome_response(ui, request, fragment, refused_status(exc, 200 if action == "query" else 409),
                                namespace, workflow_id, run_id, f"{action.capitalize()} failed: {exc.message}",
                                ok=False)
    return outcome_response(ui, request, fragment, 200, namespace, workflow_id, run_id, message,
                            ok=True, answer=answer, new_run=new_run)


async def act_on_schedule(ui: Ui, request: Request) -> Response:
    """Pause, unpause or trigger a schedule (``id``; ``note`` for pause and unpause)."""
    namespace = request.path_params["namespace"]
    action = request.path_params["action"]
    form = await request.form()
    fragment = request.headers.get("x-wf-fragment") == "outcome"
    schedule_id = str(form.get("id") or "")
    back = f"/namespaces/{namespace}/schedule?{qs(id=schedule_id)}" if schedule_id else ""
    if not ui.csrf.check(request.cookies.get(COOKIE), str(form.get(FIELD) or "")):
        return outcome_response(ui, request, fragment, 403, namespace, "", "", REFUSED, ok=False, back=back)
    if action not in ("pause", "unpause", "trigger") or not schedule_id:
        return outcome_response(ui, request, fragment, 400, namespace, "", "",
                                "The form needs a schedule id (field id) and one of pause, unpause, trigger.",
                                ok=False, back=back)
    client = await ui.client(namespace)
    handle = client.get_schedule_handle(schedule_id)
    note = str(form.get("note") or "").strip() or None
    try:
        async with asyncio.timeout(CALL_TIMEOUT.total_seconds()):
            if action == "pause":
                await handle.pause(note=note)
                message = "Paused: the schedule takes no action until it is unpaused."
            elif action == "unpause":
                await handle.unpause(note=note)
                message = "Unpaused: the schedule acts at its next time."
            else:
                await handle.trigger()
                message = "Triggered: the schedule takes its action now."
    except RPCError as exc:
        if is_down(exc):
            raise
        return outcome_response(ui, request, fragment, refused_status(exc, 409), namespace, "", "",
                                f"{action.capitalize()} failed: {exc.message}", ok=False, back=back)
    return outcome_response(ui, request, fragment, 200, namespace, "", "", message, ok=True, back=back)


def refused_status(exc: RPCError, otherwise: int) -> int:
    """403 when the server refused the caller's role (its message names the role needed)."""
    return 403 if exc.status == grpc.StatusCode.PERMISSION_DENIED else otherwise


def outcome_response(
    ui: Ui, request: Request, fragment: bool, status: int, namespace: str, workflow_id: str, run_id: str,
    message: str, *, ok: bool, answer: str | None = None, new_run: str | None = None, back: str = "",
) -> Response:
    if workflow_id and not back:
        back = f"/namespaces/{namespace}/workflow?{qs(id=workflow_id, run_id=new_run or run_id)}"
    context = dict(
        namespace=namespace, message=message, ok=ok, answer=answer, back=back,
        title="Action refused" if status == 403 else "Outcome",
    )
    if fragment:
        return HTMLResponse(ui.fragment("_outcome.html", **context), status_code=status)
    return ui.page(request, "outcome.html", status, **context)
