"""The round trips a worker saves, in one place: what each shortcut is, and the interface to them.

Every shortcut is on the server's terms: the worker sends commands, results and at most a proposed
start time for a task; the server authors every event and its time, and may decline any shortcut, in
which case the work goes the plain way (a poll, a task from the history).

1. **Eager activities.** A workflow task's completion asks for the activities it schedules on this
   worker's task queue to come back started (``request_eager_execution``), one free activity slot
   reserved for each (:meth:`Shortcuts.reserve_eager_activities`); those that come back run in their
   slots, the rest of the slots are given back (:meth:`Shortcuts.run_eager`). Saves a poll and a
   commit per activity.
2. **The next task returned with an activity's completion.** With a free workflow-task slot taken
   (:meth:`Shortcuts.reserve_slot`), a completion asks for the run's next workflow task on this
   worker's sticky queue (``eager_workflow_task_queue``) and for the next activity task waiting on
   the task queue (``next_activity_task_queue``); whatever comes back runs in the slot taken
   (:meth:`Shortcuts.run_returned`). Saves a poll per task.
3. **The task run ahead.** When the run is cached here, level with its history and awaiting only
   that activity, the worker applies the activity's result to it as a ``ResolveActivity`` job and runs
   its next workflow task at once, at a time it proposes (:meth:`Shortcuts.run_ahead`); the
   completion carries the task's commands (``WorkflowTaskAhead``), and the server records the result,
   the task and its completion in one commit, if the history has not moved on and the time is within
   bounds. The run is kept only when the events the server authored record what was applied
   (:meth:`Shortcuts.ahead_answered`). Saves a workflow task's dispatch and a commit per step of a
   sequential workflow. When the server refuses the proposed time, it returns its clock, which the
   worker's later proposals follow (:class:`ServerClock`).

The activity runner reaches the shortcuts only through :class:`Shortcuts`; the ``Worker`` implements
it (the section of ``_worker.py`` that names this module).
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Protocol

from wf.v1 import command_pb2, common_pb2, service_pb2
from worker_sdk._replay import Replay

log = logging.getLogger("worker_sdk.worker")

# A correction of the worker's clock by more than this is logged.
_CLOCK_NOTICE = timedelta(milliseconds=100)


@dataclass(slots=True)
class RunAhead:
    """A workflow task run ahead of the server, sent with the activity result it followed from."""

    message: service_pb2.WorkflowTaskAhead
    replay: Replay
    reserved: int  # activity slots taken for the activities it asks to get back started
    run_id: str


class Shortcuts(Protocol):
    """The worker's side of every shortcut (see the module's docstring)."""

    async def reserve_eager_activities(self, commands: Sequence[command_pb2.Command]) -> int:
        """Mark the activities this worker may run for eager execution, one activity slot taken for
        each; how many slots were taken."""
        ...

    def run_eager(self, tasks: Sequence[service_pb2.PollActivityTaskQueueResponse], reserved: int) -> None:
        """Run the activities that came back started in the ``reserved`` slots; give back the rest."""
        ...

    async def reserve_slot(self) -> str:
        """Take a workflow-task slot if one is free: the queue to ask for the run's next workflow
        task on, or '' (no slot, or no workflows here)."""
        ...

    def run_returned(self, task: service_pb2.PollWorkflowTaskQueueResponse | None) -> None:
        """Run the workflow task returned (in the slot taken), or give the slot back if none came."""
        ...

    def next_activity_queue(self) -> str:
        """The queue to ask for the next activity task on, or '' (the worker is stopping)."""
        ...

    async def run_ahead(
        self, task: service_pb2.PollActivityTaskQueueResponse, result: common_pb2.Payloads
    ) -> RunAhead | None:
        """The run's next workflow task, run ahead on its cached run, or None (the result then goes
        alone). Never raises: a failure here must not cost the activity's result."""
        ...

    async def ahead_answered(
        self, ahead: RunAhead, response: service_pb2.RespondActivityTaskCompletedResponse | None
    ) -> None:
        """What the server did with a task run ahead (``response`` None when the call failed)."""
        ...


class ServerClock:
    """The time this worker proposes for a task it runs ahead: its own clock, corrected by what the
    server answered when it last refused a proposed time. The server's answer is the only source of
    the correction; the server checks every proposal against its own clock anyway."""

    def __init__(self) -> None:
        self.offset = timedelta(0)  # the server's clock minus this worker's, as last learned

    def propose(self, not_before: datetime) -> datetime:
        """The server's time as well as this worker can tell, and never before ``not_before`` (the
        activity attempt's start, which the server's bounds begin at)."""
        return max(datetime.now(UTC) + self.offset, not_before)

    def refused(self, server_time: datetime) -> None:
        """The server refused a proposal and answered with its clock as it checked it. The offset is
        taken as of this answer's arrival: the server's clock has moved on since it read it by the
        time the answer took, so later proposals fall at or a little behind its clock, never ahead
        of it, where it would refuse them again (a middle-of-the-call estimate errs ahead whenever the
        call waited on the server's side before it was checked)."""
        offset = server_time - datetime.now(UTC)
        if abs(offset - self.offset) > _CLOCK_NOTICE:
            log.info(
                "this worker's clock is %.3f s off the server's: tasks run ahead use the server's time",
                -offset.total_seconds(),
            )
        self.offset = offset
