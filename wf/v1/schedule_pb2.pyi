import datetime

from google.protobuf import duration_pb2 as _duration_pb2
from google.protobuf import timestamp_pb2 as _timestamp_pb2
from wf.v1 import common_pb2 as _common_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf.internal import enum_type_wrapper as _enum_type_wrapper
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class ScheduleOverlapPolicy(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    SCHEDULE_OVERLAP_POLICY_UNSPECIFIED: _ClassVar[ScheduleOverlapPolicy]
    SCHEDULE_OVERLAP_POLICY_SKIP: _ClassVar[ScheduleOverlapPolicy]
    SCHEDULE_OVERLAP_POLICY_BUFFER_ONE: _ClassVar[ScheduleOverlapPolicy]
    SCHEDULE_OVERLAP_POLICY_BUFFER_ALL: _ClassVar[ScheduleOverlapPolicy]
    SCHEDULE_OVERLAP_POLICY_CANCEL_OTHER: _ClassVar[ScheduleOverlapPolicy]
    SCHEDULE_OVERLAP_POLICY_TERMINATE_OTHER: _ClassVar[ScheduleOverlapPolicy]
    SCHEDULE_OVERLAP_POLICY_ALLOW_ALL: _ClassVar[ScheduleOverlapPolicy]
SCHEDULE_OVERLAP_POLICY_UNSPECIFIED: ScheduleOverlapPolicy
SCHEDULE_OVERLAP_POLICY_SKIP: ScheduleOverlapPolicy
SCHEDULE_OVERLAP_POLICY_BUFFER_ONE: ScheduleOverlapPolicy
SCHEDULE_OVERLAP_POLICY_BUFFER_ALL: ScheduleOverlapPolicy
SCHEDULE_OVERLAP_POLICY_CANCEL_OTHER: ScheduleOverlapPolicy
SCHEDULE_OVERLAP_POLICY_TERMINATE_OTHER: ScheduleOverlapPolicy
SCHEDULE_OVERLAP_POLICY_ALLOW_ALL: ScheduleOverlapPolicy

class Range(_message.Message):
    __slots__ = ("start", "end", "step")
    START_FIELD_NUMBER: _ClassVar[int]
    END_FIELD_NUMBER: _ClassVar[int]
    STEP_FIELD_NUMBER: _ClassVar[int]
    start: int
    end: int
    step: int
    def __init__(self, start: _Optional[int] = ..., end: _Optional[int] = ..., step: _Optional[int] = ...) -> None: ...

class StructuredCalendarSpec(_message.Message):
    __slots__ = ("second", "minute", "hour", "day_of_month", "month", "year", "day_of_week", "comment")
    SECOND_FIELD_NUMBER: _ClassVar[int]
    MINUTE_FIELD_NUMBER: _ClassVar[int]
    HOUR_FIELD_NUMBER: _ClassVar[int]
    DAY_OF_MONTH_FIELD_NUMBER: _ClassVar[int]
    MONTH_FIELD_NUMBER: _ClassVar[int]
    YEAR_FIELD_NUMBER: _ClassVar[int]
    DAY_OF_WEEK_FIELD_NUMBER: _ClassVar[int]
    COMMENT_FIELD_NUMBER: _ClassVar[int]
    second: _containers.RepeatedCompositeFieldContainer[Range]
    minute: _containers.RepeatedCompositeFieldContainer[Range]
    hour: _containers.RepeatedCompositeFieldContainer[Range]
    day_of_month: _containers.RepeatedCompositeFieldContainer[Range]
    month: _containers.RepeatedCompositeFieldContainer[Range]
    year: _containers.RepeatedCompositeFieldContainer[Range]
    day_of_week: _containers.RepeatedCompositeFieldContainer[Range]
    comment: str
    def __init__(self, second: _Optional[_Iterable[_Union[Range, _Mapping]]] = ..., minute: _Optional[_Iterable[_Union[Range, _Mapping]]] = ..., hour: _Optional[_Iterable[_Union[Range, _Mapping]]] = ..., day_of_month: _Optional[_Iterable[_Union[Range, _Mapping]]] = ..., month: _Optional[_Iterable[_Union[Range, _Mapping]]] = ..., year: _Optional[_Iterable[_Union[Range, _Mapping]]] = ..., day_of_week: _Optional[_Iterable[_Union[Range, _Mapping]]] = ..., comment: _Optional[str] = ...) -> None: ...

class IntervalSpec(_message.Message):
    __slots__ = ("interval", "phase")
    INTERVAL_FIELD_NUMBER: _ClassVar[int]
    PHASE_FIELD_NUMBER: _ClassVar[int]
    interval: _duration_pb2.Duration
    phase: _duration_pb2.Duration
    def __init__(self, interval: _Optional[_Union[datetime.timedelta, _duration_pb2.Duration, _Mapping]] = ..., phase: _Optional[_Union[datetime.timedelta, _duration_pb2.Duration, _Mapping]] = ...) -> None: ...

class ScheduleSpec(_message.Message):
    __slots__ = ("structured_calendar", "cron_string", "interval", "exclude_structured_calendar", "start_time", "end_time", "jitter", "timezone_name")
    STRUCTURED_CALENDAR_FIELD_NUMBER: _ClassVar[int]
    CRON_STRING_FIELD_NUMBER: _ClassVar[int]
    INTERVAL_FIELD_NUMBER: _ClassVar[int]
    EXCLUDE_STRUCTURED_CALENDAR_FIELD_NUMBER: _ClassVar[int]
    START_TIME_FIELD_NUMBER: _ClassVar[int]
    END_TIME_FIELD_NUMBER: _ClassVar[int]
    JITTER_FIELD_NUMBER: _ClassVar[int]
    TIMEZONE_NAME_FIELD_NUMBER: _ClassVar[int]
    structured_calendar: _containers.RepeatedCompositeFieldContainer[StructuredCalendarSpec]
    cron_string: _containers.RepeatedScalarFieldContainer[str]
    interval: _containers.RepeatedCompositeFieldContainer[IntervalSpec]
    exclude_structured_calendar: _containers.RepeatedCompositeFieldContainer[StructuredCalendarSpec]
    start_time: _timestamp_pb2.Timestamp
    end_time: _timestamp_pb2.Timestamp
    jitter: _duration_pb2.Duration
    timezone_name: str
    def __init__(self, structured_calendar: _Optional[_Iterable[_Union[StructuredCalendarSpec, _Mapping]]] = ..., cron_string: _Optional[_Iterable[str]] = ..., interval: _Optional[_Iterable[_Union[IntervalSpec, _Mapping]]] = ..., exclude_structured_calendar: _Optional[_Iterable[_Union[StructuredCalendarSpec, _Mapping]]] = ..., start_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., end_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., jitter: _Optional[_Union[datetime.timedelta, _duration_pb2.Duration, _Mapping]] = ..., timezone_name: _Optional[str] = ...) -> None: ...

class SchedulePolicies(_message.Message):
    __slots__ = ("overlap_policy", "catchup_window", "pause_on_failure")
    OVERLAP_POLICY_FIELD_NUMBER: _ClassVar[int]
    CATCHUP_WINDOW_FIELD_NUMBER: _ClassVar[int]
    PAUSE_ON_FAILURE_FIELD_NUMBER: _ClassVar[int]
    overlap_policy: ScheduleOverlapPolicy
    catchup_window: _duration_pb2.Duration
    pause_on_failure: bool
    def __init__(self, overlap_policy: _Optional[_Union[ScheduleOverlapPolicy, str]] = ..., catchup_window: _Optional[_Union[datetime.timedelta, _duration_pb2.Duration, _Mapping]] = ..., pause_on_failure: _Optional[bool] = ...) -> None: ...

class NewWorkflowExecutionInfo(_message.Message):
    __slots__ = ("workflow_id", "workflow_type", "task_queue", "input", "workflow_execution_timeout", "workflow_run_timeout", "workflow_task_timeout", "retry_policy", "memo", "search_attributes")
    WORKFLOW_ID_FIELD_NUMBER: _ClassVar[int]
    WORKFLOW_TYPE_FIELD_NUMBER: _ClassVar[int]
    TASK_QUEUE_FIELD_NUMBER: _ClassVar[int]
    INPUT_FIELD_NUMBER: _ClassVar[int]
    WORKFLOW_EXECUTION_TIMEOUT_FIELD_NUMBER: _ClassVar[int]
    WORKFLOW_RUN_TIMEOUT_FIELD_NUMBER: _ClassVar[int]
    WORKFLOW_TASK_TIMEOUT_FIELD_NUMBER: _ClassVar[int]
    RETRY_POLICY_FIELD_NUMBER: _ClassVar[int]
    MEMO_FIELD_NUMBER: _ClassVar[int]
    SEARCH_ATTRIBUTES_FIELD_NUMBER: _ClassVar[int]
    workflow_id: str
    workflow_type: _common_pb2.WorkflowType
    task_queue: _common_pb2.TaskQueue
    input: _common_pb2.Payloads
    workflow_execution_timeout: _duration_pb2.Duration
    workflow_run_timeout: _duration_pb2.Duration
    workflow_task_timeout: _duration_pb2.Duration
    retry_policy: _common_pb2.RetryPolicy
    memo: _common_pb2.Memo
    search_attributes: _common_pb2.SearchAttributes
    def __init__(self, workflow_id: _Optional[str] = ..., workflow_type: _Optional[_Union[_common_pb2.WorkflowType, _Mapping]] = ..., task_queue: _Optional[_Union[_common_pb2.TaskQueue, _Mapping]] = ..., input: _Optional[_Union[_common_pb2.Payloads, _Mapping]] = ..., workflow_execution_timeout: _Optional[_Union[datetime.timedelta, _duration_pb2.Duration, _Mapping]] = ..., workflow_run_timeout: _Optional[_Union[datetime.timedelta, _duration_pb2.Duration, _Mapping]] = ..., workflow_task_timeout: _Optional[_Union[datetime.timedelta, _duration_pb2.Duration, _Mapping]] = ..., retry_policy: _Optional[_Union[_common_pb2.RetryPolicy, _Mapping]] = ..., memo: _Optional[_Union[_common_pb2.Memo, _Mapping]] = ..., search_attributes: _Optional[_Union[_common_pb2.SearchAttributes, _Mapping]] = ...) -> None: ...

class ScheduleAction(_message.Message):
    __slots__ = ("start_workflow",)
    START_WORKFLOW_FIELD_NUMBER: _ClassVar[int]
    start_workflow: NewWorkflowExecutionInfo
    def __init__(self, start_workflow: _Optional[_Union[NewWorkflowExecutionInfo, _Mapping]] = ...) -> None: ...

class ScheduleState(_message.Message):
    __slots__ = ("notes", "paused", "limited_actions", "remaining_actions")
    NOTES_FIELD_NUMBER: _ClassVar[int]
    PAUSED_FIELD_NUMBER: _ClassVar[int]
    LIMITED_ACTIONS_FIELD_NUMBER: _ClassVar[int]
    REMAINING_ACTIONS_FIELD_NUMBER: _ClassVar[int]
    notes: str
    paused: bool
    limited_actions: bool
    remaining_actions: int
    def __init__(self, notes: _Optional[str] = ..., paused: _Optional[bool] = ..., limited_actions: _Optional[bool] = ..., remaining_actions: _Optional[int] = ...) -> None: ...

class Schedule(_message.Message):
    __slots__ = ("spec", "action", "policies", "state")
    SPEC_FIELD_NUMBER: _ClassVar[int]
    ACTION_FIELD_NUMBER: _ClassVar[int]
    POLICIES_FIELD_NUMBER: _ClassVar[int]
    STATE_FIELD_NUMBER: _ClassVar[int]
    spec: ScheduleSpec
    action: ScheduleAction
    policies: SchedulePolicies
    state: ScheduleState
    def __init__(self, spec: _Optional[_Union[ScheduleSpec, _Mapping]] = ..., action: _Optional[_Union[ScheduleAction, _Mapping]] = ..., policies: _Optional[_Union[SchedulePolicies, _Mapping]] = ..., state: _Optional[_Union[ScheduleState, _Mapping]] = ...) -> None: ...

class ScheduleActionResult(_message.Message):
    __slots__ = ("schedule_time", "actual_time", "start_workflow_result", "start_workflow_status")
    SCHEDULE_TIME_FIELD_NUMBER: _ClassVar[int]
    ACTUAL_TIME_FIELD_NUMBER: _ClassVar[int]
    START_WORKFLOW_RESULT_FIELD_NUMBER: _ClassVar[int]
    START_WORKFLOW_STATUS_FIELD_NUMBER: _ClassVar[int]
    schedule_time: _timestamp_pb2.Timestamp
    actual_time: _timestamp_pb2.Timestamp
    start_workflow_result: _common_pb2.WorkflowExecution
    start_workflow_status: _common_pb2.WorkflowExecutionStatus
    def __init__(self, schedule_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., actual_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., start_workflow_result: _Optional[_Union[_common_pb2.WorkflowExecution, _Mapping]] = ..., start_workflow_status: _Optional[_Union[_common_pb2.WorkflowExecutionStatus, str]] = ...) -> None: ...

class ScheduleInfo(_message.Message):
    __slots__ = ("action_count", "missed_catchup_window", "overlap_skipped", "buffer_dropped", "buffer_size", "running_workflows", "recent_actions", "future_action_times", "create_time", "update_time")
    ACTION_COUNT_FIELD_NUMBER: _ClassVar[int]
    MISSED_CATCHUP_WINDOW_FIELD_NUMBER: _ClassVar[int]
    OVERLAP_SKIPPED_FIELD_NUMBER: _ClassVar[int]
    BUFFER_DROPPED_FIELD_NUMBER: _ClassVar[int]
    BUFFER_SIZE_FIELD_NUMBER: _ClassVar[int]
    RUNNING_WORKFLOWS_FIELD_NUMBER: _ClassVar[int]
    RECENT_ACTIONS_FIELD_NUMBER: _ClassVar[int]
    FUTURE_ACTION_TIMES_FIELD_NUMBER: _ClassVar[int]
    CREATE_TIME_FIELD_NUMBER: _ClassVar[int]
    UPDATE_TIME_FIELD_NUMBER: _ClassVar[int]
    action_count: int
    missed_catchup_window: int
    overlap_skipped: int
    buffer_dropped: int
    buffer_size: int
    running_workflows: _containers.RepeatedCompositeFieldContainer[_common_pb2.WorkflowExecution]
    recent_actions: _containers.RepeatedCompositeFieldContainer[ScheduleActionResult]
    future_action_times: _containers.RepeatedCompositeFieldContainer[_timestamp_pb2.Timestamp]
    create_time: _timestamp_pb2.Timestamp
    update_time: _timestamp_pb2.Timestamp
    def __init__(self, action_count: _Optional[int] = ..., missed_catchup_window: _Optional[int] = ..., overlap_skipped: _Optional[int] = ..., buffer_dropped: _Optional[int] = ..., buffer_size: _Optional[int] = ..., running_workflows: _Optional[_Iterable[_Union[_common_pb2.WorkflowExecution, _Mapping]]] = ..., recent_actions: _Optional[_Iterable[_Union[ScheduleActionResult, _Mapping]]] = ..., future_action_times: _Optional[_Iterable[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]]] = ..., create_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., update_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class TriggerImmediatelyRequest(_message.Message):
    __slots__ = ("overlap_policy",)
    OVERLAP_POLICY_FIELD_NUMBER: _ClassVar[int]
    overlap_policy: ScheduleOverlapPolicy
    def __init__(self, overlap_policy: _Optional[_Union[ScheduleOverlapPolicy, str]] = ...) -> None: ...

class BackfillRequest(_message.Message):
    __slots__ = ("start_time", "end_time", "overlap_policy")
    START_TIME_FIELD_NUMBER: _ClassVar[int]
    END_TIME_FIELD_NUMBER: _ClassVar[int]
    OVERLAP_POLICY_FIELD_NUMBER: _ClassVar[int]
    start_time: _timestamp_pb2.Timestamp
    end_time: _timestamp_pb2.Timestamp
    overlap_policy: ScheduleOverlapPolicy
    def __init__(self, start_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., end_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., overlap_policy: _Optional[_Union[ScheduleOverlapPolicy, str]] = ...) -> None: ...

class SchedulePatch(_message.Message):
    __slots__ = ("trigger_immediately", "backfill_request", "pause", "unpause")
    TRIGGER_IMMEDIATELY_FIELD_NUMBER: _ClassVar[int]
    BACKFILL_REQUEST_FIELD_NUMBER: _ClassVar[int]
    PAUSE_FIELD_NUMBER: _ClassVar[int]
    UNPAUSE_FIELD_NUMBER: _ClassVar[int]
    trigger_immediately: TriggerImmediatelyRequest
    backfill_request: _containers.RepeatedCompositeFieldContainer[BackfillRequest]
    pause: str
    unpause: str
    def __init__(self, trigger_immediately: _Optional[_Union[TriggerImmediatelyRequest, _Mapping]] = ..., backfill_request: _Optional[_Iterable[_Union[BackfillRequest, _Mapping]]] = ..., pause: _Optional[str] = ..., unpause: _Optional[str] = ...) -> None: ...

class ScheduleListInfo(_message.Message):
    __slots__ = ("spec", "workflow_type", "notes", "paused", "recent_actions", "future_action_times")
    SPEC_FIELD_NUMBER: _ClassVar[int]
    WORKFLOW_TYPE_FIELD_NUMBER: _ClassVar[int]
    NOTES_FIELD_NUMBER: _ClassVar[int]
    PAUSED_FIELD_NUMBER: _ClassVar[int]
    RECENT_ACTIONS_FIELD_NUMBER: _ClassVar[int]
    FUTURE_ACTION_TIMES_FIELD_NUMBER: _ClassVar[int]
    spec: ScheduleSpec
    workflow_type: _common_pb2.WorkflowType
    notes: str
    paused: bool
    recent_actions: _containers.RepeatedCompositeFieldContainer[ScheduleActionResult]
    future_action_times: _containers.RepeatedCompositeFieldContainer[_timestamp_pb2.Timestamp]
    def __init__(self, spec: _Optional[_Union[ScheduleSpec, _Mapping]] = ..., workflow_type: _Optional[_Union[_common_pb2.WorkflowType, _Mapping]] = ..., notes: _Optional[str] = ..., paused: _Optional[bool] = ..., recent_actions: _Optional[_Iterable[_Union[ScheduleActionResult, _Mapping]]] = ..., future_action_times: _Optional[_Iterable[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]]] = ...) -> None: ...

class ScheduleListEntry(_message.Message):
    __slots__ = ("schedule_id", "memo", "search_attributes", "info")
    SCHEDULE_ID_FIELD_NUMBER: _ClassVar[int]
    MEMO_FIELD_NUMBER: _ClassVar[int]
    SEARCH_ATTRIBUTES_FIELD_NUMBER: _ClassVar[int]
    INFO_FIELD_NUMBER: _ClassVar[int]
    schedule_id: str
    memo: _common_pb2.Memo
    search_attributes: _common_pb2.SearchAttributes
    info: ScheduleListInfo
    def __init__(self, schedule_id: _Optional[str] = ..., memo: _Optional[_Union[_common_pb2.Memo, _Mapping]] = ..., search_attributes: _Optional[_Union[_common_pb2.SearchAttributes, _Mapping]] = ..., info: _Optional[_Union[ScheduleListInfo, _Mapping]] = ...) -> None: ...
