"""Limits the history service enforces, with the defaults Temporal users know."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from typing import ClassVar

# The longest timeout, retry interval or back-off the server accepts (Temporal caps timers at 100
# years too): a fire time further out cannot be computed, and the request is refused instead.
MAX_DURATION_SECONDS = 100 * 365 * 24 * 3600


def id_length(value: str) -> int:
    """The length an id limit counts: UTF-8 bytes (as Temporal does), since ids are indexed and an
    index entry must fit in a third of a database page."""
    return len(value.encode())


@dataclass(frozen=True)
class Limits:
    """Every limit names the ``wf server`` flag that raises it in its error message."""

    max_payload_bytes: int = 2 * 1024 * 1024
    warn_payload_bytes: int = 512 * 1024
    max_history_events: int = 51_200
    max_history_bytes: int = 50 * 1024 * 1024
    max_pending_activities: int = 2_000
    max_pending_timers: int = 2_000
    max_signals_per_run: int = 10_000
    max_updates_in_flight: int = 10
    max_updates_per_run: int = 2_000
    max_id_length: int = 1_000
    default_workflow_task_timeout: timedelta = timedelta(seconds=10)
    max_workflow_task_timeout: timedelta = timedelta(minutes=2)
    # Back-off between attempts of a failing workflow task: doubles from the first, up to the cap.
    workflow_task_retry_first: timedelta = timedelta(seconds=1)
    workflow_task_retry_cap: timedelta = timedelta(minutes=10)

    FLAGS: ClassVar[dict[str, str]] = {
        "max_payload_bytes": "--max-payload-bytes",
        "max_history_events": "--max-history-events",
        "max_history_bytes": "--max-history-bytes",
        "max_pending_activities": "--max-pending-activities",
        "max_pending_timers": "--max-pending-timers",
        "max_signals_per_run": "--max-signals-per-run",
        "max_updates_in_flight": "--max-updates-in-flight",
        "max_updates_per_run": "--max-updates-per-run",
        "max_id_length": "--max-id-length",
    }

    def describe(self, name: str) -> str:
        """'<limit> of <value> (raise it with <flag>)' for error messages."""
        value = getattr(self, name)
        return f"{name.replace('_', ' ')} of {value:,} (raise it with `{self.FLAGS[name]}` on `wf server start`)"
