"""The history checker (tests/history_check.py) passes histories the server writes and names what is
wrong in broken ones, so the fuzz and chaos tests that rely on it can fail."""

from __future__ import annotations

from tests.helpers import (
    complete_workflow,
    complete_workflow_task,
    fetch_history,
    new_id,
    next_workflow_task,
    start_request,
)
from tests.history_check import check_events
from wf.v1 import common_pb2, history_pb2, service_pb2_grpc

H = history_pb2
RUNNING = common_pb2.WORKFLOW_EXECUTION_STATUS_RUNNING
COMPLETED = common_pb2.WORKFLOW_EXECUTION_STATUS_COMPLETED


def event(event_id: int, event_type: int, **attrs: object) -> H.HistoryEvent:
    e = H.HistoryEvent(event_id=event_id, event_type=event_type)
    field = H.EventType.Name(event_type).removeprefix("EVENT_TYPE_").lower() + "_event_attributes"
    getattr(e, field).SetInParent()
    for k, v in attrs.items():
        setattr(getattr(e, field), k, v)
    return e


def started_task() -> list[H.HistoryEvent]:
    return [
        event(1, H.EVENT_TYPE_WORKFLOW_EXECUTION_STARTED),
        event(2, H.EVENT_TYPE_WORKFLOW_TASK_SCHEDULED),
        event(3, H.EVENT_TYPE_WORKFLOW_TASK_STARTED, scheduled_event_id=2),
        event(4, H.EVENT_TYPE_WORKFLOW_TASK_COMPLETED, scheduled_event_id=2, started_event_id=3),
    ]


async def test_a_history_the_server_wrote_is_valid(stub: service_pb2_grpc.WorkflowServiceStub, task_queue: str) -> None:
    wid = new_id()
    await stub.StartWorkflowExecution(start_request(wid, task_queue), timeout=10)
    assert check_events((await fetch_history(stub, wid)).events, RUNNING) == []
    task = await next_workflow_task(stub, task_queue)
    await complete_workflow_task(stub, task.task_token, complete_workflow(b"ok"))
    events = (await fetch_history(stub, wid)).events
    assert check_events(events, COMPLETED) == []
    assert check_events(events, RUNNING) == [
        "the run's status is WORKFLOW_EXECUTION_STATUS_RUNNING but its history says WORKFLOW_EXECUTION_STATUS_COMPLETED"
    ]


def test_broken_histories_are_named() -> None:
    ok = started_task()
    assert check_events(ok, RUNNING) == []
    assert check_events([], RUNNING) == ["the history is empty"]
    gap = [*ok, event(6, H.EVENT_TYPE_TIMER_STARTED, timer_id="t")]
    assert any("not contiguous" in p for p in check_events(gap))
    orphan = [*ok, event(5, H.EVENT_TYPE_ACTIVITY_TASK_STARTED, scheduled_event_id=4)]
    assert any("no earlier ActivityTaskScheduled" in p for p in check_events(orphan))
    twice = [*ok, event(5, H.EVENT_TYPE_TIMER_STARTED, timer_id="t", workflow_task_completed_event_id=4),
             event(6, H.EVENT_TYPE_TIMER_FIRED, timer_id="t", started_event_id=5),
             event(7, H.EVENT_TYPE_TIMER_FIRED, timer_id="t", started_event_id=5)]
    assert any("ended twice" in p for p in check_events(twice))
    after_close = [*ok, event(5, H.EVENT_TYPE_WORKFLOW_EXECUTION_COMPLETED, workflow_task_completed_event_id=4),
                   event(6, H.EVENT_TYPE_WORKFLOW_TASK_SCHEDULED)]
    assert any("after the close event 5" in p for p in check_events(after_close, COMPLETED))
    wrong_attrs = [*ok, event(5, H.EVENT_TYPE_WORKFLOW_TASK_SCHEDULED)]
    wrong_attrs[-1].timer_fired_event_attributes.timer_id = "x"
    assert any("instead of workflow_task_scheduled_event_attributes" in p for p in check_events(wrong_attrs))
    completed_twice = [*ok, event(5, H.EVENT_TYPE_WORKFLOW_TASK_COMPLETED, scheduled_event_id=2, started_event_id=3)]
    assert any("ended twice" in p for p in check_events(completed_twice))
