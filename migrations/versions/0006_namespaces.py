"""Namespaces with their retention.

``default`` is registered with a retention of 72 hours (Temporal CLI's default), so a database
migrated from an older wf keeps serving the namespace its runs are in. Namespaces other than
``default`` that runs already use are registered too, with the same retention: before this
migration any string was a namespace, and those runs must stay reachable.

Retention deletes runs all day long, so the tables a run writes most get vacuumed at full speed
(no cost delay) and as soon as 2% of their rows are dead, rather than 20%: the space of deleted rows
is reused sooner and the tables keep their size (``python -m bench churn``).

Revision ID: 0006
Revises: 0005
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None

# wf.v1.NamespaceState.NAMESPACE_STATE_REGISTERED, as stored.
_REGISTERED = 1
# The tables every run writes to and retention deletes from, and how autovacuum treats them.
_CHURNED = ("executions", "history_events", "tasks", "timers")
_AUTOVACUUM = "autovacuum_vacuum_scale_factor = 0.02, autovacuum_vacuum_cost_delay = 0"


def upgrade() -> None:
    op.create_table(
        "namespaces",
        sa.Column("name", sa.Text, primary_key=True),
        sa.Column("state", sa.SmallInteger, nullable=False),
        sa.Column("description", sa.Text, nullable=False),
        sa.Column("owner_email", sa.Text, nullable=False),
        sa.Column("retention", sa.Interval, nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.text("now()")),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.text("now()")),
    )
    op.execute(
        "INSERT INTO namespaces (name, state, description, owner_email, retention) "
        f"SELECT name, {_REGISTERED}, '', '', interval '72 hours' "
        "FROM (SELECT 'default' AS name UNION SELECT namespace FROM executions) AS used"
    )
    # Retention reads a namespace's closed runs oldest close first through ``executions_by_close``
    # (namespace, close_time DESC), made by 0005 for list queries.

    for table in _CHURNED:
        op.execute(f"ALTER TABLE {table} SET ({_AUTOVACUUM})")
