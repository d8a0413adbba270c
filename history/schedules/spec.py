"""When a schedule fires: its spec validated and canonicalised, and the times it names.

`canonical_spec` is what the server stores and `describe` returns, as Temporal does: cron strings
compiled into structured calendars (or intervals for `@every`), empty calendar fields filled with
their defaults, ranges in their clean form. `SpecTimes` answers the scheduler's questions about one
canonical spec: the next time after an instant, the times in a window, and the jitter of a time.

Semantics, as Temporal's scheduler computes them (its spec compiler and calendar search):
- Times have a resolution of one second. An interval fires at epoch + n·interval + phase for every
  integer n, whatever the moment the schedule was created.
- Calendars are read as wall-clock times in `timezone_name` (empty: UTC). A wall time that daylight
  saving skips does not fire that day (02:30 on a spring-forward day); a wall time it repeats fires
  at both instants (01:30 twice on a fall-back day). Excludes match a time by its wall clock, so an
  excluded 01:30 excludes both.
- The times of a spec are the union of its calendars and intervals (a time named twice is one
  time), minus the times any exclude calendar matches, inside [start_time, end_time] (both ends
  included), and never past the year 2100.
- Jitter delays each action by a deterministic amount in [0, jitter), at most the gap to the
  following time of the spec (Temporal's cap, so jitter never reorders actions), in milliseconds.

Where wf differs: an interval or phase with a fraction of a second is refused (Temporal silently
drops the fraction), and a spec whose next time lies past 100,000 consecutive excluded times is
treated as having no next time (Temporal leaves that search unbounded by default).
"""

from __future__ import annotations

import hashlib
import zoneinfo
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta, tzinfo
from functools import lru_cache

from wf.history.errors import InvalidArgument
from wf.v1 import schedule_pb2

from .calendar import FOREVER, FULL, MAX_YEAR, MIN_YEAR, CompiledCalendar, unit_end
from .cron import CronError, compile_cron

_SECOND = timedelta(seconds=1)
_MICRO = timedelta(microseconds=1)
_MAX_COMMENT = 200
_MAX_EXCLUDED_STEPS = 100_000
_MAX_ZONED_JUMP = timedelta(hours=12)
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
# the fields of each skip level (SECOND, MINUTE, HOUR, DAY, MONTH, YEAR)
_LEVEL_FIELDS = (("second",), ("minute",), ("hour",), ("day_of_month", "day_of_week"), ("month",), ("year",))

# (field, low, high, default ranges when empty); year's default is "every year", an empty list.
_CALENDAR_FIELDS: tuple[tuple[str, int, int, tuple[tuple[int, int], ...]], ...] = (
    ("second", 0, 59, ((0, 0),)),
    ("minute", 0, 59, ((0, 0),)),
    ("hour", 0, 23, ((0, 0),)),
    ("day_of_month", 1, 31, ((1, 31),)),
    ("month", 1, 12, ((1, 12),)),
    ("year", MIN_YEAR, MAX_YEAR, ()),
    ("day_of_week", 0, 6, ((0, 6),)),
)


def canonical_spec(spec: schedule_pb2.ScheduleSpec, field: str = "schedule.spec") -> schedule_pb2.ScheduleSpec:
    """The spec validated and canonicalised as Temporal stores it.

    Every cron string is compiled into a structured calendar (an interval for `@every`; its
    `CRON_TZ=`/`TZ=` zone into timezone_name; its comment into the calendar's comment) and
    cron_string is emptied; empty calendar fields get their defaults; ranges are normalised
    (end < start means end = start, step 0 means 1). Idempotent. The input is not changed.

    Raises:
        InvalidArgument: the message names the field (under `field`) and says what is allowed.
    """
    out = schedule_pb2.ScheduleSpec()
    out.CopyFrom(spec)
    del out.cron_string[:]
    cron_tz: str | None = None
    for i, text in enumerate(spec.cron_string):
        where = f"{field}.cron_string[{i}]"
        try:
            compiled = compile_cron(text)
        except CronError as exc:
            raise InvalidArgument(f"{where}: {exc}") from None
        tz = compiled.timezone_name or ""
        if tz:
            _zone(tz, where)
        if i > 0 and tz != cron_tz:
            raise InvalidArgument(
                f"{where}: time zone {tz or 'none'!r} differs from {cron_tz or 'none'!r} of "
                f"{field}.cron_string[0]; all cron strings of a spec must name the same zone"
            )
        cron_tz = tz
        if compiled.calendar is not None:
            out.structured_calendar.append(compiled.calendar)
        if compiled.interval is not None:
            _check_interval(compiled.interval, where)
            out.interval.append(compiled.interval)
    if cron_tz:
        if out.timezone_name and out.timezone_name != cron_tz:
            raise InvalidArgument(
                f"{field}.cron_string[0]: time zone {cron_tz!r} conflicts with "
                f"{field}.timezone_name {out.timezone_name!r}"
            )
        out.timezone_name = cron_tz
    _zone(out.timezone_name, f"{field}.timezone_name")
    for i, cal in enumerate(out.structured_calendar):
        _canonical_calendar(cal, f"{field}.structured_calendar[{i}]")
    for i, cal in enumerate(out.exclude_structured_calendar):
        _canonical_calendar(cal, f"{field}.exclude_structured_calendar[{i}]")
    for i, iv in enumerate(out.interval):
        _check_interval(iv, f"{field}.interval[{i}]")
    if out.HasField("jitter") and out.jitter.ToTimedelta() < timedelta(0):
        raise InvalidArgument(f"{field}.jitter: must not be negative")
    if out.HasField("jitter") and out.jitter.ToTimedelta() == timedelta(0):
        out.ClearField("jitter")
    if (
        out.HasField("start_time")
        and out.HasField("end_time")
        and out.end_time.ToDatetime() < out.start_time.ToDatetime()
    ):
        raise InvalidArgument(
            f"{field}.end_time: before start_time ({out.end_time.ToJsonString()} < {out.start_time.ToJsonString()})"
        )
    return out


def _canonical_calendar(cal: schedule_pb2.StructuredCalendarSpec, where: str) -> None:
    for name, lo, hi, default in _CALENDAR_FIELDS:
        ranges = getattr(cal, name)
        if not ranges:
            ranges.extend(schedule_pb2.Range(start=a, end=b, step=1) for a, b in default)
            continue
        for r in ranges:
            if r.end < r.start:
                r.end = r.start
            if r.step == 0:
                r.step = 1
            for label, v in (("", r.start), ("end ", r.end)):
                if not lo <= v <= hi:
                    raise InvalidArgument(f"{where}.{name}: {label}{v} is out of range {lo}-{hi}")
            if r.step < 0:
                raise InvalidArgument(f"{where}.{name}: step {r.step} must be positive")
    if len(cal.comment) > _MAX_COMMENT:
        raise InvalidArgument(f"{where}.comment: longer than {_MAX_COMMENT} characters")


def _check_interval(iv: schedule_pb2.IntervalSpec, where: str) -> None:
    every, phase = iv.interval.ToTimedelta(), iv.phase.ToTimedelta()
    if iv.interval.seconds <= 0 and iv.interval.nanos <= 0:
        raise InvalidArgument(f"{where}.interval: must be positive (at least 1 second)")
    if iv.interval.nanos:
        raise InvalidArgument(f"{where}.interval: {iv.interval.ToJsonString()} must be a whole number of seconds")
    if iv.phase.seconds < 0 or iv.phase.nanos < 0:
        raise InvalidArgument(f"{where}.phase: must not be negative")
    if iv.phase.nanos:
        raise InvalidArgument(f"{where}.phase: {iv.phase.ToJsonString()} must be a whole number of seconds")
    if phase >= every:
        raise InvalidArgument(f"{where}.phase: {phase} must be less than the interval ({every})")


@lru_cache(maxsize=1024)
def _load_zone(name: str) -> tzinfo | None:
    if not name or name == "UTC":
        return UTC
    try:
        return zoneinfo.ZoneInfo(name)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError, OSError):
        return None


def _zone(name: str, where: str) -> tzinfo:
    zone = _load_zone(name)
    if zone is None:
        raise InvalidArgument(
            f"{where}: unknown time zone {name!r}; expected an IANA name such as 'Europe/Berlin' or 'UTC'"
        )
    return zone


@lru_cache(maxsize=4096)
def _compiled(serialized: bytes) -> dict[str, object]:
    """The attributes of a SpecTimes for the spec with these bytes (the compiled parts are never
    changed after they are built, so SpecTimes of one spec share them)."""
    times = object.__new__(SpecTimes)
    times._compile(schedule_pb2.ScheduleSpec.FromString(serialized))
    return dict(times.__dict__)


def _aware(t: datetime) -> datetime:
    if t.tzinfo is None:
        raise ValueError(f"{t!r} has no time zone; schedule times are aware datetimes (UTC)")
    return t


def _whole_seconds(t: datetime) -> datetime:
    return t.replace(microsecond=0)


class SpecTimes:
    """The times of one spec (see the module docstring for the rules). A spec that is not canonical
    yet (cron strings, empty calendar fields) is canonicalised first, so it cannot be misread.
    Compiling a spec costs some 40 µs; the compiled form of the last few thousand specs is kept,
    so building a SpecTimes for a spec seen before costs about 2 µs, and each question a few µs."""

    def __init__(self, spec: schedule_pb2.ScheduleSpec) -> None:
        self.__dict__.update(_compiled(spec.SerializeToString(deterministic=True)))

    def _compile(self, spec: schedule_pb2.ScheduleSpec) -> None:
        spec = canonical_spec(spec)
        self._zone = _zone(spec.timezone_name, "schedule.spec.timezone_name")
        self._utc = self._zone is UTC
        self._calendars = [CompiledCalendar(c) for c in spec.structured_calendar]
        self._excludes = [CompiledCalendar(c) for c in spec.exclude_structured_calendar]
        # (interval, phase) in whole seconds
        self._intervals = [
            (int(iv.interval.ToTimedelta().total_seconds()), int(iv.phase.ToTimedelta().total_seconds()))
            for iv in spec.interval
        ]
        self._start = spec.start_time.ToDatetime(tzinfo=UTC) if spec.HasField("start_time") else None
        self._end = spec.end_time.ToDatetime(tzinfo=UTC) if spec.HasField("end_time") else None
        self._jitter = spec.jitter.ToTimedelta() if spec.HasField("jitter") else timedelta(0)
        self._last = datetime(MAX_YEAR, 12, 31, 23, 59, 59, tzinfo=UTC)
        self._exclude_levels = [self._skip_level(ex) for ex in self._excludes]

    def next_after(self, t: datetime) -> datetime | None:
        """The first time strictly after t (aware; UTC out), or None when there is none."""
        after = _aware(t).astimezone(UTC)
        if self._start is not None and after < self._start:
            after = self._start - _MICRO
        for _ in range(_MAX_EXCLUDED_STEPS):
            nominal = self._raw_next(after)
            if nominal is None or nominal > self._last:
                return None
            if self._end is not None and nominal > self._end:
                return None
            level = self._excluded_level(nominal)
            if level is None:
                return nominal
            skipped = self._skip(nominal, level)
            if skipped is None:
                return None
            after = skipped
        return None

    def between(self, start: datetime, end: datetime) -> Iterator[datetime]:
        """Every time in [start, end], both ends included, in order."""
        t = self.next_after(start - _MICRO)
        while t is not None and t <= end:
            yield t
            t = self.next_after(t)

    def jitter(self, nominal: datetime, key: str) -> timedelta:
        """The delay of the action at this nominal time for the schedule `key`: deterministic, in
        [0, jitter), in whole milliseconds, and less than the gap to the following time."""
        limit = self._jitter
        if limit <= timedelta(0):
            return timedelta(0)
        nominal = _aware(nominal).astimezone(UTC)
        following = self._raw_next(nominal)
        if following is not None:
            limit = min(limit, following - nominal)
        ms = min(limit // timedelta(milliseconds=1), 0xFFFFFFFF)
        digest = hashlib.blake2b(f"{key}\x00{nominal.isoformat()}".encode(), digest_size=4).digest()
        return timedelta(milliseconds=(int.from_bytes(digest, "big") * ms) >> 32)

    # -- the union of calendars and intervals, without start, end or excludes

    def _raw_next(self, after: datetime) -> datetime | None:
        best: datetime | None = None
        for cal in self._calendars:
            n = self._calendar_next(cal, after)
            if n is not None and (best is None or n < best):
                best = n
        if self._intervals:
            ts = (after - _EPOCH) // _SECOND  # exact, where a float timestamp may round up
            for every, phase in self._intervals:
                n = _EPOCH + timedelta(seconds=((ts - phase) // every + 1) * every + phase)
                if best is None or n < best:
                    best = n
        return best

    # -- excludes

    def _skip_level(self, ex: CompiledCalendar) -> int:
        """How far past a time this exclude matches the search may jump: to the end of the time's
        unit (minute, hour, day…) at the innermost field where the exclude does not cover every
        value the spec's own times can take. Inside that unit, every time of the spec is excluded
        too, so "every second but weekends" costs one step a weekend, not one a second."""

        def covers(name: str) -> bool:
            have = ex.sets[name]
            if have is None:  # every year
                return True
            if self._intervals:
                return name != "year" and have >= FULL[name]
            needed: set[int] = set()
            for cal in self._calendars:
                values = cal.sets[name]
                if values is None:
                    return False
                needed |= values
            return have >= needed

        for level, names in enumerate(_LEVEL_FIELDS):
            if not all(covers(name) for name in names):
                return level
        return FOREVER

    def _excluded_level(self, nominal: datetime) -> int | None:
        """None when no exclude matches the time, else the largest skip level of those that do."""
        if not self._excludes:
            return None
        wall = nominal if self._utc else nominal.astimezone(self._zone)
        levels = [lvl for ex, lvl in zip(self._excludes, self._exclude_levels, strict=True) if ex.matches(wall)]
        return max(levels) if levels else None

    def _skip(self, nominal: datetime, level: int) -> datetime | None:
        """The instant the search goes on after, past the excluded unit at `level` that holds
        `nominal`; None when no time of the spec can follow. In a zone with daylight saving, a jump
        is at most 12 hours and never crosses a change of offset (halved until it does not), so
        a repeated hour is never jumped over."""
        if self._utc:
            end = unit_end(nominal.replace(tzinfo=None), level)
            return None if end is None else end.replace(tzinfo=UTC) - _MICRO
        wall = nominal.astimezone(self._zone)
        end = unit_end(wall.replace(tzinfo=None, fold=0), level)
        if end is None:
            return None
        jump = min(end - wall.replace(tzinfo=None, fold=0), _MAX_ZONED_JUMP)
        offset = wall.utcoffset()
        while jump > _SECOND and (nominal + jump).astimezone(self._zone).utcoffset() != offset:
            jump = (jump // 2) // _SECOND * _SECOND
        return nominal + jump - _MICRO

    def _calendar_next(self, cal: CompiledCalendar, after: datetime) -> datetime | None:
        """The first instant strictly after `after` whose wall clock in the zone matches `cal`."""
        if self._utc:
            wall = cal.next_wall(_whole_seconds(after).replace(tzinfo=None) + _SECOND)
            return None if wall is None else wall.replace(tzinfo=UTC)
        return _zoned_next(cal, self._zone, after)


def _zoned_next(cal: CompiledCalendar, zone: tzinfo, after: datetime) -> datetime | None:
    """`_calendar_next` in a zone with daylight saving.

    Wall times are searched in order from just after the wall time of `after`. A wall time that
    does not exist (skipped forward) is passed over; one that exists twice yields the first of its
    instants after `after`. One case needs more: when `after` lies in the first pass through a
    repeated hour, wall times of that hour that are already behind it come round again in the
    second pass, before the next wall time ahead of it; those are searched separately.
    """
    local = after.astimezone(zone)
    wall = _whole_seconds(local).replace(tzinfo=None, fold=0) + _SECOND
    best: datetime | None = None
    while True:
        w = cal.next_wall(wall)
        if w is None:
            break
        first = w.replace(tzinfo=zone).astimezone(UTC)
        if first.astimezone(zone).replace(tzinfo=None) != w:
            # skipped by a spring-forward transition: go on from the first wall time after the gap
            after_gap = w.replace(tzinfo=zone, fold=1).utcoffset()
            assert after_gap is not None
            t = _transition(zone, (w - after_gap).replace(tzinfo=UTC), after_gap)
            wall = max((t + after_gap).replace(tzinfo=None), w + _SECOND)
            continue
        second = w.replace(tzinfo=zone, fold=1).astimezone(UTC)
        best = first if first > after else second
        break
    if local.fold == 0:
        again = local.replace(fold=1)
        if again.utcoffset() != local.utcoffset():
            repeat = _second_pass_next(cal, zone, after, local)
            if repeat is not None and (best is None or repeat < best):
                best = repeat
    return best


def _second_pass_next(cal: CompiledCalendar, zone: tzinfo, after: datetime, local: datetime) -> datetime | None:
    """The first matching wall time's second instant in the repeated hour `after` is in (first
    pass): the repeated wall times are [transition + new offset, transition + old offset)."""
    old, new = local.utcoffset(), local.replace(fold=1).utcoffset()
    assert old is not None and new is not None
    transition = _transition(zone, after, new)
    start_wall = (transition + new).replace(tzinfo=None)
    end_wall = (transition + old).replace(tzinfo=None)
    w = cal.next_wall(start_wall)
    if w is None or w >= end_wall:
        return None
    return (w - new).replace(tzinfo=UTC)


def _transition(zone: tzinfo, before: datetime, new: timedelta) -> datetime:
    """The first whole second after `before` at which the zone's offset is `new`, found by
    bisection within a day (transitions in the tz database are whole seconds, hours apart)."""
    lo = int(before.timestamp())
    hi = lo + 86_400
    while hi - lo > 1:
        mid = (lo + hi) // 2
        if datetime.fromtimestamp(mid, UTC).astimezone(zone).utcoffset() == new:
            hi = mid
        else:
            lo = mid
    return datetime.fromtimestamp(hi, UTC)
