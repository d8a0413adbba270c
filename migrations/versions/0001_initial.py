"""Executions, append-only history events, task outbox and durable timers.

Revision ID: 0001
Revises:
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    tz = sa.DateTime(timezone=True)
    op.create_table(
        "executions",
        sa.Column("namespace", sa.Text, primary_key=True),
        sa.Column("workflow_id", sa.Text, primary_key=True),
        sa.Column("run_id", sa.Text, primary_key=True),
        sa.Column("workflow_type", sa.Text, nullable=False),
        sa.Column("task_queue", sa.Text, nullable=False),
        sa.Column("status", sa.SmallInteger, nullable=False),
        sa.Column("start_time", tz, nullable=False),
        sa.Column("close_time", tz),
        sa.Column("request_id", sa.Text, nullable=False),
        sa.Column("next_event_id", sa.BigInteger, nullable=False),
        sa.Column("history_size", sa.BigInteger, nullable=False),
        sa.Column("db_version", sa.BigInteger, nullable=False),
        sa.Column("state", sa.LargeBinary, nullable=False),
    )
    op.create_index(
        "executions_one_running",
        "executions",
        ["namespace", "workflow_id"],
        unique=True,
        postgresql_where=sa.text("status = 1"),
    )
    op.create_index("executions_by_start", "executions", ["namespace", sa.text("start_time DESC")])
    op.create_index(
        "executions_by_type", "executions", ["namespace", "workflow_type", sa.text("start_time DESC")]
    )

    op.create_table(
        "history_events",
        sa.Column("namespace", sa.Text, primary_key=True),
        sa.Column("workflow_id", sa.Text, primary_key=True),
        sa.Column("run_id", sa.Text, primary_key=True),
        sa.Column("event_id", sa.BigInteger, primary_key=True),
        sa.Column("event_type", sa.SmallInteger, nullable=False),
        sa.Column("data", sa.LargeBinary, nullable=False),
    )

    op.create_table(
        "tasks",
        sa.Column("id", sa.BigInteger, sa.Identity(), primary_key=True),
        sa.Column("namespace", sa.Text, nullable=False),
        sa.Column("task_queue", sa.Text, nullable=False),
        sa.Column("kind", sa.SmallInteger, nullable=False),
        sa.Column("workflow_id", sa.Text, nullable=False),
        sa.Column("run_id", sa.Text, nullable=False),
        sa.Column("scheduled_event_id", sa.BigInteger, nullable=False),
        sa.Column("attempt", sa.Integer, nullable=False),
        sa.Column("created_at", tz, nullable=False, server_default=sa.text("now()")),
    )
    op.create_index("tasks_by_queue", "tasks", ["namespace", "task_queue", "kind", "id"])
    op.create_index("tasks_by_run", "tasks", ["namespace", "workflow_id", "run_id"])

    op.create_table(
        "timers",
        sa.Column("namespace", sa.Text, primary_key=True),
        sa.Column("workflow_id", sa.Text, primary_key=True),
        sa.Column("run_id", sa.Text, primary_key=True),
        sa.Column("timer_key", sa.Text, primary_key=True),
        sa.Column("fire_at", tz, nullable=False),
        sa.Column("kind", sa.SmallInteger, nullable=False),
        sa.Column("event_id", sa.BigInteger, nullable=False),
        sa.Column("attempt", sa.Integer, nullable=False),
    )
    op.create_index("timers_by_fire_at", "timers", ["fire_at"])

    # Aborts the statement that calls it: a change written as one statement undoes all of its parts
    # when its version check or claim fails. SQLSTATE WF001 tells the store which.
    op.execute(
        """
        CREATE FUNCTION wf_abort(reason text) RETURNS integer LANGUAGE plpgsql AS $$
        BEGIN
          RAISE EXCEPTION USING ERRCODE = 'WF001', MESSAGE = reason;
        END
        $$
        """
    )
