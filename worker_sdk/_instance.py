"""One workflow run in a worker: its loop, its pending operations, the commands it produced.

``activate()`` is the boundary: the replay driver resolves futures from history events, then
activates the instance, which runs workflow code until every coroutine is blocked and returns the
commands it produced. Workflow API functions find the instance through the running loop.
"""

from __future__ import annotations

import asyncio
import logging
import os
import random
import sys
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from wf.v1 import command_pb2, common_pb2
from worker_sdk._converter import DataConverter
from worker_sdk._definition import ActivityDefinition, WorkflowDefinition
from worker_sdk._failure import from_failure, to_failure
from worker_sdk._loop import WorkflowLoop
from worker_sdk._retry import RetryPolicy
from worker_sdk.errors import ActivityError, FailureError, RetryState

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
    history_size: int = 0

    def is_continue_as_new_suggested(self) -> bool:
        return self.history_length >= 4096 or self.history_size >= 4 * 1024 * 1024


@dataclass
class PendingCommand:
    command: command_pb2.Command
    # Where in workflow code it was asked for: "file:line in function".
    origin: str


@dataclass
class _PendingActivity:
    future: asyncio.Future[Any]
    activity_type: str
    return_hint: Any
    extra: dict[str, Any] = field(default_factory=dict)


def _user_origin() -> str:
    frame = sys._getframe(1)
    while frame is not None:
        path = os.path.abspath(frame.f_code.co_filename)
        if not path.startswith(_SDK_DIR) and not path.startswith(_ASYNCIO_DIR):
            return f"{frame.f_code.co_filename}:{frame.f_lineno} in {frame.f_code.co_name}"
        frame = frame.f_back  # type: ignore[assignment]
    return "unknown location"


class WorkflowInstance:
    def __init__(self, defn: WorkflowDefinition, info: Info, converter: DataConverter) -> None:
        self.defn = defn
        self.info = info
        self.converter = converter
        self.loop = WorkflowLoop()  # type: ignore[abstract]  # the methods it lacks are ones workflows must not use
        self.loop.instance = self  # type: ignore[attr-defined]
        self.commands: list[PendingCommand] = []
        self.activities: dict[str, _PendingActivity] = {}
        self._activity_seq = 0
        self.now = info.start_time
        self.replaying = False
        self.random = random.Random(uuid.UUID(info.run_id).int if _is_uuid(info.run_id) else info.run_id)
        self.main: asyncio.Task[Any] | None = None
        self.finished = False
        self.obj: Any = None

    # -- driving --------------------------------------------------------------------------------

    def start(self, input: common_pb2.Payloads) -> None:
        args = self.converter.from_payloads(input, self.defn.arg_hints)
        self.main = self.loop.create_task(self._run_main(args), name=f"workflow {self.info.workflow_type}")

    async def _run_main(self, args: list[Any]) -> Any:
        if self.defn.cls is not None:
            self.obj = self.defn.cls()
            return await self.defn.run_fn(self.obj, *args)
        return await self.defn.run_fn(*args)

    def activate(self, now: datetime, *, replaying: bool, history_length: int) -> list[PendingCommand]:
        """Run workflow code until it blocks; the commands it produced, in order.

        Raises whatever non-failure exception workflow code raised: that fails the workflow task.
        """
        self.now = now
        self.replaying = replaying
        self.info = _replace_info(self.info, history_length)
        self.loop.set_time(now.timestamp())
        self.commands = []
        self.loop.run_ready()
        if self.loop.errors:
            raise self.loop.errors.pop(0)
        main = self.main
        if main is not None and main.done() and not self.finished:
            self.finished = True
            if main.cancelled():
                raise RuntimeError("the workflow's main coroutine was cancelled")
            exc = main.exception()
            if exc is None:
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
                self._add(
                    command_pb2.Command(
                        command_type=command_pb2.COMMAND_TYPE_FAIL_WORKFLOW_EXECUTION,
                        fail_workflow_execution_command_attributes=command_pb2.FailWorkflowExecutionCommandAttributes(
                            failure=to_failure(exc, self.converter)
                        ),
                    ),
                    origin=f"raise in {self.info.workflow_type}",
                )
            else:
                raise exc
        return self.commands

    def _add(self, command: command_pb2.Command, origin: str | None = None) -> None:
        self.commands.append(PendingCommand(command, origin or _user_origin()))

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
    ) -> asyncio.Future[Any]:
        if isinstance(activity, str):
            name, return_hint = activity, result_type
        else:
            defn = ActivityDefinition.of(activity)
            name, return_hint = defn.name, result_type or defn.return_hint
        if schedule_to_close_timeout is None and start_to_close_timeout is None:
            raise ValueError(
                f"activity {name!r} needs start_to_close_timeout or schedule_to_close_timeout"
            )
        for label, value in (
            ("schedule_to_close_timeout", schedule_to_close_timeout),
            ("schedule_to_start_timeout", schedule_to_start_timeout),
            ("start_to_close_timeout", start_to_close_timeout),
            ("heartbeat_timeout", heartbeat_timeout),
        ):
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
        for label, value in (
            ("schedule_to_close_timeout", schedule_to_close_timeout),
            ("schedule_to_start_timeout", schedule_to_start_timeout),
            ("start_to_close_timeout", start_to_close_timeout),
            ("heartbeat_timeout", heartbeat_timeout),
        ):
            if value is not None:
                getattr(attrs, label).FromTimedelta(value)
        if retry_policy is not None:
            attrs.retry_policy.CopyFrom(retry_policy.to_proto())
        future = self.loop.create_future()
        self.activities[aid] = _PendingActivity(future, name, return_hint)
        self._add(
            command_pb2.Command(
                command_type=command_pb2.COMMAND_TYPE_SCHEDULE_ACTIVITY_TASK,
                schedule_activity_task_command_attributes=attrs,
            )
        )
        return future

    def resolve_activity(
        self,
        activity_id: str,
        *,
        result: common_pb2.Payloads | None = None,
        failure: common_pb2.Failure | None = None,
        scheduled_event_id: int = 0,
        started_event_id: int = 0,
        retry_state: int = 0,
        timed_out: bool = False,
    ) -> None:
        pending = self.activities.pop(activity_id, None)
        if pending is None or pending.future.done():
            return
        if failure is None:
            values = self.converter.from_payloads(result or common_pb2.Payloads(), [pending.return_hint])
            pending.future.set_result(values[0] if values else None)
            return
        error = ActivityError(
            "activity timed out" if timed_out else "activity failed",
            activity_type=pending.activity_type,
            activity_id=activity_id,
            scheduled_event_id=scheduled_event_id,
            started_event_id=started_event_id,
            retry_state=RetryState(retry_state),
        )
        error.__cause__ = from_failure(failure, self.converter)
        pending.future.set_exception(error)

    # -- determinism helpers ----------------------------------------------------------------------

    def uuid4(self) -> uuid.UUID:
        return uuid.UUID(int=self.random.getrandbits(128), version=4)


def _is_uuid(value: str) -> bool:
    try:
        uuid.UUID(value)
    except ValueError:
        return False
    return True


def _replace_info(info: Info, history_length: int) -> Info:
    from dataclasses import replace

    return replace(info, history_length=history_length)


def current_instance(what: str) -> WorkflowInstance:
    """The workflow instance whose loop is running, or an error naming ``what`` was misused."""
    try:
        loop = asyncio.get_running_loop()
    except RuntimeError:
        loop = None
    instance = getattr(loop, "instance", None)
    if not isinstance(instance, WorkflowInstance):
        raise RuntimeError(f"{what} can only be called from workflow code")
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
