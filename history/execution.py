"""An execution in memory while one operation changes it: the run's mutable state and its transitions.

The execution owns its transitions (Temporal's mutable-state style): each ``add_*`` method appends
its event AND the task and timer rows that follow from it, so an operation or a command handler
never appends a raw event nor edits the rows itself. :meth:`Execution.mutation` turns what one change
gathered into one :class:`~wf.history.store.Mutation` that the store writes in one transaction.

The transitions of activities live in :mod:`wf.history.execution_activities`, those of child
workflows and of cancelling other workflows in :mod:`wf.history.execution_children` (parts of this
class, split off only to keep each file readable).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

from google.protobuf.duration_pb2 import Duration
from google.protobuf.timestamp_pb2 import Timestamp

from wf.history.cost import count_event
from wf.history.durations import duration, is_set
from wf.history.errors import LimitExceeded
from wf.history.execution_activities import ActivityTransitions, activity_timer_key
from wf.history.execution_children import ChildTransitions, start_child_key
from wf.history.execution_external import ExternalTransitions, cancel_external_key, external_signal_key
from wf.history.limits import Limits
from wf.history.store import ExecutionRecord, Mutation
from wf.history.tasks import TaskKind, TaskRow, TimerKind, TimerRow
from wf.history.visibility.attributes import merge_named, mirror
from wf.v1 import command_pb2, common_pb2, history_pb2, internal_pb2

if TYPE_CHECKING:
    from wf.history.tasks import Handoff

RUNNING = common_pb2.WORKFLOW_EXECUTION_STATUS_RUNNING
H = history_pb2
C = common_pb2
USER_TIMER_PREFIX = "t:"
# The key of the cross-run task that tells a run's schedule of its close (one per run).
SCHEDULE_CLOSED_KEY = "schedule-closed"
# How many recent signal request ids a run remembers, to record a retried signal once.
_SIGNAL_REQUEST_IDS = 64


def user_timer_key(timer_id: str) -> str:
    return USER_TIMER_PREFIX + timer_id


@dataclasses.dataclass(slots=True)
class StartedWorkflowTask:
    """A workflow task just recorded as started: what its poll response is built from."""

    key: tuple[str, str, str]
    workflow_type: str
    task: internal_pb2.WorkflowTaskState
    previous_started_event_id: int
    sticky: bool
    updates: list[C.UpdateRequest]


class Execution(ActivityTransitions, ChildTransitions, ExternalTransitions):
    """One run being changed by one operation (or by a group of them committed together)."""

    def __init__(self, record: ExecutionRecord, now: datetime, limits: Limits, *, new: bool = False) -> None:
        self.record = record
        self.now = now
        self.limits = limits
        self.state = internal_pb2.MutableState()
        if record.state:
            self.state.ParseFromString(record.state)
        self.new = new
        self.events: list[history_pb2.HistoryEvent] = []
        # The rows this change writes; only the transitions below edit them.
        self._tasks: list[TaskRow] = []
        self._timers: dict[str, TimerRow] = {}
        self._deleted_timers: set[str] = set()
        # Cross-run tasks this change writes: timer rows due now, kept when the change closes the run.
        self._cross_run: dict[str, TimerRow] = {}
        # Task rows and fired timers this change consumes (several when changes are grouped).
        self._claimed_task_ids: list[int] = []
        self._claimed_timers: dict[str, datetime] = {}  # key: the fire time of the row consumed
        self.closes = False
        self.changed = new
        # Callers that want a workflow task this change schedules on a given queue handed straight to
        # them (an activity's worker, in its completion): see ``wf.history.shortcuts``.
        self._wanted_by: list[tuple[str, Handoff]] = []
        # The row of the workflow task this change scheduled, while nobody has started it.
        self._scheduled_workflow_task: TaskRow | None = None
        # Updates whose state changed (accepted, rejected, completed): their callers are woken.
        self.updates_changed = False
        self._stamp: tuple[datetime, Timestamp] | None = None  # ``now`` as a Timestamp, made once
        # The run this one continues as (continue-as-new): written in the same transaction.
        self.then_create: Execution | None = None

    # -- reading ---------------------------------------------------------------------------------

    @property
    def running(self) -> bool:
        return self.record.status == RUNNING

    @property
    def key(self) -> tuple[str, str, str]:
        r = self.record
        return (r.namespace, r.workflow_id, r.run_id)

    def describe(self) -> str:
        return f"workflow {self.record.workflow_id!r} run {self.record.run_id}"

    def new_tasks(self) -> tuple[TaskRow, ...]:
        """The task rows this change would write, in the order it scheduled them."""
        return tuple(self._tasks)

    def earliest_new_timer(self) -> datetime | None:
        """When the first of the timer rows this change writes fires, if it writes any."""
        return min((t.fire_at for t in (*self._timers.values(), *self._cross_run.values())), default=None)

    def resets_a_claimed_timer(self) -> bool:
        """Whether this change consumes a timer row and also sets the same key anew (one statement
        cannot do both for one key)."""
        return not self.closes and bool(self._timers.keys() & self._claimed_timers.keys())

    # -- events ----------------------------------------------------------------------------------

    def _add_event(self, event_type: int, **attributes: Any) -> history_pb2.HistoryEvent:
        """Append an event; ``attributes`` holds exactly one ``<kind>_event_attributes`` message."""
        event = history_pb2.HistoryEvent(
            event_id=self.record.next_event_id, event_type=event_type, **attributes  # type: ignore[arg-type]
        )
        event.event_time.CopyFrom(self.timestamp())
        self.record.next_event_id += 1
        self.events.append(event)
        self.changed = True
        count_event(self.state.cost, event)
        return event

    def timestamp(self) -> Timestamp:
        """``now`` as a Timestamp (converted once however many events the change adds)."""
        if self._stamp is None or self._stamp[0] is not self.now:
            ts = Timestamp()
            ts.FromDatetime(self.now)
            self._stamp = (self.now, ts)
        return self._stamp[1]

    # -- rows: tasks and timers --------------------------------------------------------------------

    def _add_task(self, kind: TaskKind, task_queue: str, scheduled_event_id: int, attempt: int) -> TaskRow:
        r = self.record
        task = TaskRow(r.namespace, task_queue, kind, r.workflow_id, r.run_id, scheduled_event_id, attempt)
        self._tasks.append(task)
        self.changed = True
        return task

    def _set_timer(self, key: str, after: timedelta, kind: TimerKind, event_id: int, attempt: int) -> None:
        r = self.record
        self._timers[key] = TimerRow(
            r.namespace, r.workflow_id, r.run_id, key, self.now + after, kind, event_id, attempt
        )
        self._deleted_timers.discard(key)
        self.changed = True

    def _delete_timer(self, key: str) -> None:
        self._timers.pop(key, None)
        if key not in self._claimed_timers:
            self._deleted_timers.add(key)
        self.changed = True

    def _add_cross_run_task(self, key: str, kind: TimerKind, event_id: int) -> None:
        """A task that acts on another run (``wf.history.operations.cross_run``): a timer row due now
        under ``key``, unique in the run. Unlike a timer, it is written even by a change that closes the
        run (the close removes only the rows that were there before), so what a close implies for other
        runs (a parent told its child closed, a child terminated by its parent's close) is done
        however the servers crash: the row stays until the task's outcome is recorded."""
        r = self.record
        self._cross_run[key] = TimerRow(r.namespace, r.workflow_id, r.run_id, key, self.now, kind, event_id, 1)
        self.changed = True

    def _forget_new_timer(self, key: str) -> None:
        """Drop a timer row this change set and no longer needs (it was never written)."""
        self._timers.pop(key, None)

    def claim_task(self, task_id: int) -> None:
        """This change consumes the task row ``task_id`` (its write fails if the row is gone)."""
        self._claimed_task_ids.append(task_id)

    def claim_timer(self, timer: TimerRow) -> None:
        """This change consumes the fired timer row (its write fails if the row is gone or moved)."""
        self._claimed_timers[timer.key] = timer.fire_at
        self.changed = True

    def can_start_new_task(self, task: TaskRow) -> bool:
        """Whether ``task`` (scheduled in this change) may be started in this change too: still
        wanted (a later change of the same group may have moved the run on), and not in a change that
        consumes a timer its start would set anew (one statement cannot do both)."""
        if task.kind == TaskKind.WORKFLOW:
            return self.workflow_task_waits(task) and "wft" not in self._claimed_timers
        if task.kind == TaskKind.ACTIVITY:
            sid = task.scheduled_event_id
            return self.waiting_activity(task) is not None and all(
                activity_timer_key(sid, what) not in self._claimed_timers for what in ("stc", "hb")
            )
        return False

    def start_new_task(
        self, task: TaskRow, identity: str
    ) -> StartedWorkflowTask | internal_pb2.ActivityState:
        """Start ``task``, which this change scheduled, in this same change, for ``identity``: its
        row is not written, nor the timer that waits for its start. Returns what the started task's
        response is built from (a copy of the activity's state, for an activity)."""
        self._tasks.remove(task)
        if task.kind == TaskKind.WORKFLOW:
            self._forget_new_timer("sticky")
            if self._scheduled_workflow_task is task:
                self._scheduled_workflow_task = None
            return self.add_workflow_task_started(identity)
        self._forget_new_timer(activity_timer_key(task.scheduled_event_id, "s2s"))
        a = self.state.activities[task.scheduled_event_id]
        self.add_activity_task_started(a, identity)
        started = internal_pb2.ActivityState()
        started.CopyFrom(a)
        return started

    # -- callers that want the next workflow task --------------------------------------------------

    def want_workflow_task(self, task_queue: str, handoff: Handoff) -> None:
        """The caller of this change takes the workflow task it schedules on ``task_queue``, if any."""
        self._wanted_by.append((task_queue, handoff))

    def take_wanted(self, task: TaskRow) -> Handoff | None:
        """The caller of this change that asked for a workflow task on ``task``'s queue, if any."""
        if task.kind != TaskKind.WORKFLOW:
            return None
        for j, (queue, handoff) in enumerate(self._wanted_by):
            if queue == task.task_queue:
                del self._wanted_by[j]
                return handoff
        return None

    def release_wanted(self) -> None:
        """The callers that asked for a workflow task this change did not give them go without."""
        for _, unused in self._wanted_by:
            unused.release()
        self._wanted_by.clear()

    # -- starting the run ----------------------------------------------------------------------------

    def add_workflow_execution_started(self, attributes: H.WorkflowExecutionStartedEventAttributes) -> None:
        self._add_event(
            H.EVENT_TYPE_WORKFLOW_EXECUTION_STARTED, workflow_execution_started_event_attributes=attributes
        )

    def add_workflow_timeouts(self, run_timeout: timedelta | None, execution_timeout: timedelta | None) -> None:
        """The timers that time the run out, if it has such timeouts."""
        if run_timeout is not None:
            self._set_timer("run-timeout", run_timeout, TimerKind.WORKFLOW_RUN_TIMEOUT, 0, 1)
        if execution_timeout is not None:
            self._set_timer("execution-timeout", execution_timeout, TimerKind.WORKFLOW_EXECUTION_TIMEOUT, 0, 1)

    # -- workflow tasks --------------------------------------------------------------------------

    def add_workflow_task_scheduled(self, *, attempt: int = 1) -> None:
        """Schedule a workflow task now, or note that one is needed after the running one."""
        wt = self.state.workflow_task if self.state.HasField("workflow_task") else None
        if wt is not None and not wt.backing_off:
            if wt.started_event_id:
                # The running task did not see the new events: another must follow it.
                self.state.workflow_task_needed = True
                self.changed = True
            # A task scheduled but not yet started will see them: its history is read when it starts.
            return
        if wt is not None and wt.backing_off:
            # A retry is waiting out its back-off; new events do not cut it short.
            return
        # A cached run's next task goes to its worker's sticky queue (a retry goes to everyone).
        sticky = self.state.sticky_task_queue if attempt == 1 else ""
        queue = common_pb2.TaskQueue(
            name=sticky or self.record.task_queue,
            kind=common_pb2.TASK_QUEUE_KIND_STICKY if sticky else common_pb2.TASK_QUEUE_KIND_NORMAL,
        )
        event = self._add_event(
            H.EVENT_TYPE_WORKFLOW_TASK_SCHEDULED,
            workflow_task_scheduled_event_attributes=H.WorkflowTaskScheduledEventAttributes(
                task_queue=queue,
                start_to_close_timeout=self.state.workflow_task_timeout,
                attempt=attempt,
            ),
        )
        wt = self.state.workflow_task
        wt.Clear()
        wt.scheduled_event_id = event.event_id
        wt.attempt = attempt
        wt.task_queue = queue.name
        wt.scheduled_time.CopyFrom(self.timestamp())
        self.state.workflow_task_needed = False
        self._scheduled_workflow_task = self._add_task(TaskKind.WORKFLOW, queue.name, event.event_id, attempt)
        if sticky:
            timeout = duration(self.state.sticky_timeout)
            self._set_timer("sticky", timeout, TimerKind.STICKY_SCHEDULE_TO_START, event.event_id, attempt)

    def scheduled_workflow_task(self) -> TaskRow | None:
        """The row of the workflow task this change scheduled and nobody started yet, if any."""
        task = self._scheduled_workflow_task
        return task if task is not None and task in self._tasks else None

    def workflow_task_waits(self, task: TaskRow) -> bool:
        """Whether the workflow task ``task`` hands out still waits to be started."""
        wt = self.state.workflow_task if self.state.HasField("workflow_task") else None
        return (
            self.running
            and wt is not None
            and not wt.backing_off
            and wt.scheduled_event_id == task.scheduled_event_id
            and not wt.started_event_id
        )

    def add_workflow_task_started(self, identity: str) -> StartedWorkflowTask:
        """Record the scheduled workflow task as started by ``identity``."""
        wt = self.state.workflow_task
        event = self._add_event(
            H.EVENT_TYPE_WORKFLOW_TASK_STARTED,
            workflow_task_started_event_attributes=self._suggesting_continue_as_new(
                H.WorkflowTaskStartedEventAttributes(scheduled_event_id=wt.scheduled_event_id, identity=identity)
            ),
        )
        wt.started_event_id = event.event_id
        wt.started_time.CopyFrom(self.timestamp())
        self._set_timer(
            "wft", duration(self.state.workflow_task_timeout), TimerKind.WORKFLOW_TASK_TIMEOUT, event.event_id,
            wt.attempt,
        )
        started = internal_pb2.WorkflowTaskState()
        started.CopyFrom(wt)
        s = self.state
        updates = []
        for uid in s.pending_update_order:
            if uid in s.pending_updates:
                update = C.UpdateRequest()
                update.CopyFrom(s.pending_updates[uid])
                updates.append(update)
        return StartedWorkflowTask(
            key=self.key,
            workflow_type=self.record.workflow_type,
            task=started,
            previous_started_event_id=s.last_completed_workflow_task_started_event_id,
            sticky=wt.task_queue != self.record.task_queue,
            updates=updates,
        )

    def add_workflow_task_completed(
        self, wt: internal_pb2.WorkflowTaskState, identity: str, sticky_task_queue: str, sticky_timeout: timedelta
    ) -> int:
        """Record the started task ``wt`` as completed; returns the event id commands refer to."""
        self._delete_timer("wft")
        completed = self._add_event(
            H.EVENT_TYPE_WORKFLOW_TASK_COMPLETED,
            workflow_task_completed_event_attributes=H.WorkflowTaskCompletedEventAttributes(
                scheduled_event_id=wt.scheduled_event_id,
                started_event_id=wt.started_event_id,
                identity=identity,
            ),
        )
        s = self.state
        s.last_completed_workflow_task_started_event_id = wt.started_event_id
        s.sticky_task_queue = sticky_task_queue
        s.sticky_timeout.FromTimedelta(sticky_timeout)
        s.ClearField("last_workflow_task_failure")
        s.ClearField("workflow_task")
        return completed.event_id

    def schedule_workflow_task_if_needed(self) -> None:
        """After a completed workflow task: if events came while it ran, the next one."""
        if not self.closes and self.state.workflow_task_needed:
            self.add_workflow_task_scheduled()

    def add_workflow_task_failed(
        self,
        wt: internal_pb2.WorkflowTaskState,
        cause: int,
        failure: common_pb2.Failure,
        identity: str,
        *,
        retry_now: bool = False,
    ) -> None:
        """Record the started task ``wt`` as failed, and its next attempt (now, or after a back-off)."""
        self._delete_timer("wft")
        self.unstick()  # whatever the worker cached is in doubt: the next task carries the whole history
        self._add_event(
            H.EVENT_TYPE_WORKFLOW_TASK_FAILED,
            workflow_task_failed_event_attributes=H.WorkflowTaskFailedEventAttributes(
                scheduled_event_id=wt.scheduled_event_id,
                started_event_id=wt.started_event_id,
                cause=cause,  # type: ignore[arg-type]
                failure=failure,
                identity=identity,
            ),
        )
        self.state.last_workflow_task_failure.CopyFrom(failure)
        attempt = wt.attempt
        self.state.workflow_task_needed = False
        if retry_now:
            self.state.ClearField("workflow_task")
            self.add_workflow_task_scheduled()
        else:
            self._retry_workflow_task_later(attempt + 1)

    def add_workflow_task_failed_for_good(
        self, wt: internal_pb2.WorkflowTaskState, failure: common_pb2.Failure, identity: str
    ) -> None:
        """Past a hard limit: the task fails, and the run with it, with a failure naming the limit."""
        self._delete_timer("wft")
        self._add_event(
            H.EVENT_TYPE_WORKFLOW_TASK_FAILED,
            workflow_task_failed_event_attributes=H.WorkflowTaskFailedEventAttributes(
                scheduled_event_id=wt.scheduled_event_id,
                started_event_id=wt.started_event_id,
                cause=C.WORKFLOW_TASK_FAILED_CAUSE_PAYLOAD_TOO_LARGE,
                failure=failure,
                identity=identity,
            ),
        )
        self.add_workflow_execution_failed(failure, C.RETRY_STATE_NON_RETRYABLE_FAILURE)

    def add_workflow_task_timed_out(self, wt: internal_pb2.WorkflowTaskState) -> None:
        self._add_event(
            H.EVENT_TYPE_WORKFLOW_TASK_TIMED_OUT,
            workflow_task_timed_out_event_attributes=H.WorkflowTaskTimedOutEventAttributes(
                scheduled_event_id=wt.scheduled_event_id,
                started_event_id=wt.started_event_id,
                timeout_type=C.TIMEOUT_TYPE_START_TO_CLOSE,
            ),
        )
        self.state.workflow_task_needed = False
        self.unstick()
        self._retry_workflow_task_later(wt.attempt + 1)

    def add_workflow_task_retry_scheduled(self, attempt: int) -> None:
        """A failed workflow task's back-off is over: its next attempt is scheduled."""
        self.state.ClearField("workflow_task")
        self.add_workflow_task_scheduled(attempt=attempt)

    def move_workflow_task_to_normal_queue(self) -> None:
        """Nobody on the sticky queue took the task: hand it to every worker, with the whole history."""
        wt = self.state.workflow_task
        self.unstick()
        wt.task_queue = self.record.task_queue
        self._add_task(TaskKind.WORKFLOW, self.record.task_queue, wt.scheduled_event_id, wt.attempt)

    def unstick(self) -> None:
        """Forget the sticky queue: the next workflow task goes to the run's task queue, whole."""
        self.state.sticky_task_queue = ""

    def _retry_workflow_task_later(self, attempt: int) -> None:
        """After a failed or timed-out workflow task: schedule the next attempt after its back-off."""
        self.state.ClearField("workflow_task")
        if attempt <= 2:
            self.add_workflow_task_scheduled(attempt=attempt)
            return
        delay = min(
            self.limits.workflow_task_retry_first * (2 ** (attempt - 3)), self.limits.workflow_task_retry_cap
        )
        wt = self.state.workflow_task
        wt.backing_off = True
        wt.attempt = attempt
        self._set_timer("wft-retry", delay, TimerKind.WORKFLOW_TASK_RETRY, 0, attempt)

    # -- user timers and markers ---------------------------------------------------------------------

    def add_timer_started(self, timer_id: str, start_to_fire: Duration, completed_id: int) -> None:
        event = self._add_event(
            H.EVENT_TYPE_TIMER_STARTED,
            timer_started_event_attributes=H.TimerStartedEventAttributes(
                timer_id=timer_id, start_to_fire_timeout=start_to_fire, workflow_task_completed_event_id=completed_id
            ),
        )
        self.state.timers[timer_id] = event.event_id
        self._set_timer(user_timer_key(timer_id), duration(start_to_fire), TimerKind.USER_TIMER, event.event_id, 1)

    def add_timer_fired(self, timer_id: str) -> None:
        started_id = self.state.timers.pop(timer_id)
        self._add_event(
            H.EVENT_TYPE_TIMER_FIRED,
            timer_fired_event_attributes=H.TimerFiredEventAttributes(timer_id=timer_id, started_event_id=started_id),
        )
        self.add_workflow_task_scheduled()

    def add_timer_canceled(self, timer_id: str, completed_id: int, identity: str) -> None:
        started_id = self.state.timers.pop(timer_id)
        self._add_event(
            H.EVENT_TYPE_TIMER_CANCELED,
            timer_canceled_event_attributes=H.TimerCanceledEventAttributes(
                timer_id=timer_id, started_event_id=started_id, workflow_task_completed_event_id=completed_id,
                identity=identity,
            ),
        )
        self._delete_timer(user_timer_key(timer_id))

    def add_marker_recorded(self, name: str, details: Mapping[str, common_pb2.Payloads], completed_id: int) -> None:
        self._add_event(
            H.EVENT_TYPE_MARKER_RECORDED,
            marker_recorded_event_attributes=H.MarkerRecordedEventAttributes(
                marker_name=name, details=details, workflow_task_completed_event_id=completed_id
            ),
        )

    # -- search attributes and memo ---------------------------------------------------------------

    def add_upsert_workflow_search_attributes(self, upsert: common_pb2.SearchAttributes, completed_id: int) -> None:
        """Record an upsert (values typed by the server; a null payload removes one) and apply it to
        the run's search attributes, which the mutation mirrors into the execution row."""
        self._add_event(
            H.EVENT_TYPE_UPSERT_WORKFLOW_SEARCH_ATTRIBUTES,
            upsert_workflow_search_attributes_event_attributes=H.UpsertWorkflowSearchAttributesEventAttributes(
                workflow_task_completed_event_id=completed_id, search_attributes=upsert
            ),
        )
        merged = merge_named(self.state.search_attributes.indexed_fields, upsert.indexed_fields)
        self.state.ClearField("search_attributes")
        if merged:
            self.state.search_attributes.CopyFrom(common_pb2.SearchAttributes(indexed_fields=merged))

    def add_workflow_properties_modified(self, upserted_memo: common_pb2.Memo, completed_id: int) -> None:
        """Record a change of the memo (a null payload removes a field) and apply it to the run's."""
        self._add_event(
            H.EVENT_TYPE_WORKFLOW_PROPERTIES_MODIFIED,
            workflow_properties_modified_event_attributes=H.WorkflowPropertiesModifiedEventAttributes(
                workflow_task_completed_event_id=completed_id, upserted_memo=upserted_memo
            ),
        )
        merged = merge_named(self.state.memo.fields, upserted_memo.fields)
        self.state.ClearField("memo")
        if merged:
            self.state.memo.CopyFrom(common_pb2.Memo(fields=merged))

    # -- signals and cancellation ------------------------------------------------------------------

    def add_signal(self, name: str, input: common_pb2.Payloads, identity: str, request_id: str) -> bool:
        """Record a signal (once per request id); False when it is a retry of one recorded before."""
        s = self.state
        if request_id and request_id in s.recent_signal_request_ids:
            return False
        if s.signal_count >= self.limits.max_signals_per_run:
            raise LimitExceeded(
                f"{self.describe()} has received {s.signal_count:,} signals, the "
                f"{self.limits.describe('max_signals_per_run')}; continue-as-new resets the count"
            )
        self._add_event(
            H.EVENT_TYPE_WORKFLOW_EXECUTION_SIGNALED,
            workflow_execution_signaled_event_attributes=H.WorkflowExecutionSignaledEventAttributes(
                signal_name=name, input=input, identity=identity
            ),
        )
        s.signal_count += 1
        if request_id:
            s.recent_signal_request_ids.append(request_id)
            if len(s.recent_signal_request_ids) > _SIGNAL_REQUEST_IDS:
                del s.recent_signal_request_ids[0]
        return True

    def add_workflow_execution_cancel_requested(self, reason: str, identity: str) -> None:
        """Ask the workflow to cancel (once: a second request records nothing)."""
        if self.state.cancel_requested:
            return
        self.state.cancel_requested = True
        self._add_event(
            H.EVENT_TYPE_WORKFLOW_EXECUTION_CANCEL_REQUESTED,
            workflow_execution_cancel_requested_event_attributes=H.WorkflowExecutionCancelRequestedEventAttributes(
                cause=reason, identity=identity
            ),
        )
        self.add_workflow_task_scheduled()

    # -- updates ---------------------------------------------------------------------------------

    def add_update_requested(self, request: C.UpdateRequest) -> None:
        """An update waits for the next workflow task (it is recorded once the workflow accepts it)."""
        s = self.state
        s.pending_updates[request.update_id].CopyFrom(request)
        s.pending_update_order.append(request.update_id)
        self.changed = True
        self.add_workflow_task_scheduled()

    def _unqueue_update(self, uid: str) -> None:
        if uid in self.state.pending_update_order:
            self.state.pending_update_order.remove(uid)

    def add_update_accepted(self, uid: str, identity: str) -> None:
        s = self.state
        self._unqueue_update(uid)
        if uid not in s.pending_updates:
            return
        request = s.pending_updates.pop(uid)
        event = self._add_event(
            H.EVENT_TYPE_WORKFLOW_EXECUTION_UPDATE_ACCEPTED,
            workflow_execution_update_accepted_event_attributes=H.WorkflowExecutionUpdateAcceptedEventAttributes(
                update_id=uid, name=request.name, input=request.args, identity=request.identity or identity
            ),
        )
        s.accepted_updates[uid] = event.event_id
        self.updates_changed = True

    def add_update_rejected(self, uid: str, failure: common_pb2.Failure) -> None:
        """A rejected update is answered and forgotten: nothing goes into the history."""
        s = self.state
        self._unqueue_update(uid)
        if uid not in s.pending_updates:
            return
        del s.pending_updates[uid]
        s.finished_updates[uid] = 0
        s.rejected_updates[uid].CopyFrom(failure)
        self.updates_changed = True
        self.changed = True

    def add_update_completed(self, uid: str, outcome: C.UpdateOutcome) -> None:
        s = self.state
        if uid not in s.accepted_updates:
            return
        del s.accepted_updates[uid]
        event = self._add_event(
            H.EVENT_TYPE_WORKFLOW_EXECUTION_UPDATE_COMPLETED,
            workflow_execution_update_completed_event_attributes=H.WorkflowExecutionUpdateCompletedEventAttributes(
                update_id=uid, outcome=outcome
            ),
        )
        s.finished_updates[uid] = event.event_id
        self.updates_changed = True

    def _abandon_accepted_updates(self) -> None:
        """The run closes with updates accepted and not completed: as Temporal, each completes with
        the failure ``AcceptedUpdateCompletedWorkflow`` (no event: its caller is answered). Updates
        not yet accepted stay pending on the closed run; their callers are told to ask again on the
        workflow id's next run (``wf.history.operations.updates``)."""
        s = self.state
        for uid in list(s.accepted_updates):
            del s.accepted_updates[uid]
            s.finished_updates[uid] = 0
            s.rejected_updates[uid].CopyFrom(
                C.Failure(
                    message="the workflow closed before the update completed",
                    source="wf-server",
                    application_failure_info=C.ApplicationFailureInfo(
                        type="AcceptedUpdateCompletedWorkflow", non_retryable=True
                    ),
                )
            )
            self.updates_changed = True

    # -- closing ---------------------------------------------------------------------------------

    def add_workflow_execution_completed(self, result: common_pb2.Payloads, completed_id: int) -> None:
        self._add_event(
            H.EVENT_TYPE_WORKFLOW_EXECUTION_COMPLETED,
            workflow_execution_completed_event_attributes=H.WorkflowExecutionCompletedEventAttributes(
                result=result, workflow_task_completed_event_id=completed_id
            ),
        )
        self._close(C.WORKFLOW_EXECUTION_STATUS_COMPLETED)

    def add_workflow_execution_failed(
        self, failure: common_pb2.Failure, retry_state: int, completed_id: int = 0
    ) -> None:
        self._add_event(
            H.EVENT_TYPE_WORKFLOW_EXECUTION_FAILED,
            workflow_execution_failed_event_attributes=H.WorkflowExecutionFailedEventAttributes(
                failure=failure,
                retry_state=retry_state,  # type: ignore[arg-type]
                workflow_task_completed_event_id=completed_id,
            ),
        )
        self._close(C.WORKFLOW_EXECUTION_STATUS_FAILED)

    def add_workflow_execution_canceled(self, details: common_pb2.Payloads, completed_id: int) -> None:
        self._add_event(
            H.EVENT_TYPE_WORKFLOW_EXECUTION_CANCELED,
            workflow_execution_canceled_event_attributes=H.WorkflowExecutionCanceledEventAttributes(
                workflow_task_completed_event_id=completed_id, details=details
            ),
        )
        self._close(C.WORKFLOW_EXECUTION_STATUS_CANCELED)

    def add_workflow_execution_terminated(self, reason: str, details: common_pb2.Payloads, identity: str) -> None:
        self._add_event(
            H.EVENT_TYPE_WORKFLOW_EXECUTION_TERMINATED,
            workflow_execution_terminated_event_attributes=H.WorkflowExecutionTerminatedEventAttributes(
                reason=reason, details=details, identity=identity
            ),
        )
        self._close(C.WORKFLOW_EXECUTION_STATUS_TERMINATED)

    def add_workflow_execution_timed_out(self) -> None:
        self._add_event(
            H.EVENT_TYPE_WORKFLOW_EXECUTION_TIMED_OUT,
            workflow_execution_timed_out_event_attributes=H.WorkflowExecutionTimedOutEventAttributes(
                retry_state=C.RETRY_STATE_TIMEOUT
            ),
        )
        self._close(C.WORKFLOW_EXECUTION_STATUS_TIMED_OUT)

    def add_workflow_execution_continued_as_new(
        self,
        new: Execution,
        c: command_pb2.ContinueAsNewWorkflowExecutionCommandAttributes,
        completed_id: int,
    ) -> None:
        """The run closes as ContinuedAsNew and ``new`` (a new run of the same workflow id, built by
        ``wf.history.new_run``) starts in the same transaction: the event names it, and the
        mutation of this change creates it once this run has left the running ones."""
        started = new.events[0].workflow_execution_started_event_attributes
        self._add_event(
            H.EVENT_TYPE_WORKFLOW_EXECUTION_CONTINUED_AS_NEW,
            workflow_execution_continued_as_new_event_attributes=H.WorkflowExecutionContinuedAsNewEventAttributes(
                new_execution_run_id=new.record.run_id,
                workflow_type=started.workflow_type,
                task_queue=started.task_queue,
                input=c.input,
                workflow_run_timeout=started.workflow_run_timeout,
                workflow_task_timeout=started.workflow_task_timeout,
                workflow_task_completed_event_id=completed_id,
                initiator=C.CONTINUE_AS_NEW_INITIATOR_WORKFLOW,
                memo=started.memo,
                search_attributes=started.search_attributes,
            ),
        )
        self._close(C.WORKFLOW_EXECUTION_STATUS_CONTINUED_AS_NEW)
        self.then_create = new

    def _suggesting_continue_as_new(
        self, attributes: H.WorkflowTaskStartedEventAttributes
    ) -> H.WorkflowTaskStartedEventAttributes:
        """``attributes`` with the history's size as of this event, and whether its length or size
        is past the limits from which continue-as-new is suggested: the server decides, so a replay
        reads the answer the run had."""
        size = self.record.history_size + sum(e.ByteSize() for e in self.events)
        attributes.history_size_bytes = size
        attributes.suggest_continue_as_new = (
            self.state.continue_as_new_suggested
            or self.record.next_event_id >= self.limits.suggest_continue_as_new_events
            or size >= self.limits.suggest_continue_as_new_bytes
        )
        self.state.continue_as_new_suggested = attributes.suggest_continue_as_new
        return attributes

    def _close(self, status: int) -> None:
        """The run is over: nothing of it waits any more (its rows are dropped with it)."""
        self.record.status = status
        self.record.close_time = self.now
        self._abandon_accepted_updates()
        self.state.ClearField("workflow_task")
        self.state.activities.clear()
        self.state.workflow_task_needed = False
        self.closes = True
        self._timers.clear()
        self._deleted_timers.clear()
        self._tasks.clear()
        self.changed = True
        self._close_reaches_other_runs(status)
        self._close_reaches_schedule(status)

    def _close_reaches_schedule(self, status: int) -> None:
        """A run a schedule started tells its schedule of its close (``wf.history.schedules.closes``),
        unless it continued as new: the next run keeps the schedule, and the chain's last close counts."""
        if self.state.schedule_id and status != C.WORKFLOW_EXECUTION_STATUS_CONTINUED_AS_NEW:
            self._add_cross_run_task(SCHEDULE_CLOSED_KEY, TimerKind.SCHEDULE_CLOSED, self.record.next_event_id - 1)

    # -- reset: a run made from another run's events (``wf.history.operations.reset``) --------------

    def add_copied_events(self, events: list[history_pb2.HistoryEvent]) -> None:
        """A new run made by a reset takes the base run's events up to the reset point as its own
        (ids and times kept); :func:`wf.history.rebuild.rebuild` gives it the state they left."""
        self.events.extend(events)
        self.record.next_event_id = events[-1].event_id + 1
        self.changed = True

    def add_rows_of_rebuilt_state(self, timer_fire_at: Mapping[str, datetime]) -> None:
        """The rows a rebuilt state implies: each pending activity waits in its queue again (as
        scheduled now, with what is left of its schedule-to-close time), each user timer fires when
        it would have, each signal to another workflow not yet delivered is sent, and the run's
        timeouts are set (its run timeout from now, the chain's expiration as it was)."""
        s = self.state
        soon = timedelta(microseconds=1)
        for a in s.activities.values():
            a.current_attempt_scheduled_time.CopyFrom(self.timestamp())
            self.add_activity_task(a)
            if is_set(a.schedule_to_close_timeout):
                deadline = a.scheduled_time.ToDatetime(UTC) + duration(a.schedule_to_close_timeout)
                self._set_timer(
                    activity_timer_key(a.scheduled_event_id, "s2c"), max(deadline - self.now, soon),
                    TimerKind.ACTIVITY_SCHEDULE_TO_CLOSE, a.scheduled_event_id, 1,
                )
        for timer_id, started_id in s.timers.items():
            after = max(timer_fire_at[timer_id] - self.now, soon)
            self._set_timer(user_timer_key(timer_id), after, TimerKind.USER_TIMER, started_id, 1)
        for initiated in s.pending_external_signals:
            self._add_cross_run_task(external_signal_key(initiated), TimerKind.SIGNAL_EXTERNAL, initiated)
        for initiated, child in s.children.items():
            if not child.run_id:  # its start was not recorded: the new run starts it
                self._add_cross_run_task(start_child_key(initiated), TimerKind.START_CHILD, initiated)
        for initiated in s.cancel_requests:
            self._add_cross_run_task(cancel_external_key(initiated), TimerKind.CANCEL_EXTERNAL, initiated)
        expiration = (
            s.workflow_execution_expiration_time.ToDatetime(UTC)
            if s.HasField("workflow_execution_expiration_time") else None
        )
        self.add_workflow_timeouts(
            duration(s.workflow_run_timeout) if is_set(s.workflow_run_timeout) else None,
            max(expiration - self.now, soon) if expiration is not None else None,
        )

    ended_by_reset = False
    """Set on a run a reset terminates: what its close implies for other runs (a parent close
    policy) does not apply, as in Temporal, since the new run carries on the same work."""

    def add_workflow_execution_terminated_by_reset(self, reason: str, identity: str, new_run_id: str) -> None:
        """The running run ends because a reset made ``new_run_id`` (in the same transaction)."""
        self.ended_by_reset = True
        self.add_workflow_execution_terminated(f"reset to run {new_run_id}: {reason}", C.Payloads(), identity)

    def add_workflow_task_failed_for_reset(self, base_run_id: str, reason: str, identity: str) -> None:
        """The workflow task pending at the reset point fails with cause RESET_WORKFLOW (started
        first when it was only scheduled, as Temporal does), so the current code decides it again."""
        wt = self.state.workflow_task
        if not wt.started_event_id:
            self.add_workflow_task_started(identity)
            self._forget_new_timer("wft")
        self._add_event(
            H.EVENT_TYPE_WORKFLOW_TASK_FAILED,
            workflow_task_failed_event_attributes=H.WorkflowTaskFailedEventAttributes(
                scheduled_event_id=wt.scheduled_event_id,
                started_event_id=wt.started_event_id,
                cause=C.WORKFLOW_TASK_FAILED_CAUSE_RESET_WORKFLOW,
                failure=C.Failure(
                    message=reason,
                    source="wf-server",
                    application_failure_info=C.ApplicationFailureInfo(type="ResetWorkflow", non_retryable=True),
                ),
                identity=identity,
                base_run_id=base_run_id,
                new_run_id=self.record.run_id,
            ),
        )
        self.state.ClearField("workflow_task")
        self.state.workflow_task_needed = False

    # -- writing ---------------------------------------------------------------------------------

    def mutation(self) -> Mutation:
        record = dataclasses.replace(self.record)
        record.state = self.state.SerializeToString()
        mirror(record, self.state)
        events = []
        for e in self.events:
            data = e.SerializeToString()
            record.history_size += len(data)
            events.append((e.event_id, int(e.event_type), data))
        return Mutation(
            record=record,
            expected_version=0 if self.new else self.record.db_version,
            events=events,
            tasks=list(self._tasks),
            timers=[*self._timers.values(), *self._cross_run.values()],
            deleted_timer_keys=sorted(self._deleted_timers),
            claimed_task_ids=list(self._claimed_task_ids),
            claimed_timers=dict(self._claimed_timers),
            closes=self.closes,
            then_create=self.then_create.mutation() if self.then_create is not None else None,
        )

