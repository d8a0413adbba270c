"""The database schema as SQLAlchemy Core tables: the one description of wf's tables.

Migrations in ``migrations/versions`` create exactly this; ``tests/test_migrations.py`` checks that a
database migrated from empty to head matches it. Every table is keyed by (namespace, workflow_id) first
where it belongs to one execution, so that it can be distributed by that key later.
"""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    Computed,
    DateTime,
    Identity,
    Index,
    Integer,
    Interval,
    LargeBinary,
    MetaData,
    SmallInteger,
    Table,
    Text,
    false,
    text,
)
from sqlalchemy.dialects.postgresql import JSONB

from wf.v1 import common_pb2

metadata = MetaData()

# The status of a run that has not closed (``common_pb2.WorkflowExecutionStatus``, as stored).
RUNNING = common_pb2.WORKFLOW_EXECUTION_STATUS_RUNNING

executions = Table(
    "executions",
    metadata,
    Column("namespace", Text, primary_key=True),
    Column("workflow_id", Text, primary_key=True),
    Column("run_id", Text, primary_key=True),
    Column("workflow_type", Text, nullable=False),
    Column("task_queue", Text, nullable=False),
    # WorkflowExecutionStatus numbers from the wire contract.
    Column("status", SmallInteger, nullable=False),
    Column("start_time", DateTime(timezone=True), nullable=False),
    Column("close_time", DateTime(timezone=True)),
    Column("request_id", Text, nullable=False),
    Column("next_event_id", BigInteger, nullable=False),
    Column("history_size", BigInteger, nullable=False),
    # Optimistic concurrency: every write names the version it read and bumps it.
    Column("db_version", BigInteger, nullable=False),
    # wf.v1.MutableState, serialized.
    Column("state", LargeBinary, nullable=False),
    # Visibility (``wf.history.visibility``): the built-in search attributes that are not columns
    # above, and the custom ones, typed, written by the same statement as the run's state.
    Column("execution_time", DateTime(timezone=True)),
    Column("parent_workflow_id", Text),
    Column("parent_run_id", Text),
    Column("root_workflow_id", Text),
    Column("root_run_id", Text),
    # {name: value} with Keyword/Text a string, KeywordList an array of strings, Int an integer,
    # Double a number, Bool a boolean, Datetime a fixed-form RFC 3339 UTC string (text order is time order).
    Column("search_attributes", JSONB),
    # Temporal's default list order puts running runs first: the close time, infinity while running.
    Column("close_order", DateTime(timezone=True), Computed("COALESCE(close_time, 'infinity'::timestamptz)")),
    # What the run cost beyond its events, bytes and transitions (``wf.history.cost``, mirrored from
    # ``MutableState.cost``): the built-in search attributes WorkflowTaskAttempts, ActivityAttempts,
    # PayloadBytesIn and PayloadBytesOut. Not indexed: an ORDER BY on them sorts the runs the
    # query's filters select, and an index here would cost every write of every run.
    Column("workflow_task_attempts", BigInteger, nullable=False, server_default=text("0")),
    Column("activity_attempts", BigInteger, nullable=False, server_default=text("0")),
    Column("payload_bytes_in", BigInteger, nullable=False, server_default=text("0")),
    Column("payload_bytes_out", BigInteger, nullable=False, server_default=text("0")),
    # At most one running run per workflow id.
    Index(
        "executions_one_running",
        "namespace",
        "workflow_id",
        unique=True,
        postgresql_where=text(f"status = {RUNNING}"),
    ),
    Index("executions_by_start", "namespace", text("start_time DESC")),
    Index("executions_by_type", "namespace", "workflow_type", text("start_time DESC")),
    # List queries (docs/architecture.md, "Visibility", says why these): the default order, alone
    # and after the two filters nearly every query has, so a first page reads its rows in order.
    Index("executions_by_order", "namespace", text("close_order DESC"), text("start_time DESC"), "run_id"),
    Index(
        "executions_by_status_order",
        "namespace", "status", text("close_order DESC"), text("start_time DESC"), "run_id",
    ),
    Index(
        "executions_by_type_order",
        "namespace", "workflow_type", text("close_order DESC"), text("start_time DESC"), "run_id",
    ),
    # Type and status together (how many are failing, stuck): a range even when few rows match both.
    Index(
        "executions_by_type_status_order",
        "namespace", "workflow_type", "status", text("close_order DESC"), text("start_time DESC"), "run_id",
    ),
    Index("executions_by_close", "namespace", text("close_time DESC")),
    # Containment (``@>``) of custom attributes: Keyword, Bool, Int and KeywordList equality.
    Index(
        "executions_search_attributes",
        "search_attributes",
        postgresql_using="gin",
        postgresql_ops={"search_attributes": "jsonb_path_ops"},
    ),
)

# Append-only: rows are inserted, never updated or deleted while the execution is retained.
history_events = Table(
    "history_events",
    metadata,
    Column("namespace", Text, primary_key=True),
    Column("workflow_id", Text, primary_key=True),
    Column("run_id", Text, primary_key=True),
    Column("event_id", BigInteger, primary_key=True),
    Column("event_type", SmallInteger, nullable=False),
    # wf.v1.HistoryEvent, serialized.
    Column("data", LargeBinary, nullable=False),
)

# The transactional outbox of work for workers: written in the same transaction as the event that
# caused it, deleted in the same transaction as the event that records its start.
tasks = Table(
    "tasks",
    metadata,
    Column("id", BigInteger, Identity(), primary_key=True),
    Column("namespace", Text, nullable=False),
    Column("task_queue", Text, nullable=False),
    # history.tasks.TaskKind: frozen numbers.
    Column("kind", SmallInteger, nullable=False),
    Column("workflow_id", Text, nullable=False),
    Column("run_id", Text, nullable=False),
    Column("scheduled_event_id", BigInteger, nullable=False),
    Column("attempt", Integer, nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False, server_default=text("now()")),
    Index("tasks_by_queue", "namespace", "task_queue", "kind", "id"),
    Index("tasks_by_run", "namespace", "workflow_id", "run_id"),
)

# Durable timers: user timers, timeouts and retry back-off. Keyed per run by a name the state machine
# chooses, so setting a timer again replaces it and deleting one needs no lookup.
timers = Table(
    "timers",
    metadata,
    Column("namespace", Text, primary_key=True),
    Column("workflow_id", Text, primary_key=True),
    Column("run_id", Text, primary_key=True),
    Column("timer_key", Text, primary_key=True),
    Column("fire_at", DateTime(timezone=True), nullable=False),
    # history.tasks.TimerKind: frozen numbers.
    Column("kind", SmallInteger, nullable=False),
    Column("event_id", BigInteger, nullable=False),
    Column("attempt", Integer, nullable=False),
    Index("timers_by_fire_at", "fire_at"),
)

# Queries in flight: a query is a task row (kind QUERY) pointing here; the worker's answer is written
# here and the asking server is woken. Rows live only as long as the query.
queries = Table(
    "queries",
    metadata,
    Column("id", BigInteger, Identity(), primary_key=True),
    Column("namespace", Text, nullable=False),
    Column("workflow_id", Text, nullable=False),
    Column("run_id", Text, nullable=False),
    Column("query_type", Text, nullable=False),
    Column("args", LargeBinary, nullable=False),
    Column("answered", Boolean, nullable=False, server_default=false()),
    Column("result", LargeBinary),
    Column("error", Text),
    Column("created_at", DateTime(timezone=True), nullable=False, server_default=text("now()")),
)

# The keys that sign task tokens (``wf.history.tokens``): the newest signs new tokens, and every key
# whose ``retire_at`` has not passed verifies them. The first server to start adds key 1;
# ``wf db rotate-token-key`` adds the next and sets when the older ones retire.
task_token_keys = Table(
    "task_token_keys",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=False),
    # 32 random bytes: the HMAC-SHA256 key. Never logged, never printed.
    Column("secret", LargeBinary, nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False, server_default=text("now()")),
    # When tokens it signed stop being accepted; NULL while it is the newest key.
    Column("retire_at", DateTime(timezone=True)),
)

# The workers seen polling each task queue, by every server of the database (``wf.matching.pollers``):
# each server upserts what it saw every few seconds, so a worker polling one server shows on all.
# Rows not refreshed for an hour are deleted.
pollers = Table(
    "pollers",
    metadata,
    Column("namespace", Text, primary_key=True),
    Column("task_queue", Text, primary_key=True),
    # history.tasks.TaskKind: frozen numbers.
    Column("kind", SmallInteger, primary_key=True),
    Column("identity", Text, primary_key=True),
    Column("last_poll", DateTime(timezone=True), nullable=False),
)

# The custom search attributes registered per namespace (``wf operator search-attribute create``).
search_attributes = Table(
    "search_attributes",
    metadata,
    Column("namespace", Text, primary_key=True),
    Column("name", Text, primary_key=True),
    # wf.v1.IndexedValueType numbers (Temporal's).
    Column("type", SmallInteger, nullable=False),
)

# Namespaces (``wf.history.namespaces``): every call's namespace must be one of these, in state
# REGISTERED. ``default`` is added by the migration that creates the table. A deleted namespace keeps
# its row (state DELETED) until retention has deleted its runs, so its name is not reused meanwhile.
namespaces = Table(
    "namespaces",
    metadata,
    Column("name", Text, primary_key=True),
    # wf.v1.NamespaceState numbers from the wire contract.
    Column("state", SmallInteger, nullable=False),
    Column("description", Text, nullable=False),
    Column("owner_email", Text, nullable=False),
    # How long a closed run is kept, counted from its close time.
    Column("retention", Interval, nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False, server_default=text("now()")),
    Column("updated_at", DateTime(timezone=True), nullable=False, server_default=text("now()")),
)

# Schedules (``wf.history.schedules``): one row per schedule, keyed by namespace and id. The loop of
# every server claims the rows whose ``next_wake`` has passed (``FOR UPDATE SKIP LOCKED``), so each
# nominal time is decided by one transaction, with the runs it starts.
schedules = Table(
    "schedules",
    metadata,
    Column("namespace", Text, primary_key=True),
    Column("schedule_id", Text, primary_key=True),
    # The canonical wf.v1.Schedule (spec compiled, as describe returns it).
    Column("schedule", LargeBinary, nullable=False),
    # wf.v1.ScheduleRuntime: counters, running and recent runs, buffered starts, the high-water mark.
    Column("state", LargeBinary, nullable=False),
    # wf.v1.Memo and wf.v1.SearchAttributes (typed) of the schedule itself, and the attributes as a
    # JSON document of typed values for ListSchedules' query.
    Column("memo", LargeBinary, nullable=False),
    Column("search_attributes", LargeBinary, nullable=False),
    Column("search_document", JSONB, nullable=True),
    # The conflict token: bumped by every change.
    Column("version", BigInteger, nullable=False),
    # When a loop must look at the schedule next (NULL: nothing to do until it is changed).
    Column("next_wake", DateTime(timezone=True), nullable=True),
    Column("created_at", DateTime(timezone=True), nullable=False, server_default=text("now()")),
    Column("updated_at", DateTime(timezone=True), nullable=False, server_default=text("now()")),
    Index("schedules_by_next_wake", "next_wake", postgresql_where=text("next_wake IS NOT NULL")),
)

# API keys (``wf.server.auth.keys``): one row per key, found by its public id; a salted hash of the
# secret, never the secret. Revoked keys stay, so lists and the audit log can still name them.
api_keys = Table(
    "api_keys",
    metadata,
    Column("key_id", Text, primary_key=True),
    Column("name", Text, nullable=False),
    # The grant: a namespace and a wf.v1.Role ("" for a cluster admin).
    Column("namespace", Text, nullable=False),
    Column("role", Integer, nullable=False),
    Column("salt", LargeBinary, nullable=False),
    Column("secret_hash", LargeBinary, nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False, server_default=text("now()")),
    Column("created_by", Text, nullable=False),
    Column("expires_at", DateTime(timezone=True), nullable=True),
    Column("revoked_at", DateTime(timezone=True), nullable=True),
    Index("api_keys_by_namespace", "namespace"),
)
