import datetime

from google.protobuf import duration_pb2 as _duration_pb2
from google.protobuf import timestamp_pb2 as _timestamp_pb2
from wf.v1 import common_pb2 as _common_pb2
from wf.v1 import schedule_pb2 as _schedule_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class TaskToken(_message.Message):
    __slots__ = ("namespace", "workflow_id", "run_id", "scheduled_event_id", "started_event_id", "attempt", "query")
    NAMESPACE_FIELD_NUMBER: _ClassVar[int]
    WORKFLOW_ID_FIELD_NUMBER: _ClassVar[int]
    RUN_ID_FIELD_NUMBER: _ClassVar[int]
    SCHEDULED_EVENT_ID_FIELD_NUMBER: _ClassVar[int]
    STARTED_EVENT_ID_FIELD_NUMBER: _ClassVar[int]
    ATTEMPT_FIELD_NUMBER: _ClassVar[int]
    QUERY_FIELD_NUMBER: _ClassVar[int]
    namespace: str
    workflow_id: str
    run_id: str
    scheduled_event_id: int
    started_event_id: int
    attempt: int
    query: bool
    def __init__(self, namespace: _Optional[str] = ..., workflow_id: _Optional[str] = ..., run_id: _Optional[str] = ..., scheduled_event_id: _Optional[int] = ..., started_event_id: _Optional[int] = ..., attempt: _Optional[int] = ..., query: _Optional[bool] = ...) -> None: ...

class ActivityState(_message.Message):
    __slots__ = ("scheduled_event_id", "activity_id", "activity_type", "task_queue", "scheduled_time", "schedule_to_close_timeout", "schedule_to_start_timeout", "start_to_close_timeout", "heartbeat_timeout", "retry_policy", "attempt", "started_time", "last_worker_identity", "last_failure", "current_attempt_scheduled_time", "backing_off", "started_request_id", "cancel_requested", "cancel_requested_event_id", "heartbeat_details", "last_heartbeat_time")
    SCHEDULED_EVENT_ID_FIELD_NUMBER: _ClassVar[int]
    ACTIVITY_ID_FIELD_NUMBER: _ClassVar[int]
    ACTIVITY_TYPE_FIELD_NUMBER: _ClassVar[int]
    TASK_QUEUE_FIELD_NUMBER: _ClassVar[int]
    SCHEDULED_TIME_FIELD_NUMBER: _ClassVar[int]
    SCHEDULE_TO_CLOSE_TIMEOUT_FIELD_NUMBER: _ClassVar[int]
    SCHEDULE_TO_START_TIMEOUT_FIELD_NUMBER: _ClassVar[int]
    START_TO_CLOSE_TIMEOUT_FIELD_NUMBER: _ClassVar[int]
    HEARTBEAT_TIMEOUT_FIELD_NUMBER: _ClassVar[int]
    RETRY_POLICY_FIELD_NUMBER: _ClassVar[int]
    ATTEMPT_FIELD_NUMBER: _ClassVar[int]
    STARTED_TIME_FIELD_NUMBER: _ClassVar[int]
    LAST_WORKER_IDENTITY_FIELD_NUMBER: _ClassVar[int]
    LAST_FAILURE_FIELD_NUMBER: _ClassVar[int]
    CURRENT_ATTEMPT_SCHEDULED_TIME_FIELD_NUMBER: _ClassVar[int]
    BACKING_OFF_FIELD_NUMBER: _ClassVar[int]
    STARTED_REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    CANCEL_REQUESTED_FIELD_NUMBER: _ClassVar[int]
    CANCEL_REQUESTED_EVENT_ID_FIELD_NUMBER: _ClassVar[int]
    HEARTBEAT_DETAILS_FIELD_NUMBER: _ClassVar[int]
    LAST_HEARTBEAT_TIME_FIELD_NUMBER: _ClassVar[int]
    scheduled_event_id: int
    activity_id: str
    activity_type: str
    task_queue: str
    scheduled_time: _timestamp_pb2.Timestamp
    schedule_to_close_timeout: _duration_pb2.Duration
    schedule_to_start_timeout: _duration_pb2.Duration
    start_to_close_timeout: _duration_pb2.Duration
    heartbeat_timeout: _duration_pb2.Duration
    retry_policy: _common_pb2.RetryPolicy
    attempt: int
    started_time: _timestamp_pb2.Timestamp
    last_worker_identity: str
    last_failure: _common_pb2.Failure
    current_attempt_scheduled_time: _timestamp_pb2.Timestamp
    backing_off: bool
    started_request_id: str
    cancel_requested: bool
    cancel_requested_event_id: int
    heartbeat_details: _common_pb2.Payloads
    last_heartbeat_time: _timestamp_pb2.Timestamp
    def __init__(self, scheduled_event_id: _Optional[int] = ..., activity_id: _Optional[str] = ..., activity_type: _Optional[str] = ..., task_queue: _Optional[str] = ..., scheduled_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., schedule_to_close_timeout: _Optional[_Union[datetime.timedelta, _duration_pb2.Duration, _Mapping]] = ..., schedule_to_start_timeout: _Optional[_Union[datetime.timedelta, _duration_pb2.Duration, _Mapping]] = ..., start_to_close_timeout: _Optional[_Union[datetime.timedelta, _duration_pb2.Duration, _Mapping]] = ..., heartbeat_timeout: _Optional[_Union[datetime.timedelta, _duration_pb2.Duration, _Mapping]] = ..., retry_policy: _Optional[_Union[_common_pb2.RetryPolicy, _Mapping]] = ..., attempt: _Optional[int] = ..., started_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., last_worker_identity: _Optional[str] = ..., last_failure: _Optional[_Union[_common_pb2.Failure, _Mapping]] = ..., current_attempt_scheduled_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., backing_off: _Optional[bool] = ..., started_request_id: _Optional[str] = ..., cancel_requested: _Optional[bool] = ..., cancel_requested_event_id: _Optional[int] = ..., heartbeat_details: _Optional[_Union[_common_pb2.Payloads, _Mapping]] = ..., last_heartbeat_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class WorkflowTaskState(_message.Message):
    __slots__ = ("scheduled_event_id", "started_event_id", "attempt", "scheduled_time", "started_time", "backing_off", "task_queue")
    SCHEDULED_EVENT_ID_FIELD_NUMBER: _ClassVar[int]
    STARTED_EVENT_ID_FIELD_NUMBER: _ClassVar[int]
    ATTEMPT_FIELD_NUMBER: _ClassVar[int]
    SCHEDULED_TIME_FIELD_NUMBER: _ClassVar[int]
    STARTED_TIME_FIELD_NUMBER: _ClassVar[int]
    BACKING_OFF_FIELD_NUMBER: _ClassVar[int]
    TASK_QUEUE_FIELD_NUMBER: _ClassVar[int]
    scheduled_event_id: int
    started_event_id: int
    attempt: int
    scheduled_time: _timestamp_pb2.Timestamp
    started_time: _timestamp_pb2.Timestamp
    backing_off: bool
    task_queue: str
    def __init__(self, scheduled_event_id: _Optional[int] = ..., started_event_id: _Optional[int] = ..., attempt: _Optional[int] = ..., scheduled_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., started_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., backing_off: _Optional[bool] = ..., task_queue: _Optional[str] = ...) -> None: ...

class ChildState(_message.Message):
    __slots__ = ("initiated_event_id", "namespace", "workflow_id", "workflow_type", "run_id", "started_event_id", "parent_close_policy")
    INITIATED_EVENT_ID_FIELD_NUMBER: _ClassVar[int]
    NAMESPACE_FIELD_NUMBER: _ClassVar[int]
    WORKFLOW_ID_FIELD_NUMBER: _ClassVar[int]
    WORKFLOW_TYPE_FIELD_NUMBER: _ClassVar[int]
    RUN_ID_FIELD_NUMBER: _ClassVar[int]
    STARTED_EVENT_ID_FIELD_NUMBER: _ClassVar[int]
    PARENT_CLOSE_POLICY_FIELD_NUMBER: _ClassVar[int]
    initiated_event_id: int
    namespace: str
    workflow_id: str
    workflow_type: str
    run_id: str
    started_event_id: int
    parent_close_policy: _common_pb2.ParentClosePolicy
    def __init__(self, initiated_event_id: _Optional[int] = ..., namespace: _Optional[str] = ..., workflow_id: _Optional[str] = ..., workflow_type: _Optional[str] = ..., run_id: _Optional[str] = ..., started_event_id: _Optional[int] = ..., parent_close_policy: _Optional[_Union[_common_pb2.ParentClosePolicy, str]] = ...) -> None: ...

class CancelRequestState(_message.Message):
    __slots__ = ("initiated_event_id", "namespace", "workflow_id", "run_id", "child_workflow_only")
    INITIATED_EVENT_ID_FIELD_NUMBER: _ClassVar[int]
    NAMESPACE_FIELD_NUMBER: _ClassVar[int]
    WORKFLOW_ID_FIELD_NUMBER: _ClassVar[int]
    RUN_ID_FIELD_NUMBER: _ClassVar[int]
    CHILD_WORKFLOW_ONLY_FIELD_NUMBER: _ClassVar[int]
    initiated_event_id: int
    namespace: str
    workflow_id: str
    run_id: str
    child_workflow_only: bool
    def __init__(self, initiated_event_id: _Optional[int] = ..., namespace: _Optional[str] = ..., workflow_id: _Optional[str] = ..., run_id: _Optional[str] = ..., child_workflow_only: _Optional[bool] = ...) -> None: ...

class MutableState(_message.Message):
    __slots__ = ("workflow_type", "task_queue", "workflow_task_timeout", "workflow_run_timeout", "workflow_execution_timeout", "workflow_task", "activities", "workflow_task_needed", "last_completed_workflow_task_started_event_id", "last_workflow_task_failure", "workflow_task_attempt", "timers", "cancel_requested", "signal_count", "recent_signal_request_ids", "pending_updates", "accepted_updates", "finished_updates", "rejected_updates", "pending_update_order", "sticky_task_queue", "sticky_timeout", "parent_namespace", "parent_execution", "parent_initiated_event_id", "root_execution", "first_execution_run_id", "memo", "search_attributes", "children", "cancel_requests", "pending_external_signals", "workflow_execution_expiration_time", "workflow_retry_policy", "continue_as_new_suggested", "reset_base_run_id", "reset_event_id", "reset_reason", "cost", "schedule_id", "schedule_nominal_time")
    class ActivitiesEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: int
        value: ActivityState
        def __init__(self, key: _Optional[int] = ..., value: _Optional[_Union[ActivityState, _Mapping]] = ...) -> None: ...
    class TimersEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: int
        def __init__(self, key: _Optional[str] = ..., value: _Optional[int] = ...) -> None: ...
    class PendingUpdatesEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: _common_pb2.UpdateRequest
        def __init__(self, key: _Optional[str] = ..., value: _Optional[_Union[_common_pb2.UpdateRequest, _Mapping]] = ...) -> None: ...
    class AcceptedUpdatesEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: int
        def __init__(self, key: _Optional[str] = ..., value: _Optional[int] = ...) -> None: ...
    class FinishedUpdatesEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: int
        def __init__(self, key: _Optional[str] = ..., value: _Optional[int] = ...) -> None: ...
    class RejectedUpdatesEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: _common_pb2.Failure
        def __init__(self, key: _Optional[str] = ..., value: _Optional[_Union[_common_pb2.Failure, _Mapping]] = ...) -> None: ...
    class ChildrenEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: int
        value: ChildState
        def __init__(self, key: _Optional[int] = ..., value: _Optional[_Union[ChildState, _Mapping]] = ...) -> None: ...
    class CancelRequestsEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: int
        value: CancelRequestState
        def __init__(self, key: _Optional[int] = ..., value: _Optional[_Union[CancelRequestState, _Mapping]] = ...) -> None: ...
    WORKFLOW_TYPE_FIELD_NUMBER: _ClassVar[int]
    TASK_QUEUE_FIELD_NUMBER: _ClassVar[int]
    WORKFLOW_TASK_TIMEOUT_FIELD_NUMBER: _ClassVar[int]
    WORKFLOW_RUN_TIMEOUT_FIELD_NUMBER: _ClassVar[int]
    WORKFLOW_EXECUTION_TIMEOUT_FIELD_NUMBER: _ClassVar[int]
    WORKFLOW_TASK_FIELD_NUMBER: _ClassVar[int]
    ACTIVITIES_FIELD_NUMBER: _ClassVar[int]
    WORKFLOW_TASK_NEEDED_FIELD_NUMBER: _ClassVar[int]
    LAST_COMPLETED_WORKFLOW_TASK_STARTED_EVENT_ID_FIELD_NUMBER: _ClassVar[int]
    LAST_WORKFLOW_TASK_FAILURE_FIELD_NUMBER: _ClassVar[int]
    WORKFLOW_TASK_ATTEMPT_FIELD_NUMBER: _ClassVar[int]
    TIMERS_FIELD_NUMBER: _ClassVar[int]
    CANCEL_REQUESTED_FIELD_NUMBER: _ClassVar[int]
    SIGNAL_COUNT_FIELD_NUMBER: _ClassVar[int]
    RECENT_SIGNAL_REQUEST_IDS_FIELD_NUMBER: _ClassVar[int]
    PENDING_UPDATES_FIELD_NUMBER: _ClassVar[int]
    ACCEPTED_UPDATES_FIELD_NUMBER: _ClassVar[int]
    FINISHED_UPDATES_FIELD_NUMBER: _ClassVar[int]
    REJECTED_UPDATES_FIELD_NUMBER: _ClassVar[int]
    PENDING_UPDATE_ORDER_FIELD_NUMBER: _ClassVar[int]
    STICKY_TASK_QUEUE_FIELD_NUMBER: _ClassVar[int]
    STICKY_TIMEOUT_FIELD_NUMBER: _ClassVar[int]
    PARENT_NAMESPACE_FIELD_NUMBER: _ClassVar[int]
    PARENT_EXECUTION_FIELD_NUMBER: _ClassVar[int]
    PARENT_INITIATED_EVENT_ID_FIELD_NUMBER: _ClassVar[int]
    ROOT_EXECUTION_FIELD_NUMBER: _ClassVar[int]
    FIRST_EXECUTION_RUN_ID_FIELD_NUMBER: _ClassVar[int]
    MEMO_FIELD_NUMBER: _ClassVar[int]
    SEARCH_ATTRIBUTES_FIELD_NUMBER: _ClassVar[int]
    CHILDREN_FIELD_NUMBER: _ClassVar[int]
    CANCEL_REQUESTS_FIELD_NUMBER: _ClassVar[int]
    PENDING_EXTERNAL_SIGNALS_FIELD_NUMBER: _ClassVar[int]
    WORKFLOW_EXECUTION_EXPIRATION_TIME_FIELD_NUMBER: _ClassVar[int]
    WORKFLOW_RETRY_POLICY_FIELD_NUMBER: _ClassVar[int]
    CONTINUE_AS_NEW_SUGGESTED_FIELD_NUMBER: _ClassVar[int]
    RESET_BASE_RUN_ID_FIELD_NUMBER: _ClassVar[int]
    RESET_EVENT_ID_FIELD_NUMBER: _ClassVar[int]
    RESET_REASON_FIELD_NUMBER: _ClassVar[int]
    COST_FIELD_NUMBER: _ClassVar[int]
    SCHEDULE_ID_FIELD_NUMBER: _ClassVar[int]
    SCHEDULE_NOMINAL_TIME_FIELD_NUMBER: _ClassVar[int]
    workflow_type: str
    task_queue: str
    workflow_task_timeout: _duration_pb2.Duration
    workflow_run_timeout: _duration_pb2.Duration
    workflow_execution_timeout: _duration_pb2.Duration
    workflow_task: WorkflowTaskState
    activities: _containers.MessageMap[int, ActivityState]
    workflow_task_needed: bool
    last_completed_workflow_task_started_event_id: int
    last_workflow_task_failure: _common_pb2.Failure
    workflow_task_attempt: int
    timers: _containers.ScalarMap[str, int]
    cancel_requested: bool
    signal_count: int
    recent_signal_request_ids: _containers.RepeatedScalarFieldContainer[str]
    pending_updates: _containers.MessageMap[str, _common_pb2.UpdateRequest]
    accepted_updates: _containers.ScalarMap[str, int]
    finished_updates: _containers.ScalarMap[str, int]
    rejected_updates: _containers.MessageMap[str, _common_pb2.Failure]
    pending_update_order: _containers.RepeatedScalarFieldContainer[str]
    sticky_task_queue: str
    sticky_timeout: _duration_pb2.Duration
    parent_namespace: str
    parent_execution: _common_pb2.WorkflowExecution
    parent_initiated_event_id: int
    root_execution: _common_pb2.WorkflowExecution
    first_execution_run_id: str
    memo: _common_pb2.Memo
    search_attributes: _common_pb2.SearchAttributes
    children: _containers.MessageMap[int, ChildState]
    cancel_requests: _containers.MessageMap[int, CancelRequestState]
    pending_external_signals: _containers.RepeatedScalarFieldContainer[int]
    workflow_execution_expiration_time: _timestamp_pb2.Timestamp
    workflow_retry_policy: _common_pb2.RetryPolicy
    continue_as_new_suggested: bool
    reset_base_run_id: str
    reset_event_id: int
    reset_reason: str
    cost: RunCost
    schedule_id: str
    schedule_nominal_time: _timestamp_pb2.Timestamp
    def __init__(self, workflow_type: _Optional[str] = ..., task_queue: _Optional[str] = ..., workflow_task_timeout: _Optional[_Union[datetime.timedelta, _duration_pb2.Duration, _Mapping]] = ..., workflow_run_timeout: _Optional[_Union[datetime.timedelta, _duration_pb2.Duration, _Mapping]] = ..., workflow_execution_timeout: _Optional[_Union[datetime.timedelta, _duration_pb2.Duration, _Mapping]] = ..., workflow_task: _Optional[_Union[WorkflowTaskState, _Mapping]] = ..., activities: _Optional[_Mapping[int, ActivityState]] = ..., workflow_task_needed: _Optional[bool] = ..., last_completed_workflow_task_started_event_id: _Optional[int] = ..., last_workflow_task_failure: _Optional[_Union[_common_pb2.Failure, _Mapping]] = ..., workflow_task_attempt: _Optional[int] = ..., timers: _Optional[_Mapping[str, int]] = ..., cancel_requested: _Optional[bool] = ..., signal_count: _Optional[int] = ..., recent_signal_request_ids: _Optional[_Iterable[str]] = ..., pending_updates: _Optional[_Mapping[str, _common_pb2.UpdateRequest]] = ..., accepted_updates: _Optional[_Mapping[str, int]] = ..., finished_updates: _Optional[_Mapping[str, int]] = ..., rejected_updates: _Optional[_Mapping[str, _common_pb2.Failure]] = ..., pending_update_order: _Optional[_Iterable[str]] = ..., sticky_task_queue: _Optional[str] = ..., sticky_timeout: _Optional[_Union[datetime.timedelta, _duration_pb2.Duration, _Mapping]] = ..., parent_namespace: _Optional[str] = ..., parent_execution: _Optional[_Union[_common_pb2.WorkflowExecution, _Mapping]] = ..., parent_initiated_event_id: _Optional[int] = ..., root_execution: _Optional[_Union[_common_pb2.WorkflowExecution, _Mapping]] = ..., first_execution_run_id: _Optional[str] = ..., memo: _Optional[_Union[_common_pb2.Memo, _Mapping]] = ..., search_attributes: _Optional[_Union[_common_pb2.SearchAttributes, _Mapping]] = ..., children: _Optional[_Mapping[int, ChildState]] = ..., cancel_requests: _Optional[_Mapping[int, CancelRequestState]] = ..., pending_external_signals: _Optional[_Iterable[int]] = ..., workflow_execution_expiration_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., workflow_retry_policy: _Optional[_Union[_common_pb2.RetryPolicy, _Mapping]] = ..., continue_as_new_suggested: _Optional[bool] = ..., reset_base_run_id: _Optional[str] = ..., reset_event_id: _Optional[int] = ..., reset_reason: _Optional[str] = ..., cost: _Optional[_Union[RunCost, _Mapping]] = ..., schedule_id: _Optional[str] = ..., schedule_nominal_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class RunCost(_message.Message):
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

class ScheduleBufferedStart(_message.Message):
    __slots__ = ("nominal_time", "actual_time", "overlap_policy", "manual")
    NOMINAL_TIME_FIELD_NUMBER: _ClassVar[int]
    ACTUAL_TIME_FIELD_NUMBER: _ClassVar[int]
    OVERLAP_POLICY_FIELD_NUMBER: _ClassVar[int]
    MANUAL_FIELD_NUMBER: _ClassVar[int]
    nominal_time: _timestamp_pb2.Timestamp
    actual_time: _timestamp_pb2.Timestamp
    overlap_policy: _schedule_pb2.ScheduleOverlapPolicy
    manual: bool
    def __init__(self, nominal_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., actual_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., overlap_policy: _Optional[_Union[_schedule_pb2.ScheduleOverlapPolicy, str]] = ..., manual: _Optional[bool] = ...) -> None: ...

class ScheduleRuntime(_message.Message):
    __slots__ = ("action_count", "missed_catchup_window", "overlap_skipped", "buffer_dropped", "running_workflows", "recent_actions", "buffered_starts", "high_water", "last_completion_result", "last_failure", "last_completion_time", "last_failure_time", "create_request_id", "untracked_workflows")
    ACTION_COUNT_FIELD_NUMBER: _ClassVar[int]
    MISSED_CATCHUP_WINDOW_FIELD_NUMBER: _ClassVar[int]
    OVERLAP_SKIPPED_FIELD_NUMBER: _ClassVar[int]
    BUFFER_DROPPED_FIELD_NUMBER: _ClassVar[int]
    RUNNING_WORKFLOWS_FIELD_NUMBER: _ClassVar[int]
    RECENT_ACTIONS_FIELD_NUMBER: _ClassVar[int]
    BUFFERED_STARTS_FIELD_NUMBER: _ClassVar[int]
    HIGH_WATER_FIELD_NUMBER: _ClassVar[int]
    LAST_COMPLETION_RESULT_FIELD_NUMBER: _ClassVar[int]
    LAST_FAILURE_FIELD_NUMBER: _ClassVar[int]
    LAST_COMPLETION_TIME_FIELD_NUMBER: _ClassVar[int]
    LAST_FAILURE_TIME_FIELD_NUMBER: _ClassVar[int]
    CREATE_REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    UNTRACKED_WORKFLOWS_FIELD_NUMBER: _ClassVar[int]
    action_count: int
    missed_catchup_window: int
    overlap_skipped: int
    buffer_dropped: int
    running_workflows: _containers.RepeatedCompositeFieldContainer[_common_pb2.WorkflowExecution]
    recent_actions: _containers.RepeatedCompositeFieldContainer[_schedule_pb2.ScheduleActionResult]
    buffered_starts: _containers.RepeatedCompositeFieldContainer[ScheduleBufferedStart]
    high_water: _timestamp_pb2.Timestamp
    last_completion_result: _common_pb2.Payloads
    last_failure: _common_pb2.Failure
    last_completion_time: _timestamp_pb2.Timestamp
    last_failure_time: _timestamp_pb2.Timestamp
    create_request_id: str
    untracked_workflows: _containers.RepeatedCompositeFieldContainer[_common_pb2.WorkflowExecution]
    def __init__(self, action_count: _Optional[int] = ..., missed_catchup_window: _Optional[int] = ..., overlap_skipped: _Optional[int] = ..., buffer_dropped: _Optional[int] = ..., running_workflows: _Optional[_Iterable[_Union[_common_pb2.WorkflowExecution, _Mapping]]] = ..., recent_actions: _Optional[_Iterable[_Union[_schedule_pb2.ScheduleActionResult, _Mapping]]] = ..., buffered_starts: _Optional[_Iterable[_Union[ScheduleBufferedStart, _Mapping]]] = ..., high_water: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., last_completion_result: _Optional[_Union[_common_pb2.Payloads, _Mapping]] = ..., last_failure: _Optional[_Union[_common_pb2.Failure, _Mapping]] = ..., last_completion_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., last_failure_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., create_request_id: _Optional[str] = ..., untracked_workflows: _Optional[_Iterable[_Union[_common_pb2.WorkflowExecution, _Mapping]]] = ...) -> None: ...
