"""Reading executions: describing a run, pages of its history (and the long poll for new events or
its close), and listing runs."""

from __future__ import annotations

import asyncio
import json
import logging

from google.protobuf.message import DecodeError

from wf.history.execution import RUNNING
from wf.history.runs import Runs
from wf.history.store import ExecutionRecord
from wf.history.visibility.listing import Visibility
from wf.v1 import common_pb2, history_pb2, internal_pb2, service_pb2

log = logging.getLogger(__name__)

H = history_pb2
C = common_pb2


class Reading:
    def __init__(self, runs: Runs, visibility: Visibility) -> None:
        self.runs = runs
        self.visibility = visibility

    async def describe(
        self, namespace: str, workflow_id: str, run_id: str
    ) -> service_pb2.DescribeWorkflowExecutionResponse:
        record = await self.runs.resolve_run(namespace, workflow_id, run_id)
        state = internal_pb2.MutableState.FromString(record.state)
        resp = service_pb2.DescribeWorkflowExecutionResponse(
            workflow_execution_info=execution_info(record),
            workflow_execution_timeout=state.workflow_execution_timeout,
            workflow_run_timeout=state.workflow_run_timeout,
            workflow_task_timeout=state.workflow_task_timeout,
        )
        self._describe_chain(resp.workflow_execution_info, record, state)
        for a in sorted(state.activities.values(), key=lambda a: a.scheduled_event_id):
            info = resp.pending_activities.add(
                activity_id=a.activity_id,
                activity_type=C.ActivityType(name=a.activity_type),
                state=(
                    service_pb2.PENDING_ACTIVITY_STATE_STARTED
                    if a.HasField("started_time")
                    else service_pb2.PENDING_ACTIVITY_STATE_BACKING_OFF
                    if a.backing_off
                    else service_pb2.PENDING_ACTIVITY_STATE_SCHEDULED
                ),
                attempt=a.attempt,
                maximum_attempts=a.retry_policy.maximum_attempts,
                scheduled_time=a.scheduled_time,
                last_worker_identity=a.last_worker_identity,
                scheduled_event_id=a.scheduled_event_id,
                task_queue=a.task_queue,
            )
            if a.HasField("started_time"):
                info.last_started_time.CopyFrom(a.started_time)
            if a.HasField("last_failure"):
                info.last_failure.CopyFrom(a.last_failure)
            if a.HasField("heartbeat_details"):
                info.heartbeat_details.CopyFrom(a.heartbeat_details)
            if a.HasField("last_heartbeat_time"):
                info.last_heartbeat_time.CopyFrom(a.last_heartbeat_time)
            if a.backing_off:
                info.next_attempt_schedule_time.CopyFrom(a.current_attempt_scheduled_time)
        if state.HasField("workflow_task") or state.HasField("last_workflow_task_failure"):
            wt = state.workflow_task
            pending = resp.pending_workflow_task
            pending.scheduled_event_id = wt.scheduled_event_id
            pending.attempt = wt.attempt
            if wt.HasField("scheduled_time"):
                pending.scheduled_time.CopyFrom(wt.scheduled_time)
            if wt.HasField("started_time"):
                pending.started_time.CopyFrom(wt.started_time)
            if state.HasField("last_workflow_task_failure"):
                pending.last_failure.CopyFrom(state.last_workflow_task_failure)
        _add_family(resp, state)
        if record.status != RUNNING:
            close = await self.runs.last_event(record)
            if close is not None:
                if close.HasField("workflow_execution_completed_event_attributes"):
                    resp.result.CopyFrom(close.workflow_execution_completed_event_attributes.result)
                elif close.HasField("workflow_execution_failed_event_attributes"):
                    resp.failure.CopyFrom(close.workflow_execution_failed_event_attributes.failure)
                elif close.HasField("workflow_execution_continued_as_new_event_attributes"):
                    resp.workflow_execution_info.new_execution_run_id = (
                        close.workflow_execution_continued_as_new_event_attributes.new_execution_run_id
                    )
        return resp

    @staticmethod
    def _describe_chain(
        info: service_pb2.WorkflowExecutionInfo, record: ExecutionRecord, state: internal_pb2.MutableState
    ) -> None:
        """What describe adds to a listed run's info: its chain's first run, its history's size, its
        memo and search attributes (the next run, for one that continued as new, comes from its
        close event)."""
        info.first_run_id = state.first_execution_run_id or record.run_id
        info.history_size_bytes = record.history_size
        if state.HasField("memo"):
            info.memo.CopyFrom(state.memo)
        if state.HasField("search_attributes"):
            info.search_attributes.CopyFrom(state.search_attributes)

    async def get_history(
        self, req: service_pb2.GetWorkflowExecutionHistoryRequest, max_wait: float
    ) -> service_pb2.GetWorkflowExecutionHistoryResponse:
        """A page of events; with ``wait_new_event``, a long poll for events past the page token."""
        ex = req.execution
        close_only = req.history_event_filter_type == service_pb2.HISTORY_EVENT_FILTER_TYPE_CLOSE_EVENT
        record = None
        if close_only and req.wait_new_event and ex.run_id:
            # A wait for the result: this process's copy of the run will do. If another server
            # closes the run, its notification drops the copy and wakes the wait, which registers
            # below with no await in between.
            record = self.runs.cache.get((req.namespace, ex.workflow_id, ex.run_id))
        if record is None:
            # From the database: another server may have moved the run on since this one cached it.
            record = await self.runs.resolve_run(req.namespace, ex.workflow_id, ex.run_id)
        key = (req.namespace, record.workflow_id, record.run_id)
        first = int.from_bytes(req.next_page_token, "big") if req.next_page_token else 1
        page = req.maximum_page_size if req.maximum_page_size > 0 else 1000
        loop = asyncio.get_running_loop()
        deadline = loop.time() + max_wait
        while True:
            closed = record.status != RUNNING
            if close_only:
                if closed:
                    close = await self.runs.last_event(record)
                    history = H.History(events=[close] if close is not None else [])
                    return service_pb2.GetWorkflowExecutionHistoryResponse(history=history, run_id=record.run_id)
                events = []
            else:
                events = await self.runs.store.read_events(*key, first, page) if first < record.next_event_id else []
            if events or not req.wait_new_event or closed:
                history = H.History()
                for data in events:
                    history.events.add().MergeFromString(data)
                last = history.events[-1].event_id if events else first - 1
                more = last + 1 < record.next_event_id or (not closed and req.wait_new_event)
                token = (last + 1).to_bytes(8, "big") if more else b""
                return service_pb2.GetWorkflowExecutionHistoryResponse(
                    history=history, next_page_token=token, run_id=record.run_id
                )
            remaining = deadline - loop.time()
            if remaining <= 0 or self.runs.stopping:
                token = first.to_bytes(8, "big")
                return service_pb2.GetWorkflowExecutionHistoryResponse(next_page_token=token, run_id=record.run_id)
            # Another server may change the run without telling us: look again now and then.
            woken = await self.runs.wait_for_change(key, min(remaining, 5.0), close_only=close_only)
            # Woken by a commit in this process, the cache holds it; otherwise ask the database.
            cached = self.runs.cache.get(key) if woken else None
            record = cached or await self.runs.store.load(*key) or record

    async def list_executions(
        self, namespace: str, query: str, page_size: int, token: bytes
    ) -> service_pb2.ListWorkflowExecutionsResponse:
        """A page of the runs a list query matches (``wf.history.visibility``), each described as
        describe does but for its pending work."""
        records, next_token = await self.visibility.list_page(namespace, query, page_size, token)
        resp = service_pb2.ListWorkflowExecutionsResponse(next_page_token=next_token)
        for record in records:
            info = resp.executions.add()
            info.CopyFrom(execution_info(record))
            self._describe_chain(info, record, internal_pb2.MutableState.FromString(record.state))
        return resp

    async def count_executions(self, namespace: str, query: str) -> service_pb2.CountWorkflowExecutionsResponse:
        """How many runs a list query matches, counted in the database; per status with GROUP BY."""
        total, groups = await self.visibility.count(namespace, query)
        resp = service_pb2.CountWorkflowExecutionsResponse(count=total)
        for status, n in groups:
            group = resp.groups.add(count=n)
            group.group_values.add(metadata={"encoding": b"json/plain"}, data=json.dumps(status).encode())
        return resp


def _add_family(resp: service_pb2.DescribeWorkflowExecutionResponse, state: internal_pb2.MutableState) -> None:
    """A child's parent and root runs, and the children this run waits for."""
    info = resp.workflow_execution_info
    if state.HasField("parent_execution"):
        info.parent_namespace = state.parent_namespace
        info.parent_execution.CopyFrom(state.parent_execution)
    if state.HasField("root_execution"):
        info.root_execution.CopyFrom(state.root_execution)
    for initiated_id in sorted(state.children):
        child = state.children[initiated_id]
        resp.pending_children.add(
            workflow_id=child.workflow_id,
            run_id=child.run_id,
            workflow_type_name=child.workflow_type,
            initiated_id=initiated_id,
            parent_close_policy=child.parent_close_policy,
            namespace=child.namespace,
        )


def execution_info(record: ExecutionRecord) -> service_pb2.WorkflowExecutionInfo:
    info = service_pb2.WorkflowExecutionInfo(
        execution=C.WorkflowExecution(workflow_id=record.workflow_id, run_id=record.run_id),
        type=C.WorkflowType(name=record.workflow_type),
        status=record.status,  # type: ignore[arg-type]
        history_length=record.next_event_id - 1,
        task_queue=record.task_queue,
    )
    info.start_time.FromDatetime(record.start_time)
    if record.close_time is not None:
        info.close_time.FromDatetime(record.close_time)
        info.execution_duration.FromTimedelta(record.close_time - record.start_time)
    describe_cost(info, record)
    if record.parent_workflow_id:
        info.parent_execution.workflow_id = record.parent_workflow_id
        info.parent_execution.run_id = record.parent_run_id or ""
    if record.root_workflow_id:
        info.root_execution.workflow_id = record.root_workflow_id
        info.root_execution.run_id = record.root_run_id or ""
    return info


def describe_cost(info: service_pb2.WorkflowExecutionInfo, record: ExecutionRecord) -> None:
    """What the run cost (``wf.history.cost``), and the reset that made it, if one did: listed and
    described alike, so a list carries every run's cost."""
    state = internal_pb2.MutableState()
    try:
        state.ParseFromString(record.state or b"")
    except DecodeError:
        # A row whose state cannot be read still lists with what its columns hold: one damaged run
        # must not make every list of its namespace fail (describing it says what is wrong).
        log.warning("run %s/%s: its state cannot be read; listed without its cost", record.workflow_id, record.run_id)
    info.history_size_bytes = record.history_size
    info.state_transition_count = record.db_version
    c = state.cost
    info.cost.CopyFrom(
        service_pb2.WorkflowExecutionCost(
            workflow_tasks=c.workflow_tasks,
            workflow_task_failures=c.workflow_task_failures,
            activity_attempts=c.activity_attempts,
            payload_bytes_in=c.payload_bytes_in,
            payload_bytes_out=c.payload_bytes_out,
        )
    )
    info.reset_base_run_id = state.reset_base_run_id
    info.reset_event_id = state.reset_event_id
    info.reset_reason = state.reset_reason
