"""Schedules: start a workflow on cron, calendar and interval specs, in temporalio.client's names.

    from worker_sdk.schedules import (
        Schedule, ScheduleActionStartWorkflow, ScheduleIntervalSpec, ScheduleSpec,
    )

    handle = await client.create_schedule(
        "report",
        Schedule(
            action=ScheduleActionStartWorkflow(Report.run, "daily", id="report", task_queue="main"),
            spec=ScheduleSpec(intervals=[ScheduleIntervalSpec(every=timedelta(hours=1))]),
        ),
    )
    await handle.pause(note="maintenance")
"""

from worker_sdk._schedule_client import (
    ScheduleActionExecution,
    ScheduleActionExecutionStartWorkflow,
    ScheduleActionResult,
    ScheduleAsyncIterator,
    ScheduleDescription,
    ScheduleHandle,
    ScheduleInfo,
    ScheduleListAction,
    ScheduleListActionStartWorkflow,
    ScheduleListDescription,
    ScheduleListInfo,
    ScheduleListSchedule,
    ScheduleListState,
    ScheduleUpdate,
    ScheduleUpdateInput,
)
from worker_sdk._schedules import (
    Schedule,
    ScheduleAction,
    ScheduleActionStartWorkflow,
    ScheduleBackfill,
    ScheduleCalendarSpec,
    ScheduleIntervalSpec,
    ScheduleOverlapPolicy,
    SchedulePolicy,
    ScheduleRange,
    ScheduleSpec,
    ScheduleState,
)
from worker_sdk.errors import ScheduleAlreadyRunningError

__all__ = [
    "Schedule",
    "ScheduleAction",
    "ScheduleActionStartWorkflow",
    "ScheduleSpec",
    "ScheduleIntervalSpec",
    "ScheduleCalendarSpec",
    "ScheduleRange",
    "SchedulePolicy",
    "ScheduleOverlapPolicy",
    "ScheduleState",
    "ScheduleBackfill",
    "ScheduleUpdate",
    "ScheduleUpdateInput",
    "ScheduleHandle",
    "ScheduleDescription",
    "ScheduleInfo",
    "ScheduleActionResult",
    "ScheduleActionExecution",
    "ScheduleActionExecutionStartWorkflow",
    "ScheduleListDescription",
    "ScheduleListSchedule",
    "ScheduleListAction",
    "ScheduleListActionStartWorkflow",
    "ScheduleListInfo",
    "ScheduleListState",
    "ScheduleAsyncIterator",
    "ScheduleAlreadyRunningError",
]
