"""Fuzzing: every WorkflowService RPC, on both transports, with generated and mutated requests.

Invariants, checked after every call: the answer is a proper gRPC status from the set that RPC may
answer (never UNKNOWN, never INTERNAL, never internal text such as a traceback or a database message),
an OK response is one a client can parse, the server process lives, and its log shows no error or
unhandled exception. Scenarios drive real runs step by step (random commands for a started workflow
task, hostile failures for a started activity) and check that each run stays readable, describable,
terminable, and that its history stays valid (tests/history_check.py); the last test checks every
history the fuzzing made.

The requests come from tests/fuzz/strategies.py; the server and profiles from tests/fuzz/conftest.py.
"""

from __future__ import annotations

import uuid
from typing import Any

import grpc
import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from tests.fuzz.conftest import FuzzServer, _poll_task, examples
from tests.fuzz.strategies import failures, hostile_examples, messages, requests, strings
from tests.helpers import retry_policy, schedule_activity, start_request
from wf.v1 import command_pb2, common_pb2, service_pb2

S = service_pb2
C = grpc.StatusCode
SERVICE = S.DESCRIPTOR.services_by_name["WorkflowService"]
METHODS = [m.name for m in SERVICE.methods if not (m.client_streaming or m.server_streaming)]
TRANSPORTS = ["rpc", "multiplex"]
# A failing example may hold a 5 MB string: hypothesis warns that printing it costs, and it is printed cut.
pytestmark = pytest.mark.filterwarnings("ignore:Generating overly large repr")

# Statuses any call may answer: refusals of bad input and of the state of things, limits, and a deadline
# that passed (a poll or a query that waited); ABORTED for a change that met another one.
ALLOWED = {C.OK, C.INVALID_ARGUMENT, C.NOT_FOUND, C.FAILED_PRECONDITION, C.RESOURCE_EXHAUSTED,
           C.DEADLINE_EXCEEDED, C.ABORTED}
ALLOWED_BY_METHOD = {
    "StartWorkflowExecution": ALLOWED | {C.ALREADY_EXISTS},
    # A name registered already with another type.
    "AddSearchAttributes": ALLOWED | {C.ALREADY_EXISTS},
    "RegisterNamespace": ALLOWED | {C.ALREADY_EXISTS},  # a name taken (default, say)
}


def allowed(method: str) -> set[grpc.StatusCode]:
    return ALLOWED_BY_METHOD.get(method, ALLOWED)


def response_type(method: str) -> Any:
    return getattr(S, SERVICE.methods_by_name[method].output_type.name)


@pytest.mark.timeout(0)
@pytest.mark.parametrize("transport", TRANSPORTS)
@pytest.mark.parametrize("method", METHODS)
def test_every_rpc_answers_hostile_requests_properly(fuzz: FuzzServer, method: str, transport: str) -> None:
    desc = SERVICE.methods_by_name[method].input_type

    @settings(max_examples=examples("rpc"))
    @given(data=requests(desc, fuzz.world))
    def run(data: bytes) -> None:
        fuzz.judge(method, fuzz.call(method, data, transport), allowed(method), response_type(method))

    for data in hostile_examples(desc, fuzz.world):
        run = example(data=data)(run)
    run()


@pytest.mark.timeout(0)
def test_the_multiplex_stream_answers_hostile_messages_properly(fuzz: FuzzServer) -> None:
    """Whole stream messages that are corrupt, calls of methods that do not exist, odd timeouts and
    ids: the stream ends with a proper status, or answers the call with one."""
    call = messages(S.MultiplexCall.DESCRIPTOR, fuzz.world).map(lambda c: S.MultiplexRequest(calls=[c]))
    stream_allowed = ALLOWED | {C.ALREADY_EXISTS, C.UNIMPLEMENTED, C.CANCELLED}

    @settings(max_examples=examples("stream"))
    @given(request=call, method=st.one_of(st.sampled_from(METHODS), strings(fuzz.world)), raw=st.booleans(),
           garbage=st.binary(max_size=64))
    def run(request: S.MultiplexRequest, method: str, raw: bool, garbage: bytes) -> None:
        if raw:
            outcome = fuzz.stream(garbage, call_id=None)
        else:
            request.calls[0].method = method
            request.calls[0].cancel = False
            outcome = fuzz.stream(request.SerializeToString(), call_id=request.calls[0].id)
        fuzz.judge("Multiplex", outcome, stream_allowed)

    run()


COMMAND_TYPES = {
    f.name: getattr(command_pb2, "COMMAND_TYPE_" + f.name.removesuffix("_command_attributes").upper())
    for f in command_pb2.Command.DESCRIPTOR.oneofs_by_name["attributes"].fields
}


def commands(fuzz: FuzzServer) -> st.SearchStrategy[command_pb2.Command]:
    """Commands whose type agrees with their attributes (so they get past the first check) with
    generated attributes, commands of unknown or mismatched types, and wholly generated ones."""

    @st.composite
    def typed(draw: st.DrawFn) -> command_pb2.Command:
        name = draw(st.sampled_from(sorted(COMMAND_TYPES)))
        fd = command_pb2.Command.DESCRIPTOR.fields_by_name[name]
        cmd = command_pb2.Command()
        getattr(cmd, name).CopyFrom(draw(messages(fd.message_type, fuzz.world)))
        cmd.command_type = draw(st.one_of(st.just(COMMAND_TYPES[name]), st.integers(-5, 50)))
        return cmd

    return st.one_of(typed(), typed(), messages(command_pb2.Command.DESCRIPTOR, fuzz.world))  # type: ignore[arg-type]


def start_and_take_workflow_task(fuzz: FuzzServer, queue: str) -> tuple[str, S.PollWorkflowTaskQueueResponse]:
    wid = f"{queue}-{uuid.uuid4().hex[:8]}"
    fuzz.stub.StartWorkflowExecution(start_request(wid, queue, input=b"in"), timeout=10)
    return wid, _poll_task(fuzz.stub, queue)


def run_stays_readable(fuzz: FuzzServer, wid: str) -> None:
    """The run can still be described, read, and terminated; its stored history is valid."""
    execution = common_pb2.WorkflowExecution(workflow_id=wid)
    for method, request in [
        ("DescribeWorkflowExecution", S.DescribeWorkflowExecutionRequest(namespace="default", execution=execution)),
        ("GetWorkflowExecutionHistory",
         S.GetWorkflowExecutionHistoryRequest(namespace="default", execution=execution)),
        ("TerminateWorkflowExecution",
         S.TerminateWorkflowExecutionRequest(namespace="default", workflow_execution=execution, reason="fuzz")),
        ("DescribeWorkflowExecution", S.DescribeWorkflowExecutionRequest(namespace="default", execution=execution)),
    ]:
        ok = {C.OK, C.FAILED_PRECONDITION} if method == "TerminateWorkflowExecution" else {C.OK}
        fuzz.judge(f"{method} after the fuzzed step", fuzz.call(method, request.SerializeToString(), "rpc", 10),
                   ok, response_type(method))
    checked, problems = fuzz.check_histories(workflow_ids=[wid])
    assert checked >= 1 and not problems, "\n".join(problems)


@pytest.mark.timeout(0)
def test_random_commands_for_a_started_workflow_task(fuzz: FuzzServer) -> None:
    queue = f"fuzz-wt-{uuid.uuid4().hex[:6]}"

    @settings(max_examples=examples("scenario"))
    @given(cmds=st.lists(commands(fuzz), max_size=4), transport=st.sampled_from(TRANSPORTS))
    def run(cmds: list[command_pb2.Command], transport: str) -> None:
        wid, task = start_and_take_workflow_task(fuzz, queue)
        request = S.RespondWorkflowTaskCompletedRequest(task_token=task.task_token, commands=cmds, identity="fuzz")
        method = "RespondWorkflowTaskCompleted"
        fuzz.judge(method, fuzz.call(method, request.SerializeToString(), transport, 10), allowed(method),
                   response_type(method))
        run_stays_readable(fuzz, wid)

    run()


@pytest.mark.timeout(0)
def test_hostile_failures_for_a_started_activity(fuzz: FuzzServer) -> None:
    """Deep cause chains, huge stack traces and messages with NUL, reported for a real started
    activity that is or is not retried: the run stays readable, and the workflow task that follows
    (with the failure in its history) is one a worker can parse."""
    queue = f"fuzz-act-{uuid.uuid4().hex[:6]}"

    @settings(max_examples=examples("scenario"))
    @given(failure=failures(fuzz.world), attempts=st.sampled_from([1, 2]), transport=st.sampled_from(TRANSPORTS),
           wt_failure=st.booleans())
    def run(failure: common_pb2.Failure, attempts: int, transport: str, wt_failure: bool) -> None:
        wid, task = start_and_take_workflow_task(fuzz, queue)
        if wt_failure:
            # The same failure, reported for the workflow task instead.
            method = "RespondWorkflowTaskFailed"
            request: Any = S.RespondWorkflowTaskFailedRequest(task_token=task.task_token, identity="fuzz")
        else:
            fuzz.stub.RespondWorkflowTaskCompleted(S.RespondWorkflowTaskCompletedRequest(
                task_token=task.task_token, identity="fuzz",
                commands=[schedule_activity("a", retry=retry_policy(maximum_attempts=attempts))]), timeout=10)
            activity = _poll_task(fuzz.stub, queue, activity=True)
            method = "RespondActivityTaskFailed"
            request = S.RespondActivityTaskFailedRequest(task_token=activity.task_token, identity="fuzz")
        # The failure goes in as bytes: a chain deeper than protobuf parses cannot be copied into a
        # request object on this side either, and the server must see it as a client may send it.
        data = request.SerializeToString() + _field_bytes(request, "failure", failure.SerializeToString())
        fuzz.judge(method, fuzz.call(method, data, transport, 10), allowed(method), response_type(method))
        if attempts == 1 or wt_failure:
            # The next workflow task carries the failure: its response must parse.
            poll = S.PollWorkflowTaskQueueRequest(namespace="default", task_queue=common_pb2.TaskQueue(name=queue),
                                                  identity="fuzz")
            fuzz.judge("PollWorkflowTaskQueue after the failure",
                       fuzz.call("PollWorkflowTaskQueue", poll.SerializeToString(), transport, 10),
                       {C.OK}, response_type("PollWorkflowTaskQueue"))
        run_stays_readable(fuzz, wid)

    run()


def _varint(n: int) -> bytes:
    out = bytearray()
    while True:
        byte, n = n & 0x7F, n >> 7
        out.append(byte | (0x80 if n else 0))
        if not n:
            return bytes(out)


def _field_bytes(message: Any, name: str, value: bytes) -> bytes:
    """The wire bytes of ``message``'s length-delimited field ``name`` holding ``value``."""
    number = message.DESCRIPTOR.fields_by_name[name].number
    return _varint(number << 3 | 2) + _varint(len(value)) + value


def test_every_history_the_fuzzing_made_is_valid(fuzz: FuzzServer) -> None:
    """Last: every run started since the fuzzed server started has a valid history, and the server's
    whole log is free of errors."""
    ids = fuzz.runs_since_start()
    checked, problems = fuzz.check_histories(workflow_ids=ids)
    assert checked >= len(ids) > 0
    assert not problems, f"{len(problems)} problems in {checked} histories:\n" + "\n".join(problems[:50])
    fuzz.judge("the whole fuzzing", _alive(), {C.OK})


def _alive() -> Any:
    from tests.fuzz.conftest import Outcome

    return Outcome(C.OK, "")
