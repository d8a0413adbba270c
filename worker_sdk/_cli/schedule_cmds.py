"""``wf schedule …``: create, inspect and steer schedules from a shell, with Temporal's CLI flags.

The flags are ``temporal schedule``'s: ``--schedule-id/-s``; the spec as ``--interval`` (``10s``,
``1h/15m`` for every hour at minute 15), ``--cron`` and ``--calendar`` (a JSON object of
Temporal's ``CalendarSpec`` string fields, ``{"dayOfWeek": "Mon-Fri", "hour": "9"}``), each
repeatable; the action as ``wf workflow start`` takes it (``--workflow-id/-w``, ``--type``,
``--task-queue/-t``, ``--input/-i``…); the policies and state. As Temporal's CLI does, a calendar is
sent as a seven-field cron string, which the server compiles like any other, and ``update`` replaces
the whole schedule with what its flags say.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any, TypeVar

import click
from google.protobuf import json_format
from rich.table import Table
from rich.text import Text

from worker_sdk._cli import _render as render
from worker_sdk._cli.workflow_cmds import (
    CliError,
    _codec_options,
    _connection_options,
    _Duration,
    _parse_inputs,
    _parse_named,
    _print,
    _print_json,
    _run,
    _Settings,
)
from worker_sdk._client import Client
from worker_sdk._schedule_client import ScheduleActionExecutionStartWorkflow, ScheduleDescription, ScheduleUpdate
from worker_sdk._schedules import (
    Schedule,
    ScheduleActionStartWorkflow,
    ScheduleBackfill,
    ScheduleCalendarSpec,
    ScheduleIntervalSpec,
    ScheduleOverlapPolicy,
    SchedulePolicy,
    ScheduleRange,
    ScheduleSpec,
    ScheduleState,
)
from worker_sdk.errors import ScheduleAlreadyRunningError

F = TypeVar("F", bound=Callable[..., Any])

# Temporal's CLI spelling of the overlap policies.
OVERLAP_POLICIES = {
    "Skip": ScheduleOverlapPolicy.SKIP,
    "BufferOne": ScheduleOverlapPolicy.BUFFER_ONE,
    "BufferAll": ScheduleOverlapPolicy.BUFFER_ALL,
    "CancelOther": ScheduleOverlapPolicy.CANCEL_OTHER,
    "TerminateOther": ScheduleOverlapPolicy.TERMINATE_OTHER,
    "AllowAll": ScheduleOverlapPolicy.ALLOW_ALL,
}
_POLICY_LABEL = {policy: label for label, policy in OVERLAP_POLICIES.items()}

# A calendar's fields in the order of a seven-field cron string, with each one's default and the
# names protojson accepts for it (Temporal's CLI reads --calendar as a CalendarSpec in protojson).
_CALENDAR_FIELDS = (
    ("second", "0", ("second",)),
    ("minute", "0", ("minute",)),
    ("hour", "0", ("hour",)),
    ("dayOfMonth", "*", ("dayOfMonth", "day_of_month")),
    ("month", "*", ("month",)),
    ("dayOfWeek", "*", ("dayOfWeek", "day_of_week")),
    ("year", "*", ("year",)),
)


# -- parsing flags ----------------------------------------------------------------------------------


class _Time(click.ParamType[datetime]):
    """An RFC 3339 time (``2026-12-05T10:00:00Z``); one without an offset is UTC."""

    name = "time"

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> datetime:
        if isinstance(value, datetime):
            return value
        try:
            parsed = datetime.fromisoformat(str(value).strip())
        except ValueError:
            self.fail(f"{value!r} is not a time: give RFC 3339, e.g. 2026-12-05T10:00:00Z", param, ctx)
        return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def _parse_intervals(ctx: click.Context, param: click.Parameter, values: tuple[str, ...]) -> list[ScheduleIntervalSpec]:
    """``--interval EVERY[/OFFSET]``: ``10s``, ``1h/15m`` (every hour, at 15 minutes past)."""
    duration = _Duration()
    intervals = []
    for value in values:
        every, sep, offset = value.partition("/")
        if "/" in offset or not every or (sep and not offset):
            raise click.BadParameter(f"{value!r} is not EVERY or EVERY/OFFSET (e.g. 1h/15m)", ctx=ctx, param=param)
        intervals.append(ScheduleIntervalSpec(
            every=duration.convert(every, param, ctx), offset=duration.convert(offset, param, ctx) if sep else None,
        ))
    return intervals


def calendar_to_cron(text: str) -> str:
    """A ``--calendar`` JSON object as the seven-field cron string Temporal's CLI sends for it
    (``second minute hour dayOfMonth month dayOfWeek year``, then ``# comment``); ValueError on a
    value that is not one."""
    try:
        obj = json.loads(text)
    except json.JSONDecodeError as exc:
        raise ValueError(f"not JSON ({exc.msg})") from exc
    if not isinstance(obj, dict):
        raise ValueError("not a JSON object")
    known = {alias for _, _, aliases in _CALENDAR_FIELDS for alias in aliases} | {"comment"}
    unknown = sorted(set(obj) - known)
    if unknown:
        raise ValueError(
            f"unknown field {unknown[0]!r}; the fields are second, minute, hour, dayOfMonth, month, "
            "dayOfWeek, year, comment"
        )
    fields = []
    for name, default, aliases in _CALENDAR_FIELDS:
        value = next((obj[a] for a in aliases if a in obj), None)
        text_value = default if value is None or value == "" else str(value).strip()
        if isinstance(value, (dict, list, bool)) or len(text_value.split()) != 1:
            raise ValueError(f"{name} must be one field such as \"9\", \"1-5\", \"*/15\" or \"Mon,Fri\"")
        fields.append(text_value)
    comment = obj.get("comment")
    if comment:
        fields += ["#", str(comment)]
    return " ".join(fields)


def _parse_calendars(ctx: click.Context, param: click.Parameter, values: tuple[str, ...]) -> list[str]:
    crons = []
    for value in values:
        try:
            crons.append(calendar_to_cron(value))
        except ValueError as exc:
            raise click.BadParameter(f"{value!r}: {exc}", ctx=ctx, param=param) from exc
    return crons


def _schedule_id_option(f: F) -> F:
    return click.option("--schedule-id", "-s", required=True, help="The schedule id.")(f)


def _overlap_option(help: str) -> Callable[[F], F]:
    return click.option("--overlap-policy", type=click.Choice(list(OVERLAP_POLICIES)), help=help)


def _schedule_options(f: F) -> F:
    """What ``create`` and ``update`` take: the spec, the policies, the state and the action."""
    options = [
        _schedule_id_option,
        click.option("--interval", "intervals", multiple=True, callback=_parse_intervals, metavar="EVERY[/OFFSET]",
                     help="Act every EVERY from the Unix epoch, shifted by OFFSET (10s, 1h/15m). Repeatable."),
        click.option("--cron", "crons", multiple=True, metavar="EXPR",
                     help="A cron expression in Temporal's dialect (5-7 fields, @daily, @every 1h). Repeatable."),
        click.option("--calendar", "calendars", multiple=True, callback=_parse_calendars, metavar="JSON",
                     help='A calendar as JSON, e.g. {"dayOfWeek":"Mon-Fri","hour":"9","minute":"30"}. Repeatable.'),
        click.option("--start-time", type=_Time(), help="No action before this time (RFC 3339)."),
        click.option("--end-time", type=_Time(), help="No action after this time (RFC 3339)."),
        click.option("--jitter", type=_Duration(), help="Delay each action by a random amount below this."),
        click.option("--time-zone", help="IANA time zone the calendars and cron expressions are read in."),
        _overlap_option("What a time does while the previous run still runs (default Skip)."),
        click.option("--catchup-window", type=_Duration(),
                     help="How late a time missed while the server was down may still act (default 1 year)."),
        click.option("--pause-on-failure", is_flag=True, help="Pause the schedule when one of its runs fails."),
        click.option("--notes", default="", help="A note on the schedule's state."),
        click.option("--paused", is_flag=True, help="Create (or leave) the schedule paused."),
        click.option("--remaining-actions", type=click.IntRange(min=0), default=0,
                     help="Take this many actions, then stop (0: no limit)."),
        click.option("--workflow-id", "-w", required=True,
                     help="The runs' workflow id; each run's is this followed by -<time>."),
        click.option("--type", "workflow_type", required=True, help="The workflow type name."),
        click.option("--task-queue", "-t", required=True, help="The task queue its workers poll."),
        click.option("--input", "-i", "inputs", multiple=True, callback=_parse_inputs, metavar="JSON",
                     help="One argument as JSON; repeat it for several arguments."),
        click.option("--execution-timeout", type=_Duration(), help="Limit on each run's whole execution."),
        click.option("--run-timeout", type=_Duration(), help="Limit on a single run."),
        click.option("--task-timeout", type=_Duration(), help="Limit on one workflow task."),
        click.option("--memo", "memo", multiple=True, callback=_parse_named, metavar="KEY=VALUE",
                     help="A memo entry of each run; the value is JSON, else a string. Repeatable."),
        click.option("--search-attribute", "search_attributes", multiple=True, callback=_parse_named,
                     metavar="KEY=VALUE", help="A search attribute of each run (JSON, else a string). Repeatable."),
        click.option("--schedule-memo", multiple=True, callback=_parse_named, metavar="KEY=VALUE",
                     help="A memo entry of the schedule itself. Repeatable."),
        click.option("--schedule-search-attribute", "schedule_search_attributes", multiple=True,
                     callback=_parse_named, metavar="KEY=VALUE",
                     help="A search attribute of the schedule itself. Repeatable."),
    ]
    for option in reversed(options):
        f = option(f)
    return f


def schedule_from_options(opts: dict[str, Any]) -> Schedule:
    """The schedule the flags describe (ValueError for what the SDK refuses before any call)."""
    remaining = opts["remaining_actions"]
    return Schedule(
        action=ScheduleActionStartWorkflow(
            opts["workflow_type"], args=opts["inputs"], id=opts["workflow_id"], task_queue=opts["task_queue"],
            execution_timeout=opts["execution_timeout"], run_timeout=opts["run_timeout"],
            task_timeout=opts["task_timeout"], memo=opts["memo"] or None,
            search_attributes=opts["search_attributes"] or None,
        ),
        spec=ScheduleSpec(
            intervals=opts["intervals"], cron_expressions=[*opts["crons"], *opts["calendars"]],
            start_at=opts["start_time"], end_at=opts["end_time"], jitter=opts["jitter"],
            time_zone_name=opts["time_zone"] or None,
        ),
        policy=SchedulePolicy(
            overlap=OVERLAP_POLICIES[opts["overlap_policy"] or "Skip"],
            catchup_window=opts["catchup_window"] or SchedulePolicy().catchup_window,
            pause_on_failure=opts["pause_on_failure"],
        ),
        state=ScheduleState(
            note=opts["notes"] or None, paused=opts["paused"], limited_actions=remaining > 0,
            remaining_actions=remaining,
        ),
    )


# -- showing a schedule -----------------------------------------------------------------------------


def fmt_duration(d: timedelta) -> str:
    """``1d 2h``, ``15m``, ``10s``, ``0.5s``: the parts that are not zero."""
    seconds = d.total_seconds()
    parts = []
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60)):
        n, seconds = divmod(seconds, size)
        if n:
            parts.append(f"{int(n)}{unit}")
    if seconds or not parts:
        parts.append(f"{seconds:g}s")
    return " ".join(parts)


def _ranges_text(ranges: Sequence[ScheduleRange]) -> str:
    out = []
    for r in ranges:
        text = str(r.start) + (f"-{r.end}" if r.end > r.start else "")
        out.append(text + (f"/{r.step}" if r.step > 1 else ""))
    return ",".join(out)


def calendar_json(c: ScheduleCalendarSpec) -> dict[str, str]:
    """A calendar in the JSON ``--calendar`` takes (fields as Temporal's CLI shows them)."""
    out = {
        "second": _ranges_text(c.second), "minute": _ranges_text(c.minute), "hour": _ranges_text(c.hour),
        "dayOfMonth": _ranges_text(c.day_of_month), "month": _ranges_text(c.month),
        "dayOfWeek": _ranges_text(c.day_of_week),
    }
    if c.year:
        out["year"] = _ranges_text(c.year)
    if c.comment:
        out["comment"] = c.comment
    return out


def interval_text(i: ScheduleIntervalSpec) -> str:
    return f"every {fmt_duration(i.every)}" + (f" offset {fmt_duration(i.offset)}" if i.offset else "")


def _local_and_utc(t: datetime) -> tuple[str, str]:
    local = t.astimezone()
    return f"{local.isoformat(timespec='seconds')} {local.tzname() or ''}".rstrip(), render.fmt_time(t)


def _describe_renderables(d: ScheduleDescription) -> list[Any]:
    s, info = d.schedule, d.info
    spec = s.spec
    rows: list[tuple[str, Any]] = [("Schedule ID", d.id)]
    action = d.raw_description.schedule.action.start_workflow
    rows += [("Workflow type", action.workflow_type.name), ("Workflow ID", action.workflow_id),
             ("Task queue", action.task_queue.name)]
    if action.input.payloads:
        rows.append(("Input", render.payloads_text(action.input)))
    spec_lines = [interval_text(i) for i in spec.intervals]
    spec_lines += ["calendar " + json.dumps(calendar_json(c)) for c in spec.calendars]
    spec_lines += [f"cron {c}" for c in spec.cron_expressions]
    rows.append(("Spec", "\n".join(spec_lines) or "(no times)"))
    if spec.skip:
        rows.append(("Skip", "\n".join(json.dumps(calendar_json(c)) for c in spec.skip)))
    rows += [
        ("Start time", render.fmt_time(spec.start_at)), ("End time", render.fmt_time(spec.end_at)),
        ("Jitter", fmt_duration(spec.jitter) if spec.jitter else ""), ("Time zone", spec.time_zone_name or ""),
        ("Overlap policy", _POLICY_LABEL[s.policy.overlap]),
        ("Catchup window", fmt_duration(s.policy.catchup_window)),
        ("Pause on failure", str(s.policy.pause_on_failure).lower()),
        ("Paused", str(s.state.paused).lower()), ("Notes", s.state.note or ""),
    ]
    if s.state.limited_actions:
        rows.append(("Remaining actions", str(s.state.remaining_actions)))
    rows += [
        ("Actions", f"{info.num_actions} taken, {info.num_actions_skipped_overlap} skipped by the overlap policy, "
                    f"{info.num_actions_missed_catchup_window} missed the catch-up window"),
        ("Created at", render.fmt_time(info.created_at)), ("Last updated at", render.fmt_time(info.last_updated_at)),
    ]
    running = [a.workflow_id for a in info.running_actions if isinstance(a, ScheduleActionExecutionStartWorkflow)]
    rows.append(("Running workflows", "\n".join(running)))
    out: list[Any] = [render.key_values(rows)]
    if info.recent_actions:
        recent = Table(box=None, header_style="bold", pad_edge=False, title="Recent actions", title_justify="left")
        for name in ("Scheduled at", "Started at", "Workflow ID"):
            recent.add_column(name, overflow="fold")
        for r in info.recent_actions:
            wid = r.action.workflow_id if isinstance(r.action, ScheduleActionExecutionStartWorkflow) else ""
            recent.add_row(render.fmt_time(r.scheduled_at), render.fmt_time(r.started_at), Text(wid))
        out += [Text(""), recent]
    if info.next_action_times:
        upcoming = Table(box=None, header_style="bold", pad_edge=False, title="Next action times",
                         title_justify="left")
        upcoming.add_column("Local time")
        upcoming.add_column("UTC")
        for t in info.next_action_times:
            upcoming.add_row(*_local_and_utc(t))
        out += [Text(""), upcoming]
    return out


# -- the commands -----------------------------------------------------------------------------------


@click.group("schedule")
@_connection_options(group=True)
@click.pass_context
def schedule_group(ctx: click.Context, address: str, namespace: str, output: str) -> None:
    """Create, inspect and steer schedules: workflows started on cron, calendar and interval specs."""
    ctx.obj = _Settings(address=address, namespace=namespace, output=output)


def _done(settings: _Settings, line: str, schedule_id: str) -> int:
    if settings.json:
        _print_json({"scheduleId": schedule_id})
    else:
        click.echo(line)
    return 0


@schedule_group.command("create")
@_schedule_options
@_codec_options
@_connection_options(group=False)
def create_cmd(**opts: Any) -> None:
    """Create a schedule that starts a workflow at the times of its spec."""
    try:
        schedule = schedule_from_options(opts)
    except ValueError as exc:
        raise click.UsageError(str(exc)) from exc

    async def body(client: Client, settings: _Settings) -> int:
        try:
            await client.create_schedule(
                opts["schedule_id"], schedule, memo=opts["schedule_memo"] or None,
                search_attributes=opts["schedule_search_attributes"] or None,
            )
        except ScheduleAlreadyRunningError as exc:
            raise CliError(f"schedule {opts['schedule_id']!r} already exists (ALREADY_EXISTS)") from exc
        return _done(settings, f"Schedule {opts['schedule_id']} created", opts["schedule_id"])

    _run(body, interrupted="the schedule may have been created")


@schedule_group.command("update")
@_schedule_options
@_codec_options
@_connection_options(group=False)
def update_cmd(**opts: Any) -> None:
    """Replace a schedule's spec, action, policies and state with what the flags say (as Temporal's
    CLI: flags not given take their defaults). What the schedule has done (its counts, its recent
    actions) stays."""
    try:
        schedule = schedule_from_options(opts)
    except ValueError as exc:
        raise click.UsageError(str(exc)) from exc
    attrs = opts["schedule_search_attributes"] or None

    async def body(client: Client, settings: _Settings) -> int:
        await client.get_schedule_handle(opts["schedule_id"]).update(
            lambda _: ScheduleUpdate(schedule=schedule, search_attributes=attrs)
        )
        return _done(settings, f"Schedule {opts['schedule_id']} updated", opts["schedule_id"])

    _run(body, interrupted="the schedule may have been updated")


@schedule_group.command("describe")
@_schedule_id_option
@_connection_options(group=False)
def describe_cmd(schedule_id: str) -> None:
    """Show a schedule: its spec as the server keeps it (cron expressions as calendars), its policies
    and state, what it has done, what runs, and its next times in your local time zone and in UTC."""

    async def body(client: Client, settings: _Settings) -> int:
        d = await client.get_schedule_handle(schedule_id).describe()
        if settings.json:
            _print_json({"scheduleId": schedule_id, **json_format.MessageToDict(d.raw_description)})
        else:
            _print(*_describe_renderables(d))
        return 0

    _run(body)


@schedule_group.command("list")
@click.option("--query", "-q", default="", help="A filter over the schedules' own search attributes.")
@_connection_options(group=False)
def list_cmd(query: str) -> None:
    """List the namespace's schedules: what each starts, whether it is paused, its next and last time."""

    async def body(client: Client, settings: _Settings) -> int:
        entries = [e async for e in await client.list_schedules(query or None)]
        if settings.json:
            _print_json([json_format.MessageToDict(e.raw_entry) for e in entries])
            return 0
        table = Table(box=None, header_style="bold", pad_edge=False)
        for name in ("Schedule ID", "Workflow type", "Paused", "Notes", "Next action time", "Last action time"):
            table.add_column(name, overflow="fold")
        for e in entries:
            s, info = e.schedule, e.info
            workflow_type = getattr(s.action, "workflow", "") if s else ""
            table.add_row(
                Text(e.id), Text(workflow_type), str(bool(s and s.state.paused)).lower(),
                Text((s.state.note or "") if s else ""),
                render.fmt_time(info.next_action_times[0]) if info and info.next_action_times else "",
                render.fmt_time(info.recent_actions[-1].scheduled_at) if info and info.recent_actions else "",
            )
        _print(table)
        return 0

    _run(body)


@schedule_group.command("toggle")
@_schedule_id_option
@click.option("--pause", is_flag=True, help="Pause the schedule.")
@click.option("--unpause", is_flag=True, help="Unpause the schedule.")
@click.option("--reason", default="", help="Why, kept as the schedule's note.")
@_connection_options(group=False)
def toggle_cmd(schedule_id: str, pause: bool, unpause: bool, reason: str) -> None:
    """Pause or unpause a schedule. Times that pass while it is paused are skipped, not counted."""
    if pause == unpause:
        raise click.UsageError("give exactly one of --pause or --unpause")

    async def body(client: Client, settings: _Settings) -> int:
        handle = client.get_schedule_handle(schedule_id)
        note = reason or ("Paused via wf CLI" if pause else "Unpaused via wf CLI")
        await (handle.pause(note=note) if pause else handle.unpause(note=note))
        return _done(settings, f"Schedule {schedule_id} {'paused' if pause else 'unpaused'}", schedule_id)

    _run(body)


@schedule_group.command("trigger")
@_schedule_id_option
@_overlap_option("Overlap policy for this action (default: the schedule's own).")
@_connection_options(group=False)
def trigger_cmd(schedule_id: str, overlap_policy: str | None) -> None:
    """Take the schedule's action now (also while paused; it stays paused)."""

    async def body(client: Client, settings: _Settings) -> int:
        overlap = OVERLAP_POLICIES[overlap_policy] if overlap_policy else None
        await client.get_schedule_handle(schedule_id).trigger(overlap=overlap)
        return _done(settings, "Trigger request sent", schedule_id)

    _run(body)


@schedule_group.command("backfill")
@_schedule_id_option
@click.option("--start-time", type=_Time(), required=True, help="The window's start (RFC 3339), included.")
@click.option("--end-time", type=_Time(), required=True, help="The window's end (RFC 3339), included.")
@_overlap_option("Overlap policy for these actions (default: the schedule's own; AllowAll or BufferAll "
                 "take every time).")
@_connection_options(group=False)
def backfill_cmd(schedule_id: str, start_time: datetime, end_time: datetime, overlap_policy: str | None) -> None:
    """Take every time of the schedule's spec in a window, both ends included, as if it were now."""
    if end_time < start_time:
        raise click.BadParameter("is before --start-time", param_hint="'--end-time'")

    async def body(client: Client, settings: _Settings) -> int:
        overlap = OVERLAP_POLICIES[overlap_policy] if overlap_policy else None
        await client.get_schedule_handle(schedule_id).backfill(ScheduleBackfill(start_time, end_time, overlap))
        return _done(settings, "Backfill request sent", schedule_id)

    _run(body)


@schedule_group.command("delete")
@_schedule_id_option
@_connection_options(group=False)
def delete_cmd(schedule_id: str) -> None:
    """Delete a schedule; the runs it started keep running."""

    async def body(client: Client, settings: _Settings) -> int:
        await client.get_schedule_handle(schedule_id).delete()
        return _done(settings, "Schedule deleted", schedule_id)

    _run(body)


@schedule_group.command("list-matching-times")
@_schedule_id_option
@click.option("--start-time", type=_Time(), required=True, help="From this time (RFC 3339).")
@click.option("--end-time", type=_Time(), required=True, help="To this time (RFC 3339).")
@_connection_options(group=False)
def list_matching_times_cmd(schedule_id: str, start_time: datetime, end_time: datetime) -> None:
    """List the times the schedule's spec matches in a window (whether or not it is paused)."""
    if end_time < start_time:
        raise click.BadParameter("is before --start-time", param_hint="'--end-time'")

    async def body(client: Client, settings: _Settings) -> int:
        times = await client.get_schedule_handle(schedule_id).list_matching_times(start_time, end_time)
        if settings.json:
            _print_json({"startTime": [render.fmt_time(t) for t in times]})
            return 0
        table = Table(box=None, header_style="bold", pad_edge=False)
        table.add_column("Local time")
        table.add_column("UTC")
        for t in times:
            table.add_row(*_local_and_utc(t))
        _print(table)
        return 0

    _run(body)
