"""The call pipeline's authentication and authorization links (see ``server/pipeline.py``).

Every call, as its own RPC or on a Multiplex stream, passes both before its handler:

- :class:`Authentication`, right inside telemetry and the audit link, before anything reads the
  request: it decides :attr:`Call.principal` (from an ``authorization: Bearer wf_…`` header, else a
  mapped client certificate) and, with ``--auth required``, refuses a call without valid credentials
  (UNAUTHENTICATED). A caller without credentials learns nothing else: not whether its request was
  well formed, not whether the namespace it names exists. A long poll of a key ends UNAUTHENTICATED
  if the key is revoked while it waits.
- :class:`Authorization`, after validation and before the namespace check: a caller lacking the role
  the method needs in the namespace its request names is refused (PERMISSION_DENIED, naming the
  role), whether or not that namespace exists, so only those who hold a role there learn that. What
  an answer by task token asks beyond the answer (commands acting in another namespace, a worker's
  shortcuts) is checked as the calls it amounts to.

A refused call never reaches its handler, so it changes nothing. With ``--auth off`` (the default)
every caller is a cluster admin named "anonymous", as before wf had security.

gRPC health and reflection are not WorkflowService methods and never enter the pipeline: they stay
open without credentials, as load balancers and tools expect.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Mapping
from typing import Any, Final

import grpc

from wf.history.commands import other_namespaces
from wf.server.auth import roles
from wf.server.auth.keys import ApiKeys, mask, split
from wf.server.auth.principal import ANONYMOUS, ANONYMOUS_ADMIN, Principal
from wf.server.auth.subjects import Grants, principal_of
from wf.server.multiplex import is_poll
from wf.server.pipeline import Call, CallError, CallHandler, Interceptor
from wf.v1 import auth_pb2

OFF: Final = "off"
REQUIRED: Final = "required"
MODES: Final = (OFF, REQUIRED)

TokenNamespace = Callable[[bytes], Awaitable[str]]


def bearer(call: Call) -> str | None:
    """The key of the call's ``authorization: Bearer <key>`` header, if it has one."""
    value = call.header("authorization")
    if value is None:
        return None
    text = value.decode(errors="replace") if isinstance(value, bytes) else value
    scheme, _, key = text.strip().partition(" ")
    if scheme.lower() != "bearer" or not key.strip():
        return None
    return key.strip()


class Authentication(Interceptor):
    """Who makes the call; with ``--auth required``, a call without valid credentials goes no further."""

    def __init__(self, mode: str, keys: ApiKeys | None, subjects: Mapping[str, Grants]) -> None:
        if mode not in MODES:
            raise ValueError(f"--auth must be one of {', '.join(MODES)}, not {mode!r}")
        self.required = mode == REQUIRED
        self._keys = keys
        self._subjects = dict(subjects)

    async def authenticate(self, call: Call) -> Principal:
        """Who makes the call; UNAUTHENTICATED for a key that is not valid."""
        if not self.required:
            return ANONYMOUS_ADMIN
        key = bearer(call)
        if key is not None:
            principal = None if self._keys is None else await self._keys.verify(key)
            if principal is None:
                if mask(key) != "…":
                    # The audit line names the key presented by its public id (never its secret), so a
                    # revoked or leaked key still in use shows which one it is; it holds no role.
                    call.principal = Principal(mask(key), auth_pb2.IDENTITY_KIND_API_KEY, ())
                raise CallError(
                    grpc.StatusCode.UNAUTHENTICATED,
                    f"the API key {mask(key)} is not valid (unknown, revoked or expired)",
                )
            return principal
        found = principal_of(call.auth_context, self._subjects) if self._subjects else None
        return found if found is not None else ANONYMOUS

    async def intercept(self, call: Call, next: CallHandler) -> Any:
        principal = call.principal = await self.authenticate(call)
        if self.required and not principal.grants:
            raise CallError(
                grpc.StatusCode.UNAUTHENTICATED,
                f"{call.method} needs credentials: an API key (authorization: Bearer wf_…) or a mapped "
                "client certificate",
            )
        waits = is_poll(call.method, call.request)
        if waits and principal.kind == auth_pb2.IDENTITY_KIND_API_KEY and self._keys is not None:
            return await self._unless_revoked(call, next)
        return await next(call)

    async def _unless_revoked(self, call: Call, next: CallHandler) -> Any:
        """Run a call that waits (a long poll), ending it UNAUTHENTICATED if its key is revoked
        meanwhile: it was verified when it began, and would otherwise hand out a task later."""
        assert self._keys is not None
        key = bearer(call) or ""
        parts = split(key)
        with self._keys.waiting(parts[0] if parts else "") as revoked:
            running = asyncio.ensure_future(next(call))
            watching = asyncio.ensure_future(revoked.wait())
            try:
                await asyncio.wait((running, watching), return_when=asyncio.FIRST_COMPLETED)
            except asyncio.CancelledError:  # the caller gave up: so does the call
                running.cancel()
                await asyncio.gather(running, return_exceptions=True)
                raise
            finally:
                watching.cancel()
            if not running.done():
                running.cancel()
                await asyncio.gather(running, return_exceptions=True)
                raise CallError(grpc.StatusCode.UNAUTHENTICATED,
                                f"the API key {mask(key)} was revoked while {call.method} waited")
            return running.result()


class Authorization(Interceptor):
    """The role the method needs, per :data:`wf.server.auth.roles.TABLE`, in the namespace it names.

    ``token_namespace``: the namespace of a verified task token (history's signed tokens), for the
    methods that name their run by token; a forged token is refused by it as the handler would.
    """

    def __init__(self, mode: str, token_namespace: TokenNamespace | None = None) -> None:
        if mode not in MODES:
            raise ValueError(f"--auth must be one of {', '.join(MODES)}, not {mode!r}")
        self.required = mode == REQUIRED
        self._token_namespace = token_namespace

    async def intercept(self, call: Call, next: CallHandler) -> Any:
        if not self.required:
            return await next(call)
        # Without a principal (no authentication link ran) the caller holds nothing.
        principal = call.principal if isinstance(call.principal, Principal) else ANONYMOUS
        need = roles.TABLE.get(call.method)
        if need is None:  # a method with no line in the table: nobody but a cluster admin
            need = roles.Need((roles.CLUSTER_ADMIN,), "none")
        namespace = await self._namespace_of(call, need)
        if need.scope != "handler" and not roles.allows(principal.grants, namespace, need.roles):
            if namespace and need.roles != (roles.CLUSTER_ADMIN,):
                needed = f"{need.describe()} in namespace {namespace!r}"
            elif need.roles and need.scope in ("request", "grant"):
                # A request that names no namespace is about every one (ListApiKeys of all keys, a
                # cluster-admin key): only a cluster admin may, whatever role the table names.
                needed = roles.NAMES[roles.CLUSTER_ADMIN]
            else:
                needed = need.describe()
            raise CallError(grpc.StatusCode.PERMISSION_DENIED, f"{call.method} needs role {needed}")
        if need.scope == "token":
            _check_what_a_response_asks(call, principal, namespace)
        response = await next(call)
        if call.method == "ListNamespaces" and not roles.is_cluster_admin(principal.grants):
            held = {ns for ns, _ in principal.grants}
            keep = [n for n in response.namespaces if n.name in held]
            del response.namespaces[:]
            response.namespaces.extend(keep)
        return response

    async def _namespace_of(self, call: Call, need: roles.Need) -> str:
        if need.scope == "request":
            return str(call.request.namespace)
        if need.scope == "grant":
            return str(call.request.grant.namespace)
        if need.scope == "token" and self._token_namespace is not None:
            return await self._token_namespace(call.request.task_token)
        return ""


# RespondActivityTaskCompleted's fields that make it a worker's poll and workflow task as well.
_WORKER_SHORTCUTS: Final = ("eager_workflow_task_queue", "next_activity_task_queue")


def _check_what_a_response_asks(call: Call, principal: Principal, namespace: str) -> None:
    """What a call answering a task by token asks beyond answering it, checked like a call of its own.

    - RespondActivityTaskCompleted's shortcuts (the next workflow task, the next activity task, a
      workflow task completed ahead) are a worker's polls and workflow task: they need role worker,
      whereas completing the activity alone is a writer's right too (a person completing it).
    - A command acting in another namespace (``CommandHandler.acts_in``: signalling or cancelling a
      workflow there) acts as SignalWorkflowExecution or RequestCancelWorkflowExecution would: the
      caller needs role writer there. Without this a worker key of one namespace could reach every other through its
      workflows' commands.
    """
    request = call.request
    commands: Any = ()
    if call.method == "RespondActivityTaskCompleted":
        asked = [f for f in _WORKER_SHORTCUTS if getattr(request, f)]
        if request.HasField("workflow_task_ahead"):
            asked.append("workflow_task_ahead")
        if asked and not roles.allows(principal.grants, namespace, (roles.WORKER,)):
            raise CallError(
                grpc.StatusCode.PERMISSION_DENIED,
                f"{call.method} with {', '.join(asked)} needs role worker in namespace {namespace!r}",
            )
        commands = request.workflow_task_ahead.commands
    elif call.method == "RespondWorkflowTaskCompleted":
        commands = request.commands
    for target, command in other_namespaces(commands, namespace):
        if not roles.allows(principal.grants, target, (roles.WRITER,)):
            raise CallError(
                grpc.StatusCode.PERMISSION_DENIED,
                f"{call.method}: a {command} command into namespace {target!r} needs role writer in "
                f"namespace {target!r}",
            )


def principal_of_call(call: Call) -> Principal:
    """The call's principal, the anonymous one when no link decided it (a server without this link)."""
    return call.principal if isinstance(call.principal, Principal) else ANONYMOUS_ADMIN
