"""Repairing a run: reset (with wf's replay check first) and the stack of a running workflow.

``handle.reset()`` asks the server for ``ResetWorkflowExecution``: a new run made from the run's
history up to a workflow task, which the current code decides again (as Temporal's reset). The
point is an event id, or a :class:`ResetType` resolved here from the run's history as Temporal's CLI
resolves it. With ``check=True`` a live worker of the run's task queue first replays the history up
to the point with its current code (the built-in query :data:`REPLAY_CHECK_QUERY`, answered by the
worker itself, ``worker_sdk/_worker.py``), and the reset is refused with the nondeterminism message
if that code no longer fits the history.

``handle.stack()`` asks the built-in query :data:`STACK_TRACE_QUERY`, which the worker's workflow
instance answers with where each of the workflow's coroutines waits (``_instance.stack_trace``).
"""

from __future__ import annotations

import enum
import uuid
from collections.abc import Sequence
from typing import TYPE_CHECKING

import grpc

from wf.v1 import common_pb2, history_pb2, service_pb2
from worker_sdk.errors import NondeterminismError, RPCError

if TYPE_CHECKING:
    from worker_sdk._client import WorkflowHandle

H = history_pb2
REPLAY_CHECK_QUERY = "__wf_replay_check"
STACK_TRACE_QUERY = "__stack_trace"
_RESET_POINTS = (
    H.EVENT_TYPE_WORKFLOW_TASK_COMPLETED,
    H.EVENT_TYPE_WORKFLOW_TASK_FAILED,
    H.EVENT_TYPE_WORKFLOW_TASK_TIMED_OUT,
    H.EVENT_TYPE_WORKFLOW_TASK_STARTED,
)


class ResetType(enum.Enum):
    """Where to reset when no event id is given, as Temporal's CLI ``--type``."""

    #: The first workflow task's completion (or, if none completed, the event after its scheduling).
    FIRST_WORKFLOW_TASK = "FirstWorkflowTask"
    #: The last workflow task's completion (or, if none completed, the event after its scheduling).
    LAST_WORKFLOW_TASK = "LastWorkflowTask"
    #: The run this one continued from, at its last workflow task's completion.
    LAST_CONTINUED_AS_NEW = "LastContinuedAsNew"


class ResetReapplyType(enum.IntEnum):
    """What the new run receives again of what came after the reset point (``--reapply-type``)."""

    #: Signals and updates (the default).
    ALL = common_pb2.RESET_REAPPLY_TYPE_ALL_ELIGIBLE
    SIGNAL = common_pb2.RESET_REAPPLY_TYPE_SIGNAL
    NONE = common_pb2.RESET_REAPPLY_TYPE_NONE


class ResetReapplyExcludeType(enum.IntEnum):
    """Kinds of events never reapplied (``--reapply-exclude``)."""

    SIGNAL = common_pb2.RESET_REAPPLY_EXCLUDE_TYPE_SIGNAL
    UPDATE = common_pb2.RESET_REAPPLY_EXCLUDE_TYPE_UPDATE


def reset_point(events: Sequence[history_pb2.HistoryEvent], reset_type: ResetType) -> int:
    """The event a :class:`ResetType` names in a run's history (Temporal's CLI's rule)."""
    completed = [e.event_id for e in events if e.event_type == H.EVENT_TYPE_WORKFLOW_TASK_COMPLETED]
    after_scheduled = [e.event_id + 1 for e in events if e.event_type == H.EVENT_TYPE_WORKFLOW_TASK_SCHEDULED]
    first = reset_type == ResetType.FIRST_WORKFLOW_TASK
    if completed:
        return completed[0] if first else completed[-1]
    if after_scheduled:
        return after_scheduled[0]
    raise ValueError("the run has no workflow task to reset to")


async def _base_and_point(
    handle: WorkflowHandle, event_id: int | None, reset_type: ResetType | None
) -> tuple[str, int]:
    """The run to reset (its id) and the event to reset it to."""
    history = await handle.fetch_history()
    run_id = handle.run_id or ""
    if event_id is not None:
        return run_id, event_id
    if reset_type is None:
        raise ValueError("give event_id or type (a ResetType)")
    if reset_type != ResetType.LAST_CONTINUED_AS_NEW:
        return run_id, reset_point(history.events, reset_type)
    started = history.events[0].workflow_execution_started_event_attributes
    base = started.continued_execution_run_id
    if not base:
        raise ValueError(f"run {run_id} of workflow {handle.id!r} did not continue from another run")
    previous = handle.client.get_workflow_handle(handle.id, run_id=base)
    return base, reset_point((await previous.fetch_history()).events, ResetType.LAST_WORKFLOW_TASK)


async def replay_check(handle: WorkflowHandle, run_id: str, event_id: int) -> None:
    """Have a live worker of the run's task queue replay its history before ``event_id`` with its
    current code; raise NondeterminismError with its message when that code does not fit."""
    client = handle.client
    desc = await client.get_workflow_handle(handle.id, run_id=run_id).describe()
    queue = await client.describe_task_queue(desc.task_queue)
    if not any(p.kind == "workflow" for p in queue.pollers):
        raise RuntimeError(
            f"no worker polls task queue {desc.task_queue!r} for workflow tasks: the replay check needs a "
            "running worker with the code the reset run will use"
        )
    target = client.get_workflow_handle(handle.id, run_id=run_id)
    try:
        answer = await target.query(REPLAY_CHECK_QUERY, event_id, result_type=dict)
    except RPCError as exc:
        if exc.status != grpc.StatusCode.DEADLINE_EXCEEDED:
            raise
        raise RuntimeError(
            f"no worker of task queue {desc.task_queue!r} answered the replay check: the replay check needs a "
            "running worker with the code the reset run will use"
        ) from exc
    if not answer.get("ok"):
        raise NondeterminismError(
            f"the reset was not made: the worker's current code does not replay the history before event "
            f"{event_id}: {answer.get('message', '')}"
        )


async def reset(
    handle: WorkflowHandle,
    *,
    reason: str,
    event_id: int | None,
    reset_type: ResetType | None,
    reapply_type: ResetReapplyType,
    reapply_exclude: Sequence[ResetReapplyExcludeType],
    check: bool,
    allow_pending_children: bool,
    request_id: str | None,
) -> str:
    """Reset the run (see :meth:`WorkflowHandle.reset`); the new run's id."""
    if not reason:
        raise ValueError("a reset needs a reason")
    run_id, point = await _base_and_point(handle, event_id, reset_type)
    if check:
        await replay_check(handle, run_id, point)
    client = handle.client
    resp = await client.call(
        client.service.ResetWorkflowExecution,
        service_pb2.ResetWorkflowExecutionRequest(
            namespace=client.namespace,
            workflow_execution=common_pb2.WorkflowExecution(workflow_id=handle.id, run_id=run_id),
            reason=reason,
            workflow_task_finish_event_id=point,
            request_id=request_id or str(uuid.uuid4()),
            reset_reapply_type=int(reapply_type),  # type: ignore[arg-type]
            reset_reapply_exclude_types=[int(x) for x in reapply_exclude],  # type: ignore[misc]
            identity=client.identity,
            allow_pending_children=allow_pending_children,
        ),
    )
    return str(resp.run_id)


__all__ = [
    "REPLAY_CHECK_QUERY",
    "STACK_TRACE_QUERY",
    "ResetReapplyExcludeType",
    "ResetReapplyType",
    "ResetType",
    "replay_check",
    "reset",
    "reset_point",
]
