"""The round trips the server saves, all here, each on the server's terms.

The plain path of a task is: a change commits a task row; matching hands the row to a poller; the
poller's start is a second change (WorkflowTaskStarted, or an activity's start), and its response is
built from that. Three shortcuts cut it short without changing what the history says:

(a) **Started in the commit that creates it.** When a change schedules a task and a poller already
    waits for its queue in this process, the change starts it too (:func:`start_in_commit`, called by
    :class:`wf.history.runs.Runs` just before the write): no task row, no second commit, and the poller
    gets the response once the commit is durable. Matching sets the poller aside for it
    (``Matcher.reserve``); if the commit fails the poller goes back to waiting; if the poller left
    meanwhile, matching hands the started task to the next poller (``_Queue.orphans``), or it times
    out by its start-to-close timeout like any started task.

(b) **The next workflow task with an activity's completion.** A worker completing an activity names
    its sticky queue; the workflow task the completion schedules there is started in the same commit
    and returned in the completion's answer (:func:`want_next_workflow_task`), saving a poll round trip.

(c) **A workflow task run ahead.** A worker holding the run in its cache can resolve the activity on
    its cached instance at once, run the workflow on, and send the commands this produced with the
    activity's result (the ``WorkflowTaskAhead`` message: commands, the event id its view ends at, and
    the time it proposes the task started). The server authors every event: if the history is exactly
    as the worker saw it plus this result, and the proposed time lies between the attempt's start and
    the server's clock, it records the result, the workflow task it schedules, started at the proposed
    time, and completes it with the commands: one commit for the whole activity step
    (:class:`RunAhead`). Otherwise it records the result alone, and the worker's task goes the way of
    (b). The execution knows which workflow task this change scheduled (``scheduled_workflow_task``);
    nothing relies on the order of its rows.

Every shortcut hands its task over through one protocol, :class:`wf.history.tasks.Handoff`: deliver the
started task's response, fail, or release (nothing for you: poll on).
"""

from __future__ import annotations

import asyncio
import dataclasses
import functools
from collections.abc import Awaitable, Callable, Sequence
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING

from google.protobuf.message import Message

from wf.history.execution import Execution, StartedWorkflowTask
from wf.history.responses import CompletionResult, Events, Sign, started_activity_response, workflow_task_response
from wf.history.tasks import Handoff, TaskRow
from wf.history.tokens import run_key
from wf.v1 import command_pb2, common_pb2, internal_pb2, service_pb2

if TYPE_CHECKING:
    from wf.history.operations.workflow_tasks import WorkflowTasks
    from wf.history.runs import Runs

C = common_pb2
# Matching's waiting pollers: one set aside for a task, or None when nobody waits for its queue.
Reserve = Callable[[TaskRow], Handoff | None]


# -- (a) tasks started in the commit that creates them ------------------------------------------------


@dataclasses.dataclass(slots=True)
class DirectStart:
    """A task started in the change that created it, for the poller ``handoff`` set aside."""

    handoff: Handoff
    build: Callable[[], Awaitable[Message]]


def start_in_commit(ex: Execution, reserve: Reserve, events: Events, sign: Sign) -> list[DirectStart]:
    """Start the tasks of this change that a waiting poller (or the change's caller) can take, in
    this same change; the caller writes the change, then :func:`hand_over` (or :func:`release`)."""
    direct: list[DirectStart] = []
    try:
        for task in ex.new_tasks():
            if not ex.can_start_new_task(task):
                continue
            handoff = ex.take_wanted(task) or reserve(task)
            if handoff is None:
                continue
            try:
                direct.append(DirectStart(handoff, _start(ex, task, handoff.identity, events, sign)))
            except BaseException:
                handoff.release()
                raise
    except BaseException:
        release(direct)
        raise
    finally:
        ex.release_wanted()
    return direct


def _start(
    ex: Execution, task: TaskRow, identity: str, events: Events, sign: Sign
) -> Callable[[], Awaitable[Message]]:
    started = ex.start_new_task(task, identity)
    if isinstance(started, StartedWorkflowTask):
        return functools.partial(workflow_task_response, events, sign, started)
    return functools.partial(started_activity_response, events, sign, ex.key, ex.record.workflow_type, started)


def release(direct: list[DirectStart]) -> None:
    """The change was not written: every poller set aside goes back to waiting."""
    for d in direct:
        d.handoff.release()


async def hand_over(direct: list[DirectStart]) -> None:
    """After the commit: build each directly started task's response and hand it to its poller."""
    pending = list(direct)
    try:
        while pending:
            d = pending[0]
            try:
                response = await d.build()
            except Exception as exc:
                d.handoff.fail(exc)
            else:
                d.handoff.deliver(response)
            pending.pop(0)
    finally:
        for d in pending:
            d.handoff.fail(asyncio.CancelledError())


# -- (b) the next workflow task for the caller of a change ---------------------------------------------


class CallerHandoff:
    """A :class:`Handoff` for the caller of a change itself: the workflow task the change starts
    for it, or None (``await handoff.response``) once the change is committed."""

    def __init__(self, identity: str) -> None:
        self.identity = identity
        self.response: asyncio.Future[Message | None] = asyncio.get_running_loop().create_future()

    def deliver(self, response: Message) -> None:
        if not self.response.done():
            self.response.set_result(response)

    def fail(self, exc: BaseException) -> None:
        self.release()

    def release(self) -> None:
        if not self.response.done():
            self.response.set_result(None)


def want_next_workflow_task(ex: Execution, task_queue: str, identity: str) -> CallerHandoff | None:
    """Ask for the workflow task this change schedules on ``task_queue`` (none when it is empty)."""
    if not task_queue:
        return None
    handoff = CallerHandoff(identity)
    ex.want_workflow_task(task_queue, handoff)
    return handoff


async def next_workflow_task(
    handoff: CallerHandoff | None,
) -> service_pb2.PollWorkflowTaskQueueResponse | None:
    """What :func:`want_next_workflow_task` got, once the change is committed."""
    if handoff is None:
        return None
    response = await handoff.response
    assert response is None or isinstance(response, service_pb2.PollWorkflowTaskQueueResponse)
    return response


# -- (c) a workflow task run ahead on the worker's cached run ------------------------------------------


@dataclasses.dataclass(slots=True)
class Ahead:
    """A workflow task a worker ran on its cached run right after completing one of its activities:
    its commands and what it proposes, never events."""

    after_event_id: int
    started_time: datetime
    commands: list[command_pb2.Command]
    update_responses: Sequence[C.UpdateResponse]
    sticky_task_queue: str
    sticky_timeout: timedelta


@dataclasses.dataclass(slots=True)
class AheadOutcome:
    """What became of a workflow task run ahead: its completion when it was taken (which may have
    failed it); else, when its time was out of bounds, this server's clock; and the run's next
    workflow task if it was started for the worker instead."""

    completion: CompletionResult | None = None
    server_time: datetime | None = None
    workflow_task: service_pb2.PollWorkflowTaskQueueResponse | None = None


def ahead_refused(ex: Execution, a: internal_pb2.ActivityState, ahead: Ahead) -> str:
    """Why the task run ahead cannot be taken: "moved" unless the worker's run saw exactly the history
    as it is, plus this activity's result (no event since, no workflow task scheduled or wanted, no
    update waiting); "time" unless its now() lies between the attempt's start and this server's
    clock, so that time in the workflow never runs back. "" when it can."""
    state = ex.state
    if ex.record.next_event_id - 1 != ahead.after_event_id:
        return "moved"
    if state.HasField("workflow_task") or state.workflow_task_needed or state.pending_update_order:
        return "moved"
    if not a.started_time.ToDatetime(UTC) <= ahead.started_time <= ex.now:
        return "time"
    if near_continue_as_new(ex):
        return "moved"
    return ""


def near_continue_as_new(ex: Execution) -> bool:
    """Whether the workflow task a result would start might be the first to suggest continue-as-new.
    A worker runs a task ahead with the answer the run's last task had (only the server decides);
    once a task suggested it every later one does (the history only grows), so only the tasks near
    the limits, before the first suggestion, go the plain way. The task would start 4 events on, and
    the result adds at most a payload's bytes."""
    limits = ex.limits
    return not ex.state.continue_as_new_suggested and (
        ex.record.next_event_id + 3 >= limits.suggest_continue_as_new_events
        or ex.record.history_size + limits.max_payload_bytes + 4096 >= limits.suggest_continue_as_new_bytes
    )


class RunAhead:
    """Shortcut (c): an activity's result and the workflow task run ahead on it, in one commit."""

    def __init__(self, runs: Runs, workflow_tasks: WorkflowTasks) -> None:
        self.runs = runs
        self.workflow_tasks = workflow_tasks

    async def complete_activity_task_ahead(
        self,
        token: internal_pb2.TaskToken,
        result: common_pb2.Payloads,
        identity: str,
        ahead: Ahead,
        eager_workflow_task_queue: str = "",
    ) -> AheadOutcome:
        """Record an activity's result and, if the history is still where the worker's cached run
        left it, the workflow task the worker ran ahead on it (started and completed in the same
        commit); otherwise the result alone, and the run's next workflow task is started for
        ``eager_workflow_task_queue`` as by shortcut (b)."""

        def op(ex: Execution) -> tuple[AheadOutcome, CallerHandoff | None]:
            a = ex.started_activity(token)
            refused = ahead_refused(ex, a, ahead)
            if refused:
                handoff = want_next_workflow_task(ex, eager_workflow_task_queue, identity)
                ex.add_activity_task_completed(a, result, identity)
                return AheadOutcome(server_time=ex.now if refused == "time" else None), handoff
            # Recorded at the time the worker had the result and started the task (the workflow's
            # now()), between the attempt's start and this server's clock: the history's times
            # never run back. The task scheduled is started and completed here: no task row for it.
            now, ex.now = ex.now, ahead.started_time
            try:
                ex.add_activity_task_completed(a, result, identity)
                task = ex.scheduled_workflow_task()
                # ahead_refused made sure no workflow task ran or waited: the result scheduled one.
                assert task is not None
                ex.start_new_task(task, identity)
            finally:
                ex.now = now
            completion = self.workflow_tasks.complete_started(
                ex, ex.state.workflow_task, ahead.commands, identity, ahead.update_responses,
                ahead.sticky_task_queue, ahead.sticky_timeout,
            )
            completion.first_event_id = ahead.after_event_id + 1  # the worker's view ends before the task
            return AheadOutcome(completion=completion), None

        await self.workflow_tasks.ready_for(token.namespace, ahead.commands)
        outcome, handoff = await self.runs.update(run_key(token), op)
        outcome.workflow_task = await next_workflow_task(handoff)
        return outcome
