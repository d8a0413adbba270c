"""The client: start workflows and talk to them over gRPC."""

from __future__ import annotations

import asyncio
import enum
import json
import logging
import os
import socket
import typing
import uuid
from collections.abc import AsyncGenerator, Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any, TypeVar

import grpc
from google.protobuf import json_format

from wf.v1 import common_pb2, history_pb2, service_pb2, service_pb2_grpc
from worker_sdk import _namespaces, _reset, _schedule_client
from worker_sdk._async_activity import AsyncActivityHandle, async_activity_handle
from worker_sdk._auth import key_interceptors
from worker_sdk._converter import DataConverter, decode_named_payloads, encode_named_payloads
from worker_sdk._definition import WorkflowDefinition, check_arguments, handler_name, signal_name
from worker_sdk._failure import from_failure
from worker_sdk._multiplex import MultiplexedService
from worker_sdk._namespaces import NamespaceDescription
from worker_sdk._reset import ResetReapplyExcludeType, ResetReapplyType, ResetType
from worker_sdk._schedule_client import ScheduleAsyncIterator, ScheduleHandle
from worker_sdk._schedules import Schedule, ScheduleBackfill
from worker_sdk._tls import TLSConfig, connect_hint, open_channel, plaintext_key_warning
from worker_sdk._visibility import (
    SearchAttributeIndexedValueType,
    WorkflowExecutionCount,
    decode_search_attributes,
    search_attribute_payloads,
)
from worker_sdk.errors import (
    CancelledError,
    ResultTimeoutError,
    RPCError,
    TerminatedError,
    TimeoutError,
    TimeoutType,
    WorkflowAlreadyStartedError,
    WorkflowFailureError,
    WorkflowQueryFailedError,
    WorkflowUpdateFailedError,
)

log = logging.getLogger(__name__)

T = TypeVar("T")
_RETRYABLE = (grpc.StatusCode.UNAVAILABLE, grpc.StatusCode.ABORTED)
# How long calls keep retrying while the server is unreachable (e.g. restarting).
_RETRY_FOR = 60.0
# After this many seconds of retrying, the client says (once) that it waits for the server.
_SAY_WAITING_AFTER = 3.0
# What gRPC itself answers, as INTERNAL, for a call cut off by a server that died or restarted while
# it ran (not an error of the server's making: the server's own INTERNAL says "internal error").
_CUT_OFF = ("Internal error from Core", "RST_STREAM", "Stream removed", "Socket closed")
# The methods that may be sent again when it is unknown whether the server acted on them: reads and
# polls; a start, signal or reset (its request id makes a repeat a no-op); a task's answer (its token is
# accepted once; a repeat is refused with NOT_FOUND). Not cancel, terminate or update: a repeat of
# one that took effect would report a failure that did not happen.
_SAFE_TO_REPEAT = frozenset({
    "GetSystemInfo", "GetWorkflowExecutionHistory", "DescribeWorkflowExecution", "ListWorkflowExecutions",
    "ListSearchAttributes", "CountWorkflowExecutions", "DescribeTaskQueue", "QueryWorkflow", "PollWorkflowTaskQueue",
    "PollActivityTaskQueue", "StartWorkflowExecution", "SignalWorkflowExecution",
    "RespondWorkflowTaskCompleted", "RespondWorkflowTaskFailed", "RespondActivityTaskCompleted",
    "RespondActivityTaskFailed", "RespondActivityTaskCanceled", "RecordActivityTaskHeartbeat",
    "RespondQueryTaskCompleted", "ResetWorkflowExecution", "DescribeNamespace", "ListNamespaces",
    # A create carries its request id, which the server recognises on a retry.
    "CreateSchedule", "DescribeSchedule", "ListSchedules", "ListScheduleMatchingTimes",
})


def _method_name(method: Any) -> str:
    """The RPC's name (``"StartWorkflowExecution"``) of a stub's method or a multiplexed one."""
    path = getattr(method, "_method", None) or repr(method)
    if isinstance(path, bytes):
        path = path.decode()
    return str(path).rsplit("/", 1)[-1]


def _retryable(method: Any, exc: grpc.aio.AioRpcError) -> bool:
    """Whether a failed call is worth sending again: the server was unavailable or asked for a
    retry, or gRPC cut the call off and the method is safe to repeat."""
    code = exc.code()
    if code in _RETRYABLE:
        return True
    return (
        code == grpc.StatusCode.INTERNAL
        and any(s in (exc.details() or "") for s in _CUT_OFF)
        and _method_name(method) in _SAFE_TO_REPEAT
    )


def _unreachable(exc: grpc.aio.AioRpcError, timeout: timedelta) -> str:
    """Why a server could not be reached, in the words a person checks first (gRPC's own details
    name its resolver and subchannels: "failed to connect to all addresses; last error: …")."""
    details = exc.details() or ""
    if exc.code() == grpc.StatusCode.DEADLINE_EXCEEDED:
        return f"no answer within {timeout.total_seconds():g}s"
    if "Connection refused" in details:
        return "connection refused"
    if "Domain name not found" in details or "DNS resolution failed" in details:
        return "unknown host name"
    return details or exc.code().name


def default_identity() -> str:
    return f"{os.getpid()}@{socket.gethostname()}"


class WorkflowExecutionStatus(enum.IntEnum):
    """Where a run is: the wire contract's ``WorkflowExecutionStatus``, without its prefix."""

    RUNNING = common_pb2.WORKFLOW_EXECUTION_STATUS_RUNNING
    COMPLETED = common_pb2.WORKFLOW_EXECUTION_STATUS_COMPLETED
    FAILED = common_pb2.WORKFLOW_EXECUTION_STATUS_FAILED
    CANCELED = common_pb2.WORKFLOW_EXECUTION_STATUS_CANCELED
    TERMINATED = common_pb2.WORKFLOW_EXECUTION_STATUS_TERMINATED
    CONTINUED_AS_NEW = common_pb2.WORKFLOW_EXECUTION_STATUS_CONTINUED_AS_NEW
    TIMED_OUT = common_pb2.WORKFLOW_EXECUTION_STATUS_TIMED_OUT


class WorkflowIDReusePolicy(enum.IntEnum):
    """Whether a workflow id whose runs have all closed may be used again."""

    ALLOW_DUPLICATE = 1
    ALLOW_DUPLICATE_FAILED_ONLY = 2
    REJECT_DUPLICATE = 3


class WorkflowIDConflictPolicy(enum.IntEnum):
    """What starting a workflow id that has a running run does."""

    #: Raise WorkflowAlreadyStartedError (the default).
    FAIL = 1
    #: Return a handle to the running run.
    USE_EXISTING = 2
    #: Terminate the running run and start a new one.
    TERMINATE_EXISTING = 3


@dataclass(frozen=True)
class WorkflowCost:
    """What a run has cost so far, as the server counts it (wf's own; see the README's "Cost")."""

    #: Events in the run's history, and their bytes.
    history_length: int
    history_size_bytes: int
    #: Committed changes of the run's state.
    state_transitions: int
    #: Workflow task attempts started, and those that failed or timed out.
    workflow_tasks: int
    workflow_task_failures: int
    #: Activity attempts started, retries included.
    activity_attempts: int
    #: Bytes of payloads (encoded, as stored) the run received and the payloads its commands sent.
    payload_bytes_in: int
    payload_bytes_out: int

    @staticmethod
    def from_proto(info: service_pb2.WorkflowExecutionInfo) -> WorkflowCost:
        c = info.cost
        return WorkflowCost(
            history_length=info.history_length,
            history_size_bytes=info.history_size_bytes,
            state_transitions=info.state_transition_count,
            workflow_tasks=c.workflow_tasks,
            workflow_task_failures=c.workflow_task_failures,
            activity_attempts=c.activity_attempts,
            payload_bytes_in=c.payload_bytes_in,
            payload_bytes_out=c.payload_bytes_out,
        )


@dataclass(frozen=True)
class WorkflowExecution:
    """One run as listed or described."""

    id: str
    run_id: str
    workflow_type: str
    status: WorkflowExecutionStatus
    task_queue: str
    start_time: datetime
    close_time: datetime | None
    history_length: int
    #: What the run has cost so far.
    cost: WorkflowCost | None = None
    # Typed by the server's registry: a Datetime timezone-aware UTC, a KeywordList a list.
    search_attributes: dict[str, Any] = field(default_factory=dict)

    @staticmethod
    def from_proto(info: service_pb2.WorkflowExecutionInfo) -> WorkflowExecution:
        return WorkflowExecution(
            id=info.execution.workflow_id,
            run_id=info.execution.run_id,
            workflow_type=info.type.name,
            status=WorkflowExecutionStatus(info.status),
            task_queue=info.task_queue,
            start_time=info.start_time.ToDatetime(UTC),
            close_time=info.close_time.ToDatetime(UTC) if info.HasField("close_time") else None,
            history_length=info.history_length,
            cost=WorkflowCost.from_proto(info),
            search_attributes=decode_search_attributes(info.search_attributes.indexed_fields),
        )


@dataclass(frozen=True)
class WorkflowExecutionDescription(WorkflowExecution):
    """``handle.describe()``: the run, its pending work, and the last workflow-task failure."""

    raw: service_pb2.DescribeWorkflowExecutionResponse = field(default=None, repr=False)  # type: ignore[assignment]
    # The run's memo, decoded by the payload converter (its search attributes: see WorkflowExecution).
    memo: dict[str, Any] = field(default_factory=dict)

    @property
    def first_run_id(self) -> str:
        """The first run of the chain continue-as-new made (this run's own id when it is the first)."""
        return self.raw.workflow_execution_info.first_run_id or self.run_id

    @property
    def new_execution_run_id(self) -> str | None:
        """For a run that continued as new: the run it continued as."""
        return self.raw.workflow_execution_info.new_execution_run_id or None

    @property
    def history_size_bytes(self) -> int:
        return self.raw.workflow_execution_info.history_size_bytes

    @property
    def reset_base_run_id(self) -> str | None:
        """For a run a reset made: the run it was made from (``reset_event_id`` and
        ``reset_reason`` say where and why)."""
        return self.raw.workflow_execution_info.reset_base_run_id or None

    @property
    def reset_event_id(self) -> int | None:
        return self.raw.workflow_execution_info.reset_event_id or None

    @property
    def reset_reason(self) -> str | None:
        return self.raw.workflow_execution_info.reset_reason or None

    @property
    def pending_activities(self) -> list[service_pb2.PendingActivityInfo]:
        return list(self.raw.pending_activities)

    @property
    def parent(self) -> tuple[str, str] | None:
        """A child's parent run: (workflow id, run id); None for a run no workflow started."""
        info = self.raw.workflow_execution_info
        p = info.parent_execution
        return (p.workflow_id, p.run_id) if info.HasField("parent_execution") else None

    @property
    def root(self) -> tuple[str, str] | None:
        """A child's root run, at the top of its chain of parents: (workflow id, run id)."""
        info = self.raw.workflow_execution_info
        r = info.root_execution
        return (r.workflow_id, r.run_id) if info.HasField("root_execution") else None

    @property
    def pending_children(self) -> list[service_pb2.PendingChildExecutionInfo]:
        """The children the run started and has not seen close (a run id is empty while starting)."""
        return list(self.raw.pending_children)

    @property
    def last_workflow_task_failure(self) -> common_pb2.Failure | None:
        p = self.raw.pending_workflow_task
        return p.last_failure if self.raw.HasField("pending_workflow_task") and p.HasField("last_failure") else None

    @property
    def unpolled_task_queues(self) -> list[str]:
        """The task queues on which a task of this run waits while no worker polled them in the last
        few minutes (as the server that answered saw): nothing takes those tasks until a worker comes."""
        queues: list[str] = []
        if self.status != WorkflowExecutionStatus.RUNNING:
            return queues  # a closed run waits for nothing
        wt = self.raw.pending_workflow_task
        if (
            self.raw.HasField("pending_workflow_task") and wt.task_queue and not wt.HasField("started_time")
            and not wt.HasField("task_queue_last_poll_time")
        ):
            queues.append(wt.task_queue)
        for a in self.raw.pending_activities:
            if (
                a.state == service_pb2.PENDING_ACTIVITY_STATE_SCHEDULED and a.task_queue
                and not a.HasField("task_queue_last_poll_time") and a.task_queue not in queues
            ):
                queues.append(a.task_queue)
        return queues

    @property
    def waiting_hint(self) -> str | None:
        """A sentence for people when a task of this run waits on a queue no worker polls, else None."""
        return "; ".join(unpolled_hint(q) for q in self.unpolled_task_queues) or None


def unpolled_hint(task_queue: str) -> str:
    """What to say of a task queue no worker polled recently (the server looks back 5 minutes)."""
    return (
        f"no worker has polled task queue {task_queue!r} in the last 5 minutes: "
        "is one running, and on this task queue?"
    )


@dataclass(frozen=True)
class TaskQueuePoller:
    """A worker seen polling a task queue: ``kind`` is ``"workflow"`` or ``"activity"``."""

    identity: str
    kind: str
    last_access_time: datetime


@dataclass(frozen=True)
class TaskQueueDescription:
    """``client.describe_task_queue(name)``: the workers that polled the queue in the last 5 minutes
    (newest first, as the server that answered saw them) and the tasks waiting in its backlog."""

    name: str
    pollers: list[TaskQueuePoller]
    workflow_task_backlog: int
    activity_task_backlog: int
    raw: service_pb2.DescribeTaskQueueResponse = field(repr=False)


@dataclass
class WorkflowHistory:
    """A run's events; ``to_json()`` gives the form ``wf workflow show --output json`` prints."""

    workflow_id: str
    events: list[history_pb2.HistoryEvent]

    def to_json(self) -> str:
        history = history_pb2.History(events=self.events)
        return json_format.MessageToJson(history, indent=2)

    @staticmethod
    def from_json(workflow_id: str, text: str) -> WorkflowHistory:
        history = json_format.Parse(text, history_pb2.History())
        return WorkflowHistory(workflow_id, list(history.events))


def _rpc_error(exc: grpc.aio.AioRpcError) -> RPCError:
    return RPCError(exc.details() or str(exc.code()), exc.code())


def _no_answer(exc: grpc.aio.AioRpcError) -> bool:
    """Whether the call's own deadline passed with no answer (gRPC's bare "Deadline Exceeded"), as
    opposed to a server that answered DEADLINE_EXCEEDED with a reason of its own."""
    return exc.code() == grpc.StatusCode.DEADLINE_EXCEEDED and exc.details() == "Deadline Exceeded"


# How the server's message begins for an update whose run continued as new before accepting it
# (wf.history.operations.updates.UPDATE_ABORTED): the client delivers it again to the id's next run.
_UPDATE_ABORTED = "update aborted: the run continued as new"

# The server marks a query the worker could not answer (its status is FAILED_PRECONDITION: the request
# itself was fine) with this metadata, as Temporal's status carries a QueryFailed detail.
_QUERY_FAILED_KEY = "wf-query-failed"


def _query_failed(exc: RPCError) -> bool:
    cause = exc.__cause__
    if not isinstance(cause, grpc.aio.AioRpcError):
        return False
    return any(key == _QUERY_FAILED_KEY for key, _ in (cause.initial_metadata() or ()))


class Client:
    """A connection to a wf server for one namespace. Create it with :meth:`connect`."""

    def __init__(
        self,
        channel: grpc.aio.Channel,
        *,
        namespace: str,
        data_converter: DataConverter,
        identity: str,
        target: str,
        multiplex: bool = True,
    ) -> None:
        self._channel = channel
        stub = service_pb2_grpc.WorkflowServiceStub(channel)  # type: ignore[no-untyped-call]
        self._multiplexed = MultiplexedService(channel, stub) if multiplex else None
        # The WorkflowService stub; with multiplex, its unary calls go over one stream.
        self.service: service_pb2_grpc.WorkflowServiceStub = typing.cast(
            service_pb2_grpc.WorkflowServiceStub, self._multiplexed or stub
        )
        self.namespace = namespace
        self.data_converter = data_converter
        self.identity = identity
        self.target = target
        # When the client said it waits for the server (calls have retried for a while), until a
        # call gets through again.
        self._waiting_since: float | None = None

    @classmethod
    async def connect(
        cls,
        target: str = "localhost:7233",
        *,
        namespace: str = "default",
        data_converter: DataConverter | None = None,
        identity: str | None = None,
        timeout: timedelta = timedelta(seconds=10),
        wait_for_ready: bool = False,
        multiplex: bool = True,
        keepalive_interval: timedelta | None = timedelta(seconds=30),
        keepalive_timeout: timedelta = timedelta(seconds=15),
        api_key: str | None = None,
        tls: TLSConfig | bool = False,
    ) -> Client:
        """Connect to the server at ``target`` ("host:port") and check that it answers.

        By default, as temporalio's ``Client.connect``, an address where no server listens fails at
        once (``RPCError`` UNAVAILABLE: "cannot reach a wf server at HOST:PORT: connection refused"),
        and a server that does not answer within ``timeout`` fails then. With ``wait_for_ready=True``
        the check instead waits up to ``timeout`` for a server that is not there yet (one still
        starting, say, beside its workers) and fails only when none answered by then.

        With ``multiplex`` (the default) the client's calls travel as messages on one gRPC stream
        (``Multiplex``), which costs both ends a fraction of an RPC per call; ``multiplex=False`` sends
        every call as its own RPC.

        Every ``keepalive_interval`` (None: never) the client pings the server, with or without calls
        in flight, and gives the connection up when no answer comes within ``keepalive_timeout``, so
        a connection that died silently (a server's machine gone, a NAT that forgot it) is found
        rather than waited on. The server accepts pings every 10 s by default
        (``--min-client-ping-interval``); a shorter interval needs that setting lowered to match.

        ``tls``: ``True`` for TLS checked against the system's roots, a :class:`TLSConfig` for a private
        CA, a client certificate (mutual TLS) or another name to check (``domain``); ``False``
        (the default) for plaintext, as temporalio's.

        ``api_key`` (a ``wf_…`` key from ``wf operator api-key create``) is sent as ``authorization:
        Bearer <key>`` on every call, RPCs and the Multiplex stream alike, as Temporal Cloud's keys
        are; a server run with ``--auth required`` needs it (or a mapped client certificate). The
        client never logs or shows it. Over a plaintext connection it travels in the clear: use TLS.
        """
        options: list[tuple[str, int]] = [
            ("grpc.max_receive_message_length", -1),
            ("grpc.max_send_message_length", -1),
        ]
        if keepalive_interval is not None:
            options += [
                ("grpc.keepalive_time_ms", max(1, round(keepalive_interval.total_seconds() * 1000))),
                ("grpc.keepalive_timeout_ms", max(1, round(keepalive_timeout.total_seconds() * 1000))),
                ("grpc.keepalive_permit_without_calls", 1),
                # gRPC stops pinging after two pings with no data sent in between unless told not to,
                # which would leave an idle connection unwatched.
                ("grpc.http2.max_pings_without_data", 0),
            ]
        if api_key and tls is False:
            warning = plaintext_key_warning(target)
            if warning is not None:
                log.warning(warning)
        channel = open_channel(target, options, tls, interceptors=key_interceptors(api_key))
        client = cls(
            channel,
            namespace=namespace,
            data_converter=data_converter or DataConverter.default,
            identity=identity or default_identity(),
            target=target,
            multiplex=multiplex,
        )
        try:
            await client.service.GetSystemInfo(
                service_pb2.GetSystemInfoRequest(), timeout=timeout.total_seconds(), wait_for_ready=wait_for_ready
            )
        except grpc.aio.AioRpcError as exc:
            await client.close()
            if exc.code() in (grpc.StatusCode.UNAUTHENTICATED, grpc.StatusCode.PERMISSION_DENIED):
                # The server answered: it is reached, and it refused the credentials sent (or none).
                raise RPCError(f"the wf server at {target} refused this client: {exc.details()}", exc.code()) from exc
            reason = _unreachable(exc, timeout)
            if exc.code() == grpc.StatusCode.UNAVAILABLE:  # a server that answers nothing is not TLS's doing
                reason += connect_hint(exc.details() or "", tls is not False)
            raise RPCError(f"cannot reach a wf server at {target}: {reason}", exc.code()) from exc
        return client

    async def close(self) -> None:
        if self._multiplexed is not None:
            await self._multiplexed.close()
        await self._channel.close()

    async def __aenter__(self) -> Client:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    async def call(
        self,
        method: Callable[..., Awaitable[T]],
        request: Any,
        *,
        timeout: float | None = 30.0,
        retry: bool = True,
        retry_for: float | None = _RETRY_FOR,
    ) -> T:
        """One RPC, retried while the server is unavailable; errors become :class:`RPCError`.

        Retried: UNAVAILABLE and ABORTED, and gRPC's own INTERNAL for a call a dying server cut off
        when the method is safe to repeat (``_SAFE_TO_REPEAT``), for ``retry_for`` seconds (None:
        until it gets through or the caller gives up). A call that has retried for a few seconds
        logs, once for the whole client, that it waits for the server, and a call that gets through
        after that logs that the server answers again.
        """
        loop = asyncio.get_running_loop()
        started = loop.time()
        give_up = None if retry_for is None else started + retry_for
        delay = 0.05
        while True:
            try:
                response = await method(request, timeout=timeout)
            except grpc.aio.AioRpcError as exc:
                now = loop.time()
                if not retry or not _retryable(method, exc) or (give_up is not None and now >= give_up):
                    if timeout is not None and _no_answer(exc):
                        raise RPCError(
                            f"no answer from the wf server at {self.target} within {timeout:g}s", exc.code()
                        ) from exc
                    raise _rpc_error(exc) from exc
                log.debug("retrying %s after %s", _method_name(method), exc.code())
                if now - started >= _SAY_WAITING_AFTER:
                    self._waiting(started, exc)
            else:
                if self._waiting_since is not None:
                    self._answering(loop.time())
                return response
            await asyncio.sleep(delay)
            delay = min(delay * 2, 1.0)

    def _waiting(self, since: float, exc: grpc.aio.AioRpcError) -> None:
        if self._waiting_since is None:
            self._waiting_since = since
            log.warning(
                "waiting for the wf server at %s (%s: %s); calls are retried until it answers",
                self.target, exc.code().name, exc.details() or "no details",
            )

    def _answering(self, now: float) -> None:
        assert self._waiting_since is not None
        log.warning("the wf server at %s answers again (waited %.1f s)", self.target, now - self._waiting_since)
        self._waiting_since = None

    # -- workflows --------------------------------------------------------------------------------

    async def start_workflow(
        self,
        workflow: Any,
        *args: Any,
        id: str,
        task_queue: str,
        execution_timeout: timedelta | None = None,
        run_timeout: timedelta | None = None,
        task_timeout: timedelta | None = None,
        id_reuse_policy: WorkflowIDReusePolicy = WorkflowIDReusePolicy.ALLOW_DUPLICATE,
        id_conflict_policy: WorkflowIDConflictPolicy = WorkflowIDConflictPolicy.FAIL,
        start_signal: Any = None,
        start_signal_args: Sequence[Any] = (),
        request_id: str | None = None,
        result_type: Any = None,
        memo: Mapping[str, Any] | None = None,
        search_attributes: Mapping[str, Any] | None = None,
    ) -> WorkflowHandle:
        """Start a workflow and return a handle to it.

        Args:
            workflow: the workflow's run method (``Greeting.run``), its class, a decorated function,
                or its type name.
            *args: the workflow's arguments.
            id: the workflow id, unique among running workflows of the namespace.
            task_queue: the task queue its workers poll.
            id_conflict_policy: what to do when a run with this id is running.
            start_signal: signal-with-start: a signal handler (``Greeting.approve``) or name to deliver
                with the start; if the workflow is already running, it is signalled instead. Atomic.
            start_signal_args: the signal's arguments.
            memo: values kept with the run and shown by describe (each by the payload converter).
            search_attributes: values a list query finds the run by: a plain mapping of name → value
                (str, int, float, bool, datetime; a list of str for a KeywordList), each name
                registered in the namespace (:meth:`add_search_attributes`) and each value of its
                type, else the start is refused (INVALID_ARGUMENT) and nothing is started.

        Raises:
            WorkflowAlreadyStartedError: a workflow with this id is running (or may not be reused).
        """
        if isinstance(workflow, str):
            name, hint = workflow, result_type
        else:
            defn = WorkflowDefinition.of(workflow)
            name, hint = defn.name, result_type or defn.return_hint
        req = service_pb2.StartWorkflowExecutionRequest(
            namespace=self.namespace,
            workflow_id=id,
            workflow_type=common_pb2.WorkflowType(name=name),
            task_queue=common_pb2.TaskQueue(name=task_queue),
            input=await self.data_converter.encode(args),
            identity=self.identity,
            # The same request id on every retry of this call: a lost answer does not start twice.
            request_id=request_id or str(uuid.uuid4()),
            workflow_id_reuse_policy=int(id_reuse_policy),  # type: ignore[arg-type]
            workflow_id_conflict_policy=int(id_conflict_policy),  # type: ignore[arg-type]
        )
        if memo:
            req.memo.CopyFrom(common_pb2.Memo(fields=encode_named_payloads(self.data_converter, memo)))
            await self.data_converter.encode_message(req.memo)
        if search_attributes:
            indexed = search_attribute_payloads(search_attributes)
            req.search_attributes.CopyFrom(common_pb2.SearchAttributes(indexed_fields=indexed))
        if start_signal is not None:
            req.signal_name = signal_name(start_signal)
            req.signal_input.CopyFrom(await self.data_converter.encode(list(start_signal_args)))
        for label, value in (
            ("workflow_execution_timeout", execution_timeout),
            ("workflow_run_timeout", run_timeout),
            ("workflow_task_timeout", task_timeout),
        ):
            if value is not None:
                if value <= timedelta(0):
                    raise ValueError(f"{label} must be positive, got {value}")
                getattr(req, label).FromTimedelta(value)
        try:
            resp = await self.call(self.service.StartWorkflowExecution, req)
        except RPCError as exc:
            if exc.status == grpc.StatusCode.ALREADY_EXISTS:
                raise WorkflowAlreadyStartedError(id, name, message=exc.message or None) from exc
            raise
        return WorkflowHandle(self, id, run_id=resp.run_id, result_type=hint, first_run_id=resp.run_id)

    async def execute_workflow(self, workflow: Any, *args: Any, **options: Any) -> Any:
        """Start a workflow and wait for its result (see :meth:`start_workflow`)."""
        handle = await self.start_workflow(workflow, *args, **options)
        return await handle.result()

    def get_workflow_handle(
        self, workflow_id: str, *, run_id: str | None = None, result_type: Any = None
    ) -> WorkflowHandle:
        """A handle to an existing workflow (its latest run when ``run_id`` is None)."""
        return WorkflowHandle(self, workflow_id, run_id=run_id, result_type=result_type)

    async def list_workflows(self, query: str = "", *, page_size: int = 100) -> AsyncGenerator[WorkflowExecution, None]:
        """Runs matching ``query``, a list query in Temporal's language (``WorkflowType = 'Order' AND
        CustomerId IN ('c-1', 'c-2') AND StartTime > '2026-06-01T00:00:00Z'``): running runs first,
        then the newest, or by ``ORDER BY StartTime|CloseTime|ExecutionTime [ASC|DESC]`` or by one of
        the built-in Ints of cost (``ORDER BY StateTransitionCount DESC``); pages of ``page_size``
        are fetched as the iteration goes."""
        token = b""
        while True:
            resp = await self.call(
                self.service.ListWorkflowExecutions,
                service_pb2.ListWorkflowExecutionsRequest(
                    namespace=self.namespace, query=query, page_size=page_size, next_page_token=token
                ),
            )
            for info in resp.executions:
                yield WorkflowExecution.from_proto(info)
            token = resp.next_page_token
            if not token:
                return

    async def describe_task_queue(self, name: str) -> TaskQueueDescription:
        """Who polls the task queue ``name`` (workflow and activity workers) and its backlog."""
        resp = await self.call(
            self.service.DescribeTaskQueue,
            service_pb2.DescribeTaskQueueRequest(
                namespace=self.namespace, task_queue=common_pb2.TaskQueue(name=name)
            ),
        )
        kinds = {service_pb2.TASK_QUEUE_TYPE_WORKFLOW: "workflow", service_pb2.TASK_QUEUE_TYPE_ACTIVITY: "activity"}
        pollers = [
            TaskQueuePoller(p.identity, kinds.get(p.task_queue_type, ""), p.last_access_time.ToDatetime(UTC))
            for p in resp.pollers
        ]
        return TaskQueueDescription(name, pollers, resp.workflow_task_backlog, resp.activity_task_backlog, resp)

    async def count_workflows(self, query: str = "") -> WorkflowExecutionCount:
        """How many runs match ``query``, counted by the server: ``.count``, and with
        ``GROUP BY ExecutionStatus`` one of ``.groups`` per status (``.group_values``, ``.count``),
        as temporalio's."""
        resp = await self.call(
            self.service.CountWorkflowExecutions,
            service_pb2.CountWorkflowExecutionsRequest(namespace=self.namespace, query=query),
        )
        return WorkflowExecutionCount.from_proto(resp)

    # -- the namespace's search attributes ---------------------------------------------------------

    async def add_search_attributes(self, types: Mapping[str, SearchAttributeIndexedValueType]) -> None:
        """Register custom search attributes in the client's namespace: name → type. A name already
        registered with the same type is fine; with another type, ALREADY_EXISTS."""
        await self.call(
            self.service.AddSearchAttributes,
            service_pb2.AddSearchAttributesRequest(
                namespace=self.namespace,
                search_attributes={name: int(t) for name, t in types.items()},  # type: ignore[misc]
            ),
        )

    async def list_search_attributes(self) -> dict[str, SearchAttributeIndexedValueType]:
        """The custom search attributes registered in the client's namespace: name → type."""
        resp = await self.call(
            self.service.ListSearchAttributes, service_pb2.ListSearchAttributesRequest(namespace=self.namespace)
        )
        return {name: SearchAttributeIndexedValueType(t) for name, t in sorted(resp.custom_attributes.items())}

    async def remove_search_attributes(self, names: Sequence[str]) -> None:
        """Unregister custom search attributes (NOT_FOUND for a name not registered)."""
        await self.call(
            self.service.RemoveSearchAttributes,
            service_pb2.RemoveSearchAttributesRequest(namespace=self.namespace, search_attributes=list(names)),
        )


    # -- namespaces ------------------------------------------------------------------------------

    async def register_namespace(
        self, name: str, *, retention: timedelta | None = None, description: str = "", owner_email: str = ""
    ) -> None:
        """Register namespace ``name``: closed runs in it are kept ``retention`` (None: 72 hours, as
        Temporal's CLI; at least the server's ``--min-namespace-retention``, 1 hour by default), then
        deleted with their history. ``RPCError`` ALREADY_EXISTS if the name is taken."""
        await _namespaces.register(self, name, retention, description, owner_email)

    async def describe_namespace(self, name: str | None = None) -> NamespaceDescription:
        """Namespace ``name`` (None: this client's): its description, owner, retention and times."""
        return await _namespaces.describe(self, name or self.namespace)

    async def list_namespaces(self) -> list[NamespaceDescription]:
        """Every registered namespace, by name."""
        return await _namespaces.list_all(self)

    async def update_namespace(
        self,
        name: str | None = None,
        *,
        retention: timedelta | None = None,
        description: str | None = None,
        owner_email: str | None = None,
    ) -> NamespaceDescription:
        """Change what is given of namespace ``name`` (None: this client's); returns it as changed.
        A shorter retention applies to runs already closed too."""
        return await _namespaces.update(self, name or self.namespace, retention, description, owner_email)

    async def delete_namespace(self, name: str) -> None:
        """Delete namespace ``name``: every call naming it is NOT_FOUND from now on, and its runs
        (running ones too) are deleted in the background, after which its name is free again.
        ``default`` cannot be deleted."""
        await _namespaces.delete(self, name)

    # -- one page at a time, for a UI that pages on the server's tokens -------------------------

    async def list_workflows_page(
        self,
        query: str = "",
        *,
        page_size: int = 100,
        next_page_token: bytes = b"",
        rpc_timeout: timedelta | None = None,
    ) -> WorkflowExecutionPage:
        """One page of the runs matching ``query`` (in :meth:`list_workflows`'s order), and the token
        of the next page (empty after the last), so a caller can page without holding an iterator,
        as temporalio's ``list_workflows(...).fetch_next_page()``. ``rpc_timeout`` bounds the call,
        retries included (None: the client's usual retries while the server is unavailable)."""
        req = service_pb2.ListWorkflowExecutionsRequest(
            namespace=self.namespace, query=query, page_size=page_size, next_page_token=next_page_token
        )
        resp = await self._bounded_call(self.service.ListWorkflowExecutions, req, rpc_timeout)
        return WorkflowExecutionPage(
            [WorkflowExecution.from_proto(info) for info in resp.executions], resp.next_page_token
        )

    async def _bounded_call(self, method: Callable[..., Awaitable[T]], request: Any, timeout: timedelta | None) -> T:
        if timeout is None:
            return await self.call(method, request)
        seconds = timeout.total_seconds()
        return await self.call(method, request, timeout=seconds, retry_for=seconds)

    # -- schedules -------------------------------------------------------------------------------

    async def create_schedule(
        self,
        id: str,
        schedule: Schedule,
        *,
        trigger_immediately: bool = False,
        backfill: Sequence[ScheduleBackfill] = (),
        memo: Mapping[str, Any] | None = None,
        search_attributes: Mapping[str, Any] | None = None,
    ) -> ScheduleHandle:
        """Create schedule ``id`` (names from ``worker_sdk.schedules``, as temporalio's): with
        ``trigger_immediately`` it acts once at once, and each ``backfill`` window is taken as if it
        passed now. ``memo`` and ``search_attributes`` (a plain mapping) are the schedule's own; its
        runs' are the action's. A bad spec is refused (RPCError INVALID_ARGUMENT naming the field).

        Raises:
            ScheduleAlreadyRunningError: the namespace has a schedule with this id.
        """
        return await _schedule_client.create_schedule(
            self, id, schedule, trigger_immediately=trigger_immediately, backfill=backfill, memo=memo,
            search_attributes=search_attributes,
        )

    def get_schedule_handle(self, id: str) -> ScheduleHandle:
        """A handle to schedule ``id`` (no call is made until it is used)."""
        return ScheduleHandle(self, id)

    async def list_schedules(
        self, query: str | None = None, *, page_size: int = 1000, next_page_token: bytes | None = None
    ) -> ScheduleAsyncIterator:
        """The namespace's schedules, filtered by ``query`` over their own search attributes:
        ``async for s in await client.list_schedules()``."""
        return ScheduleAsyncIterator(self, query, page_size, next_page_token)

    # -- activities completed from outside their worker ----------------------------------------

    def get_async_activity_handle(
        self,
        *,
        task_token: bytes | None = None,
        workflow_id: str | None = None,
        run_id: str | None = None,
        activity_id: str | None = None,
    ) -> AsyncActivityHandle:
        """A handle to answer an activity attempt from outside its worker (one that called
        ``activity.raise_complete_async()``): by its ``task_token`` (``activity.info().task_token``),
        or by ``workflow_id`` and ``activity_id`` (``run_id`` None: the workflow's running run), which
        acts on the activity's current attempt. As temporalio's."""
        return async_activity_handle(
            self, task_token=task_token, workflow_id=workflow_id, run_id=run_id, activity_id=activity_id
        )

def _readable_memo(converter: DataConverter, fields: Mapping[str, common_pb2.Payload]) -> dict[str, Any]:
    """A described run's memo: each value decoded, or, when this client cannot read it (encrypted by a
    codec it does not have), left as its ``Payload``, so describe still works without the key."""
    out: dict[str, Any] = {}
    for name, payload in fields.items():
        try:
            out.update(decode_named_payloads(converter, {name: payload}))
        except ValueError:
            out[name] = payload
    return out


class WorkflowHandle:
    """A workflow started or looked up by a :class:`Client`."""

    def __init__(
        self,
        client: Client,
        id: str,
        *,
        run_id: str | None = None,
        result_type: Any = None,
        first_run_id: str | None = None,
    ) -> None:
        self.client = client
        self.id = id
        self.run_id = run_id
        self.first_run_id = first_run_id
        self.result_type = result_type

    @property
    def first_execution_run_id(self) -> str | None:
        """The first run of the chain this handle's run belongs to, when the handle was made by a
        start (temporalio's name; None for a handle from ``get_workflow_handle``)."""
        return self.first_run_id

    def _execution(self) -> common_pb2.WorkflowExecution:
        return common_pb2.WorkflowExecution(workflow_id=self.id, run_id=self.run_id or "")

    async def result(self, *, timeout: timedelta | None = None, follow_runs: bool = True) -> Any:
        """Wait for the run to close and return its result.

        With ``follow_runs`` (the default, as temporalio), a run that continued as new is followed to
        the run it continued as, and so on to the last run of the chain, whose result this is.

        Raises:
            WorkflowFailureError: the run failed, timed out, was cancelled or terminated; ``cause``
                holds the failure (e.g. an ActivityError caused by the activity's ApplicationError).
            ResultTimeoutError: ``timeout`` passed first (also a builtin ``TimeoutError``); the run
                goes on.
        """
        client = self.client
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout.total_seconds() if timeout is not None else None
        execution = self._execution()
        while True:
            wait = 70.0 if deadline is None else max(0.1, min(70.0, deadline - loop.time()))
            try:
                resp = await client.call(
                    client.service.GetWorkflowExecutionHistory,
                    service_pb2.GetWorkflowExecutionHistoryRequest(
                        namespace=client.namespace,
                        execution=execution,
                        wait_new_event=True,
                        history_event_filter_type=service_pb2.HISTORY_EVENT_FILTER_TYPE_CLOSE_EVENT,
                    ),
                    timeout=wait,
                )
            except RPCError as exc:
                # A busy server that did not answer the long poll before the caller's own deadline:
                # that is the caller's timeout, not a failure of the call.
                if deadline is not None and loop.time() >= deadline and exc.status == grpc.StatusCode.DEADLINE_EXCEEDED:
                    raise ResultTimeoutError(f"workflow {self.id!r} did not close within {timeout}") from None
                raise
            if resp.history.events:
                close = resp.history.events[0]
                if follow_runs and close.HasField("workflow_execution_continued_as_new_event_attributes"):
                    # The chain goes on: wait for the run this one continued as.
                    execution = common_pb2.WorkflowExecution(
                        workflow_id=self.id,
                        run_id=close.workflow_execution_continued_as_new_event_attributes.new_execution_run_id,
                    )
                    continue
                return await self._close_result(close)
            if deadline is not None and loop.time() >= deadline:
                raise ResultTimeoutError(f"workflow {self.id!r} did not close within {timeout}")

    async def _close_result(self, event: history_pb2.HistoryEvent) -> Any:
        conv = self.client.data_converter
        kind = event.WhichOneof("attributes")
        if kind == "workflow_execution_completed_event_attributes":
            values = await conv.decode(event.workflow_execution_completed_event_attributes.result, [self.result_type])
            return values[0] if values else None
        if kind == "workflow_execution_failed_event_attributes":
            failure = common_pb2.Failure()
            failure.CopyFrom(event.workflow_execution_failed_event_attributes.failure)
            await conv.decode_message(failure)
            raise WorkflowFailureError(
                "workflow failed", cause=from_failure(failure, conv), status=WorkflowExecutionStatus.FAILED
            )
        if kind == "workflow_execution_timed_out_event_attributes":
            raise WorkflowFailureError(
                "workflow timed out",
                cause=TimeoutError("workflow timed out", type=TimeoutType.START_TO_CLOSE),
                status=WorkflowExecutionStatus.TIMED_OUT,
            )
        if kind == "workflow_execution_canceled_event_attributes":
            raise WorkflowFailureError(
                "workflow cancelled",
                cause=CancelledError("workflow cancelled"),
                status=WorkflowExecutionStatus.CANCELED,
            )
        if kind == "workflow_execution_continued_as_new_event_attributes":
            raise WorkflowFailureError(
                "workflow continued as new",
                cause=TerminatedError(
                    "the run continued as new as run "
                    f"{event.workflow_execution_continued_as_new_event_attributes.new_execution_run_id}"
                ),
                status=WorkflowExecutionStatus.CONTINUED_AS_NEW,
            )
        if kind == "workflow_execution_terminated_event_attributes":
            reason = event.workflow_execution_terminated_event_attributes.reason
            raise WorkflowFailureError(
                "workflow terminated",
                cause=TerminatedError(reason or "workflow terminated"),
                status=WorkflowExecutionStatus.TERMINATED,
            )
        raise WorkflowFailureError(
            f"workflow closed as {event.event_type}", cause=TerminatedError("workflow closed without a result")
        )

    async def signal(self, signal: Any, *args: Any) -> None:
        """Send a signal: a handler method (``Greeting.approve``) or a signal name, and its arguments.

        Raises:
            TypeError: the arguments do not fit the handler's parameters (nothing is sent).
            RPCError: NOT_FOUND for an unknown workflow, FAILED_PRECONDITION for a closed one.
        """
        name = signal_name(signal)
        if not isinstance(signal, str):
            check_arguments(signal, args, self.client.data_converter, f"signal {name!r}")
        client = self.client
        await client.call(
            client.service.SignalWorkflowExecution,
            service_pb2.SignalWorkflowExecutionRequest(
                namespace=client.namespace,
                workflow_execution=self._execution(),
                signal_name=name,
                input=await client.data_converter.encode(args),
                identity=client.identity,
                request_id=str(uuid.uuid4()),
            ),
        )

    async def query(
        self, query: Any, *args: Any, result_type: Any = None, timeout: timedelta = timedelta(seconds=30)
    ) -> Any:
        """Ask the workflow a question: a ``@workflow.query`` method (``Greeting.is_approved``) or name.

        Answered by a worker from the run's current state (its final state once closed); nothing is
        recorded.

        Raises:
            WorkflowQueryFailedError: the worker could not answer: unknown query name, arguments that do
                not fit, or the handler failed; its message says which.
            RPCError: DEADLINE_EXCEEDED when no worker answered in time, NOT_FOUND for an unknown workflow,
                INVALID_ARGUMENT for a malformed request.
        """
        name = handler_name(query, "query")
        hint = result_type
        if not isinstance(query, str):
            check_arguments(query, args, self.client.data_converter, f"query {name!r}")
            hint = hint or typing.get_type_hints(query).get("return")
        client = self.client
        try:
            resp = await client.call(
                client.service.QueryWorkflow,
                service_pb2.QueryWorkflowRequest(
                    namespace=client.namespace,
                    execution=self._execution(),
                    query=service_pb2.WorkflowQuery(
                        query_type=name, query_args=await client.data_converter.encode(args)
                    ),
                ),
                timeout=timeout.total_seconds(),
            )
        except RPCError as exc:
            if _query_failed(exc):
                raise WorkflowQueryFailedError(exc.message) from exc
            raise
        values = await client.data_converter.decode(resp.query_result, [hint])
        return values[0] if values else None

    async def execute_update(
        self,
        update: Any,
        *args: Any,
        id: str | None = None,
        result_type: Any = None,
        timeout: timedelta | None = None,
    ) -> Any:
        """Run an update (a ``@workflow.update`` method or its name) and return its handler's result.

        Raises:
            WorkflowUpdateFailedError: the validator rejected it (nothing was recorded) or the handler
                raised; ``cause`` is the error.
        """
        handle = await self.start_update(update, *args, id=id, result_type=result_type, timeout=timeout)
        return await handle.result(timeout=timeout)

    async def start_update(
        self,
        update: Any,
        *args: Any,
        id: str | None = None,
        result_type: Any = None,
        timeout: timedelta | None = None,
    ) -> WorkflowUpdateHandle:
        """Deliver an update and return once the workflow has accepted it (its validator passed).

        Raises:
            ResultTimeoutError: ``timeout`` passed first (also a builtin ``TimeoutError``; the
                update stays delivered: ask again with the same ``id`` for its outcome).
        """
        name = handler_name(update, "update")
        hint = result_type
        if not isinstance(update, str):
            check_arguments(update, args, self.client.data_converter, f"update {name!r}")
            hint = hint or typing.get_type_hints(update).get("return")
        handle = WorkflowUpdateHandle(self, id or str(uuid.uuid4()), name, hint)
        handle._args = await self.client.data_converter.encode(args)
        await handle._wait(service_pb2.UPDATE_WAIT_STAGE_ACCEPTED, timeout)
        return handle

    async def cancel(self, *, reason: str = "") -> None:
        """Ask the workflow to cancel: CancelledError is raised inside it, and it may clean up."""
        client = self.client
        await client.call(
            client.service.RequestCancelWorkflowExecution,
            service_pb2.RequestCancelWorkflowExecutionRequest(
                namespace=client.namespace, workflow_execution=self._execution(), identity=client.identity,
                reason=reason,
            ),
        )

    async def terminate(self, reason: str = "", *details: Any) -> None:
        """Close the run at once, as Terminated; no workflow code runs."""
        client = self.client
        await client.call(
            client.service.TerminateWorkflowExecution,
            service_pb2.TerminateWorkflowExecutionRequest(
                namespace=client.namespace,
                workflow_execution=self._execution(),
                reason=reason,
                details=await client.data_converter.encode(details),
                identity=client.identity,
            ),
        )

    async def delete(self) -> None:
        """Delete the run with its history at once (the workflow id's latest run when the handle
        names none); a running run is terminated first, as Temporal's ``DeleteWorkflowExecution``."""
        client = self.client
        await client.call(
            client.service.DeleteWorkflowExecution,
            service_pb2.DeleteWorkflowExecutionRequest(
                namespace=client.namespace, workflow_execution=self._execution(), identity=client.identity
            ),
        )

    async def describe(self) -> WorkflowExecutionDescription:
        resp = await self.client.call(
            self.client.service.DescribeWorkflowExecution,
            service_pb2.DescribeWorkflowExecutionRequest(namespace=self.client.namespace, execution=self._execution()),
        )
        base = WorkflowExecution.from_proto(resp.workflow_execution_info)
        info = resp.workflow_execution_info
        converter = self.client.data_converter
        memo = common_pb2.Memo()
        memo.CopyFrom(info.memo)
        await converter.decode_message(memo)  # a codec (encryption) encoded its values
        return WorkflowExecutionDescription(
            **base.__dict__,
            raw=resp,
            memo=_readable_memo(converter, memo.fields),
        )

    async def reset(
        self,
        *,
        reason: str,
        event_id: int | None = None,
        type: ResetType | None = None,
        reapply_type: ResetReapplyType = ResetReapplyType.ALL,
        reapply_exclude: Sequence[ResetReapplyExcludeType] = (),
        check: bool = False,
        allow_pending_children: bool = False,
        request_id: str | None = None,
    ) -> WorkflowHandle:
        """Reset the run (the latest, for a handle without a run id) to a workflow task, as
        Temporal's reset: a new run replays its history up to ``event_id`` (a workflow task's
        Completed, Failed, TimedOut or Started event) or the point ``type`` names, and the current
        code decides that task again; the running run is terminated; signals and updates after the
        point are received again per ``reapply_type``/``reapply_exclude``. With ``check``, a live
        worker of the run's task queue first replays the history up to the point with its current
        code, and the reset is refused if it does not fit. Returns the new run's handle.

        Raises:
            NondeterminismError: ``check`` found the worker's code does not fit the history.
            RPCError: INVALID_ARGUMENT for a point that is not a reset point (the message names the
                valid ones), FAILED_PRECONDITION for a run with child workflows pending.
        """
        run_id = await _reset.reset(
            self, reason=reason, event_id=event_id, reset_type=type, reapply_type=reapply_type,
            reapply_exclude=reapply_exclude, check=check, allow_pending_children=allow_pending_children,
            request_id=request_id,
        )
        return WorkflowHandle(self.client, self.id, run_id=run_id, result_type=self.result_type)

    async def stack(self) -> str:
        """Where each of the workflow's coroutines waits (file:line of workflow code), as a worker
        of its task queue answers the built-in ``__stack_trace`` query."""
        result: str = await self.query(_reset.STACK_TRACE_QUERY, result_type=str)
        return result

    async def fetch_history(self) -> WorkflowHistory:
        """Every event of the run, in order."""
        events: list[history_pb2.HistoryEvent] = []
        token = b""
        while True:
            resp = await self.client.call(
                self.client.service.GetWorkflowExecutionHistory,
                service_pb2.GetWorkflowExecutionHistoryRequest(
                    namespace=self.client.namespace, execution=self._execution(), next_page_token=token
                ),
            )
            events.extend(resp.history.events)
            if self.run_id is None and resp.run_id:
                self.run_id = resp.run_id
            token = resp.next_page_token
            if not token:
                return WorkflowHistory(self.id, events)


    # -- one page of history at a time -------------------------------------------------------------

    async def fetch_history_events_page(
        self,
        *,
        page_size: int = 0,
        next_page_token: bytes = b"",
        wait_new_event: bool = False,
        rpc_timeout: timedelta | None = None,
    ) -> HistoryEventsPage:
        """One page of the run's events (``page_size`` 0: the server's default, 1,000) from
        ``next_page_token`` (empty: the first event), and the token that reads on. With
        ``wait_new_event`` the call waits (up to ``rpc_timeout``) for events past the token while the
        run is open, so a page that follows a live run can long-poll: the token is empty once the run
        closed and every event was read. As temporalio's ``fetch_history_events`` one page at a time."""
        req = service_pb2.GetWorkflowExecutionHistoryRequest(
            namespace=self.client.namespace,
            execution=self._execution(),
            maximum_page_size=page_size,
            next_page_token=next_page_token,
            wait_new_event=wait_new_event,
        )
        resp = await self.client._bounded_call(self.client.service.GetWorkflowExecutionHistory, req, rpc_timeout)
        return HistoryEventsPage(list(resp.history.events), resp.next_page_token, resp.run_id)


@dataclass(frozen=True)
class WorkflowExecutionPage:
    """A page of ``client.list_workflows_page``: its runs, and the token of the next page (empty: none)."""

    executions: list[WorkflowExecution]
    next_page_token: bytes


@dataclass(frozen=True)
class HistoryEventsPage:
    """A page of ``handle.fetch_history_events_page``: its events, the token that reads on (empty:
    nothing more, and the run is closed when waiting), and the run they belong to."""

    events: list[history_pb2.HistoryEvent]
    next_page_token: bytes
    run_id: str


class WorkflowUpdateHandle:
    """An update delivered to a workflow; ``await result()`` for its outcome."""

    def __init__(self, workflow: WorkflowHandle, id: str, name: str, result_type: Any) -> None:
        self.workflow = workflow
        self.id = id
        self.name = name
        self.result_type = result_type
        self._args = common_pb2.Payloads()
        self._outcome: common_pb2.UpdateOutcome | None = None
        # Set once the update's run continued as new without accepting it ("": the id's running run).
        self._run_id: str | None = None

    async def _wait(self, stage: int, timeout: timedelta | None) -> None:
        """Ask the server (again, with the same update id) until the update reaches ``stage``."""
        client = self.workflow.client
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout.total_seconds() if timeout is not None else None
        while self._outcome is None:
            wait = 70.0 if deadline is None else deadline - loop.time()
            if wait <= 0:
                raise ResultTimeoutError(f"update {self.name!r} ({self.id}) did not finish within {timeout}")
            try:
                resp = await client.call(
                    client.service.UpdateWorkflowExecution,
                    service_pb2.UpdateWorkflowExecutionRequest(
                        namespace=client.namespace,
                        execution=common_pb2.WorkflowExecution(
                            workflow_id=self.workflow.id,
                            run_id=(self.workflow.run_id or "") if self._run_id is None else self._run_id,
                        ),
                        update_id=self.id,
                        name=self.name,
                        args=self._args,
                        identity=client.identity,
                        wait_stage=stage,  # type: ignore[arg-type]
                    ),
                    timeout=min(wait, 70.0),
                )
            except RPCError as exc:
                if exc.status == grpc.StatusCode.DEADLINE_EXCEEDED:
                    continue  # not there yet: the update stays delivered, ask again
                if exc.status == grpc.StatusCode.FAILED_PRECONDITION and exc.message.startswith(_UPDATE_ABORTED):
                    # Its run continued as new before accepting it: deliver it to the id's next run.
                    self._run_id = ""
                    continue
                raise
            if resp.stage == service_pb2.UPDATE_WAIT_STAGE_COMPLETED:
                self._outcome = resp.outcome
            if resp.stage >= stage:
                break
        await self._raise_if_failed()

    async def _raise_if_failed(self) -> None:
        if self._outcome is not None and self._outcome.HasField("failure"):
            converter = self.workflow.client.data_converter
            failure = common_pb2.Failure()
            failure.CopyFrom(self._outcome.failure)
            await converter.decode_message(failure)
            raise WorkflowUpdateFailedError(f"update {self.name!r} failed", cause=from_failure(failure, converter))

    async def result(self, *, timeout: timedelta | None = None) -> Any:
        """Wait for the update's handler to finish; its result, or WorkflowUpdateFailedError."""
        await self._wait(service_pb2.UPDATE_WAIT_STAGE_COMPLETED, timeout)
        assert self._outcome is not None
        values = await self.workflow.client.data_converter.decode(self._outcome.success, [self.result_type])
        return values[0] if values else None


def history_to_dict(history: WorkflowHistory) -> dict[str, Any]:
    return json.loads(history.to_json())  # type: ignore[no-any-return]
