"""Workflow tasks: starting them for pollers, and completing or failing them with the worker's
commands (validated and applied by ``wf.history.commands``)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import timedelta

from google.protobuf.message import Message

from wf.history import commands
from wf.history.errors import NotFound, TaskGone
from wf.history.execution import Execution, StartedWorkflowTask
from wf.history.operations.updates import apply_update_responses
from wf.history.responses import CompletionResult, activity_task_response, workflow_task_response
from wf.history.runs import Runs
from wf.history.tasks import TaskRow
from wf.history.tokens import run_key
from wf.history.visibility.registry import Registry
from wf.v1 import command_pb2, common_pb2, history_pb2, internal_pb2, service_pb2

H = history_pb2
C = common_pb2


def _started_workflow_task(ex: Execution, token: internal_pb2.TaskToken) -> internal_pb2.WorkflowTaskState:
    if not ex.running:
        raise NotFound(f"{ex.describe()} is already closed; its workflow task is gone")
    wt = ex.state.workflow_task if ex.state.HasField("workflow_task") else None
    if wt is None or wt.scheduled_event_id != token.scheduled_event_id or wt.started_event_id != token.started_event_id:
        raise NotFound(f"workflow task not found for {ex.describe()}: it timed out or was already answered")
    return wt


def payloads_size(message: Message) -> int:
    """Bytes of payload data anywhere inside ``message``."""
    if isinstance(message, C.Payload):
        return len(message.data) + sum(len(k) + len(v) for k, v in message.metadata.items())
    total = 0
    for field, value in message.ListFields():
        if field.message_type is None or field.message_type.GetOptions().map_entry:
            continue
        if field.is_repeated:
            total += sum(payloads_size(v) for v in value)
        else:
            total += payloads_size(value)
    return total


class WorkflowTasks:
    def __init__(self, runs: Runs) -> None:
        self.runs = runs
        # The namespaces' search attributes, which commands carrying search attributes are checked against.
        self.search_attributes: Registry | None = None

    async def record_started(self, task: TaskRow, identity: str) -> service_pb2.PollWorkflowTaskQueueResponse:
        """Claim a workflow task for a poller and build its response (raises TaskGone if stale)."""

        def op(ex: Execution) -> StartedWorkflowTask:
            if not ex.workflow_task_waits(task):
                raise TaskGone("stale workflow task")
            ex.claim_task(task.id)
            return ex.add_workflow_task_started(identity)

        try:
            started = await self.runs.update((task.namespace, task.workflow_id, task.run_id), op)
        except (TaskGone, NotFound):
            await self.runs.store.drop_task(task.id)
            raise TaskGone("stale workflow task") from None
        return await workflow_task_response(self.runs.events, self.runs.tokens.sign, started)

    async def complete(
        self,
        token: internal_pb2.TaskToken,
        commands_: list[command_pb2.Command],
        identity: str,
        update_responses: Sequence[C.UpdateResponse] = (),
        sticky_task_queue: str = "",
        sticky_timeout: timedelta = timedelta(seconds=5),
    ) -> CompletionResult:
        def op(ex: Execution) -> CompletionResult:
            wt = _started_workflow_task(ex, token)
            return self.complete_started(
                ex, wt, commands_, identity, update_responses, sticky_task_queue, sticky_timeout
            )

        await self.ready_for(token.namespace, commands_)
        return await self.runs.update(run_key(token), op)

    async def ready_for(self, namespace: str, commands_: Sequence[command_pb2.Command]) -> None:
        """Make sure the registry knows the search attributes the commands set, so checking them
        inside the change (``complete_started``) needs no statement."""
        names = commands.search_attribute_names(commands_) if self.search_attributes is not None else set()
        if names and self.search_attributes is not None:
            await self.search_attributes.of(namespace, names)

    def complete_started(
        self,
        ex: Execution,
        wt: internal_pb2.WorkflowTaskState,
        commands_: list[command_pb2.Command],
        identity: str,
        update_responses: Sequence[C.UpdateResponse],
        sticky_task_queue: str,
        sticky_timeout: timedelta,
    ) -> CompletionResult:
        """Record the started task ``wt`` as completed with ``commands_``, or failed if they are refused."""
        first_event_id = wt.started_event_id + 1
        over = self._over_limit(ex, commands_)
        if over is not None:
            failure = C.Failure(
                message=over,
                source="wf-server",
                application_failure_info=C.ApplicationFailureInfo(type="LimitExceeded", non_retryable=True),
            )
            ex.add_workflow_task_failed_for_good(wt, failure, identity)
            return CompletionResult()
        types = self.search_attributes.cached(ex.record.namespace) if self.search_attributes is not None else None
        error = commands.validate(ex, commands_, types)
        if ex.state.workflow_task_needed and (
            (error is None and commands.closes(commands_)) or commands.target_gone(ex, commands_)
        ):
            # New events arrived while the worker ran: it must see them before the run may close.
            return self._fail(
                ex, wt, C.WORKFLOW_TASK_FAILED_CAUSE_UNHANDLED_COMMAND,
                C.Failure(message="new events arrived while the workflow task ran"), identity, retry_now=True,
            )
        if error is not None:
            return self._fail(
                ex, wt, C.WORKFLOW_TASK_FAILED_CAUSE_BAD_COMMAND_ATTRIBUTES,
                C.Failure(message=error, source="wf-server"), identity,
            )
        completed_id = ex.add_workflow_task_completed(wt, identity, sticky_task_queue, sticky_timeout)
        result = CompletionResult()
        apply_update_responses(ex, update_responses, identity, completions=False)
        closing = commands.closes(commands_)
        if closing:
            # Updates the task finished are recorded before the run closes (after, none would be).
            apply_update_responses(ex, update_responses, identity, completions=True)
        commands.apply(ex, commands_, commands.Applying(completed_id, identity, result))
        if not ex.closes and not closing:
            apply_update_responses(ex, update_responses, identity, completions=True)
        ex.schedule_workflow_task_if_needed()
        result.completed = True
        result.first_event_id = first_event_id
        result.last_event_id = ex.record.next_event_id - 1
        return result

    @staticmethod
    def _fail(
        ex: Execution,
        wt: internal_pb2.WorkflowTaskState,
        cause: int,
        failure: common_pb2.Failure,
        identity: str,
        *,
        retry_now: bool = False,
    ) -> CompletionResult:
        ex.add_workflow_task_failed(wt, cause, failure, identity, retry_now=retry_now)
        return CompletionResult(error=failure.message)

    @staticmethod
    def _over_limit(ex: Execution, commands_: list[command_pb2.Command]) -> str | None:
        """The hard limit these commands would break, described, or None."""
        limits = ex.limits
        for i, command in enumerate(commands_):
            if command.ByteSize() <= limits.max_payload_bytes:
                continue  # its payloads are no bigger than the whole command
            size = payloads_size(command)
            if size > limits.max_payload_bytes:
                return (
                    f"command {i} ({command_pb2.CommandType.Name(command.command_type)}) carries {size:,} "
                    f"bytes of payload, over the {limits.describe('max_payload_bytes')}"
                )
        # Every command adds about one event; the completion and close add two more.
        events = ex.record.next_event_id - 1 + len(commands_) + 2
        if events > limits.max_history_events:
            return f"the history would grow to {events:,} events, over the {limits.describe('max_history_events')}"
        if ex.record.history_size > limits.max_history_bytes:
            return (
                f"the history is {ex.record.history_size:,} bytes, over the "
                f"{limits.describe('max_history_bytes')}"
            )
        return None

    async def fail(
        self, token: internal_pb2.TaskToken, cause: int, failure: common_pb2.Failure, identity: str
    ) -> None:
        def op(ex: Execution) -> None:
            self._fail(ex, _started_workflow_task(ex, token), cause, failure, identity)

        await self.runs.update(run_key(token), op)

    async def new_events(self, token: internal_pb2.TaskToken, result: CompletionResult) -> H.History:
        """The events a completion appended after the worker's view of the history."""
        history = H.History()
        if result.completed:
            for data in await self.runs.events(run_key(token), result.first_event_id, result.last_event_id):
                history.events.add().MergeFromString(data)
        return history

    async def eager_activity_tasks(
        self, token: internal_pb2.TaskToken, result: CompletionResult
    ) -> list[service_pb2.PollActivityTaskQueueResponse]:
        """Poll responses for the activities a workflow task completion started eagerly."""
        if not result.eager:
            return []
        record = await self.runs.load(run_key(token))
        return [
            activity_task_response(
                self.runs.tokens.sign, token.namespace, token.workflow_id, token.run_id, record.workflow_type, a, input
            )
            for a, input in result.eager
        ]
