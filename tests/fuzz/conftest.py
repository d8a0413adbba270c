"""The fuzzing suite's server, its log, the things that exist on it, and the hypothesis profiles.

The server under fuzz is a real ``wf server start`` process on the session's PostgreSQL, so a crash
shows as a dead process and everything it logs is captured in a file and read after each call. Its
long polls and queries give up after 0.1 s, so a generated poll that finds nothing costs little.

Profiles (``WF_FUZZ_PROFILE``): ``ci`` (the default, part of ``make test``) is derandomized with no
example database, so every run tries the same inputs, in well under a minute; ``fuzz`` (``make fuzz``)
draws fresh inputs, at least 10,000 per RPC (both transports together), and keeps failing examples in
``.hypothesis/`` to try first next time.
"""

from __future__ import annotations

import asyncio
import os
import re
import shutil
import subprocess
import tempfile
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import asyncpg
import grpc
import pytest
from google.protobuf.duration_pb2 import Duration
from hypothesis import HealthCheck, Phase, settings

from tests.fuzz.strategies import World
from tests.helpers import complete_workflow, free_port, retry_policy, schedule_activity, start_request, wf_executable
from tests.history_check import check_stored_histories
from wf.server.app import asyncpg_dsn
from wf.v1 import command_pb2, common_pb2, service_pb2, service_pb2_grpc

S = service_pb2
PROFILE = os.environ.get("WF_FUZZ_PROFILE", "ci")
# No "explain" phase: it traces coverage, which slows every example several times over.
_COMMON: dict[str, Any] = {
    "deadline": None, "suppress_health_check": list(HealthCheck), "print_blob": True,
    "phases": [Phase.explicit, Phase.reuse, Phase.generate, Phase.target, Phase.shrink],
}
settings.register_profile("ci", derandomize=True, database=None, **_COMMON)
settings.register_profile("fuzz", **_COMMON)
settings.load_profile(PROFILE)

# Examples per test, by kind of test: one RPC on one transport, a multi-step scenario, a raw stream.
EXAMPLES = {"ci": {"rpc": 12, "scenario": 15, "stream": 40}, "fuzz": {"rpc": 5000, "scenario": 1000, "stream": 5000}}


def examples(kind: str) -> int:
    return EXAMPLES[PROFILE][kind]


SERVICE = "/wf.v1.WorkflowService/"
CODES = {c.value[0]: c for c in grpc.StatusCode}
# What a server log may not say: an unhandled exception, an error, a crash of a task or a callback.
LOG_PROBLEM = re.compile(r" (ERROR|CRITICAL) |Traceback|Exception in callback|was never retrieved|Segmentation fault")
# Internal text that must never reach a client, whatever the status.
INTERNAL_TEXT = re.compile(r"Traceback|asyncpg|sqlalchemy|database error|File \"|DecodeError|upb_", re.IGNORECASE)


@dataclass
class Outcome:
    """How one call ended: its status, its message, and the response bytes when OK."""

    code: grpc.StatusCode | None
    details: str
    response: bytes = b""


@dataclass
class FuzzServer:
    """A ``wf server start`` process under fuzz, a channel to it, and what it has logged so far."""

    popen: subprocess.Popen[bytes]
    address: str
    log_path: Path
    conn: asyncpg.Connection
    loop: asyncio.AbstractEventLoop
    channel: grpc.Channel
    started_at: float
    world: World = field(default_factory=World)
    _log_offset: int = 0

    @property
    def stub(self) -> service_pb2_grpc.WorkflowServiceStub:
        return service_pb2_grpc.WorkflowServiceStub(self.channel)

    # -- calling

    def call(self, method: str, data: bytes, transport: str, timeout: float = 2.0) -> Outcome:
        """Send ``data`` as the request of ``method``, as its own RPC or on a Multiplex stream."""
        if transport == "rpc":
            try:
                response = self.channel.unary_unary(SERVICE + method)(data, timeout=timeout)
            except grpc.RpcError as exc:
                return Outcome(exc.code(), exc.details() or "")
            return Outcome(grpc.StatusCode.OK, "", response)
        d = Duration()
        d.FromMilliseconds(int(timeout * 1000))
        call = S.MultiplexCall(id=7, method=method, request=data, timeout=d)
        return self.stream(S.MultiplexRequest(calls=[call]).SerializeToString(), call_id=7, timeout=timeout + 3)

    def stream(self, raw: bytes, *, call_id: int | None, timeout: float = 5.0) -> Outcome:
        """Send one raw message on a Multiplex stream and close the sending side: the answer to
        ``call_id`` (or how the stream ended, without one)."""
        reply: S.MultiplexReply | None = None
        try:
            for message in self.channel.stream_stream(SERVICE + "Multiplex")(iter([raw]), timeout=timeout):
                for r in S.MultiplexResponse.FromString(message).replies:
                    if r.id == call_id:
                        reply = r
        except grpc.RpcError as exc:
            return Outcome(exc.code(), f"the stream ended: {exc.details()}")
        if call_id is None:
            return Outcome(grpc.StatusCode.OK, "")
        if reply is None:
            return Outcome(None, "the stream ended without answering the call")
        code = CODES.get(reply.code)
        return Outcome(code, reply.message if code is not None else f"unknown status code {reply.code}",
                       reply.response)

    # -- judging

    def log_problems(self) -> list[str]:
        """Lines the server logged since the last look that show an error or a crash."""
        with open(self.log_path, "rb") as f:
            f.seek(self._log_offset)
            raw = f.read()
        self._log_offset += len(raw)
        text = raw.decode(errors="replace")
        lines = text.splitlines()
        return lines if any(LOG_PROBLEM.search(line) for line in lines) else []

    def judge(self, what: str, outcome: Outcome, allowed: set[grpc.StatusCode], response_type: Any = None) -> None:
        """Fail unless the call ended with an allowed status, its answer is readable and carries no
        internal text, the server lives, and its log shows no error."""
        problems = []
        if outcome.code not in allowed:
            name = outcome.code.name if outcome.code is not None else "no status"
            problems.append(f"{what} answered {name}: {outcome.details[:500]}")
        elif INTERNAL_TEXT.search(outcome.details):
            problems.append(f"{what} answered {outcome.code.name if outcome.code else '?'} with internal text: "
                            f"{outcome.details[:500]}")
        if outcome.code == grpc.StatusCode.OK and response_type is not None:
            try:
                response_type.FromString(outcome.response)
            except Exception as exc:
                problems.append(f"{what}: its response cannot be parsed by a client: {exc}")
        if self.popen.poll() is not None:
            problems.append(f"the server exited with {self.popen.returncode}")
        logged = self.log_problems()
        if logged:
            problems.append("the server logged:\n" + "\n".join(logged[:60]))
        assert not problems, "\n".join(problems)

    def check_histories(self, **which: Any) -> tuple[int, list[str]]:
        """Check the stored histories (see tests/history_check.py)."""
        return self.loop.run_until_complete(check_stored_histories(self.conn, **which))

    def runs_since_start(self) -> list[str]:
        rows = self.loop.run_until_complete(self.conn.fetch(
            "SELECT DISTINCT workflow_id FROM executions WHERE start_time >= to_timestamp($1)", self.started_at
        ))
        return [r["workflow_id"] for r in rows]


def _wait_until_serving(server: FuzzServer, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while True:
        assert server.popen.poll() is None, f"wf server exited:\n{server.log_path.read_text(errors='replace')}"
        try:
            server.stub.GetSystemInfo(S.GetSystemInfoRequest(), timeout=1.0)
            return
        except grpc.RpcError:
            if time.monotonic() > deadline:
                raise AssertionError(f"wf server did not start:\n{server.log_path.read_text(errors='replace')}") \
                    from None
            time.sleep(0.1)


def _poll_task(stub: service_pb2_grpc.WorkflowServiceStub, queue: str, activity: bool = False) -> Any:
    """The next task of ``queue``: fails after a few empty polls (each long poll lasts 0.1 s)."""
    tq = common_pb2.TaskQueue(name=queue)
    for _ in range(50):
        if activity:
            task = stub.PollActivityTaskQueue(S.PollActivityTaskQueueRequest(namespace="default", task_queue=tq,
                                                                             identity="fuzz"), timeout=5)
        else:
            task = stub.PollWorkflowTaskQueue(S.PollWorkflowTaskQueueRequest(namespace="default", task_queue=tq,
                                                                             identity="fuzz"), timeout=5)
        if task.task_token:
            return task
    raise AssertionError(f"no {'activity' if activity else 'workflow'} task on {queue}")


def _build_world(server: FuzzServer) -> None:
    """A few runs in every state a request may name: running with a workflow task started and an
    activity started, running idle, and completed; their ids, queues and tokens go into the world."""
    stub, world = server.stub, server.world
    queue = f"fuzz-world-{uuid.uuid4().hex[:6]}"
    ids = [f"{queue}-{i}" for i in range(3)]
    for wid in ids:
        run = stub.StartWorkflowExecution(start_request(wid, queue, input=b"world"), timeout=10)
        world.strings += [wid, run.run_id]
    world.named.update(workflow_id=ids[0], run_id=world.strings[2], name=queue, identity="fuzz")
    world.strings += [queue, "RawWorkflow", "RawActivity", "WorkflowType = 'RawWorkflow'", "ExecutionStatus = 1"]
    for _ in ids:
        task = _poll_task(stub, queue)
        wid = task.workflow_execution.workflow_id
        if wid == ids[0]:
            stub.RespondWorkflowTaskCompleted(S.RespondWorkflowTaskCompletedRequest(
                task_token=task.task_token, identity="fuzz",
                commands=[schedule_activity("a1", retry=retry_policy(maximum_attempts=3)), _timer("t1", 3600)],
            ), timeout=10)
            world.tokens.append(_poll_task(stub, queue, activity=True).task_token)
        elif wid == ids[1]:
            stub.RespondWorkflowTaskCompleted(S.RespondWorkflowTaskCompletedRequest(
                task_token=task.task_token, identity="fuzz", commands=[complete_workflow(b"done")]), timeout=10)
        else:
            world.tokens.append(task.task_token)  # a workflow task left started
    world.strings += ["a1", "t1", "fuzz"]


def _timer(timer_id: str, seconds: float) -> command_pb2.Command:
    d = Duration()
    d.FromMilliseconds(int(seconds * 1000))
    return command_pb2.Command(
        command_type=command_pb2.COMMAND_TYPE_START_TIMER,
        start_timer_command_attributes=command_pb2.StartTimerCommandAttributes(
            timer_id=timer_id, start_to_fire_timeout=d
        ),
    )


@pytest.fixture(scope="session")
def fuzz(db_url: str) -> Iterator[FuzzServer]:
    """A ``wf server start`` process for the fuzzing suite, with a world to aim at."""
    log_dir = Path(tempfile.mkdtemp(prefix="wf-fuzz-"))
    log_path = log_dir / "server.log"
    port = free_port()
    started_at = time.time()
    with open(log_path, "wb") as log:
        popen = subprocess.Popen(
            [wf_executable(), "server", "start", "--db", db_url, "--port", str(port),
             "--long-poll-timeout", "0.1", "--query-timeout", "0.1"],
            stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
            env={**os.environ, "PYTHONUNBUFFERED": "1"},
        )
    loop = asyncio.new_event_loop()
    conn = loop.run_until_complete(asyncpg.connect(asyncpg_dsn(db_url)))
    channel = grpc.insecure_channel(f"127.0.0.1:{port}")
    server = FuzzServer(popen, f"127.0.0.1:{port}", log_path, conn, loop, channel, started_at)
    try:
        _wait_until_serving(server)
        _build_world(server)
        server.log_problems()  # start reading after the start-up
        yield server
    finally:
        channel.close()
        popen.terminate()
        try:
            popen.wait(15)
        except subprocess.TimeoutExpired:
            popen.kill()
            popen.wait()
        loop.run_until_complete(conn.close())
        loop.close()
        if os.environ.get("WF_FUZZ_KEEP_LOG"):
            print(f"fuzzed server's log: {log_path}")
        else:
            shutil.rmtree(log_dir, ignore_errors=True)
