"""The audit log: one row per state-changing call (who, what, when, from where, its outcome), indexed
by (namespace, time) for the newest-first listing, and by time for the listing of every namespace.

Revision ID: 0010
Revises: 0009
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "audit_log",
        sa.Column("id", sa.BigInteger, sa.Identity(), primary_key=True),
        sa.Column("time", sa.DateTime(timezone=True), nullable=False),
        sa.Column("namespace", sa.Text, nullable=False),
        sa.Column("principal", sa.Text, nullable=False),
        sa.Column("principal_kind", sa.SmallInteger, nullable=False),
        sa.Column("method", sa.Text, nullable=False),
        sa.Column("workflow_id", sa.Text, nullable=False),
        sa.Column("run_id", sa.Text, nullable=False),
        sa.Column("peer", sa.Text, nullable=False),
        sa.Column("status", sa.Text, nullable=False),
        sa.Column("detail", sa.Text, nullable=False),
    )
    op.create_index(
        "audit_log_by_namespace_time", "audit_log", ["namespace", sa.text("time DESC"), sa.text("id DESC")]
    )
    op.create_index("audit_log_by_time", "audit_log", [sa.text("time DESC"), sa.text("id DESC")])


def downgrade() -> None:
    op.drop_table("audit_log")
