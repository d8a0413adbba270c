"""Writing workflows: decorators, and the calls workflow code makes.

Every function here asks the workflow run whose deterministic loop is running to do the work, and
raises a clear error when called outside workflow code.
"""

from __future__ import annotations

import asyncio
import logging
import random as _random
import uuid as _uuid
from collections.abc import Callable, Mapping
from datetime import datetime, timedelta
from typing import Any, NoReturn, TypeVar, overload

from worker_sdk._children import (
    ChildWorkflowCancellationType,
    ChildWorkflowHandle,
    ParentClosePolicy,
    ParentInfo,
    RootInfo,
)
from worker_sdk._client import WorkflowIDReusePolicy
from worker_sdk._definition import define_workflow, mark_query, mark_run, mark_signal, mark_update
from worker_sdk._external import ExternalWorkflowHandle
from worker_sdk._failure import from_failure
from worker_sdk._instance import (
    _NO_DEFAULT,
    UNFINISHED_POLICY_ATTR,
    ActivityCancellationType,
    ActivityFuture,
    HandlerUnfinishedPolicy,
    Info,
    ReplayAwareLogger,
    current_instance,
)
from worker_sdk._retry import RetryPolicy
from worker_sdk.errors import ContinueAsNewError

__all__ = [
    "defn",
    "run",
    "signal",
    "set_signal_handler",
    "query",
    "update",
    "execute_activity",
    "start_activity",
    "ActivityHandle",
    "ActivityCancellationType",
    "sleep",
    "wait_condition",
    "patched",
    "deprecate_patch",
    "now",
    "random",
    "uuid4",
    "info",
    "Info",
    "logger",
    "in_workflow",
    "get_external_workflow_handle",
    "ExternalWorkflowHandle",
    "start_child_workflow",
    "execute_child_workflow",
    "ChildWorkflowHandle",
    "ParentClosePolicy",
    "ChildWorkflowCancellationType",
    "ParentInfo",
    "RootInfo",
    "continue_as_new",
    "ContinueAsNewError",
    "HandlerUnfinishedPolicy",
    "all_handlers_finished",
    "upsert_search_attributes",
    "upsert_memo",
    "memo",
    "memo_value",
    "has_last_completion_result",
    "get_last_completion_result",
    "get_last_failure",
]

T = TypeVar("T")
ActivityHandle = ActivityFuture

logger = ReplayAwareLogger(logging.getLogger("worker_sdk.workflow"), {})
"""Logs from workflow code; prints nothing while the run is being replayed."""


@overload
def defn(cls: T) -> T: ...
@overload
def defn(*, name: str | None = None) -> Callable[[T], T]: ...
def defn(cls: Any = None, *, name: str | None = None) -> Any:
    """Declare a workflow: a class with one ``@workflow.run`` method, or a plain ``async def``.

    Args:
        name: the workflow type name; defaults to the class (or function) name.
    """
    if cls is not None:
        return define_workflow(cls, None)
    return lambda obj: define_workflow(obj, name)


def run(fn: T) -> T:
    """Mark the ``async def`` entry method of a workflow class."""
    return mark_run(fn)  # type: ignore[no-any-return]


@overload
def signal(fn: T) -> T: ...
@overload
def signal(
    *, name: str | None = None, unfinished_policy: HandlerUnfinishedPolicy = HandlerUnfinishedPolicy.WARN_AND_ABANDON
) -> Callable[[T], T]: ...
def signal(
    fn: Any = None,
    *,
    name: str | None = None,
    unfinished_policy: HandlerUnfinishedPolicy = HandlerUnfinishedPolicy.WARN_AND_ABANDON,
) -> Any:
    """Mark a workflow method (``def`` or ``async def``) as the handler of a signal.

    Signals are delivered in the order the server accepted them. A signal whose name has no handler
    is kept until one is set with :func:`set_signal_handler`.

    Args:
        name: the signal name; defaults to the method name.
        unfinished_policy: what to do when the run closes while this (async) handler still runs.
    """
    if fn is not None:
        return mark_signal(fn, None)
    return lambda f: _with_policy(mark_signal(f, name), unfinished_policy)


def _with_policy(fn: Any, policy: HandlerUnfinishedPolicy) -> Any:
    setattr(fn, UNFINISHED_POLICY_ATTR, policy)
    return fn


@overload
def query(fn: T) -> T: ...
@overload
def query(*, name: str | None = None) -> Callable[[T], T]: ...
def query(fn: Any = None, *, name: str | None = None) -> Any:
    """Mark a plain ``def`` workflow method as the handler of a query.

    A query runs against the workflow's state as of its last completed workflow task, records
    nothing in the history, and answers even after the workflow has closed. It must only read: a
    handler that changes an attribute, schedules work or awaits is refused.

    Args:
        name: the query name; defaults to the method name.
    """
    if fn is not None:
        return mark_query(fn, None)
    return lambda f: mark_query(f, name)


@overload
def update(fn: T) -> T: ...
@overload
def update(
    *, name: str | None = None, unfinished_policy: HandlerUnfinishedPolicy = HandlerUnfinishedPolicy.WARN_AND_ABANDON
) -> Callable[[T], T]: ...
def update(
    fn: Any = None,
    *,
    name: str | None = None,
    unfinished_policy: HandlerUnfinishedPolicy = HandlerUnfinishedPolicy.WARN_AND_ABANDON,
) -> Any:
    """Mark a workflow method (``def`` or ``async def``) as the handler of an update.

    An update is a signal that answers: the caller waits for the handler's result. Give it a
    validator with ``@<method>.validator`` on a plain ``def`` taking the same arguments: if it raises,
    the update is rejected, nothing is recorded and the caller gets the error. Accepted updates are
    recorded, so they survive worker crashes and finish on replay.

    Args:
        name: the update name; defaults to the method name.
        unfinished_policy: what to do when the run closes while this (async) handler still runs.
    """
    if fn is not None:
        return mark_update(fn, None)
    return lambda f: _with_policy(mark_update(f, name), unfinished_policy)


def set_signal_handler(name: str, handler: Callable[..., Any] | None) -> None:
    """Handle signal ``name`` with ``handler`` from now on (None removes it); signals that came
    before, with no handler, are delivered to it at once, in order."""
    current_instance("workflow.set_signal_handler()").set_signal_handler(name, handler)


async def sleep(duration: timedelta | float) -> None:
    """Wait durably: a timer in the history that fires even across restarts (``asyncio.sleep``
    works the same way in workflow code).

    Raises:
        ValueError: the duration is zero or negative.
    """
    current_instance("workflow.sleep()")
    seconds = duration.total_seconds() if isinstance(duration, timedelta) else float(duration)
    if seconds <= 0:
        raise ValueError(f"workflow.sleep() needs a positive duration, got {duration!r}")
    await asyncio.sleep(seconds)


async def wait_condition(fn: Callable[[], bool], *, timeout: timedelta | float | None = None) -> None:
    """Wait until ``fn()`` is true; it is checked again after every batch of events.

    Raises:
        asyncio.TimeoutError: ``timeout`` passed first (a durable timer).
    """
    instance = current_instance("workflow.wait_condition()")
    if fn():
        return
    future = instance.wait_condition(fn)
    if timeout is None:
        await future
        return
    seconds = timeout.total_seconds() if isinstance(timeout, timedelta) else float(timeout)
    if seconds <= 0:
        raise ValueError(f"workflow.wait_condition() needs a positive timeout, got {timeout!r}")
    await asyncio.wait_for(future, seconds)


def start_activity(
    activity: Any,
    *args: Any,
    task_queue: str | None = None,
    schedule_to_close_timeout: timedelta | None = None,
    schedule_to_start_timeout: timedelta | None = None,
    start_to_close_timeout: timedelta | None = None,
    heartbeat_timeout: timedelta | None = None,
    retry_policy: RetryPolicy | None = None,
    activity_id: str | None = None,
    result_type: Any = None,
    cancellation_type: ActivityCancellationType = ActivityCancellationType.TRY_CANCEL,
) -> ActivityFuture:
    """Schedule an activity and return a handle to await its result.

    Args:
        activity: an ``@activity.defn`` function, or an activity type name.
        *args: the activity's arguments.
        task_queue: where to run it (default: the workflow's task queue).
        schedule_to_close_timeout: limit on the whole activity, all retries included.
        schedule_to_start_timeout: limit on waiting in the queue for a worker (per attempt).
        start_to_close_timeout: limit on one attempt. One of this or schedule_to_close is required.
        heartbeat_timeout: limit between heartbeats.
        retry_policy: how failed attempts are retried (default: Temporal's, unlimited attempts).
        activity_id: an id unique within the run (default: a sequence number).
        result_type: the type to decode the result into (default: the function's return hint).
        cancellation_type: what cancelling the handle (or the workflow awaiting it) does.
    """
    return current_instance("workflow.start_activity()").schedule_activity(
        activity,
        args,
        task_queue=task_queue,
        schedule_to_close_timeout=schedule_to_close_timeout,
        schedule_to_start_timeout=schedule_to_start_timeout,
        start_to_close_timeout=start_to_close_timeout,
        heartbeat_timeout=heartbeat_timeout,
        retry_policy=retry_policy,
        activity_id=activity_id,
        result_type=result_type,
        cancellation_type=cancellation_type,
    )


async def execute_activity(activity: Any, *args: Any, **options: Any) -> Any:
    """Run an activity and return its result; see :func:`start_activity` for the options.

    Raises:
        ActivityError: the activity failed for good; its ``cause`` is the last attempt's error.
    """
    return await start_activity(activity, *args, **options)


def patched(patch_id: str) -> bool:
    """Whether to take the new branch of a code change: True for runs that reach this point with
    the new code (recorded as a marker in the history), False for runs that passed it with the old
    code. The answer never changes within a run.

        if workflow.patched("send-sms"):
            await workflow.execute_activity(send_sms, ...)    # new runs
        else:
            await workflow.execute_activity(send_email, ...)  # runs started before the change
    """
    return current_instance("workflow.patched()").patched(patch_id)


def deprecate_patch(patch_id: str) -> None:
    """Once no run that took the old branch remains: drop the branch and the ``patched`` call, and
    call this instead, so histories with the patch's marker still replay."""
    current_instance("workflow.deprecate_patch()").deprecate_patch(patch_id)


def now() -> datetime:
    """The workflow's clock: the time its current workflow task started (UTC, deterministic)."""
    return current_instance("workflow.now()").now


def random() -> _random.Random:
    """A random generator seeded per run: the same numbers on every replay."""
    return current_instance("workflow.random()").random


def uuid4() -> _uuid.UUID:
    """A UUID from the run's deterministic random generator."""
    return current_instance("workflow.uuid4()").uuid4()


def info() -> Info:
    """This run's id, type, task queue, attempt and history length."""
    return current_instance("workflow.info()").info


def in_workflow() -> bool:
    """Whether the caller is running as workflow code."""
    try:
        current_instance("")
    except RuntimeError:
        return False
    return True


def get_external_workflow_handle(workflow_id: str, *, run_id: str | None = None) -> ExternalWorkflowHandle:
    """A handle on another workflow, to signal it (``await handle.signal(Other.approve, ...)``).
    Without ``run_id``, the workflow id's running run when the signal is delivered."""
    current_instance("workflow.get_external_workflow_handle()")
    if not workflow_id:
        raise ValueError("get_external_workflow_handle() needs a workflow id")
    return ExternalWorkflowHandle(workflow_id, run_id)


async def start_child_workflow(
    workflow: Any,
    *args: Any,
    id: str | None = None,
    task_queue: str | None = None,
    parent_close_policy: ParentClosePolicy = ParentClosePolicy.TERMINATE,
    cancellation_type: ChildWorkflowCancellationType = ChildWorkflowCancellationType.WAIT_CANCELLATION_COMPLETED,
    id_reuse_policy: WorkflowIDReusePolicy = WorkflowIDReusePolicy.ALLOW_DUPLICATE,
    retry_policy: RetryPolicy | None = None,
    execution_timeout: timedelta | None = None,
    run_timeout: timedelta | None = None,
    task_timeout: timedelta | None = None,
    search_attributes: dict[str, Any] | None = None,
    memo: dict[str, Any] | None = None,
    result_type: Any = None,
) -> ChildWorkflowHandle:
    """Start a child workflow and return its handle once it is running (``await handle`` for its
    result). Its close is recorded in this workflow's history whatever the servers and workers do.

    Args:
        workflow: the child's ``@workflow.run`` method (``Child.run``) or workflow type name.
        *args: the child's arguments.
        id: the child's workflow id (default: derived from this run and a sequence number, the same
            on every replay).
        task_queue: where the child's workflow tasks go (default: this workflow's task queue).
        parent_close_policy: what happens to the child when this workflow closes.
        cancellation_type: what cancelling the handle (or the code awaiting it) does.
        id_reuse_policy: whether the id of a closed run may be used again.
        retry_policy: the child's retry policy (default: none).
        execution_timeout, run_timeout, task_timeout: the child's timeouts.
        search_attributes, memo: the child's, a plain mapping name → value.
        result_type: the type to decode the result into (default: the run method's return hint).

    Raises:
        WorkflowAlreadyStartedError: a workflow with this id is running (nothing was started).
    """
    start = current_instance("workflow.start_child_workflow()").children.start(
        workflow,
        args,
        id=id,
        task_queue=task_queue,
        parent_close_policy=parent_close_policy,
        cancellation_type=cancellation_type,
        id_reuse_policy=id_reuse_policy,
        retry_policy=retry_policy,
        execution_timeout=execution_timeout,
        run_timeout=run_timeout,
        task_timeout=task_timeout,
        search_attributes=search_attributes,
        memo=memo,
        result_type=result_type,
    )
    return await start


async def execute_child_workflow(workflow: Any, *args: Any, **options: Any) -> Any:
    """Start a child workflow and return its result; see :func:`start_child_workflow` for the options.

    Raises:
        ChildWorkflowError: the child did not complete; ``cause`` says why (an ``ApplicationError``
            with its type and message when it failed).
        WorkflowAlreadyStartedError: a workflow with this id is running.
    """
    handle = await start_child_workflow(workflow, *args, **options)
    return await handle
# -- continue-as-new --------------------------------------------------------------------------------


def continue_as_new(
    *args: Any,
    task_queue: str | None = None,
    run_timeout: timedelta | None = None,
    task_timeout: timedelta | None = None,
    retry_policy: RetryPolicy | None = None,
    memo: Mapping[str, Any] | None = None,
    search_attributes: Mapping[str, Any] | None = None,
    workflow: Any = None,
) -> NoReturn:
    """Close this run as ContinuedAsNew and start a new run of the same workflow id with ``args``:
    the new run has a fresh history, and the server writes both in one transaction.

    Raises :class:`ContinueAsNewError` (a ``BaseException``: ``except Exception`` does not catch it).
    Options left unset keep this run's values; the execution timeout carries over unchanged. Signals
    that arrive while the closing workflow task runs are not lost: the server refuses the close, and
    the code runs again with them (see ``workflow.info().is_continue_as_new_suggested()``).

    Args:
        *args: the new run's arguments.
        task_queue: the new run's task queue (default: this run's).
        run_timeout: the new run's run timeout (default: this run's).
        task_timeout: the new run's workflow task timeout (default: this run's).
        retry_policy: the new run's retry policy (default: this run's).
        memo: the new run's memo (default: this run's).
        search_attributes: the new run's search attributes (default: this run's).
        workflow: another workflow (its run method, class or type name) to continue as.
    """
    raise current_instance("workflow.continue_as_new()").continue_as_new(
        args,
        workflow=workflow,
        task_queue=task_queue,
        run_timeout=run_timeout,
        task_timeout=task_timeout,
        retry_policy=retry_policy,
        memo=memo,
        search_attributes=search_attributes,
    )


def all_handlers_finished() -> bool:
    """Whether no signal or update handler of this run is still running; wait for it before the run
    closes with ``await workflow.wait_condition(workflow.all_handlers_finished)``."""
    return current_instance("workflow.all_handlers_finished()").all_handlers_finished()


# -- search attributes and memo ---------------------------------------------------------------------


def upsert_search_attributes(values: Mapping[str, Any]) -> None:
    """Set some of this run's search attributes (a plain mapping name → value; None removes one),
    recorded in history as UpsertWorkflowSearchAttributes and replayed like any command.
    ``info().search_attributes`` shows the change at once. Each name must be registered in the
    namespace and each value of its type, else the workflow task fails (BAD_COMMAND_ATTRIBUTES)."""
    current_instance("workflow.upsert_search_attributes()").upsert_search_attributes(values)


def upsert_memo(values: Mapping[str, Any]) -> None:
    """Set some fields of this run's memo (None removes one), recorded in history as
    WorkflowPropertiesModified; :func:`memo` shows the change at once."""
    current_instance("workflow.upsert_memo()").upsert_memo(values)


def memo() -> dict[str, Any]:
    """This run's memo, each value decoded by the payload converter."""
    instance = current_instance("workflow.memo()")
    return {name: instance.memo_value(name, None, None) for name in instance.memo}


def memo_value(key: str, default: Any = _NO_DEFAULT, *, type_hint: Any = None) -> Any:
    """One field of this run's memo (``default`` when it has none; KeyError without a default)."""
    return current_instance("workflow.memo_value()").memo_value(key, default, type_hint)


# -- what the previous run left -----------------------------------------------------------------------


def has_last_completion_result() -> bool:
    """Whether this run was given the result of the run before it (a schedule's previous run)."""
    result = current_instance("workflow.has_last_completion_result()").last_completion_result
    return result is not None and len(result.payloads) > 0


def get_last_completion_result(type_hint: Any = None) -> Any:
    """The result of the last run of this schedule that completed (None when there is none, as for
    the first run, or under ALLOW_ALL, whose runs overlap), decoded as ``type_hint`` when given; as
    temporalio's. Kept across failures: a failed run does not clear it."""
    instance = current_instance("workflow.get_last_completion_result()")
    result = instance.last_completion_result
    if result is None or len(result.payloads) != 1:
        return None
    return instance.converter.payload_converter.from_payload(result.payloads[0], type_hint)


def get_last_failure() -> BaseException | None:
    """How the run before this one failed (an ``ApplicationError``, a ``TimeoutError``…), when this
    run follows a failed run of its schedule (or a failed attempt of its retry policy); else None."""
    instance = current_instance("workflow.get_last_failure()")
    if instance.last_failure is None:
        return None
    return from_failure(instance.last_failure, instance.converter)
