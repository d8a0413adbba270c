"""The SDK's public surface changes only on purpose: these lists are the contract users code against."""

from __future__ import annotations

import worker_sdk
from worker_sdk import activity, errors, workflow


def public(module: object) -> set[str]:
    return {name for name in dir(module) if not name.startswith("_")}


def test_top_level_exports() -> None:
    assert set(worker_sdk.__all__) == {
        "activity",
        "workflow",
        "Client",
        "Worker",
        "RetryPolicy",
        "WorkflowHandle",
        "WorkflowExecution",
        "WorkflowExecutionDescription",
        "WorkflowExecutionStatus",
        "WorkflowHistory",
        "WorkflowIDReusePolicy",
        "WorkflowIDConflictPolicy",
        "WorkflowUpdateHandle",
        "DataConverter",
        "PayloadCodec",
        "PayloadConverter",
    }
    for name in worker_sdk.__all__:
        assert hasattr(worker_sdk, name)


def test_workflow_exports() -> None:
    assert set(workflow.__all__) == {
        "defn",
        "run",
        "signal",
        "set_signal_handler",
        "query",
        "update",
        "execute_activity",
        "start_activity",
        "ActivityHandle",
        "ActivityCancellationType",
        "sleep",
        "wait_condition",
        "patched",
        "deprecate_patch",
        "now",
        "random",
        "uuid4",
        "info",
        "Info",
        "logger",
        "in_workflow",
    }


def test_activity_exports() -> None:
    assert set(activity.__all__) == {"defn", "info", "Info", "in_activity", "heartbeat", "is_cancelled"}


def test_error_exports() -> None:
    assert set(errors.__all__) == {
        "WfError",
        "FailureError",
        "ApplicationError",
        "ActivityError",
        "ChildWorkflowError",
        "CancelledError",
        "TerminatedError",
        "TimeoutError",
        "TimeoutType",
        "RetryState",
        "ServerError",
        "WorkflowFailureError",
        "WorkflowAlreadyStartedError",
        "WorkflowQueryFailedError",
        "WorkflowUpdateFailedError",
        "NondeterminismError",
        "RPCError",
    }
    for name in errors.__all__:
        assert name in public(errors)
    # Every error the SDK raises shares one root.
    roots = ("FailureError", "WorkflowFailureError", "WorkflowAlreadyStartedError", "NondeterminismError", "RPCError")
    for name in roots:
        assert issubclass(getattr(errors, name), errors.WfError)


def test_workflow_functions_refuse_outside_a_workflow() -> None:
    import pytest

    for fn in (workflow.now, workflow.random, workflow.uuid4, workflow.info):
        with pytest.raises(RuntimeError, match="only be called from workflow code"):
            fn()
    assert not workflow.in_workflow()
    with pytest.raises(RuntimeError, match="only be called from activity code"):
        activity.info()


def test_testing_exports() -> None:
    from worker_sdk import testing

    assert set(testing.__all__) == {"Replayer", "ReplayResult"}
