"""The store's SQL statements, built from the Core tables in ``wf.history.schema`` and compiled once.

Each statement is a SQLAlchemy Core construct over the tables of the schema, so a statement can only
name columns the schema has, and a column added to the schema (and its migration) is seen by every
statement that selects the whole table. Statements are compiled once, when this module is imported
(or, for a shape chosen at run time, the first time that shape is used), to the ``$n`` form asyncpg
takes; no SQLAlchemy engine or connection is involved at run time. A call passes its parameters by
name, and :class:`Statement` puts them in the order the compiled text numbers them.

Constants in a statement (a status number, ``db_version + 1``, ``LIMIT 1``) are written into the
compiled text rather than sent as parameters, so a call passes exactly the values that vary.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from operator import itemgetter
from typing import Any, TypeAlias

import asyncpg
from sqlalchemy import (
    ARRAY,
    BigInteger,
    ColumnElement,
    Integer,
    Interval,
    Table,
    TableValuedAlias,
    and_,
    any_,
    bindparam,
    case,
    delete,
    exists,
    func,
    literal,
    literal_column,
    null,
    or_,
    select,
    true,
    tuple_,
    update,
)
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.postgresql.asyncpg import PGCompiler_asyncpg, PGDialect_asyncpg
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.elements import BindParameter
from sqlalchemy.sql.expression import CTE, ClauseElement

from wf.history.notify import CHANNEL
from wf.history.schema import (
    RUNNING,
    api_keys,
    executions,
    history_events,
    namespaces,
    pollers,
    queries,
    search_attributes,
    task_token_keys,
    tasks,
    timers,
)
from wf.history.tasks import TaskKind

# A pool or one of its connections: both run a statement the same way.
Executor: TypeAlias = "asyncpg.Pool | asyncpg.Connection"


class _Compiler(PGCompiler_asyncpg):
    """asyncpg's compiler, with constants written into the text instead of sent as parameters."""

    def visit_bindparam(self, bindparam: BindParameter[Any], **kw: Any) -> str:  # type: ignore[override]
        if not bindparam.required and bindparam.callable is None:
            kw["literal_binds"] = True
        return super().visit_bindparam(bindparam, **kw)  # type: ignore[no-any-return,no-untyped-call]


class _Dialect(PGDialect_asyncpg):
    statement_compiler = _Compiler


_DIALECT = _Dialect()  # type: ignore[no-untyped-call]


class Statement:
    """One compiled statement: its SQL text, and the names of its parameters in ``$n`` order.

    The text is the same string on every call, so asyncpg prepares it once per connection and reuses
    the prepared statement from its cache; putting the named values in order costs one ``itemgetter``.
    """

    __slots__ = ("names", "sql", "_order")

    def __init__(self, statement: ClauseElement) -> None:
        compiled = statement.compile(dialect=_DIALECT)
        assert isinstance(compiled, SQLCompiler)
        self.sql: str = compiled.string
        self.names: tuple[str, ...] = tuple(compiled.positiontup or ())
        for name in self.names:
            if not compiled.binds[name].required:
                raise ValueError(f"parameter {name!r} has a value in the statement: write it as a constant")
        self._order: Callable[[Mapping[str, Any]], tuple[Any, ...]]
        if not self.names:
            self._order = lambda params: ()
        elif len(self.names) == 1:
            only = self.names[0]
            self._order = lambda params: (params[only],)
        else:
            self._order = itemgetter(*self.names)

    def args(self, params: Mapping[str, Any]) -> tuple[Any, ...]:
        """The values of ``params`` in the order the statement numbers them (KeyError names a missing one)."""
        return self._order(params)

    async def fetch(self, db: Executor, params: Mapping[str, Any] | None = None, /, **kw: Any) -> list[asyncpg.Record]:
        """Run on ``db`` with the named values of ``params`` (or the keywords); all rows."""
        return await db.fetch(self.sql, *self._order(kw if params is None else params))  # type: ignore[no-any-return]

    async def fetchrow(
        self, db: Executor, params: Mapping[str, Any] | None = None, /, **kw: Any
    ) -> asyncpg.Record | None:
        """Run on ``db``; the first row, or None."""
        return await db.fetchrow(self.sql, *self._order(kw if params is None else params))

    async def fetchval(self, db: Executor, params: Mapping[str, Any] | None = None, /, **kw: Any) -> Any:
        """Run on ``db``; the first column of the first row, or None."""
        return await db.fetchval(self.sql, *self._order(kw if params is None else params))

    async def execute(self, db: Executor, params: Mapping[str, Any] | None = None, /, **kw: Any) -> None:
        """Run on ``db`` for its effect."""
        await db.execute(self.sql, *self._order(kw if params is None else params))


# -- building blocks ---------------------------------------------------------------------------------


def _param(name: str, like: ColumnElement[Any]) -> BindParameter[Any]:
    """A named parameter of the type of the column ``like``."""
    return bindparam(name, type_=like.type)


def _array(name: str, like: ColumnElement[Any]) -> BindParameter[Any]:
    """A named array parameter whose elements have the type of the column ``like``."""
    return bindparam(name, type_=ARRAY(like.type))


def _of_run(table: Table) -> ColumnElement[bool]:
    """The rows of ``table`` that belong to the run named by the namespace, workflow_id and run_id parameters."""
    return and_(
        table.c.namespace == bindparam("namespace"),
        table.c.workflow_id == bindparam("workflow_id"),
        table.c.run_id == bindparam("run_id"),
    )


def _unnest(name: str, *columns: tuple[str, ColumnElement[Any]], ordinality: str | None = None) -> TableValuedAlias:
    """``unnest($a, $b, …) AS name(a, b, …)``: one row per element of parallel array parameters."""
    fn = func.unnest(*(_array(param, like) for param, like in columns))
    return fn.table_valued(*(param for param, _ in columns), with_ordinality=ordinality).render_derived(name=name)


def _count(cte: CTE) -> ColumnElement[int]:
    return select(func.count()).select_from(cte).scalar_subquery()


def _child_writes(gate: CTE) -> list[CTE]:
    """The events, task rows and timer rows of a change, each written only if ``gate`` has a row.

    Parameters: the run, ``event_ids``/``event_types``/``event_data``, ``task_queues``/``task_kinds``/
    ``task_scheduled_event_ids``/``task_attempts``, ``timer_keys``/``timer_fire_ats``/``timer_kinds``/
    ``timer_event_ids``/``timer_attempts``, and ``deleted_timer_keys``; parallel arrays, one element a row.
    """
    gated = exists(select(true()).select_from(gate))
    e = _unnest(
        "e",
        ("event_ids", history_events.c.event_id),
        ("event_types", history_events.c.event_type),
        ("event_data", history_events.c.data),
    )
    ev = (
        history_events.insert()
        .from_select(
            ["namespace", "workflow_id", "run_id", "event_id", "event_type", "data"],
            select(
                _param("namespace", history_events.c.namespace),
                _param("workflow_id", history_events.c.workflow_id),
                _param("run_id", history_events.c.run_id),
                *e.c,
            ).where(gated),
        )
        .cte("ev")
    )
    t = _unnest(
        "t",
        ("task_queues", tasks.c.task_queue),
        ("task_kinds", tasks.c.kind),
        ("task_scheduled_event_ids", tasks.c.scheduled_event_id),
        ("task_attempts", tasks.c.attempt),
        ordinality="n",
    )
    tk = (
        tasks.insert()
        .from_select(
            ["namespace", "task_queue", "kind", "workflow_id", "run_id", "scheduled_event_id", "attempt"],
            select(
                bindparam("namespace"),
                t.c.task_queues,
                t.c.task_kinds,
                bindparam("workflow_id"),
                bindparam("run_id"),
                t.c.task_scheduled_event_ids,
                t.c.task_attempts,
            )
            .where(gated)
            # Ids in the order of the mutation's tasks: the caller matches them up by position.
            .order_by(t.c.n),
        )
        .returning(tasks.c.id)
        .cte("tk")
    )
    m = _unnest(
        "m",
        ("timer_keys", timers.c.timer_key),
        ("timer_fire_ats", timers.c.fire_at),
        ("timer_kinds", timers.c.kind),
        ("timer_event_ids", timers.c.event_id),
        ("timer_attempts", timers.c.attempt),
    )
    upsert = pg_insert(timers).from_select(
        ["namespace", "workflow_id", "run_id", "timer_key", "fire_at", "kind", "event_id", "attempt"],
        select(bindparam("namespace"), bindparam("workflow_id"), bindparam("run_id"), *m.c).where(gated),
    )
    # A timer set again under its key replaces the row: setting one needs no lookup first.
    tm = upsert.on_conflict_do_update(
        index_elements=list(timers.primary_key.columns),
        set_={c: upsert.excluded[c] for c in ("fire_at", "kind", "event_id", "attempt")},
    ).cte("tm")
    tm_del = (
        delete(timers)
        .where(_of_run(timers), timers.c.timer_key == any_(_array("deleted_timer_keys", timers.c.timer_key)), gated)
        .cte("tm_del")
    )
    return [ev, tk, tm, tm_del]


def _task_ids(tk: CTE) -> ColumnElement[Any]:
    """The ids the change gave its task rows, ascending (that is, in the mutation's order)."""
    return select(func.array_agg(tk.c.id).aggregate_order_by(tk.c.id)).select_from(tk).scalar_subquery()


# -- writing a change ---------------------------------------------------------------------------------

# The columns of a run the store reads and writes (``close_order`` is generated by the database), and
# the visibility columns among them that a create writes besides the run's own.
RECORD_COLUMNS = [c for c in executions.columns if c.computed is None]
VISIBILITY_COLUMNS = (
    "execution_time", "parent_workflow_id", "parent_run_id", "root_workflow_id", "root_run_id", "search_attributes",
)
# The run's cost counters (visibility columns too, after the others in the table), which every
# write of the run sets, as it sets its custom search attributes.
COST_COLUMNS = ("workflow_task_attempts", "activity_attempts", "payload_bytes_in", "payload_bytes_out")


def _create() -> Statement:
    """Create an execution with its first events and rows, unless the workflow id has a running run
    (the partial unique index) or this start's request id was already used.

    Parameters: the run, the execution row's columns (``workflow_type``, ``task_queue``, ``status``,
    ``start_time``, ``request_id``, ``next_event_id``, ``history_size``, ``state``) and the child writes.
    Returns ``written`` (0 or 1) and ``task_ids``.
    """
    e = executions.c
    used = exists(
        select(true()).where(
            e.namespace == bindparam("namespace"),
            e.workflow_id == bindparam("workflow_id"),
            e.request_id == bindparam("request_id"),
        )
    )
    row = select(
        _param("namespace", e.namespace),
        _param("workflow_id", e.workflow_id),
        _param("run_id", e.run_id),
        _param("workflow_type", e.workflow_type),
        _param("task_queue", e.task_queue),
        _param("status", e.status),
        _param("start_time", e.start_time),
        null(),
        _param("request_id", e.request_id),
        _param("next_event_id", e.next_event_id),
        _param("history_size", e.history_size),
        1,
        _param("state", e.state),
        *(_param(name, e[name]) for name in VISIBILITY_COLUMNS),
        *(_param(name, e[name]) for name in COST_COLUMNS),
    ).where(~used)
    ins = (
        pg_insert(executions)
        .from_select([c.name for c in RECORD_COLUMNS], row)
        .on_conflict_do_nothing()
        .returning(e.db_version)
        .cte("ins")
    )
    children = _child_writes(ins)
    tk = children[1]
    return Statement(select(_count(ins).label("written"), _task_ids(tk).label("task_ids")).add_cte(ins, *children))


def _update(claims_task: bool, claims_timer: bool, closes: bool) -> Statement:
    """Apply a change to an execution whose version is still ``expected_version``.

    Parameters: the run, ``status``, ``close_time``, ``next_event_id``, ``history_size``, ``state``,
    ``expected_version``, the child writes, and (when claiming) ``claimed_task_ids`` or
    ``claimed_timer_keys`` with ``claimed_timer_fire_ats``. When the update does not happen, the
    statement raises SQLSTATE WF001 through ``wf_abort()`` with ``claim`` or ``version`` as its message,
    so none of its parts (a claim included) is kept.
    """
    e = executions.c
    ctes: list[CTE] = []
    checks: list[ColumnElement[bool]] = []
    lost_claim: ColumnElement[bool] | None = None
    if claims_task:
        claimed_ids = _array("claimed_task_ids", tasks.c.id)
        locked = select(tasks.c.id).where(tasks.c.id == any_(claimed_ids)).with_for_update(skip_locked=True)
        claim_task = delete(tasks).where(tasks.c.id.in_(locked.correlate(None))).returning(tasks.c.id).cte("claim_task")
        ctes.append(claim_task)
        checks.append(_count(claim_task) == func.cardinality(claimed_ids))
        lost_claim = _count(claim_task) < func.cardinality(claimed_ids)
    if claims_timer:
        keys = _array("claimed_timer_keys", timers.c.timer_key)
        fired = _unnest("f", ("claimed_timer_keys", timers.c.timer_key), ("claimed_timer_fire_ats", timers.c.fire_at))
        # Only the row that fired: a timer set anew under the same key since then is not consumed.
        locked = (
            select(timers.c.timer_key)
            .where(
                _of_run(timers),
                timers.c.timer_key == any_(keys),
                tuple_(timers.c.timer_key, timers.c.fire_at).in_(select(*fired.c)),
            )
            .with_for_update(skip_locked=True)
        )
        claim_timer = (
            delete(timers)
            .where(_of_run(timers), timers.c.timer_key.in_(locked.correlate(None)))
            .returning(timers.c.timer_key)
            .cte("claim_timer")
        )
        ctes.append(claim_timer)
        checks.append(_count(claim_timer) == func.cardinality(keys))
        if lost_claim is None:
            lost_claim = _count(claim_timer) < func.cardinality(keys)
    upd = (
        update(executions)
        .where(_of_run(executions), e.db_version == bindparam("expected_version"), *checks)
        .values(
            status=bindparam("status"),
            close_time=bindparam("close_time"),
            next_event_id=bindparam("next_event_id"),
            history_size=bindparam("history_size"),
            state=bindparam("state"),
            search_attributes=_param("search_attributes", e.search_attributes),
            **{name: _param(name, e[name]) for name in COST_COLUMNS},
            db_version=e.db_version + 1,
        )
        .returning(e.db_version)
        .cte("upd")
    )
    ctes.append(upd)
    children = _child_writes(upd)
    ctes += children
    if closes:
        # The run closes: the task and timer rows it still has go with it, but for its queries' rows:
        # a closed run is still queried, and a query's rows go with the query.
        happened = exists(select(true()).select_from(upd))
        not_query = tasks.c.kind.not_in([int(TaskKind.QUERY), int(TaskKind.QUERY_AFTER_TASK)])
        ctes.append(delete(tasks).where(_of_run(tasks), not_query, happened).cte("close_tasks"))
        ctes.append(delete(timers).where(_of_run(timers), happened).cte("close_timers"))
    reason: ColumnElement[Any] = literal("version")
    if lost_claim is not None:
        reason = case((lost_claim, "claim"), else_=reason)
    written = case((_count(upd) == 0, func.wf_abort(reason)), else_=1)
    return Statement(select(written.label("written"), _task_ids(children[1]).label("task_ids")).add_cte(*ctes))


CREATE = _create()
UPDATE = {
    (t, m, c): _update(t, m, c) for t in (False, True) for m in (False, True) for c in (False, True)
}

# -- reading executions and history -------------------------------------------------------------------

LOAD = Statement(select(*RECORD_COLUMNS).where(_of_run(executions)))

# The running run of a workflow id, or else its most recently started one.
LATEST_RUN = Statement(
    select(*RECORD_COLUMNS)
    .where(executions.c.namespace == bindparam("namespace"), executions.c.workflow_id == bindparam("workflow_id"))
    .order_by((executions.c.status == RUNNING).desc(), executions.c.start_time.desc())
    .limit(1)
)

RUN_FOR_REQUEST = Statement(
    select(executions.c.run_id).where(
        executions.c.namespace == bindparam("namespace"),
        executions.c.workflow_id == bindparam("workflow_id"),
        executions.c.request_id == bindparam("request_id"),
    )
)

# ``limit`` NULL reads to the end.
READ_EVENTS = Statement(
    select(history_events.c.data)
    .where(_of_run(history_events), history_events.c.event_id >= bindparam("first_event_id"))
    .order_by(history_events.c.event_id)
    .limit(bindparam("limit", type_=BigInteger))
)

READ_EVENT = Statement(
    select(history_events.c.data).where(_of_run(history_events), history_events.c.event_id == bindparam("event_id"))
)


def visible_runs(where: ColumnElement[bool], order: str | None, ascending: bool, paged: bool) -> Statement:
    """Runs of ``namespace`` matching a compiled list query (``wf.history.visibility.query``), a page
    of at most ``page_size``, in Temporal's default order (``order`` None: running first, then by
    close time and start time, newest first, then run id) or by one built-in time or cost column
    (then run id, in the same direction).

    ``paged``: only the runs after the last one of the previous page (keyset: ``after_order``,
    ``after_start_time``, ``after_run_id``), so a page is an index range whatever was started since.
    """
    e = executions.c
    query = select(*RECORD_COLUMNS).where(e.namespace == bindparam("namespace"), where)
    after_run = _param("after_run_id", e.run_id)
    if order is None:
        if paged:
            # close_order DESC, start_time DESC, run_id ASC; the first bound lets the index range start there.
            after_close = func.coalesce(_param("after_order", e.close_time), literal_column("'infinity'::timestamptz"))
            after_start = _param("after_start_time", e.start_time)
            query = query.where(
                e.close_order <= after_close,
                or_(
                    e.close_order < after_close,
                    and_(e.start_time <= after_start, or_(e.start_time < after_start, e.run_id > after_run)),
                ),
            )
        query = query.order_by(e.close_order.desc(), e.start_time.desc(), e.run_id)
    else:
        column = e[order]
        if paged:
            after: ColumnElement[Any] = _param("after_order", column)
            if order == "close_order":
                after = func.coalesce(after, literal_column("'infinity'::timestamptz"))
            query = query.where(
                tuple_(column, e.run_id) > tuple_(after, after_run)
                if ascending
                else tuple_(column, e.run_id) < tuple_(after, after_run)
            )
        query = query.order_by(*((column, e.run_id) if ascending else (column.desc(), e.run_id.desc())))
    return Statement(query.limit(bindparam("page_size", type_=Integer)))


def count_runs(where: ColumnElement[bool], by_status: bool) -> Statement:
    """How many runs of ``namespace`` match a compiled list query; ``by_status``: per status."""
    e = executions.c
    if by_status:
        query = select(e.status, func.count().label("count")).group_by(e.status).order_by(e.status)
    else:
        query = select(func.count().label("count"))
    return Statement(query.select_from(executions).where(e.namespace == bindparam("namespace"), where))


# -- the search attributes registry ----------------------------------------------------------------------

SEARCH_ATTRIBUTES = Statement(
    select(search_attributes.c.name, search_attributes.c.type)
    .where(search_attributes.c.namespace == bindparam("namespace"))
    .order_by(search_attributes.c.name)
)


ALL_SEARCH_ATTRIBUTES = Statement(
    select(search_attributes.c.namespace, search_attributes.c.name, search_attributes.c.type)
)


def _add_search_attributes() -> Statement:
    """Register (name, type) pairs given as parallel arrays; a name registered already keeps its
    type. Returns every asked name with the type it now has, so the caller sees a clash."""
    sa_ = search_attributes
    a = _unnest("a", ("names", sa_.c.name), ("types", sa_.c.type))
    ins = (
        pg_insert(sa_)
        .from_select(["namespace", "name", "type"], select(_param("namespace", sa_.c.namespace), *a.c))
        .on_conflict_do_nothing()
        .returning(sa_.c.name, sa_.c.type)
        .cte("ins")
    )
    existing = select(sa_.c.name, sa_.c.type).where(
        sa_.c.namespace == bindparam("namespace"), sa_.c.name == any_(_array("names", sa_.c.name))
    )
    return Statement(select(ins.c.name, ins.c.type).union_all(existing))


ADD_SEARCH_ATTRIBUTES = _add_search_attributes()

REMOVE_SEARCH_ATTRIBUTES = Statement(
    delete(search_attributes)
    .where(
        search_attributes.c.namespace == bindparam("namespace"),
        search_attributes.c.name == any_(_array("names", search_attributes.c.name)),
    )
    .returning(search_attributes.c.name)
)


# -- task and timer rows ------------------------------------------------------------------------------


def _backlog() -> Statement:
    """Task rows of a queue of any of ``kinds``, past ``after_id``, the first ``limit`` in id order.

    One ordered range of the queue index per kind, merged: ``kind = ANY(...)`` would not use the
    index's order, and would walk the whole table (deleted rows too) by primary key instead.
    """
    k = _unnest("k", ("kinds", tasks.c.kind))
    limit = bindparam("limit", type_=Integer)
    per_kind = (
        select(
            tasks.c.id, tasks.c.kind, tasks.c.workflow_id, tasks.c.run_id, tasks.c.scheduled_event_id, tasks.c.attempt
        )
        .where(
            tasks.c.namespace == bindparam("namespace"),
            tasks.c.task_queue == bindparam("task_queue"),
            tasks.c.kind == k.c.kinds,
            tasks.c.id > bindparam("after_id"),
        )
        .order_by(tasks.c.id)
        .limit(limit)
        .lateral("t")
    )
    return Statement(select(per_kind).select_from(k).join(per_kind, true()).order_by(per_kind.c.id).limit(limit))


BACKLOG = _backlog()

BACKLOG_SIZE = Statement(
    select(func.count())
    .select_from(tasks)
    .where(
        tasks.c.namespace == bindparam("namespace"),
        tasks.c.task_queue == bindparam("task_queue"),
        tasks.c.kind == bindparam("kind"),
    )
)

DUE_TIMERS = Statement(
    select(timers)
    .where(timers.c.fire_at <= bindparam("until"))
    .order_by(timers.c.fire_at)
    .limit(bindparam("limit", type_=Integer))
)

DROP_TASK = Statement(delete(tasks).where(tasks.c.id == bindparam("task_id")))

DROP_TIMER = Statement(delete(timers).where(_of_run(timers), timers.c.timer_key == bindparam("timer_key")))

# -- queries ------------------------------------------------------------------------------------------


def _create_query(*, at_most: bool = False) -> Statement:
    """A query row and the task row (kind ``kind``) that hands it to a workflow worker.

    With ``at_most``, nothing is written when the run already has ``at_most`` task rows of kind
    ``kind`` (the queries waiting for its workflow task): the statement then returns no row.
    """
    values = select(
        _param("namespace", queries.c.namespace),
        _param("workflow_id", queries.c.workflow_id),
        _param("run_id", queries.c.run_id),
        _param("query_type", queries.c.query_type),
        _param("args", queries.c.args),
    )
    if at_most:
        waiting = (
            select(func.count())
            .select_from(tasks)
            .where(_of_run(tasks), tasks.c.kind == bindparam("kind"))
            .scalar_subquery()
        )
        values = values.where(waiting < bindparam("at_most", type_=Integer))
    q = (
        queries.insert()
        .from_select(["namespace", "workflow_id", "run_id", "query_type", "args"], values)
        .returning(queries.c.id)
        .cte("q")
    )
    task = tasks.insert().from_select(
        ["namespace", "task_queue", "kind", "workflow_id", "run_id", "scheduled_event_id", "attempt"],
        select(
            _param("namespace", tasks.c.namespace),
            _param("task_queue", tasks.c.task_queue),
            _param("kind", tasks.c.kind),
            _param("workflow_id", tasks.c.workflow_id),
            _param("run_id", tasks.c.run_id),
            q.c.id,
            literal(0),
        ).select_from(q),
    )
    return Statement(task.returning(tasks.c.scheduled_event_id, tasks.c.id))


CREATE_QUERY = _create_query()

# A query that waits for the run's workflow task (kind ``QUERY_AFTER_TASK``, which no poller reads),
# unless ``at_most`` wait already.
CREATE_WAITING_QUERY = _create_query(at_most=True)

# The run's workflow task is done: the waiting query's task row becomes one pollers take. No row when
# it is not waiting (any more).
RELEASE_QUERY = Statement(
    update(tasks)
    .where(tasks.c.id == bindparam("task_id"), tasks.c.kind == bindparam("waiting_kind"))
    .values(kind=bindparam("kind"))
    .returning(tasks.c.id)
)


def _claim_query() -> Statement:
    """Take a query's task row (unless another server holds it) and read the query, if both exist."""
    locked = select(tasks.c.id).where(tasks.c.id == bindparam("task_id")).with_for_update(skip_locked=True)
    taken = delete(tasks).where(tasks.c.id == locked.correlate(None).scalar_subquery()).returning(tasks.c.id).cte("t")
    return Statement(
        select(queries.c.query_type, queries.c.args).where(
            queries.c.id == bindparam("query_id"), exists(select(true()).select_from(taken))
        )
    )


CLAIM_QUERY = _claim_query()

ANSWER_QUERY = Statement(
    update(queries)
    .where(queries.c.id == bindparam("query_id"), ~queries.c.answered)
    .values(answered=True, result=bindparam("result"), error=bindparam("error"))
    .returning(queries.c.id)
)

TAKE_QUERY = Statement(
    delete(queries)
    .where(queries.c.id == bindparam("query_id"))
    .returning(queries.c.answered, queries.c.result, queries.c.error)
    .add_cte(delete(tasks).where(tasks.c.id == bindparam("task_id")).cte("t"))
)


# -- task-token keys ----------------------------------------------------------------------------------

TOKEN_KEYS = Statement(select(task_token_keys).order_by(task_token_keys.c.id))


def _first_token_key() -> Statement:
    """Key 1, unless the database has a key already (servers starting together add one between them)."""
    k = task_token_keys
    first = select(literal(1), _param("secret", k.c.secret)).where(~exists(select(k.c.id)))
    return Statement(pg_insert(k).from_select(["id", "secret"], first).on_conflict_do_nothing())


FIRST_TOKEN_KEY = _first_token_key()

# The prefix of the notification that tells every server to read the keys again.
TOKEN_KEYS_CHANGED = "tk"


def _rotate_token_key() -> Statement:
    """Add the next key; keys before it retire at ``now() + grace`` (or sooner, if set sooner before),
    and keys already retired are deleted. Every server is notified at the commit. No row when another
    rotation took the same id at the same moment (the caller tries again)."""
    k = task_token_keys
    next_id = func.coalesce(func.max(k.c.id), 0) + 1
    new = (
        pg_insert(k)
        .from_select(["id", "secret"], select(next_id, _param("secret", k.c.secret)))
        .on_conflict_do_nothing()
        .returning(k.c.id)
        .cte("new")
    )
    retire_at = func.now() + bindparam("grace", type_=Interval)
    retiring = (
        update(k)
        .where(k.c.id < select(new.c.id).scalar_subquery(), or_(k.c.retire_at.is_(None), k.c.retire_at > retire_at))
        .values(retire_at=retire_at)
        .cte("retiring")
    )
    gone = delete(k).where(k.c.retire_at <= func.now()).cte("gone")
    told = func.pg_notify(literal(CHANNEL), literal(f"{TOKEN_KEYS_CHANGED}|"))
    return Statement(
        select(new.c.id, retire_at.label("retire_at"), told.label("told")).add_cte(retiring, gone)
    )


ROTATE_TOKEN_KEY = _rotate_token_key()


# -- pollers ------------------------------------------------------------------------------------------


def _record_pollers() -> Statement:
    """Upsert a batch of (namespace, task queue, kind, identity, last poll), given as parallel arrays;
    a row keeps the later of its time and the batch's (another server may have written a newer one)."""
    p = _unnest(
        "p",
        ("namespaces", pollers.c.namespace),
        ("task_queues", pollers.c.task_queue),
        ("kinds", pollers.c.kind),
        ("identities", pollers.c.identity),
        ("last_polls", pollers.c.last_poll),
    )
    upsert = pg_insert(pollers).from_select(
        ["namespace", "task_queue", "kind", "identity", "last_poll"], select(*p.c)
    )
    return Statement(
        upsert.on_conflict_do_update(
            index_elements=list(pollers.primary_key.columns),
            set_={"last_poll": func.greatest(pollers.c.last_poll, upsert.excluded.last_poll)},
        )
    )


RECORD_POLLERS = _record_pollers()

POLLERS = Statement(
    select(pollers.c.identity, pollers.c.last_poll).where(
        pollers.c.namespace == bindparam("namespace"),
        pollers.c.task_queue == bindparam("task_queue"),
        pollers.c.kind == bindparam("kind"),
        pollers.c.last_poll >= bindparam("since"),
    )
)

FORGET_POLLERS = Statement(delete(pollers).where(pollers.c.last_poll < _param("before", pollers.c.last_poll)))


def every_statement() -> list[Statement]:
    """Every statement the store runs, one of each shape (for tests that prepare them all)."""
    fixed = [
        CREATE, *UPDATE.values(), LOAD, LATEST_RUN, RUN_FOR_REQUEST, READ_EVENTS, READ_EVENT, BACKLOG,
        BACKLOG_SIZE, DUE_TIMERS, DROP_TASK, DROP_TIMER, CREATE_QUERY, CLAIM_QUERY, ANSWER_QUERY, TAKE_QUERY,
        TOKEN_KEYS, FIRST_TOKEN_KEY, ROTATE_TOKEN_KEY, RECORD_POLLERS, POLLERS, FORGET_POLLERS,
        SEARCH_ATTRIBUTES, ALL_SEARCH_ATTRIBUTES, ADD_SEARCH_ATTRIBUTES, REMOVE_SEARCH_ATTRIBUTES,
    ]
    condition = executions.c.workflow_type == bindparam("workflow_type")
    listed = [
        visible_runs(condition, order, ascending, paged)
        for order, ascending in ((None, False), ("start_time", True), ("close_order", False))
        for paged in (False, True)
    ]
    counted = [count_runs(condition, by_status) for by_status in (False, True)]
    return fixed + listed + counted + namespace_statements()


# -- namespaces ---------------------------------------------------------------------------------------

# The prefix of the notification that tells every server to read the namespaces again.
NAMESPACES_CHANGED = "ns"
# wf.v1.NamespaceState numbers, as stored.
NAMESPACE_REGISTERED = 1
NAMESPACE_DELETED = 3

_told_namespaces = func.pg_notify(literal(CHANNEL), literal(f"{NAMESPACES_CHANGED}|")).label("told")

NAMESPACES = Statement(select(namespaces).order_by(namespaces.c.name))

LIST_NAMESPACES = Statement(
    select(namespaces)
    .where(namespaces.c.name > bindparam("after"), namespaces.c.state != NAMESPACE_DELETED)
    .order_by(namespaces.c.name)
    .limit(bindparam("page_size", type_=Integer))
)


def _register_namespace() -> Statement:
    """Add a namespace; no row when the name is taken (by a registered or a deleted namespace)."""
    n = namespaces
    ins = (
        pg_insert(n)
        .values(
            name=_param("name", n.c.name),
            state=NAMESPACE_REGISTERED,
            description=_param("description", n.c.description),
            owner_email=_param("owner_email", n.c.owner_email),
            retention=_param("retention", n.c.retention),
        )
        .on_conflict_do_nothing()
        .returning(n.c.name)
        .cte("ins")
    )
    return Statement(select(ins.c.name, _told_namespaces).select_from(ins))


REGISTER_NAMESPACE = _register_namespace()


def _update_namespace() -> Statement:
    """Change a registered namespace's description, owner and retention (a NULL keeps the value)."""
    n = namespaces
    upd = (
        update(n)
        .where(n.c.name == bindparam("name"), n.c.state == NAMESPACE_REGISTERED)
        .values(
            description=func.coalesce(_param("description", n.c.description), n.c.description),
            owner_email=func.coalesce(_param("owner_email", n.c.owner_email), n.c.owner_email),
            retention=func.coalesce(_param("retention", n.c.retention), n.c.retention),
            updated_at=func.now(),
        )
        .returning(*n.c)
        .cte("upd")
    )
    return Statement(select(*upd.c, _told_namespaces).select_from(upd))


UPDATE_NAMESPACE = _update_namespace()


def _delete_namespace() -> Statement:
    """Mark a registered namespace deleted; its runs go in the background (``wf.history.retention``).

    Its API keys are revoked in the same statement: a namespace registered later under the same name
    is another's, and the keys of the one deleted must not open it (a key verified in the last few
    seconds may be accepted until its cache entry ends, as after any revocation).
    """
    n, k = namespaces, api_keys.c
    upd = (
        update(n)
        .where(n.c.name == bindparam("name"), n.c.state == NAMESPACE_REGISTERED)
        .values(state=NAMESPACE_DELETED, updated_at=func.now())
        .returning(n.c.name)
        .cte("upd")
    )
    revoked = (
        update(api_keys)
        .where(k.namespace.in_(select(upd.c.name)), k.revoked_at.is_(None))
        .values(revoked_at=func.now())
        .returning(k.key_id)
        .cte("revoked")
    )
    # PostgreSQL runs a data-modifying WITH whether or not it is read; reading it makes SQLAlchemy keep it.
    keys_revoked = select(func.count()).select_from(revoked).scalar_subquery().label("keys_revoked")
    return Statement(select(upd.c.name, _told_namespaces, keys_revoked).select_from(upd))


DELETE_NAMESPACE = _delete_namespace()


# -- deleting runs (retention, DeleteWorkflowExecution, deleted namespaces) ------------------------------


def _no_timers(e: Any) -> ColumnElement[bool]:
    """The run has no timer rows left: a closed run's only ones are cross-run tasks its close wrote
    (a parent told of its child's close, a parent close policy), which must fire before it goes."""
    t = timers.c
    return ~exists(
        select(true()).where(t.namespace == e.namespace, t.workflow_id == e.workflow_id, t.run_id == e.run_id)
    )


def _delete_runs(due: CTE) -> Statement:
    """Delete the runs in ``due`` (namespace, workflow_id, run_id) with every row that belongs to them:
    history events, task rows, timer rows, queries. Returns the runs deleted."""

    def of_due(table: Table) -> ColumnElement[bool]:
        return and_(
            table.c.namespace == due.c.namespace,
            table.c.workflow_id == due.c.workflow_id,
            table.c.run_id == due.c.run_id,
        )

    parts = [delete(t).where(of_due(t)).cte(f"del_{t.name}") for t in (history_events, tasks, timers, queries)]
    gone = delete(executions).where(of_due(executions)).returning(
        executions.c.namespace, executions.c.workflow_id, executions.c.run_id
    ).cte("gone")
    return Statement(select(gone.c.namespace, gone.c.workflow_id, gone.c.run_id).add_cte(*parts))


def _due_runs() -> CTE:
    """At most ``batch`` closed runs whose close time plus their namespace's retention has passed,
    oldest first per namespace, that no other server is deleting (SKIP LOCKED)."""
    n, e = namespaces.c, executions.c
    per_namespace = (
        select(e.namespace, e.workflow_id, e.run_id)
        .where(
            e.namespace == n.name,
            e.status != RUNNING,
            e.close_time < func.now() - n.retention,
            _no_timers(e),
        )
        .order_by(e.close_time)
        .limit(bindparam("batch", type_=Integer))
        .with_for_update(skip_locked=True)
        .lateral("r")
    )
    return (
        select(per_namespace.c.namespace, per_namespace.c.workflow_id, per_namespace.c.run_id)
        .select_from(namespaces.join(per_namespace, true()))
        .where(n.state == NAMESPACE_REGISTERED)
        .limit(bindparam("batch", type_=Integer))
        .cte("due")
    )


DELETE_DUE_RUNS = _delete_runs(_due_runs())


def _runs_of_deleted_namespace() -> CTE:
    """At most ``batch`` runs, running or closed, of the deleted namespace ``namespace``."""
    e = executions.c
    return (
        select(e.namespace, e.workflow_id, e.run_id)
        .where(e.namespace == bindparam("namespace"))
        .limit(bindparam("batch", type_=Integer))
        .with_for_update(skip_locked=True)
        .cte("due")
    )


DELETE_NAMESPACE_RUNS = _delete_runs(_runs_of_deleted_namespace())

DELETED_NAMESPACES = Statement(select(namespaces.c.name).where(namespaces.c.state == NAMESPACE_DELETED))


def _drop_deleted_namespace() -> Statement:
    """Remove a deleted namespace with no runs left, and its pollers' rows; its name is free again."""
    n = namespaces
    left = exists(select(true()).where(executions.c.namespace == n.c.name))
    gone = delete(n).where(n.c.name == bindparam("namespace"), n.c.state == NAMESPACE_DELETED, ~left).returning(
        n.c.name
    ).cte("gone")
    p = delete(pollers).where(pollers.c.namespace == select(gone.c.name).scalar_subquery()).cte("del_pollers")
    return Statement(select(gone.c.name).add_cte(p))


DROP_DELETED_NAMESPACE = _drop_deleted_namespace()


def _closed_run() -> CTE:
    """The closed run named by the run parameters, if it has no cross-run task left (see :func:`_no_timers`)."""
    e = executions.c
    return (
        select(e.namespace, e.workflow_id, e.run_id)
        .where(_of_run(executions), e.status != RUNNING, _no_timers(e))
        .with_for_update()
        .cte("due")
    )


DELETE_CLOSED_RUN = _delete_runs(_closed_run())


def namespace_statements() -> list[Statement]:
    """The statements of namespaces and of deleting runs (for :func:`every_statement`)."""
    return [
        NAMESPACES, LIST_NAMESPACES, REGISTER_NAMESPACE, UPDATE_NAMESPACE, DELETE_NAMESPACE, DELETE_DUE_RUNS,
        DELETE_NAMESPACE_RUNS, DELETED_NAMESPACES, DROP_DELETED_NAMESPACE, DELETE_CLOSED_RUN,
    ]
