"""Temporal's own expectations of its scheduler's spec, as facts: the same specs must name the same
times in wf (sequences and parses taken from the cases Temporal's scheduler is tested with)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from wf.history.schedules import SpecTimes, canonical_spec
from wf.v1 import schedule_pb2 as pb

PACIFIC = ZoneInfo("US/Pacific")
LONDON = ZoneInfo("Europe/London")


def at(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)  # type: ignore[misc]


def pacific(*args: int, fold: int = 0) -> datetime:
    return datetime(*args, tzinfo=PACIFIC, fold=fold).astimezone(UTC)  # type: ignore[misc]


def every(minutes: int, phase: timedelta = timedelta(0)) -> pb.IntervalSpec:
    iv = pb.IntervalSpec()
    iv.interval.FromTimedelta(timedelta(minutes=minutes))
    iv.phase.FromTimedelta(phase)
    return iv


def r(start: int, end: int | None = None, step: int = 1) -> pb.Range:
    return pb.Range(start=start, end=start if end is None else end, step=step)


def sequence(spec: pb.ScheduleSpec, start: datetime, n: int) -> list[datetime]:
    times = SpecTimes(canonical_spec(spec))
    out: list[datetime] = []
    t: datetime | None = start
    for _ in range(n):
        assert t is not None
        t = times.next_after(t)
        if t is None:
            break
        out.append(t)
    return out


START = datetime(2022, 3, 23, 12, 53, 2, tzinfo=UTC)

CASES = {
    "interval": (
        pb.ScheduleSpec(interval=[every(90)]),
        START,
        [at(2022, 3, 23, h, m) for h, m in ((13, 30), (15, 0), (16, 30), (18, 0))],
    ),
    "interval with phase": (
        pb.ScheduleSpec(interval=[every(90, timedelta(minutes=5, seconds=44))]),
        START,
        [at(2022, 3, 23, h, m, 44) for h, m in ((13, 35), (15, 5), (16, 35), (18, 5))],
    ),
    "two intervals": (
        pb.ScheduleSpec(
            interval=[every(90, timedelta(minutes=5, seconds=44)), every(157, timedelta(minutes=22, seconds=11))]
        ),
        START,
        [
            at(2022, 3, 23, 13, 35, 44),
            at(2022, 3, 23, 15, 5, 44),
            at(2022, 3, 23, 15, 26, 11),
            at(2022, 3, 23, 16, 35, 44),
            at(2022, 3, 23, 18, 3, 11),
            at(2022, 3, 23, 18, 5, 44),
            at(2022, 3, 23, 19, 35, 44),
        ],
    ),
    "calendar and cron": (
        pb.ScheduleSpec(
            structured_calendar=[pb.StructuredCalendarSpec(hour=[r(5), r(7)], minute=[r(23)])],
            cron_string=["55 11,13 * * *"],
        ),
        at(2022, 3, 23, 3),
        [at(2022, 3, d, h, m) for d in (23, 24) for h, m in ((5, 23), (7, 23), (11, 55), (13, 55))],
    ),
    "calendar and interval": (
        pb.ScheduleSpec(
            structured_calendar=[pb.StructuredCalendarSpec(hour=[r(11), r(13)], minute=[r(55)])],
            interval=[every(90, timedelta(minutes=7))],
        ),
        at(2022, 3, 23, 10),
        [at(2022, 3, 23, h, m) for h, m in ((10, 37), (11, 55), (12, 7), (13, 37), (13, 55), (15, 7))],
    ),
    "exclude": (
        pb.ScheduleSpec(
            interval=[every(90)],
            exclude_structured_calendar=[
                pb.StructuredCalendarSpec(hour=[r(12, 14)], minute=[r(0, 59)], second=[r(0, 59)])
            ],
        ),
        at(2022, 3, 23, 8),
        [at(2022, 3, 23, h, m) for h, m in ((9, 0), (10, 30), (15, 0), (16, 30))],
    ),
    "exclude all": (
        pb.ScheduleSpec(
            interval=[every(7 * 24 * 60)],
            exclude_structured_calendar=[
                pb.StructuredCalendarSpec(hour=[r(0, 23)], minute=[r(0, 59)], second=[r(0, 59)])
            ],
        ),
        START,
        [],
    ),
    "single run": (
        pb.ScheduleSpec(
            structured_calendar=[
                pb.StructuredCalendarSpec(
                    hour=[r(13)], minute=[r(55)], day_of_month=[r(7)], month=[r(4)], year=[r(2022)]
                )
            ]
        ),
        at(2022, 3, 23, 11),
        [at(2022, 4, 7, 13, 55)],
    ),
    "spring forward": (
        pb.ScheduleSpec(cron_string=["CRON_TZ=US/Pacific 33 33 2 * * * *"]),
        pacific(2022, 3, 11, 20),
        [pacific(2022, 3, 12, 2, 33, 33), pacific(2022, 3, 14, 2, 33, 33)],  # no 02:33:33 on March 13
    ),
    "fall back": (
        pb.ScheduleSpec(cron_string=["CRON_TZ=US/Pacific 33 33,44 1 * * * *"]),
        pacific(2021, 11, 7, 0, 15, 15),
        [
            pacific(2021, 11, 7, 1, 33, 33),
            pacific(2021, 11, 7, 1, 44, 33),
            pacific(2021, 11, 7, 1, 33, 33, fold=1),
            pacific(2021, 11, 7, 1, 44, 33, fold=1),
            pacific(2021, 11, 8, 1, 33, 33),
        ],
    ),
    "names, steps and seconds": (
        pb.ScheduleSpec(
            structured_calendar=[
                pb.StructuredCalendarSpec(
                    second=[r(55)], minute=[r(55)], hour=[r(5)], day_of_week=[r(3, 4)], day_of_month=[r(2, 31, 2)]
                )
            ],
            timezone_name="US/Pacific",
        ),
        pacific(2022, 3, 1, 1, 11, 11),
        [pacific(2022, 3, 2, 5, 55, 55), pacific(2022, 3, 10, 5, 55, 55), pacific(2022, 3, 16, 5, 55, 55)],
    ),
}


@pytest.mark.parametrize("name", list(CASES))
def test_the_same_times_as_temporal(name: str) -> None:
    spec, start, expected = CASES[name]
    assert sequence(spec, start, len(expected) + (1 if not expected else 0)) == expected


def test_from_every_second_before_a_time_the_next_is_that_time() -> None:
    # Temporal's check on its DST sequences: any instant between two times leads to the later one
    times = SpecTimes(canonical_spec(pb.ScheduleSpec(cron_string=["CRON_TZ=US/Pacific 33 33,44 1 * * * *"])))
    first, second = pacific(2021, 11, 7, 1, 44, 33), pacific(2021, 11, 7, 1, 33, 33, fold=1)
    t = first
    while t < second:
        assert times.next_after(t) == second
        t += timedelta(seconds=1)


def test_london_from_inside_a_repeated_hour_to_a_date_far_away() -> None:
    spec = pb.ScheduleSpec(
        structured_calendar=[
            pb.StructuredCalendarSpec(
                second=[r(0)], minute=[r(1)], hour=[r(0)], day_of_month=[r(2)], month=[r(1)], day_of_week=[r(0)]
            )
        ],
        timezone_name="Europe/London",
    )
    times = SpecTimes(canonical_spec(spec))
    expected = datetime(2005, 1, 2, 0, 1, tzinfo=LONDON).astimezone(UTC)
    assert times.next_after(datetime(2004, 1, 1, 0, 0, 5, tzinfo=LONDON)) == expected
    assert times.next_after(datetime(2004, 10, 31, 1, 7, 3, tzinfo=LONDON)) == expected


def test_cron_parses_as_temporal() -> None:
    spec = canonical_spec(
        pb.ScheduleSpec(cron_string=["CRON_TZ=US/Pacific 55 55,57 5 2/2 * wed-thurs *  # explanation"])
    )
    (cal,) = spec.structured_calendar
    assert spec.timezone_name == "US/Pacific"
    assert cal.comment == "explanation"
    assert [(x.start, x.end, x.step) for x in cal.second] == [(55, 55, 1)]
    assert [(x.start, x.end, x.step) for x in cal.minute] == [(55, 55, 1), (57, 57, 1)]
    assert [(x.start, x.end, x.step) for x in cal.day_of_month] == [(2, 31, 2)]
    assert [(x.start, x.end, x.step) for x in cal.day_of_week] == [(3, 4, 1)]
    (iv,) = canonical_spec(pb.ScheduleSpec(cron_string=["@every 5d"])).interval
    assert iv.interval.ToTimedelta() == timedelta(days=5)
    (iv,) = canonical_spec(pb.ScheduleSpec(cron_string=["@every 5h/45m"])).interval
    assert (iv.interval.ToTimedelta(), iv.phase.ToTimedelta()) == (timedelta(hours=5), timedelta(minutes=45))
