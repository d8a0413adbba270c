"""Schedules: one row per schedule (namespace, schedule id), with its canonical wf.v1.Schedule, its
run-time state (wf.v1.ScheduleRuntime), memo and search attributes, the conflict token, and
``next_wake``, the time a scheduler loop must look at it next (indexed, as every server's loop claims
the due rows in that order).

Revision ID: 0008
Revises: 0007
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import JSONB

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "schedules",
        sa.Column("namespace", sa.Text, primary_key=True),
        sa.Column("schedule_id", sa.Text, primary_key=True),
        sa.Column("schedule", sa.LargeBinary, nullable=False),
        sa.Column("state", sa.LargeBinary, nullable=False),
        sa.Column("memo", sa.LargeBinary, nullable=False),
        sa.Column("search_attributes", sa.LargeBinary, nullable=False),
        sa.Column("search_document", JSONB, nullable=True),
        sa.Column("version", sa.BigInteger, nullable=False),
        sa.Column("next_wake", sa.DateTime(timezone=True), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.text("now()")),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.text("now()")),
    )
    op.create_index(
        "schedules_by_next_wake", "schedules", ["next_wake"], postgresql_where=sa.text("next_wake IS NOT NULL")
    )
    # Rewritten at every tick of a busy schedule: reclaim dead rows early, as for the run tables.
    op.execute(
        "ALTER TABLE schedules SET (autovacuum_vacuum_scale_factor = 0.02, autovacuum_vacuum_cost_delay = 0)"
    )


def downgrade() -> None:
    op.drop_table("schedules")
