"""Limits the history service enforces, with the defaults Temporal users know, and the way every
configurable value of wf is described.

A configurable value is a dataclass field made with :func:`setting`: its default, its help text, the
``wf server`` flag and the ``WF_…`` environment variable that set it live in the field's metadata, in
one place. ``wf server start`` and ``start-dev`` generate their options from it (``wf.server.cli``), and an
error past a limit names the flag from it (:meth:`Limits.describe`), so the two cannot drift apart.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from datetime import timedelta
from typing import Any, TypeVar

# The longest timeout, retry interval or back-off the server accepts (Temporal caps timers at 100
# years too): a fire time further out cannot be computed, and the request is refused instead.
MAX_DURATION_SECONDS = 100 * 365 * 24 * 3600

T = TypeVar("T")


def id_length(value: str) -> int:
    """The length an id limit counts: UTF-8 bytes (as Temporal does), since ids are indexed and an
    index entry must fit in a third of a database page."""
    return len(value.encode())


@dataclass(frozen=True)
class Setting:
    """How one configurable value is set: the one description flags, variables and messages use.

    Attributes:
        help: what the value means, for ``--help``.
        flag: the ``wf server`` option; by default ``--`` and the field name with dashes.
        env: the environment variable; by default ``WF_`` and the field name in capitals.
        minimum: the smallest value accepted (durations in seconds).
        maximum: the largest value accepted.
    """

    help: str
    flag: str = ""
    env: str = ""
    minimum: float | None = None
    maximum: float | None = None


_KEY = "wf.setting"


def setting(
    default: T,
    help: str,
    *,
    flag: str = "",
    env: str = "",
    minimum: float | None = None,
    maximum: float | None = None,
) -> T:
    """A dataclass field with ``default`` whose :class:`Setting` is in its metadata."""
    described = Setting(help, flag, env, minimum, maximum)
    return dataclasses.field(default=default, metadata={_KEY: described})


def required_setting(help: str, *, flag: str = "", env: str = "") -> Any:
    """A dataclass field with no default (the option is required), described like :func:`setting`."""
    return dataclasses.field(metadata={_KEY: Setting(help, flag, env)})


def settings(cls: type) -> list[tuple[dataclasses.Field[Any], Setting]]:
    """The fields of dataclass ``cls`` made with :func:`setting`, in order, with flag and variable filled in."""
    found = []
    for f in dataclasses.fields(cls):
        described: Setting | None = f.metadata.get(_KEY)
        if described is None:
            continue
        found.append(
            (
                f,
                dataclasses.replace(
                    described,
                    flag=described.flag or "--" + f.name.replace("_", "-"),
                    env=described.env or "WF_" + f.name.upper(),
                ),
            )
        )
    return found


@dataclass(frozen=True)
class Limits:
    """What one run, one request and one client's stream may hold. Every limit has a ``wf server`` flag, named in the
    message of the error that reaches it."""

    max_payload_bytes: int = setting(
        2 * 1024 * 1024, "Largest payload (input, result) a request may carry.", minimum=1
    )
    warn_payload_bytes: int = setting(512 * 1024, "Payload size from which a warning is logged.", minimum=1)
    max_history_events: int = setting(
        51_200, "Most events one run's history may hold; past it the run fails.", minimum=10
    )
    max_history_bytes: int = setting(
        50 * 1024 * 1024, "Largest one run's history may grow, in bytes; past it the run fails.", minimum=1024
    )
    # Past either, WorkflowTaskStarted records suggest_continue_as_new (workflow.info()
    # .is_continue_as_new_suggested()): decided here, so a replay reads the same answer.
    suggest_continue_as_new_events: int = setting(
        4_096, "History length, in events, from which a workflow task suggests continue-as-new.", minimum=1
    )
    suggest_continue_as_new_bytes: int = setting(
        4 * 1024 * 1024, "History size, in bytes, from which a workflow task suggests continue-as-new.", minimum=1
    )
    max_pending_activities: int = setting(2_000, "Most activities one run may have pending.", minimum=1)
    max_pending_timers: int = setting(2_000, "Most timers one run may have pending.", minimum=1)
    max_pending_children: int = setting(
        2_000, "Most child workflows one run may have started and not seen close.", minimum=1
    )
    max_pending_signals: int = setting(
        2_000, "Most signals to other workflows one run may have sent and not seen delivered.", minimum=1
    )
    max_pending_cancel_requests: int = setting(
        2_000, "Most cancellations of other workflows one run may have asked for and not seen delivered.",
        minimum=1,
    )
    max_signals_per_run: int = setting(10_000, "Most signals one run may receive.", minimum=1)
    max_updates_in_flight: int = setting(
        10, "Most updates one run may have waiting or running at once.", minimum=1
    )
    max_updates_per_run: int = setting(2_000, "Most updates one run may receive.", minimum=1)
    max_waiting_queries: int = setting(
        10,
        "Most queries one run may have waiting for its workflow task at once; more are refused with "
        "RESOURCE_EXHAUSTED.",
        minimum=1,
    )
    max_id_length: int = setting(
        1_000,
        "Longest workflow id, type, task queue or activity id, in UTF-8 bytes "
        "(at most 1,000: the schema's indexes hold no longer keys).",
        minimum=1,
        maximum=1_000,
    )
    # Failures are truncated past these rather than refused (see wf.history.failures): refusing one
    # would lose the outcome it records. The depth is capped at 64 so that a stored failure, wrapped
    # in a run's state or a history, never nears protobuf's parsing limit of 100 levels.
    max_failure_depth: int = setting(
        32,
        "Most failures one cause chain keeps, the outermost included; the causes past it are "
        "summarized in the innermost kept failure's message (at most 64: protobuf parses 100 levels).",
        minimum=1,
        maximum=64,
    )
    max_failure_message_length: int = setting(
        8_192, "Longest failure message kept, in characters; the rest is cut.", minimum=2_048
    )
    max_stack_trace_length: int = setting(
        16_384, "Longest failure stack trace kept, in characters; its beginning and end are kept.", minimum=1_024
    )
    # Per client: what one Multiplex stream may hold (``server/multiplex.py``).
    max_stream_unsent_bytes: int = setting(
        16 * 1024 * 1024,
        "Most bytes of answers one Multiplex stream may hold unsent while its client does not read them "
        "(its first answer goes whatever its size); past it the stream ends with RESOURCE_EXHAUSTED.",
        minimum=64 * 1024,
    )
    max_stream_calls: int = setting(
        10_000,
        "Most calls one Multiplex stream runs at once; past it the server reads no more of the stream "
        "until one ends, and the client's sending waits.",
        minimum=1,
    )
    max_stream_polls: int = setting(
        1_000,
        "Most long polls (for tasks or new history events) one Multiplex stream may have waiting at once; "
        "more are refused with RESOURCE_EXHAUSTED.",
        minimum=1,
    )
    default_workflow_task_timeout: timedelta = setting(
        timedelta(seconds=10), "Workflow task timeout of a run started without one, in seconds.", minimum=0.001
    )
    max_workflow_task_timeout: timedelta = setting(
        timedelta(minutes=2), "Longest workflow task timeout a run may ask for, in seconds.", minimum=0.001
    )
    # Back-off between attempts of a failing workflow task: doubles from the first, up to the cap.
    workflow_task_retry_first: timedelta = setting(
        timedelta(seconds=1),
        "Seconds before a failing workflow task is tried again; doubles with each attempt.",
        minimum=0,
    )
    workflow_task_retry_cap: timedelta = setting(
        timedelta(minutes=10), "Longest wait between attempts of a failing workflow task, in seconds.", minimum=0
    )

    # Namespaces (``wf.history.namespaces``): Temporal's minimum too; lower only for tests and benchmarks.
    min_namespace_retention: timedelta = setting(
        timedelta(hours=1),
        "Shortest retention, in seconds, a namespace may be registered or updated with (closed runs are "
        "deleted that long after they close).",
        minimum=0,
    )

    def describe(self, name: str) -> str:
        """'<limit> of <value> (raise it with <flag> …)' for error messages; a limit already at the
        highest value its flag accepts says that it cannot go higher instead of pointing at the flag."""
        described = _LIMIT_SETTINGS[name]
        value = getattr(self, name)
        shown = f"{value.total_seconds():g} s" if isinstance(value, timedelta) else f"{value:,}"
        number = value.total_seconds() if isinstance(value, timedelta) else value
        cap = described.maximum
        if cap is not None and number >= cap:
            return (
                f"{name.replace('_', ' ')} of {shown} "
                f"(the most `{described.flag}` allows: this limit cannot go higher)"
            )
        up_to = f", up to {cap:,g}" if cap is not None else ""
        return (
            f"{name.replace('_', ' ')} of {shown} "
            f"(raise it with `{described.flag}` or {described.env} on `wf server start`{up_to})"
        )


_LIMIT_SETTINGS = {f.name: s for f, s in settings(Limits)}


def setting_of(cls: type, name: str) -> Setting:
    """The :class:`Setting` of field ``name`` of dataclass ``cls``, flag and variable filled in."""
    for f, described in settings(cls):
        if f.name == name:
            return described
    raise KeyError(name)
