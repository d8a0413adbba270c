"""The frontend's handlers of the caller's identity, API keys and the audit log.

A mixin of :class:`wf.server.frontend.WorkflowService`; the handlers run as the last link of the call
pipeline, like every other.
"""

from __future__ import annotations

from wf.history.errors import FailedPrecondition
from wf.server.pipeline import Call
from wf.v1 import service_pb2

S = service_pb2
_NOT_YET = "this server does not serve API keys and audit yet"


class AuthHandlers:
    """``GetCallerIdentity``, ``CreateApiKey``, ``ListApiKeys``, ``RevokeApiKey``, ``ListAuditEvents``."""

    async def GetCallerIdentity(self, request: S.GetCallerIdentityRequest, call: Call) -> S.GetCallerIdentityResponse:
        raise FailedPrecondition(_NOT_YET)

    async def CreateApiKey(self, request: S.CreateApiKeyRequest, call: Call) -> S.CreateApiKeyResponse:
        raise FailedPrecondition(_NOT_YET)

    async def ListApiKeys(self, request: S.ListApiKeysRequest, call: Call) -> S.ListApiKeysResponse:
        raise FailedPrecondition(_NOT_YET)

    async def RevokeApiKey(self, request: S.RevokeApiKeyRequest, call: Call) -> S.RevokeApiKeyResponse:
        raise FailedPrecondition(_NOT_YET)

    async def ListAuditEvents(self, request: S.ListAuditEventsRequest, call: Call) -> S.ListAuditEventsResponse:
        """The audit log's lines, newest first, paged (``wf.server.audit``); who may read them is the
        authorization link's decision (namespace admins their namespace's, cluster admins all)."""
        from typing import Any

        from wf.history.audit import AuditStore
        from wf.server.audit import list_events

        frontend: Any = self  # this class is a mixin of the frontend, which has the history service
        return await list_events(AuditStore(frontend.history.store), request)
