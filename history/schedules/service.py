"""The operations on schedules the frontend calls: create, describe, update, patch (pause, unpause,
trigger, backfill), delete, list and the matching times.

Each change is one transaction on the schedule's row (``ScheduleStore.change``), after which every
server's loop is told to look (``Scheduler.changed``): a trigger, a backfill or an unpause is taken
by the next tick, which commits the runs it starts with the schedule's state.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from google.protobuf.timestamp_pb2 import Timestamp
from sqlalchemy import and_, bindparam, select
from sqlalchemy.sql import visitors
from sqlalchemy.sql.elements import ColumnElement

from wf.history.errors import AlreadyExists, FailedPrecondition, InvalidArgument, NotFound
from wf.history.operations.cross_run import CrossRun
from wf.history.operations.signals import Signals
from wf.history.runs import Runs
from wf.history.schedules import actions
from wf.history.schedules.closes import ScheduleClosed
from wf.history.schedules.scheduler import Scheduler, jittered_times
from wf.history.schedules.spec import SpecTimes, canonical_spec
from wf.history.schedules.store import ScheduleRow, ScheduleStore, search_document
from wf.history.schema import executions, schedules
from wf.history.statements import Statement
from wf.history.tasks import TimerKind
from wf.history.visibility.attributes import BOOL, KEYWORD, typed
from wf.history.visibility.query import compile_query
from wf.history.visibility.registry import Registry
from wf.v1 import common_pb2, internal_pb2, schedule_pb2, service_pb2

C = common_pb2
P = schedule_pb2
S = service_pb2
MAX_BACKFILL_TIMES = actions.MAX_BUFFER
"""How many times one backfill request may produce (Temporal's buffer limit): a longer one is refused."""
FUTURE_ACTION_TIMES = 10
DEFAULT_PAGE_SIZE = 100
# What ListSchedules' query may name besides the namespace's custom search attributes.
QUERY_ATTRIBUTES = {"ScheduleId": KEYWORD, "TemporalSchedulePaused": BOOL}


def token_of(version: int) -> bytes:
    return version.to_bytes(8, "big")


def wake_after_change(
    schedule: P.Schedule, rt: internal_pb2.ScheduleRuntime, schedule_id: str, now: datetime
) -> datetime | None:
    """When the loop must look at a schedule a request changed: at once when starts wait, else at
    its next action time (never while paused or used up)."""
    if rt.buffered_starts:
        return now
    state = schedule.state
    if state.paused or (state.limited_actions and state.remaining_actions <= 0):
        return None
    times = SpecTimes(schedule.spec)
    following = jittered_times(times, schedule_id, actions.utc(rt.high_water), 1)
    return following[0] if following else None


class Schedules:
    """Schedules of every namespace: the requests, the loop (``scheduler``), and the close task."""

    def __init__(self, runs: Runs, signals: Signals, registry: Registry, cross_run: CrossRun) -> None:
        self.store = ScheduleStore(runs.store)
        self.scheduler = Scheduler(self.store, runs, signals)
        self.registry = registry
        cross_run.register(TimerKind.SCHEDULE_CLOSED, ScheduleClosed(runs, self.store, self.scheduler))
        self._queries: dict[tuple[str, str, tuple[tuple[str, int], ...]], tuple[Statement, dict[str, Any]]] = {}

    # -- checking what a request brings -------------------------------------------------------------

    async def _typed(self, namespace: str, attributes: C.SearchAttributes, field: str) -> C.SearchAttributes:
        types = await self.registry.of(namespace, attributes.indexed_fields)
        try:
            return typed(attributes, types)
        except InvalidArgument as exc:
            raise InvalidArgument(f"{field}: {exc}") from None

    async def _canonical(self, namespace: str, given: P.Schedule) -> P.Schedule:
        """The schedule as stored: its spec compiled and checked, its action's search attributes typed."""
        schedule = P.Schedule()
        schedule.CopyFrom(given)
        schedule.spec.CopyFrom(canonical_spec(given.spec, "schedule.spec"))
        a = schedule.action.start_workflow
        if a.HasField("search_attributes"):
            field = "schedule.action.start_workflow.search_attributes"
            checked = await self._typed(namespace, a.search_attributes, field)
            a.ClearField("search_attributes")
            if checked.indexed_fields:
                a.search_attributes.CopyFrom(checked)
        return schedule

    # -- requests -----------------------------------------------------------------------------------

    async def create(self, req: S.CreateScheduleRequest) -> bytes:
        """Store a new schedule (its initial patch applied); its conflict token. A retried create
        (same request id) succeeds again; another one of a taken id is ALREADY_EXISTS."""
        schedule = await self._canonical(req.namespace, req.schedule)
        attributes = await self._typed(req.namespace, req.search_attributes, "search_attributes")
        now = datetime.now(UTC)
        rt = internal_pb2.ScheduleRuntime(create_request_id=req.request_id)
        rt.high_water.FromDatetime(now)
        self._patch(req.schedule_id, schedule, rt, req.initial_patch, now)
        created = await self.store.create({
            "namespace": req.namespace, "schedule_id": req.schedule_id, "schedule": schedule.SerializeToString(),
            "state": rt.SerializeToString(), "memo": req.memo.SerializeToString(),
            "search_attributes": attributes.SerializeToString(),
            "search_document": search_document(req.schedule_id, attributes, schedule.state.paused),
            "next_wake": wake_after_change(schedule, rt, req.schedule_id, now),
        })
        if not created:
            row = await self.store.get(req.namespace, req.schedule_id)
            if row is not None and req.request_id:
                if internal_pb2.ScheduleRuntime.FromString(row.state).create_request_id == req.request_id:
                    return token_of(row.version)
            raise AlreadyExists(f"schedule {req.schedule_id!r} already exists in namespace {req.namespace!r}", "")
        self.scheduler.changed()
        return token_of(1)

    async def describe(self, namespace: str, schedule_id: str) -> S.DescribeScheduleResponse:
        row = await self._get(namespace, schedule_id)
        schedule = P.Schedule.FromString(row.schedule)
        rt = internal_pb2.ScheduleRuntime.FromString(row.state)
        out = S.DescribeScheduleResponse(
            schedule=schedule,
            memo=C.Memo.FromString(row.memo),
            search_attributes=C.SearchAttributes.FromString(row.search_attributes),
            conflict_token=token_of(row.version),
        )
        info = out.info
        info.action_count = rt.action_count
        info.missed_catchup_window = rt.missed_catchup_window
        info.overlap_skipped = rt.overlap_skipped
        info.buffer_dropped = rt.buffer_dropped
        info.buffer_size = len(rt.buffered_starts)
        info.running_workflows.extend(rt.running_workflows)
        info.recent_actions.extend(rt.recent_actions)
        info.future_action_times.extend(_stamps(self._future(schedule, schedule_id)))
        info.create_time.FromDatetime(row.created_at)
        info.update_time.FromDatetime(row.updated_at)
        return out

    async def update(self, req: S.UpdateScheduleRequest) -> None:
        """Replace the schedule (canonicalised again), keeping what it did so far; with a conflict
        token, only if nobody changed it since (FAILED_PRECONDITION)."""
        schedule = await self._canonical(req.namespace, req.schedule)
        attributes = (
            await self._typed(req.namespace, req.search_attributes, "search_attributes")
            if req.HasField("search_attributes") else None
        )

        async def change(row: ScheduleRow) -> dict[str, Any]:
            if req.conflict_token and req.conflict_token != token_of(row.version):
                raise FailedPrecondition(
                    f"schedule {req.schedule_id!r} was changed since the conflict token was read; describe it again"
                )
            now = datetime.now(UTC)
            rt = internal_pb2.ScheduleRuntime.FromString(row.state)
            if actions.utc(rt.high_water) < now:
                rt.high_water.FromDatetime(now)
            kept = attributes if attributes is not None else C.SearchAttributes.FromString(row.search_attributes)
            return {
                "schedule": schedule.SerializeToString(), "state": rt.SerializeToString(),
                "search_attributes": kept.SerializeToString(),
                "search_document": search_document(req.schedule_id, kept, schedule.state.paused),
                "version": row.version + 1, "next_wake": wake_after_change(schedule, rt, req.schedule_id, now),
            }

        await self._change(req.namespace, req.schedule_id, change)

    async def patch(self, req: S.PatchScheduleRequest) -> None:
        """Pause or unpause (with a note), trigger now, backfill."""

        async def change(row: ScheduleRow) -> dict[str, Any]:
            now = datetime.now(UTC)
            schedule = P.Schedule.FromString(row.schedule)
            rt = internal_pb2.ScheduleRuntime.FromString(row.state)
            self._patch(req.schedule_id, schedule, rt, req.patch, now)
            attributes = C.SearchAttributes.FromString(row.search_attributes)
            return {
                "schedule": schedule.SerializeToString(), "state": rt.SerializeToString(),
                "search_document": search_document(req.schedule_id, attributes, schedule.state.paused),
                "version": row.version + 1, "next_wake": wake_after_change(schedule, rt, req.schedule_id, now),
            }

        await self._change(req.namespace, req.schedule_id, change)

    async def delete(self, namespace: str, schedule_id: str) -> None:
        """Delete the schedule; the runs it started keep running."""
        if not await self.store.delete(namespace, schedule_id):
            raise NotFound(f"schedule {schedule_id!r} not found in namespace {namespace!r}")

    async def matching_times(self, req: S.ListScheduleMatchingTimesRequest) -> S.ListScheduleMatchingTimesResponse:
        """The nominal times of the schedule's spec in [start_time, end_time] (at most 1,000)."""
        row = await self._get(req.namespace, req.schedule_id)
        times = SpecTimes(P.Schedule.FromString(row.schedule).spec)
        found: list[datetime] = []
        for t in times.between(req.start_time.ToDatetime(UTC), req.end_time.ToDatetime(UTC)):
            found.append(t)
            if len(found) >= MAX_BACKFILL_TIMES:
                break
        return S.ListScheduleMatchingTimesResponse(start_time=_stamps(found))

    async def list_schedules(self, req: S.ListSchedulesRequest) -> S.ListSchedulesResponse:
        """A page of the namespace's schedules in id order, filtered by the query if given."""
        size = req.maximum_page_size or DEFAULT_PAGE_SIZE
        after = req.next_page_token.decode() if req.next_page_token else ""
        if req.query.strip():
            statement, params = await self._query(req.namespace, req.query)
            records = await self.store.query(statement, {**params, "namespace": req.namespace, "after": after,
                                                         "page_size": size})
        else:
            records = await self.store.page(req.namespace, after, size)
        out = S.ListSchedulesResponse()
        for row in records:
            schedule = P.Schedule.FromString(row.schedule)
            rt = internal_pb2.ScheduleRuntime.FromString(row.state)
            entry = out.schedules.add(
                schedule_id=row.schedule_id,
                memo=C.Memo.FromString(row.memo),
                search_attributes=C.SearchAttributes.FromString(row.search_attributes),
            )
            info = entry.info
            info.spec.CopyFrom(schedule.spec)
            info.workflow_type.CopyFrom(schedule.action.start_workflow.workflow_type)
            info.notes = schedule.state.notes
            info.paused = schedule.state.paused
            info.recent_actions.extend(rt.recent_actions)
            info.future_action_times.extend(_stamps(self._future(schedule, row.schedule_id)))
        if len(records) >= size:
            out.next_page_token = records[-1].schedule_id.encode()
        return out

    # -- helpers -------------------------------------------------------------------------------------

    async def _get(self, namespace: str, schedule_id: str) -> ScheduleRow:
        row = await self.store.get(namespace, schedule_id)
        if row is None:
            raise NotFound(f"schedule {schedule_id!r} not found in namespace {namespace!r}")
        return row

    async def _change(self, namespace: str, schedule_id: str, fn: Any) -> None:
        if await self.store.change(namespace, schedule_id, fn) is None:
            raise NotFound(f"schedule {schedule_id!r} not found in namespace {namespace!r}")
        self.scheduler.changed()

    def _future(self, schedule: P.Schedule, schedule_id: str) -> list[datetime]:
        count = FUTURE_ACTION_TIMES
        if schedule.state.limited_actions:
            count = min(count, max(schedule.state.remaining_actions, 0))
        return jittered_times(SpecTimes(schedule.spec), schedule_id, datetime.now(UTC), count)

    def _patch(
        self, schedule_id: str, schedule: P.Schedule, rt: internal_pb2.ScheduleRuntime, patch: P.SchedulePatch,
        now: datetime,
    ) -> None:
        """Apply a patch to a schedule's state: pause/unpause (the times while paused are skipped,
        not counted), a trigger (a manual start now), backfills (a manual start per time of the
        spec in each window, both ends included; not subject to the catch-up window)."""
        if patch.pause:
            schedule.state.paused = True
            schedule.state.notes = patch.pause
        if patch.unpause:
            schedule.state.paused = False
            schedule.state.notes = patch.unpause
            if actions.utc(rt.high_water) < now:
                rt.high_water.FromDatetime(now)
        if patch.HasField("trigger_immediately"):
            actions.add_start(rt, now, now, patch.trigger_immediately.overlap_policy, manual=True)
        if patch.backfill_request:
            times = SpecTimes(schedule.spec)
            for i, b in enumerate(patch.backfill_request):
                found = list(_limited(times, b, i))
                for t in found:
                    actions.add_start(rt, t, now, b.overlap_policy, manual=True)

    async def _query(self, namespace: str, text: str) -> tuple[Statement, dict[str, Any]]:
        """ListSchedules' query compiled with the list query language over the schedules' JSON
        document: ScheduleId, TemporalSchedulePaused and the namespace's custom search attributes."""
        types = {**await self.registry.of(namespace), **QUERY_ATTRIBUTES}
        key = (namespace, text, tuple(sorted(types.items())))
        cached = self._queries.get(key)
        if cached is not None:
            return cached
        compiled = compile_query(text, types)
        if compiled.order is not None:
            raise InvalidArgument(
                "invalid list query: ListSchedules lists in schedule id order; ORDER BY does not apply"
            )
        where = _on_schedules(compiled.where)
        c = schedules.c
        statement = Statement(
            select(schedules)
            .where(and_(c.namespace == bindparam("namespace"), c.schedule_id > bindparam("after"), where))
            .order_by(c.schedule_id)
            .limit(bindparam("page_size"))
        )
        if len(self._queries) > 1000:
            self._queries.clear()
        self._queries[key] = (statement, compiled.params)
        return statement, compiled.params


def _on_schedules(where: ColumnElement[bool]) -> ColumnElement[bool]:
    """A condition the query compiler wrote over ``executions.search_attributes``, over the schedules'
    document instead; one naming any other column of a run (WorkflowId, StartTime…) is refused."""
    refused: list[str] = []

    def swap(element: Any, **kw: Any) -> Any:
        if element is executions.c.search_attributes:
            return schedules.c.search_document
        if getattr(element, "table", None) is executions:
            refused.append(element.name)
        return None

    out: ColumnElement[bool] = visitors.replacement_traverse(where, {}, swap)
    if refused:
        raise InvalidArgument(
            "invalid list query: a schedule query filters on ScheduleId, TemporalSchedulePaused and the schedules' "
            f"custom search attributes, not on a run's built-in attributes (column {refused[0]!r})"
        )
    return out


def _limited(times: SpecTimes, b: P.BackfillRequest, i: int) -> list[datetime]:
    found: list[datetime] = []
    for t in times.between(b.start_time.ToDatetime(UTC), b.end_time.ToDatetime(UTC)):
        found.append(t)
        if len(found) > MAX_BACKFILL_TIMES:
            raise InvalidArgument(
                f"patch.backfill_request[{i}]: the window holds more than {MAX_BACKFILL_TIMES:,} times, the most "
                "one backfill may produce (MAX_BACKFILL_TIMES, Temporal's buffer limit); split it into smaller windows"
            )
    return found


def _stamps(times: list[datetime]) -> list[Timestamp]:
    out = []
    for t in times:
        ts = Timestamp()
        ts.FromDatetime(t)
        out.append(ts)
    return out
