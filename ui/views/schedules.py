"""The Schedules pages: a namespace's schedules (what each starts, when, whether it is paused, its
next and last actions) and a schedule's page (spec, state, policies, recent and next actions) with
Pause, Unpause and Trigger, each a POST with the page's CSRF token."""

from __future__ import annotations

import asyncio
from datetime import UTC
from typing import TYPE_CHECKING, Any

from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response

from wf.ui import render
from wf.ui.connection import CALL_TIMEOUT
from wf.ui.views.workflows import parse_token, token_param
from wf.v1 import schedule_pb2

if TYPE_CHECKING:
    from wf.ui.app import Ui

PAGE_SIZE = 50
# Cron's order of a calendar's fields, what an empty field means (StructuredCalendarSpec), and the
# whole range of each, shown as "*".
_FIELDS = (("minute", "0"), ("hour", "0"), ("day_of_month", "*"), ("month", "*"), ("day_of_week", "*"))
_WHOLE = {"second": (0, 59), "minute": (0, 59), "hour": (0, 23), "day_of_month": (1, 31), "month": (1, 12),
          "day_of_week": (0, 6)}


def _ranges(ranges: Any, default: str, name: str = "") -> str:
    if not ranges:
        return default
    if len(ranges) == 1 and (ranges[0].start, ranges[0].end) == _WHOLE.get(name) and ranges[0].step <= 1:
        return "*"
    parts = []
    for r in ranges:
        text = str(r.start) if r.end <= r.start else f"{r.start}-{r.end}"
        parts.append(f"{text}/{r.step}" if r.step > 1 else text)
    return ",".join(parts)


def calendar(c: schedule_pb2.StructuredCalendarSpec) -> str:
    """A calendar spec in cron's five fields (seconds and years added when they are not the default)."""
    text = " ".join(_ranges(getattr(c, name), default, name) for name, default in _FIELDS)
    if c.second and _ranges(c.second, "0") != "0":
        text = f"second {_ranges(c.second, '0')}, {text}"
    if c.year:
        text += f", year {_ranges(c.year, '*')}"
    return text + (f" ({c.comment})" if c.comment else "")


def spec_lines(spec: schedule_pb2.ScheduleSpec) -> list[str]:
    """The spec in words people read: one line per interval and calendar, then its bounds."""
    lines = []
    for i in spec.interval:
        every = f"every {render.duration(i.interval.ToTimedelta().total_seconds())}"
        if i.HasField("phase") and i.phase.ToTimedelta():
            every += f", offset {render.duration(i.phase.ToTimedelta().total_seconds())}"
        lines.append(every)
    lines += [f"cron {calendar(c)}" for c in spec.structured_calendar]
    lines += [f"cron {text}" for text in spec.cron_string]
    lines += [f"except cron {calendar(c)}" for c in spec.exclude_structured_calendar]
    if spec.timezone_name:
        lines.append(f"in time zone {spec.timezone_name}")
    if spec.HasField("start_time"):
        lines.append(f"from {render.when(spec.start_time.ToDatetime(UTC))}")
    if spec.HasField("end_time"):
        lines.append(f"until {render.when(spec.end_time.ToDatetime(UTC))}")
    if spec.HasField("jitter") and spec.jitter.ToTimedelta():
        lines.append(f"jitter up to {render.duration(spec.jitter.ToTimedelta().total_seconds())}")
    return lines


async def list_page(ui: Ui, request: Request) -> Response:
    namespace = request.path_params["namespace"]
    token = parse_token(request.query_params.get("page", ""))
    client = await ui.client(namespace)
    listing = await client.list_schedules(page_size=PAGE_SIZE, next_page_token=token or None)
    async with asyncio.timeout(CALL_TIMEOUT.total_seconds()):
        await listing.fetch_next_page()
    schedules = []
    for s in listing.current_page or []:
        info = s.raw_entry.info
        schedules.append({
            "id": s.id, "workflow_type": info.workflow_type.name, "spec": spec_lines(info.spec),
            "paused": info.paused, "note": info.notes,
            "next": render.when(info.future_action_times[0].ToDatetime(UTC)) if info.future_action_times else "",
            "last": info.recent_actions[-1] if info.recent_actions else None,
        })
    return ui.page(request, "schedules.html", namespace=namespace, title="Schedules", schedules=schedules,
                   next_page=token_param(listing.next_page_token or b""), first_page=not token)


async def page(ui: Ui, request: Request) -> Response:
    namespace = request.path_params["namespace"]
    schedule_id = request.query_params.get("id", "")
    if not schedule_id:
        raise HTTPException(400, "Which schedule? The address needs ?id=<schedule id>.")
    client = await ui.client(namespace)
    async with asyncio.timeout(CALL_TIMEOUT.total_seconds()):
        described = await client.get_schedule_handle(schedule_id).describe()
    raw = described.raw_description
    codec = ui.codec_endpoint is not None
    start = raw.schedule.action.start_workflow
    context = dict(
        namespace=namespace, title=f"Schedule {schedule_id}", sid=schedule_id, s=described,
        spec=spec_lines(raw.schedule.spec), state=raw.schedule.state,
        policies=render.tree(raw.schedule.policies, raw=codec),
        action={
            "workflow_type": start.workflow_type.name, "workflow_id": start.workflow_id,
            "task_queue": start.task_queue.name, "input": render.payloads(start.input, raw=codec),
        },
        info=described.info,
    )
    return ui.page(request, "schedule.html", **context)
