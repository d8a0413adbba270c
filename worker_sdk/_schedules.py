"""What a schedule is, in temporalio's classes, and its conversion to and from the wire.

The classes, their fields and their defaults are temporalio.client's, so a Temporal user's schedule
code runs unchanged: ``Schedule(action=ScheduleActionStartWorkflow(...), spec=ScheduleSpec(...))``.
Each class converts itself to the ``wf.v1`` message of the same shape (``_to_proto``) and back
(``_from_proto``); the client's handle (``_schedule_client``) sends and reads those messages.

Where wf differs from temporalio, it is on purpose: an action's ``search_attributes`` is the plain
mapping ``Client.start_workflow`` takes (wf has no typed search attribute keys), and a wire value that
is left unset (an overlap policy, a catch-up window) reads back as temporalio's default for it.
"""

from __future__ import annotations

import dataclasses
import typing
from abc import ABC, abstractmethod
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from enum import IntEnum
from typing import Any

from google.protobuf.duration_pb2 import Duration
from google.protobuf.timestamp_pb2 import Timestamp

from wf.v1 import common_pb2, schedule_pb2
from worker_sdk._converter import DataConverter, encode_named_payloads
from worker_sdk._definition import WorkflowDefinition
from worker_sdk._retry import RetryPolicy
from worker_sdk._visibility import decode_search_attributes, search_attribute_payloads

# -- wire helpers ----------------------------------------------------------------------------------


def timestamp(value: datetime) -> Timestamp:
    """A datetime on the wire; a naive one is read as UTC, as temporalio does."""
    ts = Timestamp()
    ts.FromDatetime(value if value.tzinfo else value.replace(tzinfo=UTC))
    return ts


def from_timestamp(ts: Timestamp) -> datetime:
    return ts.ToDatetime(UTC)


def duration(value: timedelta) -> Duration:
    d = Duration()
    d.FromTimedelta(value)
    return d


def retry_policy_from_proto(p: common_pb2.RetryPolicy) -> RetryPolicy:
    """The reverse of ``RetryPolicy.to_proto``."""
    return RetryPolicy(
        initial_interval=p.initial_interval.ToTimedelta() if p.HasField("initial_interval") else timedelta(seconds=1),
        backoff_coefficient=p.backoff_coefficient or 2.0,
        maximum_interval=p.maximum_interval.ToTimedelta() if p.HasField("maximum_interval") else None,
        maximum_attempts=p.maximum_attempts,
        non_retryable_error_types=tuple(p.non_retryable_error_types),
    )


# -- when: the spec ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ScheduleRange:
    """An inclusive range of values ``start..end`` by ``step``. An ``end`` below ``start`` means
    ``start`` alone, a ``step`` of 0 means 1 (both normalized on construction, as temporalio)."""

    start: int
    end: int = 0
    step: int = 0

    def __post_init__(self) -> None:
        if self.end < self.start:
            object.__setattr__(self, "end", self.start)
        if self.step == 0:
            object.__setattr__(self, "step", 1)

    def _to_proto(self) -> schedule_pb2.Range:
        return schedule_pb2.Range(start=self.start, end=self.end, step=self.step)

    @staticmethod
    def _from_proto(r: schedule_pb2.Range) -> ScheduleRange:
        return ScheduleRange(r.start, r.end, r.step)


def _ranges(values: Any) -> tuple[ScheduleRange, ...]:
    return tuple(ScheduleRange._from_proto(r) for r in values)


@dataclass
class ScheduleCalendarSpec:
    """Calendar times: a time matches when each field matches one of its ranges (``year`` empty: any
    year). Day of week 0-6, 0 is Sunday; day of month and day of week must both match. The defaults
    mean midnight (second, minute and hour 0) of every day."""

    second: Sequence[ScheduleRange] = (ScheduleRange(0),)
    minute: Sequence[ScheduleRange] = (ScheduleRange(0),)
    hour: Sequence[ScheduleRange] = (ScheduleRange(0),)
    day_of_month: Sequence[ScheduleRange] = (ScheduleRange(1, 31),)
    month: Sequence[ScheduleRange] = (ScheduleRange(1, 12),)
    year: Sequence[ScheduleRange] = ()
    day_of_week: Sequence[ScheduleRange] = (ScheduleRange(0, 6),)
    comment: str | None = None

    def _to_proto(self) -> schedule_pb2.StructuredCalendarSpec:
        return schedule_pb2.StructuredCalendarSpec(
            second=[r._to_proto() for r in self.second],
            minute=[r._to_proto() for r in self.minute],
            hour=[r._to_proto() for r in self.hour],
            day_of_month=[r._to_proto() for r in self.day_of_month],
            month=[r._to_proto() for r in self.month],
            year=[r._to_proto() for r in self.year],
            day_of_week=[r._to_proto() for r in self.day_of_week],
            comment=self.comment or "",
        )

    @staticmethod
    def _from_proto(c: schedule_pb2.StructuredCalendarSpec) -> ScheduleCalendarSpec:
        return ScheduleCalendarSpec(
            second=_ranges(c.second),
            minute=_ranges(c.minute),
            hour=_ranges(c.hour),
            day_of_month=_ranges(c.day_of_month),
            month=_ranges(c.month),
            year=_ranges(c.year),
            day_of_week=_ranges(c.day_of_week),
            comment=c.comment or None,
        )


@dataclass
class ScheduleIntervalSpec:
    """Every ``every``, counted from the Unix epoch (not from the schedule's creation), shifted by
    ``offset``: the times epoch + n × every + offset."""

    every: timedelta
    offset: timedelta | None = None

    def _to_proto(self) -> schedule_pb2.IntervalSpec:
        spec = schedule_pb2.IntervalSpec(interval=duration(self.every))
        if self.offset:
            spec.phase.CopyFrom(duration(self.offset))
        return spec

    @staticmethod
    def _from_proto(i: schedule_pb2.IntervalSpec) -> ScheduleIntervalSpec:
        offset = i.phase.ToTimedelta() if i.HasField("phase") else None
        return ScheduleIntervalSpec(every=i.interval.ToTimedelta(), offset=offset or None)


@dataclass
class ScheduleSpec:
    """When a schedule acts: the union of ``calendars``, ``intervals`` and ``cron_expressions``, less
    the times any ``skip`` calendar matches, within ``start_at``..``end_at``. Calendars and cron
    expressions are read in ``time_zone_name`` (IANA; None is UTC). Each action is delayed by a
    deterministic amount below ``jitter``. The server compiles cron expressions into calendars (and
    ``@every`` into intervals), so a described spec has none."""

    calendars: Sequence[ScheduleCalendarSpec] = dataclasses.field(default_factory=list)
    intervals: Sequence[ScheduleIntervalSpec] = dataclasses.field(default_factory=list)
    cron_expressions: Sequence[str] = dataclasses.field(default_factory=list)
    skip: Sequence[ScheduleCalendarSpec] = dataclasses.field(default_factory=list)
    start_at: datetime | None = None
    end_at: datetime | None = None
    jitter: timedelta | None = None
    time_zone_name: str | None = None

    def _to_proto(self) -> schedule_pb2.ScheduleSpec:
        spec = schedule_pb2.ScheduleSpec(
            structured_calendar=[c._to_proto() for c in self.calendars],
            cron_string=list(self.cron_expressions),
            interval=[i._to_proto() for i in self.intervals],
            exclude_structured_calendar=[c._to_proto() for c in self.skip],
            timezone_name=self.time_zone_name or "",
        )
        if self.start_at is not None:
            spec.start_time.CopyFrom(timestamp(self.start_at))
        if self.end_at is not None:
            spec.end_time.CopyFrom(timestamp(self.end_at))
        if self.jitter:
            spec.jitter.CopyFrom(duration(self.jitter))
        return spec

    @staticmethod
    def _from_proto(s: schedule_pb2.ScheduleSpec) -> ScheduleSpec:
        return ScheduleSpec(
            calendars=[ScheduleCalendarSpec._from_proto(c) for c in s.structured_calendar],
            intervals=[ScheduleIntervalSpec._from_proto(i) for i in s.interval],
            cron_expressions=list(s.cron_string),
            skip=[ScheduleCalendarSpec._from_proto(c) for c in s.exclude_structured_calendar],
            start_at=from_timestamp(s.start_time) if s.HasField("start_time") else None,
            end_at=from_timestamp(s.end_time) if s.HasField("end_time") else None,
            jitter=(s.jitter.ToTimedelta() or None) if s.HasField("jitter") else None,
            time_zone_name=s.timezone_name or None,
        )


# -- what: the action ----------------------------------------------------------------------------------


class ScheduleAction(ABC):
    """What a schedule does at each time; :class:`ScheduleActionStartWorkflow` is the one kind."""

    @staticmethod
    def _from_proto(action: schedule_pb2.ScheduleAction) -> ScheduleAction:
        if action.HasField("start_workflow"):
            return ScheduleActionStartWorkflow._from_info(action.start_workflow)
        raise ValueError(f"unsupported schedule action: {action.WhichOneof('action')}")

    @abstractmethod
    async def _to_proto(self, converter: DataConverter) -> schedule_pb2.ScheduleAction: ...


_UNSET: Any = object()


class ScheduleActionStartWorkflow(ScheduleAction):
    """Start a workflow: its options are ``Client.start_workflow``'s. Each run's id is ``id`` followed
    by ``-`` and the nominal time (``report-2026-12-05T10:00:00Z``), so a time starts one run at most.

    ``workflow`` is a workflow's run method, its class, a decorated function or its type name; the
    arguments follow it (or come as ``args=[...]``). Read back from the server (``describe()``),
    ``args`` and ``memo`` hold the payloads as stored, which an update sends back unchanged.
    """

    workflow: str
    args: Sequence[Any]
    id: str
    task_queue: str
    execution_timeout: timedelta | None
    run_timeout: timedelta | None
    task_timeout: timedelta | None
    retry_policy: RetryPolicy | None
    memo: Mapping[str, Any] | None
    search_attributes: Mapping[str, Any]

    def __init__(
        self,
        workflow: Any,
        arg: Any = _UNSET,
        *more: Any,
        args: Sequence[Any] = (),
        id: str,
        task_queue: str,
        execution_timeout: timedelta | None = None,
        run_timeout: timedelta | None = None,
        task_timeout: timedelta | None = None,
        retry_policy: RetryPolicy | None = None,
        memo: Mapping[str, Any] | None = None,
        search_attributes: Mapping[str, Any] | None = None,
    ) -> None:
        if not id:
            raise ValueError("a schedule's start-workflow action needs an id")
        if not task_queue:
            raise ValueError("a schedule's start-workflow action needs a task queue")
        if (arg is not _UNSET or more) and args:
            raise ValueError("give the workflow's arguments positionally or as args=[...], not both")
        self.workflow = workflow if isinstance(workflow, str) else WorkflowDefinition.of(workflow).name
        self.args = list(args) if args else ([] if arg is _UNSET else [arg, *more])
        self.id = id
        self.task_queue = task_queue
        for label, value in (("execution_timeout", execution_timeout), ("run_timeout", run_timeout),
                             ("task_timeout", task_timeout)):
            if value is not None and value <= timedelta(0):
                raise ValueError(f"{label} must be positive, got {value}")
        self.execution_timeout = execution_timeout
        self.run_timeout = run_timeout
        self.task_timeout = task_timeout
        self.retry_policy = retry_policy
        self.memo = memo
        self.search_attributes = dict(search_attributes or {})

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, ScheduleActionStartWorkflow):
            return NotImplemented
        return vars(self) == vars(other)

    def __repr__(self) -> str:
        fields = ", ".join(f"{k}={v!r}" for k, v in vars(self).items())
        return f"ScheduleActionStartWorkflow({fields})"

    async def _to_proto(self, converter: DataConverter) -> schedule_pb2.ScheduleAction:
        info = schedule_pb2.NewWorkflowExecutionInfo(
            workflow_id=self.id,
            workflow_type=common_pb2.WorkflowType(name=self.workflow),
            task_queue=common_pb2.TaskQueue(name=self.task_queue),
        )
        if self.args:
            # Payloads read back from the server go back as they are; values are encoded (and through
            # the codec) as start_workflow encodes its arguments.
            for a in self.args:
                payload = a if isinstance(a, common_pb2.Payload) else (await converter.encode([a])).payloads[0]
                info.input.payloads.append(payload)
        for label, value in (("workflow_execution_timeout", self.execution_timeout),
                             ("workflow_run_timeout", self.run_timeout),
                             ("workflow_task_timeout", self.task_timeout)):
            if value is not None:
                getattr(info, label).CopyFrom(duration(value))
        if self.retry_policy is not None:
            info.retry_policy.CopyFrom(self.retry_policy.to_proto())
        if self.memo:
            values = {k: v for k, v in self.memo.items() if not isinstance(v, common_pb2.Payload)}
            encoded = encode_named_payloads(converter, values)
            for name, value in self.memo.items():
                info.memo.fields[name].CopyFrom(value if isinstance(value, common_pb2.Payload) else encoded[name])
        if self.search_attributes:
            for name, payload in search_attribute_payloads(self.search_attributes).items():
                info.search_attributes.indexed_fields[name].CopyFrom(payload)
        return schedule_pb2.ScheduleAction(start_workflow=info)

    @staticmethod
    def _from_info(info: schedule_pb2.NewWorkflowExecutionInfo) -> ScheduleActionStartWorkflow:
        def timeout(name: str) -> timedelta | None:
            value: Duration = getattr(info, name)
            return value.ToTimedelta() if info.HasField(name) else None

        return ScheduleActionStartWorkflow(
            info.workflow_type.name,
            args=list(info.input.payloads),
            id=info.workflow_id,
            task_queue=info.task_queue.name,
            execution_timeout=timeout("workflow_execution_timeout"),
            run_timeout=timeout("workflow_run_timeout"),
            task_timeout=timeout("workflow_task_timeout"),
            retry_policy=retry_policy_from_proto(info.retry_policy) if info.HasField("retry_policy") else None,
            memo=dict(info.memo.fields) or None,
            search_attributes=decode_search_attributes(info.search_attributes.indexed_fields),
        )


# -- how: policies and state -----------------------------------------------------------------------


class ScheduleOverlapPolicy(IntEnum):
    """What a time does while the schedule's previous run is still running (the wire's numbers)."""

    #: Start nothing; the time is counted as skipped. The default.
    SKIP = schedule_pb2.SCHEDULE_OVERLAP_POLICY_SKIP
    #: Start it when the running run closes; buffer one such start at most.
    BUFFER_ONE = schedule_pb2.SCHEDULE_OVERLAP_POLICY_BUFFER_ONE
    #: Buffer every such start, each run after the one before it closes.
    BUFFER_ALL = schedule_pb2.SCHEDULE_OVERLAP_POLICY_BUFFER_ALL
    #: Cancel the running run and start when it has closed.
    CANCEL_OTHER = schedule_pb2.SCHEDULE_OVERLAP_POLICY_CANCEL_OTHER
    #: Terminate the running run and start at once.
    TERMINATE_OTHER = schedule_pb2.SCHEDULE_OVERLAP_POLICY_TERMINATE_OTHER
    #: Start anyway: runs overlap (and the last completion result is not passed on).
    ALLOW_ALL = schedule_pb2.SCHEDULE_OVERLAP_POLICY_ALLOW_ALL


def overlap_from_proto(value: int) -> ScheduleOverlapPolicy:
    """The wire's value; UNSPECIFIED is SKIP, as the server reads it."""
    return ScheduleOverlapPolicy(value) if value else ScheduleOverlapPolicy.SKIP


def overlap_to_proto(value: ScheduleOverlapPolicy | None) -> schedule_pb2.ScheduleOverlapPolicy:
    """None is UNSPECIFIED: the schedule's own policy."""
    return typing.cast(schedule_pb2.ScheduleOverlapPolicy, int(value) if value else 0)


DEFAULT_CATCHUP_WINDOW = timedelta(days=365)


@dataclass
class SchedulePolicy:
    """How a schedule acts: ``overlap`` while a run is running, how late a missed time may still be
    taken (``catchup_window``; the server raises anything under 10 s to 10 s), and whether a failed
    run pauses the schedule."""

    overlap: ScheduleOverlapPolicy = ScheduleOverlapPolicy.SKIP
    catchup_window: timedelta = DEFAULT_CATCHUP_WINDOW
    pause_on_failure: bool = False

    def _to_proto(self) -> schedule_pb2.SchedulePolicies:
        return schedule_pb2.SchedulePolicies(
            overlap_policy=overlap_to_proto(self.overlap),
            catchup_window=duration(self.catchup_window),
            pause_on_failure=self.pause_on_failure,
        )

    @staticmethod
    def _from_proto(p: schedule_pb2.SchedulePolicies) -> SchedulePolicy:
        window = p.catchup_window.ToTimedelta() if p.HasField("catchup_window") else DEFAULT_CATCHUP_WINDOW
        return SchedulePolicy(
            overlap=overlap_from_proto(p.overlap_policy), catchup_window=window, pause_on_failure=p.pause_on_failure
        )


@dataclass
class ScheduleState:
    """Whether the schedule is ``paused`` (with a ``note`` saying why), and, with ``limited_actions``,
    how many more actions it takes (``remaining_actions``) before it stops acting."""

    note: str | None = None
    paused: bool = False
    limited_actions: bool = False
    remaining_actions: int = 0

    def _to_proto(self) -> schedule_pb2.ScheduleState:
        return schedule_pb2.ScheduleState(
            notes=self.note or "",
            paused=self.paused,
            limited_actions=self.limited_actions,
            remaining_actions=self.remaining_actions,
        )

    @staticmethod
    def _from_proto(s: schedule_pb2.ScheduleState) -> ScheduleState:
        return ScheduleState(
            note=s.notes or None, paused=s.paused, limited_actions=s.limited_actions,
            remaining_actions=s.remaining_actions,
        )


@dataclass
class Schedule:
    """A schedule: its ``action`` taken at the times of its ``spec``, as its ``policy`` says."""

    action: ScheduleAction
    spec: ScheduleSpec
    policy: SchedulePolicy = dataclasses.field(default_factory=SchedulePolicy)
    state: ScheduleState = dataclasses.field(default_factory=ScheduleState)

    async def _to_proto(self, converter: DataConverter) -> schedule_pb2.Schedule:
        return schedule_pb2.Schedule(
            spec=self.spec._to_proto(),
            action=await self.action._to_proto(converter),
            policies=self.policy._to_proto(),
            state=self.state._to_proto(),
        )

    @staticmethod
    def _from_proto(s: schedule_pb2.Schedule) -> Schedule:
        return Schedule(
            action=ScheduleAction._from_proto(s.action),
            spec=ScheduleSpec._from_proto(s.spec),
            policy=SchedulePolicy._from_proto(s.policies),
            state=ScheduleState._from_proto(s.state),
        )


@dataclass
class ScheduleBackfill:
    """Take every time of the spec from ``start_at`` to ``end_at`` (both included) as if it were now,
    with ``overlap`` (None: the schedule's own policy)."""

    start_at: datetime
    end_at: datetime
    overlap: ScheduleOverlapPolicy | None = None

    def _to_proto(self) -> schedule_pb2.BackfillRequest:
        return schedule_pb2.BackfillRequest(
            start_time=timestamp(self.start_at), end_time=timestamp(self.end_at),
            overlap_policy=overlap_to_proto(self.overlap),
        )

    @staticmethod
    def _from_proto(b: schedule_pb2.BackfillRequest) -> ScheduleBackfill:
        return ScheduleBackfill(
            start_at=from_timestamp(b.start_time), end_at=from_timestamp(b.end_time),
            overlap=ScheduleOverlapPolicy(b.overlap_policy) if b.overlap_policy else None,
        )
