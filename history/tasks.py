"""Task and timer rows: what history writes for matching and for its own timer processor.

The kind numbers are stored in the database: they are frozen. Add new kinds with new numbers.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import datetime


class TaskKind(enum.IntEnum):
    WORKFLOW = 1
    ACTIVITY = 2
    # A query for a workflow worker: handed out with workflow tasks, never recorded in history.
    QUERY = 3


class TimerKind(enum.IntEnum):
    WORKFLOW_TASK_TIMEOUT = 1
    WORKFLOW_TASK_RETRY = 2
    ACTIVITY_START_TO_CLOSE = 3
    ACTIVITY_SCHEDULE_TO_START = 4
    ACTIVITY_SCHEDULE_TO_CLOSE = 5
    ACTIVITY_RETRY = 6
    WORKFLOW_RUN_TIMEOUT = 7
    WORKFLOW_EXECUTION_TIMEOUT = 8
    ACTIVITY_HEARTBEAT = 9
    USER_TIMER = 10
    STICKY_SCHEDULE_TO_START = 11


@dataclass(frozen=True, slots=True)
class TaskRow:
    """A workflow or activity task waiting in a task queue (``id`` is 0 until written)."""

    namespace: str
    task_queue: str
    kind: TaskKind
    workflow_id: str
    run_id: str
    scheduled_event_id: int
    attempt: int
    id: int = 0


@dataclass(frozen=True, slots=True)
class TimerRow:
    namespace: str
    workflow_id: str
    run_id: str
    key: str
    fire_at: datetime
    kind: TimerKind
    event_id: int
    attempt: int
