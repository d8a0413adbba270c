"""Visibility: the columns of the built-in search attributes, the typed custom ones (JSONB), the
registry of custom search attributes per namespace, and the indexes list queries use.

Revision ID: 0005
Revises: 0004
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import JSONB

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None

# Temporal's default order of a list: running runs first (no close time), then the newest.
_ORDER = "close_order DESC, start_time DESC, run_id"


def upgrade() -> None:
    op.add_column("executions", sa.Column("execution_time", sa.DateTime(timezone=True)))
    op.add_column("executions", sa.Column("parent_workflow_id", sa.Text))
    op.add_column("executions", sa.Column("parent_run_id", sa.Text))
    op.add_column("executions", sa.Column("root_workflow_id", sa.Text))
    op.add_column("executions", sa.Column("root_run_id", sa.Text))
    op.add_column("executions", sa.Column("search_attributes", JSONB))
    op.add_column(
        "executions",
        sa.Column(
            "close_order",
            sa.DateTime(timezone=True),
            sa.Computed("COALESCE(close_time, 'infinity'::timestamptz)", persisted=True),
        ),
    )
    op.execute("UPDATE executions SET execution_time = start_time")
    op.execute(f"CREATE INDEX executions_by_order ON executions (namespace, {_ORDER})")
    op.execute(f"CREATE INDEX executions_by_status_order ON executions (namespace, status, {_ORDER})")
    op.execute(f"CREATE INDEX executions_by_type_order ON executions (namespace, workflow_type, {_ORDER})")
    op.execute(
        f"CREATE INDEX executions_by_type_status_order ON executions (namespace, workflow_type, status, {_ORDER})"
    )
    op.execute("CREATE INDEX executions_by_close ON executions (namespace, close_time DESC)")
    op.execute("CREATE INDEX executions_search_attributes ON executions USING gin (search_attributes jsonb_path_ops)")
    op.create_table(
        "search_attributes",
        sa.Column("namespace", sa.Text, primary_key=True),
        sa.Column("name", sa.Text, primary_key=True),
        sa.Column("type", sa.SmallInteger, nullable=False),
    )
