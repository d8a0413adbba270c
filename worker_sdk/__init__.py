"""wf's worker SDK: write workflows and activities, run workers, start and follow workflows.

    from worker_sdk import workflow, activity, Client, Worker, RetryPolicy
    from worker_sdk.errors import ApplicationError, ActivityError, WorkflowFailureError
"""

from worker_sdk import activity, workflow
from worker_sdk._async_activity import AsyncActivityHandle
from worker_sdk._client import (
    Client,
    WorkflowCost,
    WorkflowExecution,
    WorkflowExecutionDescription,
    WorkflowExecutionStatus,
    WorkflowHandle,
    WorkflowHistory,
    WorkflowIDConflictPolicy,
    WorkflowIDReusePolicy,
    WorkflowUpdateHandle,
)
from worker_sdk._converter import DataConverter, PayloadCodec, PayloadConverter
from worker_sdk._reset import ResetReapplyExcludeType, ResetReapplyType, ResetType
from worker_sdk._retry import RetryPolicy
from worker_sdk._tls import TLSConfig
from worker_sdk._visibility import (
    SearchAttributeIndexedValueType,
    WorkflowExecutionCount,
    WorkflowExecutionCountAggregationGroup,
)
from worker_sdk._worker import Worker

__all__ = [
    "activity",
    "workflow",
    "Client",
    "Worker",
    "RetryPolicy",
    "WorkflowHandle",
    "WorkflowExecution",
    "WorkflowExecutionDescription",
    "WorkflowExecutionStatus",
    "WorkflowHistory",
    "WorkflowIDReusePolicy",
    "WorkflowIDConflictPolicy",
    "WorkflowUpdateHandle",
    "WorkflowCost",
    "ResetType",
    "ResetReapplyType",
    "ResetReapplyExcludeType",
    "AsyncActivityHandle",
    "DataConverter",
    "PayloadCodec",
    "PayloadConverter",
    "SearchAttributeIndexedValueType",
    "WorkflowExecutionCount",
    "WorkflowExecutionCountAggregationGroup",
    "TLSConfig",
]
