"""Answering an activity attempt from outside its worker: ``Client.get_async_activity_handle``.

An activity that called ``activity.raise_complete_async()`` left its attempt open; anyone holding
the attempt's task token, or the workflow id, run id and activity id, answers it through an
:class:`AsyncActivityHandle`, as temporalio's handle of the same name does. By token, the answer is
for that attempt only: once it timed out and was retried, or the run closed, the server refuses it
(``RPCError`` NOT_FOUND, saying which). By id, the answer is for the activity's current attempt.
Values go through the client's data converter, payload codec included.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from wf.v1 import service_pb2
from worker_sdk._failure import to_failure
from worker_sdk.errors import AsyncActivityCancelledError

if TYPE_CHECKING:
    from worker_sdk._client import Client

S = service_pb2


@dataclass(frozen=True)
class AsyncActivityIDReference:
    """An activity named by ids: its workflow, run (None: the workflow's running run) and activity id."""

    workflow_id: str
    run_id: str | None
    activity_id: str


class AsyncActivityHandle:
    """One activity attempt to complete, fail, heartbeat or report cancelled from outside its worker.

    Get it with ``client.get_async_activity_handle(task_token=...)`` or
    ``client.get_async_activity_handle(workflow_id=..., run_id=None, activity_id=...)``.
    """

    def __init__(
        self, client: Client, *, task_token: bytes | None = None, id_reference: AsyncActivityIDReference | None = None
    ) -> None:
        if (task_token is None) == (id_reference is None):
            raise ValueError("name the activity by task_token, or by workflow_id and activity_id: one of them")
        self.client = client
        self.task_token = task_token
        self.id_reference = id_reference

    def _ids(self) -> dict[str, str]:
        ref = self.id_reference
        assert ref is not None
        return {
            "namespace": self.client.namespace,
            "workflow_id": ref.workflow_id,
            "run_id": ref.run_id or "",
            "activity_id": ref.activity_id,
            "identity": self.client.identity,
        }

    async def complete(self, result: Any = None) -> None:
        """The attempt succeeded with ``result``: the workflow's ``execute_activity`` returns it."""
        c = self.client
        payloads = await c.data_converter.encode([result])
        if self.task_token is not None:
            await c.call(
                c.service.RespondActivityTaskCompleted,
                S.RespondActivityTaskCompletedRequest(task_token=self.task_token, result=payloads, identity=c.identity),
            )
        else:
            await c.call(
                c.service.RespondActivityTaskCompletedById,
                S.RespondActivityTaskCompletedByIdRequest(result=payloads, **self._ids()),
            )

    async def fail(self, error: Exception, *, last_heartbeat_details: Sequence[Any] = ()) -> None:
        """The attempt failed with ``error``: retried per the activity's retry policy, as a failure
        raised in the activity would be. An ``ApplicationError`` keeps its type, message, details
        and ``non_retryable``; any other exception becomes one of its class name's type.
        ``last_heartbeat_details`` (as temporalio's) are recorded first, for the next attempt."""
        if not isinstance(error, Exception):
            raise TypeError(f"fail() takes an exception, not {type(error).__name__}")
        if last_heartbeat_details:
            await self._heartbeat(last_heartbeat_details)
        c = self.client
        failure = to_failure(error, c.data_converter)
        if self.task_token is not None:
            await c.call(
                c.service.RespondActivityTaskFailed,
                S.RespondActivityTaskFailedRequest(task_token=self.task_token, failure=failure, identity=c.identity),
            )
        else:
            await c.call(
                c.service.RespondActivityTaskFailedById,
                S.RespondActivityTaskFailedByIdRequest(failure=failure, **self._ids()),
            )

    async def heartbeat(self, *details: Any) -> None:
        """Record progress ``details`` (shown by describe, given to the next attempt) and keep the
        attempt within its heartbeat timeout.

        Raises:
            AsyncActivityCancelledError: the workflow asked to cancel the activity (the details were
                recorded); answer with :meth:`report_cancellation`.
        """
        if await self._heartbeat(details):
            raise AsyncActivityCancelledError()

    async def _heartbeat(self, details: Sequence[Any]) -> bool:
        c = self.client
        payloads = await c.data_converter.encode(list(details))
        if self.task_token is not None:
            resp = await c.call(
                c.service.RecordActivityTaskHeartbeat,
                S.RecordActivityTaskHeartbeatRequest(task_token=self.task_token, details=payloads, identity=c.identity),
            )
            return bool(resp.cancel_requested)
        by_id = await c.call(
            c.service.RecordActivityTaskHeartbeatById,
            S.RecordActivityTaskHeartbeatByIdRequest(details=payloads, **self._ids()),
        )
        return bool(by_id.cancel_requested)

    async def report_cancellation(self, *details: Any) -> None:
        """The attempt stopped because its cancellation was requested: the workflow's activity
        ends as cancelled, with ``details``."""
        c = self.client
        payloads = await c.data_converter.encode(list(details))
        if self.task_token is not None:
            await c.call(
                c.service.RespondActivityTaskCanceled,
                S.RespondActivityTaskCanceledRequest(task_token=self.task_token, details=payloads, identity=c.identity),
            )
        else:
            await c.call(
                c.service.RespondActivityTaskCanceledById,
                S.RespondActivityTaskCanceledByIdRequest(details=payloads, **self._ids()),
            )


def async_activity_handle(
    client: Client,
    *,
    task_token: bytes | None,
    workflow_id: str | None,
    run_id: str | None,
    activity_id: str | None,
) -> AsyncActivityHandle:
    """The handle ``Client.get_async_activity_handle`` returns, with its arguments checked."""
    if task_token is not None:
        if workflow_id is not None or run_id is not None or activity_id is not None:
            raise ValueError("give either task_token, or workflow_id and activity_id (and run_id), not both")
        if not isinstance(task_token, bytes) or not task_token:
            raise ValueError("task_token must be the non-empty bytes of activity.info().task_token")
        return AsyncActivityHandle(client, task_token=task_token)
    if not workflow_id or not activity_id:
        raise ValueError("give task_token, or both workflow_id and activity_id")
    return AsyncActivityHandle(client, id_reference=AsyncActivityIDReference(workflow_id, run_id, activity_id))


__all__ = ["AsyncActivityHandle", "AsyncActivityIDReference", "async_activity_handle"]
