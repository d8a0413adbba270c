"""What a run costs as built-in search attributes: WorkflowTaskAttempts, ActivityAttempts,
PayloadBytesIn and PayloadBytesOut, columns of ``executions`` beside HistoryLength
(``next_event_id``), HistorySizeBytes (``history_size``) and StateTransitionCount (``db_version``).

The runs already stored keep their counters in their serialized state (``MutableState.cost``,
field 123 of wf.v1.MutableState, a RunCost whose field numbers are frozen by the wire contract);
they are copied into the new columns here, a batch of rows at a time, so a list query orders old
and new runs alike. No index: see ``wf.history.schema``.

Revision ID: 0007
Revises: 0006
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from alembic import op

from wf.v1 import internal_pb2

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None

_COLUMNS = ("workflow_task_attempts", "activity_attempts", "payload_bytes_in", "payload_bytes_out")
_BATCH = 1000


def upgrade() -> None:
    for name in _COLUMNS:
        op.add_column("executions", sa.Column(name, sa.BigInteger, nullable=False, server_default=sa.text("0")))
    _copy_counters()


def _copy_counters() -> None:
    """Each stored run's counters, from its state into the columns (runs that cost nothing stay 0)."""
    conn = op.get_bind()
    after: tuple[str, str, str] = ("", "", "")
    read = sa.text(
        "SELECT namespace, workflow_id, run_id, state FROM executions "
        "WHERE (namespace, workflow_id, run_id) > (:ns, :wid, :rid) "
        "ORDER BY namespace, workflow_id, run_id LIMIT :batch"
    )
    write = sa.text(
        "UPDATE executions SET workflow_task_attempts = :workflow_task_attempts, "
        "activity_attempts = :activity_attempts, payload_bytes_in = :payload_bytes_in, "
        "payload_bytes_out = :payload_bytes_out "
        "WHERE namespace = :ns AND workflow_id = :wid AND run_id = :rid"
    )
    while True:
        rows = conn.execute(read, {"ns": after[0], "wid": after[1], "rid": after[2], "batch": _BATCH}).all()
        if not rows:
            return
        counted: list[dict[str, Any]] = []
        for namespace, workflow_id, run_id, state in rows:
            cost = internal_pb2.MutableState.FromString(bytes(state)).cost
            if cost.ByteSize():
                counted.append({
                    "ns": namespace, "wid": workflow_id, "rid": run_id,
                    "workflow_task_attempts": cost.workflow_tasks, "activity_attempts": cost.activity_attempts,
                    "payload_bytes_in": cost.payload_bytes_in, "payload_bytes_out": cost.payload_bytes_out,
                })
        if counted:
            conn.execute(write, counted)
        after = (rows[-1][0], rows[-1][1], rows[-1][2])
