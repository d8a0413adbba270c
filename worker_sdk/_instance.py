"""One workflow run in a worker: its loop, its pending operations, the commands it produced.

``activate(activation)`` is the boundary: the instance applies the activation's jobs (one
``_apply_<job>`` method each, see ``_activation.py``), then runs workflow code until every coroutine
is blocked and returns the commands it produced. Workflow API functions find the instance through the
running loop.
"""

from __future__ import annotations

import asyncio
import enum
import inspect
import logging
import os
import random
import sys
import typing
import uuid
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from typing import Any, assert_never

from wf.v1 import command_pb2, common_pb2
from worker_sdk import _guard
from worker_sdk._activation import (
    PATCH_MARKER,
    Activation,
    CancelWorkflow,
    DoUpdate,
    FireTimer,
    Job,
    NotifyHasPatch,
    ResolveActivity,
    ResolveChildWorkflowExecution,
    ResolveChildWorkflowExecutionStart,
    ResolveRequestCancelExternalWorkflow,
    ResolveSignalExternalWorkflow,
    SignalWorkflow,
    StartWorkflow,
    UpdateRecorded,
)
from worker_sdk._children import Children, ParentInfo, RootInfo
from worker_sdk._converter import DataConverter, encode_named_payloads
from worker_sdk._definition import ActivityDefinition, WorkflowDefinition, update_validator
from worker_sdk._failure import from_failure, to_failure
from worker_sdk._loop import WorkflowLoop
from worker_sdk._reset import STACK_TRACE_QUERY
from worker_sdk._retry import RetryPolicy
from worker_sdk._stack import stack_trace
from worker_sdk._visibility import search_attribute_payloads, upserted_locally
from worker_sdk.errors import (
    ActivityError,
    ApplicationError,
    CancelledError,
    ContinueAsNewError,
    FailureError,
    NondeterminismError,
    NotInWorkflowError,
    RetryState,
)

_log = logging.getLogger("worker_sdk.workflow")
# ``workflow.memo_value(key)`` without a default raises KeyError for a field the memo lacks.
_NO_DEFAULT: Any = object()
_SDK_DIR = os.path.dirname(os.path.abspath(__file__))
_ASYNCIO_DIR = os.path.dirname(os.path.abspath(asyncio.__file__))


@dataclass(frozen=True)
class Info:
    """What a workflow knows about its own run (``workflow.info()``)."""

    namespace: str
    workflow_id: str
    run_id: str
    workflow_type: str
    task_queue: str
    attempt: int
    start_time: datetime
    # Events in the history when this workflow task started.
    history_length: int = 0
    # Bytes of the history when this workflow task started, as its WorkflowTaskStarted records.
    history_size: int = 0
    # Set in a child workflow: the run that started it, and the run at the top of its parents.
    parent: ParentInfo | None = None
    root: RootInfo | None = None
    # The run this one continued (continue-as-new), and the first run of the chain.
    continued_run_id: str | None = None
    first_execution_run_id: str = ""
    # Whether the server suggested continue-as-new when this workflow task started.
    continue_as_new_suggested: bool = False
    # The run's search attributes as of the current activation: those it started with (typed by the
    # server), then each ``workflow.upsert_search_attributes`` applied as the code calls it.
    search_attributes: Mapping[str, Any] = field(default_factory=dict)

    def is_continue_as_new_suggested(self) -> bool:
        """Whether the history is long or large enough that the run should continue as new: decided
        by the server (``--suggest-continue-as-new-events``/``-bytes``) and recorded with the workflow
        task, so a replay sees the same answer."""
        return self.continue_as_new_suggested

    def get_current_history_length(self) -> int:
        """Events in the history when this workflow task started."""
        return self.history_length

    def get_current_history_size(self) -> int:
        """Bytes of the history when this workflow task started, as the server recorded them."""
        _history_size_read()
        return self.history_size


@dataclass
class PendingCommand:
    command: command_pb2.Command
    # Where in workflow code it was asked for: "file:line in function".
    origin: str
    # Told the id of the event that records the command, once replay matched it: what history later
    # resolves (a signal's delivery, say) names that event.
    recorded: Callable[[int], None] | None = None


@dataclass
class _PendingActivity:
    future: ActivityFuture
    activity_type: str
    return_hint: Any
    command: PendingCommand
    scheduled_event_id: int = 0
    cancel_requested: bool = False


_INTERNAL_FILES: dict[str, bool] = {}


def _internal(filename: str) -> bool:
    """Whether a code file belongs to the SDK or asyncio (remembered: this runs for every command)."""
    internal = _INTERNAL_FILES.get(filename)
    if internal is None:
        path = os.path.abspath(filename)
        internal = _INTERNAL_FILES[filename] = path.startswith(_SDK_DIR) or path.startswith(_ASYNCIO_DIR)
    return internal


def _user_origin() -> str:
    frame = sys._getframe(1)
    while frame is not None:
        if not _internal(frame.f_code.co_filename):
            return f"{frame.f_code.co_filename}:{frame.f_lineno} in {frame.f_code.co_name}"
        frame = frame.f_back  # type: ignore[assignment]
    return "unknown location"


class ActivityCancellationType(enum.IntEnum):
    """What cancelling an awaited activity does."""

    #: Ask the server to cancel it, and raise CancelledError in the workflow at once (the default).
    TRY_CANCEL = 0
    #: Ask the server to cancel it, and wait until the activity has acknowledged (or finished).
    WAIT_CANCELLATION_COMPLETED = 1
    #: Raise CancelledError in the workflow at once and leave the activity running.
    ABANDON = 2


class ActivityFuture(asyncio.Future[Any]):
    """The handle ``workflow.start_activity`` returns: await it for the result; cancel it to cancel."""

    def __init__(self, instance: WorkflowInstance, activity_id: str, mode: ActivityCancellationType) -> None:
        super().__init__(loop=instance.loop)
        self._instance = instance
        self.activity_id = activity_id
        self._mode = mode

    def cancel(self, msg: Any = None) -> bool:
        if self.done():
            return False
        if self._mode == ActivityCancellationType.ABANDON:
            self._instance.activities.pop(self.activity_id, None)
            return super().cancel(msg)
        sent = self._instance.request_activity_cancel(self.activity_id)
        if self._mode == ActivityCancellationType.WAIT_CANCELLATION_COMPLETED and sent:
            return False  # resolved when the history records the outcome
        return super().cancel(msg)

    def cancel_now(self) -> None:
        """The activity's cancellation completed: raise CancelledError in whoever awaits it."""
        super().cancel()


class _TimerHandle(asyncio.TimerHandle):
    """A durable timer: fired by a TimerFired event, cancelled with a CancelTimer command."""

    def __init__(
        self, when: float, callback: Any, args: Any, instance: WorkflowInstance, timer_id: str, context: Any
    ) -> None:
        super().__init__(when, callback, args, instance.loop, context)
        self._instance = instance
        self.timer_id = timer_id

    def cancel(self) -> None:
        if not self.cancelled():
            self._instance.cancel_timer(self.timer_id)
        super().cancel()


class WorkflowInstance:
    def __init__(self, defn: WorkflowDefinition, info: Info, converter: DataConverter) -> None:
        self.defn = defn
        self.info = info
        self.converter = converter
        self.loop = WorkflowLoop()  # type: ignore[abstract]  # the methods it lacks are ones workflows must not use
        self.loop.instance = self  # type: ignore[attr-defined]
        self.loop.timer_factory = self.start_timer
        self.commands: list[PendingCommand] = []
        self.activities: dict[str, _PendingActivity] = {}
        self._activity_seq = 0
        self.timers: dict[str, _TimerHandle] = {}
        self._timer_seq = 0
        self.conditions: list[tuple[Callable[[], bool], asyncio.Future[bool]]] = []
        # Children started, and cancellations asked of other workflows (``_children.py``).
        self.children = Children(self)
        # Signals sent to other workflows, awaiting delivery, by the id of their initiated event.
        self.external_signals: dict[int, asyncio.Future[None]] = {}
        self.signal_handlers: dict[str, Callable[..., Any]] = {}
        self.buffered_signals: dict[str, list[common_pb2.Payloads]] = {}
        self.cancel_requested = False
        self._handler_failure: BaseException | None = None
        # Updates: answers for this activation, finished handlers not yet recorded, and the ids the
        # history already records as completed.
        self.update_responses: list[common_pb2.UpdateResponse] = []
        self.update_outcomes: dict[str, common_pb2.UpdateOutcome] = {}
        self.completed_updates: set[str] = set()
        # Versioning: each patch id's answer for this run, the patch markers the history records for
        # the activation being replayed, and the patches deprecated in code.
        self.patches: dict[str, bool] = {}
        self.markers_here: set[str] = set()
        self.deprecated_patches: set[str] = set()
        self.now = info.start_time
        self.replaying = False
        self.random = random.Random(uuid.UUID(info.run_id).int if _is_uuid(info.run_id) else info.run_id)
        self.main: asyncio.Task[Any] | None = None
        self.finished = False
        self.obj: Any = None
        # Continue-as-new raised by a signal or update handler (the run method's is its own outcome).
        self._continue_as_new: ContinueAsNewError | None = None
        # Signal and update handlers still running (async ones): what each is, for the warning
        # when the run closes without them, and for workflow.all_handlers_finished().
        self.running_handlers: dict[asyncio.Task[Any], _RunningHandler] = {}
        # Whether workflow code read the history size in this activation (a task run ahead cannot),
        # and ever: such a run's tasks are not run ahead, so it keeps its place in the cache.
        self.history_size_read = False
        self.reads_history_size = False
        # The run's memo (payloads), as of the current activation: the start's, then each upsert.
        self.memo: dict[str, common_pb2.Payload] = {}
        # What the run's WorkflowExecutionStarted carried over from the run before it (a schedule's
        # previous run, a cron or retry predecessor): its result, or its failure.
        self.last_completion_result: common_pb2.Payloads | None = None
        self.last_failure: common_pb2.Failure | None = None

    # -- driving --------------------------------------------------------------------------------

    def _apply_start_workflow(self, job: StartWorkflow) -> None:
        args = self.converter.from_payloads(job.input, self.defn.arg_hints)
        if job.attributes is not None and job.attributes.HasField("parent_workflow_execution"):
            a = job.attributes
            p, r = a.parent_workflow_execution, a.root_workflow_execution
            self.info = replace(
                self.info,
                parent=ParentInfo(a.parent_workflow_namespace, p.run_id, p.workflow_id),
                root=RootInfo(r.run_id, r.workflow_id) if r.workflow_id else None,
            )
        # The workflow object is made first, then signals that came with the start are delivered,
        # then the run method begins: the order Temporal users expect.
        self.loop.call_soon(self._create_main, args)

    def _create_main(self, args: list[Any]) -> None:
        if self.defn.cls is not None:
            self.obj = self.defn.cls()
            for name, fn in self.defn.signals.items():
                self.signal_handlers.setdefault(name, getattr(self.obj, fn.__name__))
            coro = self.defn.run_fn(self.obj, *args)
        else:
            coro = self.defn.run_fn(*args)
        self.main = self.loop.create_task(coro, name=f"workflow {self.info.workflow_type}")

    def activate(self, activation: Activation) -> list[PendingCommand]:
        """Apply the activation's jobs, then run workflow code until it blocks; the commands it
        produced, in order.

        Raises whatever non-failure exception workflow code raised: that fails the workflow task.
        """
        self.now = activation.time
        self.replaying = activation.replaying
        self.info = _replace_info(self.info, activation)
        self.loop.set_time(activation.time.timestamp())
        self.commands = []
        self.update_responses = []
        self.markers_here = set()
        for job in activation.jobs:
            self._apply(job)
        while True:
            self.loop.run_ready()
            if self.loop.errors:
                raise self.loop.errors.pop(0)
            if not self._check_conditions():
                break
        if not self.finished and self._handler_failure is not None:
            self.finished = True
            self._warn_unfinished_handlers("failed")
            self._add_fail(self._handler_failure)
            return self.commands
        if not self.finished and self._continue_as_new is not None:
            self.finished = True
            self._close_continuing(self._continue_as_new)
            return self.commands
        main = self.main
        if main is not None and main.done() and not self.finished:
            self.finished = True
            if main.cancelled():
                if not self.cancel_requested:
                    raise RuntimeError("the workflow's main coroutine was cancelled without a cancellation request")
                self._add(
                    command_pb2.Command(
                        command_type=command_pb2.COMMAND_TYPE_CANCEL_WORKFLOW_EXECUTION,
                        cancel_workflow_execution_command_attributes=command_pb2.CancelWorkflowExecutionCommandAttributes(),
                    ),
                    origin=f"cancellation of {self.info.workflow_type}",
                )
                return self.commands
            exc = main.exception()
            if isinstance(exc, ContinueAsNewError):
                self._close_continuing(exc)
            elif exc is None:
                self._warn_unfinished_handlers("completed")
                self._add(
                    command_pb2.Command(
                        command_type=command_pb2.COMMAND_TYPE_COMPLETE_WORKFLOW_EXECUTION,
                        complete_workflow_execution_command_attributes=command_pb2.CompleteWorkflowExecutionCommandAttributes(
                            result=self.converter.to_payloads([main.result()])
                        ),
                    ),
                    origin=f"return of {self.info.workflow_type}",
                )
            elif isinstance(exc, FailureError):
                self._warn_unfinished_handlers("failed")
                self._add_fail(exc)
            else:
                raise exc
        return self.commands

    # -- continue-as-new and the handlers a close leaves ------------------------------------------

    def _close_continuing(self, exc: ContinueAsNewError) -> None:
        """The run closes by continuing as new, with the command ``workflow.continue_as_new`` built."""
        self._warn_unfinished_handlers("continued as new")
        self._add(
            command_pb2.Command(
                command_type=command_pb2.COMMAND_TYPE_CONTINUE_AS_NEW_WORKFLOW_EXECUTION,
                continue_as_new_workflow_execution_command_attributes=exc.command,
            ),
            origin=exc.origin or f"continue_as_new in {self.info.workflow_type}",
        )

    def continue_as_new(
        self,
        args: tuple[Any, ...],
        *,
        workflow: Any,
        task_queue: str | None,
        run_timeout: timedelta | None,
        task_timeout: timedelta | None,
        retry_policy: RetryPolicy | None,
        memo: Mapping[str, Any] | None,
        search_attributes: Mapping[str, Any] | None,
    ) -> ContinueAsNewError:
        """The error ``workflow.continue_as_new`` raises, carrying the command the run closes with."""
        attrs = command_pb2.ContinueAsNewWorkflowExecutionCommandAttributes(input=self.converter.to_payloads(args))
        if workflow is not None:
            name = workflow if isinstance(workflow, str) else WorkflowDefinition.of(workflow).name
            attrs.workflow_type.name = name
        if task_queue:
            attrs.task_queue.name = task_queue
        for label, value in (("workflow_run_timeout", run_timeout), ("workflow_task_timeout", task_timeout)):
            if value is not None:
                if value <= timedelta(0):
                    raise ValueError(f"continue_as_new: {label} must be positive, got {value}")
                getattr(attrs, label).FromTimedelta(value)
        if retry_policy is not None:
            attrs.retry_policy.CopyFrom(retry_policy.to_proto())
        if memo is not None:
            attrs.memo.CopyFrom(common_pb2.Memo(fields=encode_named_payloads(self.converter, memo)))
        if search_attributes is not None:
            attrs.search_attributes.CopyFrom(
                common_pb2.SearchAttributes(indexed_fields=search_attribute_payloads(search_attributes))
            )
        return ContinueAsNewError(attrs, _user_origin())

    # -- search attributes and memo -------------------------------------------------------------

    def upsert_search_attributes(self, values: Mapping[str, Any]) -> None:
        """Command UpsertWorkflowSearchAttributes; ``info().search_attributes`` changes at once (the
        code makes the same call when replayed, so it changes the same way)."""
        if not values:
            raise ValueError("upsert_search_attributes() needs at least one search attribute")
        payloads = search_attribute_payloads(values)
        self._add(command_pb2.Command(
            command_type=command_pb2.COMMAND_TYPE_UPSERT_WORKFLOW_SEARCH_ATTRIBUTES,
            upsert_workflow_search_attributes_command_attributes=command_pb2.UpsertWorkflowSearchAttributesCommandAttributes(
                search_attributes=common_pb2.SearchAttributes(indexed_fields=payloads)
            ),
        ))
        self.info = replace(self.info, search_attributes=upserted_locally(self.info.search_attributes, values))

    def upsert_memo(self, values: Mapping[str, Any]) -> None:
        """Command ModifyWorkflowProperties: memo fields set (None removes one); ``memo()`` changes at once."""
        if not values:
            raise ValueError("upsert_memo() needs at least one memo field")
        payloads = {
            name: common_pb2.Payload(metadata={"encoding": b"binary/null"}) if value is None
            else self.converter.payload_converter.to_payload(value)
            for name, value in values.items()
        }
        self._add(command_pb2.Command(
            command_type=command_pb2.COMMAND_TYPE_MODIFY_WORKFLOW_PROPERTIES,
            modify_workflow_properties_command_attributes=command_pb2.ModifyWorkflowPropertiesCommandAttributes(
                upserted_memo=common_pb2.Memo(fields=payloads)
            ),
        ))
        for name, value in values.items():
            if value is None:
                self.memo.pop(name, None)
            else:
                self.memo[name] = payloads[name]

    def memo_value(self, key: str, default: Any, type_hint: Any) -> Any:
        payload = self.memo.get(key)
        if payload is None:
            if default is _NO_DEFAULT:
                raise KeyError(f"the run's memo has no field {key!r}")
            return default
        return self.converter.payload_converter.from_payload(payload, type_hint)

    def _handler_started(self, task: asyncio.Task[Any], kind: str, name: str, fn: Any) -> None:
        policy = getattr(fn, UNFINISHED_POLICY_ATTR, HandlerUnfinishedPolicy.WARN_AND_ABANDON)
        self.running_handlers[task] = _RunningHandler(kind, name, policy)
        task.add_done_callback(self._handler_ended)

    def _handler_ended(self, task: asyncio.Task[Any]) -> None:
        self.running_handlers.pop(task, None)

    def all_handlers_finished(self) -> bool:
        return not any(not task.done() for task in self.running_handlers)

    def _warn_unfinished_handlers(self, how: str) -> None:
        """As temporalio: the run closes while signal or update handlers still run; each whose
        policy is WARN_AND_ABANDON is named in one warning (not while replaying)."""
        unfinished = [h for t, h in self.running_handlers.items() if not t.done()]
        named = [h for h in unfinished if h.policy == HandlerUnfinishedPolicy.WARN_AND_ABANDON]
        if not named or self.replaying:
            return
        _log.warning(
            "workflow %s (%s) %s while %s %s still running, abandoned now. Wait for handlers with "
            "`await workflow.wait_condition(workflow.all_handlers_finished)` before closing, or mark "
            "them @workflow.signal/@workflow.update(unfinished_policy=HandlerUnfinishedPolicy.ABANDON)",
            self.info.workflow_type, self.info.workflow_id, how,
            ", ".join(f"{h.kind} handler {h.name!r}" for h in named), "is" if len(named) == 1 else "are",
        )

    def _apply(self, job: Job) -> None:
        match job:
            case StartWorkflow():
                self._apply_start_workflow(job)
            case ResolveActivity():
                self._apply_resolve_activity(job)
            case FireTimer():
                self._apply_fire_timer(job)
            case SignalWorkflow():
                self._apply_signal_workflow(job)
            case CancelWorkflow():
                self._apply_cancel_workflow(job)
            case DoUpdate():
                self._apply_do_update(job)
            case UpdateRecorded():
                self._apply_update_recorded(job)
            case NotifyHasPatch():
                self._apply_notify_has_patch(job)
            case ResolveSignalExternalWorkflow():
                self._apply_resolve_signal_external_workflow(job)
            case ResolveChildWorkflowExecutionStart():
                self._apply_resolve_child_workflow_execution_start(job)
            case ResolveChildWorkflowExecution():
                self._apply_resolve_child_workflow_execution(job)
            case ResolveRequestCancelExternalWorkflow():
                self._apply_resolve_request_cancel_external_workflow(job)
            case _:
                assert_never(job)

    def _add_fail(self, exc: BaseException) -> None:
        self._add(
            command_pb2.Command(
                command_type=command_pb2.COMMAND_TYPE_FAIL_WORKFLOW_EXECUTION,
                fail_workflow_execution_command_attributes=command_pb2.FailWorkflowExecutionCommandAttributes(
                    failure=to_failure(exc, self.converter)
                ),
            ),
            origin=f"raise in {self.info.workflow_type}",
        )

    def _add(self, command: command_pb2.Command, origin: str | None = None) -> PendingCommand:
        pending = PendingCommand(command, origin or _user_origin())
        self.commands.append(pending)
        return pending

    def _unsent(self, pending: PendingCommand | None) -> bool:
        """Drop a command of this activation that is not needed after all; whether it was there."""
        if pending is not None and any(c is pending for c in self.commands):
            self.commands = [c for c in self.commands if c is not pending]
            return True
        return False

    # -- conditions -----------------------------------------------------------------------------

    def wait_condition(self, fn: Callable[[], bool]) -> asyncio.Future[bool]:
        future: asyncio.Future[bool] = self.loop.create_future()
        self.conditions.append((fn, future))
        return future

    def _check_conditions(self) -> bool:
        """Resolve the conditions that now hold; whether any did (then the loop runs again)."""
        progressed = False
        remaining = []
        # As workflow code: a condition may call workflow functions (workflow.all_handlers_finished).
        previous = asyncio.events._get_running_loop()
        asyncio.events._set_running_loop(self.loop)
        try:
            for fn, future in self.conditions:
                if future.done():
                    continue
                if fn():
                    future.set_result(True)
                    progressed = True
                else:
                    remaining.append((fn, future))
        finally:
            asyncio.events._set_running_loop(previous)
        self.conditions = remaining
        return progressed

    # -- signals and cancellation ----------------------------------------------------------------

    def _apply_signal_workflow(self, job: SignalWorkflow) -> None:
        self.loop.call_soon(self._deliver_signal, job.name, job.input)

    def _deliver_signal(self, name: str, input: common_pb2.Payloads) -> None:
        handler = self.signal_handlers.get(name)
        if handler is None:
            self.buffered_signals.setdefault(name, []).append(input)
            return
        try:
            args = self.converter.from_payloads(input, _param_hints(handler))
        except (TypeError, ValueError, KeyError) as exc:
            _log.warning("signal %r to %s dropped: its input does not fit the handler: %s",
                         name, self.info.workflow_id, exc)
            return
        result = handler(*args)
        if asyncio.iscoroutine(result):
            task = self.loop.create_task(result, name=f"signal {name}")
            self._handler_started(task, "signal", name, handler)
            task.add_done_callback(self._handler_done)

    def _handler_done(self, task: asyncio.Task[Any]) -> None:
        if task.cancelled():
            return
        exc = task.exception()
        if isinstance(exc, FailureError):
            self._handler_failure = self._handler_failure or exc
        elif isinstance(exc, ContinueAsNewError):
            self._continue_as_new = self._continue_as_new or exc
        elif exc is not None:
            self.loop.errors.append(exc)

    def set_signal_handler(self, name: str, handler: Callable[..., Any] | None) -> None:
        if handler is None:
            self.signal_handlers.pop(name, None)
            return
        self.signal_handlers[name] = handler
        for input in self.buffered_signals.pop(name, []):
            self.loop.call_soon(self._deliver_signal, name, input)

    def _apply_cancel_workflow(self, job: CancelWorkflow) -> None:
        self.cancel_requested = True
        self.loop.call_soon(self._cancel_main)

    def _cancel_main(self) -> None:
        if self.main is not None and not self.main.done():
            self.main.cancel()

    # -- signalling other workflows -------------------------------------------------------------

    def signal_external(
        self, workflow_id: str, run_id: str, name: str, args: Sequence[Any], *, child_workflow_only: bool = False
    ) -> asyncio.Future[None]:
        """Send a signal to another workflow; the future resolves once it is delivered, or fails
        with an ApplicationError when the workflow is not found (or closed)."""
        future: asyncio.Future[None] = self.loop.create_future()
        attrs = command_pb2.SignalExternalWorkflowExecutionCommandAttributes(
            execution=common_pb2.WorkflowExecution(workflow_id=workflow_id, run_id=run_id),
            signal_name=name,
            input=self.converter.to_payloads(args),
            child_workflow_only=child_workflow_only,
        )
        pending = self._add(
            command_pb2.Command(
                command_type=command_pb2.COMMAND_TYPE_SIGNAL_EXTERNAL_WORKFLOW_EXECUTION,
                signal_external_workflow_execution_command_attributes=attrs,
            )
        )
        pending.recorded = lambda event_id: self.external_signals.__setitem__(event_id, future)
        return future

    def _apply_resolve_signal_external_workflow(self, job: ResolveSignalExternalWorkflow) -> None:
        future = self.external_signals.pop(job.initiated_event_id, None)
        if future is None or future.done():
            return
        if job.failure is None:
            future.set_result(None)
        else:
            future.set_exception(from_failure(job.failure, self.converter))

    # -- child workflows and cancelling other workflows ---------------------------------------------

    def _apply_resolve_child_workflow_execution_start(self, job: ResolveChildWorkflowExecutionStart) -> None:
        self.children.resolve_start(job)

    def _apply_resolve_child_workflow_execution(self, job: ResolveChildWorkflowExecution) -> None:
        self.children.resolve(job)

    def _apply_resolve_request_cancel_external_workflow(self, job: ResolveRequestCancelExternalWorkflow) -> None:
        self.children.resolve_cancel(job)

    # -- timers ---------------------------------------------------------------------------------

    def start_timer(self, delay: float, callback: Any, args: Any, context: Any) -> asyncio.TimerHandle:
        if delay <= 0:
            return self.loop.call_soon(callback, *args, context=context)  # type: ignore[return-value]
        self._timer_seq += 1
        timer_id = str(self._timer_seq)
        handle = _TimerHandle(self.loop.time() + delay, callback, args, self, timer_id, context)
        attrs = command_pb2.StartTimerCommandAttributes(timer_id=timer_id)
        attrs.start_to_fire_timeout.FromTimedelta(timedelta(seconds=delay))
        handle.command = self._add(  # type: ignore[attr-defined]
            command_pb2.Command(command_type=command_pb2.COMMAND_TYPE_START_TIMER, start_timer_command_attributes=attrs)
        )
        self.timers[timer_id] = handle
        return handle

    def cancel_timer(self, timer_id: str) -> None:
        handle = self.timers.pop(timer_id, None)
        if handle is None or self._unsent(getattr(handle, "command", None)):
            return  # fired already, or never sent: nothing to cancel on the server
        self._add(
            command_pb2.Command(
                command_type=command_pb2.COMMAND_TYPE_CANCEL_TIMER,
                cancel_timer_command_attributes=command_pb2.CancelTimerCommandAttributes(timer_id=timer_id),
            )
        )

    def _apply_fire_timer(self, job: FireTimer) -> None:
        handle = self.timers.pop(job.timer_id, None)
        if handle is not None and not handle.cancelled():
            self.loop._ready.append(handle)

    # -- activities -----------------------------------------------------------------------------

    def schedule_activity(
        self,
        activity: Any,
        args: tuple[Any, ...],
        *,
        task_queue: str | None,
        schedule_to_close_timeout: timedelta | None,
        schedule_to_start_timeout: timedelta | None,
        start_to_close_timeout: timedelta | None,
        heartbeat_timeout: timedelta | None,
        retry_policy: RetryPolicy | None,
        activity_id: str | None,
        result_type: Any,
        cancellation_type: ActivityCancellationType = ActivityCancellationType.TRY_CANCEL,
    ) -> ActivityFuture:
        if isinstance(activity, str):
            name, return_hint = activity, result_type
        else:
            defn = ActivityDefinition.of(activity)
            name, return_hint = defn.name, result_type or defn.return_hint
        if schedule_to_close_timeout is None and start_to_close_timeout is None:
            raise ValueError(
                f"activity {name!r} needs start_to_close_timeout or schedule_to_close_timeout"
            )
        timeouts = (
            ("schedule_to_close_timeout", schedule_to_close_timeout),
            ("schedule_to_start_timeout", schedule_to_start_timeout),
            ("start_to_close_timeout", start_to_close_timeout),
            ("heartbeat_timeout", heartbeat_timeout),
        )
        for label, value in timeouts:
            if value is not None and value <= timedelta(0):
                raise ValueError(f"activity {name!r}: {label} must be positive, got {value}")
        self._activity_seq += 1
        aid = activity_id or str(self._activity_seq)
        attrs = command_pb2.ScheduleActivityTaskCommandAttributes(
            activity_id=aid,
            activity_type=common_pb2.ActivityType(name=name),
            task_queue=common_pb2.TaskQueue(name=task_queue or self.info.task_queue),
            input=self.converter.to_payloads(args),
        )
        for label, value in timeouts:
            if value is not None:
                getattr(attrs, label).FromTimedelta(value)
        if retry_policy is not None:
            attrs.retry_policy.CopyFrom(retry_policy.to_proto())
        future = ActivityFuture(self, aid, cancellation_type)
        command = self._add(
            command_pb2.Command(
                command_type=command_pb2.COMMAND_TYPE_SCHEDULE_ACTIVITY_TASK,
                schedule_activity_task_command_attributes=attrs,
            )
        )
        self.activities[aid] = _PendingActivity(future, name, return_hint, command)
        return future

    def activity_scheduled(self, activity_id: str, scheduled_event_id: int) -> None:
        pending = self.activities.get(activity_id)
        if pending is not None:
            pending.scheduled_event_id = scheduled_event_id

    def request_activity_cancel(self, activity_id: str) -> bool:
        """Ask for the activity's cancellation; whether the server must be told (it was scheduled)."""
        pending = self.activities.get(activity_id)
        if pending is None or pending.cancel_requested:
            return pending is not None
        pending.cancel_requested = True
        if not pending.scheduled_event_id:
            # Asked for in this very activation and not yet sent: it simply never happens.
            self._unsent(pending.command)
            self.activities.pop(activity_id, None)
            return False
        self._add(
            command_pb2.Command(
                command_type=command_pb2.COMMAND_TYPE_REQUEST_CANCEL_ACTIVITY_TASK,
                request_cancel_activity_task_command_attributes=command_pb2.RequestCancelActivityTaskCommandAttributes(
                    scheduled_event_id=pending.scheduled_event_id
                ),
            )
        )
        return True

    def _apply_resolve_activity(self, job: ResolveActivity) -> None:
        pending = self.activities.pop(job.activity_id, None)
        if pending is None or pending.future.done():
            return
        if job.canceled:
            pending.future.cancel_now()
            return
        if job.failure is None:
            values = self.converter.from_payloads(job.result or common_pb2.Payloads(), [pending.return_hint])
            pending.future.set_result(values[0] if values else None)
            return
        error = ActivityError(
            "activity timed out" if job.timed_out else "activity failed",
            activity_type=pending.activity_type,
            activity_id=job.activity_id,
            scheduled_event_id=job.scheduled_event_id,
            started_event_id=job.started_event_id,
            retry_state=RetryState(job.retry_state),
        )
        error.__cause__ = from_failure(job.failure, self.converter)
        pending.future.set_exception(error)

    # -- updates ----------------------------------------------------------------------------------

    def _apply_do_update(self, job: DoUpdate) -> None:
        """A new update is validated in turn, then accepted or rejected; one the history records as
        accepted runs again, without its validator."""
        if job.validate:
            self.loop.call_soon(self._validate_update, job)
        else:
            self.loop.call_soon(self._deliver_accepted_update, job)

    def _validate_update(self, job: DoUpdate) -> None:
        uid, name = job.update_id, job.name
        fn = self.defn.updates.get(name)
        try:
            if fn is None or self.obj is None:
                known = ", ".join(sorted(self.defn.updates)) or "none"
                raise ApplicationError(
                    f"workflow {self.info.workflow_type!r} has no update {name!r} (known: {known})",
                    type="UnknownUpdate", non_retryable=True,
                )
            try:
                args = self.converter.from_payloads(job.input, _param_hints(fn)[1:])
                inspect.signature(fn).bind(self.obj, *args)
            except (TypeError, ValueError, KeyError) as exc:
                raise ApplicationError(
                    f"the arguments do not fit update {name!r}: {exc}", type="BadArguments", non_retryable=True
                ) from exc
            validator = update_validator(fn)
            if validator is not None:
                validator(self.obj, *args)
        except Exception as exc:
            self.update_responses.append(
                common_pb2.UpdateResponse(update_id=uid, rejected=to_failure(exc, self.converter))
            )
            return
        self.update_responses.append(common_pb2.UpdateResponse(update_id=uid, accepted=True))
        self._run_update(uid, fn, args)

    def _deliver_accepted_update(self, job: DoUpdate) -> None:
        uid, name = job.update_id, job.name
        fn = self.defn.updates.get(name)
        if fn is None or self.obj is None:
            raise NondeterminismError(
                f"the history records update {name!r} ({uid}) as accepted, but the workflow has no such handler"
            )
        self._run_update(uid, fn, self.converter.from_payloads(job.input, _param_hints(fn)[1:]))

    def _run_update(self, uid: str, fn: Callable[..., Any], args: list[Any]) -> None:
        try:
            result = fn(self.obj, *args)
        except FailureError as exc:
            self._update_finished(uid, exc, None)
            return
        if asyncio.iscoroutine(result):
            task = self.loop.create_task(result, name=f"update {uid}")
            self._handler_started(task, "update", getattr(fn, "__name__", uid), fn)

            def done(t: asyncio.Task[Any]) -> None:
                if t.cancelled():
                    self._update_finished(uid, CancelledError("update handler cancelled"), None)
                elif isinstance(t.exception(), ContinueAsNewError):
                    self._continue_as_new = self._continue_as_new or t.exception()  # type: ignore[assignment]
                elif isinstance(t.exception(), FailureError):
                    self._update_finished(uid, t.exception(), None)
                elif t.exception() is not None:
                    self.loop.errors.append(t.exception())  # type: ignore[arg-type]
                else:
                    self._update_finished(uid, None, t.result())

            task.add_done_callback(done)
        else:
            self._update_finished(uid, None, result)

    def _update_finished(self, uid: str, error: BaseException | None, result: Any) -> None:
        outcome = common_pb2.UpdateOutcome()
        if error is not None:
            outcome.failure.CopyFrom(to_failure(error, self.converter))
        else:
            outcome.success.CopyFrom(self.converter.to_payloads([result]))
        self.update_outcomes[uid] = outcome

    def _apply_update_recorded(self, job: UpdateRecorded) -> None:
        self.completed_updates.add(job.update_id)

    def pending_update_responses(self) -> list[common_pb2.UpdateResponse]:
        """What to tell the server about updates after the current activation."""
        responses = list(self.update_responses)
        for uid, outcome in self.update_outcomes.items():
            if uid not in self.completed_updates:
                responses.append(common_pb2.UpdateResponse(update_id=uid, completed=outcome))
        return responses

    # -- versioning -------------------------------------------------------------------------------

    def patched(self, patch_id: str) -> bool:
        """New code (True) or old code (False) at this patch, the same for the whole run."""
        if patch_id in self.patches:
            return self.patches[patch_id]
        # Live, new code records its choice; on replay the history says which code ran.
        use_new = not self.replaying or patch_id in self.markers_here
        self.patches[patch_id] = use_new
        if use_new:
            self._add(
                command_pb2.Command(
                    command_type=command_pb2.COMMAND_TYPE_RECORD_MARKER,
                    record_marker_command_attributes=command_pb2.RecordMarkerCommandAttributes(
                        marker_name=PATCH_MARKER, details={"patch_id": self.converter.to_payloads([patch_id])}
                    ),
                )
            )
        return use_new

    def _apply_notify_has_patch(self, job: NotifyHasPatch) -> None:
        self.markers_here.add(job.patch_id)

    def deprecate_patch(self, patch_id: str) -> None:
        """The old branch is gone: the patch's marker may or may not be in the history."""
        self.deprecated_patches.add(patch_id)
        self.patches[patch_id] = True

    # -- queries ----------------------------------------------------------------------------------

    def query(self, name: str, args: common_pb2.Payloads) -> common_pb2.Payloads:
        """Answer a query from the current state; raises QueryError when it cannot be answered."""
        if name == STACK_TRACE_QUERY:
            return self.converter.to_payloads([stack_trace(self.loop.tasks)])
        fn = self.defn.queries.get(name)
        if fn is None:
            known = ", ".join(sorted(self.defn.queries)) or "none"
            raise QueryError(f"workflow {self.info.workflow_type!r} has no query {name!r} (known: {known})")
        if self.obj is None:
            raise QueryError("the workflow has not run its first workflow task yet: ask again in a moment")
        try:
            values = self.converter.from_payloads(args, _param_hints(fn)[1:])
        except (TypeError, ValueError, KeyError) as exc:
            raise QueryError(f"the arguments do not fit query {name!r}: {exc}") from exc
        before = dict(vars(self.obj))
        commands = len(self.commands)
        ready = len(self.loop._ready)
        previous = asyncio.events._get_running_loop()
        asyncio.events._set_running_loop(self.loop)
        try:
            with _guard.active():
                result = fn(self.obj, *values)
        except Exception as exc:
            raise QueryError(f"query {name!r} raised {type(exc).__name__}: {exc}") from exc
        finally:
            asyncio.events._set_running_loop(previous)
        after = vars(self.obj)
        changed = sorted(k for k in set(before) | set(after) if before.get(k, _MISSING) is not after.get(k, _MISSING))
        if changed or len(self.commands) != commands or len(self.loop._ready) != ready:
            vars(self.obj).clear()
            vars(self.obj).update(before)
            raise QueryError(
                f"query {name!r} changed the workflow (attributes: {', '.join(changed) or 'none'}, or it scheduled "
                "work): query handlers must only read state"
            )
        if asyncio.iscoroutine(result):
            result.close()
            raise QueryError(f"query {name!r} returned a coroutine: query handlers must be plain `def`")
        return self.converter.to_payloads([result])

    # -- determinism helpers ----------------------------------------------------------------------

    def uuid4(self) -> uuid.UUID:
        return uuid.UUID(int=self.random.getrandbits(128), version=4)


class QueryError(Exception):
    """A query could not be answered; the message goes back to the caller."""


_MISSING = object()


def _param_hints(fn: Callable[..., Any]) -> list[Any]:
    try:
        hints = typing.get_type_hints(fn)
    except Exception:
        return []
    params = [
        p for p in inspect.signature(fn).parameters.values()
        if p.kind in (inspect.Parameter.POSITIONAL_ONLY, inspect.Parameter.POSITIONAL_OR_KEYWORD)
    ]
    return [hints.get(p.name) for p in params]


def _is_uuid(value: str) -> bool:
    try:
        uuid.UUID(value)
    except ValueError:
        return False
    return True


def _replace_info(info: Info, activation: Activation) -> Info:
    from dataclasses import replace

    return replace(
        info,
        history_length=activation.history_length,
        history_size=activation.history_size,
        continue_as_new_suggested=activation.suggest_continue_as_new,
    )


def _history_size_read() -> None:
    """Workflow code read the history size: a task run ahead cannot know it (see ``Replay.run_ahead``)."""
    try:
        instance = current_instance("")
    except RuntimeError:
        return
    instance.history_size_read = instance.reads_history_size = True


class HandlerUnfinishedPolicy(enum.Enum):
    """What to do when the run closes while a signal or update handler still runs (as temporalio)."""

    #: Log a warning naming the handler, then abandon it (the default).
    WARN_AND_ABANDON = 1
    #: Abandon it silently.
    ABANDON = 2


# Where @workflow.signal/@workflow.update(unfinished_policy=...) keep the policy on the function.
UNFINISHED_POLICY_ATTR = "__wf_unfinished_policy__"


@dataclass(frozen=True, slots=True)
class _RunningHandler:
    kind: str
    name: str
    policy: HandlerUnfinishedPolicy


def current_instance(what: str) -> WorkflowInstance:
    """The workflow instance whose loop is running, or an error naming ``what`` was misused."""
    try:
        loop = asyncio.get_running_loop()
    except RuntimeError:
        loop = None
    instance = getattr(loop, "instance", None)
    if not isinstance(instance, WorkflowInstance):
        raise NotInWorkflowError(f"{what} can only be called from workflow code")
    return instance


class ReplayAwareLogger(logging.LoggerAdapter):  # type: ignore[type-arg]
    """``workflow.logger``: silent while replaying, tagged with the run otherwise."""

    def isEnabledFor(self, level: int) -> bool:
        try:
            instance = current_instance("workflow.logger")
        except RuntimeError:
            return bool(self.logger.isEnabledFor(level))
        return not instance.replaying and bool(self.logger.isEnabledFor(level))

    def process(self, msg: Any, kwargs: Any) -> tuple[Any, Any]:
        try:
            info = current_instance("workflow.logger").info
        except RuntimeError:
            return msg, kwargs
        extra = dict(kwargs.get("extra") or {})
        extra.update(workflow_id=info.workflow_id, run_id=info.run_id, workflow_type=info.workflow_type)
        kwargs["extra"] = extra
        return f"{msg} ({info.workflow_type} {info.workflow_id})", kwargs


def utc(ts: Any) -> datetime:
    return ts.ToDatetime(UTC)  # type: ignore[no-any-return]
