"""How the UI turns wire messages into what a page shows, on their own: payloads (JSON, or base64
with the encoding, never an error), enum words, durations, a schedule's calendar in cron's fields,
the CSRF token's checks, and the list's quick filters ANDed onto a query."""

from __future__ import annotations

import json

from wf.ui import render
from wf.ui.csrf import CsrfTokens
from wf.ui.views.schedules import calendar, spec_lines
from wf.ui.views.workflows import compose
from wf.v1 import common_pb2, schedule_pb2


def test_payloads_are_json_when_they_say_so_and_base64_otherwise() -> None:
    as_json = render.payload(common_pb2.Payload(metadata={"encoding": b"json/plain"}, data=b'{"a": [1, "\xc3\xa9"]}'))
    assert as_json.is_json and json.loads(as_json.text) == {"a": [1, "é"]} and as_json.raw is None
    broken = render.payload(common_pb2.Payload(metadata={"encoding": b"json/plain"}, data=b"{not json"))
    assert not broken.is_json and broken.text == "e25vdCBqc29u" and broken.encoding == "json/plain"
    binary = render.payload(common_pb2.Payload(metadata={"encoding": b"binary/encrypted"}, data=b"\x00\x01"))
    assert not binary.is_json and binary.text == "AAE=" and binary.encoding == "binary/encrypted"
    bare = render.payload(common_pb2.Payload(data=b"x"))
    assert bare.encoding == "(none)" and bare.text == "eA=="
    assert render.payload(common_pb2.Payload(metadata={"encoding": b"binary/null"})).text == "null"
    raw = render.payload(common_pb2.Payload(metadata={"encoding": b"binary/encrypted"}, data=b"\x00"), raw=True)
    assert raw.raw is not None and json.loads(raw.raw) == {"metadata": {"encoding": "YmluYXJ5L2VuY3J5cHRlZA=="},
                                                           "data": "AA=="}
    long = common_pb2.Payload(metadata={"encoding": b"json/plain"}, data=b'"' + b"x" * 500 + b'"')
    assert render.payload(long).collapsed


def test_enum_words_durations_and_status_words() -> None:
    overlap = schedule_pb2.ScheduleOverlapPolicy.DESCRIPTOR
    assert render.enum_word(overlap, schedule_pb2.SCHEDULE_OVERLAP_POLICY_BUFFER_ONE) == "BufferOne"
    assert render.enum_word(overlap, 99) == "99"
    assert [render.duration(s) for s in (0.045, 3.21, 120, 3600, 3723, 90000)] == [
        "45ms", "3.2s", "2m", "1h", "1h 2m 3s", "1d 1h"]
    assert render.status_word(6) == "Continued as new" and render.status_class(7) == "st-timedout"


def test_calendars_read_as_cron() -> None:
    r = schedule_pb2.Range
    weekdays = schedule_pb2.StructuredCalendarSpec(
        minute=[r(start=30)], hour=[r(start=9)], day_of_month=[r(start=1, end=31)], month=[r(start=1, end=12)],
        day_of_week=[r(start=1, end=5)], comment="standup",
    )
    assert calendar(weekdays) == "30 9 * * 1-5 (standup)"
    stepped = schedule_pb2.StructuredCalendarSpec(minute=[r(start=0, end=59, step=15)], second=[r(start=30)])
    assert calendar(stepped) == "second 30, 0-59/15 0 * * *"
    spec = schedule_pb2.ScheduleSpec(structured_calendar=[weekdays], timezone_name="Europe/Paris")
    spec.interval.add().interval.FromSeconds(5400)
    assert spec_lines(spec) == ["every 1h 30m", "cron 30 9 * * 1-5 (standup)", "in time zone Europe/Paris"]


def test_csrf_tokens_verify_only_this_process_s_and_only_in_pairs() -> None:
    tokens, other = CsrfTokens(), CsrfTokens()
    t = tokens.new()
    assert tokens.check(t, t)
    assert not tokens.check(t, None) and not tokens.check(None, t) and not tokens.check(t, tokens.new())
    forged = t.split(".")[0] + "." + "0" * 64
    assert not tokens.check(forged, forged)
    assert not tokens.check(other.new(), other.new()) and not tokens.valid("no-dot")


def test_quick_filters_are_anded_onto_the_query() -> None:
    assert compose("") == ""
    assert compose("", status="Running") == "ExecutionStatus = 'Running'"
    assert compose("WorkflowType = 'A' OR WorkflowType = 'B'", status="Failed") == (
        "(WorkflowType = 'A' OR WorkflowType = 'B') AND ExecutionStatus = 'Failed'")
    assert compose("StartTime > '2026-01-01T00:00:00Z' order by StartTime asc", workflow_type="It's") == (
        "(StartTime > '2026-01-01T00:00:00Z') AND WorkflowType = 'It\\'s' order by StartTime asc")
