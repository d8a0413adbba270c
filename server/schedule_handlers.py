"""The frontend's handlers of schedules, with Temporal's names.

A mixin of :class:`wf.server.frontend.WorkflowService`; the handlers run as the last link of the call
pipeline, like every other.
"""

from __future__ import annotations

from wf.history.errors import FailedPrecondition
from wf.server.pipeline import Call
from wf.v1 import service_pb2

S = service_pb2


class ScheduleHandlers:
    """``CreateSchedule``, ``DescribeSchedule``, ``UpdateSchedule``, ``PatchSchedule``,
    ``ListScheduleMatchingTimes``, ``DeleteSchedule`` and ``ListSchedules``."""

    async def CreateSchedule(self, request: S.CreateScheduleRequest, call: Call) -> S.CreateScheduleResponse:
        raise FailedPrecondition("this server does not serve schedules yet")

    async def DescribeSchedule(self, request: S.DescribeScheduleRequest, call: Call) -> S.DescribeScheduleResponse:
        raise FailedPrecondition("this server does not serve schedules yet")

    async def UpdateSchedule(self, request: S.UpdateScheduleRequest, call: Call) -> S.UpdateScheduleResponse:
        raise FailedPrecondition("this server does not serve schedules yet")

    async def PatchSchedule(self, request: S.PatchScheduleRequest, call: Call) -> S.PatchScheduleResponse:
        raise FailedPrecondition("this server does not serve schedules yet")

    async def ListScheduleMatchingTimes(
        self, request: S.ListScheduleMatchingTimesRequest, call: Call
    ) -> S.ListScheduleMatchingTimesResponse:
        raise FailedPrecondition("this server does not serve schedules yet")

    async def DeleteSchedule(self, request: S.DeleteScheduleRequest, call: Call) -> S.DeleteScheduleResponse:
        raise FailedPrecondition("this server does not serve schedules yet")

    async def ListSchedules(self, request: S.ListSchedulesRequest, call: Call) -> S.ListSchedulesResponse:
        raise FailedPrecondition("this server does not serve schedules yet")
