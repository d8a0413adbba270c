"""Cross-run tasks: what a change of one run asks of another run, done however the servers crash.

Starting a child, telling a parent its child closed, applying a parent's close policy to its
children, signalling or cancelling another workflow: each is a change of a second run, which takes
its own transaction (every change is one run's, guarded by that run's version). The first run's
change writes a **cross-run task** in its own transaction, with the event that asks for it: a timer
row due at once (``Execution._add_cross_run_task``, kinds in ``TimerKind``; Temporal calls these
transfer tasks). The timer processor of any server fires it, in two steps:

1. ``act``: the change of the other run, made through the ordinary operations (a start, a signal,
   a termination, a change applied with ``Runs.update``). It must be idempotent, because a crash
   after it and before step 2 makes it run again: starts and signals carry a request id derived from
   the task's run and event, and changes check the state they would move.
2. The task's own run records the outcome (an event such as ``ChildWorkflowExecutionStarted``,
   while the run is still running) and consumes the row, in one change. A task whose row was already
   consumed (another server fired it too) changes nothing.

Until step 2 commits the row stays due, and a failure leaves it to be fired again at the processor's
next read. One module per kind of task holds its ``act`` (``CROSS_RUN`` below maps kinds to them).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Protocol

from wf.history.errors import NotFound, TaskGone
from wf.history.execution import Execution
from wf.history.runs import Runs
from wf.history.store import ExecutionRecord
from wf.history.tasks import TimerKind, TimerRow
from wf.v1 import history_pb2, internal_pb2

Record = Callable[[Execution], None]
"""How a task's outcome is recorded on its own run (applied only while that run is running)."""


class CrossRunTask(Protocol):
    """One kind of cross-run task."""

    async def act(self, source: ExecutionRecord, task: TimerRow) -> Record | None:
        """Make the change of the other run (idempotently) that ``task`` of the run ``source`` asks
        for; returns how its outcome is recorded on ``source``, or None when nothing is recorded."""


class CrossRun:
    """Fires cross-run tasks: ``act`` on the other run, then record and consume on the task's own run."""

    def __init__(self, runs: Runs) -> None:
        self.runs = runs
        self.kinds: dict[TimerKind, CrossRunTask] = {}

    def register(self, kind: TimerKind, task: CrossRunTask) -> None:
        self.kinds[kind] = task

    async def fire(self, task: TimerRow) -> None:
        key = (task.namespace, task.workflow_id, task.run_id)
        try:
            source = await self.runs.load(key)
        except NotFound:
            await self.runs.store.drop_timer(*key, task.key)
            return
        record = await self.kinds[task.kind].act(source, task)

        def op(ex: Execution) -> None:
            ex.claim_timer(task)
            if record is not None and ex.running:
                record(ex)

        try:
            await self.runs.update(key, op)
        except TaskGone:
            pass  # another server fired it and recorded the outcome


# -- what an act reads of its task's run ------------------------------------------------------------


def state_of(record: ExecutionRecord) -> internal_pb2.MutableState:
    """A run's mutable state, as an act reads it (it changes the run only through ``Runs.update``)."""
    return internal_pb2.MutableState.FromString(record.state)


async def event_of(runs: Runs, record: ExecutionRecord, event_id: int) -> history_pb2.HistoryEvent:
    """The event of ``record``'s run that asked for a task (its initiated event)."""
    data = await runs.events((record.namespace, record.workflow_id, record.run_id), event_id, event_id)
    return history_pb2.HistoryEvent.FromString(data[0])
