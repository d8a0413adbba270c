"""The times a schedule spec names: intervals, calendars, daylight saving, bounds, excludes, jitter.

Pure and fast. The property tests check `SpecTimes` against an oracle written from the definition:
walk every second of a window, read its wall clock in the zone, and keep the instants whose fields
are all in the calendar's sets.
"""

from __future__ import annotations

import time
from collections.abc import Iterable, Sequence
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from wf.history.schedules import SpecTimes, canonical_spec
from wf.v1 import schedule_pb2 as pb

NY = ZoneInfo("America/New_York")
BERLIN = ZoneInfo("Europe/Berlin")


def at(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)  # type: ignore[misc]


def local(zone: ZoneInfo, *args: int, fold: int = 0) -> datetime:
    return datetime(*args, tzinfo=zone, fold=fold).astimezone(UTC)  # type: ignore[misc]


def times_of(spec: pb.ScheduleSpec) -> SpecTimes:
    return SpecTimes(canonical_spec(spec))


def cron(*strings: str, **fields: object) -> SpecTimes:
    return times_of(pb.ScheduleSpec(cron_string=list(strings), **fields))  # type: ignore[arg-type]


def every(seconds: int, phase: int = 0) -> pb.IntervalSpec:
    iv = pb.IntervalSpec()
    iv.interval.FromSeconds(seconds)
    iv.phase.FromSeconds(phase)
    return iv


def rng(start: int, end: int | None = None, step: int = 1) -> pb.Range:
    return pb.Range(start=start, end=start if end is None else end, step=step)


def first(times: SpecTimes, after: datetime, n: int) -> list[datetime]:
    out: list[datetime] = []
    t: datetime | None = after
    while len(out) < n:
        assert t is not None
        t = times.next_after(t)
        if t is None:
            break
        out.append(t)
    return out


# -- intervals


def test_intervals_are_anchored_at_the_epoch_not_at_creation() -> None:
    spec = pb.ScheduleSpec(interval=[every(3600, 900)])
    a, b = times_of(spec), times_of(spec)  # two schedules made at different moments
    assert a.next_after(at(2026, 12, 5, 10, 40)) == at(2026, 12, 5, 11, 15)
    assert a.next_after(at(2026, 12, 5, 11, 15)) == at(2026, 12, 5, 12, 15)
    assert a.next_after(at(2026, 12, 5, 11, 14, 59, 999999)) == at(2026, 12, 5, 11, 15)
    window = (at(2026, 12, 5), at(2026, 12, 6))
    assert list(a.between(*window)) == list(b.between(*window))
    ones = times_of(pb.ScheduleSpec(interval=[every(1)]))
    for t in (at(2026, 12, 5, 12, 0, 0, 999999), at(2099, 12, 31, 23, 59, 57, 999999)):
        assert ones.next_after(t) == t.replace(microsecond=0) + timedelta(seconds=1)
    sevens = list(times_of(pb.ScheduleSpec(interval=[every(7)])).between(at(2026, 12, 5), at(2026, 12, 5, 0, 5)))
    assert len(sevens) == 300 // 7 + 1
    assert all(int(t.timestamp()) % 7 == 0 for t in sevens)
    assert all(b - a == timedelta(seconds=7) for a, b in zip(sevens, sevens[1:], strict=False))


def test_every_with_phase_from_a_cron_string() -> None:
    times = cron("@every 1h/15m")
    assert first(times, at(2026, 12, 5, 10, 40), 3) == [
        at(2026, 12, 5, 11, 15),
        at(2026, 12, 5, 12, 15),
        at(2026, 12, 5, 13, 15),
    ]
    # a day is 24 hours from the epoch, in UTC whatever the zone
    assert cron("TZ=Asia/Tokyo @every 1d/6h").next_after(at(2026, 12, 5, 7)) == at(2026, 12, 6, 6)


# -- calendars


def test_a_weekday_cron() -> None:
    times = cron("15 9 * * MON-FRI")
    # 2026-12-05 is a Saturday
    assert first(times, at(2026, 12, 5), 6) == [at(2026, 12, d, 9, 15) for d in (7, 8, 9, 10, 11, 14)]


def test_across_month_and_year_ends() -> None:
    assert cron("0 0 1 * *").next_after(at(2026, 12, 31, 12)) == at(2027, 1, 1)
    assert cron("30 23 31 12 *").next_after(at(2026, 12, 31, 23, 30)) == at(2027, 12, 31, 23, 30)
    assert cron("0 12 L * *" if False else "59 23 28-31 2 *").next_after(at(2027, 2, 28, 23, 59)) == at(
        2028, 2, 28, 23, 59
    )


def test_february_29() -> None:
    times = cron("0 0 29 2 *")
    assert first(times, at(2026, 3, 1), 3) == [at(2028, 2, 29), at(2032, 2, 29), at(2036, 2, 29)]
    # 2100 is no leap year, and nothing lies past 2100
    assert times.next_after(at(2096, 3, 1)) is None


def test_the_31st_of_every_month_skips_shorter_months() -> None:
    times = cron("0 6 31 * *")
    months = [t.month for t in first(times, at(2026, 1, 1), 7)]
    assert months == [1, 3, 5, 7, 8, 10, 12]


def test_day_of_week_only() -> None:
    assert cron("0 9 * * FRI").next_after(at(2026, 12, 5)) == at(2026, 12, 11, 9)
    assert first(cron("0 0 * * 7"), at(2026, 12, 5), 2) == [at(2026, 12, 6), at(2026, 12, 13)]


@pytest.mark.parametrize("dow", ["0", "7", "sun", "*", "0-3", "5-7", "5-7/2", "6-7", "2-7/5", "0-7/7", "0/7", "1-7"])
def test_every_spelling_of_sunday_matches_sunday(dow: str) -> None:
    # 2026-12-06 is a Sunday
    assert cron(f"0 0 * * {dow}").next_after(at(2026, 12, 5, 23)) == at(2026, 12, 6)


def test_day_of_month_and_day_of_week_are_both_required() -> None:
    times = cron("0 0 13 * FRI")  # Friday the 13th, not every 13th and every Friday
    expected = []
    d = date(2026, 12, 5)
    while len(expected) < 4:
        d += timedelta(days=1)
        if d.day == 13 and d.isoweekday() == 5:
            expected.append(at(d.year, d.month, d.day))
    assert first(times, at(2026, 12, 5), 4) == expected


def test_seconds_in_the_seven_field_form() -> None:
    times = cron("*/20 * * * * * *")
    assert first(times, at(2026, 12, 5, 10, 0, 30), 3) == [
        at(2026, 12, 5, 10, 0, 40),
        at(2026, 12, 5, 10, 1, 0),
        at(2026, 12, 5, 10, 1, 20),
    ]


def test_structured_calendar_with_steps_and_years() -> None:
    spec = pb.ScheduleSpec(
        structured_calendar=[
            pb.StructuredCalendarSpec(minute=[rng(0, 59, 30)], hour=[rng(8, 9)], year=[rng(2027), rng(2029)])
        ]
    )
    times = times_of(spec)
    assert first(times, at(2026, 12, 31), 5) == [
        at(2027, 1, 1, 8),
        at(2027, 1, 1, 8, 30),
        at(2027, 1, 1, 9),
        at(2027, 1, 1, 9, 30),
        at(2027, 1, 2, 8),
    ]
    assert times.next_after(at(2027, 12, 31, 10)) == at(2029, 1, 1, 8)
    assert times.next_after(at(2029, 12, 31, 10)) is None


def test_several_calendars_and_intervals_are_a_union_without_duplicates() -> None:
    times = times_of(
        pb.ScheduleSpec(
            cron_string=["0 * * * *", "*/30 * * * *"],
            interval=[every(900), every(3600)],
        )
    )
    got = list(times.between(at(2026, 12, 5, 10), at(2026, 12, 5, 11)))
    assert got == [at(2026, 12, 5, 10, m) for m in (0, 15, 30, 45)] + [at(2026, 12, 5, 11)]


def test_nothing_matches_a_calendar_that_cannot_happen() -> None:
    assert cron("0 0 30 2 *").next_after(at(2026, 1, 1)) is None
    assert list(cron("0 0 31 4 *").between(at(2026, 1, 1), at(2030, 1, 1))) == []


# -- start, end, excludes


def test_start_and_end_are_inclusive() -> None:
    spec = pb.ScheduleSpec(interval=[every(60)])
    spec.start_time.FromDatetime(datetime(2026, 12, 5, 10, 0))
    spec.end_time.FromDatetime(datetime(2026, 12, 5, 10, 5))
    times = times_of(spec)
    assert list(times.between(at(2026, 12, 5, 9), at(2026, 12, 5, 11))) == [at(2026, 12, 5, 10, m) for m in range(6)]
    assert times.next_after(at(2020, 1, 1)) == at(2026, 12, 5, 10, 0)
    assert times.next_after(at(2026, 12, 5, 10, 4, 59)) == at(2026, 12, 5, 10, 5)
    assert times.next_after(at(2026, 12, 5, 10, 5)) is None


def test_a_start_with_a_fraction_of_a_second_is_not_undercut() -> None:
    spec = pb.ScheduleSpec(cron_string=["* * * * * * *"])  # every second
    spec.start_time.FromDatetime(datetime(2026, 12, 5, 10, 0, 0, 500000))
    assert times_of(spec).next_after(at(2026, 12, 5)) == at(2026, 12, 5, 10, 0, 1)


def test_between_includes_both_ends() -> None:
    times = cron("*/10 * * * *")
    assert list(times.between(at(2026, 12, 5, 10, 10), at(2026, 12, 5, 10, 30))) == [
        at(2026, 12, 5, 10, 10),
        at(2026, 12, 5, 10, 20),
        at(2026, 12, 5, 10, 30),
    ]
    assert list(times.between(at(2026, 12, 5, 10, 10), at(2026, 12, 5, 10, 10))) == [at(2026, 12, 5, 10, 10)]
    assert list(times.between(at(2026, 12, 5, 10, 11), at(2026, 12, 5, 10, 19))) == []


def test_excludes_remove_times() -> None:
    spec = pb.ScheduleSpec(
        cron_string=["0 * * * *"],
        exclude_structured_calendar=[
            pb.StructuredCalendarSpec(hour=[rng(12, 13)], minute=[rng(0, 59)]),  # lunch
            pb.StructuredCalendarSpec(hour=[rng(0, 23)], day_of_week=[rng(0), rng(6)]),  # weekends
        ],
    )
    times = times_of(spec)
    got = list(times.between(at(2026, 12, 4, 10), at(2026, 12, 7, 1)))  # Friday 10:00 to Monday 01:00
    assert got == [at(2026, 12, 4, h) for h in (10, 11, 14, 15, 16, 17, 18, 19, 20, 21, 22, 23)] + [
        at(2026, 12, 7, 0),
        at(2026, 12, 7, 1),
    ]


def test_excluded_stretches_are_jumped_not_walked() -> None:
    every_second = pb.ScheduleSpec(
        cron_string=["* * * * * * *"],
        exclude_structured_calendar=[
            pb.StructuredCalendarSpec(
                second=[rng(0, 59)], minute=[rng(0, 59)], hour=[rng(0, 23)], day_of_week=[rng(0), rng(6)]
            )
        ],
    )
    # Friday 2026-12-04 23:59:59 is followed by Monday 00:00:00, in UTC and in Berlin
    assert times_of(every_second).next_after(at(2026, 12, 4, 23, 59, 58)) == at(2026, 12, 4, 23, 59, 59)
    assert times_of(every_second).next_after(at(2026, 12, 4, 23, 59, 59)) == at(2026, 12, 7)
    every_second.timezone_name = "Europe/Berlin"
    assert times_of(every_second).next_after(local(BERLIN, 2026, 12, 4, 23, 59, 59)) == local(BERLIN, 2026, 12, 7)
    # a spec whose every time is excluded has none, and says so at once
    never = pb.ScheduleSpec(
        cron_string=["*/5 9-17 * * MON-FRI"],
        exclude_structured_calendar=[pb.StructuredCalendarSpec(minute=[rng(0, 59)], hour=[rng(0, 23)])],
    )
    began = time.perf_counter()
    assert times_of(never).next_after(at(2026, 12, 5)) is None
    assert time.perf_counter() - began < 1.0


def test_a_jump_over_an_excluded_stretch_does_not_skip_a_repeated_hour() -> None:
    # every minute but :59, in New York on the fall-back day: after 01:58 EDT comes 01:00 EST
    spec = pb.ScheduleSpec(
        cron_string=["* * * * *"],
        timezone_name="America/New_York",
        exclude_structured_calendar=[pb.StructuredCalendarSpec(minute=[rng(59)], hour=[rng(0, 23)])],
    )
    times = times_of(spec)
    assert times.next_after(local(NY, 2026, 11, 1, 1, 58)) == local(NY, 2026, 11, 1, 1, 0, fold=1)
    # and a day-long exclude ending inside a transition day still finds the day's times
    spec = pb.ScheduleSpec(
        cron_string=["0 * * * *"],
        timezone_name="America/New_York",
        exclude_structured_calendar=[pb.StructuredCalendarSpec(hour=[rng(0, 23)], day_of_month=[rng(31)])],
    )
    got = list(times_of(spec).between(local(NY, 2026, 10, 30, 23), local(NY, 2026, 11, 1, 3)))
    assert [(t.astimezone(NY).day, t.astimezone(NY).hour) for t in got] == [
        (30, 23),
        (1, 0),
        (1, 1),
        (1, 1),
        (1, 2),
        (1, 3),
    ]


# -- daylight saving: literal wall-clock times, as Temporal


def test_new_york_spring_forward_skips_0230() -> None:
    times = cron("30 2 * * *", timezone_name="America/New_York")
    assert first(times, at(2026, 3, 6), 3) == [
        local(NY, 2026, 3, 6, 2, 30),
        local(NY, 2026, 3, 7, 2, 30),
        local(NY, 2026, 3, 9, 2, 30),
    ]
    hourly = list(cron("CRON_TZ=America/New_York 0 * * * *").between(local(NY, 2026, 3, 8), local(NY, 2026, 3, 9)))
    assert len(hourly) == 24  # 23 hours that day, and the next midnight
    assert [t.astimezone(NY).hour for t in hourly[:4]] == [0, 1, 3, 4]


def test_new_york_fall_back_fires_0130_twice() -> None:
    times = cron("CRON_TZ=America/New_York 30 1 * * *")
    got = list(times.between(at(2026, 11, 1), at(2026, 11, 2)))
    assert got == [at(2026, 11, 1, 5, 30), at(2026, 11, 1, 6, 30)]  # 01:30 EDT, then 01:30 EST
    assert [t.astimezone(NY).utcoffset() for t in got] == [timedelta(hours=-4), timedelta(hours=-5)]
    # from inside the first 01:30 hour, the second pass still comes next
    assert times.next_after(local(NY, 2026, 11, 1, 1, 45)) == at(2026, 11, 1, 6, 30)
    assert times.next_after(at(2026, 11, 1, 6, 30)) == local(NY, 2026, 11, 2, 1, 30)
    hourly = list(cron("CRON_TZ=America/New_York 0 * * * *").between(local(NY, 2026, 11, 1), local(NY, 2026, 11, 2)))
    assert len(hourly) == 26  # 25 hours that day, and the next midnight


def test_berlin_transitions() -> None:
    times = cron("30 2 * * *", timezone_name="Europe/Berlin")
    spring = list(times.between(at(2026, 3, 28), at(2026, 3, 31)))
    assert [t.astimezone(BERLIN).day for t in spring] == [28, 30]
    autumn = list(times.between(at(2026, 10, 24, 12), at(2026, 10, 26)))
    assert autumn == [at(2026, 10, 25, 0, 30), at(2026, 10, 25, 1, 30)]


def test_excluding_a_repeated_wall_time_excludes_both() -> None:
    spec = pb.ScheduleSpec(
        cron_string=["*/30 * * * *"],
        timezone_name="America/New_York",
        exclude_structured_calendar=[pb.StructuredCalendarSpec(hour=[rng(1)], minute=[rng(30)])],
    )
    got = [t.astimezone(NY) for t in times_of(spec).between(at(2026, 11, 1, 4, 30), at(2026, 11, 1, 7))]
    assert [(t.hour, t.minute, t.utcoffset()) for t in got] == [
        (0, 30, timedelta(hours=-4)),
        (1, 0, timedelta(hours=-4)),
        (1, 0, timedelta(hours=-5)),
        (2, 0, timedelta(hours=-5)),
    ]


# -- jitter


def test_jitter_is_deterministic_bounded_and_spread() -> None:
    spec = pb.ScheduleSpec(cron_string=["*/5 * * * *"])
    spec.jitter.FromSeconds(60)
    a, b = times_of(spec), times_of(spec)
    nominals = list(a.between(at(2026, 12, 5), at(2026, 12, 6)))
    ja = [a.jitter(t, "reports") for t in nominals]
    assert ja == [b.jitter(t, "reports") for t in nominals]
    assert all(timedelta(0) <= j < timedelta(seconds=60) for j in ja)
    assert all(j % timedelta(milliseconds=1) == timedelta(0) for j in ja)
    assert len(set(ja)) > len(ja) // 2
    assert max(ja) > timedelta(seconds=40) and min(ja) < timedelta(seconds=20)
    # another schedule's key gives other delays
    assert [a.jitter(t, "billing") for t in nominals] != ja


def test_jitter_stops_short_of_the_following_time() -> None:
    spec = pb.ScheduleSpec(interval=[every(10)])
    spec.jitter.FromSeconds(3600)
    times = times_of(spec)
    js = [times.jitter(t, "k") for t in times.between(at(2026, 12, 5), at(2026, 12, 5, 1))]
    assert all(timedelta(0) <= j < timedelta(seconds=10) for j in js)
    assert max(js) > timedelta(seconds=5)


def test_a_spec_not_yet_canonical_is_read_as_its_canonical_form() -> None:
    raw = pb.ScheduleSpec(cron_string=["TZ=Europe/Berlin 0 9 * * *"])
    window = (at(2026, 12, 1), at(2026, 12, 8))
    assert list(SpecTimes(raw).between(*window)) == list(SpecTimes(canonical_spec(raw)).between(*window))
    assert len(list(SpecTimes(raw).between(*window))) == 7


def test_naive_datetimes_are_refused() -> None:
    with pytest.raises(ValueError, match="no time zone"):
        cron("* * * * *").next_after(datetime(2026, 12, 5))


def test_no_jitter_without_a_jitter() -> None:
    assert cron("* * * * *").jitter(at(2026, 12, 5), "k") == timedelta(0)


# -- properties against an oracle written from the definition

ZONES = ["UTC", "America/New_York", "Europe/Berlin", "Australia/Lord_Howe"]
# instants near daylight-saving transitions of those zones (Lord Howe moves by 30 minutes)
NEAR = [
    at(2026, 3, 8, 6),
    at(2026, 11, 1, 5, 30),
    at(2026, 3, 29, 0, 30),
    at(2026, 10, 25, 0, 30),
    at(2026, 4, 4, 14, 30),
    at(2026, 10, 3, 15),
    at(2026, 12, 31, 22),
    at(2028, 2, 28, 22),
]


def _subset(lo: int, hi: int, max_size: int) -> st.SearchStrategy[list[int]]:
    return st.lists(st.integers(lo, hi), min_size=1, max_size=max_size, unique=True)


def _ranges(values: Iterable[int]) -> list[pb.Range]:
    return [rng(v) for v in sorted(values)]


def _maybe_all(lo: int, hi: int, max_size: int, whole: bool) -> st.SearchStrategy[list[int]]:
    subset = _subset(lo, hi, max_size)
    return st.one_of(st.just(list(range(lo, hi + 1))), subset) if whole else subset


@st.composite
def calendars(
    draw: st.DrawFn, dense: bool, exclude: bool = False
) -> tuple[pb.StructuredCalendarSpec, dict[str, set[int]]]:
    """A random calendar, and its sets of values for the oracle. Excludes often cover a whole
    field, so that the search jumps over excluded minutes, hours and days."""
    second = set(draw(_maybe_all(0, 59, 8, exclude))) if dense else {0}
    if exclude and not dense and draw(st.booleans()):
        second = set(range(60))
    fields: dict[str, set[int]] = {
        "second": second,
        "minute": set(draw(_maybe_all(0, 59, 20, exclude))),
        "hour": set(draw(_maybe_all(0, 23, 24, exclude))),
        "day_of_month": set(draw(st.one_of(st.just(list(range(1, 32))), _subset(1, 31, 20)))),
        "month": set(draw(st.one_of(st.just(list(range(1, 13))), _subset(1, 12, 12)))),
        "day_of_week": set(draw(st.one_of(st.just(list(range(7))), _subset(0, 6, 6)))),
    }
    step = draw(st.integers(1, 4))
    cal = pb.StructuredCalendarSpec(**{name: _ranges(v) for name, v in fields.items()})  # type: ignore[arg-type]
    if draw(st.booleans()):  # the same hours as one stepped range, which must mean the same
        lo = min(fields["hour"])
        fields["hour"] = set(range(lo, 24, step))
        del cal.hour[:]
        cal.hour.append(pb.Range(start=lo, end=23, step=step))
    return cal, fields


def _matches(fields: dict[str, set[int]], wall: datetime) -> bool:
    return (
        wall.second in fields["second"]
        and wall.minute in fields["minute"]
        and wall.hour in fields["hour"]
        and wall.day in fields["day_of_month"]
        and wall.month in fields["month"]
        and wall.isoweekday() % 7 in fields["day_of_week"]
    )


def _oracle(
    zone: str,
    cals: Sequence[dict[str, set[int]]],
    excludes: Sequence[dict[str, set[int]]],
    start: datetime,
    end: datetime,
    step: timedelta,
    intervals: Sequence[tuple[int, int]] = (),
) -> list[datetime]:
    tz = ZoneInfo(zone)
    out = []
    t = start
    while t <= end:
        wall = t.astimezone(tz)
        named = any(_matches(c, wall) for c in cals) or any(
            int(t.timestamp()) % every == phase for every, phase in intervals
        )
        if named and not any(_matches(x, wall) for x in excludes):
            out.append(t)
        t += step
    return out


def _check(
    zone: str,
    drawn: list[tuple[pb.StructuredCalendarSpec, dict[str, set[int]]]],
    excluded: list[tuple[pb.StructuredCalendarSpec, dict[str, set[int]]]],
    start: datetime,
    window: timedelta,
    step: timedelta,
    intervals: Sequence[tuple[int, int]] = (),
) -> None:
    spec = pb.ScheduleSpec(
        structured_calendar=[c for c, _ in drawn],
        exclude_structured_calendar=[c for c, _ in excluded],
        interval=[every(e, p) for e, p in intervals],
        timezone_name=zone,
    )
    times = times_of(spec)
    end = start + window
    expected = _oracle(zone, [f for _, f in drawn], [f for _, f in excluded], start, end, step, intervals)
    assert list(times.between(start, end)) == expected
    after = start - timedelta(microseconds=1)
    nxt = times.next_after(after)
    if expected:
        assert nxt == expected[0]
    else:
        assert nxt is None or nxt > end
    # next_after(t) is the least element of between(t + 1µs, far)
    far = at(2101, 1, 1)
    assert nxt == next(iter(times.between(after + timedelta(microseconds=1), far)), None)


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    zone=st.sampled_from(ZONES),
    drawn=st.lists(calendars(dense=True), max_size=2),
    excluded=st.lists(calendars(dense=True, exclude=True), max_size=2),
    intervals=st.lists(
        st.integers(1, 2000).flatmap(lambda e: st.tuples(st.just(e), st.integers(0, e - 1))), max_size=2
    ),
    near=st.sampled_from(NEAR),
    offset=st.integers(-3 * 3600, 3600),
)
def test_next_after_matches_the_definition_second_by_second(
    zone: str,
    drawn: list[tuple[pb.StructuredCalendarSpec, dict[str, set[int]]]],
    excluded: list[tuple[pb.StructuredCalendarSpec, dict[str, set[int]]]],
    intervals: list[tuple[int, int]],
    near: datetime,
    offset: int,
) -> None:
    start = near + timedelta(seconds=offset)
    _check(zone, drawn, excluded, start, timedelta(hours=3), timedelta(seconds=1), intervals)


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    zone=st.sampled_from(ZONES),
    drawn=st.lists(calendars(dense=False), min_size=1, max_size=3),
    excluded=st.lists(calendars(dense=False, exclude=True), max_size=2),
    near=st.sampled_from(NEAR),
    offset=st.integers(-2 * 86400, 0),
)
def test_next_after_matches_the_definition_minute_by_minute(
    zone: str,
    drawn: list[tuple[pb.StructuredCalendarSpec, dict[str, set[int]]]],
    excluded: list[tuple[pb.StructuredCalendarSpec, dict[str, set[int]]]],
    near: datetime,
    offset: int,
) -> None:
    start = (near + timedelta(seconds=offset)).replace(second=0)
    _check(zone, drawn, excluded, start, timedelta(days=3), timedelta(minutes=1))


# -- cost, measured and reported (not asserted: timings are noisy on a shared machine)


def test_cost_of_next_after(capsys: pytest.CaptureFixture[str]) -> None:
    specs = {
        "cron '15 9 * * MON-FRI' in America/New_York": pb.ScheduleSpec(
            cron_string=["CRON_TZ=America/New_York 15 9 * * MON-FRI"]
        ),
        "cron '*/5 * * * *' in UTC": pb.ScheduleSpec(cron_string=["*/5 * * * *"]),
        "interval 10 s": pb.ScheduleSpec(interval=[every(10)]),
    }
    n = 2000
    with capsys.disabled():
        for name, spec in specs.items():
            times = times_of(spec)
            t: datetime | None = at(2026, 12, 5)
            began = time.perf_counter()
            for _ in range(n):
                assert t is not None
                t = times.next_after(t)
            mean = (time.perf_counter() - began) / n
            print(f"\nnext_after, {name}: {mean * 1e6:.1f} µs per call")
