"""The audit log's link of the call pipeline: every state-changing call, refused ones too, recorded
with who made it, what it asked, when, from where, and how it ended.

What is audited (:data:`AUDITED`): starting (and signal-with-start), signalling, updating, cancelling,
terminating, resetting and deleting workflows; namespaces' registration, update and deletion and their
search attributes; schedules' create, update, patch and delete; API keys' create and revoke; and
completing, failing or cancelling an activity by its id from outside. Completions by task token
(``RespondActivityTask{Completed,Failed,Canceled}``) are the workers' own traffic too and would drown
the log, so they are audited only when the caller holds no role that polls (neither worker, admin nor
cluster admin: a writer's key completing a human-in-the-loop activity). Polls, workflow task
responses, heartbeats and reads are not audited, except that any call refused UNAUTHENTICATED or
PERMISSION_DENIED is: an attempt to read what one may not is exactly what an auditor looks for.

A line names the caller by ``call.principal`` (a key's name or a certificate's subject, never a
secret; "anonymous" when there is none), the method, the namespace, the workflow id and run id the
request names (those of its task token for a call by token; a schedule's id goes in the detail), a
short detail (the signal's or update's name, a reason, an activity id; never payloads), the peer and
the status code's name.

The link sits outside authentication, validation and authorization (see ``interceptors()`` in
``server/app.py``): it reads the principal authentication set once the call has run, so every refusal
is recorded with its status. It therefore sees requests before validation: every text it keeps is cut
to :data:`MAX_FIELD` characters and freed of NUL characters, which PostgreSQL's text refuses, and of
every other control or text-reordering character, which would let a caller's text rewrite what a
terminal or a page shows of the log.

Writing never slows a call: lines go to an in-memory buffer that a
background task (:meth:`AuditLog.run`) inserts in batches at least every second and at shutdown. A
crash of the server loses at most the lines of its last second; while the database cannot serve, lines
wait in the buffer (at most :data:`MAX_BUFFERED`; beyond that the oldest are dropped and counted in
the log).
"""

from __future__ import annotations

import asyncio
import base64
import logging
import re
import struct
from collections import deque
from collections.abc import Awaitable, Callable
from dataclasses import replace
from datetime import UTC, datetime
from typing import Any, Final

import grpc

from wf.history import errors
from wf.history.audit import AuditLine, AuditStore
from wf.server.pipeline import Call, CallHandler, Interceptor, status_of
from wf.v1 import auth_pb2, service_pb2

log = logging.getLogger(__name__)

FLUSH_INTERVAL: Final = 1.0
"""Most seconds a line waits in the buffer (what a crash can lose)."""
BATCH: Final = 500
"""A buffer this full is written at once, without waiting for the interval."""
MAX_BUFFERED: Final = 100_000
MAX_UNAUTHENTICATED_LINES: Final = 1_000
"""Most lines of calls without credentials between two writes (see :meth:`AuditLog.add`)."""
MAX_UNAUTHENTICATED_PER_ADDRESS: Final = 100
"""Most of those lines one address gets between two writes."""
"""Most lines held while the database cannot take them."""
MAX_DETAIL: Final = 200
"""A detail's longest length (a reason is cut)."""
MAX_FIELD: Final = 1000
"""Any other text's longest length in a line (an unvalidated request's ids may be longer)."""

TokenOf = Callable[[bytes], Awaitable[Any]]
"""A verified task token (with ``namespace``, ``workflow_id``, ``run_id``) of a token's bytes."""

_REFUSED: Final = frozenset({grpc.StatusCode.UNAUTHENTICATED, grpc.StatusCode.PERMISSION_DENIED})
# Roles that poll and respond: their by-token completions are a worker's traffic.
_POLLING_ROLES: Final = frozenset({auth_pb2.ROLE_WORKER, auth_pb2.ROLE_ADMIN, auth_pb2.ROLE_CLUSTER_ADMIN})
_BY_TOKEN: Final = frozenset({
    "RespondActivityTaskCompleted", "RespondActivityTaskFailed", "RespondActivityTaskCanceled",
})


def _short(text: str, limit: int = MAX_DETAIL) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


# What a line may not hold: control characters (NUL, which PostgreSQL's text refuses; ESC, which
# starts a terminal's escape sequences; CR and LF, which start a new line on a screen) and the
# characters that reorder text when shown (bidirectional overrides and isolates).
_UNSHOWABLE: Final = re.compile("[\x00-\x1f\x7f-\x9f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]")


def _text(text: str, limit: int = MAX_FIELD) -> str:
    """``text`` as a line may keep it: cut, and with U+FFFD for each character it may not hold.

    A line keeps text of the caller's choosing, of refused and unauthenticated calls too; shown in a
    terminal (``wf operator audit list``) or a page as it was sent, it could move the cursor, erase
    or rewrite other lines, or reorder its own: show a line that was never written.
    """
    return _UNSHOWABLE.sub("\ufffd", _short(text, limit))


def _reason(r: Any) -> str:
    return f"reason={_short(r.reason)!r}" if r.reason else ""


def _start(r: service_pb2.StartWorkflowExecutionRequest) -> str:
    detail = f"type={r.workflow_type.name!r} task_queue={r.task_queue.name!r}"
    return detail + (f" signal={r.signal_name!r}" if r.signal_name else "")


def _schedule(r: Any) -> str:
    return f"schedule_id={r.schedule_id!r}"


def _activity(r: Any) -> str:
    return f"activity_id={r.activity_id!r}"


def _create_key(r: service_pb2.CreateApiKeyRequest) -> str:
    role = auth_pb2.Role.Name(r.grant.role) if r.grant.role in auth_pb2.Role.values() else str(r.grant.role)
    return f"name={r.name!r} grant_namespace={r.grant.namespace!r} role={role}"


_DETAIL: Final[dict[str, Callable[[Any], str]]] = {
    "StartWorkflowExecution": _start,
    "SignalWorkflowExecution": lambda r: f"signal={r.signal_name!r}",
    "UpdateWorkflowExecution": lambda r: f"update={r.name!r} update_id={r.update_id!r}",
    "RequestCancelWorkflowExecution": _reason,
    "TerminateWorkflowExecution": _reason,
    "ResetWorkflowExecution": lambda r: f"event_id={r.workflow_task_finish_event_id} {_reason(r)}".rstrip(),
    "DeleteWorkflowExecution": lambda r: "",
    "RegisterNamespace": lambda r: f"retention={r.workflow_execution_retention_period.ToTimedelta()}",
    "UpdateNamespace": lambda r: "",
    "DeleteNamespace": lambda r: "",
    "AddSearchAttributes": lambda r: "names=" + ",".join(sorted(r.search_attributes)),
    "RemoveSearchAttributes": lambda r: "names=" + ",".join(sorted(r.search_attributes)),
    "CreateSchedule": _schedule,
    "UpdateSchedule": _schedule,
    "PatchSchedule": _schedule,
    "DeleteSchedule": _schedule,
    "CreateApiKey": _create_key,
    "RevokeApiKey": lambda r: f"key_id={r.key_id!r}",
    "RespondActivityTaskCompletedById": _activity,
    "RespondActivityTaskFailedById": _activity,
    "RespondActivityTaskCanceledById": _activity,
    "RespondActivityTaskCompleted": lambda r: "by task token",
    "RespondActivityTaskFailed": lambda r: "by task token",
    "RespondActivityTaskCanceled": lambda r: "by task token",
}

AUDITED: Final = frozenset(_DETAIL) - _BY_TOKEN
"""The methods whose every call is audited (by-token completions: see the module's docstring)."""


def _ids(request: Any) -> tuple[str, str]:
    """The workflow id and run id the request names, if it names them."""
    fields = request.DESCRIPTOR.fields_by_name
    for name in ("workflow_execution", "execution"):
        if name in fields:
            execution = getattr(request, name)
            return execution.workflow_id, execution.run_id
    return (request.workflow_id if "workflow_id" in fields else "",
            request.run_id if "run_id" in fields else "")


def _external(principal: Any) -> bool:
    """Whether a by-token completion comes from outside the workers: the caller holds no role that polls."""
    grants: tuple[tuple[str, int], ...] = getattr(principal, "grants", None) or ()
    return bool(grants) and not any(role in _POLLING_ROLES for _, role in grants)


def line_of(
    call: Call, when: datetime, code: grpc.StatusCode, response: Any = None, token: Any = None
) -> AuditLine:
    """The audit line of ``call``, which ended with ``code`` (and ``response`` when it answered);
    ``token``: the verified task token of a call that names its run by one (``wf.v1.TaskToken``)."""
    request = call.request
    principal = call.principal
    workflow_id, run_id = _ids(request)
    if not run_id and response is not None and "run_id" in response.DESCRIPTOR.fields_by_name:
        run_id = response.run_id  # the run a start or a reset made
    describe = _DETAIL.get(call.method)
    fields = request.DESCRIPTOR.fields_by_name
    namespace = request.namespace if "namespace" in fields else ""
    if call.method == "CreateApiKey":
        namespace = request.grant.namespace
    if token is not None:
        namespace, workflow_id, run_id = token.namespace, token.workflow_id, token.run_id
    return AuditLine(
        time=when,
        namespace=_text(namespace),
        principal=_text(getattr(principal, "name", None) or "anonymous"),
        principal_kind=getattr(principal, "kind", None) or auth_pb2.IDENTITY_KIND_ANONYMOUS,
        method=call.method,
        workflow_id=_text(workflow_id),
        run_id=_text(run_id),
        peer=_text(call.peer),
        status=code.name,
        detail="" if describe is None else _text(describe(request), 2 * MAX_DETAIL),
    )


class AuditLog(Interceptor):
    """The pipeline's audit link, and the buffer its background task writes to ``audit_log``."""

    def __init__(
        self, store: AuditStore, flush_interval: float = FLUSH_INTERVAL, token_of: TokenOf | None = None
    ) -> None:
        """``token_of``: the verified task token of a request's ``task_token`` (history's
        ``TaskTokens.verify``), so a line of a call by token names its namespace and run; without
        it, and for a token that does not verify, the line names none."""
        self.store = store
        self.flush_interval = flush_interval
        self._token_of = token_of
        self._buffer: deque[AuditLine] = deque()
        self._full = asyncio.Event()
        self.rounds = 0
        """The writer's rounds so far (each a wait, then a flush)."""
        self.dropped = 0
        """Lines dropped because the buffer was full while the database could not take them."""
        # Calls refused UNAUTHENTICATED since the last write, by the caller's address (port left out);
        # the lines they got; and those of addresses that got none, counted only.
        self._unauthenticated: dict[str, _Unauthenticated] = {}
        self._unauthenticated_lines = 0
        self._unauthenticated_beyond = 0

    def _audited(self, call: Call, code: grpc.StatusCode) -> bool:
        if call.method in AUDITED or code in _REFUSED:
            return True
        return call.method in _BY_TOKEN and _external(call.principal)

    async def _token(self, call: Call, code: grpc.StatusCode) -> Any:
        # A caller without credentials gets no work done for it, not even its token's verification
        # (which may read the database, for a token naming a key this server does not know).
        if self._token_of is None or code == grpc.StatusCode.UNAUTHENTICATED \
                or "task_token" not in call.request.DESCRIPTOR.fields_by_name:
            return None
        try:
            return await self._token_of(call.request.task_token)
        except Exception:  # a forged or retired token (or no database now): the line names no run
            return None

    async def intercept(self, call: Call, next: CallHandler) -> Any:
        when = datetime.now(UTC)
        try:
            response = await next(call)
        except BaseException as exc:
            code = status_of(exc)
            if self._audited(call, code):
                self.add(line_of(call, when, code, token=await self._token(call, code)))
            raise
        if self._audited(call, grpc.StatusCode.OK):
            self.add(line_of(call, when, grpc.StatusCode.OK, response, await self._token(call, grpc.StatusCode.OK)))
        return response

    @property
    def buffered(self) -> int:
        """Lines not written yet."""
        return len(self._buffer)

    def add(self, line: AuditLine) -> None:
        """Buffer one line; written within :attr:`flush_interval`.

        Calls without credentials are the one kind anyone can make without limit, so they may not
        grow the table as fast as they come. Between two writes, a call of one address that repeats
        an earlier one's method, namespace and workflow, or comes past its
        :data:`MAX_UNAUTHENTICATED_PER_ADDRESS` lines, or past :data:`MAX_UNAUTHENTICATED_LINES` in
        all, is counted rather than written: in the detail of that address's first line, or in one
        line for addresses that got none.
        """
        if line.status == grpc.StatusCode.UNAUTHENTICATED.name:
            address = line.peer.rpartition(":")[0] or line.peer
            target = (line.method, line.namespace, line.workflow_id)
            seen = self._unauthenticated.get(address)
            if seen is not None and (target in seen.targets or len(seen.targets) >= MAX_UNAUTHENTICATED_PER_ADDRESS
                                     or self._unauthenticated_lines >= MAX_UNAUTHENTICATED_LINES):
                seen.more += 1
                return
            if seen is None and self._unauthenticated_lines >= MAX_UNAUTHENTICATED_LINES:
                self._unauthenticated_beyond += 1
                return
            if seen is None:
                seen = self._unauthenticated[address] = _Unauthenticated(line)
            seen.targets.add(target)
            self._unauthenticated_lines += 1
        self._buffer.append(line)
        if len(self._buffer) > MAX_BUFFERED:
            self._buffer.popleft()
            self.dropped += 1
        if len(self._buffer) >= BATCH:
            self._full.set()

    def _count_unauthenticated(self) -> None:
        """Put the counts of the calls without credentials merged since the last write into their lines."""
        merged = {id(seen.first): seen.more for seen in self._unauthenticated.values() if seen.more}
        if merged:
            self._buffer = deque(
                replace(line, detail=_and_more(line.detail, merged[id(line)], "from this address"))
                if id(line) in merged else line
                for line in self._buffer
            )
        if self._unauthenticated_beyond:
            self._buffer.append(AuditLine(
                time=datetime.now(UTC), namespace="", principal="anonymous",
                principal_kind=auth_pb2.IDENTITY_KIND_ANONYMOUS, method="", workflow_id="", run_id="",
                peer="", status=grpc.StatusCode.UNAUTHENTICATED.name,
                detail=_and_more("", self._unauthenticated_beyond, "from other addresses"),
            ))
        self._unauthenticated.clear()
        self._unauthenticated_lines = 0
        self._unauthenticated_beyond = 0

    async def flush(self) -> None:
        """Write every buffered line; on failure they stay buffered, in order, and the error is raised."""
        while True:
            self._count_unauthenticated()  # before each batch: lines added while one was written too
            if not self._buffer:
                return
            batch = [self._buffer.popleft() for _ in range(min(BATCH, len(self._buffer)))]
            try:
                await self.store.write(batch)
            except BaseException:
                self._buffer.extendleft(reversed(batch))
                raise

    async def run(self) -> None:
        """Write the buffer every :attr:`flush_interval` seconds (sooner when a batch is full) until
        cancelled; a database that cannot serve is waited out."""
        while True:
            try:
                await asyncio.wait_for(self._full.wait(), self.flush_interval)
            except TimeoutError:
                pass
            self._full.clear()
            try:
                await self.flush()
            except errors.Unavailable:  # the store's outage log said so; the lines wait
                pass
            except Exception:
                log.exception("writing the audit log failed; %d lines wait", len(self._buffer))
            self.rounds += 1
            if self.dropped:
                log.warning("audit log: %d lines dropped while the database could not take them", self.dropped)
                self.dropped = 0

    async def close(self) -> None:
        """The last lines, at shutdown."""
        try:
            await self.flush()
        except Exception:
            log.exception("audit log: %d lines could not be written at shutdown", len(self._buffer))


class _Unauthenticated:
    """One address's calls without credentials since the last write: its first line, the method,
    namespace and workflow of each line it got, and how many calls were counted instead."""

    __slots__ = ("first", "more", "targets")

    def __init__(self, first: AuditLine) -> None:
        self.first = first
        self.targets: set[tuple[str, str, str]] = set()
        self.more = 0


def _and_more(detail: str, more: int, where: str) -> str:
    said = f"and {more} more call{'s' if more != 1 else ''} without credentials {where} within a second"
    return f"{detail}; {said}" if detail else said


# -- listing ------------------------------------------------------------------------------------------

_TOKEN: Final = struct.Struct(">qq")  # the last line's time (µs since the epoch) and id


def page_token(line: AuditLine) -> bytes:
    micros = int(line.time.timestamp()) * 1_000_000 + line.time.microsecond
    return base64.urlsafe_b64encode(_TOKEN.pack(micros, line.id))


def _cursor(token: bytes) -> tuple[datetime, int] | None:
    if not token:
        return None
    try:
        micros, line_id = _TOKEN.unpack(base64.urlsafe_b64decode(token))
    except (ValueError, struct.error) as exc:
        raise errors.InvalidArgument("next_page_token is not a token this listing gave") from exc
    seconds, rest = divmod(micros, 1_000_000)
    return datetime.fromtimestamp(seconds, UTC).replace(microsecond=rest), line_id


def event_of(line: AuditLine) -> auth_pb2.AuditEvent:
    event = auth_pb2.AuditEvent(
        principal=line.principal, principal_kind=line.principal_kind,  # type: ignore[arg-type]
        method=line.method, namespace=line.namespace, workflow_id=line.workflow_id, run_id=line.run_id,
        peer=line.peer, status=line.status, detail=line.detail,
    )
    event.time.FromDatetime(line.time)
    return event


async def list_events(
    store: AuditStore, request: service_pb2.ListAuditEventsRequest
) -> service_pb2.ListAuditEventsResponse:
    """``ListAuditEvents``: newest first, ``page_size`` a page (default 100, at most 1000)."""
    size = request.page_size if request.page_size > 0 else 100
    if size > 1000:
        size = 1000
    start = request.start_time.ToDatetime(UTC) if request.HasField("start_time") else None
    lines = await store.list(request.namespace or None, start, _cursor(request.next_page_token), size + 1)
    more = len(lines) > size
    lines = lines[:size]
    return service_pb2.ListAuditEventsResponse(
        events=[event_of(line) for line in lines],
        next_page_token=page_token(lines[-1]) if more else b"",
    )


__all__ = ["AUDITED", "AuditLog", "FLUSH_INTERVAL", "line_of", "list_events"]
