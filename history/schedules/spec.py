"""When a schedule fires: its spec validated and canonicalised, and its times (interval specs)."""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

from wf.history.errors import InvalidArgument
from wf.v1 import schedule_pb2

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_US = timedelta(microseconds=1)


def canonical_spec(spec: schedule_pb2.ScheduleSpec, field: str = "schedule.spec") -> schedule_pb2.ScheduleSpec:
    """The spec validated and canonicalised (InvalidArgument naming the field when it is wrong)."""
    out = schedule_pb2.ScheduleSpec()
    out.CopyFrom(spec)
    if spec.cron_string or spec.structured_calendar or spec.exclude_structured_calendar:
        raise InvalidArgument(f"{field}.cron_string: calendar specs are not served yet")
    for i, iv in enumerate(spec.interval):
        every = iv.interval.ToTimedelta()
        if every <= timedelta(0):
            raise InvalidArgument(f"{field}.interval[{i}].interval: must be positive")
        phase = iv.phase.ToTimedelta()
        if phase < timedelta(0) or phase >= every:
            raise InvalidArgument(f"{field}.interval[{i}].phase: must be at least 0 and less than the interval")
    bounded = spec.HasField("start_time") and spec.HasField("end_time")
    if bounded and spec.end_time.ToDatetime() < spec.start_time.ToDatetime():
        raise InvalidArgument(f"{field}.end_time: before start_time")
    return out


class SpecTimes:
    """The times of one canonical spec."""

    def __init__(self, spec: schedule_pb2.ScheduleSpec) -> None:
        self._intervals = [
            (iv.interval.ToTimedelta() // _US, iv.phase.ToTimedelta() // _US)
            for iv in spec.interval
        ]
        self._start = spec.start_time.ToDatetime(UTC) if spec.HasField("start_time") else None
        self._end = spec.end_time.ToDatetime(UTC) if spec.HasField("end_time") else None
        self._jitter = spec.jitter.ToTimedelta()

    def next_after(self, t: datetime) -> datetime | None:
        """The first nominal time strictly after ``t``; None when there is none."""
        if self._start is not None and t < self._start:
            t = self._start - timedelta(microseconds=1)
        us = (t - _EPOCH) // timedelta(microseconds=1)
        best: int | None = None
        for every, phase in self._intervals:
            n = (us - phase) // every + 1
            cand = n * every + phase
            if best is None or cand < best:
                best = cand
        if best is None:
            return None
        out = _EPOCH + timedelta(microseconds=best)
        if self._end is not None and out > self._end:
            return None
        return out

    def between(self, start: datetime, end: datetime) -> Iterator[datetime]:
        """Every nominal time in [start, end], both ends included, in order."""
        t = self.next_after(start - timedelta(microseconds=1))
        while t is not None and t <= end:
            yield t
            t = self.next_after(t)

    def jitter(self, nominal: datetime, key: str) -> timedelta:
        """A deterministic delay in [0, jitter), capped below the gap to the following time."""
        if self._jitter <= timedelta(0):
            return timedelta(0)
        limit = self._jitter
        following = self.next_after(nominal)
        if following is not None:
            limit = min(limit, following - nominal)
        digest = hashlib.sha256(f"{key}\x1f{nominal.isoformat()}".encode()).digest()
        fraction = int.from_bytes(digest[:8], "big") / 2**64
        return timedelta(microseconds=int(limit / timedelta(microseconds=1) * fraction))
