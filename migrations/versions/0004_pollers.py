"""Pollers: the workers seen polling each task queue, shared by every server of the database.

Revision ID: 0004
Revises: 0003
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "pollers",
        sa.Column("namespace", sa.Text, primary_key=True),
        sa.Column("task_queue", sa.Text, primary_key=True),
        sa.Column("kind", sa.SmallInteger, primary_key=True),
        sa.Column("identity", sa.Text, primary_key=True),
        sa.Column("last_poll", sa.DateTime(timezone=True), nullable=False),
    )
