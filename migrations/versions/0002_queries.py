"""Query tasks: a query waiting for a worker, and its answer.

Revision ID: 0002
Revises: 0001
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "queries",
        sa.Column("id", sa.BigInteger, sa.Identity(), primary_key=True),
        sa.Column("namespace", sa.Text, nullable=False),
        sa.Column("workflow_id", sa.Text, nullable=False),
        sa.Column("run_id", sa.Text, nullable=False),
        sa.Column("query_type", sa.Text, nullable=False),
        # wf.v1.Payloads: the query's arguments, then its answer.
        sa.Column("args", sa.LargeBinary, nullable=False),
        sa.Column("answered", sa.Boolean, nullable=False, server_default=sa.false()),
        sa.Column("result", sa.LargeBinary),
        sa.Column("error", sa.Text),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.text("now()")),
    )
