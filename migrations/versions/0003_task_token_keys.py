"""Task-token keys: the server keys that sign task tokens (HMAC-SHA256), rotatable.

No key is written here: the first server to start generates one, so no secret passes through
alembic's output (``--sql`` prints what a migration would run).

Revision ID: 0003
Revises: 0002
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "task_token_keys",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=False),
        sa.Column("secret", sa.LargeBinary, nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.text("now()")),
        sa.Column("retire_at", sa.DateTime(timezone=True)),
    )
