"""Schedules through the client: create, the handle's calls, descriptions and the list, in
temporalio.client's names (``ScheduleHandle``, ``ScheduleDescription``, ``ScheduleListDescription``…).

Every call is one RPC of the schedule service (``CreateSchedule``, ``DescribeSchedule``,
``UpdateSchedule``, ``PatchSchedule``, ``DeleteSchedule``, ``ListSchedules``), except ``update``,
which reads the schedule, lets the caller's function change it, and writes it back on condition that
nobody changed it since (the description's conflict token); when somebody did, it reads and asks
again.
"""

from __future__ import annotations

import inspect
import uuid
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any

import grpc

from wf.v1 import common_pb2, schedule_pb2, service_pb2
from worker_sdk._converter import DataConverter, decode_named_payloads, encode_named_payloads
from worker_sdk._schedules import (
    Schedule,
    ScheduleBackfill,
    ScheduleOverlapPolicy,
    ScheduleSpec,
    from_timestamp,
    overlap_to_proto,
    timestamp,
)
from worker_sdk._visibility import decode_search_attributes, search_attribute_payloads
from worker_sdk.errors import RPCError, ScheduleAlreadyRunningError

if TYPE_CHECKING:
    from worker_sdk._client import Client

# How many times ``update`` reads and asks again when the schedule changed under it.
_UPDATE_ATTEMPTS = 20


# -- what describe and list return -------------------------------------------------------------


class ScheduleActionExecution:
    """A run a schedule started; :class:`ScheduleActionExecutionStartWorkflow` is the one kind."""


@dataclass
class ScheduleActionExecutionStartWorkflow(ScheduleActionExecution):
    """A workflow a schedule started: its id (``<action id>-<nominal time>``) and first run."""

    workflow_id: str
    first_execution_run_id: str

    @staticmethod
    def _from_proto(e: common_pb2.WorkflowExecution) -> ScheduleActionExecutionStartWorkflow:
        return ScheduleActionExecutionStartWorkflow(workflow_id=e.workflow_id, first_execution_run_id=e.run_id)


@dataclass
class ScheduleActionResult:
    """One action taken: its time (``scheduled_at``, with jitter), when it really started, and the run."""

    scheduled_at: datetime
    started_at: datetime
    action: ScheduleActionExecution

    @staticmethod
    def _from_proto(r: schedule_pb2.ScheduleActionResult) -> ScheduleActionResult:
        return ScheduleActionResult(
            scheduled_at=from_timestamp(r.schedule_time),
            started_at=from_timestamp(r.actual_time),
            action=ScheduleActionExecutionStartWorkflow._from_proto(r.start_workflow_result),
        )


@dataclass
class ScheduleInfo:
    """What a schedule has done: counts, the runs it has running, its last actions (oldest first),
    and the next times it acts."""

    num_actions: int
    num_actions_missed_catchup_window: int
    num_actions_skipped_overlap: int
    running_actions: Sequence[ScheduleActionExecution]
    recent_actions: Sequence[ScheduleActionResult]
    next_action_times: Sequence[datetime]
    created_at: datetime
    last_updated_at: datetime | None

    @staticmethod
    def _from_proto(i: schedule_pb2.ScheduleInfo) -> ScheduleInfo:
        return ScheduleInfo(
            num_actions=i.action_count,
            num_actions_missed_catchup_window=i.missed_catchup_window,
            num_actions_skipped_overlap=i.overlap_skipped,
            running_actions=[ScheduleActionExecutionStartWorkflow._from_proto(e) for e in i.running_workflows],
            recent_actions=[ScheduleActionResult._from_proto(r) for r in i.recent_actions],
            next_action_times=[from_timestamp(t) for t in i.future_action_times],
            created_at=from_timestamp(i.create_time),
            last_updated_at=from_timestamp(i.update_time) if i.HasField("update_time") else None,
        )


@dataclass
class ScheduleDescription:
    """``handle.describe()``: the schedule as stored (cron expressions compiled into calendars,
    ``@every`` into intervals), its info, and its own memo and search attributes."""

    id: str
    schedule: Schedule
    info: ScheduleInfo
    #: The schedule's own search attributes (not its runs'), typed as the server keeps them.
    search_attributes: dict[str, Any]
    data_converter: DataConverter = field(repr=False, compare=False)
    raw_description: service_pb2.DescribeScheduleResponse = field(repr=False, compare=False)

    @staticmethod
    def _from_proto(
        id: str, resp: service_pb2.DescribeScheduleResponse, converter: DataConverter
    ) -> ScheduleDescription:
        return ScheduleDescription(
            id=id,
            schedule=Schedule._from_proto(resp.schedule),
            info=ScheduleInfo._from_proto(resp.info),
            search_attributes=decode_search_attributes(resp.search_attributes.indexed_fields),
            data_converter=converter,
            raw_description=resp,
        )

    async def memo(self) -> Mapping[str, Any]:
        """The schedule's own memo, each value decoded without a type hint."""
        return decode_named_payloads(self.data_converter, self.raw_description.memo.fields)

    async def memo_value(self, key: str, default: Any = ..., *, type_hint: Any = None) -> Any:
        """One field of the schedule's memo (``default`` when absent; KeyError without one)."""
        payload = self.raw_description.memo.fields.get(key)
        if payload is None:
            if default is ...:
                raise KeyError(f"the schedule's memo has no field {key!r}")
            return default
        return self.data_converter.payload_converter.from_payload(payload, type_hint)


class ScheduleListAction:
    """What a listed schedule does; :class:`ScheduleListActionStartWorkflow` is the one kind."""


@dataclass
class ScheduleListActionStartWorkflow(ScheduleListAction):
    workflow: str


@dataclass
class ScheduleListState:
    note: str | None
    paused: bool


@dataclass
class ScheduleListSchedule:
    """The part of a schedule a list shows: the workflow type it starts, its spec, its state."""

    action: ScheduleListAction
    spec: ScheduleSpec
    state: ScheduleListState


@dataclass
class ScheduleListInfo:
    recent_actions: Sequence[ScheduleActionResult]
    next_action_times: Sequence[datetime]


@dataclass
class ScheduleListDescription:
    """One schedule of ``client.list_schedules()``."""

    id: str
    schedule: ScheduleListSchedule | None
    info: ScheduleListInfo | None
    search_attributes: dict[str, Any]
    data_converter: DataConverter = field(repr=False, compare=False)
    raw_entry: schedule_pb2.ScheduleListEntry = field(repr=False, compare=False)

    @staticmethod
    def _from_proto(e: schedule_pb2.ScheduleListEntry, converter: DataConverter) -> ScheduleListDescription:
        has_info = e.HasField("info")
        i = e.info
        return ScheduleListDescription(
            id=e.schedule_id,
            schedule=ScheduleListSchedule(
                action=ScheduleListActionStartWorkflow(workflow=i.workflow_type.name),
                spec=ScheduleSpec._from_proto(i.spec),
                state=ScheduleListState(note=i.notes or None, paused=i.paused),
            ) if has_info else None,
            info=ScheduleListInfo(
                recent_actions=[ScheduleActionResult._from_proto(r) for r in i.recent_actions],
                next_action_times=[from_timestamp(t) for t in i.future_action_times],
            ) if has_info else None,
            search_attributes=decode_search_attributes(e.search_attributes.indexed_fields),
            data_converter=converter,
            raw_entry=e,
        )

    async def memo(self) -> Mapping[str, Any]:
        """The schedule's own memo, each value decoded without a type hint."""
        return decode_named_payloads(self.data_converter, self.raw_entry.memo.fields)


@dataclass
class ScheduleUpdateInput:
    """What ``handle.update``'s function is given: the schedule as it is now."""

    description: ScheduleDescription


@dataclass
class ScheduleUpdate:
    """What ``handle.update``'s function returns: the schedule to store, and (when not None) the
    schedule's own search attributes to replace its current ones with."""

    schedule: Schedule
    search_attributes: Mapping[str, Any] | None = None


# -- the calls ----------------------------------------------------------------------------------------


def _check_limits(schedule: Schedule) -> None:
    """As temporalio: ``limited_actions`` goes with a non-zero ``remaining_actions`` and only with it."""
    state = schedule.state
    if state.limited_actions and not state.remaining_actions:
        raise ValueError("Must set limited actions to false if there are no remaining actions set")
    if not state.limited_actions and state.remaining_actions:
        raise ValueError("Must set limited actions to true if there are remaining actions set")


async def create_schedule(
    client: Client,
    id: str,
    schedule: Schedule,
    *,
    trigger_immediately: bool,
    backfill: Sequence[ScheduleBackfill],
    memo: Mapping[str, Any] | None,
    search_attributes: Mapping[str, Any] | None,
) -> ScheduleHandle:
    _check_limits(schedule)
    req = service_pb2.CreateScheduleRequest(
        namespace=client.namespace,
        schedule_id=id,
        schedule=await schedule._to_proto(client.data_converter),
        identity=client.identity,
        # One id for every retry of this call: a lost answer does not turn into ALREADY_EXISTS.
        request_id=str(uuid.uuid4()),
    )
    if trigger_immediately:
        req.initial_patch.trigger_immediately.overlap_policy = overlap_to_proto(schedule.policy.overlap)
    if backfill:
        req.initial_patch.backfill_request.extend(b._to_proto() for b in backfill)
    if memo:
        for name, payload in encode_named_payloads(client.data_converter, memo).items():
            req.memo.fields[name].CopyFrom(payload)
    if search_attributes:
        for name, payload in search_attribute_payloads(search_attributes).items():
            req.search_attributes.indexed_fields[name].CopyFrom(payload)
    try:
        await client.call(client.service.CreateSchedule, req)
    except RPCError as exc:
        if exc.status == grpc.StatusCode.ALREADY_EXISTS:
            raise ScheduleAlreadyRunningError(f"Schedule already running: {id!r}") from exc
        raise
    return ScheduleHandle(client, id)


class ScheduleHandle:
    """A schedule by id: describe, pause, unpause, trigger, backfill, update or delete it."""

    def __init__(self, client: Client, id: str) -> None:
        self._client = client
        self.id = id

    async def _patch(self, patch: schedule_pb2.SchedulePatch) -> None:
        c = self._client
        await c.call(c.service.PatchSchedule, service_pb2.PatchScheduleRequest(
            namespace=c.namespace, schedule_id=self.id, patch=patch, identity=c.identity,
            request_id=str(uuid.uuid4()),
        ))

    async def _describe_raw(self) -> service_pb2.DescribeScheduleResponse:
        c = self._client
        return await c.call(
            c.service.DescribeSchedule, service_pb2.DescribeScheduleRequest(namespace=c.namespace, schedule_id=self.id)
        )

    async def describe(self) -> ScheduleDescription:
        """The schedule as stored, with what it has done and when it acts next."""
        return ScheduleDescription._from_proto(self.id, await self._describe_raw(), self._client.data_converter)

    async def pause(self, *, note: str | None = None) -> None:
        """Stop acting until unpaused; times that pass meanwhile are skipped, not counted."""
        await self._patch(schedule_pb2.SchedulePatch(pause=note or "Paused via Python SDK"))

    async def unpause(self, *, note: str | None = None) -> None:
        await self._patch(schedule_pb2.SchedulePatch(unpause=note or "Unpaused via Python SDK"))

    async def trigger(self, *, overlap: ScheduleOverlapPolicy | None = None) -> None:
        """Take the action now (also while paused, which it stays), with ``overlap`` (None: the
        schedule's own policy)."""
        await self._patch(schedule_pb2.SchedulePatch(
            trigger_immediately=schedule_pb2.TriggerImmediatelyRequest(overlap_policy=overlap_to_proto(overlap))
        ))

    async def backfill(self, *backfill: ScheduleBackfill) -> None:
        """Take every time of each window (both ends included) as if it were now."""
        if not backfill:
            raise ValueError("At least one backfill required")
        await self._patch(schedule_pb2.SchedulePatch(backfill_request=[b._to_proto() for b in backfill]))

    async def update(
        self,
        updater: Callable[[ScheduleUpdateInput], ScheduleUpdate | None | Awaitable[ScheduleUpdate | None]],
    ) -> None:
        """Change the schedule: ``updater`` (a function or a coroutine function) gets its current
        description and returns the :class:`ScheduleUpdate` to store, or None to leave it. The write
        is refused when the schedule changed after it was read; then it is read again and ``updater``
        called again, so it may run more than once. The schedule's info (counts, recent actions)
        stays."""
        c = self._client
        for _ in range(_UPDATE_ATTEMPTS):
            raw = await self._describe_raw()
            result = updater(ScheduleUpdateInput(ScheduleDescription._from_proto(self.id, raw, c.data_converter)))
            update = await result if inspect.isawaitable(result) else result
            if update is None:
                return
            if not isinstance(update, ScheduleUpdate):
                raise TypeError(f"the updater returned {type(update).__name__}, not a ScheduleUpdate or None")
            _check_limits(update.schedule)
            req = service_pb2.UpdateScheduleRequest(
                namespace=c.namespace, schedule_id=self.id,
                schedule=await update.schedule._to_proto(c.data_converter),
                conflict_token=raw.conflict_token, identity=c.identity, request_id=str(uuid.uuid4()),
            )
            if update.search_attributes is not None:
                req.search_attributes.SetInParent()  # set, even empty: replace the schedule's own
                for name, payload in search_attribute_payloads(update.search_attributes).items():
                    req.search_attributes.indexed_fields[name].CopyFrom(payload)
            try:
                await c.call(c.service.UpdateSchedule, req)
                return
            except RPCError as exc:
                # A conflict is FAILED_PRECONDITION with the token moved on; any other refusal stands.
                if exc.status != grpc.StatusCode.FAILED_PRECONDITION or not raw.conflict_token:
                    raise
                if (await self._describe_raw()).conflict_token == raw.conflict_token:
                    raise
        raise RPCError(
            f"schedule {self.id!r} changed under every one of {_UPDATE_ATTEMPTS} attempts to update it",
            grpc.StatusCode.ABORTED,
        )

    async def delete(self) -> None:
        """Delete the schedule; the runs it started keep running."""
        c = self._client
        await c.call(c.service.DeleteSchedule, service_pb2.DeleteScheduleRequest(
            namespace=c.namespace, schedule_id=self.id, identity=c.identity,
        ))

    async def list_matching_times(self, start_at: datetime, end_at: datetime) -> list[datetime]:
        """The times the schedule's spec matches from ``start_at`` to ``end_at`` (wf's addition,
        Temporal's ``ListScheduleMatchingTimes``; ``wf schedule list-matching-times``)."""
        c = self._client
        resp = await c.call(c.service.ListScheduleMatchingTimes, service_pb2.ListScheduleMatchingTimesRequest(
            namespace=c.namespace, schedule_id=self.id, start_time=timestamp(start_at), end_time=timestamp(end_at),
        ))
        return [from_timestamp(t) for t in resp.start_time]


class ScheduleAsyncIterator:
    """``async for s in await client.list_schedules()``: pages are fetched as the iteration goes."""

    def __init__(self, client: Client, query: str | None, page_size: int, next_page_token: bytes | None) -> None:
        self._client = client
        self._query = query or ""
        self._page_size = page_size
        self._next_page_token = next_page_token
        self._current_page: list[ScheduleListDescription] | None = None
        self._current_page_index = 0

    @property
    def current_page_index(self) -> int:
        """The index, in the current page, of the entry the next iteration returns."""
        return self._current_page_index

    @property
    def current_page(self) -> Sequence[ScheduleListDescription] | None:
        return self._current_page

    @property
    def next_page_token(self) -> bytes | None:
        return self._next_page_token

    async def fetch_next_page(self, *, page_size: int | None = None) -> None:
        c = self._client
        resp = await c.call(c.service.ListSchedules, service_pb2.ListSchedulesRequest(
            namespace=c.namespace, maximum_page_size=page_size or self._page_size,
            next_page_token=self._next_page_token or b"", query=self._query,
        ))
        self._current_page = [ScheduleListDescription._from_proto(e, c.data_converter) for e in resp.schedules]
        self._current_page_index = 0
        self._next_page_token = resp.next_page_token or None

    def __aiter__(self) -> ScheduleAsyncIterator:
        return self

    async def __anext__(self) -> ScheduleListDescription:
        while True:
            if self._current_page is None:
                await self.fetch_next_page()
                continue
            if self._current_page_index >= len(self._current_page):
                if self._next_page_token is None:
                    raise StopAsyncIteration
                await self.fetch_next_page()
                continue
            entry = self._current_page[self._current_page_index]
            self._current_page_index += 1
            return entry
