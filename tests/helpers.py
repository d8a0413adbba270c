"""Helpers for tests: waiting for conditions, ``wf server`` subprocesses, and the raw gRPC protocol.

The raw helpers speak wf.v1 directly (no SDK), so server tests can drive a workflow step by step
the way a worker does: poll a task, answer it with commands, look at the history.
"""

from __future__ import annotations

import asyncio
import contextlib
import inspect
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from collections import Counter
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any, TypeVar
from urllib.parse import urlsplit, urlunsplit

import asyncpg
import grpc
import pytest
from google.protobuf.duration_pb2 import Duration

from wf import migrations
from wf.history.tasks import TaskKind
from wf.server.app import Server, asyncpg_dsn
from wf.v1 import command_pb2, common_pb2, history_pb2, service_pb2, service_pb2_grpc

T = TypeVar("T")

# -- waiting for conditions ----------------------------------------------------------------------


async def assert_eventually(fn: Callable[[], T | Awaitable[T]], *, timeout: float = 10.0, interval: float = 0.05) -> T:
    """Call ``fn`` until it passes, and return what it returned.

    ``fn`` (sync or async) fails by raising AssertionError or by returning False; anything else is a
    pass. After ``timeout`` seconds the last AssertionError is raised (so the message says what was
    still wrong). This re-checks a condition; it never stands in for one.
    """
    deadline = time.monotonic() + timeout
    while True:
        try:
            result = fn()
            if inspect.isawaitable(result):
                result = await result
            if result is not False:
                return result  # type: ignore[return-value]
            error = AssertionError(f"{getattr(fn, '__name__', fn)} still returned False after {timeout}s")
        except AssertionError as exc:
            error = exc
        if time.monotonic() >= deadline:
            raise error
        await asyncio.sleep(interval)


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


# -- `wf server start` as a subprocess -----------------------------------------------------------


def wf_executable() -> str:
    """The ``wf`` console script of the interpreter running the tests."""
    beside = Path(sys.executable).parent / "wf"
    if beside.exists():
        return str(beside)
    found = shutil.which("wf")
    if found is None:
        raise RuntimeError("the `wf` console script is not installed (pip install -e '.[test]')")
    return found


@dataclass
class ServerProcess:
    """One ``wf server start`` subprocess; its output goes to ``log_path``."""

    popen: subprocess.Popen[bytes]
    port: int
    log_path: Path

    @property
    def address(self) -> str:
        return f"127.0.0.1:{self.port}"

    def output(self) -> str:
        return self.log_path.read_text(errors="replace")

    def running(self) -> bool:
        return self.popen.poll() is None

    async def kill(self) -> None:
        """SIGKILL: the process gets no chance to clean up."""
        if self.running():
            self.popen.send_signal(signal.SIGKILL)
        await asyncio.to_thread(self.popen.wait)

    async def terminate(self, timeout: float = 15.0) -> int:
        """SIGTERM and wait for a clean exit (SIGKILL after ``timeout``); returns the exit code."""
        if self.running():
            self.popen.send_signal(signal.SIGTERM)
        try:
            return await asyncio.to_thread(self.popen.wait, timeout)
        except subprocess.TimeoutExpired:
            await self.kill()
            raise AssertionError(f"wf server did not stop within {timeout}s of SIGTERM:\n{self.output()}") from None


async def wait_until_serving(address: str, *, timeout: float = 30.0, alive: Callable[[], bool] = lambda: True) -> None:
    """Wait until a wf server at ``address`` answers GetSystemInfo."""

    async def answers() -> None:
        assert alive(), "the server process exited"
        async with grpc.aio.insecure_channel(address) as channel:
            stub = service_pb2_grpc.WorkflowServiceStub(channel)
            try:
                await stub.GetSystemInfo(service_pb2.GetSystemInfoRequest(), timeout=1.0)
            except grpc.aio.AioRpcError as exc:
                if exc.code() == grpc.StatusCode.UNAUTHENTICATED:
                    return  # a server run with --auth required answers: it serves
                raise AssertionError(f"{address} does not answer yet: {exc.code().name}") from None

    await assert_eventually(answers, timeout=timeout, interval=0.1)


@contextlib.asynccontextmanager
async def wf_server_process(
    db_url: str,
    *,
    port: int | None = None,
    args: Sequence[str] = (),
    ready_timeout: float = 30.0,
    env: Mapping[str, str] | None = None,
    ready: Callable[[ServerProcess], bool] | None = None,
    log_dir: Path | None = None,
) -> AsyncIterator[ServerProcess]:
    """Run ``wf server start --db URL --port P`` until the block ends; it is always stopped after.

    ``env``: environment variables set for the process on top of the tests' own. ``ready``: when it
    serves, if not once a plaintext gRPC call is answered (a TLS server: its start line, say).
    ``log_dir``: where its log goes and stays, to be read after it stopped (else a directory
    removed afterwards).
    """
    port = port or free_port()
    own_log_dir = log_dir is None
    log_dir = Path(tempfile.mkdtemp(prefix="wf-server-log-")) if log_dir is None else log_dir
    log_path = log_dir / f"server-{port}.log"
    with open(log_path, "wb") as log:
        popen = subprocess.Popen(
            [wf_executable(), "server", "start", "--db", db_url, "--port", str(port), *args],
            stdout=log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            env={**os.environ, "PYTHONUNBUFFERED": "1", **(env or {})},
        )
    proc = ServerProcess(popen, port, log_path)
    try:
        try:
            if ready is None:
                await wait_until_serving(proc.address, timeout=ready_timeout, alive=proc.running)
            else:
                await assert_eventually(lambda: proc.running() and ready(proc), timeout=ready_timeout, interval=0.1)
        except AssertionError as exc:
            raise AssertionError(f"wf server on port {port} did not start: {exc}\n{proc.output()}") from None
        yield proc
    finally:
        if proc.running():
            with contextlib.suppress(AssertionError):
                await proc.terminate()
        await asyncio.to_thread(popen.wait)
        if own_log_dir:
            shutil.rmtree(log_dir, ignore_errors=True)


def waiting_polls(
    server: Server, task_queue: str, kind: TaskKind = TaskKind.WORKFLOW, namespace: str = "default"
) -> int:
    """How many polls wait in ``server`` for a task of this queue right now."""
    assert server.matcher is not None
    return server.matcher.waiting(namespace, task_queue, kind)


def new_id(prefix: str = "wf") -> str:
    """A workflow (or request) id no other test uses."""
    return f"{prefix}-{uuid.uuid4().hex[:12]}"


async def rpc_error(call: Awaitable[object]) -> grpc.aio.AioRpcError:
    """The gRPC error an awaited call ends with (fails the test if the call succeeds)."""
    try:
        await call
    except grpc.aio.AioRpcError as exc:
        return exc
    raise AssertionError("the call succeeded; a gRPC error was expected")


# -- building requests ---------------------------------------------------------------------------


def dur(seconds: float) -> Duration:
    d = Duration()
    d.FromTimedelta(timedelta(seconds=seconds))
    return d


def payloads(*datas: bytes) -> common_pb2.Payloads:
    return common_pb2.Payloads(
        payloads=[common_pb2.Payload(metadata={"encoding": b"binary/plain"}, data=d) for d in datas]
    )


def start_request(
    workflow_id: str,
    task_queue: str,
    *,
    workflow_type: str = "RawWorkflow",
    namespace: str = "default",
    input: bytes | None = None,
    request_id: str = "",
    **fields: Any,
) -> service_pb2.StartWorkflowExecutionRequest:
    """A StartWorkflowExecutionRequest; ``fields`` sets any other field of the message."""
    return service_pb2.StartWorkflowExecutionRequest(
        namespace=namespace,
        workflow_id=workflow_id,
        workflow_type=common_pb2.WorkflowType(name=workflow_type),
        task_queue=common_pb2.TaskQueue(name=task_queue),
        input=payloads(input) if input is not None else None,
        request_id=request_id,
        **fields,
    )


def retry_policy(
    *, initial: float = 0.1, maximum_attempts: int = 0, backoff: float = 1.0, non_retryable: Iterable[str] = ()
) -> common_pb2.RetryPolicy:
    return common_pb2.RetryPolicy(
        initial_interval=dur(initial),
        backoff_coefficient=backoff,
        maximum_attempts=maximum_attempts,
        non_retryable_error_types=list(non_retryable),
    )


def schedule_activity(
    activity_id: str,
    activity_type: str = "RawActivity",
    *,
    task_queue: str = "",
    input: bytes | None = None,
    start_to_close: float | None = 10.0,
    schedule_to_close: float | None = None,
    schedule_to_start: float | None = None,
    retry: common_pb2.RetryPolicy | None = None,
) -> command_pb2.Command:
    attrs = command_pb2.ScheduleActivityTaskCommandAttributes(
        activity_id=activity_id,
        activity_type=common_pb2.ActivityType(name=activity_type),
        task_queue=common_pb2.TaskQueue(name=task_queue),
        input=payloads(input) if input is not None else None,
        retry_policy=retry,
    )
    if start_to_close is not None:
        attrs.start_to_close_timeout.CopyFrom(dur(start_to_close))
    if schedule_to_close is not None:
        attrs.schedule_to_close_timeout.CopyFrom(dur(schedule_to_close))
    if schedule_to_start is not None:
        attrs.schedule_to_start_timeout.CopyFrom(dur(schedule_to_start))
    return command_pb2.Command(
        command_type=command_pb2.COMMAND_TYPE_SCHEDULE_ACTIVITY_TASK,
        schedule_activity_task_command_attributes=attrs,
    )


def complete_workflow(result: bytes | None = None) -> command_pb2.Command:
    return command_pb2.Command(
        command_type=command_pb2.COMMAND_TYPE_COMPLETE_WORKFLOW_EXECUTION,
        complete_workflow_execution_command_attributes=command_pb2.CompleteWorkflowExecutionCommandAttributes(
            result=payloads(result) if result is not None else None
        ),
    )


def application_failure(
    message: str, error_type: str = "TestError", *, non_retryable: bool = False
) -> common_pb2.Failure:
    return common_pb2.Failure(
        message=message,
        source="tests",
        application_failure_info=common_pb2.ApplicationFailureInfo(type=error_type, non_retryable=non_retryable),
    )


# -- talking to a server -------------------------------------------------------------------------

Stub = service_pb2_grpc.WorkflowServiceStub


async def poll_workflow_task(
    stub: Stub, task_queue: str, *, namespace: str = "default", timeout: float = 10.0, identity: str = "tests"
) -> service_pb2.PollWorkflowTaskQueueResponse:
    """One long poll; the response is empty (no task_token) when no task came within ``timeout``."""
    return await stub.PollWorkflowTaskQueue(
        service_pb2.PollWorkflowTaskQueueRequest(
            namespace=namespace, task_queue=common_pb2.TaskQueue(name=task_queue), identity=identity
        ),
        timeout=timeout,
    )


async def poll_activity_task(
    stub: Stub, task_queue: str, *, namespace: str = "default", timeout: float = 10.0, identity: str = "tests"
) -> service_pb2.PollActivityTaskQueueResponse:
    """One long poll; the response is empty (no task_token) when no task came within ``timeout``."""
    return await stub.PollActivityTaskQueue(
        service_pb2.PollActivityTaskQueueRequest(
            namespace=namespace, task_queue=common_pb2.TaskQueue(name=task_queue), identity=identity
        ),
        timeout=timeout,
    )


async def next_workflow_task(
    stub: Stub, task_queue: str, *, within: float = 10.0, **kw: Any
) -> service_pb2.PollWorkflowTaskQueueResponse:
    """The next workflow task on the queue; fails the test if none comes ``within`` seconds."""
    resp = await poll_workflow_task(stub, task_queue, timeout=within + 1.0, **kw)
    assert resp.task_token, f"no workflow task on {task_queue!r} within {within}s"
    return resp


async def next_activity_task(
    stub: Stub, task_queue: str, *, within: float = 10.0, **kw: Any
) -> service_pb2.PollActivityTaskQueueResponse:
    """The next activity task on the queue; fails the test if none comes ``within`` seconds."""
    resp = await poll_activity_task(stub, task_queue, timeout=within + 1.0, **kw)
    assert resp.task_token, f"no activity task on {task_queue!r} within {within}s"
    return resp


async def complete_workflow_task(stub: Stub, task_token: bytes, *commands: command_pb2.Command) -> None:
    await stub.RespondWorkflowTaskCompleted(
        service_pb2.RespondWorkflowTaskCompletedRequest(task_token=task_token, commands=commands, identity="tests"),
        timeout=10,
    )


async def task_rows(db_url: str, workflow_id: str) -> int:
    """How many task rows the run's workflow id has in the task table."""
    conn = await asyncpg.connect(db_url)
    try:
        return int(await conn.fetchval("SELECT count(*) FROM tasks WHERE workflow_id = $1", workflow_id))
    finally:
        await conn.close()


async def describe(
    stub: Stub, workflow_id: str, run_id: str = "", *, namespace: str = "default"
) -> service_pb2.DescribeWorkflowExecutionResponse:
    return await stub.DescribeWorkflowExecution(
        service_pb2.DescribeWorkflowExecutionRequest(
            namespace=namespace, execution=common_pb2.WorkflowExecution(workflow_id=workflow_id, run_id=run_id)
        ),
        timeout=10,
    )


async def fetch_history(
    stub: Stub, workflow_id: str, run_id: str = "", *, namespace: str = "default"
) -> history_pb2.History:
    """The whole history of a run as it is now (every page, no waiting)."""
    history = history_pb2.History()
    token = b""
    while True:
        resp = await stub.GetWorkflowExecutionHistory(
            service_pb2.GetWorkflowExecutionHistoryRequest(
                namespace=namespace,
                execution=common_pb2.WorkflowExecution(workflow_id=workflow_id, run_id=run_id),
                next_page_token=token,
            ),
            timeout=10,
        )
        history.events.extend(resp.history.events)
        token = resp.next_page_token
        if not token:
            return history


async def list_all(
    stub: Stub, query: str, *, page_size: int = 0, namespace: str = "default"
) -> list[service_pb2.WorkflowExecutionInfo]:
    """Every execution matching ``query``, following the page tokens."""
    found: list[service_pb2.WorkflowExecutionInfo] = []
    token = b""
    for _ in range(10_000):
        resp = await stub.ListWorkflowExecutions(
            service_pb2.ListWorkflowExecutionsRequest(
                namespace=namespace, query=query, page_size=page_size, next_page_token=token
            ),
            timeout=10,
        )
        found.extend(resp.executions)
        token = resp.next_page_token
        if not token:
            return found
    raise AssertionError("ListWorkflowExecutions never stopped handing out page tokens")


# -- reading histories ---------------------------------------------------------------------------


def event_name(event_type: int) -> str:
    """EVENT_TYPE_WORKFLOW_EXECUTION_STARTED → 'WorkflowExecutionStarted' (Temporal's names)."""
    name = history_pb2.EventType.Name(event_type).removeprefix("EVENT_TYPE_")
    return "".join(part.capitalize() for part in name.split("_"))


def event_types(history: history_pb2.History) -> list[str]:
    return [event_name(e.event_type) for e in history.events]


def events_of(history: history_pb2.History, name: str) -> list[history_pb2.HistoryEvent]:
    return [e for e in history.events if event_name(e.event_type) == name]


# -- a scripted raw worker -----------------------------------------------------------------------


@dataclass
class Deliveries:
    """What raw workers were handed, counted, to prove each task went to exactly one poller."""

    workflow_tasks: Counter[tuple[str, str, int]] = field(default_factory=Counter)
    activity_tasks: Counter[tuple[str, str, str, int]] = field(default_factory=Counter)
    by_identity: Counter[str] = field(default_factory=Counter)

    def duplicates(self) -> list[Any]:
        return [k for k, n in (self.workflow_tasks + self.activity_tasks).items() if n > 1]


def echo_workflow_commands(history: history_pb2.History) -> list[command_pb2.Command]:
    """A one-activity workflow: run activity ``echo`` on the input, then complete with its result."""
    completed = events_of(history, "ActivityTaskCompleted")
    if completed:
        return [complete_workflow(completed[-1].activity_task_completed_event_attributes.result.payloads[0].data)]
    if events_of(history, "ActivityTaskScheduled"):
        return []  # the activity is still running
    started = history.events[0].workflow_execution_started_event_attributes
    data = started.input.payloads[0].data if started.input.payloads else b""
    return [schedule_activity("echo", "Echo", input=data, start_to_close=10.0)]


async def raw_workflow_worker(
    stub: Stub,
    task_queue: str,
    deliveries: Deliveries,
    *,
    identity: str,
    decide: Callable[[history_pb2.History], list[command_pb2.Command]] = echo_workflow_commands,
    stop_on_unavailable: bool = False,
) -> None:
    """Poll workflow tasks forever and answer each with ``decide(history)``; cancel it to stop."""
    while True:
        try:
            task = await poll_workflow_task(stub, task_queue, timeout=5.0, identity=identity)
            if not task.task_token:
                continue
            ex = task.workflow_execution
            deliveries.workflow_tasks[(ex.workflow_id, ex.run_id, task.started_event_id)] += 1
            deliveries.by_identity[identity] += 1
            await complete_workflow_task(stub, task.task_token, *decide(task.history))
        except grpc.aio.AioRpcError as exc:
            if stop_on_unavailable and exc.code() == grpc.StatusCode.UNAVAILABLE:
                return
            raise


async def raw_activity_worker(
    stub: Stub,
    task_queue: str,
    deliveries: Deliveries,
    *,
    identity: str,
    answer: bool = True,
    stop_on_unavailable: bool = False,
) -> None:
    """Poll activity tasks forever; each returns its input as its result (or, without ``answer``,
    is taken and never answered); cancel it to stop."""
    while True:
        try:
            task = await poll_activity_task(stub, task_queue, timeout=5.0, identity=identity)
            if not task.task_token:
                continue
            ex = task.workflow_execution
            deliveries.activity_tasks[(ex.workflow_id, ex.run_id, task.activity_id, task.attempt)] += 1
            deliveries.by_identity[identity] += 1
            if answer:
                await stub.RespondActivityTaskCompleted(
                    service_pb2.RespondActivityTaskCompletedRequest(
                        task_token=task.task_token, result=task.input, identity=identity
                    ),
                    timeout=10,
                )
        except grpc.aio.AioRpcError as exc:
            if stop_on_unavailable and exc.code() == grpc.StatusCode.UNAVAILABLE:
                return
            raise


@contextlib.asynccontextmanager
async def background(*coroutines: Awaitable[None]) -> AsyncIterator[list[asyncio.Task[None]]]:
    """Run coroutines as tasks for the block; cancel them after it and re-raise any that failed."""
    tasks = [asyncio.ensure_future(c) for c in coroutines]
    try:
        yield tasks
    finally:
        for t in tasks:
            t.cancel()
        results = await asyncio.gather(*tasks, return_exceptions=True)
        failures = [r for r in results if isinstance(r, BaseException) and not isinstance(r, asyncio.CancelledError)]
        if failures:
            # Raised here, a worker's error is shown first; a failure of the block stays as its context.
            raise failures[0]


# -- databases of their own ------------------------------------------------------------------------


def with_database(url: str, name: str) -> str:
    """``url`` pointing at database ``name`` instead."""
    return urlunsplit(urlsplit(url)._replace(path=f"/{name}"))


@contextlib.asynccontextmanager
async def scratch_database(db_url: str, prefix: str = "wf_scratch", *, migrated: bool = True) -> AsyncIterator[str]:
    """The URL of a new database on the session's PostgreSQL (``db_url``'s), named ``prefix`` and a
    random suffix, migrated to head (or empty: ``migrated=False``); dropped afterwards."""
    name = f"{prefix}_{uuid.uuid4().hex[:12]}"
    conn = await asyncpg.connect(asyncpg_dsn(db_url))
    try:
        await conn.execute(f'CREATE DATABASE "{name}"')
    except asyncpg.InsufficientPrivilegeError as exc:
        pytest.skip(f"cannot create a scratch database on this PostgreSQL: {exc}")
    finally:
        await conn.close()
    url = with_database(db_url, name)
    try:
        if migrated:
            await asyncio.to_thread(migrations.upgrade, url)
        yield url
    finally:
        conn = await asyncpg.connect(asyncpg_dsn(db_url))
        try:
            await conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        finally:
            await conn.close()
