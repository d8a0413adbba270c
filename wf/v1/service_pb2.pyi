import datetime

from google.protobuf import duration_pb2 as _duration_pb2
from google.protobuf import timestamp_pb2 as _timestamp_pb2
from wf.v1 import common_pb2 as _common_pb2
from wf.v1 import command_pb2 as _command_pb2
from wf.v1 import history_pb2 as _history_pb2
from wf.v1 import auth_pb2 as _auth_pb2
from wf.v1 import schedule_pb2 as _schedule_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf.internal import enum_type_wrapper as _enum_type_wrapper
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class WorkflowIdConflictPolicy(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    WORKFLOW_ID_CONFLICT_POLICY_UNSPECIFIED: _ClassVar[WorkflowIdConflictPolicy]
    WORKFLOW_ID_CONFLICT_POLICY_FAIL: _ClassVar[WorkflowIdConflictPolicy]
    WORKFLOW_ID_CONFLICT_POLICY_USE_EXISTING: _ClassVar[WorkflowIdConflictPolicy]
    WORKFLOW_ID_CONFLICT_POLICY_TERMINATE_EXISTING: _ClassVar[WorkflowIdConflictPolicy]

class HistoryEventFilterType(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    HISTORY_EVENT_FILTER_TYPE_UNSPECIFIED: _ClassVar[HistoryEventFilterType]
    HISTORY_EVENT_FILTER_TYPE_ALL_EVENT: _ClassVar[HistoryEventFilterType]
    HISTORY_EVENT_FILTER_TYPE_CLOSE_EVENT: _ClassVar[HistoryEventFilterType]

class PendingActivityState(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    PENDING_ACTIVITY_STATE_UNSPECIFIED: _ClassVar[PendingActivityState]
    PENDING_ACTIVITY_STATE_SCHEDULED: _ClassVar[PendingActivityState]
    PENDING_ACTIVITY_STATE_STARTED: _ClassVar[PendingActivityState]
    PENDING_ACTIVITY_STATE_BACKING_OFF: _ClassVar[PendingActivityState]

class UpdateWaitStage(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    UPDATE_WAIT_STAGE_UNSPECIFIED: _ClassVar[UpdateWaitStage]
    UPDATE_WAIT_STAGE_ACCEPTED: _ClassVar[UpdateWaitStage]
    UPDATE_WAIT_STAGE_COMPLETED: _ClassVar[UpdateWaitStage]

class TaskQueueType(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    TASK_QUEUE_TYPE_UNSPECIFIED: _ClassVar[TaskQueueType]
    TASK_QUEUE_TYPE_WORKFLOW: _ClassVar[TaskQueueType]
    TASK_QUEUE_TYPE_ACTIVITY: _ClassVar[TaskQueueType]

class IndexedValueType(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    INDEXED_VALUE_TYPE_UNSPECIFIED: _ClassVar[IndexedValueType]
    INDEXED_VALUE_TYPE_TEXT: _ClassVar[IndexedValueType]
    INDEXED_VALUE_TYPE_KEYWORD: _ClassVar[IndexedValueType]
    INDEXED_VALUE_TYPE_INT: _ClassVar[IndexedValueType]
    INDEXED_VALUE_TYPE_DOUBLE: _ClassVar[IndexedValueType]
    INDEXED_VALUE_TYPE_BOOL: _ClassVar[IndexedValueType]
    INDEXED_VALUE_TYPE_DATETIME: _ClassVar[IndexedValueType]
    INDEXED_VALUE_TYPE_KEYWORD_LIST: _ClassVar[IndexedValueType]

class NamespaceState(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    NAMESPACE_STATE_UNSPECIFIED: _ClassVar[NamespaceState]
    NAMESPACE_STATE_REGISTERED: _ClassVar[NamespaceState]
    NAMESPACE_STATE_DEPRECATED: _ClassVar[NamespaceState]
    NAMESPACE_STATE_DELETED: _ClassVar[NamespaceState]
WORKFLOW_ID_CONFLICT_POLICY_UNSPECIFIED: WorkflowIdConflictPolicy
WORKFLOW_ID_CONFLICT_POLICY_FAIL: WorkflowIdConflictPolicy
WORKFLOW_ID_CONFLICT_POLICY_USE_EXISTING: WorkflowIdConflictPolicy
WORKFLOW_ID_CONFLICT_POLICY_TERMINATE_EXISTING: WorkflowIdConflictPolicy
HISTORY_EVENT_FILTER_TYPE_UNSPECIFIED: HistoryEventFilterType
HISTORY_EVENT_FILTER_TYPE_ALL_EVENT: HistoryEventFilterType
HISTORY_EVENT_FILTER_TYPE_CLOSE_EVENT: HistoryEventFilterType
PENDING_ACTIVITY_STATE_UNSPECIFIED: PendingActivityState
PENDING_ACTIVITY_STATE_SCHEDULED: PendingActivityState
PENDING_ACTIVITY_STATE_STARTED: PendingActivityState
PENDING_ACTIVITY_STATE_BACKING_OFF: PendingActivityState
UPDATE_WAIT_STAGE_UNSPECIFIED: UpdateWaitStage
UPDATE_WAIT_STAGE_ACCEPTED: UpdateWaitStage
UPDATE_WAIT_STAGE_COMPLETED: UpdateWaitStage
TASK_QUEUE_TYPE_UNSPECIFIED: TaskQueueType
TASK_QUEUE_TYPE_WORKFLOW: TaskQueueType
TASK_QUEUE_TYPE_ACTIVITY: TaskQueueType
INDEXED_VALUE_TYPE_UNSPECIFIED: IndexedValueType
INDEXED_VALUE_TYPE_TEXT: IndexedValueType
INDEXED_VALUE_TYPE_KEYWORD: IndexedValueType
INDEXED_VALUE_TYPE_INT: IndexedValueType
INDEXED_VALUE_TYPE_DOUBLE: IndexedValueType
INDEXED_VALUE_TYPE_BOOL: IndexedValueType
INDEXED_VALUE_TYPE_DATETIME: IndexedValueType
INDEXED_VALUE_TYPE_KEYWORD_LIST: IndexedValueType
NAMESPACE_STATE_UNSPECIFIED: NamespaceState
NAMESPACE_STATE_REGISTERED: NamespaceState
NAMESPACE_STATE_DEPRECATED: NamespaceState
NAMESPACE_STATE_DELETED: NamespaceState

class MultiplexRequest(_message.Message):
    __slots__ = ("calls",)
    CALLS_FIELD_NUMBER: _ClassVar[int]
    calls: _containers.RepeatedCompositeFieldContainer[MultiplexCall]
    def __init__(self, calls: _Optional[_Iterable[_Union[MultiplexCall, _Mapping]]] = ...) -> None: ...

class MultiplexCall(_message.Message):
    __slots__ = ("id", "method", "request", "timeout", "cancel")
    ID_FIELD_NUMBER: _ClassVar[int]
    METHOD_FIELD_NUMBER: _ClassVar[int]
    REQUEST_FIELD_NUMBER: _ClassVar[int]
    TIMEOUT_FIELD_NUMBER: _ClassVar[int]
    CANCEL_FIELD_NUMBER: _ClassVar[int]
    id: int
    method: str
    request: bytes
    timeout: _duration_pb2.Duration
    cancel: bool
    def __init__(self, id: _Optional[int] = ..., method: _Optional[str] = ..., request: _Optional[bytes] = ..., timeout: _Optional[_Union[datetime.timedelta, _duration_pb2.Duration, _Mapping]] = ..., cancel: _Optional[bool] = ...) -> None: ...

class MultiplexResponse(_message.Message):
    __slots__ = ("replies",)
    REPLIES_FIELD_NUMBER: _ClassVar[int]
    replies: _containers.RepeatedCompositeFieldContainer[MultiplexReply]
    def __init__(self, replies: _Optional[_Iterable[_Union[MultiplexReply, _Mapping]]] = ...) -> None: ...

class MultiplexReply(_message.Message):
    __slots__ = ("id", "code", "response", "message", "metadata")
    class MetadataEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: str
        def __init__(self, key: _Optional[str] = ..., value: _Optional[str] = ...) -> None: ...
    ID_FIELD_NUMBER: _ClassVar[int]
    CODE_FIELD_NUMBER: _ClassVar[int]
    RESPONSE_FIELD_NUMBER: _ClassVar[int]
    MESSAGE_FIELD_NUMBER: _ClassVar[int]
    METADATA_FIELD_NUMBER: _ClassVar[int]
    id: int
    code: int
    response: bytes
    message: str
    metadata: _containers.ScalarMap[str, str]
    def __init__(self, id: _Optional[int] = ..., code: _Optional[int] = ..., response: _Optional[bytes] = ..., message: _Optional[str] = ..., metadata: _Optional[_Mapping[str, str]] = ...) -> None: ...

class GetSystemInfoRequest(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class GetSystemInfoResponse(_message.Message):
    __slots__ = ("server_version",)
    SERVER_VERSION_FIELD_NUMBER: _ClassVar[int]
    server_version: str
    def __init__(self, server_version: _Optional[str] = ...) -> None: ...

class StartWorkflowExecutionRequest(_message.Message):
    __slots__ = ("namespace", "workflow_id", "workflow_type", "task_queue", "input", "workflow_execution_timeout", "workflow_run_timeout", "workflow_task_timeout", "identity", "request_id", "workflow_id_reuse_policy", "retry_policy", "workflow_id_conflict_policy", "signal_name", "signal_input", "memo", "search_attributes")
    NAMESPACE_FIELD_NUMBER: _ClassVar[int]
    WORKFLOW_ID_FIELD_NUMBER: _ClassVar[int]
    WORKFLOW_TYPE_FIELD_NUMBER: _ClassVar[int]
    TASK_QUEUE_FIELD_NUMBER: _ClassVar[int]
    INPUT_FIELD_NUMBER: _ClassVar[int]
    WORKFLOW_EXECUTION_TIMEOUT_FIELD_NUMBER: _ClassVar[int]
    WORKFLOW_RUN_TIMEOUT_FIELD_NUMBER: _ClassVar[int]
    WORKFLOW_TASK_TIMEOUT_FIELD_NUMBER: _ClassVar[int]
    IDENTITY_FIELD_NUMBER: _ClassVar[int]
    REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    WORKFLOW_ID_REUSE_POLICY_FIELD_NUMBER: _ClassVar[int]
    RETRY_POLICY_FIELD_NUMBER: _ClassVar[int]
    WORKFLOW_ID_CONFLICT_POLICY_FIELD_NUMBER: _ClassVar[int]
    SIGNAL_NAME_FIELD_NUMBER: _ClassVar[int]
    SIGNAL_INPUT_FIELD_NUMBER: _ClassVar[int]
    MEMO_FIELD_NUMBER: _ClassVar[int]
    SEARCH_ATTRIBUTES_FIELD_NUMBER: _ClassVar[int]
    namespace: str
    workflow_id: str
    workflow_type: _common_pb2.WorkflowType
    task_queue: _common_pb2.TaskQueue
    input: _common_pb2.Payloads
    workflow_execution_timeout: _duration_pb2.Duration
    workflow_run_timeout: _duration_pb2.Duration
    workflow_task_timeout: _duration_pb2.Duration
    identity: str
    request_id: str
    workflow_id_reuse_policy: _common_pb2.WorkflowIdReusePolicy
    retry_policy: _common_pb2.RetryPolicy
    workflow_id_conflict_policy: WorkflowIdConflictPolicy
    signal_name: str
    signal_input: _common_pb2.Payloads
    memo: _common_pb2.Memo
    search_attributes: _common_pb2.SearchAttributes
    def __init__(self, namespace: _Optional[str] = ..., workflow_id: _Optional[str] = ..., workflow_type: _Optional[_Union[_common_pb2.WorkflowType, _Mapping]] = ..., task_queue: _Optional[_Union[_common_pb2.TaskQueue, _Mapping]] = ..., input: _Optional[_Union[_common_pb2.Payloads, _Mapping]] = ..., workflow_execution_timeout: _Optional[_Union[datetime.timedelta, _duration_pb2.Duration, _Mapping]] = ..., workflow_run_timeout: _Optional[_Union[datetime.timedelta, _duration_pb2.Duration, _Mapping]] = ..., workflow_task_timeout: _Optional[_Union[datetime.timedelta, _duration_pb2.Duration, _Mapping]] = ..., identity: _Optional[str] = ..., request_id: _Optional[str] = ..., workflow_id_reuse_policy: _Optional[_Union[_common_pb2.WorkflowIdReusePolicy, str]] = ..., retry_policy: _Optional[_Union[_common_pb2.RetryPolicy, _Mapping]] = ..., workflow_id_conflict_policy: _Optional[_Union[WorkflowIdConflictPolicy, str]] = ..., signal_name: _Optional[str] = ..., signal_input: _Optional[_Union[_common_pb2.Payloads, _Mapping]] = ..., memo: _Optional[_Union[_common_pb2.Memo, _Mapping]] = ..., search_attributes: _Optional[_Union[_common_pb2.SearchAttributes, _Mapping]] = ...) -> None: ...

class StartWorkflowExecutionResponse(_message.Message):
    __slots__ = ("run_id", "started")
    RUN_ID_FIELD_NUMBER: _ClassVar[int]
    STARTED_FIELD_NUMBER: _ClassVar[int]
    run_id: str
    started: bool
    def __init__(self, run_id: _Optional[str] = ..., started: _Optional[bool] = ...) -> None: ...

class GetWorkflowExecutionHistoryRequest(_message.Message):
    __slots__ = ("namespace", "execution", "maximum_page_size", "next_page_token", "wait_new_event", "history_event_filter_type")
    NAMESPACE_FIELD_NUMBER: _ClassVar[int]
    EXECUTION_FIELD_NUMBER: _ClassVar[int]
    MAXIMUM_PAGE_SIZE_FIELD_NUMBER: _ClassVar[int]
    NEXT_PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    WAIT_NEW_EVENT_FIELD_NUMBER: _ClassVar[int]
    HISTORY_EVENT_FILTER_TYPE_FIELD_NUMBER: _ClassVar[int]
    namespace: str
    execution: _common_pb2.WorkflowExecution
    maximum_page_size: int
    next_page_token: bytes
    wait_new_event: bool
    history_event_filter_type: HistoryEventFilterType
    def __init__(self, namespace: _Optional[str] = ..., execution: _Optional[_Union[_common_pb2.WorkflowExecution, _Mapping]] = ..., maximum_page_size: _Optional[int] = ..., next_page_token: _Optional[bytes] = ..., wait_new_event: _Optional[bool] = ..., history_event_filter_type: _Optional[_Union[HistoryEventFilterType, str]] = ...) -> None: ...

class GetWorkflowExecutionHistoryResponse(_message.Message):
    __slots__ = ("history", "next_page_token", "run_id")
    HISTORY_FIELD_NUMBER: _ClassVar[int]
    NEXT_PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    RUN_ID_FIELD_NUMBER: _ClassVar[int]
    history: _history_pb2.History
    next_page_token: bytes
    run_id: str
    def __init__(self, history: _Optional[_Union[_history_pb2.History, _Mapping]] = ..., next_page_token: _Optional[bytes] = ..., run_id: _Optional[str] = ...) -> None: ...

class WorkflowExecutionInfo(_message.Message):
    __slots__ = ("execution", "type", "start_time", "close_time", "status", "history_length", "task_queue", "execution_duration", "parent_namespace", "parent_execution", "root_execution", "memo", "search_attributes", "first_run_id", "new_execution_run_id", "history_size_bytes", "state_transition_count", "cost", "reset_base_run_id", "reset_event_id", "reset_reason")
    EXECUTION_FIELD_NUMBER: _ClassVar[int]
    TYPE_FIELD_NUMBER: _ClassVar[int]
    START_TIME_FIELD_NUMBER: _ClassVar[int]
    CLOSE_TIME_FIELD_NUMBER: _ClassVar[int]
    STATUS_FIELD_NUMBER: _ClassVar[int]
    HISTORY_LENGTH_FIELD_NUMBER: _ClassVar[int]
    TASK_QUEUE_FIELD_NUMBER: _ClassVar[int]
    EXECUTION_DURATION_FIELD_NUMBER: _ClassVar[int]
    PARENT_NAMESPACE_FIELD_NUMBER: _ClassVar[int]
    PARENT_EXECUTION_FIELD_NUMBER: _ClassVar[int]
    ROOT_EXECUTION_FIELD_NUMBER: _ClassVar[int]
    MEMO_FIELD_NUMBER: _ClassVar[int]
    SEARCH_ATTRIBUTES_FIELD_NUMBER: _ClassVar[int]
    FIRST_RUN_ID_FIELD_NUMBER: _ClassVar[int]
    NEW_EXECUTION_RUN_ID_FIELD_NUMBER: _ClassVar[int]
    HISTORY_SIZE_BYTES_FIELD_NUMBER: _ClassVar[int]
    STATE_TRANSITION_COUNT_FIELD_NUMBER: _ClassVar[int]
    COST_FIELD_NUMBER: _ClassVar[int]
    RESET_BASE_RUN_ID_FIELD_NUMBER: _ClassVar[int]
    RESET_EVENT_ID_FIELD_NUMBER: _ClassVar[int]
    RESET_REASON_FIELD_NUMBER: _ClassVar[int]
    execution: _common_pb2.WorkflowExecution
    type: _common_pb2.WorkflowType
    start_time: _timestamp_pb2.Timestamp
    close_time: _timestamp_pb2.Timestamp
    status: _common_pb2.WorkflowExecutionStatus
    history_length: int
    task_queue: str
    execution_duration: _duration_pb2.Duration
    parent_namespace: str
    parent_execution: _common_pb2.WorkflowExecution
    root_execution: _common_pb2.WorkflowExecution
    memo: _common_pb2.Memo
    search_attributes: _common_pb2.SearchAttributes
    first_run_id: str
    new_execution_run_id: str
    history_size_bytes: int
    state_transition_count: int
    cost: WorkflowExecutionCost
    reset_base_run_id: str
    reset_event_id: int
    reset_reason: str
    def __init__(self, execution: _Optional[_Union[_common_pb2.WorkflowExecution, _Mapping]] = ..., type: _Optional[_Union[_common_pb2.WorkflowType, _Mapping]] = ..., start_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., close_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., status: _Optional[_Union[_common_pb2.WorkflowExecutionStatus, str]] = ..., history_length: _Optional[int] = ..., task_queue: _Optional[str] = ..., execution_duration: _Optional[_Union[datetime.timedelta, _duration_pb2.Duration, _Mapping]] = ..., parent_namespace: _Optional[str] = ..., parent_execution: _Optional[_Union[_common_pb2.WorkflowExecution, _Mapping]] = ..., root_execution: _Optional[_Union[_common_pb2.WorkflowExecution, _Mapping]] = ..., memo: _Optional[_Union[_common_pb2.Memo, _Mapping]] = ..., search_attributes: _Optional[_Union[_common_pb2.SearchAttributes, _Mapping]] = ..., first_run_id: _Optional[str] = ..., new_execution_run_id: _Optional[str] = ..., history_size_bytes: _Optional[int] = ..., state_transition_count: _Optional[int] = ..., cost: _Optional[_Union[WorkflowExecutionCost, _Mapping]] = ..., reset_base_run_id: _Optional[str] = ..., reset_event_id: _Optional[int] = ..., reset_reason: _Optional[str] = ...) -> None: ...

class WorkflowExecutionCost(_message.Message):
    __slots__ = ("workflow_tasks", "workflow_task_failures", "activity_attempts", "payload_bytes_in", "payload_bytes_out")
    WORKFLOW_TASKS_FIELD_NUMBER: _ClassVar[int]
    WORKFLOW_TASK_FAILURES_FIELD_NUMBER: _ClassVar[int]
    ACTIVITY_ATTEMPTS_FIELD_NUMBER: _ClassVar[int]
    PAYLOAD_BYTES_IN_FIELD_NUMBER: _ClassVar[int]
    PAYLOAD_BYTES_OUT_FIELD_NUMBER: _ClassVar[int]
    workflow_tasks: int
    workflow_task_failures: int
    activity_attempts: int
    payload_bytes_in: int
    payload_bytes_out: int
    def __init__(self, workflow_tasks: _Optional[int] = ..., workflow_task_failures: _Optional[int] = ..., activity_attempts: _Optional[int] = ..., payload_bytes_in: _Optional[int] = ..., payload_bytes_out: _Optional[int] = ...) -> None: ...

class PendingActivityInfo(_message.Message):
    __slots__ = ("activity_id", "activity_type", "state", "attempt", "maximum_attempts", "scheduled_time", "last_started_time", "last_failure", "last_worker_identity", "next_attempt_schedule_time", "scheduled_event_id", "task_queue", "task_queue_last_poll_time", "heartbeat_details", "last_heartbeat_time")
    ACTIVITY_ID_FIELD_NUMBER: _ClassVar[int]
    ACTIVITY_TYPE_FIELD_NUMBER: _ClassVar[int]
    STATE_FIELD_NUMBER: _ClassVar[int]
    ATTEMPT_FIELD_NUMBER: _ClassVar[int]
    MAXIMUM_ATTEMPTS_FIELD_NUMBER: _ClassVar[int]
    SCHEDULED_TIME_FIELD_NUMBER: _ClassVar[int]
    LAST_STARTED_TIME_FIELD_NUMBER: _ClassVar[int]
    LAST_FAILURE_FIELD_NUMBER: _ClassVar[int]
    LAST_WORKER_IDENTITY_FIELD_NUMBER: _ClassVar[int]
    NEXT_ATTEMPT_SCHEDULE_TIME_FIELD_NUMBER: _ClassVar[int]
    SCHEDULED_EVENT_ID_FIELD_NUMBER: _ClassVar[int]
    TASK_QUEUE_FIELD_NUMBER: _ClassVar[int]
    TASK_QUEUE_LAST_POLL_TIME_FIELD_NUMBER: _ClassVar[int]
    HEARTBEAT_DETAILS_FIELD_NUMBER: _ClassVar[int]
    LAST_HEARTBEAT_TIME_FIELD_NUMBER: _ClassVar[int]
    activity_id: str
    activity_type: _common_pb2.ActivityType
    state: PendingActivityState
    attempt: int
    maximum_attempts: int
    scheduled_time: _timestamp_pb2.Timestamp
    last_started_time: _timestamp_pb2.Timestamp
    last_failure: _common_pb2.Failure
    last_worker_identity: str
    next_attempt_schedule_time: _timestamp_pb2.Timestamp
    scheduled_event_id: int
    task_queue: str
    task_queue_last_poll_time: _timestamp_pb2.Timestamp
    heartbeat_details: _common_pb2.Payloads
    last_heartbeat_time: _timestamp_pb2.Timestamp
    def __init__(self, activity_id: _Optional[str] = ..., activity_type: _Optional[_Union[_common_pb2.ActivityType, _Mapping]] = ..., state: _Optional[_Union[PendingActivityState, str]] = ..., attempt: _Optional[int] = ..., maximum_attempts: _Optional[int] = ..., scheduled_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., last_started_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., last_failure: _Optional[_Union[_common_pb2.Failure, _Mapping]] = ..., last_worker_identity: _Optional[str] = ..., next_attempt_schedule_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., scheduled_event_id: _Optional[int] = ..., task_queue: _Optional[str] = ..., task_queue_last_poll_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., heartbeat_details: _Optional[_Union[_common_pb2.Payloads, _Mapping]] = ..., last_heartbeat_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class PendingWorkflowTaskInfo(_message.Message):
    __slots__ = ("scheduled_event_id", "attempt", "scheduled_time", "started_time", "last_failure", "task_queue", "task_queue_last_poll_time")
    SCHEDULED_EVENT_ID_FIELD_NUMBER: _ClassVar[int]
    ATTEMPT_FIELD_NUMBER: _ClassVar[int]
    SCHEDULED_TIME_FIELD_NUMBER: _ClassVar[int]
    STARTED_TIME_FIELD_NUMBER: _ClassVar[int]
    LAST_FAILURE_FIELD_NUMBER: _ClassVar[int]
    TASK_QUEUE_FIELD_NUMBER: _ClassVar[int]
    TASK_QUEUE_LAST_POLL_TIME_FIELD_NUMBER: _ClassVar[int]
    scheduled_event_id: int
    attempt: int
    scheduled_time: _timestamp_pb2.Timestamp
    started_time: _timestamp_pb2.Timestamp
    last_failure: _common_pb2.Failure
    task_queue: str
    task_queue_last_poll_time: _timestamp_pb2.Timestamp
    def __init__(self, scheduled_event_id: _Optional[int] = ..., attempt: _Optional[int] = ..., scheduled_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., started_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., last_failure: _Optional[_Union[_common_pb2.Failure, _Mapping]] = ..., task_queue: _Optional[str] = ..., task_queue_last_poll_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class PendingChildExecutionInfo(_message.Message):
    __slots__ = ("workflow_id", "run_id", "workflow_type_name", "initiated_id", "parent_close_policy", "namespace")
    WORKFLOW_ID_FIELD_NUMBER: _ClassVar[int]
    RUN_ID_FIELD_NUMBER: _ClassVar[int]
    WORKFLOW_TYPE_NAME_FIELD_NUMBER: _ClassVar[int]
    INITIATED_ID_FIELD_NUMBER: _ClassVar[int]
    PARENT_CLOSE_POLICY_FIELD_NUMBER: _ClassVar[int]
    NAMESPACE_FIELD_NUMBER: _ClassVar[int]
    workflow_id: str
    run_id: str
    workflow_type_name: str
    initiated_id: int
    parent_close_policy: _common_pb2.ParentClosePolicy
    namespace: str
    def __init__(self, workflow_id: _Optional[str] = ..., run_id: _Optional[str] = ..., workflow_type_name: _Optional[str] = ..., initiated_id: _Optional[int] = ..., parent_close_policy: _Optional[_Union[_common_pb2.ParentClosePolicy, str]] = ..., namespace: _Optional[str] = ...) -> None: ...

class DescribeWorkflowExecutionRequest(_message.Message):
    __slots__ = ("namespace", "execution")
    NAMESPACE_FIELD_NUMBER: _ClassVar[int]
    EXECUTION_FIELD_NUMBER: _ClassVar[int]
    namespace: str
    execution: _common_pb2.WorkflowExecution
    def __init__(self, namespace: _Optional[str] = ..., execution: _Optional[_Union[_common_pb2.WorkflowExecution, _Mapping]] = ...) -> None: ...

class DescribeWorkflowExecutionResponse(_message.Message):
    __slots__ = ("workflow_execution_info", "pending_activities", "pending_workflow_task", "workflow_execution_timeout", "workflow_run_timeout", "workflow_task_timeout", "result", "failure", "pending_children")
    WORKFLOW_EXECUTION_INFO_FIELD_NUMBER: _ClassVar[int]
    PENDING_ACTIVITIES_FIELD_NUMBER: _ClassVar[int]
    PENDING_WORKFLOW_TASK_FIELD_NUMBER: _ClassVar[int]
    WORKFLOW_EXECUTION_TIMEOUT_FIELD_NUMBER: _ClassVar[int]
    WORKFLOW_RUN_TIMEOUT_FIELD_NUMBER: _ClassVar[int]
    WORKFLOW_TASK_TIMEOUT_FIELD_NUMBER: _ClassVar[int]
    RESULT_FIELD_NUMBER: _ClassVar[int]
    FAILURE_FIELD_NUMBER: _ClassVar[int]
    PENDING_CHILDREN_FIELD_NUMBER: _ClassVar[int]
    workflow_execution_info: WorkflowExecutionInfo
    pending_activities: _containers.RepeatedCompositeFieldContainer[PendingActivityInfo]
    pending_workflow_task: PendingWorkflowTaskInfo
    workflow_execution_timeout: _duration_pb2.Duration
    workflow_run_timeout: _duration_pb2.Duration
    workflow_task_timeout: _duration_pb2.Duration
    result: _common_pb2.Payloads
    failure: _common_pb2.Failure
    pending_children: _containers.RepeatedCompositeFieldContainer[PendingChildExecutionInfo]
    def __init__(self, workflow_execution_info: _Optional[_Union[WorkflowExecutionInfo, _Mapping]] = ..., pending_activities: _Optional[_Iterable[_Union[PendingActivityInfo, _Mapping]]] = ..., pending_workflow_task: _Optional[_Union[PendingWorkflowTaskInfo, _Mapping]] = ..., workflow_execution_timeout: _Optional[_Union[datetime.timedelta, _duration_pb2.Duration, _Mapping]] = ..., workflow_run_timeout: _Optional[_Union[datetime.timedelta, _duration_pb2.Duration, _Mapping]] = ..., workflow_task_timeout: _Optional[_Union[datetime.timedelta, _duration_pb2.Duration, _Mapping]] = ..., result: _Optional[_Union[_common_pb2.Payloads, _Mapping]] = ..., failure: _Optional[_Union[_common_pb2.Failure, _Mapping]] = ..., pending_children: _Optional[_Iterable[_Union[PendingChildExecutionInfo, _Mapping]]] = ...) -> None: ...

class ListWorkflowExecutionsRequest(_message.Message):
    __slots__ = ("namespace", "page_size", "next_page_token", "query")
    NAMESPACE_FIELD_NUMBER: _ClassVar[int]
    PAGE_SIZE_FIELD_NUMBER: _ClassVar[int]
    NEXT_PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    QUERY_FIELD_NUMBER: _ClassVar[int]
    namespace: str
    page_size: int
    next_page_token: bytes
    query: str
    def __init__(self, namespace: _Optional[str] = ..., page_size: _Optional[int] = ..., next_page_token: _Optional[bytes] = ..., query: _Optional[str] = ...) -> None: ...

class ListWorkflowExecutionsResponse(_message.Message):
    __slots__ = ("executions", "next_page_token")
    EXECUTIONS_FIELD_NUMBER: _ClassVar[int]
    NEXT_PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    executions: _containers.RepeatedCompositeFieldContainer[WorkflowExecutionInfo]
    next_page_token: bytes
    def __init__(self, executions: _Optional[_Iterable[_Union[WorkflowExecutionInfo, _Mapping]]] = ..., next_page_token: _Optional[bytes] = ...) -> None: ...

class PollWorkflowTaskQueueRequest(_message.Message):
    __slots__ = ("namespace", "task_queue", "identity")
    NAMESPACE_FIELD_NUMBER: _ClassVar[int]
    TASK_QUEUE_FIELD_NUMBER: _ClassVar[int]
    IDENTITY_FIELD_NUMBER: _ClassVar[int]
    namespace: str
    task_queue: _common_pb2.TaskQueue
    identity: str
    def __init__(self, namespace: _Optional[str] = ..., task_queue: _Optional[_Union[_common_pb2.TaskQueue, _Mapping]] = ..., identity: _Optional[str] = ...) -> None: ...

class PollWorkflowTaskQueueResponse(_message.Message):
    __slots__ = ("task_token", "workflow_execution", "workflow_type", "previous_started_event_id", "started_event_id", "attempt", "history", "scheduled_time", "started_time", "query", "update_requests")
    TASK_TOKEN_FIELD_NUMBER: _ClassVar[int]
    WORKFLOW_EXECUTION_FIELD_NUMBER: _ClassVar[int]
    WORKFLOW_TYPE_FIELD_NUMBER: _ClassVar[int]
    PREVIOUS_STARTED_EVENT_ID_FIELD_NUMBER: _ClassVar[int]
    STARTED_EVENT_ID_FIELD_NUMBER: _ClassVar[int]
    ATTEMPT_FIELD_NUMBER: _ClassVar[int]
    HISTORY_FIELD_NUMBER: _ClassVar[int]
    SCHEDULED_TIME_FIELD_NUMBER: _ClassVar[int]
    STARTED_TIME_FIELD_NUMBER: _ClassVar[int]
    QUERY_FIELD_NUMBER: _ClassVar[int]
    UPDATE_REQUESTS_FIELD_NUMBER: _ClassVar[int]
    task_token: bytes
    workflow_execution: _common_pb2.WorkflowExecution
    workflow_type: _common_pb2.WorkflowType
    previous_started_event_id: int
    started_event_id: int
    attempt: int
    history: _history_pb2.History
    scheduled_time: _timestamp_pb2.Timestamp
    started_time: _timestamp_pb2.Timestamp
    query: WorkflowQuery
    update_requests: _containers.RepeatedCompositeFieldContainer[_common_pb2.UpdateRequest]
    def __init__(self, task_token: _Optional[bytes] = ..., workflow_execution: _Optional[_Union[_common_pb2.WorkflowExecution, _Mapping]] = ..., workflow_type: _Optional[_Union[_common_pb2.WorkflowType, _Mapping]] = ..., previous_started_event_id: _Optional[int] = ..., started_event_id: _Optional[int] = ..., attempt: _Optional[int] = ..., history: _Optional[_Union[_history_pb2.History, _Mapping]] = ..., scheduled_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., started_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., query: _Optional[_Union[WorkflowQuery, _Mapping]] = ..., update_requests: _Optional[_Iterable[_Union[_common_pb2.UpdateRequest, _Mapping]]] = ...) -> None: ...

class WorkflowQuery(_message.Message):
    __slots__ = ("query_type", "query_args")
    QUERY_TYPE_FIELD_NUMBER: _ClassVar[int]
    QUERY_ARGS_FIELD_NUMBER: _ClassVar[int]
    query_type: str
    query_args: _common_pb2.Payloads
    def __init__(self, query_type: _Optional[str] = ..., query_args: _Optional[_Union[_common_pb2.Payloads, _Mapping]] = ...) -> None: ...

class RespondWorkflowTaskCompletedRequest(_message.Message):
    __slots__ = ("task_token", "commands", "identity", "update_responses", "sticky_task_queue", "sticky_schedule_to_start_timeout", "return_new_events")
    TASK_TOKEN_FIELD_NUMBER: _ClassVar[int]
    COMMANDS_FIELD_NUMBER: _ClassVar[int]
    IDENTITY_FIELD_NUMBER: _ClassVar[int]
    UPDATE_RESPONSES_FIELD_NUMBER: _ClassVar[int]
    STICKY_TASK_QUEUE_FIELD_NUMBER: _ClassVar[int]
    STICKY_SCHEDULE_TO_START_TIMEOUT_FIELD_NUMBER: _ClassVar[int]
    RETURN_NEW_EVENTS_FIELD_NUMBER: _ClassVar[int]
    task_token: bytes
    commands: _containers.RepeatedCompositeFieldContainer[_command_pb2.Command]
    identity: str
    update_responses: _containers.RepeatedCompositeFieldContainer[_common_pb2.UpdateResponse]
    sticky_task_queue: str
    sticky_schedule_to_start_timeout: _duration_pb2.Duration
    return_new_events: bool
    def __init__(self, task_token: _Optional[bytes] = ..., commands: _Optional[_Iterable[_Union[_command_pb2.Command, _Mapping]]] = ..., identity: _Optional[str] = ..., update_responses: _Optional[_Iterable[_Union[_common_pb2.UpdateResponse, _Mapping]]] = ..., sticky_task_queue: _Optional[str] = ..., sticky_schedule_to_start_timeout: _Optional[_Union[datetime.timedelta, _duration_pb2.Duration, _Mapping]] = ..., return_new_events: _Optional[bool] = ...) -> None: ...

class RespondWorkflowTaskCompletedResponse(_message.Message):
    __slots__ = ("activity_tasks", "new_events")
    ACTIVITY_TASKS_FIELD_NUMBER: _ClassVar[int]
    NEW_EVENTS_FIELD_NUMBER: _ClassVar[int]
    activity_tasks: _containers.RepeatedCompositeFieldContainer[PollActivityTaskQueueResponse]
    new_events: _history_pb2.History
    def __init__(self, activity_tasks: _Optional[_Iterable[_Union[PollActivityTaskQueueResponse, _Mapping]]] = ..., new_events: _Optional[_Union[_history_pb2.History, _Mapping]] = ...) -> None: ...

class RespondWorkflowTaskFailedRequest(_message.Message):
    __slots__ = ("task_token", "cause", "failure", "identity")
    TASK_TOKEN_FIELD_NUMBER: _ClassVar[int]
    CAUSE_FIELD_NUMBER: _ClassVar[int]
    FAILURE_FIELD_NUMBER: _ClassVar[int]
    IDENTITY_FIELD_NUMBER: _ClassVar[int]
    task_token: bytes
    cause: _common_pb2.WorkflowTaskFailedCause
    failure: _common_pb2.Failure
    identity: str
    def __init__(self, task_token: _Optional[bytes] = ..., cause: _Optional[_Union[_common_pb2.WorkflowTaskFailedCause, str]] = ..., failure: _Optional[_Union[_common_pb2.Failure, _Mapping]] = ..., identity: _Optional[str] = ...) -> None: ...

class RespondWorkflowTaskFailedResponse(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class PollActivityTaskQueueRequest(_message.Message):
    __slots__ = ("namespace", "task_queue", "identity")
    NAMESPACE_FIELD_NUMBER: _ClassVar[int]
    TASK_QUEUE_FIELD_NUMBER: _ClassVar[int]
    IDENTITY_FIELD_NUMBER: _ClassVar[int]
    namespace: str
    task_queue: _common_pb2.TaskQueue
    identity: str
    def __init__(self, namespace: _Optional[str] = ..., task_queue: _Optional[_Union[_common_pb2.TaskQueue, _Mapping]] = ..., identity: _Optional[str] = ...) -> None: ...

class PollActivityTaskQueueResponse(_message.Message):
    __slots__ = ("task_token", "workflow_type", "workflow_execution", "activity_type", "activity_id", "input", "scheduled_time", "current_attempt_scheduled_time", "started_time", "attempt", "schedule_to_close_timeout", "start_to_close_timeout", "heartbeat_timeout", "retry_policy", "heartbeat_details", "workflow_namespace")
    TASK_TOKEN_FIELD_NUMBER: _ClassVar[int]
    WORKFLOW_TYPE_FIELD_NUMBER: _ClassVar[int]
    WORKFLOW_EXECUTION_FIELD_NUMBER: _ClassVar[int]
    ACTIVITY_TYPE_FIELD_NUMBER: _ClassVar[int]
    ACTIVITY_ID_FIELD_NUMBER: _ClassVar[int]
    INPUT_FIELD_NUMBER: _ClassVar[int]
    SCHEDULED_TIME_FIELD_NUMBER: _ClassVar[int]
    CURRENT_ATTEMPT_SCHEDULED_TIME_FIELD_NUMBER: _ClassVar[int]
    STARTED_TIME_FIELD_NUMBER: _ClassVar[int]
    ATTEMPT_FIELD_NUMBER: _ClassVar[int]
    SCHEDULE_TO_CLOSE_TIMEOUT_FIELD_NUMBER: _ClassVar[int]
    START_TO_CLOSE_TIMEOUT_FIELD_NUMBER: _ClassVar[int]
    HEARTBEAT_TIMEOUT_FIELD_NUMBER: _ClassVar[int]
    RETRY_POLICY_FIELD_NUMBER: _ClassVar[int]
    HEARTBEAT_DETAILS_FIELD_NUMBER: _ClassVar[int]
    WORKFLOW_NAMESPACE_FIELD_NUMBER: _ClassVar[int]
    task_token: bytes
    workflow_type: _common_pb2.WorkflowType
    workflow_execution: _common_pb2.WorkflowExecution
    activity_type: _common_pb2.ActivityType
    activity_id: str
    input: _common_pb2.Payloads
    scheduled_time: _timestamp_pb2.Timestamp
    current_attempt_scheduled_time: _timestamp_pb2.Timestamp
    started_time: _timestamp_pb2.Timestamp
    attempt: int
    schedule_to_close_timeout: _duration_pb2.Duration
    start_to_close_timeout: _duration_pb2.Duration
    heartbeat_timeout: _duration_pb2.Duration
    retry_policy: _common_pb2.RetryPolicy
    heartbeat_details: _common_pb2.Payloads
    workflow_namespace: str
    def __init__(self, task_token: _Optional[bytes] = ..., workflow_type: _Optional[_Union[_common_pb2.WorkflowType, _Mapping]] = ..., workflow_execution: _Optional[_Union[_common_pb2.WorkflowExecution, _Mapping]] = ..., activity_type: _Optional[_Union[_common_pb2.ActivityType, _Mapping]] = ..., activity_id: _Optional[str] = ..., input: _Optional[_Union[_common_pb2.Payloads, _Mapping]] = ..., scheduled_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., current_attempt_scheduled_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., started_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., attempt: _Optional[int] = ..., schedule_to_close_timeout: _Optional[_Union[datetime.timedelta, _duration_pb2.Duration, _Mapping]] = ..., start_to_close_timeout: _Optional[_Union[datetime.timedelta, _duration_pb2.Duration, _Mapping]] = ..., heartbeat_timeout: _Optional[_Union[datetime.timedelta, _duration_pb2.Duration, _Mapping]] = ..., retry_policy: _Optional[_Union[_common_pb2.RetryPolicy, _Mapping]] = ..., heartbeat_details: _Optional[_Union[_common_pb2.Payloads, _Mapping]] = ..., workflow_namespace: _Optional[str] = ...) -> None: ...

class RespondActivityTaskCompletedRequest(_message.Message):
    __slots__ = ("task_token", "result", "identity", "eager_workflow_task_queue", "next_activity_task_queue", "workflow_task_ahead")
    TASK_TOKEN_FIELD_NUMBER: _ClassVar[int]
    RESULT_FIELD_NUMBER: _ClassVar[int]
    IDENTITY_FIELD_NUMBER: _ClassVar[int]
    EAGER_WORKFLOW_TASK_QUEUE_FIELD_NUMBER: _ClassVar[int]
    NEXT_ACTIVITY_TASK_QUEUE_FIELD_NUMBER: _ClassVar[int]
    WORKFLOW_TASK_AHEAD_FIELD_NUMBER: _ClassVar[int]
    task_token: bytes
    result: _common_pb2.Payloads
    identity: str
    eager_workflow_task_queue: str
    next_activity_task_queue: str
    workflow_task_ahead: WorkflowTaskAhead
    def __init__(self, task_token: _Optional[bytes] = ..., result: _Optional[_Union[_common_pb2.Payloads, _Mapping]] = ..., identity: _Optional[str] = ..., eager_workflow_task_queue: _Optional[str] = ..., next_activity_task_queue: _Optional[str] = ..., workflow_task_ahead: _Optional[_Union[WorkflowTaskAhead, _Mapping]] = ...) -> None: ...

class WorkflowTaskAhead(_message.Message):
    __slots__ = ("after_event_id", "started_time", "commands", "update_responses", "sticky_task_queue", "sticky_schedule_to_start_timeout")
    AFTER_EVENT_ID_FIELD_NUMBER: _ClassVar[int]
    STARTED_TIME_FIELD_NUMBER: _ClassVar[int]
    COMMANDS_FIELD_NUMBER: _ClassVar[int]
    UPDATE_RESPONSES_FIELD_NUMBER: _ClassVar[int]
    STICKY_TASK_QUEUE_FIELD_NUMBER: _ClassVar[int]
    STICKY_SCHEDULE_TO_START_TIMEOUT_FIELD_NUMBER: _ClassVar[int]
    after_event_id: int
    started_time: _timestamp_pb2.Timestamp
    commands: _containers.RepeatedCompositeFieldContainer[_command_pb2.Command]
    update_responses: _containers.RepeatedCompositeFieldContainer[_common_pb2.UpdateResponse]
    sticky_task_queue: str
    sticky_schedule_to_start_timeout: _duration_pb2.Duration
    def __init__(self, after_event_id: _Optional[int] = ..., started_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., commands: _Optional[_Iterable[_Union[_command_pb2.Command, _Mapping]]] = ..., update_responses: _Optional[_Iterable[_Union[_common_pb2.UpdateResponse, _Mapping]]] = ..., sticky_task_queue: _Optional[str] = ..., sticky_schedule_to_start_timeout: _Optional[_Union[datetime.timedelta, _duration_pb2.Duration, _Mapping]] = ...) -> None: ...

class RespondActivityTaskCompletedResponse(_message.Message):
    __slots__ = ("workflow_task", "activity_task", "workflow_task_ahead_completed", "new_events", "activity_tasks", "server_time")
    WORKFLOW_TASK_FIELD_NUMBER: _ClassVar[int]
    ACTIVITY_TASK_FIELD_NUMBER: _ClassVar[int]
    WORKFLOW_TASK_AHEAD_COMPLETED_FIELD_NUMBER: _ClassVar[int]
    NEW_EVENTS_FIELD_NUMBER: _ClassVar[int]
    ACTIVITY_TASKS_FIELD_NUMBER: _ClassVar[int]
    SERVER_TIME_FIELD_NUMBER: _ClassVar[int]
    workflow_task: PollWorkflowTaskQueueResponse
    activity_task: PollActivityTaskQueueResponse
    workflow_task_ahead_completed: bool
    new_events: _history_pb2.History
    activity_tasks: _containers.RepeatedCompositeFieldContainer[PollActivityTaskQueueResponse]
    server_time: _timestamp_pb2.Timestamp
    def __init__(self, workflow_task: _Optional[_Union[PollWorkflowTaskQueueResponse, _Mapping]] = ..., activity_task: _Optional[_Union[PollActivityTaskQueueResponse, _Mapping]] = ..., workflow_task_ahead_completed: _Optional[bool] = ..., new_events: _Optional[_Union[_history_pb2.History, _Mapping]] = ..., activity_tasks: _Optional[_Iterable[_Union[PollActivityTaskQueueResponse, _Mapping]]] = ..., server_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class RespondActivityTaskFailedRequest(_message.Message):
    __slots__ = ("task_token", "failure", "identity")
    TASK_TOKEN_FIELD_NUMBER: _ClassVar[int]
    FAILURE_FIELD_NUMBER: _ClassVar[int]
    IDENTITY_FIELD_NUMBER: _ClassVar[int]
    task_token: bytes
    failure: _common_pb2.Failure
    identity: str
    def __init__(self, task_token: _Optional[bytes] = ..., failure: _Optional[_Union[_common_pb2.Failure, _Mapping]] = ..., identity: _Optional[str] = ...) -> None: ...

class RespondActivityTaskFailedResponse(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class RecordActivityTaskHeartbeatRequest(_message.Message):
    __slots__ = ("task_token", "details", "identity")
    TASK_TOKEN_FIELD_NUMBER: _ClassVar[int]
    DETAILS_FIELD_NUMBER: _ClassVar[int]
    IDENTITY_FIELD_NUMBER: _ClassVar[int]
    task_token: bytes
    details: _common_pb2.Payloads
    identity: str
    def __init__(self, task_token: _Optional[bytes] = ..., details: _Optional[_Union[_common_pb2.Payloads, _Mapping]] = ..., identity: _Optional[str] = ...) -> None: ...

class RecordActivityTaskHeartbeatResponse(_message.Message):
    __slots__ = ("cancel_requested",)
    CANCEL_REQUESTED_FIELD_NUMBER: _ClassVar[int]
    cancel_requested: bool
    def __init__(self, cancel_requested: _Optional[bool] = ...) -> None: ...

class RespondActivityTaskCanceledRequest(_message.Message):
    __slots__ = ("task_token", "details", "identity")
    TASK_TOKEN_FIELD_NUMBER: _ClassVar[int]
    DETAILS_FIELD_NUMBER: _ClassVar[int]
    IDENTITY_FIELD_NUMBER: _ClassVar[int]
    task_token: bytes
    details: _common_pb2.Payloads
    identity: str
    def __init__(self, task_token: _Optional[bytes] = ..., details: _Optional[_Union[_common_pb2.Payloads, _Mapping]] = ..., identity: _Optional[str] = ...) -> None: ...

class RespondActivityTaskCanceledResponse(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class RespondActivityTaskCompletedByIdRequest(_message.Message):
    __slots__ = ("namespace", "workflow_id", "run_id", "activity_id", "result", "identity")
    NAMESPACE_FIELD_NUMBER: _ClassVar[int]
    WORKFLOW_ID_FIELD_NUMBER: _ClassVar[int]
    RUN_ID_FIELD_NUMBER: _ClassVar[int]
    ACTIVITY_ID_FIELD_NUMBER: _ClassVar[int]
    RESULT_FIELD_NUMBER: _ClassVar[int]
    IDENTITY_FIELD_NUMBER: _ClassVar[int]
    namespace: str
    workflow_id: str
    run_id: str
    activity_id: str
    result: _common_pb2.Payloads
    identity: str
    def __init__(self, namespace: _Optional[str] = ..., workflow_id: _Optional[str] = ..., run_id: _Optional[str] = ..., activity_id: _Optional[str] = ..., result: _Optional[_Union[_common_pb2.Payloads, _Mapping]] = ..., identity: _Optional[str] = ...) -> None: ...

class RespondActivityTaskCompletedByIdResponse(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class RespondActivityTaskFailedByIdRequest(_message.Message):
    __slots__ = ("namespace", "workflow_id", "run_id", "activity_id", "failure", "identity")
    NAMESPACE_FIELD_NUMBER: _ClassVar[int]
    WORKFLOW_ID_FIELD_NUMBER: _ClassVar[int]
    RUN_ID_FIELD_NUMBER: _ClassVar[int]
    ACTIVITY_ID_FIELD_NUMBER: _ClassVar[int]
    FAILURE_FIELD_NUMBER: _ClassVar[int]
    IDENTITY_FIELD_NUMBER: _ClassVar[int]
    namespace: str
    workflow_id: str
    run_id: str
    activity_id: str
    failure: _common_pb2.Failure
    identity: str
    def __init__(self, namespace: _Optional[str] = ..., workflow_id: _Optional[str] = ..., run_id: _Optional[str] = ..., activity_id: _Optional[str] = ..., failure: _Optional[_Union[_common_pb2.Failure, _Mapping]] = ..., identity: _Optional[str] = ...) -> None: ...

class RespondActivityTaskFailedByIdResponse(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class RecordActivityTaskHeartbeatByIdRequest(_message.Message):
    __slots__ = ("namespace", "workflow_id", "run_id", "activity_id", "details", "identity")
    NAMESPACE_FIELD_NUMBER: _ClassVar[int]
    WORKFLOW_ID_FIELD_NUMBER: _ClassVar[int]
    RUN_ID_FIELD_NUMBER: _ClassVar[int]
    ACTIVITY_ID_FIELD_NUMBER: _ClassVar[int]
    DETAILS_FIELD_NUMBER: _ClassVar[int]
    IDENTITY_FIELD_NUMBER: _ClassVar[int]
    namespace: str
    workflow_id: str
    run_id: str
    activity_id: str
    details: _common_pb2.Payloads
    identity: str
    def __init__(self, namespace: _Optional[str] = ..., workflow_id: _Optional[str] = ..., run_id: _Optional[str] = ..., activity_id: _Optional[str] = ..., details: _Optional[_Union[_common_pb2.Payloads, _Mapping]] = ..., identity: _Optional[str] = ...) -> None: ...

class RecordActivityTaskHeartbeatByIdResponse(_message.Message):
    __slots__ = ("cancel_requested",)
    CANCEL_REQUESTED_FIELD_NUMBER: _ClassVar[int]
    cancel_requested: bool
    def __init__(self, cancel_requested: _Optional[bool] = ...) -> None: ...

class RespondActivityTaskCanceledByIdRequest(_message.Message):
    __slots__ = ("namespace", "workflow_id", "run_id", "activity_id", "details", "identity")
    NAMESPACE_FIELD_NUMBER: _ClassVar[int]
    WORKFLOW_ID_FIELD_NUMBER: _ClassVar[int]
    RUN_ID_FIELD_NUMBER: _ClassVar[int]
    ACTIVITY_ID_FIELD_NUMBER: _ClassVar[int]
    DETAILS_FIELD_NUMBER: _ClassVar[int]
    IDENTITY_FIELD_NUMBER: _ClassVar[int]
    namespace: str
    workflow_id: str
    run_id: str
    activity_id: str
    details: _common_pb2.Payloads
    identity: str
    def __init__(self, namespace: _Optional[str] = ..., workflow_id: _Optional[str] = ..., run_id: _Optional[str] = ..., activity_id: _Optional[str] = ..., details: _Optional[_Union[_common_pb2.Payloads, _Mapping]] = ..., identity: _Optional[str] = ...) -> None: ...

class RespondActivityTaskCanceledByIdResponse(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class SignalWorkflowExecutionRequest(_message.Message):
    __slots__ = ("namespace", "workflow_execution", "signal_name", "input", "identity", "request_id")
    NAMESPACE_FIELD_NUMBER: _ClassVar[int]
    WORKFLOW_EXECUTION_FIELD_NUMBER: _ClassVar[int]
    SIGNAL_NAME_FIELD_NUMBER: _ClassVar[int]
    INPUT_FIELD_NUMBER: _ClassVar[int]
    IDENTITY_FIELD_NUMBER: _ClassVar[int]
    REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    namespace: str
    workflow_execution: _common_pb2.WorkflowExecution
    signal_name: str
    input: _common_pb2.Payloads
    identity: str
    request_id: str
    def __init__(self, namespace: _Optional[str] = ..., workflow_execution: _Optional[_Union[_common_pb2.WorkflowExecution, _Mapping]] = ..., signal_name: _Optional[str] = ..., input: _Optional[_Union[_common_pb2.Payloads, _Mapping]] = ..., identity: _Optional[str] = ..., request_id: _Optional[str] = ...) -> None: ...

class SignalWorkflowExecutionResponse(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class RequestCancelWorkflowExecutionRequest(_message.Message):
    __slots__ = ("namespace", "workflow_execution", "identity", "reason")
    NAMESPACE_FIELD_NUMBER: _ClassVar[int]
    WORKFLOW_EXECUTION_FIELD_NUMBER: _ClassVar[int]
    IDENTITY_FIELD_NUMBER: _ClassVar[int]
    REASON_FIELD_NUMBER: _ClassVar[int]
    namespace: str
    workflow_execution: _common_pb2.WorkflowExecution
    identity: str
    reason: str
    def __init__(self, namespace: _Optional[str] = ..., workflow_execution: _Optional[_Union[_common_pb2.WorkflowExecution, _Mapping]] = ..., identity: _Optional[str] = ..., reason: _Optional[str] = ...) -> None: ...

class RequestCancelWorkflowExecutionResponse(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class TerminateWorkflowExecutionRequest(_message.Message):
    __slots__ = ("namespace", "workflow_execution", "reason", "details", "identity")
    NAMESPACE_FIELD_NUMBER: _ClassVar[int]
    WORKFLOW_EXECUTION_FIELD_NUMBER: _ClassVar[int]
    REASON_FIELD_NUMBER: _ClassVar[int]
    DETAILS_FIELD_NUMBER: _ClassVar[int]
    IDENTITY_FIELD_NUMBER: _ClassVar[int]
    namespace: str
    workflow_execution: _common_pb2.WorkflowExecution
    reason: str
    details: _common_pb2.Payloads
    identity: str
    def __init__(self, namespace: _Optional[str] = ..., workflow_execution: _Optional[_Union[_common_pb2.WorkflowExecution, _Mapping]] = ..., reason: _Optional[str] = ..., details: _Optional[_Union[_common_pb2.Payloads, _Mapping]] = ..., identity: _Optional[str] = ...) -> None: ...

class TerminateWorkflowExecutionResponse(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class ResetWorkflowExecutionRequest(_message.Message):
    __slots__ = ("namespace", "workflow_execution", "reason", "workflow_task_finish_event_id", "request_id", "reset_reapply_type", "reset_reapply_exclude_types", "identity", "allow_pending_children")
    NAMESPACE_FIELD_NUMBER: _ClassVar[int]
    WORKFLOW_EXECUTION_FIELD_NUMBER: _ClassVar[int]
    REASON_FIELD_NUMBER: _ClassVar[int]
    WORKFLOW_TASK_FINISH_EVENT_ID_FIELD_NUMBER: _ClassVar[int]
    REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    RESET_REAPPLY_TYPE_FIELD_NUMBER: _ClassVar[int]
    RESET_REAPPLY_EXCLUDE_TYPES_FIELD_NUMBER: _ClassVar[int]
    IDENTITY_FIELD_NUMBER: _ClassVar[int]
    ALLOW_PENDING_CHILDREN_FIELD_NUMBER: _ClassVar[int]
    namespace: str
    workflow_execution: _common_pb2.WorkflowExecution
    reason: str
    workflow_task_finish_event_id: int
    request_id: str
    reset_reapply_type: _common_pb2.ResetReapplyType
    reset_reapply_exclude_types: _containers.RepeatedScalarFieldContainer[_common_pb2.ResetReapplyExcludeType]
    identity: str
    allow_pending_children: bool
    def __init__(self, namespace: _Optional[str] = ..., workflow_execution: _Optional[_Union[_common_pb2.WorkflowExecution, _Mapping]] = ..., reason: _Optional[str] = ..., workflow_task_finish_event_id: _Optional[int] = ..., request_id: _Optional[str] = ..., reset_reapply_type: _Optional[_Union[_common_pb2.ResetReapplyType, str]] = ..., reset_reapply_exclude_types: _Optional[_Iterable[_Union[_common_pb2.ResetReapplyExcludeType, str]]] = ..., identity: _Optional[str] = ..., allow_pending_children: _Optional[bool] = ...) -> None: ...

class ResetWorkflowExecutionResponse(_message.Message):
    __slots__ = ("run_id",)
    RUN_ID_FIELD_NUMBER: _ClassVar[int]
    run_id: str
    def __init__(self, run_id: _Optional[str] = ...) -> None: ...

class QueryWorkflowRequest(_message.Message):
    __slots__ = ("namespace", "execution", "query")
    NAMESPACE_FIELD_NUMBER: _ClassVar[int]
    EXECUTION_FIELD_NUMBER: _ClassVar[int]
    QUERY_FIELD_NUMBER: _ClassVar[int]
    namespace: str
    execution: _common_pb2.WorkflowExecution
    query: WorkflowQuery
    def __init__(self, namespace: _Optional[str] = ..., execution: _Optional[_Union[_common_pb2.WorkflowExecution, _Mapping]] = ..., query: _Optional[_Union[WorkflowQuery, _Mapping]] = ...) -> None: ...

class QueryWorkflowResponse(_message.Message):
    __slots__ = ("query_result",)
    QUERY_RESULT_FIELD_NUMBER: _ClassVar[int]
    query_result: _common_pb2.Payloads
    def __init__(self, query_result: _Optional[_Union[_common_pb2.Payloads, _Mapping]] = ...) -> None: ...

class RespondQueryTaskCompletedRequest(_message.Message):
    __slots__ = ("task_token", "query_result", "error_message")
    TASK_TOKEN_FIELD_NUMBER: _ClassVar[int]
    QUERY_RESULT_FIELD_NUMBER: _ClassVar[int]
    ERROR_MESSAGE_FIELD_NUMBER: _ClassVar[int]
    task_token: bytes
    query_result: _common_pb2.Payloads
    error_message: str
    def __init__(self, task_token: _Optional[bytes] = ..., query_result: _Optional[_Union[_common_pb2.Payloads, _Mapping]] = ..., error_message: _Optional[str] = ...) -> None: ...

class RespondQueryTaskCompletedResponse(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class UpdateWorkflowExecutionRequest(_message.Message):
    __slots__ = ("namespace", "execution", "update_id", "name", "args", "identity", "wait_stage")
    NAMESPACE_FIELD_NUMBER: _ClassVar[int]
    EXECUTION_FIELD_NUMBER: _ClassVar[int]
    UPDATE_ID_FIELD_NUMBER: _ClassVar[int]
    NAME_FIELD_NUMBER: _ClassVar[int]
    ARGS_FIELD_NUMBER: _ClassVar[int]
    IDENTITY_FIELD_NUMBER: _ClassVar[int]
    WAIT_STAGE_FIELD_NUMBER: _ClassVar[int]
    namespace: str
    execution: _common_pb2.WorkflowExecution
    update_id: str
    name: str
    args: _common_pb2.Payloads
    identity: str
    wait_stage: UpdateWaitStage
    def __init__(self, namespace: _Optional[str] = ..., execution: _Optional[_Union[_common_pb2.WorkflowExecution, _Mapping]] = ..., update_id: _Optional[str] = ..., name: _Optional[str] = ..., args: _Optional[_Union[_common_pb2.Payloads, _Mapping]] = ..., identity: _Optional[str] = ..., wait_stage: _Optional[_Union[UpdateWaitStage, str]] = ...) -> None: ...

class UpdateWorkflowExecutionResponse(_message.Message):
    __slots__ = ("update_id", "stage", "outcome", "run_id")
    UPDATE_ID_FIELD_NUMBER: _ClassVar[int]
    STAGE_FIELD_NUMBER: _ClassVar[int]
    OUTCOME_FIELD_NUMBER: _ClassVar[int]
    RUN_ID_FIELD_NUMBER: _ClassVar[int]
    update_id: str
    stage: UpdateWaitStage
    outcome: _common_pb2.UpdateOutcome
    run_id: str
    def __init__(self, update_id: _Optional[str] = ..., stage: _Optional[_Union[UpdateWaitStage, str]] = ..., outcome: _Optional[_Union[_common_pb2.UpdateOutcome, _Mapping]] = ..., run_id: _Optional[str] = ...) -> None: ...

class DescribeTaskQueueRequest(_message.Message):
    __slots__ = ("namespace", "task_queue", "task_queue_type")
    NAMESPACE_FIELD_NUMBER: _ClassVar[int]
    TASK_QUEUE_FIELD_NUMBER: _ClassVar[int]
    TASK_QUEUE_TYPE_FIELD_NUMBER: _ClassVar[int]
    namespace: str
    task_queue: _common_pb2.TaskQueue
    task_queue_type: TaskQueueType
    def __init__(self, namespace: _Optional[str] = ..., task_queue: _Optional[_Union[_common_pb2.TaskQueue, _Mapping]] = ..., task_queue_type: _Optional[_Union[TaskQueueType, str]] = ...) -> None: ...

class PollerInfo(_message.Message):
    __slots__ = ("last_access_time", "identity", "task_queue_type")
    LAST_ACCESS_TIME_FIELD_NUMBER: _ClassVar[int]
    IDENTITY_FIELD_NUMBER: _ClassVar[int]
    TASK_QUEUE_TYPE_FIELD_NUMBER: _ClassVar[int]
    last_access_time: _timestamp_pb2.Timestamp
    identity: str
    task_queue_type: TaskQueueType
    def __init__(self, last_access_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., identity: _Optional[str] = ..., task_queue_type: _Optional[_Union[TaskQueueType, str]] = ...) -> None: ...

class DescribeTaskQueueResponse(_message.Message):
    __slots__ = ("pollers", "workflow_task_backlog", "activity_task_backlog")
    POLLERS_FIELD_NUMBER: _ClassVar[int]
    WORKFLOW_TASK_BACKLOG_FIELD_NUMBER: _ClassVar[int]
    ACTIVITY_TASK_BACKLOG_FIELD_NUMBER: _ClassVar[int]
    pollers: _containers.RepeatedCompositeFieldContainer[PollerInfo]
    workflow_task_backlog: int
    activity_task_backlog: int
    def __init__(self, pollers: _Optional[_Iterable[_Union[PollerInfo, _Mapping]]] = ..., workflow_task_backlog: _Optional[int] = ..., activity_task_backlog: _Optional[int] = ...) -> None: ...

class CountWorkflowExecutionsRequest(_message.Message):
    __slots__ = ("namespace", "query")
    NAMESPACE_FIELD_NUMBER: _ClassVar[int]
    QUERY_FIELD_NUMBER: _ClassVar[int]
    namespace: str
    query: str
    def __init__(self, namespace: _Optional[str] = ..., query: _Optional[str] = ...) -> None: ...

class CountWorkflowExecutionsResponse(_message.Message):
    __slots__ = ("count", "groups")
    class AggregationGroup(_message.Message):
        __slots__ = ("group_values", "count")
        GROUP_VALUES_FIELD_NUMBER: _ClassVar[int]
        COUNT_FIELD_NUMBER: _ClassVar[int]
        group_values: _containers.RepeatedCompositeFieldContainer[_common_pb2.Payload]
        count: int
        def __init__(self, group_values: _Optional[_Iterable[_Union[_common_pb2.Payload, _Mapping]]] = ..., count: _Optional[int] = ...) -> None: ...
    COUNT_FIELD_NUMBER: _ClassVar[int]
    GROUPS_FIELD_NUMBER: _ClassVar[int]
    count: int
    groups: _containers.RepeatedCompositeFieldContainer[CountWorkflowExecutionsResponse.AggregationGroup]
    def __init__(self, count: _Optional[int] = ..., groups: _Optional[_Iterable[_Union[CountWorkflowExecutionsResponse.AggregationGroup, _Mapping]]] = ...) -> None: ...

class AddSearchAttributesRequest(_message.Message):
    __slots__ = ("namespace", "search_attributes")
    class SearchAttributesEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: IndexedValueType
        def __init__(self, key: _Optional[str] = ..., value: _Optional[_Union[IndexedValueType, str]] = ...) -> None: ...
    NAMESPACE_FIELD_NUMBER: _ClassVar[int]
    SEARCH_ATTRIBUTES_FIELD_NUMBER: _ClassVar[int]
    namespace: str
    search_attributes: _containers.ScalarMap[str, IndexedValueType]
    def __init__(self, namespace: _Optional[str] = ..., search_attributes: _Optional[_Mapping[str, IndexedValueType]] = ...) -> None: ...

class AddSearchAttributesResponse(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class RemoveSearchAttributesRequest(_message.Message):
    __slots__ = ("namespace", "search_attributes")
    NAMESPACE_FIELD_NUMBER: _ClassVar[int]
    SEARCH_ATTRIBUTES_FIELD_NUMBER: _ClassVar[int]
    namespace: str
    search_attributes: _containers.RepeatedScalarFieldContainer[str]
    def __init__(self, namespace: _Optional[str] = ..., search_attributes: _Optional[_Iterable[str]] = ...) -> None: ...

class RemoveSearchAttributesResponse(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class ListSearchAttributesRequest(_message.Message):
    __slots__ = ("namespace",)
    NAMESPACE_FIELD_NUMBER: _ClassVar[int]
    namespace: str
    def __init__(self, namespace: _Optional[str] = ...) -> None: ...

class ListSearchAttributesResponse(_message.Message):
    __slots__ = ("custom_attributes", "system_attributes")
    class CustomAttributesEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: IndexedValueType
        def __init__(self, key: _Optional[str] = ..., value: _Optional[_Union[IndexedValueType, str]] = ...) -> None: ...
    class SystemAttributesEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: IndexedValueType
        def __init__(self, key: _Optional[str] = ..., value: _Optional[_Union[IndexedValueType, str]] = ...) -> None: ...
    CUSTOM_ATTRIBUTES_FIELD_NUMBER: _ClassVar[int]
    SYSTEM_ATTRIBUTES_FIELD_NUMBER: _ClassVar[int]
    custom_attributes: _containers.ScalarMap[str, IndexedValueType]
    system_attributes: _containers.ScalarMap[str, IndexedValueType]
    def __init__(self, custom_attributes: _Optional[_Mapping[str, IndexedValueType]] = ..., system_attributes: _Optional[_Mapping[str, IndexedValueType]] = ...) -> None: ...

class NamespaceInfo(_message.Message):
    __slots__ = ("name", "state", "description", "owner_email", "workflow_execution_retention_ttl", "create_time", "update_time")
    NAME_FIELD_NUMBER: _ClassVar[int]
    STATE_FIELD_NUMBER: _ClassVar[int]
    DESCRIPTION_FIELD_NUMBER: _ClassVar[int]
    OWNER_EMAIL_FIELD_NUMBER: _ClassVar[int]
    WORKFLOW_EXECUTION_RETENTION_TTL_FIELD_NUMBER: _ClassVar[int]
    CREATE_TIME_FIELD_NUMBER: _ClassVar[int]
    UPDATE_TIME_FIELD_NUMBER: _ClassVar[int]
    name: str
    state: NamespaceState
    description: str
    owner_email: str
    workflow_execution_retention_ttl: _duration_pb2.Duration
    create_time: _timestamp_pb2.Timestamp
    update_time: _timestamp_pb2.Timestamp
    def __init__(self, name: _Optional[str] = ..., state: _Optional[_Union[NamespaceState, str]] = ..., description: _Optional[str] = ..., owner_email: _Optional[str] = ..., workflow_execution_retention_ttl: _Optional[_Union[datetime.timedelta, _duration_pb2.Duration, _Mapping]] = ..., create_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., update_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class RegisterNamespaceRequest(_message.Message):
    __slots__ = ("namespace", "description", "owner_email", "workflow_execution_retention_period")
    NAMESPACE_FIELD_NUMBER: _ClassVar[int]
    DESCRIPTION_FIELD_NUMBER: _ClassVar[int]
    OWNER_EMAIL_FIELD_NUMBER: _ClassVar[int]
    WORKFLOW_EXECUTION_RETENTION_PERIOD_FIELD_NUMBER: _ClassVar[int]
    namespace: str
    description: str
    owner_email: str
    workflow_execution_retention_period: _duration_pb2.Duration
    def __init__(self, namespace: _Optional[str] = ..., description: _Optional[str] = ..., owner_email: _Optional[str] = ..., workflow_execution_retention_period: _Optional[_Union[datetime.timedelta, _duration_pb2.Duration, _Mapping]] = ...) -> None: ...

class RegisterNamespaceResponse(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class DescribeNamespaceRequest(_message.Message):
    __slots__ = ("namespace",)
    NAMESPACE_FIELD_NUMBER: _ClassVar[int]
    namespace: str
    def __init__(self, namespace: _Optional[str] = ...) -> None: ...

class DescribeNamespaceResponse(_message.Message):
    __slots__ = ("namespace_info",)
    NAMESPACE_INFO_FIELD_NUMBER: _ClassVar[int]
    namespace_info: NamespaceInfo
    def __init__(self, namespace_info: _Optional[_Union[NamespaceInfo, _Mapping]] = ...) -> None: ...

class ListNamespacesRequest(_message.Message):
    __slots__ = ("page_size", "next_page_token")
    PAGE_SIZE_FIELD_NUMBER: _ClassVar[int]
    NEXT_PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    page_size: int
    next_page_token: bytes
    def __init__(self, page_size: _Optional[int] = ..., next_page_token: _Optional[bytes] = ...) -> None: ...

class ListNamespacesResponse(_message.Message):
    __slots__ = ("namespaces", "next_page_token")
    NAMESPACES_FIELD_NUMBER: _ClassVar[int]
    NEXT_PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    namespaces: _containers.RepeatedCompositeFieldContainer[NamespaceInfo]
    next_page_token: bytes
    def __init__(self, namespaces: _Optional[_Iterable[_Union[NamespaceInfo, _Mapping]]] = ..., next_page_token: _Optional[bytes] = ...) -> None: ...

class UpdateNamespaceRequest(_message.Message):
    __slots__ = ("namespace", "description", "owner_email", "workflow_execution_retention_ttl")
    NAMESPACE_FIELD_NUMBER: _ClassVar[int]
    DESCRIPTION_FIELD_NUMBER: _ClassVar[int]
    OWNER_EMAIL_FIELD_NUMBER: _ClassVar[int]
    WORKFLOW_EXECUTION_RETENTION_TTL_FIELD_NUMBER: _ClassVar[int]
    namespace: str
    description: str
    owner_email: str
    workflow_execution_retention_ttl: _duration_pb2.Duration
    def __init__(self, namespace: _Optional[str] = ..., description: _Optional[str] = ..., owner_email: _Optional[str] = ..., workflow_execution_retention_ttl: _Optional[_Union[datetime.timedelta, _duration_pb2.Duration, _Mapping]] = ...) -> None: ...

class UpdateNamespaceResponse(_message.Message):
    __slots__ = ("namespace_info",)
    NAMESPACE_INFO_FIELD_NUMBER: _ClassVar[int]
    namespace_info: NamespaceInfo
    def __init__(self, namespace_info: _Optional[_Union[NamespaceInfo, _Mapping]] = ...) -> None: ...

class DeleteNamespaceRequest(_message.Message):
    __slots__ = ("namespace",)
    NAMESPACE_FIELD_NUMBER: _ClassVar[int]
    namespace: str
    def __init__(self, namespace: _Optional[str] = ...) -> None: ...

class DeleteNamespaceResponse(_message.Message):
    __slots__ = ("deleted_namespace",)
    DELETED_NAMESPACE_FIELD_NUMBER: _ClassVar[int]
    deleted_namespace: str
    def __init__(self, deleted_namespace: _Optional[str] = ...) -> None: ...

class DeleteWorkflowExecutionRequest(_message.Message):
    __slots__ = ("namespace", "workflow_execution", "identity")
    NAMESPACE_FIELD_NUMBER: _ClassVar[int]
    WORKFLOW_EXECUTION_FIELD_NUMBER: _ClassVar[int]
    IDENTITY_FIELD_NUMBER: _ClassVar[int]
    namespace: str
    workflow_execution: _common_pb2.WorkflowExecution
    identity: str
    def __init__(self, namespace: _Optional[str] = ..., workflow_execution: _Optional[_Union[_common_pb2.WorkflowExecution, _Mapping]] = ..., identity: _Optional[str] = ...) -> None: ...

class DeleteWorkflowExecutionResponse(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class CreateScheduleRequest(_message.Message):
    __slots__ = ("namespace", "schedule_id", "schedule", "initial_patch", "identity", "request_id", "memo", "search_attributes")
    NAMESPACE_FIELD_NUMBER: _ClassVar[int]
    SCHEDULE_ID_FIELD_NUMBER: _ClassVar[int]
    SCHEDULE_FIELD_NUMBER: _ClassVar[int]
    INITIAL_PATCH_FIELD_NUMBER: _ClassVar[int]
    IDENTITY_FIELD_NUMBER: _ClassVar[int]
    REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    MEMO_FIELD_NUMBER: _ClassVar[int]
    SEARCH_ATTRIBUTES_FIELD_NUMBER: _ClassVar[int]
    namespace: str
    schedule_id: str
    schedule: _schedule_pb2.Schedule
    initial_patch: _schedule_pb2.SchedulePatch
    identity: str
    request_id: str
    memo: _common_pb2.Memo
    search_attributes: _common_pb2.SearchAttributes
    def __init__(self, namespace: _Optional[str] = ..., schedule_id: _Optional[str] = ..., schedule: _Optional[_Union[_schedule_pb2.Schedule, _Mapping]] = ..., initial_patch: _Optional[_Union[_schedule_pb2.SchedulePatch, _Mapping]] = ..., identity: _Optional[str] = ..., request_id: _Optional[str] = ..., memo: _Optional[_Union[_common_pb2.Memo, _Mapping]] = ..., search_attributes: _Optional[_Union[_common_pb2.SearchAttributes, _Mapping]] = ...) -> None: ...

class CreateScheduleResponse(_message.Message):
    __slots__ = ("conflict_token",)
    CONFLICT_TOKEN_FIELD_NUMBER: _ClassVar[int]
    conflict_token: bytes
    def __init__(self, conflict_token: _Optional[bytes] = ...) -> None: ...

class DescribeScheduleRequest(_message.Message):
    __slots__ = ("namespace", "schedule_id")
    NAMESPACE_FIELD_NUMBER: _ClassVar[int]
    SCHEDULE_ID_FIELD_NUMBER: _ClassVar[int]
    namespace: str
    schedule_id: str
    def __init__(self, namespace: _Optional[str] = ..., schedule_id: _Optional[str] = ...) -> None: ...

class DescribeScheduleResponse(_message.Message):
    __slots__ = ("schedule", "info", "memo", "search_attributes", "conflict_token")
    SCHEDULE_FIELD_NUMBER: _ClassVar[int]
    INFO_FIELD_NUMBER: _ClassVar[int]
    MEMO_FIELD_NUMBER: _ClassVar[int]
    SEARCH_ATTRIBUTES_FIELD_NUMBER: _ClassVar[int]
    CONFLICT_TOKEN_FIELD_NUMBER: _ClassVar[int]
    schedule: _schedule_pb2.Schedule
    info: _schedule_pb2.ScheduleInfo
    memo: _common_pb2.Memo
    search_attributes: _common_pb2.SearchAttributes
    conflict_token: bytes
    def __init__(self, schedule: _Optional[_Union[_schedule_pb2.Schedule, _Mapping]] = ..., info: _Optional[_Union[_schedule_pb2.ScheduleInfo, _Mapping]] = ..., memo: _Optional[_Union[_common_pb2.Memo, _Mapping]] = ..., search_attributes: _Optional[_Union[_common_pb2.SearchAttributes, _Mapping]] = ..., conflict_token: _Optional[bytes] = ...) -> None: ...

class UpdateScheduleRequest(_message.Message):
    __slots__ = ("namespace", "schedule_id", "schedule", "conflict_token", "identity", "request_id", "search_attributes")
    NAMESPACE_FIELD_NUMBER: _ClassVar[int]
    SCHEDULE_ID_FIELD_NUMBER: _ClassVar[int]
    SCHEDULE_FIELD_NUMBER: _ClassVar[int]
    CONFLICT_TOKEN_FIELD_NUMBER: _ClassVar[int]
    IDENTITY_FIELD_NUMBER: _ClassVar[int]
    REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    SEARCH_ATTRIBUTES_FIELD_NUMBER: _ClassVar[int]
    namespace: str
    schedule_id: str
    schedule: _schedule_pb2.Schedule
    conflict_token: bytes
    identity: str
    request_id: str
    search_attributes: _common_pb2.SearchAttributes
    def __init__(self, namespace: _Optional[str] = ..., schedule_id: _Optional[str] = ..., schedule: _Optional[_Union[_schedule_pb2.Schedule, _Mapping]] = ..., conflict_token: _Optional[bytes] = ..., identity: _Optional[str] = ..., request_id: _Optional[str] = ..., search_attributes: _Optional[_Union[_common_pb2.SearchAttributes, _Mapping]] = ...) -> None: ...

class UpdateScheduleResponse(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class PatchScheduleRequest(_message.Message):
    __slots__ = ("namespace", "schedule_id", "patch", "identity", "request_id")
    NAMESPACE_FIELD_NUMBER: _ClassVar[int]
    SCHEDULE_ID_FIELD_NUMBER: _ClassVar[int]
    PATCH_FIELD_NUMBER: _ClassVar[int]
    IDENTITY_FIELD_NUMBER: _ClassVar[int]
    REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    namespace: str
    schedule_id: str
    patch: _schedule_pb2.SchedulePatch
    identity: str
    request_id: str
    def __init__(self, namespace: _Optional[str] = ..., schedule_id: _Optional[str] = ..., patch: _Optional[_Union[_schedule_pb2.SchedulePatch, _Mapping]] = ..., identity: _Optional[str] = ..., request_id: _Optional[str] = ...) -> None: ...

class PatchScheduleResponse(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class ListScheduleMatchingTimesRequest(_message.Message):
    __slots__ = ("namespace", "schedule_id", "start_time", "end_time")
    NAMESPACE_FIELD_NUMBER: _ClassVar[int]
    SCHEDULE_ID_FIELD_NUMBER: _ClassVar[int]
    START_TIME_FIELD_NUMBER: _ClassVar[int]
    END_TIME_FIELD_NUMBER: _ClassVar[int]
    namespace: str
    schedule_id: str
    start_time: _timestamp_pb2.Timestamp
    end_time: _timestamp_pb2.Timestamp
    def __init__(self, namespace: _Optional[str] = ..., schedule_id: _Optional[str] = ..., start_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., end_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class ListScheduleMatchingTimesResponse(_message.Message):
    __slots__ = ("start_time",)
    START_TIME_FIELD_NUMBER: _ClassVar[int]
    start_time: _containers.RepeatedCompositeFieldContainer[_timestamp_pb2.Timestamp]
    def __init__(self, start_time: _Optional[_Iterable[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]]] = ...) -> None: ...

class DeleteScheduleRequest(_message.Message):
    __slots__ = ("namespace", "schedule_id", "identity")
    NAMESPACE_FIELD_NUMBER: _ClassVar[int]
    SCHEDULE_ID_FIELD_NUMBER: _ClassVar[int]
    IDENTITY_FIELD_NUMBER: _ClassVar[int]
    namespace: str
    schedule_id: str
    identity: str
    def __init__(self, namespace: _Optional[str] = ..., schedule_id: _Optional[str] = ..., identity: _Optional[str] = ...) -> None: ...

class DeleteScheduleResponse(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class ListSchedulesRequest(_message.Message):
    __slots__ = ("namespace", "maximum_page_size", "next_page_token", "query")
    NAMESPACE_FIELD_NUMBER: _ClassVar[int]
    MAXIMUM_PAGE_SIZE_FIELD_NUMBER: _ClassVar[int]
    NEXT_PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    QUERY_FIELD_NUMBER: _ClassVar[int]
    namespace: str
    maximum_page_size: int
    next_page_token: bytes
    query: str
    def __init__(self, namespace: _Optional[str] = ..., maximum_page_size: _Optional[int] = ..., next_page_token: _Optional[bytes] = ..., query: _Optional[str] = ...) -> None: ...

class ListSchedulesResponse(_message.Message):
    __slots__ = ("schedules", "next_page_token")
    SCHEDULES_FIELD_NUMBER: _ClassVar[int]
    NEXT_PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    schedules: _containers.RepeatedCompositeFieldContainer[_schedule_pb2.ScheduleListEntry]
    next_page_token: bytes
    def __init__(self, schedules: _Optional[_Iterable[_Union[_schedule_pb2.ScheduleListEntry, _Mapping]]] = ..., next_page_token: _Optional[bytes] = ...) -> None: ...

class GetCallerIdentityRequest(_message.Message):
    __slots__ = ("namespace",)
    NAMESPACE_FIELD_NUMBER: _ClassVar[int]
    namespace: str
    def __init__(self, namespace: _Optional[str] = ...) -> None: ...

class GetCallerIdentityResponse(_message.Message):
    __slots__ = ("principal", "kind", "grants", "role", "auth_required")
    PRINCIPAL_FIELD_NUMBER: _ClassVar[int]
    KIND_FIELD_NUMBER: _ClassVar[int]
    GRANTS_FIELD_NUMBER: _ClassVar[int]
    ROLE_FIELD_NUMBER: _ClassVar[int]
    AUTH_REQUIRED_FIELD_NUMBER: _ClassVar[int]
    principal: str
    kind: _auth_pb2.IdentityKind
    grants: _containers.RepeatedCompositeFieldContainer[_auth_pb2.Grant]
    role: _auth_pb2.Role
    auth_required: bool
    def __init__(self, principal: _Optional[str] = ..., kind: _Optional[_Union[_auth_pb2.IdentityKind, str]] = ..., grants: _Optional[_Iterable[_Union[_auth_pb2.Grant, _Mapping]]] = ..., role: _Optional[_Union[_auth_pb2.Role, str]] = ..., auth_required: _Optional[bool] = ...) -> None: ...

class CreateApiKeyRequest(_message.Message):
    __slots__ = ("name", "grant", "expire_time")
    NAME_FIELD_NUMBER: _ClassVar[int]
    GRANT_FIELD_NUMBER: _ClassVar[int]
    EXPIRE_TIME_FIELD_NUMBER: _ClassVar[int]
    name: str
    grant: _auth_pb2.Grant
    expire_time: _timestamp_pb2.Timestamp
    def __init__(self, name: _Optional[str] = ..., grant: _Optional[_Union[_auth_pb2.Grant, _Mapping]] = ..., expire_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class CreateApiKeyResponse(_message.Message):
    __slots__ = ("key", "info")
    KEY_FIELD_NUMBER: _ClassVar[int]
    INFO_FIELD_NUMBER: _ClassVar[int]
    key: str
    info: _auth_pb2.ApiKeyInfo
    def __init__(self, key: _Optional[str] = ..., info: _Optional[_Union[_auth_pb2.ApiKeyInfo, _Mapping]] = ...) -> None: ...

class ListApiKeysRequest(_message.Message):
    __slots__ = ("namespace", "include_revoked")
    NAMESPACE_FIELD_NUMBER: _ClassVar[int]
    INCLUDE_REVOKED_FIELD_NUMBER: _ClassVar[int]
    namespace: str
    include_revoked: bool
    def __init__(self, namespace: _Optional[str] = ..., include_revoked: _Optional[bool] = ...) -> None: ...

class ListApiKeysResponse(_message.Message):
    __slots__ = ("keys",)
    KEYS_FIELD_NUMBER: _ClassVar[int]
    keys: _containers.RepeatedCompositeFieldContainer[_auth_pb2.ApiKeyInfo]
    def __init__(self, keys: _Optional[_Iterable[_Union[_auth_pb2.ApiKeyInfo, _Mapping]]] = ...) -> None: ...

class RevokeApiKeyRequest(_message.Message):
    __slots__ = ("key_id",)
    KEY_ID_FIELD_NUMBER: _ClassVar[int]
    key_id: str
    def __init__(self, key_id: _Optional[str] = ...) -> None: ...

class RevokeApiKeyResponse(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class ListAuditEventsRequest(_message.Message):
    __slots__ = ("namespace", "page_size", "next_page_token", "start_time")
    NAMESPACE_FIELD_NUMBER: _ClassVar[int]
    PAGE_SIZE_FIELD_NUMBER: _ClassVar[int]
    NEXT_PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    START_TIME_FIELD_NUMBER: _ClassVar[int]
    namespace: str
    page_size: int
    next_page_token: bytes
    start_time: _timestamp_pb2.Timestamp
    def __init__(self, namespace: _Optional[str] = ..., page_size: _Optional[int] = ..., next_page_token: _Optional[bytes] = ..., start_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class ListAuditEventsResponse(_message.Message):
    __slots__ = ("events", "next_page_token")
    EVENTS_FIELD_NUMBER: _ClassVar[int]
    NEXT_PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    events: _containers.RepeatedCompositeFieldContainer[_auth_pb2.AuditEvent]
    next_page_token: bytes
    def __init__(self, events: _Optional[_Iterable[_Union[_auth_pb2.AuditEvent, _Mapping]]] = ..., next_page_token: _Optional[bytes] = ...) -> None: ...
