"""The frontend's handlers of namespaces and of deleting a run, with Temporal's names.

A mixin of :class:`wf.server.frontend.WorkflowService`: the handlers run as the last link of the call
pipeline, like every other (the namespace of ``Describe``/``Update``/``DeleteNamespace`` and of
``DeleteWorkflowExecution`` has been checked there already: NOT_FOUND when it is not registered).
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from google.protobuf.duration_pb2 import Duration

from wf.history.service import HistoryService
from wf.history.store import NamespaceRecord
from wf.server.pipeline import Call
from wf.v1 import service_pb2

S = service_pb2

_DEFAULT_PAGE = 100
_MAX_PAGE = 1000


def namespace_info(record: NamespaceRecord) -> S.NamespaceInfo:
    """A namespace row as the wire carries it."""
    info = S.NamespaceInfo(name=record.name, description=record.description, owner_email=record.owner_email)
    info.state = record.state  # type: ignore[assignment]  # stored as wf.v1.NamespaceState's number
    info.workflow_execution_retention_ttl.FromTimedelta(record.retention)
    info.create_time.FromDatetime(record.created_at)
    info.update_time.FromDatetime(record.updated_at)
    return info


def _duration(message: Any, field: str) -> timedelta | None:
    """The duration field ``field`` of ``message``, or None when it is unset (keep, or the default)."""
    d: Duration = getattr(message, field)
    return d.ToTimedelta() if message.HasField(field) else None


class NamespaceHandlers:
    """``RegisterNamespace``, ``DescribeNamespace``, ``ListNamespaces``, ``UpdateNamespace``,
    ``DeleteNamespace`` and ``DeleteWorkflowExecution``."""

    history: HistoryService

    async def RegisterNamespace(self, request: S.RegisterNamespaceRequest, call: Call) -> S.RegisterNamespaceResponse:
        await self.history.namespaces.register(
            request.namespace, request.description, request.owner_email,
            _duration(request, "workflow_execution_retention_period"),
        )
        return S.RegisterNamespaceResponse()

    async def DescribeNamespace(self, request: S.DescribeNamespaceRequest, call: Call) -> S.DescribeNamespaceResponse:
        record = await self.history.namespaces.describe(request.namespace)
        return S.DescribeNamespaceResponse(namespace_info=namespace_info(record))

    async def ListNamespaces(self, request: S.ListNamespacesRequest, call: Call) -> S.ListNamespacesResponse:
        size = min(request.page_size or _DEFAULT_PAGE, _MAX_PAGE)
        after = request.next_page_token.decode("utf-8", errors="replace")
        records = await self.history.namespaces.list(after, size)
        token = records[-1].name.encode() if len(records) == size else b""
        return S.ListNamespacesResponse(namespaces=[namespace_info(r) for r in records], next_page_token=token)

    async def UpdateNamespace(self, request: S.UpdateNamespaceRequest, call: Call) -> S.UpdateNamespaceResponse:
        record = await self.history.namespaces.update(
            request.namespace,
            request.description if request.HasField("description") else None,
            request.owner_email if request.HasField("owner_email") else None,
            _duration(request, "workflow_execution_retention_ttl"),
        )
        return S.UpdateNamespaceResponse(namespace_info=namespace_info(record))

    async def DeleteNamespace(self, request: S.DeleteNamespaceRequest, call: Call) -> S.DeleteNamespaceResponse:
        await self.history.namespaces.delete(request.namespace)
        return S.DeleteNamespaceResponse(deleted_namespace=request.namespace)

    async def DeleteWorkflowExecution(
        self, request: S.DeleteWorkflowExecutionRequest, call: Call
    ) -> S.DeleteWorkflowExecutionResponse:
        e = request.workflow_execution
        await self.history.retention.delete_run(request.namespace, e.workflow_id, e.run_id, request.identity)
        return S.DeleteWorkflowExecutionResponse()


__all__ = ["NamespaceHandlers", "namespace_info"]
