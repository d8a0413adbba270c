"""Temporal's cron dialect, compiled into the structured calendar model (or an interval).

Temporal's rules, which differ from classic cron libraries (croniter reads a 6th field as seconds and
ORs the day fields):

- 5 fields: minute hour day-of-month month day-of-week;
  6 fields: minute hour day-of-month month day-of-week year;
  7 fields: second minute hour day-of-month month day-of-week year.
- each field: `*` (or `?`), `x`, `x-z`, `x-z/y`, `x/y` (x to the field's maximum by y), `*/y`, and
  comma-separated lists of these; months by name (at least three letters: `JAN`, `sept`), days of
  week by name (at least two letters: `MON`, `tu`); day of week 7 is Sunday.
- day of month and day of week must both match.
- a `CRON_TZ=Zone ` or `TZ=Zone ` prefix names the zone; `# …` to the end is a comment.
- `@yearly @annually @monthly @weekly @daily @midnight @hourly`, and `@every <duration>[/<phase>]`
  (Go durations with `d` for 24 h: `90m`, `1h30m`, `1d/6h`), which is an interval, not a calendar.

Errors are `CronError` with a message that says what is wrong; the caller names the field.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import timedelta

from wf.v1 import schedule_pb2

from .calendar import MAX_YEAR, MIN_YEAR


class CronError(ValueError):
    """A cron string that cannot be compiled; the message says why."""


@dataclass(frozen=True)
class CompiledCron:
    """What one cron string means: a calendar or an interval, and the zone it named (None: none)."""

    calendar: schedule_pb2.StructuredCalendarSpec | None
    interval: schedule_pb2.IntervalSpec | None
    timezone_name: str | None


_PREDEFINED = {
    "@yearly": "0 0 1 1 *",
    "@annually": "0 0 1 1 *",
    "@monthly": "0 0 1 * *",
    "@weekly": "0 0 * * 0",
    "@daily": "0 0 * * *",
    "@midnight": "0 0 * * *",
    "@hourly": "0 * * * *",
}

_MONTHS = ("january", "february", "march", "april", "may", "june", "july", "august", "september",
           "october", "november", "december")  # fmt: skip
_DAYS = ("sunday", "monday", "tuesday", "wednesday", "thursday", "friday", "saturday")

_FIELD_FORMS = (
    "expected 5 fields (minute hour day-of-month month day-of-week), 6 (… year) "
    "or 7 (second minute hour day-of-month month day-of-week year), or @every, @hourly, @daily, "
    "@weekly, @monthly, @yearly"
)


def compile_cron(text: str) -> CompiledCron:
    """Compile one cron string. Raises CronError."""
    c = text.strip()
    tz: str | None = None
    if c.startswith(("TZ=", "CRON_TZ=")):
        head, sep, rest = c.partition(" ")
        if not sep or not rest.strip():
            raise CronError(f"{text!r} names a time zone but has no fields")
        tz = head.partition("=")[2]
        if not tz:
            raise CronError(f"{text!r} has an empty {head}")
        c = rest
    c, _, comment = c.partition("#")
    c, comment = c.strip(), comment.strip()
    if c.startswith("@every"):
        return CompiledCron(None, _compile_every(c), tz)
    c = _PREDEFINED.get(c, c)
    if c.startswith("@"):
        raise CronError(f"unknown descriptor {c.split()[0]!r}; {_FIELD_FORMS}")
    toks = c.split()
    if len(toks) == 5:
        second, (minute, hour, dom, month, dow), year = "0", toks, "*"
    elif len(toks) == 6:
        second, (minute, hour, dom, month, dow, year) = "0", toks
    elif len(toks) == 7:
        second, minute, hour, dom, month, dow, year = toks
    else:
        raise CronError(f"{c!r} has {len(toks)} fields; {_FIELD_FORMS}")
    cal = schedule_pb2.StructuredCalendarSpec(comment=comment)
    cal.second.extend(_field(second, "second", 0, 59))
    cal.minute.extend(_field(minute, "minute", 0, 59))
    cal.hour.extend(_field(hour, "hour", 0, 23))
    cal.day_of_month.extend(_field(dom, "day of month", 1, 31))
    cal.month.extend(_field(month, "month", 1, 12, names=_MONTHS, min_name=3))
    cal.day_of_week.extend(_field(dow, "day of week", 0, 7, names=_DAYS, min_name=2))
    if year not in ("*", "?"):
        cal.year.extend(_field(year, "year", MIN_YEAR, MAX_YEAR))
    return CompiledCron(cal, None, tz)


def _field(
    text: str, name: str, lo: int, hi: int, *, names: tuple[str, ...] = (), min_name: int = 0
) -> list[schedule_pb2.Range]:
    """One cron field as canonical ranges (end ≥ start, step ≥ 1)."""
    ranges: list[schedule_pb2.Range] = []
    for part in text.split(","):
        body, slash, step_text = part.partition("/")
        step = 1
        if slash:
            if "/" in step_text:
                raise CronError(f"{name} {text!r} has more than one '/'")
            if not step_text.isdigit() or int(step_text) < 1:
                raise CronError(f"{name} {text!r}: the step after '/' must be a positive integer")
            step = int(step_text)
        if body in ("*", "?"):
            start, end = lo, hi
        elif "-" in body:
            a, _, b = body.partition("-")
            if "-" in b:
                raise CronError(f"{name} {text!r} has more than one '-' in a range")
            start = _value(a, text, name, lo, hi, names, min_name)
            end = _value(b, text, name, lo, hi, names, min_name)
            if end < start:
                raise CronError(f"{name} {text!r}: the range {body!r} ends before it starts")
        else:
            start = _value(body, text, name, lo, hi, names, min_name)
            end = hi if slash else start
        if names is _DAYS and end == 7:
            # 7 is Sunday, which the model spells 0: when the range reaches 7 on its step, Sunday
            # joins it (1-7 becomes 0-6; 5-7 becomes 0 and 5-6), unless it starts at 0 already.
            # (Temporal's compiler drops Sunday from 1-7; wf keeps it, as the string says.)
            if (7 - start) % step == 0 and start > 0:
                if step == 1 and start == 1:
                    start = 0
                else:
                    ranges.append(schedule_pb2.Range(start=0, end=0, step=1))
                    if start == 7:
                        continue
            end = 6
        ranges.append(schedule_pb2.Range(start=start, end=end, step=step))
    return ranges


def _value(s: str, text: str, name: str, lo: int, hi: int, names: tuple[str, ...], min_name: int) -> int:
    if names and len(s) >= min_name and s.isalpha():
        low = s.lower()
        for i, full in enumerate(names):
            if full.startswith(low):
                return i + 1 if names is _MONTHS else i
        raise CronError(f"{name} {text!r}: {s!r} is not a {name} name")
    if not s.isdigit():
        allowed = f"a number {lo}-{hi}" + (f" or a name such as {names[1][:3].upper()!r}" if names else "")
        raise CronError(f"{name} {text!r}: {s!r} is not {allowed}")
    v = int(s)
    if not lo <= v <= hi:
        raise CronError(f"{name} {text!r}: {v} is out of range {lo}-{hi}")
    return v


_DURATION_PART = re.compile(r"(\d+(?:\.\d*)?|\.\d+)(ns|us|µs|μs|ms|s|m|h|d)")
_UNITS = {
    "ns": timedelta(microseconds=0.001),
    "us": timedelta(microseconds=1),
    "µs": timedelta(microseconds=1),
    "μs": timedelta(microseconds=1),
    "ms": timedelta(milliseconds=1),
    "s": timedelta(seconds=1),
    "m": timedelta(minutes=1),
    "h": timedelta(hours=1),
    "d": timedelta(days=1),
}


def parse_go_duration(s: str) -> timedelta:
    """A Go duration as Temporal reads one (`1h30m`, `90s`, `1.5h`, `2d`; `d` is 24 hours)."""
    if s == "0":
        return timedelta(0)
    pos, total = 0, timedelta(0)
    while pos < len(s):
        m = _DURATION_PART.match(s, pos)
        if m is None:
            raise CronError(f"{s!r} is not a duration (such as 90m, 1h30m, 1d)")
        total += float(m.group(1)) * _UNITS[m.group(2)]
        pos = m.end()
    if not s:
        raise CronError("missing duration (such as 90m, 1h30m, 1d)")
    return total


def _compile_every(c: str) -> schedule_pb2.IntervalSpec:
    parts = c.split()
    if parts[0] != "@every" or len(parts) != 2:
        raise CronError(f"{c!r}: expected '@every <duration>[/<phase>]', e.g. '@every 90m' or '@every 1h/15m'")
    every, _, phase = parts[1].partition("/")
    iv = schedule_pb2.IntervalSpec()
    iv.interval.FromTimedelta(parse_go_duration(every))
    if phase:
        iv.phase.FromTimedelta(parse_go_duration(phase))
    return iv
