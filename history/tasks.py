"""Task and timer rows: what history writes for matching and for its own timer processor, and the
hand-off through which history starts a task for a poll matching holds.

The kind numbers are stored in the database: they are frozen. Add new kinds with new numbers.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from google.protobuf.message import Message


class TaskKind(enum.IntEnum):
    WORKFLOW = 1
    ACTIVITY = 2
    # A query for a workflow worker: handed out with workflow tasks, never recorded in history.
    QUERY = 3
    # A query waiting for its run's workflow task to be done: no poller reads it; it becomes QUERY then.
    QUERY_AFTER_TASK = 4


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
    # Cross-run tasks (``wf.history.operations.cross_run``): due at once, each acts on another run and
    # then records the outcome on its own run. Written even by the change that closes their run.
    START_CHILD = 12
    CHILD_CLOSED = 13
    PARENT_CLOSE_POLICY = 14
    SIGNAL_EXTERNAL = 15
    CANCEL_EXTERNAL = 16
    # A scheduled run's chain closed: its schedule records it (``wf.history.schedules.closes``).
    SCHEDULE_CLOSED = 17


CROSS_RUN_KINDS = frozenset(
    {
        TimerKind.START_CHILD,
        TimerKind.CHILD_CLOSED,
        TimerKind.PARENT_CLOSE_POLICY,
        TimerKind.SIGNAL_EXTERNAL,
        TimerKind.CANCEL_EXTERNAL,
        TimerKind.SCHEDULE_CLOSED,
    }
)


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


class Handoff(Protocol):
    """A poller waiting in this process, set aside for a task a change creates: the task is started
    in that same commit (``wf.history.shortcuts``), and the poller is handed the
    started task's response, with no task row and no second commit."""

    identity: str

    def deliver(self, response: Message) -> None:
        """Hand the started task to the poller (or to another one, if it left meanwhile)."""

    def fail(self, exc: BaseException) -> None:
        """The task was started but its response could not be built."""

    def release(self) -> None:
        """The change was not committed: the poller goes back to waiting."""
