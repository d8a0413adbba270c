"""What history answers with: the poll responses of started tasks, and a workflow task's completion.

Built after the change that started the task is committed, from that change's result and the run's
events (``Events`` reads them from the record cache or the database).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Awaitable, Callable

from wf.history.execution import StartedWorkflowTask
from wf.v1 import common_pb2, history_pb2, internal_pb2, service_pb2

H = history_pb2
C = common_pb2
# Serialized events ``first`` to ``last`` (inclusive) of the run with this key.
Events = Callable[[tuple[str, str, str], int, int], Awaitable[list[bytes]]]
# A task token as the worker gets it: signed (``wf.history.tokens.TaskTokens.sign``).
Sign = Callable[[internal_pb2.TaskToken], bytes]


@dataclasses.dataclass
class CompletionResult:
    """What RespondWorkflowTaskCompleted answers: an error message when a command was refused, and
    the activities started eagerly for the worker (their state and input)."""

    error: str | None = None
    eager: list[tuple[internal_pb2.ActivityState, common_pb2.Payloads]] = dataclasses.field(default_factory=list)
    # Whether the task was recorded as completed (not failed), and the events appended after the
    # worker's view of the history (from first_event_id, through last_event_id).
    completed: bool = False
    first_event_id: int = 0
    last_event_id: int = 0


async def workflow_task_response(
    events: Events, sign: Sign, started: StartedWorkflowTask
) -> service_pb2.PollWorkflowTaskQueueResponse:
    wt = started.task
    previous = started.previous_started_event_id
    namespace, workflow_id, run_id = started.key
    # Up to this task's WorkflowTaskStarted: events appended since belong to the next task. A
    # sticky task carries only what the worker's cached run has not seen.
    first = previous + 1 if started.sticky and previous else 1
    history = H.History()
    for data in await events(started.key, first, wt.started_event_id):
        history.events.add().MergeFromString(data)
    token = internal_pb2.TaskToken(
        namespace=namespace,
        workflow_id=workflow_id,
        run_id=run_id,
        scheduled_event_id=wt.scheduled_event_id,
        started_event_id=wt.started_event_id,
        attempt=wt.attempt,
    )
    return service_pb2.PollWorkflowTaskQueueResponse(
        task_token=sign(token),
        workflow_execution=C.WorkflowExecution(workflow_id=workflow_id, run_id=run_id),
        workflow_type=C.WorkflowType(name=started.workflow_type),
        previous_started_event_id=previous,
        started_event_id=wt.started_event_id,
        attempt=wt.attempt,
        history=history,
        update_requests=started.updates,
        scheduled_time=wt.scheduled_time,
        started_time=wt.started_time,
    )


async def started_activity_response(
    events: Events, sign: Sign, key: tuple[str, str, str], workflow_type: str, a: internal_pb2.ActivityState
) -> service_pb2.PollActivityTaskQueueResponse:
    """The response for a started attempt; its input is in the ActivityTaskScheduled event."""
    data = await events(key, a.scheduled_event_id, a.scheduled_event_id)
    scheduled = H.HistoryEvent.FromString(data[0] if data else b"").activity_task_scheduled_event_attributes
    return activity_task_response(sign, *key, workflow_type, a, scheduled.input)


def activity_task_response(
    sign: Sign,
    namespace: str,
    workflow_id: str,
    run_id: str,
    workflow_type: str,
    a: internal_pb2.ActivityState,
    input: common_pb2.Payloads,
) -> service_pb2.PollActivityTaskQueueResponse:
    """What a worker gets for a started activity attempt, by poll or eagerly."""
    token = internal_pb2.TaskToken(
        namespace=namespace,
        workflow_id=workflow_id,
        run_id=run_id,
        scheduled_event_id=a.scheduled_event_id,
        attempt=a.attempt,
    )
    return service_pb2.PollActivityTaskQueueResponse(
        task_token=sign(token),
        workflow_type=C.WorkflowType(name=workflow_type),
        workflow_execution=C.WorkflowExecution(workflow_id=workflow_id, run_id=run_id),
        activity_type=C.ActivityType(name=a.activity_type),
        activity_id=a.activity_id,
        input=input,
        scheduled_time=a.scheduled_time,
        current_attempt_scheduled_time=a.current_attempt_scheduled_time,
        started_time=a.started_time,
        attempt=a.attempt,
        schedule_to_close_timeout=a.schedule_to_close_timeout,
        start_to_close_timeout=a.start_to_close_timeout,
        heartbeat_timeout=a.heartbeat_timeout,
        retry_policy=a.retry_policy,
        heartbeat_details=a.heartbeat_details if a.HasField("heartbeat_details") else None,
        workflow_namespace=namespace,
    )
