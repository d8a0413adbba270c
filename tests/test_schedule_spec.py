"""Schedule specs: validation, canonical form and Temporal's cron dialect (pure, no server)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from wf.history.errors import InvalidArgument
from wf.history.schedules import SpecTimes, canonical_spec
from wf.v1 import schedule_pb2 as pb


def rng(start: int, end: int | None = None, step: int = 1) -> pb.Range:
    return pb.Range(start=start, end=start if end is None else end, step=step)


def cron(*strings: str, **fields: object) -> pb.ScheduleSpec:
    return canonical_spec(pb.ScheduleSpec(cron_string=list(strings), **fields))  # type: ignore[arg-type]


def only_calendar(spec: pb.ScheduleSpec) -> pb.StructuredCalendarSpec:
    assert not spec.cron_string
    assert len(spec.structured_calendar) == 1, spec
    return spec.structured_calendar[0]


def values(ranges: object) -> list[tuple[int, int, int]]:
    return [(r.start, r.end, r.step) for r in ranges]  # type: ignore[attr-defined]


def interval(seconds: int, phase: int = 0) -> pb.IntervalSpec:
    iv = pb.IntervalSpec()
    iv.interval.FromSeconds(seconds)
    if phase:
        iv.phase.FromSeconds(phase)
    return iv


def at(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)  # type: ignore[misc]


# -- cron strings compile into one calendar model


def test_five_fields_are_minute_hour_dom_month_dow() -> None:
    cal = only_calendar(cron("15 9 * * MON-FRI"))
    assert values(cal.second) == [(0, 0, 1)]
    assert values(cal.minute) == [(15, 15, 1)]
    assert values(cal.hour) == [(9, 9, 1)]
    assert values(cal.day_of_month) == [(1, 31, 1)]
    assert values(cal.month) == [(1, 12, 1)]
    assert values(cal.day_of_week) == [(1, 5, 1)]
    assert values(cal.year) == []  # every year


def test_sixth_field_is_the_year_not_seconds() -> None:
    cal = only_calendar(cron("0 12 1 1 * 2030"))
    assert values(cal.year) == [(2030, 2030, 1)]
    assert values(cal.second) == [(0, 0, 1)]
    times = SpecTimes(cron("0 12 1 1 * 2030"))
    assert times.next_after(at(2026, 12, 5)) == at(2030, 1, 1, 12)
    assert times.next_after(at(2030, 1, 1, 12)) is None


def test_seven_fields_start_with_seconds() -> None:
    cal = only_calendar(cron("*/20 30 12 * * * 2027-2028"))
    assert values(cal.second) == [(0, 59, 20)]
    assert values(cal.minute) == [(30, 30, 1)]
    assert values(cal.year) == [(2027, 2028, 1)]
    times = list(SpecTimes(cron("*/20 30 12 * * * 2027-2028")).between(at(2026, 1, 1), at(2027, 1, 1, 12, 31)))
    assert times == [at(2027, 1, 1, 12, 30, 0), at(2027, 1, 1, 12, 30, 20), at(2027, 1, 1, 12, 30, 40)]


def test_names_lists_steps_and_question_mark() -> None:
    assert values(only_calendar(cron("10-50/5 * * * *")).minute) == [(10, 50, 5)]
    cal = only_calendar(cron("*/15 8-20/4 ? jan-Mar,DEC,sept sun,We"))
    assert values(cal.minute) == [(0, 59, 15)]
    assert values(cal.hour) == [(8, 20, 4)]
    assert values(cal.day_of_month) == [(1, 31, 1)]
    assert values(cal.month) == [(1, 3, 1), (12, 12, 1), (9, 9, 1)]
    assert values(cal.day_of_week) == [(0, 0, 1), (3, 3, 1)]
    # x/y runs from x to the field's maximum
    assert values(only_calendar(cron("5/20 * * * *")).minute) == [(5, 59, 20)]


@pytest.mark.parametrize(
    ("field", "expected"),
    [
        ("7", [(0, 0, 1)]),
        ("0-7", [(0, 6, 1)]),
        ("1-7", [(0, 6, 1)]),
        ("5-7", [(0, 0, 1), (5, 6, 1)]),
        ("3-7/3", [(3, 6, 3)]),
        ("1-7/2", [(0, 0, 1), (1, 6, 2)]),
        ("SAT,7", [(6, 6, 1), (0, 0, 1)]),
    ],
)
def test_day_of_week_7_is_sunday(field: str, expected: list[tuple[int, int, int]]) -> None:
    assert values(only_calendar(cron(f"0 0 * * {field}")).day_of_week) == expected


@pytest.mark.parametrize(
    ("text", "minute", "hour", "dom", "month", "dow"),
    [
        ("@yearly", 0, 0, (1, 1, 1), (1, 1, 1), (0, 6, 1)),
        ("@annually", 0, 0, (1, 1, 1), (1, 1, 1), (0, 6, 1)),
        ("@monthly", 0, 0, (1, 1, 1), (1, 12, 1), (0, 6, 1)),
        ("@weekly", 0, 0, (1, 31, 1), (1, 12, 1), (0, 0, 1)),
        ("@daily", 0, 0, (1, 31, 1), (1, 12, 1), (0, 6, 1)),
        ("@midnight", 0, 0, (1, 31, 1), (1, 12, 1), (0, 6, 1)),
    ],
)
def test_descriptors(
    text: str,
    minute: int,
    hour: int,
    dom: tuple[int, int, int],
    month: tuple[int, int, int],
    dow: tuple[int, int, int],
) -> None:
    cal = only_calendar(cron(text))
    assert values(cal.minute) == [(minute, minute, 1)]
    assert values(cal.hour) == [(hour, hour, 1)]
    assert values(cal.day_of_month) == [dom]
    assert values(cal.month) == [month]
    assert values(cal.day_of_week) == [dow]


def test_hourly() -> None:
    cal = only_calendar(cron("@hourly"))
    assert values(cal.minute) == [(0, 0, 1)]
    assert values(cal.hour) == [(0, 23, 1)]


@pytest.mark.parametrize(
    ("text", "every", "phase"),
    [
        ("@every 90m", 5400, 0),
        ("@every 1h/15m", 3600, 900),
        ("@every 1h30m", 5400, 0),
        ("@every 1d/6h", 86400, 21600),
        ("@every 1.5h", 5400, 0),
        ("@every 10s # ten seconds", 10, 0),
    ],
)
def test_every_becomes_an_interval(text: str, every: int, phase: int) -> None:
    spec = cron(text)
    assert not spec.structured_calendar and not spec.cron_string
    assert [(iv.interval.ToSeconds(), iv.phase.ToSeconds()) for iv in spec.interval] == [(every, phase)]


def test_time_zone_prefix_and_comment() -> None:
    spec = cron("CRON_TZ=Europe/Berlin 0 9 * * * # morning report")
    assert spec.timezone_name == "Europe/Berlin"
    assert only_calendar(spec).comment == "morning report"
    assert cron("TZ=America/New_York 0 9 * * *").timezone_name == "America/New_York"
    # the same zone in timezone_name and in the cron strings is no conflict
    spec = cron("TZ=Asia/Tokyo 0 9 * * *", "TZ=Asia/Tokyo @every 2h", timezone_name="Asia/Tokyo")
    assert spec.timezone_name == "Asia/Tokyo"
    assert len(spec.structured_calendar) == 1 and len(spec.interval) == 1


def test_cron_strings_join_the_structured_calendars_and_intervals() -> None:
    spec = canonical_spec(
        pb.ScheduleSpec(
            structured_calendar=[pb.StructuredCalendarSpec(hour=[rng(3)])],
            cron_string=["0 4 * * *", "@every 2h"],
            interval=[interval(600)],
        )
    )
    assert [values(c.hour) for c in spec.structured_calendar] == [[(3, 3, 1)], [(4, 4, 1)]]
    assert [iv.interval.ToSeconds() for iv in spec.interval] == [600, 7200]
    assert not spec.cron_string


# -- canonical form


def test_empty_calendar_fields_get_their_defaults() -> None:
    spec = canonical_spec(pb.ScheduleSpec(structured_calendar=[pb.StructuredCalendarSpec(hour=[rng(5)])]))
    cal = only_calendar(spec)
    assert values(cal.second) == [(0, 0, 1)]
    assert values(cal.minute) == [(0, 0, 1)]
    assert values(cal.day_of_month) == [(1, 31, 1)]
    assert values(cal.month) == [(1, 12, 1)]
    assert values(cal.year) == []
    assert values(cal.day_of_week) == [(0, 6, 1)]


def test_ranges_are_normalised() -> None:
    spec = canonical_spec(
        pb.ScheduleSpec(
            exclude_structured_calendar=[
                pb.StructuredCalendarSpec(minute=[pb.Range(start=30, end=10), pb.Range(start=0, end=59, step=0)])
            ]
        )
    )
    assert values(spec.exclude_structured_calendar[0].minute) == [(30, 30, 1), (0, 59, 1)]


SPECS = [
    pb.ScheduleSpec(cron_string=["CRON_TZ=Europe/Berlin 0 9 * * MON-FRI # x", "TZ=Europe/Berlin @every 1h/5m"]),
    pb.ScheduleSpec(
        structured_calendar=[pb.StructuredCalendarSpec(hour=[pb.Range(start=9, end=1)], comment="c")],
        exclude_structured_calendar=[pb.StructuredCalendarSpec(day_of_week=[rng(0), rng(6)])],
        interval=[interval(3600, 60)],
        timezone_name="America/New_York",
    ),
    pb.ScheduleSpec(cron_string=["@weekly", "0 0 * * 7 2030"]),
]


@pytest.mark.parametrize("spec", SPECS)
def test_canonical_is_idempotent_and_leaves_the_input_alone(spec: pb.ScheduleSpec) -> None:
    before = spec.SerializeToString(deterministic=True)
    once = canonical_spec(spec)
    assert spec.SerializeToString(deterministic=True) == before
    assert canonical_spec(once) == once
    # the canonical spec names the same times
    start = at(2026, 1, 1)
    assert list(SpecTimes(once).between(start, start + timedelta(days=20))) == list(
        SpecTimes(canonical_spec(once)).between(start, start + timedelta(days=20))
    )


def test_jitter_zero_is_cleared_and_times_are_kept() -> None:
    spec = pb.ScheduleSpec(interval=[interval(60)])
    spec.jitter.FromSeconds(0)
    spec.start_time.FromDatetime(datetime(2026, 1, 1))
    out = canonical_spec(spec)
    assert not out.HasField("jitter")
    assert out.start_time == spec.start_time


# -- bad specs: InvalidArgument naming the field, saying what is allowed


def _bad_specs() -> list[tuple[pb.ScheduleSpec, str]]:
    def with_interval(seconds: float, phase: float = 0, index: int = 0) -> pb.ScheduleSpec:
        spec = pb.ScheduleSpec(interval=[interval(60)] * index)
        iv = spec.interval.add()
        iv.interval.FromTimedelta(timedelta(seconds=seconds))
        iv.phase.FromTimedelta(timedelta(seconds=phase))
        return spec

    def cal(**fields: list[pb.Range]) -> pb.ScheduleSpec:
        return pb.ScheduleSpec(structured_calendar=[pb.StructuredCalendarSpec(**fields)])  # type: ignore[arg-type]

    times = pb.ScheduleSpec(interval=[interval(60)])
    times.start_time.FromDatetime(datetime(2026, 6, 1))
    times.end_time.FromDatetime(datetime(2026, 5, 1))
    jitter = pb.ScheduleSpec(interval=[interval(60)])
    jitter.jitter.FromTimedelta(timedelta(seconds=-1))
    return [
        (pb.ScheduleSpec(cron_string=["0 0 * *"]), "schedule.spec.cron_string[0]: '0 0 * *' has 4 fields; expected 5"),
        (pb.ScheduleSpec(cron_string=["* * * * * * * *"]), "schedule.spec.cron_string[0]: "),
        (
            pb.ScheduleSpec(cron_string=["@hourly", "61 * * * *"]),
            "cron_string[1]: minute '61': 61 is out of range 0-59",
        ),
        (pb.ScheduleSpec(cron_string=["0 24 * * *"]), "cron_string[0]: hour '24': 24 is out of range 0-23"),
        (pb.ScheduleSpec(cron_string=["0 0 0 * *"]), "cron_string[0]: day of month '0': 0 is out of range 1-31"),
        (pb.ScheduleSpec(cron_string=["0 0 * 13 *"]), "cron_string[0]: month '13': 13 is out of range 1-12"),
        (pb.ScheduleSpec(cron_string=["0 0 * * 8"]), "cron_string[0]: day of week '8': 8 is out of range 0-7"),
        (
            pb.ScheduleSpec(cron_string=["0 0 * * * 1999"]),
            "cron_string[0]: year '1999': 1999 is out of range 2000-2100",
        ),
        (pb.ScheduleSpec(cron_string=["0 0 * FOO *"]), "cron_string[0]: month 'FOO': 'FOO' is not a month name"),
        (pb.ScheduleSpec(cron_string=["0 0 * * X"]), "cron_string[0]: day of week 'X': 'X' is not a number 0-7"),
        (pb.ScheduleSpec(cron_string=["*/0 * * * *"]), "cron_string[0]: minute '*/0': the step after '/' must be"),
        (pb.ScheduleSpec(cron_string=["1/2/3 * * * *"]), "cron_string[0]: minute '1/2/3' has more than one '/'"),
        (pb.ScheduleSpec(cron_string=["1-2-3 * * * *"]), "cron_string[0]: minute '1-2-3' has more than one '-'"),
        (
            pb.ScheduleSpec(cron_string=["50-10 * * * *"]),
            "cron_string[0]: minute '50-10': the range '50-10' ends before",
        ),
        (pb.ScheduleSpec(cron_string=["@fortnightly"]), "cron_string[0]: unknown descriptor '@fortnightly'"),
        (pb.ScheduleSpec(cron_string=["@every 0s"]), "schedule.spec.cron_string[0].interval: must be positive"),
        (pb.ScheduleSpec(cron_string=["@every soon"]), "cron_string[0]: 'soon' is not a duration"),
        (pb.ScheduleSpec(cron_string=["@every 1h/2h"]), "cron_string[0].phase: 2:00:00 must be less than the interval"),
        (pb.ScheduleSpec(cron_string=["@every"]), "cron_string[0]: '@every': expected '@every <duration>"),
        (pb.ScheduleSpec(cron_string=["TZ=Europe/Berlin"]), "cron_string[0]: 'TZ=Europe/Berlin' names a time zone"),
        (pb.ScheduleSpec(cron_string=["CRON_TZ=Mars/Base 0 0 * * *"]), "cron_string[0]: unknown time zone 'Mars/Base'"),
        (
            pb.ScheduleSpec(cron_string=["TZ=Europe/Berlin 0 0 * * *", "0 1 * * *"]),
            "cron_string[1]: time zone 'none' differs from 'Europe/Berlin'",
        ),
        (
            pb.ScheduleSpec(cron_string=["TZ=Europe/Berlin 0 0 * * *"], timezone_name="UTC"),
            "schedule.spec.cron_string[0]: time zone 'Europe/Berlin' conflicts with schedule.spec.timezone_name 'UTC'",
        ),
        (pb.ScheduleSpec(timezone_name="Mars/Base"), "schedule.spec.timezone_name: unknown time zone 'Mars/Base'"),
        (pb.ScheduleSpec(timezone_name="../etc/passwd"), "schedule.spec.timezone_name: unknown time zone"),
        (with_interval(0), "schedule.spec.interval[0].interval: must be positive"),
        (with_interval(-5, index=1), "schedule.spec.interval[1].interval: must be positive"),
        (with_interval(1.5), "schedule.spec.interval[0].interval: 1.500s must be a whole number of seconds"),
        (
            pb.ScheduleSpec(interval=[pb.IntervalSpec(interval={"seconds": 1, "nanos": 1})]),
            "schedule.spec.interval[0].interval: 1.000000001s must be a whole number of seconds",
        ),
        (with_interval(60, 60, index=1), "schedule.spec.interval[1].phase: 0:01:00 must be less than the interval"),
        (with_interval(60, -1), "schedule.spec.interval[0].phase: must not be negative"),
        (with_interval(60, 0.5), "schedule.spec.interval[0].phase: 0.500s must be a whole number"),
        (times, "schedule.spec.end_time: before start_time"),
        (jitter, "schedule.spec.jitter: must not be negative"),
        (cal(hour=[rng(25)]), "schedule.spec.structured_calendar[0].hour: 25 is out of range 0-23"),
        (cal(second=[rng(0, 60)]), "schedule.spec.structured_calendar[0].second: end 60 is out of range 0-59"),
        (cal(day_of_month=[rng(0)]), "schedule.spec.structured_calendar[0].day_of_month: 0 is out of range 1-31"),
        (cal(year=[rng(1999)]), "schedule.spec.structured_calendar[0].year: 1999 is out of range 2000-2100"),
        (cal(minute=[rng(0, 59, -5)]), "schedule.spec.structured_calendar[0].minute: step -5 must be positive"),
        (
            pb.ScheduleSpec(exclude_structured_calendar=[pb.StructuredCalendarSpec(day_of_week=[rng(7)])]),
            "schedule.spec.exclude_structured_calendar[0].day_of_week: 7 is out of range 0-6",
        ),
        (
            pb.ScheduleSpec(structured_calendar=[pb.StructuredCalendarSpec(comment="x" * 201)]),
            "schedule.spec.structured_calendar[0].comment: longer than 200 characters",
        ),
    ]


@pytest.mark.parametrize(("spec", "message"), _bad_specs())
def test_bad_specs_name_the_field(spec: pb.ScheduleSpec, message: str) -> None:
    before = spec.SerializeToString(deterministic=True)
    with pytest.raises(InvalidArgument) as caught:
        canonical_spec(spec)
    assert message in str(caught.value)
    assert str(caught.value).startswith("schedule.spec.")
    assert spec.SerializeToString(deterministic=True) == before


def test_the_caller_chooses_the_field_prefix() -> None:
    with pytest.raises(InvalidArgument, match=r"^request\.schedule\.spec\.interval\[0\]\.interval: must be positive"):
        canonical_spec(pb.ScheduleSpec(interval=[pb.IntervalSpec()]), "request.schedule.spec")
