"""The frontend's handlers of the caller's identity, API keys and the audit log.

A mixin of :class:`wf.server.frontend.WorkflowService`; the handlers run as the last link of the call
pipeline, like every other, after the authorization link (``server/auth/link.py``) has checked the
role each needs (``server/auth/roles.py``), but for ``RevokeApiKey``, whose namespace is known only
once its key is read here.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, cast

import grpc

from wf.history.errors import FailedPrecondition, InvalidArgument, NotFound
from wf.server.auth import roles
from wf.server.auth.keys import ApiKeys
from wf.server.auth.link import principal_of_call
from wf.server.pipeline import Call, CallError
from wf.v1 import service_pb2

if TYPE_CHECKING:
    from wf.history.service import HistoryService

S = service_pb2
_NOT_YET = "this server does not serve API keys and audit yet"


class AuthHandlers:
    """``GetCallerIdentity``, ``CreateApiKey``, ``ListApiKeys``, ``RevokeApiKey``, ``ListAuditEvents``."""

    api_keys: ApiKeys | None = None
    """The key table, set when the server is assembled."""
    auth_required: bool = False
    """Whether the server runs with ``--auth required`` (GetCallerIdentity says so)."""
    history: HistoryService  # the service's (WorkflowService sets it)

    def _keys(self) -> ApiKeys:
        if self.api_keys is None:
            raise FailedPrecondition("this server has no API key table")
        return self.api_keys

    async def GetCallerIdentity(self, request: S.GetCallerIdentityRequest, call: Call) -> S.GetCallerIdentityResponse:
        principal = principal_of_call(call)
        out = S.GetCallerIdentityResponse(
            principal=principal.name, kind=cast(Any, principal.kind),
            role=cast(Any, roles.role_in(principal.grants, request.namespace)),
            auth_required=self.auth_required,
        )
        for namespace, role in principal.grants:
            out.grants.add(namespace=namespace, role=role)
        return out

    async def CreateApiKey(self, request: S.CreateApiKeyRequest, call: Call) -> S.CreateApiKeyResponse:
        name, grant = request.name.strip(), request.grant
        if not name:
            raise InvalidArgument("an API key needs a name")
        if grant.role not in roles.NAMES:
            raise InvalidArgument(f"an API key needs a role: one of {', '.join(roles.BY_NAME)}")
        if (grant.role == roles.CLUSTER_ADMIN) != (grant.namespace == ""):
            raise InvalidArgument("a cluster-admin key names no namespace, and every other key names one")
        if grant.namespace:
            # A key for a namespace not registered (yet) would open it to its holder the day it is.
            await self.history.namespaces.check(grant.namespace)
        expires_at = None
        if request.HasField("expire_time"):
            expires_at = request.expire_time.ToDatetime(tzinfo=UTC)
            if expires_at <= datetime.now(UTC):
                raise InvalidArgument("the key's expire_time has passed already")
        key, row = await self._keys().create(
            name, grant.namespace, grant.role, principal_of_call(call).name, expires_at
        )
        return S.CreateApiKeyResponse(key=key, info=row.info())

    async def ListApiKeys(self, request: S.ListApiKeysRequest, call: Call) -> S.ListApiKeysResponse:
        rows = await self._keys().list(request.namespace or None, request.include_revoked)
        return S.ListApiKeysResponse(keys=[r.info() for r in rows])

    async def RevokeApiKey(self, request: S.RevokeApiKeyRequest, call: Call) -> S.RevokeApiKeyResponse:
        if not request.key_id:
            raise InvalidArgument("key_id is required")
        keys = self._keys()
        row = await keys.get(request.key_id)
        principal = principal_of_call(call)
        # A key of a namespace the caller holds no role in is, to the caller, no key: refusing it
        # by name would tell of that namespace (a cluster admin's key names none).
        if row is None or (row.namespace and not roles.role_in(principal.grants, row.namespace)):
            raise NotFound(f"no API key with id {request.key_id!r}")
        if not roles.allows(principal.grants, row.namespace, (roles.ADMIN,)):
            where = f" in namespace {row.namespace!r}" if row.namespace else ""
            role = "admin" if row.namespace else "cluster-admin"
            raise CallError(grpc.StatusCode.PERMISSION_DENIED, f"RevokeApiKey needs role {role}{where}")
        await keys.revoke(row.key_id)
        return S.RevokeApiKeyResponse()

    async def ListAuditEvents(self, request: S.ListAuditEventsRequest, call: Call) -> S.ListAuditEventsResponse:
        """The audit log's lines, newest first, paged (``wf.server.audit``); who may read them is the
        authorization link's decision (namespace admins their namespace's, cluster admins all)."""

        from wf.history.audit import AuditStore
        from wf.server.audit import list_events

        frontend: Any = self  # this class is a mixin of the frontend, which has the history service
        return await list_events(AuditStore(frontend.history.store), request)
