"""Retention: closed runs are deleted with everything of theirs once their namespace's retention has
passed since they closed, and one run may be deleted at once (``DeleteWorkflowExecution``).

A run goes with its history events, task rows, timer rows and queries, in one statement (``DELETE``
CTEs over the same chosen runs), so nothing of a run is left half deleted. The background loop
(:meth:`Retention.run`, a task of every server: ``wf-retention`` in ``server/app.py``) deletes in
small batches, each its own short transaction with a pause after it, so the live workload keeps the
database: a batch locks only the runs it deletes, and picks them with ``FOR UPDATE SKIP LOCKED``, so
several servers share the work without waiting on each other or deleting a run twice. When a batch
comes back smaller than asked, nothing more is due now and the loop sleeps ``idle`` seconds.

A closed run whose close still has a cross-run task to deliver (its parent to tell, its children to
terminate under a parent close policy) keeps it until that task fired: deleting the row would lose
what the close asked of another run. Those tasks are due at once, so this delays a deletion by a
moment at most.

Deleting one run (:meth:`Retention.delete_run`) terminates it first if it runs (reason
``"deleted"``), as Temporal does, then deletes it. Every deletion drops the run from this server's
record cache and announces its close (``c``), so other servers drop theirs and any long poll on its
history looks again and finds it gone.

The runs of a deleted namespace go the same way, running ones too (nothing can reach them any
more), and the namespace's row goes after its last run.

The audit log's lines (``wf.history.audit``) go in the same loop: those older than their namespace's
retention, and a deleted namespace's before its row.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Sequence
from dataclasses import dataclass

from wf.history import errors
from wf.history.audit import AuditStore
from wf.history.operations.signals import Signals
from wf.history.runs import Runs
from wf.history.schedules.store import ScheduleStore
from wf.v1 import common_pb2

log = logging.getLogger(__name__)

DELETED_REASON = "deleted"
"""The reason recorded when a run is terminated because it is being deleted."""


@dataclass(frozen=True, slots=True)
class RetentionSettings:
    """How the background deletion paces itself."""

    batch: int = 100
    """Most runs one statement deletes."""
    pause: float = 0.05
    """Seconds between two batches while runs are due."""
    idle: float = 10.0
    """Seconds between looks when nothing was due."""


class Retention:
    """Deletes runs: those past their namespace's retention, in the background, and one on request."""

    def __init__(self, runs: Runs, signals: Signals, settings: RetentionSettings | None = None) -> None:
        self.runs = runs
        self.signals = signals
        self.settings = settings or RetentionSettings()
        self.deleted = 0
        """Runs this server deleted since it started (for tests and the benchmark)."""

    # -- the background loop ------------------------------------------------------------------------

    async def run(self) -> None:
        """Delete due runs until cancelled; a database that cannot serve is waited out, never fatal."""
        while True:
            try:
                more = await self.delete_due()
            except errors.Unavailable:  # the store's outage log said so
                more = False
            except Exception:  # a bug: logged in full, and the loop must not end
                log.exception("deleting runs past their retention failed")
                more = False
            await asyncio.sleep(self.settings.pause if more else self.settings.idle)

    async def delete_due(self) -> bool:
        """One batch: runs past retention, else runs of a deleted namespace. Whether more may be due."""
        batch = self.settings.batch
        gone = await self.runs.store.delete_due_runs(batch)
        self._forget(gone)
        if len(gone) >= batch:
            return True
        # The audit log's lines past their namespace's retention (``wf.history.audit``).
        if await AuditStore(self.runs.store).delete_expired(batch) >= batch:
            return True
        for namespace in await self.runs.store.deleted_namespaces():
            # Its schedules go first, so none starts a run in a namespace being dropped.
            await ScheduleStore(self.runs.store).delete_namespace(namespace)
            # Its audit lines, before the namespace's row goes (they are deleted with it).
            if await AuditStore(self.runs.store).delete_namespace(namespace, batch) >= batch:
                return True
            gone = await self.runs.store.delete_namespace_runs(namespace, batch)
            self._forget(gone)
            if len(gone) >= batch:
                return True
            if await self.runs.store.drop_deleted_namespace(namespace):
                log.info("namespace %s deleted with all its runs", namespace)
        return False

    # -- one run, at once ----------------------------------------------------------------------------

    async def delete_run(self, namespace: str, workflow_id: str, run_id: str, identity: str) -> None:
        """Delete the run (the latest of the workflow id when ``run_id`` is empty), terminating it first
        if it runs. NotFound if there is no such run."""
        record = await self.runs.resolve_run(namespace, workflow_id, run_id)
        key = (namespace, record.workflow_id, record.run_id)
        for _ in range(100):
            if record.status == common_pb2.WORKFLOW_EXECUTION_STATUS_RUNNING:
                try:
                    await self.signals.terminate(
                        namespace, record.workflow_id, record.run_id, DELETED_REASON, common_pb2.Payloads(), identity
                    )
                except errors.FailedPrecondition:
                    pass  # it closed meanwhile
            if await self.runs.store.delete_closed_run(*key):
                self._forget([key])
                return
            # Still running (a change raced the terminate), or its close has a cross-run task that
            # fires at once: wait for the run to change, briefly, and look again.
            await self.runs.wait_for_change(key, 0.1)
            found = await self.runs.store.load(*key)
            if found is None:
                return  # deleted meanwhile (retention, another server)
            record = found
        raise errors.Unavailable(f"workflow {workflow_id!r} run {record.run_id} could not be deleted yet; try again")

    def _forget(self, runs: Sequence[tuple[str, str, str]]) -> None:
        """The deleted runs leave this server's cache, and every server is told as of a close."""
        for key in runs:
            self.runs.forget(key)
        self.deleted += len(runs)


__all__ = ["DELETED_REASON", "Retention", "RetentionSettings"]
