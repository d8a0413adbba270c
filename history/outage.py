"""One log of database outages per server process, so an outage is a few lines, not a flood.

While PostgreSQL is down every statement fails: each commit, timer read, backlog read and call. A
line (let alone a traceback) for each is thousands of lines a minute that bury what an operator
needs: that the database went away, what the failures look like, and when and after how long it came
back. :class:`DatabaseHealth` is told of each failure and each success of a statement (by the store,
the one place statements run, and by the notifier's own connections) and logs:

- the first failure of each kind (the driver error's type), then at most one line per kind per
  ``interval``, counting the failures it did not log;
- one line when a statement succeeds again, with how long the outage lasted and how many
  statements failed meanwhile.

A failure whose kind was logged within the interval, when nothing else was logged since the last
recovery, is a straggler (a pooled connection that died with the old server fails once after the
database is back): it is counted, and it starts no new outage in the log.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass

log = logging.getLogger("wf.history.database")

INTERVAL = 10.0
"""At most one line per kind of failure per this many seconds."""


@dataclass(slots=True)
class _Kind:
    logged_at: float
    suppressed: int = 0


class DatabaseHealth:
    """Whether the database answers, as the statements this process ran last saw it."""

    def __init__(self, *, interval: float = INTERVAL, clock: Callable[[], float] = time.monotonic) -> None:
        self.interval = interval
        self._clock = clock
        self._kinds: dict[str, _Kind] = {}
        # The outage being reported: when its first failure came, how many failed since, and whether
        # a line said so (only then does its end get a line too).
        self._since: float | None = None
        self._failures = 0
        self._reported = False

    @property
    def down(self) -> bool:
        """Whether the last statement failed for a reason that trying again may cure."""
        return self._since is not None

    def failed(self, what: str, exc: BaseException) -> None:
        """A statement failed with ``exc`` (the driver's error) while ``what`` ran."""
        now = self._clock()
        if self._since is None:
            self._since, self._failures = now, 0
        self._failures += 1
        kind = type(exc).__name__
        seen = self._kinds.get(kind)
        if seen is not None and now - seen.logged_at < self.interval:
            seen.suppressed += 1
            return
        more = ""
        if seen is not None and seen.suppressed:
            more = f" ({seen.suppressed} more like it in the last {now - seen.logged_at:.0f} s)"
        self._kinds[kind] = _Kind(now)
        self._reported = True
        log.warning("database unavailable: %s failed: %s: %s%s", what, kind, _first_line(exc), more)

    def now(self) -> float:
        """The time on the clock :meth:`ok` takes (a statement notes it before it starts)."""
        return self._clock()

    def ok(self, started: float | None = None) -> None:
        """A statement succeeded: an outage in progress is over, if the statement ``started`` (on
        :meth:`now`'s clock) after the outage's first failure. One that began before it and finished
        only now (its answer was on the way when the database died) says nothing of the database now.
        """
        if self._since is None or (started is not None and started < self._since):
            return
        if self._reported:
            log.warning(
                "database available again after %.1f s (%d statements failed meanwhile)",
                self._clock() - self._since, self._failures,
            )
        self._since = None
        self._reported = False


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return text[0][:200] if text else "(no message)"
