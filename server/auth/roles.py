"""The role each WorkflowService method needs, and which held roles satisfy a need.

One table over every unary method of the service (a test checks it covers them all, so a method added
to the proto without a line here is caught). Roles, per namespace:

- reader: describe, list, count, history, query, schedules and task queues read;
- writer: reader + start, signal, update, cancel, terminate, reset, delete, schedules, and completing
  activities from outside (by task token or by id: the human-in-the-loop case);
- worker: reader + poll and respond on the namespace's task queues, heartbeat (a worker reads the
  histories it replays);
- admin: everything in its namespace (+ search attributes, its keys);
- cluster admin: everything in every namespace, and namespaces themselves.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Final

from wf.v1 import auth_pb2

READER: Final = auth_pb2.ROLE_READER
WRITER: Final = auth_pb2.ROLE_WRITER
WORKER: Final = auth_pb2.ROLE_WORKER
ADMIN: Final = auth_pb2.ROLE_ADMIN
CLUSTER_ADMIN: Final = auth_pb2.ROLE_CLUSTER_ADMIN

NAMES: Final[Mapping[int, str]] = {
    READER: "reader", WRITER: "writer", WORKER: "worker", ADMIN: "admin", CLUSTER_ADMIN: "cluster-admin",
}
BY_NAME: Final[Mapping[str, int]] = {name: role for role, name in NAMES.items()}

# The roles that satisfy a need for the role on the left, besides itself (admin and cluster admin
# satisfy every need in their scope).
_IMPLIED_BY: Final[Mapping[int, frozenset[int]]] = {
    READER: frozenset({READER, WRITER, WORKER, ADMIN, CLUSTER_ADMIN}),
    WRITER: frozenset({WRITER, ADMIN, CLUSTER_ADMIN}),
    WORKER: frozenset({WORKER, ADMIN, CLUSTER_ADMIN}),
    ADMIN: frozenset({ADMIN, CLUSTER_ADMIN}),
    CLUSTER_ADMIN: frozenset({CLUSTER_ADMIN}),
}


@dataclass(frozen=True, slots=True)
class Need:
    """What a method asks of its caller.

    ``roles``: any of them suffices (empty: any authenticated caller). ``scope``: where the namespace
    comes from: ``"request"`` (its ``namespace`` field), ``"token"`` (the signed task token's),
    ``"grant"`` (CreateApiKey's grant), ``"none"`` (the method names no namespace), ``"handler"``
    (the handler checks, e.g. RevokeApiKey once it has read the key).
    """

    roles: tuple[int, ...]
    scope: str = "request"

    def describe(self) -> str:
        return " or ".join(NAMES[r] for r in self.roles)


def _n(*roles: int, scope: str = "request") -> Need:
    return Need(roles, scope)


TABLE: Final[Mapping[str, Need]] = {
    # Any authenticated caller.
    "GetSystemInfo": _n(scope="none"),
    "GetCallerIdentity": _n(scope="none"),
    # ListNamespaces answers only the namespaces the caller holds a grant in (the link filters it).
    "ListNamespaces": _n(scope="none"),
    # Reading.
    "GetWorkflowExecutionHistory": _n(READER),
    "DescribeWorkflowExecution": _n(READER),
    "ListWorkflowExecutions": _n(READER),
    "CountWorkflowExecutions": _n(READER),
    "QueryWorkflow": _n(READER),
    "DescribeTaskQueue": _n(READER),
    "ListSearchAttributes": _n(READER),
    "DescribeNamespace": _n(READER),
    "DescribeSchedule": _n(READER),
    "ListScheduleMatchingTimes": _n(READER),
    "ListSchedules": _n(READER),
    # Changing runs and schedules.
    "StartWorkflowExecution": _n(WRITER),
    "SignalWorkflowExecution": _n(WRITER),
    "RequestCancelWorkflowExecution": _n(WRITER),
    "TerminateWorkflowExecution": _n(WRITER),
    "ResetWorkflowExecution": _n(WRITER),
    "UpdateWorkflowExecution": _n(WRITER),
    "DeleteWorkflowExecution": _n(WRITER),
    "CreateSchedule": _n(WRITER),
    "UpdateSchedule": _n(WRITER),
    "PatchSchedule": _n(WRITER),
    "DeleteSchedule": _n(WRITER),
    # Workers.
    "PollWorkflowTaskQueue": _n(WORKER),
    "PollActivityTaskQueue": _n(WORKER),
    "RespondWorkflowTaskCompleted": _n(WORKER, scope="token"),
    "RespondWorkflowTaskFailed": _n(WORKER, scope="token"),
    "RespondQueryTaskCompleted": _n(WORKER, scope="token"),
    # Activities: the worker running them, or a person completing one from outside.
    "RespondActivityTaskCompleted": _n(WORKER, WRITER, scope="token"),
    "RespondActivityTaskFailed": _n(WORKER, WRITER, scope="token"),
    "RespondActivityTaskCanceled": _n(WORKER, WRITER, scope="token"),
    "RecordActivityTaskHeartbeat": _n(WORKER, WRITER, scope="token"),
    "RespondActivityTaskCompletedById": _n(WRITER, WORKER),
    "RespondActivityTaskFailedById": _n(WRITER, WORKER),
    "RespondActivityTaskCanceledById": _n(WRITER, WORKER),
    "RecordActivityTaskHeartbeatById": _n(WRITER, WORKER),
    # A namespace's administration.
    "AddSearchAttributes": _n(ADMIN),
    "RemoveSearchAttributes": _n(ADMIN),
    "UpdateNamespace": _n(ADMIN),
    "CreateApiKey": _n(ADMIN, scope="grant"),
    "ListApiKeys": _n(ADMIN),
    "RevokeApiKey": _n(ADMIN, scope="handler"),
    "ListAuditEvents": _n(ADMIN),
    # The cluster's.
    "RegisterNamespace": _n(CLUSTER_ADMIN, scope="none"),
    "DeleteNamespace": _n(CLUSTER_ADMIN),
}


def role_in(grants: tuple[tuple[str, int], ...], namespace: str) -> int:
    """The strongest role ``grants`` hold in ``namespace`` (a cluster admin's everywhere), or 0."""
    best = 0
    for ns, role in grants:
        if role == CLUSTER_ADMIN:
            return CLUSTER_ADMIN
        if ns == namespace and namespace and _rank(role) > _rank(best):
            best = role
    return best


def _rank(role: int) -> int:
    return {0: 0, READER: 1, WORKER: 2, WRITER: 2, ADMIN: 3, CLUSTER_ADMIN: 4}.get(role, 0)


def allows(grants: tuple[tuple[str, int], ...], namespace: str, roles: tuple[int, ...]) -> bool:
    """Whether ``grants`` hold, in ``namespace``, a role that satisfies one of ``roles``.

    An empty ``namespace`` is satisfied only by a cluster admin (except for no role at all).
    """
    if not roles:
        return True
    for ns, held in grants:
        if held != CLUSTER_ADMIN and (not namespace or ns != namespace):
            continue
        if any(held in _IMPLIED_BY[r] for r in roles):
            return True
    return False


def is_cluster_admin(grants: tuple[tuple[str, int], ...]) -> bool:
    return any(role == CLUSTER_ADMIN for _, role in grants)
