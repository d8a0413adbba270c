"""The frontend's handlers of schedules, with Temporal's names.

A mixin of :class:`wf.server.frontend.WorkflowService`; the handlers run as the last link of the call
pipeline, like every other: the request's shape was checked (``server/checks.py``), and the work is
``wf.history.schedules.service.Schedules``'.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from wf.server.pipeline import Call
from wf.v1 import service_pb2

if TYPE_CHECKING:
    from wf.history.service import HistoryService

S = service_pb2


class ScheduleHandlers:
    """``CreateSchedule``, ``DescribeSchedule``, ``UpdateSchedule``, ``PatchSchedule``,
    ``ListScheduleMatchingTimes``, ``DeleteSchedule`` and ``ListSchedules``."""

    history: HistoryService

    async def CreateSchedule(self, request: S.CreateScheduleRequest, call: Call) -> S.CreateScheduleResponse:
        return S.CreateScheduleResponse(conflict_token=await self.history.schedules.create(request))

    async def DescribeSchedule(self, request: S.DescribeScheduleRequest, call: Call) -> S.DescribeScheduleResponse:
        return await self.history.schedules.describe(request.namespace, request.schedule_id)

    async def UpdateSchedule(self, request: S.UpdateScheduleRequest, call: Call) -> S.UpdateScheduleResponse:
        await self.history.schedules.update(request)
        return S.UpdateScheduleResponse()

    async def PatchSchedule(self, request: S.PatchScheduleRequest, call: Call) -> S.PatchScheduleResponse:
        await self.history.schedules.patch(request)
        return S.PatchScheduleResponse()

    async def ListScheduleMatchingTimes(
        self, request: S.ListScheduleMatchingTimesRequest, call: Call
    ) -> S.ListScheduleMatchingTimesResponse:
        return await self.history.schedules.matching_times(request)

    async def DeleteSchedule(self, request: S.DeleteScheduleRequest, call: Call) -> S.DeleteScheduleResponse:
        await self.history.schedules.delete(request.namespace, request.schedule_id)
        return S.DeleteScheduleResponse()

    async def ListSchedules(self, request: S.ListSchedulesRequest, call: Call) -> S.ListSchedulesResponse:
        return await self.history.schedules.list_schedules(request)
