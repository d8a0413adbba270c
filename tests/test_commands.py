"""The commands of a workflow task: one handler per command type, and the execution's transitions
that each one's events and rows go through.

The registry is checked against the wire contract (every command the proto can carry has a handler
named after it); the refusals of malformed batches keep their messages over real gRPC; and the
execution's transitions are checked on what one change would write: its events and its rows.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import grpc
import pytest

from tests.helpers import (
    Stub,
    complete_workflow,
    dur,
    event_types,
    events_of,
    fetch_history,
    new_id,
    next_workflow_task,
    payloads,
    rpc_error,
    schedule_activity,
    start_request,
)
from wf.history import commands
from wf.history.execution import Execution
from wf.history.limits import Limits
from wf.history.responses import CompletionResult
from wf.history.store import ExecutionRecord
from wf.history.tasks import TaskKind, TimerKind
from wf.v1 import command_pb2, common_pb2, history_pb2, service_pb2

S = service_pb2
NS = "default"


# -- the registry ------------------------------------------------------------------------------------


def test_every_command_the_wire_can_carry_has_one_handler_named_after_it() -> None:
    oneof = command_pb2.Command.DESCRIPTOR.oneofs_by_name["attributes"]
    assert set(commands.HANDLERS) == {f.name for f in oneof.fields}
    for attribute, handler in commands.HANDLERS.items():
        type_name = command_pb2.CommandType.Name(handler.command_type)
        # schedule_activity_task_command_attributes <-> COMMAND_TYPE_SCHEDULE_ACTIVITY_TASK
        assert attribute == type_name.removeprefix("COMMAND_TYPE_").lower() + "_command_attributes"
    closing = {a for a, h in commands.HANDLERS.items() if h.closes}
    assert closing == {
        "complete_workflow_execution_command_attributes",
        "fail_workflow_execution_command_attributes",
        "cancel_workflow_execution_command_attributes",
        "continue_as_new_workflow_execution_command_attributes",
    }


def test_a_command_is_described_by_its_type_and_what_tells_it_apart() -> None:
    described = commands.describe(schedule_activity("a1", "Greet"))
    assert described == "COMMAND_TYPE_SCHEDULE_ACTIVITY_TASK(activity 'Greet', id 'a1')"
    assert commands.describe(complete_workflow()) == "COMMAND_TYPE_COMPLETE_WORKFLOW_EXECUTION"


async def _refused(stub: Stub, task_queue: str, *batch: command_pb2.Command) -> str:
    wid = new_id()
    await stub.StartWorkflowExecution(start_request(wid, task_queue), timeout=10)
    task = await next_workflow_task(stub, task_queue)
    err = await rpc_error(
        stub.RespondWorkflowTaskCompleted(
            S.RespondWorkflowTaskCompletedRequest(task_token=task.task_token, commands=batch), timeout=10
        )
    )
    assert err.code() == grpc.StatusCode.INVALID_ARGUMENT
    history = await fetch_history(stub, wid)
    assert events_of(history, "WorkflowTaskFailed")
    assert not events_of(history, "WorkflowTaskCompleted")  # a refused batch records none of it
    return str(err.details())


@pytest.mark.parametrize(
    ("batch", "message"),
    [
        (
            [command_pb2.Command(command_type=command_pb2.COMMAND_TYPE_CONTINUE_AS_NEW_WORKFLOW_EXECUTION)],
            "command 0 has no attributes (command type 10)",
        ),
        ([complete_workflow(), schedule_activity("a1")], "command 0 closes the workflow but is not the last command"),
        ([schedule_activity("a1"), schedule_activity("a1")], "command 1: activity id 'a1' is already in use"),
        (
            [
                command_pb2.Command(
                    command_type=command_pb2.COMMAND_TYPE_CANCEL_TIMER,
                    cancel_timer_command_attributes=command_pb2.CancelTimerCommandAttributes(timer_id="t"),
                )
            ],
            "command 0: no pending timer 't' to cancel",
        ),
    ],
)
async def test_a_refused_batch_is_named_by_its_first_refused_command(
    stub: Stub, task_queue: str, batch: list[command_pb2.Command], message: str
) -> None:
    assert message in await _refused(stub, task_queue, *batch)


async def test_a_timer_started_and_cancelled_in_one_task_is_recorded_in_order(stub: Stub, task_queue: str) -> None:
    wid = new_id()
    await stub.StartWorkflowExecution(start_request(wid, task_queue), timeout=10)
    task = await next_workflow_task(stub, task_queue)
    start = command_pb2.Command(
        command_type=command_pb2.COMMAND_TYPE_START_TIMER,
        start_timer_command_attributes=command_pb2.StartTimerCommandAttributes(
            timer_id="t", start_to_fire_timeout=dur(60)
        ),
    )
    cancel = command_pb2.Command(
        command_type=command_pb2.COMMAND_TYPE_CANCEL_TIMER,
        cancel_timer_command_attributes=command_pb2.CancelTimerCommandAttributes(timer_id="t"),
    )
    await stub.RespondWorkflowTaskCompleted(
        S.RespondWorkflowTaskCompletedRequest(
            task_token=task.task_token, commands=[start, cancel, complete_workflow()]
        ),
        timeout=10,
    )
    assert event_types(await fetch_history(stub, wid))[-4:] == [
        "WorkflowTaskCompleted", "TimerStarted", "TimerCanceled", "WorkflowExecutionCompleted",
    ]


# -- the execution's transitions -------------------------------------------------------------------------


def _execution(now: datetime) -> Execution:
    record = ExecutionRecord(
        namespace=NS, workflow_id="wf-1", run_id="run-1", workflow_type="W", task_queue="main",
        status=common_pb2.WORKFLOW_EXECUTION_STATUS_RUNNING, start_time=now, close_time=None, request_id="r",
        next_event_id=1, history_size=0, db_version=0, state=b"",
    )
    ex = Execution(record, now, Limits(), new=True)
    ex.state.workflow_task_timeout.FromTimedelta(timedelta(seconds=10))
    ex.add_workflow_execution_started(history_pb2.WorkflowExecutionStartedEventAttributes())
    return ex


def _types(ex: Execution) -> list[str]:
    return [history_pb2.EventType.Name(e.event_type).removeprefix("EVENT_TYPE_") for e in ex.events]


def _completed_task(ex: Execution) -> int:
    """Schedule, start and complete the first workflow task; the id commands refer to."""
    ex.add_workflow_task_scheduled()
    task = ex.scheduled_workflow_task()
    assert task is not None
    ex.start_new_task(task, "w1")
    return ex.add_workflow_task_completed(ex.state.workflow_task, "w1", "", timedelta(seconds=5))


def test_each_transition_appends_its_event_and_the_rows_that_follow() -> None:
    now = datetime(2026, 1, 1, tzinfo=UTC)
    ex = _execution(now)
    completed_id = _completed_task(ex)
    result = CompletionResult()
    commands.apply(
        ex,
        [schedule_activity("a1", schedule_to_start=30), schedule_activity("a2", schedule_to_close=60)],
        commands.Applying(completed_id, "w1", result),
    )
    mutation = ex.mutation()
    assert _types(ex) == [
        "WORKFLOW_EXECUTION_STARTED", "WORKFLOW_TASK_SCHEDULED", "WORKFLOW_TASK_STARTED", "WORKFLOW_TASK_COMPLETED",
        "ACTIVITY_TASK_SCHEDULED", "ACTIVITY_TASK_SCHEDULED",
    ]
    # The workflow task started in this change left no row; each activity waits in its queue.
    assert [(t.kind, t.scheduled_event_id) for t in mutation.tasks] == [(TaskKind.ACTIVITY, 5), (TaskKind.ACTIVITY, 6)]
    timers = {t.key: (t.kind, t.fire_at - now) for t in mutation.timers}
    assert timers == {
        "a5:s2s": (TimerKind.ACTIVITY_SCHEDULE_TO_START, timedelta(seconds=30)),
        "a6:s2c": (TimerKind.ACTIVITY_SCHEDULE_TO_CLOSE, timedelta(seconds=60)),
    }
    assert "wft" in mutation.deleted_timer_keys  # the completed task's timeout is dropped


def test_the_workflow_task_a_change_scheduled_is_known_whatever_rows_follow_it() -> None:
    now = datetime(2026, 1, 1, tzinfo=UTC)
    ex = _execution(now)
    completed_id = _completed_task(ex)
    applying = commands.Applying(completed_id, "w1", CompletionResult())
    commands.apply(ex, [schedule_activity("a1"), schedule_activity("a2")], applying)
    a1, a2 = (ex.state.activities[sid] for sid in (5, 6))
    for a in (a1, a2):
        ex.start_new_task(next(t for t in ex.new_tasks() if t.scheduled_event_id == a.scheduled_event_id), "act")
    ex.add_activity_task_completed(a1, payloads(b"r"), "act")
    wft = ex.scheduled_workflow_task()
    # The second activity fails and is retried: its row comes after the workflow task's.
    ex.add_activity_task_failed(a2, common_pb2.Failure(message="boom"), "act")
    ex.add_activity_retry_due(a2)
    assert wft is not None and ex.scheduled_workflow_task() == wft
    assert [t.kind for t in ex.new_tasks()] == [TaskKind.WORKFLOW, TaskKind.ACTIVITY]
    started = ex.start_new_task(wft, "w1")
    assert [t.kind for t in ex.new_tasks()] == [TaskKind.ACTIVITY]
    assert ex.scheduled_workflow_task() is None
    assert _types(ex)[-1] == "WORKFLOW_TASK_STARTED" and not isinstance(started, type(a1))


def test_closing_the_run_drops_every_row_it_would_have_written() -> None:
    now = datetime(2026, 1, 1, tzinfo=UTC)
    ex = _execution(now)
    completed_id = _completed_task(ex)
    commands.apply(
        ex,
        [schedule_activity("a1"), complete_workflow(b"done")],
        commands.Applying(completed_id, "w1", CompletionResult()),
    )
    mutation = ex.mutation()
    assert mutation.closes and not mutation.tasks and not mutation.timers
    assert _types(ex)[-1] == "WORKFLOW_EXECUTION_COMPLETED"
    assert ex.record.status == common_pb2.WORKFLOW_EXECUTION_STATUS_COMPLETED
