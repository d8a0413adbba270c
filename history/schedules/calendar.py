"""A structured calendar compiled for fast searching, in wall-clock time.

A calendar is seven sets of allowed values (second, minute, hour, day of month, month, year, day of
week). A wall-clock time matches when every field is in its set; day of month and day of week must
both match (AND, as Temporal, unlike classic cron's OR). This module knows nothing of time zones: it
answers "the first matching wall-clock time at or after this one", and `spec.py` turns wall-clock
times into instants in the spec's zone (where daylight saving makes a wall time happen zero, one or
two times).

The search jumps from field to field with "next allowed value ≥ x" tables, outermost field first,
so it costs a few dozen steps per call, never a step per second or per minute.
"""

from __future__ import annotations

import bisect
import calendar as _stdcalendar
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from wf.v1 import schedule_pb2

# Temporal's bounds for calendar years: a spec names years in this range, and no calendar time lies
# past MAX_YEAR (its scheduler stops there too).
MIN_YEAR = 2000
MAX_YEAR = 2100


# every value of each field but the year
FULL: dict[str, frozenset[int]] = {
    "second": frozenset(range(60)),
    "minute": frozenset(range(60)),
    "hour": frozenset(range(24)),
    "day_of_month": frozenset(range(1, 32)),
    "month": frozenset(range(1, 13)),
    "day_of_week": frozenset(range(7)),
}

# Units of wall-clock time, innermost first: a wall time's unit at a level is every wall time that
# shares its fields from that level outwards (see `unit_end`).
SECOND, MINUTE, HOUR, DAY, MONTH, YEAR, FOREVER = range(7)


def unit_end(wall: datetime, level: int) -> datetime | None:
    """The first wall time after the unit at `level` that holds `wall` (None: there is none)."""
    if level == SECOND:
        return wall + timedelta(seconds=1)
    if level == MINUTE:
        return wall.replace(second=0) + timedelta(minutes=1)
    if level == HOUR:
        return wall.replace(minute=0, second=0) + timedelta(hours=1)
    if level == DAY:
        return datetime(wall.year, wall.month, wall.day) + timedelta(days=1)
    if level == MONTH:
        return datetime(wall.year + wall.month // 12, wall.month % 12 + 1, 1)
    if level == YEAR and wall.year < MAX_YEAR:
        return datetime(wall.year + 1, 1, 1)
    return None


def range_values(ranges: Iterable[schedule_pb2.Range]) -> set[int]:
    """Every value the ranges cover (end < start counts as start; step 0 as 1)."""
    values: set[int] = set()
    for r in ranges:
        step = r.step if r.step > 0 else 1
        end = r.end if r.end >= r.start else r.start
        values.update(range(r.start, end + 1, step))
    return values


_DAYS_IN_MONTH = (0, 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31)


def _days_in_month(y: int, mo: int) -> int:
    if mo == 2 and _stdcalendar.isleap(y):
        return 29
    return _DAYS_IN_MONTH[mo]


def _next_table(allowed: set[int], top: int) -> list[int | None]:
    """table[i] = the least allowed value ≥ i, for i in 0..top+1 (None past the last one)."""
    table: list[int | None] = [None] * (top + 2)
    following: int | None = None
    for i in range(top, -1, -1):
        if i in allowed:
            following = i
        table[i] = following
    return table


@dataclass(frozen=True)
class _Fields:
    second: list[int | None]
    minute: list[int | None]
    hour: list[int | None]
    day_of_month: list[int | None]
    month: list[int | None]
    day_of_week: frozenset[int]
    years: Sequence[int] | None  # sorted; None = every year


class CompiledCalendar:
    """One canonical `StructuredCalendarSpec`, ready to match and search wall-clock times."""

    __slots__ = ("_f", "_dow_all", "sets")

    def __init__(self, cal: schedule_pb2.StructuredCalendarSpec) -> None:
        years = range_values(cal.year)
        # the allowed values of each field ("year": None when every year is)
        self.sets: dict[str, frozenset[int] | None] = {
            name: frozenset(range_values(getattr(cal, name))) for name in FULL
        }
        self.sets["year"] = frozenset(years) if cal.year else None
        self._f = _Fields(
            second=_next_table(range_values(cal.second), 59),
            minute=_next_table(range_values(cal.minute), 59),
            hour=_next_table(range_values(cal.hour), 23),
            day_of_month=_next_table(range_values(cal.day_of_month), 31),
            month=_next_table(range_values(cal.month), 12),
            day_of_week=frozenset(range_values(cal.day_of_week)),
            years=sorted(years) if cal.year else None,
        )
        self._dow_all = self._f.day_of_week >= frozenset(range(7))

    def matches(self, wall: datetime) -> bool:
        """Whether the wall-clock time (its fields as written; tzinfo ignored) matches."""
        f = self._f
        if f.years is not None and wall.year not in f.years:
            return False
        return (
            f.month[wall.month] == wall.month
            and f.day_of_month[wall.day] == wall.day
            and (wall.isoweekday() % 7) in f.day_of_week
            and f.hour[wall.hour] == wall.hour
            and f.minute[wall.minute] == wall.minute
            and f.second[wall.second] == wall.second
        )

    def next_wall(self, wall: datetime) -> datetime | None:
        """The first matching wall-clock time at or after `wall` (naive, whole seconds), or None when
        there is none up to the end of MAX_YEAR."""
        f = self._f
        y, mo, d, h, mi, s = wall.year, wall.month, wall.day, wall.hour, wall.minute, wall.second
        while True:
            # carries from the previous round
            if s > 59:
                mi, s = mi + 1, 0
            if mi > 59:
                h, mi = h + 1, 0
            if h > 23:
                d, h = d + 1, 0
            if mo > 12:
                y, mo = y + 1, 1
            if d > 28 and d > _days_in_month(y, mo):
                mo, d = mo + 1, 1
                if mo > 12:
                    y, mo = y + 1, 1
            if y > MAX_YEAR:
                return None
            # year
            if f.years is not None:
                i = bisect.bisect_left(f.years, y)
                if i == len(f.years):
                    return None
                if f.years[i] != y:
                    y, mo, d, h, mi, s = f.years[i], 1, 1, 0, 0, 0
                    continue
            # month
            nmo = f.month[mo]
            if nmo is None:
                y, mo, d, h, mi, s = y + 1, 1, 1, 0, 0, 0
                continue
            if nmo != mo:
                mo, d, h, mi, s = nmo, 1, 0, 0, 0
            # day: day of month AND day of week
            nd = self._next_day(y, mo, d)
            if nd is None:
                mo, d, h, mi, s = mo + 1, 1, 0, 0, 0
                continue
            if nd != d:
                d, h, mi, s = nd, 0, 0, 0
            # hour, minute, second
            nh = f.hour[h]
            if nh is None:
                d, h, mi, s = d + 1, 0, 0, 0
                continue
            if nh != h:
                h, mi, s = nh, 0, 0
            nmi = f.minute[mi]
            if nmi is None:
                h, mi, s = h + 1, 0, 0
                continue
            if nmi != mi:
                mi, s = nmi, 0
            ns = f.second[s]
            if ns is None:
                mi, s = mi + 1, 0
                continue
            return datetime(y, mo, d, h, mi, ns)

    def _next_day(self, y: int, mo: int, d: int) -> int | None:
        """The first day ≥ d of this month allowed by both day of month and day of week."""
        f = self._f
        last = _days_in_month(y, mo)
        while d <= last:
            nd = f.day_of_month[d]
            if nd is None or nd > last:
                return None
            if self._dow_all or (date(y, mo, nd).isoweekday() % 7) in f.day_of_week:
                return nd
            d = nd + 1
        return None
