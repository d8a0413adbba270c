"""Replaying recorded histories against today's workflow code (public as ``worker_sdk.testing``).

A change to workflow code is safe to deploy when every history recorded by the old code still replays:
the new code, fed the same events, asks for the same commands in the same order. The
:class:`Replayer` checks exactly that, through the same code path a worker takes for each workflow
task, without a server::

    from worker_sdk.testing import Replayer

    replayer = Replayer(workflows=[Order])
    await replayer.replay_workflow(await handle.fetch_history())   # raises NondeterminismError
    await replayer.replay_workflow("tests/histories/order_v1.json")  # a path, or the JSON text itself
    results = await replayer.replay_workflows(paths)                 # never raises: one result each

Histories in JSON are the form ``wf workflow show -w ID --output json`` prints (wf.v1.History); keep a
few as checked-in fixtures and replay them in CI (``wf replay`` does it from a shell).
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from google.protobuf import json_format

from wf.v1 import history_pb2
from worker_sdk._client import WorkflowHistory
from worker_sdk._converter import DataConverter
from worker_sdk._definition import WorkflowDefinition
from worker_sdk._replay import WorkflowTaskInput, run_workflow_task

H = history_pb2


@dataclass(frozen=True)
class ReplayResult:
    """How one history replayed: ``error`` is None when it matched the code.

    Attributes:
        workflow_id: the workflow id of the history (a file's stem when it was loaded from a path).
        error: the :class:`~worker_sdk.errors.NondeterminismError` (or the exception workflow code
            raised, or the reason the history could not be read), or None.
    """

    workflow_id: str
    error: Exception | None = None

    @property
    def ok(self) -> bool:
        return self.error is None


class Replayer:
    """Replays histories against a set of workflow definitions, the way a worker would.

    Args:
        workflows: workflow classes (or ``@workflow.defn`` functions); a history's workflow type is
            looked up by name among them.
        data_converter: the converter the recorded run's workers used; with a payload codec, the
            history's payloads are decoded before replay. Defaults to JSON without a codec.
        namespace: what ``workflow.info().namespace`` answers during replay.
    """

    def __init__(
        self,
        workflows: Sequence[Any],
        *,
        data_converter: DataConverter | None = None,
        namespace: str = "default",
    ) -> None:
        if not workflows:
            raise ValueError("a Replayer needs at least one workflow")
        self._workflows: dict[str, WorkflowDefinition] = {}
        for w in workflows:
            defn = WorkflowDefinition.of(w)
            if defn.name in self._workflows:
                raise ValueError(f"workflow type {defn.name!r} is registered twice")
            self._workflows[defn.name] = defn
        self.data_converter = data_converter or DataConverter.default
        self.namespace = namespace

    async def replay_workflow(
        self,
        history: WorkflowHistory | str | os.PathLike[str],
        *,
        workflow_id: str | None = None,
    ) -> ReplayResult:
        """Replay one history and check every command the code asks for against it.

        Args:
            history: a :class:`~worker_sdk.WorkflowHistory` (``handle.fetch_history()``), the JSON text
                ``wf workflow show --output json`` prints, or the path of a file holding it.
            workflow_id: the id ``workflow.info()`` reports; defaults to the history's own (a file's
                stem, or ``"replay"`` for bare JSON text).

        Returns:
            A successful :class:`ReplayResult`. A run still open replays up to its last completed
            workflow task.

        Raises:
            NondeterminismError: the code asked for something other than what the history recorded;
                the message names the event id, what the history holds, what the code asked for,
                and the file:line of the workflow code.
            LookupError: the history's workflow type is not among this replayer's workflows.
            ValueError: the history cannot be read (not JSON, or not a wf.v1.History).
            OSError: the file cannot be read.
            Exception: anything else workflow code raised (on a worker it would fail the workflow task).
        """
        loaded = _load(history, workflow_id)
        events = list(loaded.events)
        if not events or events[0].event_type != H.EVENT_TYPE_WORKFLOW_EXECUTION_STARTED:
            raise ValueError(f"history of {loaded.workflow_id!r} does not begin with WorkflowExecutionStarted")
        started = events[0].workflow_execution_started_event_attributes
        workflow_type = started.workflow_type.name
        if workflow_type not in self._workflows:
            raise LookupError(
                f"workflow type {workflow_type!r} of {loaded.workflow_id!r} is not among the replayer's "
                f"workflows ({', '.join(sorted(self._workflows))})"
            )
        # A workflow task in flight when the history was taken decided nothing yet: drop its Started
        # event so the run replays to its last completed task (as replay, with workflow.logger silent)
        # instead of running that task for real.
        if events[-1].event_type == H.EVENT_TYPE_WORKFLOW_TASK_STARTED:
            events.pop()
        # A copy: the codec decodes in place, and the caller's history stays as it was recorded.
        proto = history_pb2.History(events=events)
        await self.data_converter.decode_message(proto)
        task = WorkflowTaskInput(
            namespace=self.namespace,
            workflow_id=loaded.workflow_id,
            run_id=started.original_execution_run_id,
            workflow_type=workflow_type,
            history=proto,
        )
        # Workflow code runs on its own deterministic loop: off this thread, as on a worker.
        await asyncio.to_thread(run_workflow_task, task, self._workflows.get, self.data_converter)
        return ReplayResult(loaded.workflow_id)

    async def replay_workflows(
        self, histories: Iterable[WorkflowHistory | str | os.PathLike[str]]
    ) -> list[ReplayResult]:
        """Replay each history in turn; never raises for a history that fails (for CI checks).

        Returns:
            One :class:`ReplayResult` per history, in order; a failed one carries its error.
        """
        results = []
        for history in histories:
            try:
                results.append(await self.replay_workflow(history))
            except Exception as exc:
                results.append(ReplayResult(_workflow_id_of(history), exc))
        return results


def _is_json_text(history: str | os.PathLike[str]) -> bool:
    return isinstance(history, str) and history.lstrip().startswith("{")


def _workflow_id_of(history: WorkflowHistory | str | os.PathLike[str]) -> str:
    if isinstance(history, WorkflowHistory):
        return history.workflow_id
    if _is_json_text(history):
        return "replay"
    return Path(history).stem


def _load(history: WorkflowHistory | str | os.PathLike[str], workflow_id: str | None) -> WorkflowHistory:
    if isinstance(history, WorkflowHistory):
        return history if workflow_id is None else WorkflowHistory(workflow_id, history.events)
    if _is_json_text(history):
        text, source = str(history), "the JSON text"
    else:
        path = Path(history)
        text, source = path.read_text(encoding="utf-8"), str(path)
    try:
        return WorkflowHistory.from_json(workflow_id or _workflow_id_of(history), text)
    except json_format.ParseError as exc:
        raise ValueError(
            f"{source} is not a wf.v1.History in JSON (the form `wf workflow show --output json` prints): {exc}"
        ) from exc
