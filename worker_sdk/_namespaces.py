"""Namespaces from the client: register, describe, list, update, delete (Temporal's RPCs of those names).

temporalio's client leaves these to its raw ``workflow_service`` stubs; wf's :class:`~worker_sdk.Client`
has a method each (``register_namespace`` …) that calls the functions here and returns a
:class:`NamespaceDescription`.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING

from wf.v1 import service_pb2

if TYPE_CHECKING:
    from worker_sdk._client import Client

S = service_pb2

_STATES = {
    S.NAMESPACE_STATE_REGISTERED: "Registered",
    S.NAMESPACE_STATE_DEPRECATED: "Deprecated",
    S.NAMESPACE_STATE_DELETED: "Deleted",
}


@dataclass(frozen=True)
class NamespaceDescription:
    """One namespace as the server describes it."""

    name: str
    state: str
    """``Registered`` (a deleted namespace is not described: its calls are NOT_FOUND)."""
    description: str
    owner_email: str
    retention: timedelta
    """How long a closed run is kept after it closed, before it is deleted with its history."""
    create_time: datetime
    update_time: datetime

    @staticmethod
    def from_proto(info: S.NamespaceInfo) -> NamespaceDescription:
        return NamespaceDescription(
            name=info.name,
            state=_STATES.get(info.state, "Unspecified"),
            description=info.description,
            owner_email=info.owner_email,
            retention=info.workflow_execution_retention_ttl.ToTimedelta(),
            create_time=info.create_time.ToDatetime(UTC),
            update_time=info.update_time.ToDatetime(UTC),
        )


async def register(
    client: Client, name: str, retention: timedelta | None, description: str, owner_email: str
) -> None:
    request = S.RegisterNamespaceRequest(namespace=name, description=description, owner_email=owner_email)
    if retention is not None:
        request.workflow_execution_retention_period.FromTimedelta(retention)
    await client.call(client.service.RegisterNamespace, request)


async def describe(client: Client, name: str) -> NamespaceDescription:
    resp = await client.call(client.service.DescribeNamespace, S.DescribeNamespaceRequest(namespace=name))
    return NamespaceDescription.from_proto(resp.namespace_info)


async def list_all(client: Client) -> list[NamespaceDescription]:
    found: list[NamespaceDescription] = []
    token = b""
    while True:
        resp = await client.call(
            client.service.ListNamespaces, S.ListNamespacesRequest(page_size=1000, next_page_token=token)
        )
        found.extend(NamespaceDescription.from_proto(info) for info in resp.namespaces)
        token = resp.next_page_token
        if not token:
            return found


async def update(
    client: Client, name: str, retention: timedelta | None, description: str | None, owner_email: str | None
) -> NamespaceDescription:
    request = S.UpdateNamespaceRequest(namespace=name)
    if description is not None:
        request.description = description
    if owner_email is not None:
        request.owner_email = owner_email
    if retention is not None:
        request.workflow_execution_retention_ttl.FromTimedelta(retention)
    resp = await client.call(client.service.UpdateNamespace, request)
    return NamespaceDescription.from_proto(resp.namespace_info)


async def delete(client: Client, name: str) -> None:
    await client.call(client.service.DeleteNamespace, S.DeleteNamespaceRequest(namespace=name))


__all__ = ["NamespaceDescription", "delete", "describe", "list_all", "register", "update"]
