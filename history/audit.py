"""Where the audit log lives: the ``audit_log`` table, its statements, and its deletion.

The server's audit link (``wf.server.audit``) decides what a line says and writes lines in batches;
this module only stores, lists and deletes them. Lines are kept with their namespace's retention,
counted from the line's time (a call is audited when it is made, so there is no close time to count
from), and deleted with the namespace. Lines that name no registered namespace (a call of the cluster,
such as an API key of every namespace, or a call refused because its namespace does not exist) are
kept for :data:`UNSCOPED_RETENTION`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Final, ParamSpec, TypeVar

from sqlalchemy import Integer, and_, bindparam, delete, exists, func, insert, literal, or_, select, tuple_

from wf.history.outage import DatabaseHealth
from wf.history.schema import audit_log, namespaces
from wf.history.statements import NAMESPACE_DELETED, Statement
from wf.history.store import Store, statement

P = ParamSpec("P")
R = TypeVar("R")
a = audit_log.c

UNSCOPED_RETENTION: Final = timedelta(days=30)
"""How long a line naming no registered namespace is kept."""


@dataclass(frozen=True, slots=True)
class AuditLine:
    """One audited call, as stored (``wf.v1.AuditEvent`` in the table's words)."""

    time: datetime
    namespace: str
    principal: str
    principal_kind: int
    method: str
    workflow_id: str
    run_id: str
    peer: str
    status: str
    detail: str
    id: int = 0
    """The row's id once stored (orders lines of the same time)."""


_COLUMNS: Final = ("time", "namespace", "principal", "principal_kind", "method", "workflow_id", "run_id",
                   "peer", "status", "detail")

INSERT = Statement(insert(audit_log).values({name: bindparam(name, type_=a[name].type) for name in _COLUMNS}))


def _listing(with_namespace: bool, with_start: bool, with_cursor: bool) -> Statement:
    """Lines newest first: of one namespace or all, at or after ``start``, before the cursor
    (``before_time``, ``before_id``: the last line of the previous page)."""
    q = select(audit_log)
    if with_namespace:
        q = q.where(a.namespace == bindparam("namespace", type_=a.namespace.type))
    if with_start:
        q = q.where(a.time >= bindparam("start", type_=a.time.type))
    if with_cursor:
        q = q.where(tuple_(a.time, a.id) < tuple_(bindparam("before_time", type_=a.time.type),
                                                 bindparam("before_id", type_=a.id.type)))
    return Statement(q.order_by(a.time.desc(), a.id.desc()).limit(bindparam("limit", type_=Integer)))


_LISTINGS: Final = {
    (n, s, c): _listing(n, s, c) for n in (False, True) for s in (False, True) for c in (False, True)
}


def _delete_expired() -> Statement:
    """At most ``batch`` lines past their namespace's retention, or past :data:`UNSCOPED_RETENTION`
    when they name no namespace that is there."""
    n = namespaces.c
    own = select(n.retention).where(n.name == a.namespace).scalar_subquery()
    registered = exists(select(literal(1)).where(n.name == a.namespace))
    due = (
        select(a.id)
        .where(or_(
            and_(registered, a.time < func.now() - own),
            and_(~registered, a.time < func.now() - literal(UNSCOPED_RETENTION)),
        ))
        .limit(bindparam("batch", type_=Integer))
        .scalar_subquery()
    )
    return Statement(delete(audit_log).where(a.id.in_(due)).returning(a.id))


DELETE_EXPIRED = _delete_expired()

# At most ``batch`` lines of a namespace that is being deleted.
DELETE_NAMESPACE = Statement(
    delete(audit_log)
    .where(a.id.in_(
        select(a.id)
        .where(a.namespace == bindparam("namespace", type_=a.namespace.type),
               exists(select(literal(1)).where(namespaces.c.name == a.namespace,
                                               namespaces.c.state == NAMESPACE_DELETED)))
        .limit(bindparam("batch", type_=Integer))
        .scalar_subquery()
    ))
    .returning(a.id)
)


class AuditStore:
    """The audit log in domain words; the SQL is above."""

    def __init__(self, store: Store) -> None:
        self.store = store
        self.pool = store.pool

    @property
    def health(self) -> DatabaseHealth:
        return self.store.health

    @statement
    async def write(self, lines: Sequence[AuditLine]) -> None:
        """Insert ``lines`` in one round trip (one prepared statement, many rows)."""
        if lines:
            await self.pool.executemany(
                INSERT.sql, [INSERT.args({name: getattr(line, name) for name in _COLUMNS}) for line in lines]
            )

    @statement
    async def list(
        self, namespace: str | None, start: datetime | None, before: tuple[datetime, int] | None, limit: int
    ) -> list[AuditLine]:
        """At most ``limit`` lines newest first: of ``namespace`` (None: every namespace), at or after
        ``start``, older than ``before`` (the time and id of the previous page's last line)."""
        statement = _LISTINGS[(namespace is not None, start is not None, before is not None)]
        params: dict[str, object] = {"namespace": namespace, "start": start, "limit": limit}
        if before is not None:
            params["before_time"], params["before_id"] = before
        rows = await statement.fetch(self.pool, params)
        return [AuditLine(**{name: r[name] for name in (*_COLUMNS, "id")}) for r in rows]

    @statement
    async def delete_expired(self, batch: int) -> int:
        """Delete at most ``batch`` lines past their retention; how many were deleted."""
        return len(await DELETE_EXPIRED.fetch(self.pool, batch=batch))

    @statement
    async def delete_namespace(self, namespace: str, batch: int) -> int:
        """Delete at most ``batch`` lines of ``namespace`` if it is being deleted; how many."""
        return len(await DELETE_NAMESPACE.fetch(self.pool, namespace=namespace, batch=batch))


__all__ = ["AuditLine", "AuditStore", "UNSCOPED_RETENTION"]
