"""Running one activity attempt in a worker: arguments in, heartbeats and cancellation, outcome out."""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
import contextvars
import logging
import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import grpc

from wf.v1 import service_pb2
from worker_sdk import activity as _activity
from worker_sdk._client import _RETRY_FOR, Client
from worker_sdk._definition import ActivityDefinition
from worker_sdk._failure import to_failure
from worker_sdk._shortcuts import Shortcuts
from worker_sdk.errors import ApplicationError, CancelledError, CompleteAsyncError, RPCError

log = logging.getLogger("worker_sdk.worker")

_DEFAULT_HEARTBEAT_THROTTLE = 30.0

# Outcomes of finished attempts held (re-sent until delivered) at once in this process, in number
# and in bytes. Past either, an outcome is re-sent for the plain retry window only.
MAX_HELD_RESULTS = 1_000
MAX_HELD_BYTES = 64 * 1024 * 1024


def _duration(d: Any) -> timedelta | None:
    return d.ToTimedelta() if d.seconds or d.nanos else None


class _Heartbeater:
    """Sends an activity's heartbeats, at most one per throttle interval, from any thread."""

    def __init__(self, client: Client, token: bytes, identity: str, interval: float, on_cancel: Any) -> None:
        self._client = client
        self._token = token
        self._identity = identity
        self._interval = interval
        self._on_cancel = on_cancel
        self._loop = asyncio.get_running_loop()
        self._thread = threading.get_ident()
        self._pending: tuple[Any, ...] | None = None
        self._sender: asyncio.Task[None] | None = None

    def __call__(self, details: tuple[Any, ...]) -> None:
        if threading.get_ident() == self._thread:
            self._record(details)
        else:
            self._loop.call_soon_threadsafe(self._record, details)

    def _record(self, details: tuple[Any, ...]) -> None:
        self._pending = details
        if self._sender is None or self._sender.done():
            self._sender = self._loop.create_task(self._send())

    async def _send(self) -> None:
        while self._pending is not None:
            details, self._pending = self._pending, None
            try:
                resp = await self._client.call(
                    self._client.service.RecordActivityTaskHeartbeat,
                    service_pb2.RecordActivityTaskHeartbeatRequest(
                        task_token=self._token,
                        details=await self._client.data_converter.encode(details),
                        identity=self._identity,
                    ),
                )
            except RPCError as exc:
                if exc.status == grpc.StatusCode.NOT_FOUND:
                    # The attempt timed out or the workflow closed: nobody wants this work any more.
                    self._on_cancel()
                    return
                log.warning("heartbeat failed: %s", exc.message)
            else:
                if resp.cancel_requested:
                    self._on_cancel()
            await asyncio.sleep(self._interval)

    def stop(self) -> None:
        if self._sender is not None:
            self._sender.cancel()


class _Held:
    """The outcomes being held now, in this process."""

    count = 0
    size = 0


@contextlib.contextmanager
def _holding(task: service_pb2.PollActivityTaskQueueResponse, request: Any) -> Iterator[float | None]:
    """How long to re-send an attempt's outcome (seconds; None: no limit of time): until the attempt
    itself times out (its start-to-close or schedule-to-close timeout, whichever ends first), and at
    least the plain retry window. Its work is done: giving up before the server would have given up
    on the attempt only makes the server run it again once it is back (after a database outage
    longer than the plain window, every attempt that finished during it would run twice).

    The outcome is held within :data:`MAX_HELD_RESULTS` and :data:`MAX_HELD_BYTES`; past them, only
    for the plain window.
    """
    size = request.ByteSize()
    if _Held.count >= MAX_HELD_RESULTS or _Held.size + size > MAX_HELD_BYTES:
        log.warning(
            "%d activity results (%d bytes) already wait to be delivered; %s is re-sent for %.0f s only",
            _Held.count, _Held.size, task.activity_type.name, _RETRY_FOR,
        )
        yield _RETRY_FOR
        return
    _Held.count += 1
    _Held.size += size
    try:
        yield _hold_for(task)
    finally:
        _Held.count -= 1
        _Held.size -= size


def _hold_for(task: service_pb2.PollActivityTaskQueueResponse) -> float | None:
    ends = []
    if start_to_close := _duration(task.start_to_close_timeout):
        ends.append(task.started_time.ToDatetime(UTC) + start_to_close)
    if schedule_to_close := _duration(task.schedule_to_close_timeout):
        ends.append(task.scheduled_time.ToDatetime(UTC) + schedule_to_close)
    if not ends:
        return None
    return max(_RETRY_FOR, (min(ends) - datetime.now(UTC)).total_seconds())


async def run_activity(
    client: Client,
    resp: service_pb2.PollActivityTaskQueueResponse,
    defn: ActivityDefinition | None,
    *,
    task_queue: str,
    identity: str,
    registered: list[str],
    executor: concurrent.futures.Executor | None,
    shortcuts: Shortcuts | None = None,
) -> service_pb2.PollActivityTaskQueueResponse | None:
    """Run one attempt and report its outcome: completed, failed, or cancelled (when asked).

    With ``shortcuts``, a completion may carry the run's next workflow task run ahead, and bring back
    the run's next workflow task (run by ``shortcuts``) and the next activity task waiting in the
    queue, which is returned for the caller to run in the same slot (see ``_shortcuts``)."""
    conv = client.data_converter
    name = resp.activity_type.name
    heartbeat_timeout = _duration(resp.heartbeat_timeout)
    interval = heartbeat_timeout.total_seconds() * 0.8 if heartbeat_timeout else _DEFAULT_HEARTBEAT_THROTTLE
    user_task: asyncio.Task[Any] | None = None
    cancelled = threading.Event()

    def on_cancel() -> None:
        cancelled.set()
        if user_task is not None and defn is not None and defn.is_async:
            user_task.cancel()

    heartbeater = _Heartbeater(client, resp.task_token, identity, interval, on_cancel)
    try:
        if defn is None:
            raise ApplicationError(
                f"activity type {name!r} is not registered on this worker "
                f"(task queue {task_queue!r} has: {', '.join(sorted(registered)) or 'none'})",
                type="NotFoundError",
            )
        args = await conv.decode(resp.input, defn.arg_hints)
        details = await conv.decode(resp.heartbeat_details) if resp.HasField("heartbeat_details") else []
        info = _activity.Info(
            activity_id=resp.activity_id,
            activity_type=name,
            attempt=resp.attempt,
            task_queue=task_queue,
            workflow_namespace=resp.workflow_namespace,
            workflow_id=resp.workflow_execution.workflow_id,
            workflow_run_id=resp.workflow_execution.run_id,
            workflow_type=resp.workflow_type.name,
            scheduled_time=resp.scheduled_time.ToDatetime(UTC),
            current_attempt_scheduled_time=resp.current_attempt_scheduled_time.ToDatetime(UTC),
            started_time=resp.started_time.ToDatetime(UTC),
            schedule_to_close_timeout=_duration(resp.schedule_to_close_timeout),
            start_to_close_timeout=_duration(resp.start_to_close_timeout),
            heartbeat_timeout=heartbeat_timeout,
            task_token=resp.task_token,
            heartbeat_details=details,
        )
        _activity._current.set(_activity._Context(info, heartbeater, cancelled))
        if defn.is_async:
            user_task = asyncio.get_running_loop().create_task(defn.fn(*args))
            result = await user_task
        else:
            result = await asyncio.get_running_loop().run_in_executor(
                executor, contextvars.copy_context().run, defn.fn, *args
            )
    except (asyncio.CancelledError, CancelledError) as exc:
        if not cancelled.is_set():
            raise  # the worker is stopping: the server times this attempt out and retries it
        canceled = service_pb2.RespondActivityTaskCanceledRequest(
            task_token=resp.task_token,
            identity=identity,
            details=await conv.encode(list(getattr(exc, "details", ()))),
        )
        with _holding(resp, canceled) as hold:
            await respond(client, client.service.RespondActivityTaskCanceled, canceled, retry_for=hold)
        return None
    except CompleteAsyncError:
        # activity.raise_complete_async(): the attempt is answered from elsewhere, by its token or
        # its ids; the slot is free now, and the server's timeouts still watch the attempt.
        log.debug("activity %s (%s) attempt %d completes asynchronously", name, resp.activity_id, resp.attempt)
        return None
    except Exception as exc:
        if not isinstance(exc, ApplicationError):
            log.warning("activity %s (%s) attempt %d failed: %r", name, resp.activity_id, resp.attempt, exc)
        await _fail(client, resp, exc, identity)
        return None
    finally:
        heartbeater.stop()
    payloads = await conv.encode([result])
    request = service_pb2.RespondActivityTaskCompletedRequest(
        task_token=resp.task_token, result=payloads, identity=identity
    )
    workflow_task = None
    next_activity = None
    completed = None
    queue = await shortcuts.reserve_slot() if shortcuts is not None else ""
    # In the slot taken: the run's next workflow task, run now on this worker's cached run.
    ahead = await shortcuts.run_ahead(resp, payloads) if queue and shortcuts is not None else None
    try:
        request.eager_workflow_task_queue = queue
        request.next_activity_task_queue = shortcuts.next_activity_queue() if shortcuts is not None else ""
        if ahead is not None:
            request.workflow_task_ahead.CopyFrom(ahead.message)
        with _holding(resp, request) as hold:
            completed = await client.call(client.service.RespondActivityTaskCompleted, request, retry_for=hold)
        if completed.HasField("workflow_task"):
            workflow_task = completed.workflow_task
        if completed.HasField("activity_task"):
            next_activity = completed.activity_task
    except RPCError as exc:
        if exc.status == grpc.StatusCode.RESOURCE_EXHAUSTED:
            # The result is over a server limit: fail the activity for good, saying which limit.
            await _fail(
                client,
                resp,
                ApplicationError(exc.message, type="PayloadSizeLimitExceeded", non_retryable=True),
                identity,
            )
        elif exc.status == grpc.StatusCode.NOT_FOUND:
            log.info("activity %s result not wanted any more: %s", name, exc.message)
        else:
            log.warning("reporting activity %s result failed: %s", name, exc.message)
    finally:
        if ahead is not None and shortcuts is not None:
            await shortcuts.ahead_answered(ahead, completed)
        if queue and shortcuts is not None:
            shortcuts.run_returned(workflow_task)
    return next_activity


async def _fail(
    client: Client, task: service_pb2.PollActivityTaskQueueResponse, exc: BaseException, identity: str
) -> None:
    request = service_pb2.RespondActivityTaskFailedRequest(
        task_token=task.task_token, failure=to_failure(exc, client.data_converter), identity=identity
    )
    with _holding(task, request) as hold:
        await respond(client, client.service.RespondActivityTaskFailed, request, retry_for=hold)


# How the server answers a workflow task completion it recorded as a failed workflow task instead
# (``wf.server.frontend``), and the cause that is no one's error: events came while the task ran.
_TASK_FAILED = "workflow task failed:"
_NEW_EVENTS = "new events arrived while the workflow task ran"


async def respond(client: Client, method: Any, request: Any, *, retry_for: float | None = _RETRY_FOR) -> Any:
    """Answer a task, re-sending it while the server is unavailable for up to ``retry_for`` seconds
    (None: until it is delivered); the response, or None when the answer could not be given (logged):
    the task is then left to time out on the server, which retries it."""
    try:
        return await client.call(method, request, retry_for=retry_for)
    except RPCError as exc:
        if exc.status == grpc.StatusCode.NOT_FOUND:
            log.info("the server no longer wanted this answer: %s", exc.message)
        elif exc.status == grpc.StatusCode.INVALID_ARGUMENT and exc.message.startswith(_TASK_FAILED):
            # The server recorded the workflow task as failed and scheduled its next attempt: new
            # events came while it ran (the code decides again with them), or it refused a command.
            problem = exc.message[len(_TASK_FAILED):].strip()
            level = logging.INFO if problem.startswith(_NEW_EVENTS) else logging.WARNING
            log.log(level, "the server recorded the workflow task as failed and runs it again: %s", problem)
        else:
            log.warning("answering a task failed: %s (%s); it is left to time out", exc.message, exc.status)
        return None
    except Exception:  # not the server's refusal: a request that cannot be encoded, a bug
        log.exception("answering a task failed (%s); it is left to time out", type(request).__name__)
        return None
