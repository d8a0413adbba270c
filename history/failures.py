"""Bounds on the failures a run keeps: how deep a cause chain goes, how long its texts are, how many
bytes of details ride along.

A ``Failure`` nests one level per cause, and protobuf refuses to parse a message nested more than
100 deep. A failure is stored a few levels down (in the run's state, in an event) and returned a few
levels further down still (an event in a history in a poll response), so a chain a hundred causes
deep would leave the run unreadable: describe, terminate, and every timer that fires on it parse its
state. Every failure a worker or a client sends is therefore bounded before it is stored.

Bounding truncates rather than refuses, as Temporal does. A failure records an outcome (an activity's
attempt failed, a workflow task failed, a workflow failed) and refusing it would lose that outcome:
the attempt would only time out, the workflow task would fail again on every retry. What is cut says
so in the failure itself, with the setting that would keep more: the causes past the depth are
summarized in the innermost kept failure's message, a long text keeps its beginning and its end.
The server adds at most one level of its own to a failure it was sent (a timeout caused by the last
attempt's failure), so what it stores and returns stays far from protobuf's limit.
"""

from __future__ import annotations

import itertools

from wf.history.limits import Limits
from wf.v1 import common_pb2

# Kinds of dropped causes named in the summary, and characters of the innermost one's message.
_SUMMARY_KINDS = 8
_SUMMARY_MESSAGE = 200
_KIND = 64
# A stack trace keeps this share of its allowed length from its beginning, the rest from its end,
# where Python puts the innermost frames and the exception.
_TRACE_HEAD = 0.25


def kind(failure: common_pb2.Failure) -> str:
    """What a failure is, in a word: its application type, or the kind of its info."""
    info = failure.WhichOneof("failure_info")
    if info == "application_failure_info" and failure.application_failure_info.type:
        return failure.application_failure_info.type
    return (info or "failure").removesuffix("_failure_info").replace("_", " ")


def cut(text: str, limit: int, what: str, *, keep_end: bool = False) -> str:
    """``text`` within ``limit`` characters, the note of how much was cut and under which limit
    included, so that cutting again changes nothing."""
    if len(text) <= limit:
        return text
    note = f"\n… [cut from {len(text):,} characters: over the {what}] …\n"
    room = max(limit - len(note), 0)
    if not keep_end:
        return text[:room] + note
    head = int(room * _TRACE_HEAD)
    return text[:head] + note + text[len(text) - (room - head) :]


def summary(dropped: list[common_pb2.Failure]) -> str:
    """The causes cut from a chain in one short line: how many, their kinds (runs of one kind
    counted once), and the innermost one, which is often what went wrong first."""
    runs = [(k, len(list(group))) for k, group in itertools.groupby(_short(kind(f), _KIND) for f in dropped)]
    kinds = ", ".join(f"{k} ×{n}" if n > 1 else k for k, n in runs[:_SUMMARY_KINDS])
    if len(runs) > _SUMMARY_KINDS:
        kinds += ", …"
    last = dropped[-1]
    more = "cause" if len(dropped) == 1 else "causes"
    return (
        f"… and {len(dropped):,} more {more}: {kinds}; "
        f"the innermost: {_short(kind(last), _KIND)}: {_short(last.message, _SUMMARY_MESSAGE)}"
    )


def _short(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[:limit] + "…"


def _details_of(failure: common_pb2.Failure) -> common_pb2.Payloads | None:
    info = failure.WhichOneof("failure_info")
    if info == "application_failure_info":
        return failure.application_failure_info.details
    if info == "canceled_failure_info":
        return failure.canceled_failure_info.details
    if info == "timeout_failure_info":
        return failure.timeout_failure_info.last_heartbeat_details
    return None


def _size(p: common_pb2.Payloads) -> int:
    return sum(len(x.data) + sum(len(k) + len(v) for k, v in x.metadata.items()) for x in p.payloads)


def bound_failure(failure: common_pb2.Failure, limits: Limits) -> bool:
    """Bound ``failure`` and its causes in place (see the module's docstring); whether anything was
    cut. The chain keeps ``max_failure_depth`` failures, the outermost included. Bounding a bounded
    failure changes nothing, so it may be applied on every path a failure takes."""
    chain = [failure]
    while chain[-1].HasField("cause"):
        chain.append(chain[-1].cause)
    kept = chain[: limits.max_failure_depth]
    budget = limits.max_payload_bytes
    changed = False
    for i, f in enumerate(kept):
        # What the message must keep at its end: the note of dropped details, the dropped causes.
        notes = ""
        details = _details_of(f)
        if details is not None and details.payloads:
            size = _size(details)
            if size > budget:
                details.Clear()
                notes += f"\n[details of {size:,} bytes dropped: over the {limits.describe('max_payload_bytes')}]"
            else:
                budget -= size
        if i == len(kept) - 1 and len(chain) > len(kept):
            notes += f"\n{summary(chain[len(kept):])}\n[causes cut at the {limits.describe('max_failure_depth')}]"
            f.ClearField("cause")
        message = cut(f.message, limits.max_failure_message_length - len(notes), _message_limit(limits)) + notes
        trace = cut(f.stack_trace, limits.max_stack_trace_length, _trace_limit(limits), keep_end=True)
        source = cut(f.source, limits.max_id_length, limits.describe("max_id_length"))
        if (message, trace, source) != (f.message, f.stack_trace, f.source):
            f.message, f.stack_trace, f.source = message, trace, source
            changed = True
        if f.HasField("application_failure_info"):
            info = f.application_failure_info
            if len(info.type) > limits.max_id_length:
                info.type = cut(info.type, limits.max_id_length, limits.describe("max_id_length"))
                changed = True
    return changed


def _message_limit(limits: Limits) -> str:
    return limits.describe("max_failure_message_length")


def _trace_limit(limits: Limits) -> str:
    return limits.describe("max_stack_trace_length")


def bound_text(text: str, limits: Limits) -> str:
    """An error message that is not a Failure (a query's), within the failure message length."""
    return cut(text, limits.max_failure_message_length, _message_limit(limits))


__all__ = ["bound_failure", "bound_text", "cut", "kind", "summary"]
