"""Handles, in workflow code, on workflows other than the running one."""

from __future__ import annotations

from typing import Any

from worker_sdk._definition import signal_name
from worker_sdk._instance import current_instance


class ExternalWorkflowHandle:
    """Another workflow, by id (and run id, or its running run), as workflow code addresses it
    (``workflow.get_external_workflow_handle``)."""

    def __init__(self, workflow_id: str, run_id: str | None = None) -> None:
        self.id = workflow_id
        self.run_id = run_id

    async def signal(self, signal: Any, *args: Any) -> None:
        """Signal the workflow: a handler method (``Other.approve``) or a signal name, and its
        arguments. Returns once the signal is recorded in the other workflow's history.

        Raises:
            ApplicationError: type ``ExternalWorkflowExecutionNotFound`` when the workflow does not
                exist or is closed (nothing is delivered).
        """
        instance = current_instance("ExternalWorkflowHandle.signal()")
        await instance.signal_external(self.id, self.run_id or "", signal_name(signal), args)

    async def cancel(self) -> None:
        """Ask the workflow to cancel (RequestCancelExternalWorkflowExecution). Returns once the
        request is recorded in the other workflow's history; how it reacts is its own affair.

        Raises:
            ApplicationError: type ``ExternalWorkflowExecutionNotFound`` when the workflow does not
                exist or is closed (nothing is recorded in it).
        """
        instance = current_instance("ExternalWorkflowHandle.cancel()")
        await instance.children.cancel_external(self.id, self.run_id or "")
