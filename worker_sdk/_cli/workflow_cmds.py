"""``wf workflow …``: start, follow and inspect workflows from a shell.

Flag names follow Temporal's CLI (``--workflow-id/-w``, ``--run-id/-r``, ``--type``, ``--task-queue/-t``,
``--input/-i``, ``--query/-q``, ``--output/-o``) so its users' habits and scripts carry over. The
connection options (``--address``, ``--namespace``, ``--output``) are accepted on the group and on each
command; a command's own value wins. Tables go to stdout for people, ``--output json`` for scripts;
progress and errors go to stderr. Exit codes: 0 done, 1 the workflow failed or the server said no,
2 bad usage (click's), 130 interrupted.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import math
import os
import re
import uuid
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any, TypeVar

import click
import grpc
from google.protobuf import json_format
from rich.console import Console, ConsoleOptions, RenderableType
from rich.segment import Segment
from rich.text import Text

from wf.v1 import common_pb2, service_pb2
from worker_sdk._cli import _render as render
from worker_sdk._cli import batch
from worker_sdk._cli.api_key_options import api_key_from_context, api_key_options
from worker_sdk._cli.tls_options import tls_from_context, tls_options
from worker_sdk._client import (
    Client,
    WorkflowExecutionDescription,
    WorkflowExecutionStatus,
    WorkflowHandle,
    WorkflowIDConflictPolicy,
    WorkflowIDReusePolicy,
    default_identity,
)
from worker_sdk._converter import DataConverter
from worker_sdk._remote_codec import _RemoteCodecError
from worker_sdk.errors import (
    FailureError,
    RPCError,
    WorkflowAlreadyStartedError,
    WorkflowFailureError,
    WorkflowQueryFailedError,
    WorkflowUpdateFailedError,
)

F = TypeVar("F", bound=Callable[..., Any])
# How long `execute` and `result` wait before they say that no worker polls the run's task queue.
_HINT_AFTER = 3.0

_REUSE_POLICIES = {
    "AllowDuplicate": WorkflowIDReusePolicy.ALLOW_DUPLICATE,
    "AllowDuplicateFailedOnly": WorkflowIDReusePolicy.ALLOW_DUPLICATE_FAILED_ONLY,
    "RejectDuplicate": WorkflowIDReusePolicy.REJECT_DUPLICATE,
}
_CONFLICT_POLICIES = {
    "Fail": WorkflowIDConflictPolicy.FAIL,
    "UseExisting": WorkflowIDConflictPolicy.USE_EXISTING,
    "TerminateExisting": WorkflowIDConflictPolicy.TERMINATE_EXISTING,
}


@dataclass
class _Settings:
    """Where to connect and how to print, gathered from the group's and the command's options."""

    address: str = field(default_factory=lambda: os.environ.get("WF_ADDRESS", "localhost:7233"))
    namespace: str = field(default_factory=lambda: os.environ.get("WF_NAMESPACE", "default"))
    output: str = "table"
    # --codec-endpoint / --codec-auth: payloads are decoded through a codec server before printing.
    codec_endpoint: str | None = None
    codec_auth: str | None = field(default=None, repr=False)

    @property
    def json(self) -> bool:
        return self.output == "json"


class CliError(click.ClickException):
    """A failure to report as ``error: …`` on stderr with exit code 1, without a traceback."""

    def show(self, file: Any = None) -> None:
        click.echo(f"error: {self.message}", err=True)


# -- options ------------------------------------------------------------------------------------


def _override(ctx: click.Context, param: click.Parameter, value: Any) -> Any:
    if value is not None:
        setattr(ctx.ensure_object(_Settings), str(param.name), value)
    return value


def _connection_options(*, group: bool) -> Callable[[F], F]:
    """``--address``, ``--namespace``, ``--output``: with env and defaults on the group, and as
    overrides on each command (so ``wf workflow list -o json`` works as Temporal users type it)."""
    kw: dict[str, Any] = {} if group else {"default": None, "expose_value": False, "callback": _override}
    env: dict[str, Any] = {"show_envvar": True, "show_default": True} if group else {}
    suffix = "" if group else " [env {}; default {}]"
    options = [
        click.option("--address", **({"envvar": "WF_ADDRESS", "default": "localhost:7233"} if group else kw),
                     **env, help="The server's host:port." + suffix.format("WF_ADDRESS", "localhost:7233")),
        click.option("--namespace", "-n", **({"envvar": "WF_NAMESPACE", "default": "default"} if group else kw),
                     **env, help="The namespace." + suffix.format("WF_NAMESPACE", "default")),
        click.option("--output", "-o", type=click.Choice(["table", "json"]),
                     **({"default": "table"} if group else kw), **env,
                     help="table for people, json for scripts."),
    ]
    options += tls_options(group=group)
    options += api_key_options(group=group)

    def decorate(f: F) -> F:
        for option in reversed(options):
            f = option(f)
        return f

    return decorate


def _parse_inputs(ctx: click.Context, param: click.Parameter, values: tuple[str, ...]) -> list[Any]:
    args = []
    for value in values:
        try:
            args.append(json.loads(value))
        except json.JSONDecodeError as exc:
            raise click.BadParameter(
                f"{value!r} is not JSON ({exc.msg}); each --input is one argument as JSON, "
                "so a string needs quotes: -i '\"text\"'",
                ctx=ctx, param=param,
            ) from exc
    return args


def _parse_input_files(ctx: click.Context, param: click.Parameter, values: tuple[str, ...]) -> list[Any]:
    """Each file holds one argument as JSON, as Temporal's ``--input-file``: for inputs past the
    shell's argument limit, or kept in files."""
    args = []
    for path in values:
        try:
            with open(path, encoding="utf-8") as f:
                args.append(json.load(f))
        except OSError as exc:
            raise click.BadParameter(f"cannot read {path!r}: {exc.strerror}", ctx=ctx, param=param) from exc
        except (json.JSONDecodeError, UnicodeDecodeError) as exc:
            raise click.BadParameter(
                f"{path!r} is not JSON ({exc}); each --{str(param.name).replace('_', '-')} file is one argument "
                "as JSON", ctx=ctx, param=param,
            ) from exc
    return args


def _arguments(inputs: list[Any], files: list[Any], flag: str) -> list[Any]:
    """The arguments from ``--<flag>`` or ``--<flag>-file``: one or the other, as Temporal's CLI."""
    if inputs and files:
        raise click.UsageError(f"give --{flag} or --{flag}-file, not both")
    return inputs or files


def _start_arguments(opts: dict[str, Any]) -> dict[str, Any]:
    """The start options with the workflow's arguments gathered in ``args`` (a usage error, before
    connecting, when both --input and --input-file are given)."""
    return {**opts, "args": _arguments(opts["inputs"], opts["input_files"], "input")}


class _Duration(click.ParamType[timedelta]):
    """Seconds (``30``, ``1.5``) or a Go-style duration as Temporal's CLI takes it (``90s``, ``1h30m``)."""

    name = "duration"
    _PART = re.compile(r"(\d+(?:\.\d*)?|\.\d+)(ms|s|m|h|d)")
    _UNIT = {"ms": 0.001, "s": 1, "m": 60, "h": 3600, "d": 86400}

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> timedelta:
        if isinstance(value, timedelta):
            return value
        text = str(value).strip()
        try:
            seconds = float(text)
        except ValueError:
            parts = self._PART.findall(text)
            if not parts or "".join(n + u for n, u in parts) != text:
                self.fail(f"{value!r} is not a duration: give seconds (30) or e.g. 90s, 5m, 1h30m", param, ctx)
            seconds = sum(float(n) * self._UNIT[u] for n, u in parts)
        if seconds <= 0:
            self.fail(f"{value!r} must be positive", param, ctx)
        return timedelta(seconds=seconds)


_input_option = click.option("--input", "-i", "inputs", multiple=True, callback=_parse_inputs, metavar="JSON",
                             help="One argument as JSON; repeat it for several arguments.")
_input_file_option = click.option(
    "--input-file", "input_files", multiple=True, callback=_parse_input_files, metavar="PATH",
    help="A file holding one argument as JSON; repeat it for several arguments. Not with --input.",
)
_reason_option = click.option("--reason", default="", help="Why, for the history and for people reading it.")


def _parse_named(ctx: click.Context, param: click.Parameter, values: tuple[str, ...]) -> dict[str, Any]:
    """``KEY=VALUE`` pairs (``--memo``, ``--search-attribute``): each value JSON when it parses, else
    the string itself, as Temporal's CLI takes them."""
    named: dict[str, Any] = {}
    for item in values:
        key, sep, raw = item.partition("=")
        if not sep or not key:
            raise click.BadParameter(f"{item!r} is not KEY=VALUE", ctx=ctx, param=param)
        try:
            named[key] = json.loads(raw)
        except ValueError:
            named[key] = raw
    return named


def _start_options(f: F) -> F:
    options = [
        click.option("--type", "workflow_type", required=True, help="The workflow type name."),
        click.option("--task-queue", "-t", required=True, help="The task queue its workers poll."),
        click.option("--workflow-id", "-w", help="The workflow id (default: a new UUID)."),
        _input_option,
        _input_file_option,
        click.option("--execution-timeout", type=_Duration(), help="Limit on the whole execution, all runs."),
        click.option("--run-timeout", type=_Duration(), help="Limit on a single run."),
        click.option("--task-timeout", type=_Duration(), help="Limit on one workflow task (default 10s)."),
        click.option("--id-reuse-policy", type=click.Choice(list(_REUSE_POLICIES)),
                     help="May a closed workflow's id start a new run? (default AllowDuplicate)"),
        click.option("--id-conflict-policy", type=click.Choice(list(_CONFLICT_POLICIES)),
                     help="What starting an id that has a running run does: fail, use the running run, "
                          "or terminate it and start anew (default Fail)."),
        click.option("--memo", "memo", multiple=True, callback=_parse_named, metavar="KEY=VALUE",
                     help="A memo entry; the value is JSON, else a string. Repeat it for several."),
        click.option("--search-attribute", "search_attributes", multiple=True, callback=_parse_named,
                     metavar="KEY=VALUE", help="A search attribute; the value is JSON, else a string. Repeat it."),
    ]
    for option in reversed(options):
        f = option(f)
    return f


def _codec_options(f: F) -> F:
    """``--codec-endpoint URL`` and ``--codec-auth``: encode the payloads sent and decode those printed
    through a codec server (Temporal's remote codec protocol), so inputs reach the server encrypted
    as the workers' own, and encrypted payloads show as plaintext here."""
    f = click.option("--codec-auth", envvar="WF_CODEC_AUTH", default=None, expose_value=False,
                     callback=_override,
                     help="The Authorization header sent to the codec server [env WF_CODEC_AUTH].")(f)
    return click.option("--codec-endpoint", envvar="WF_CODEC_ENDPOINT", default=None, expose_value=False,
                        callback=_override, metavar="URL",
                        help="A codec server: inputs are encoded through <URL>/encode before sending, and "
                             "payloads decoded through <URL>/decode before printing [env WF_CODEC_ENDPOINT].")(f)


def _data_converter(settings: _Settings) -> DataConverter | None:
    """The client's data converter: one whose codec is the codec server, with --codec-endpoint."""
    if not settings.codec_endpoint:
        return None
    from worker_sdk._remote_codec import RemoteCodec

    return DataConverter(payload_codec=RemoteCodec(
        settings.codec_endpoint, namespace=settings.namespace, authorization=settings.codec_auth,
    ))


async def _decode_events(client: Client, events: list[Any]) -> None:
    """Decode every payload of these events in place through the client's codec (when it has one)."""
    for event in events:
        await client.data_converter.decode_message(event)


def _run_options(f: F) -> F:
    f = click.option("--run-id", "-r", help="A run of the workflow (default: its latest run).")(f)
    return click.option("--workflow-id", "-w", required=True, help="The workflow id.")(f)


# -- running a command --------------------------------------------------------------------------


def _run(
    body: Callable[[Client, _Settings], Awaitable[int]],
    *,
    interrupted: str = "a started workflow keeps running on the server",
) -> None:
    """Connect, run ``body``, close; turn server errors into one line on stderr and exit codes.
    ``interrupted`` says what Ctrl-C leaves behind."""
    ctx = click.get_current_context()
    settings = ctx.find_object(_Settings) or _Settings()

    tls = tls_from_context(ctx, settings.address)

    async def main() -> int:
        try:
            client = await Client.connect(
                settings.address, namespace=settings.namespace,
                identity=f"wf-cli:{default_identity()}", wait_for_ready=False,
                tls=tls, api_key=api_key_from_context(ctx),
                data_converter=_data_converter(settings),
            )
        except RPCError as exc:
            raise CliError(f"{exc.message} ({exc.status.name})\n{_connect_hint(exc.status)}") from exc
        try:
            return await body(client, settings)
        finally:
            await client.close()

    try:
        code = asyncio.run(main())
    except RPCError as exc:
        raise CliError(f"{exc.message} ({exc.status.name})") from exc
    except WorkflowAlreadyStartedError as exc:
        raise CliError(f"{exc} (ALREADY_EXISTS)") from exc
    except _RemoteCodecError as exc:
        hint = ("\nhint: does --codec-auth / WF_CODEC_AUTH hold the value the codec server's --codec-auth "
                "expects?" if exc.status in (401, 403) else "")
        raise CliError(f"{exc}{hint}") from exc
    except KeyboardInterrupt:
        click.echo(f"interrupted ({interrupted})", err=True)
        ctx.exit(130)
    ctx.exit(code)


# Characters of the text shown that a terminal would act on or that reorder it: C0 controls but the
# line feed (rich lays lines out with it), DEL and C1 controls, and bidirectional overrides/isolates.
_UNSHOWABLE = re.compile("[\x00-\x09\x0b-\x1f\x7f-\x9f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]")


class _Inert:
    """A renderable shown with U+FFFD for each :data:`_UNSHOWABLE` character of its text.

    What ``wf`` prints holds text of others' choosing (workflow ids, signal names, payloads, audit
    lines); printed as sent, an ESC in it would move the reader's cursor, rewrite lines already shown
    or set their clipboard. rich's own styling is not text, so it survives.
    """

    def __init__(self, renderable: RenderableType) -> None:
        self.renderable = renderable

    def __rich_console__(self, console: Console, options: ConsoleOptions) -> Iterator[Segment]:
        for segment in console.render(self.renderable, options):
            if segment.control or not _UNSHOWABLE.search(segment.text):
                yield segment
            else:
                yield Segment(_UNSHOWABLE.sub("\ufffd", segment.text), segment.style)


def _connect_hint(status: grpc.StatusCode) -> str:
    """What to check when connecting failed: the credentials when the server refused them, else
    whether a server listens where the CLI dialled."""
    if status == grpc.StatusCode.UNAUTHENTICATED:
        return ("hint: the server requires credentials: pass an API key with --api-key or WF_API_KEY "
                "(`wf operator api-key create` makes one), or a client certificate it maps.")
    if status == grpc.StatusCode.PERMISSION_DENIED:
        return "hint: the credentials given lack the role this needs; ask an admin of the namespace."
    return ("hint: is a server running there? Start one with `wf server start-dev`, "
            "or point --address / WF_ADDRESS at yours.")


def _print(*renderables: RenderableType) -> None:
    """Print for people. Piped output is not cut to 80 columns (ids and event names survive
    ``| grep``), and table cells' trailing padding is trimmed; no character of the text shown is one
    a terminal would act on (:class:`_Inert`)."""
    wide = Console().is_terminal or "COLUMNS" in os.environ
    console = Console(highlight=False, emoji=False, markup=False, width=None if wide else 240)
    with console.capture() as captured:
        for renderable in renderables:
            console.print(_Inert(renderable))
    click.echo("\n".join(line.rstrip() for line in captured.get().splitlines()))


def _print_json(value: Any) -> None:
    click.echo(json.dumps(value, indent=2, default=render.json_default, ensure_ascii=False))


async def _start(client: Client, opts: dict[str, Any], **signal: Any) -> WorkflowHandle:
    """Start a workflow from the start options; ``signal``: ``start_signal`` and its arguments, for
    signal-with-start."""
    policy = opts["id_reuse_policy"]
    conflict = opts["id_conflict_policy"]
    return await client.start_workflow(
        opts["workflow_type"], *opts["args"],
        id=opts["workflow_id"] or str(uuid.uuid4()),
        task_queue=opts["task_queue"],
        execution_timeout=opts["execution_timeout"],
        run_timeout=opts["run_timeout"],
        task_timeout=opts["task_timeout"],
        id_reuse_policy=_REUSE_POLICIES[policy] if policy else WorkflowIDReusePolicy.ALLOW_DUPLICATE,
        id_conflict_policy=_CONFLICT_POLICIES[conflict] if conflict else WorkflowIDConflictPolicy.FAIL,
        memo=opts.get("memo") or None,
        search_attributes=opts.get("search_attributes") or None,
        **signal,
    )


def _progress(d: WorkflowExecutionDescription) -> Text:
    """The one status line shown while waiting: history size, pending work, a failing workflow task."""
    parts = [f"Waiting for {d.id}: {d.history_length} events"]
    for a in d.pending_activities[:3]:
        attempt = f" attempt {a.attempt}" if a.attempt > 1 else ""
        last = f": {a.last_failure.message}" if a.HasField("last_failure") else ""
        parts.append(f"activity {a.activity_type.name}{attempt}{last}")
    failure = d.last_workflow_task_failure
    if failure is not None:
        n = d.raw.pending_workflow_task.attempt
        parts.append(f"workflow task failing (attempt {n}, see wf workflow describe): {failure.message}")
    return Text(" · ".join(parts), no_wrap=True, overflow="ellipsis")


async def _wait(handle: WorkflowHandle) -> Any:
    """``handle.result()``, with a live status line on stderr when a person is watching, and, once
    it has waited ``_HINT_AFTER`` seconds, a line saying so if a task of the run waits on a task
    queue no worker polls (a wrong type or queue name would otherwise wait forever in silence)."""
    err = Console(stderr=True, highlight=False)
    if not err.is_terminal:
        return await handle.result()
    task = asyncio.ensure_future(handle.result())
    loop = asyncio.get_running_loop()
    hint_at = loop.time() + _HINT_AFTER
    with err.status(Text(f"Waiting for {handle.id}…", no_wrap=True, overflow="ellipsis")) as status:
        while not (await asyncio.wait({task}, timeout=1.0))[0]:
            with contextlib.suppress(RPCError):
                described = await handle.describe()
                status.update(_progress(described))
                if loop.time() >= hint_at and (hint := described.waiting_hint):
                    err.print(Text(f"hint: {hint}"))
                    hint_at = math.inf  # once
    return task.result()


async def _report_outcome(handle: WorkflowHandle, workflow_type: str, settings: _Settings) -> int:
    """Wait for the run, print its result (exit 0) or its failure chain (exit 1)."""
    out: dict[str, Any] = {"workflowId": handle.id, "runId": handle.run_id}
    try:
        out |= {"status": WorkflowExecutionStatus.COMPLETED.name, "result": await _wait(handle)}
    except WorkflowFailureError as exc:
        status = exc.status.name if exc.status is not None else (await handle.describe()).status.name
        cause = exc.cause
        failure = cause.failure if isinstance(cause, FailureError) else None
        lines = render.exception_lines(cause)
        out |= {"status": status,
                "failure": json_format.MessageToDict(failure) if failure is not None else {"message": lines[0]}}
    if settings.json:
        _print_json(out)
    else:
        rows = [("Workflow ID", handle.id), ("Run ID", handle.run_id or ""), ("Type", workflow_type),
                ("Status", out["status"])]
        if "result" in out:
            rows.append(("Result", render.to_json(out["result"])))
        else:
            rows.append(("Failure", render.chain_text(lines)))
        _print(render.key_values(rows))
    return 0 if "result" in out else 1


async def _execute_update(handle: WorkflowHandle, name: str, inputs: list[Any], update_id: str) -> Any:
    """``handle.execute_update``, with a status line on stderr when a person is watching: the call
    waits for as long as no worker runs the workflow's tasks."""
    err = Console(stderr=True, highlight=False)
    if not err.is_terminal:
        return await handle.execute_update(name, *inputs, id=update_id)
    with err.status(Text(f"Waiting for a worker to run update {name} on {handle.id}…", no_wrap=True,
                         overflow="ellipsis")):
        return await handle.execute_update(name, *inputs, id=update_id)


def _confirm(settings: _Settings, line: str, out: dict[str, Any]) -> int:
    """What a command that only asks the server for something prints: one line, or its JSON."""
    if settings.json:
        _print_json(out)
    else:
        click.echo(line)
    return 0


def _on_run(workflow_id: str, run_id: str | None) -> str:
    return f"workflow {workflow_id}" + (f" (run {run_id})" if run_id else "")


async def _follow(client: Client, settings: _Settings, workflow_id: str, run_id: str | None) -> int:
    """Print a run's events as they are written, until it closes: exit 0 if it completed, else 1.

    A long poll on the history: the server answers with the events past the page token, or empty at
    its deadline (poll again with the same token); an empty token means the run closed and every
    event was read.
    """
    execution = common_pb2.WorkflowExecution(workflow_id=workflow_id, run_id=run_id or "")
    token = b""
    last = None
    while True:
        resp = await client.call(
            client.service.GetWorkflowExecutionHistory,
            service_pb2.GetWorkflowExecutionHistoryRequest(
                namespace=client.namespace, execution=execution, wait_new_event=True, next_page_token=token
            ),
            timeout=70,
        )
        # Stay on the run the first answer was about, even if a new run with this id starts later:
        # the page token counts events of that run.
        execution.run_id = execution.run_id or resp.run_id
        events = list(resp.history.events)
        if events:
            if settings.json:
                for event in events:
                    click.echo(json.dumps(json_format.MessageToDict(event), ensure_ascii=False))
            else:
                _print(render.history_table(events, show_header=last is None, fixed_widths=True))
            last = events[-1]
        token = resp.next_page_token
        if not token:
            return 0 if render.close_status(last) == WorkflowExecutionStatus.COMPLETED.name else 1


# -- commands -----------------------------------------------------------------------------------


@click.group("workflow")
@_connection_options(group=True)
@click.pass_context
def workflow_group(ctx: click.Context, address: str, namespace: str, output: str) -> None:
    """Start, follow and inspect workflows."""
    ctx.obj = _Settings(address=address, namespace=namespace, output=output)


@workflow_group.command("start")
@_start_options
@_codec_options
@_connection_options(group=False)
def start_cmd(**opts: Any) -> None:
    """Start a workflow and print its workflow id and run id."""
    opts = _start_arguments(opts)

    async def body(client: Client, settings: _Settings) -> int:
        _show_started(await _start(client, opts), opts, settings)
        return 0

    _run(body)


def _show_started(handle: WorkflowHandle, opts: dict[str, Any], settings: _Settings,
                  *more: tuple[str, str]) -> None:
    """The run a start (or signal-with-start) went to: its ids for scripts, and more for people."""
    if settings.json:
        _print_json({"workflowId": handle.id, "runId": handle.run_id, **{k: v for k, v in more}})
    else:
        _print(render.key_values([
            ("Workflow ID", handle.id), ("Run ID", handle.run_id or ""), ("Type", opts["workflow_type"]),
            ("Namespace", settings.namespace), ("Task queue", opts["task_queue"]),
            *((k.capitalize(), v) for k, v in more),
        ]))


@workflow_group.command("execute")
@_start_options
@_codec_options
@_connection_options(group=False)
def execute_cmd(**opts: Any) -> None:
    """Start a workflow, wait for it, and print its result.

    While it runs, a status line on stderr shows its progress. If it fails, the failure chain is
    printed and the exit code is 1.
    """
    opts = _start_arguments(opts)

    async def body(client: Client, settings: _Settings) -> int:
        handle = await _start(client, opts)
        return await _report_outcome(handle, opts["workflow_type"], settings)

    _run(body)


@workflow_group.command("result")
@_run_options
@_codec_options
@_connection_options(group=False)
def result_cmd(workflow_id: str, run_id: str | None) -> None:
    """Wait for a workflow to close and print its result (exit 1 with its failure if it failed)."""

    async def body(client: Client, settings: _Settings) -> int:
        handle = client.get_workflow_handle(workflow_id, run_id=run_id)
        described = await handle.describe()  # an unknown id fails here, before any waiting
        handle.run_id = described.run_id
        return await _report_outcome(handle, described.workflow_type, settings)

    _run(body)


@workflow_group.command("describe")
@_run_options
@_codec_options
@_connection_options(group=False)
def describe_cmd(workflow_id: str, run_id: str | None) -> None:
    """Show a run: its status, pending activities, the pending workflow task with its last failure
    (message and stack trace), and its result or failure once closed."""

    async def body(client: Client, settings: _Settings) -> int:
        described = await client.get_workflow_handle(workflow_id, run_id=run_id).describe()
        await client.data_converter.decode_message(described.raw)
        hint = described.waiting_hint
        if settings.json:
            _print_json(json_format.MessageToDict(described.raw) | ({"hint": hint} if hint else {}))
        else:
            _print(*render.describe_renderables(described.raw), *_chain_renderables(described))
            if hint:  # last, where it is seen, and on one line whatever the width (for grep)
                click.echo(f"\nhint: {hint}")
        return 0

    _run(body)


def _chain_renderables(d: WorkflowExecutionDescription) -> list[RenderableType]:
    """What describe shows of the run's chain of continue-as-new, its history's size, memo and search
    attributes."""
    rows: list[tuple[str, str | RenderableType]] = [
        ("First run ID", d.first_run_id if d.first_run_id != d.run_id else ""),
        ("Next run ID", d.new_execution_run_id or ""),
        ("History size", f"{d.history_size_bytes:,} bytes" if d.history_size_bytes else ""),
        ("Reset from run", f"{d.reset_base_run_id} at event {d.reset_event_id}: {d.reset_reason}"
         if d.reset_base_run_id else ""),
    ]
    rows += [(f"Memo {k}", json.dumps(v, default=str, ensure_ascii=False)) for k, v in d.memo.items()]
    rows += [
        (f"Search attribute {k}", json.dumps(v, default=str, ensure_ascii=False))
        for k, v in d.search_attributes.items()
    ]
    cost: list[RenderableType] = []
    if d.cost is not None:
        cost = [Text("\nCost", style="bold underline"), render.key_values(list(render.cost_rows(d.cost)))]
    if not any(value for _, value in rows):
        return cost
    return [Text("\nRuns and attributes", style="bold underline"), render.key_values(rows), *cost]


@workflow_group.command("show")
@_run_options
@click.option("--follow", "-f", is_flag=True,
              help="Print events as they happen until the run closes (exit 1 unless it completed).")
@_codec_options
@_connection_options(group=False)
def show_cmd(workflow_id: str, run_id: str | None, follow: bool) -> None:
    """Show a run's event history.

    With --output json it prints the history as protobuf JSON (wf.v1.History), the form a replayer
    loads: wf workflow show -w ID -o json > history.json

    With --follow it keeps printing events as the run writes them and exits when it closes: 0 if it
    completed, 1 if it failed, timed out, was cancelled or terminated. With --output json it then
    prints one wf.v1.HistoryEvent per line (JSON Lines).
    """

    async def body(client: Client, settings: _Settings) -> int:
        if follow:
            return await _follow(client, settings, workflow_id, run_id)
        history = await client.get_workflow_handle(workflow_id, run_id=run_id).fetch_history()
        await _decode_events(client, history.events)
        if settings.json:
            click.echo(history.to_json())
        else:
            _print(render.history_table(history.events))
        return 0

    _run(body)


@workflow_group.command("signal")
@batch.target_options
@click.option("--name", required=True, help="The signal's name (its handler's name in the workflow).")
@_input_option
@_codec_options
@_connection_options(group=False)
def signal_cmd(
    workflow_id: str | None, run_id: str | None, query: str | None, yes: bool, name: str, inputs: list[Any]
) -> None:
    """Send a signal to a running workflow (or, with --query, to every run the query matches)."""
    batch.check_target(workflow_id, run_id, query)

    async def body(client: Client, settings: _Settings) -> int:
        if query is not None:
            return await batch.run_batch(client, query, "signal", lambda h: h.signal(name, *inputs), yes=yes,
                                         as_json=settings.json)
        assert workflow_id is not None
        await client.get_workflow_handle(workflow_id, run_id=run_id).signal(name, *inputs)
        return _confirm(settings, f"signal {name} sent to {_on_run(workflow_id, run_id)}",
                        {"workflowId": workflow_id, "runId": run_id, "signal": name})

    _run(body)


@workflow_group.command("query")
@_run_options
@click.option("--name", required=True, help="The query's name (its handler's name in the workflow).")
@_input_option
@_codec_options
@_connection_options(group=False)
def query_cmd(workflow_id: str, run_id: str | None, name: str, inputs: list[Any]) -> None:
    """Ask a running workflow for a value and print it as JSON.

    A worker runs the workflow's query handler; the history does not change.
    """

    async def body(client: Client, settings: _Settings) -> int:
        handle = client.get_workflow_handle(workflow_id, run_id=run_id)
        try:
            result = await handle.query(name, *inputs)
        except WorkflowQueryFailedError as exc:  # unknown query, arguments that do not fit, a failing handler
            status = exc.__cause__.status.name if isinstance(exc.__cause__, RPCError) else "QUERY_FAILED"
            raise CliError(f"{exc} ({status})") from exc
        except RPCError as exc:
            if exc.status.name != "DEADLINE_EXCEEDED":
                raise
            raise CliError(
                f"{exc.message} ({exc.status.name})\n"
                "hint: a worker answers queries; is one polling the workflow's task queue?"
            ) from exc
        if settings.json:
            _print_json({"result": result})
        else:
            click.echo(render.to_json(result))
        return 0

    _run(body)


@workflow_group.command("update")
@_run_options
@click.option("--name", required=True, help="The update's name (its handler's name in the workflow).")
@_input_option
@click.option("--update-id", help="The update's id (default: a new UUID). Sending the same id again does "
                                  "not run the update twice: it waits for the first one's outcome.")
@_codec_options
@_connection_options(group=False)
def update_cmd(workflow_id: str, run_id: str | None, name: str, inputs: list[Any], update_id: str | None) -> None:
    """Run an update on a running workflow, wait for its handler, and print its result as JSON.

    If the workflow's validator rejects it or its handler raises, the failure chain is printed and
    the exit code is 1. The history records accepted updates (their outcome too), not rejected ones.
    """
    uid = update_id or str(uuid.uuid4())

    async def body(client: Client, settings: _Settings) -> int:
        handle = client.get_workflow_handle(workflow_id, run_id=run_id)
        if handle.run_id is None:
            handle.run_id = (await handle.describe()).run_id  # report, and update, the run it went to
        out: dict[str, Any] = {"workflowId": handle.id, "runId": handle.run_id, "updateId": uid}
        try:
            result = await _execute_update(handle, name, inputs, uid)
        except WorkflowUpdateFailedError as exc:  # rejected by its validator, or its handler raised
            cause = exc.cause
            failure = cause.failure if isinstance(cause, FailureError) else None
            lines = render.exception_lines(cause)
            if settings.json:
                _print_json(out | {"failure": json_format.MessageToDict(failure) if failure is not None
                                   else {"message": lines[0]}})
            else:
                click.echo(render.chain_text([f"update {name!r} failed", *lines]))
            return 1
        if settings.json:
            _print_json(out | {"result": result})
        else:
            click.echo(render.to_json(result))
        return 0

    _run(body, interrupted=f"a delivered update stays delivered: run this again with --update-id {uid} "
                           "for its outcome")


@workflow_group.command("cancel")
@batch.target_options
@_reason_option
@_connection_options(group=False)
def cancel_cmd(workflow_id: str | None, run_id: str | None, query: str | None, yes: bool, reason: str) -> None:
    """Ask a workflow (or, with --query, every run the query matches) to cancel.

    The workflow sees a CancelledError and may clean up before it closes as Canceled; `wf workflow
    result` waits for that.
    """
    batch.check_target(workflow_id, run_id, query)

    async def body(client: Client, settings: _Settings) -> int:
        if query is not None:
            return await batch.run_batch(client, query, "cancel", lambda h: h.cancel(reason=reason), yes=yes,
                                         as_json=settings.json)
        assert workflow_id is not None
        await client.get_workflow_handle(workflow_id, run_id=run_id).cancel(reason=reason)
        return _confirm(settings, f"cancellation requested for {_on_run(workflow_id, run_id)}",
                        {"workflowId": workflow_id, "runId": run_id, "reason": reason})

    _run(body)


@workflow_group.command("terminate")
@batch.target_options
@_reason_option
@_connection_options(group=False)
def terminate_cmd(workflow_id: str | None, run_id: str | None, query: str | None, yes: bool, reason: str) -> None:
    """End a workflow (or, with --query, every run the query matches) at once, as Terminated; no
    more of its code runs."""
    batch.check_target(workflow_id, run_id, query)

    async def body(client: Client, settings: _Settings) -> int:
        if query is not None:
            return await batch.run_batch(client, query, "terminate", lambda h: h.terminate(reason), yes=yes,
                                         as_json=settings.json)
        assert workflow_id is not None
        await client.get_workflow_handle(workflow_id, run_id=run_id).terminate(reason)
        return _confirm(settings, f"{_on_run(workflow_id, run_id)} terminated",
                        {"workflowId": workflow_id, "runId": run_id, "reason": reason})

    _run(body)


@workflow_group.command("delete")
@batch.target_options
@_connection_options(group=False)
def delete_cmd(workflow_id: str | None, run_id: str | None, query: str | None, yes: bool) -> None:
    """Delete a run with its history at once (or, with --query, every run the query matches); a
    running run is terminated first. Closed runs are also deleted by their namespace's retention."""
    batch.check_target(workflow_id, run_id, query)

    async def body(client: Client, settings: _Settings) -> int:
        if query is not None:
            return await batch.run_batch(client, query, "delete", lambda h: h.delete(), yes=yes,
                                         as_json=settings.json)
        assert workflow_id is not None
        await client.get_workflow_handle(workflow_id, run_id=run_id).delete()
        return _confirm(settings, f"{_on_run(workflow_id, run_id)} deleted",
                        {"workflowId": workflow_id, "runId": run_id})

    _run(body)


@workflow_group.command("list")
@click.option("--query", "-q", default="", metavar="QUERY",
              help="A list query, as Temporal's: WorkflowType = 'Greeting' AND ExecutionStatus = 'Running' "
                   "AND CustomerId IN ('c-1', 'c-2'); =, !=, <, >, AND, OR, NOT, IN, BETWEEN, STARTS_WITH, "
                   "IS NULL; ORDER BY StartTime|CloseTime|ExecutionTime [ASC|DESC], or by a cost: "
                   "HistoryLength, HistorySizeBytes, StateTransitionCount, WorkflowTaskAttempts, "
                   "ActivityAttempts, PayloadBytesIn, PayloadBytesOut.")
@click.option("--limit", type=click.IntRange(min=1), help="Show at most this many runs (newest first).")
@_connection_options(group=False)
def list_cmd(query: str, limit: int | None) -> None:
    """List workflow runs: running ones first, then the newest (or in the query's ORDER BY)."""

    async def body(client: Client, settings: _Settings) -> int:
        executions = []
        page_size = min(limit or 100, 1000)
        async for execution in client.list_workflows(query, page_size=page_size):
            executions.append(execution)
            if limit is not None and len(executions) >= limit:
                break
        if settings.json:
            _print_json([render.execution_json(e) for e in executions])
        else:
            _print(render.executions_table(executions))
        return 0

    _run(body)


@workflow_group.command("signal-with-start")
@_start_options
@click.option("--signal-name", required=True, help="The signal's name (its handler's name in the workflow).")
@click.option("--signal-input", "signal_inputs", multiple=True, callback=_parse_inputs, metavar="JSON",
              help="One signal argument as JSON; repeat it for several arguments.")
@click.option("--signal-input-file", "signal_input_files", multiple=True, callback=_parse_input_files,
              metavar="PATH", help="A file holding one signal argument as JSON; repeat it. Not with --signal-input.")
@_codec_options
@_connection_options(group=False)
def signal_with_start_cmd(**opts: Any) -> None:
    """Send a signal to a workflow, starting it first if it is not running (in one step: the signal is
    never lost between a start and a send). Prints the run that received it."""
    if not opts["workflow_id"]:
        raise click.UsageError("signal-with-start needs --workflow-id: the workflow to signal, or to start")
    opts = _start_arguments(opts)
    args = _arguments(opts["signal_inputs"], opts["signal_input_files"], "signal-input")

    async def body(client: Client, settings: _Settings) -> int:
        name = opts["signal_name"]
        handle = await _start(client, opts, start_signal=name, start_signal_args=args)
        _show_started(handle, opts, settings, ("signal", name))
        return 0

    _run(body)


@workflow_group.command("count")
@click.option("--query", "-q", default="", metavar="QUERY",
              help="A list query, as `wf workflow list` takes it; GROUP BY ExecutionStatus counts per status.")
@_connection_options(group=False)
def count_cmd(query: str) -> None:
    """Count workflow runs (those matching --query, or all), in the server's database."""

    async def body(client: Client, settings: _Settings) -> int:
        counted = await client.count_workflows(query)
        if settings.json:
            groups = [{"groupValues": g.group_values, "count": g.count} for g in counted.groups]
            _print_json({"count": counted.count, **({"groups": groups} if groups else {})})
        else:
            click.echo(f"Total: {counted.count}")
            for g in counted.groups:
                click.echo(f"  {', '.join(str(v) for v in g.group_values)}: {g.count}")
        return 0

    _run(body)
