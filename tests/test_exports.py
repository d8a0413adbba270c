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
        "AsyncActivityHandle",
        "DataConverter",
        "PayloadCodec",
        "PayloadConverter",
        "WorkflowCost",
        "ResetType",
        "ResetReapplyType",
        "ResetReapplyExcludeType",
        "SearchAttributeIndexedValueType",
        "WorkflowExecutionCount",
        "WorkflowExecutionCountAggregationGroup",
        "TLSConfig",
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
        "get_external_workflow_handle",
        "upsert_search_attributes",
        "upsert_memo",
        "memo",
        "memo_value",
        "ExternalWorkflowHandle",
        "start_child_workflow",
        "execute_child_workflow",
        "ChildWorkflowHandle",
        "ParentClosePolicy",
        "ChildWorkflowCancellationType",
        "ParentInfo",
        "RootInfo",
        "continue_as_new",
        "ContinueAsNewError",
        "HandlerUnfinishedPolicy",
        "all_handlers_finished",
        "has_last_completion_result",
        "get_last_completion_result",
        "get_last_failure",
    }


def test_activity_exports() -> None:
    assert set(activity.__all__) == {
        "defn", "info", "Info", "in_activity", "heartbeat", "is_cancelled", "raise_complete_async",
    }


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
        "ScheduleAlreadyRunningError",
        "WorkflowQueryFailedError",
        "WorkflowUpdateFailedError",
        "ResultTimeoutError",
        "NondeterminismError",
        "WorkflowCodeError",
        "DeterminismViolation",
        "WorkflowLoopError",
        "DeadlockError",
        "NotInWorkflowError",
        "NotInActivityError",
        "CompleteAsyncError",
        "AsyncActivityCancelledError",
        "RPCError",
        "ContinueAsNewError",
    }
    for name in errors.__all__:
        assert name in public(errors)
    # Control flow is a BaseException, so that workflow code's ``except Exception`` cannot swallow it.
    assert issubclass(errors.ContinueAsNewError, BaseException)
    assert not issubclass(errors.ContinueAsNewError, Exception)
    # Every error the SDK raises shares one root.
    for name in errors.__all__:
        if name not in ("TimeoutType", "RetryState", "ContinueAsNewError"):
            assert issubclass(getattr(errors, name), errors.WfError), name
    # ...and keeps the builtin base users may already catch it by.
    assert issubclass(errors.ResultTimeoutError, TimeoutError)
    for name in ("DeterminismViolation", "NotInWorkflowError", "NotInActivityError"):
        assert issubclass(getattr(errors, name), RuntimeError), name
    for name in ("DeterminismViolation", "WorkflowLoopError", "DeadlockError"):
        assert issubclass(getattr(errors, name), errors.WorkflowCodeError), name


def test_every_error_the_sdk_defines_is_exported() -> None:
    """No module of the SDK raises an exception class of its own that users cannot import."""
    import importlib
    import pkgutil

    exported = {getattr(errors, name) for name in errors.__all__}
    for info in pkgutil.iter_modules(worker_sdk.__path__):
        module = importlib.import_module(f"worker_sdk.{info.name}")
        for value in vars(module).values():
            if isinstance(value, type) and issubclass(value, Exception) and value.__module__.startswith("worker_sdk"):
                private = value.__name__.startswith("_") or value.__name__ == "QueryError"
                assert private or value in exported, f"{module.__name__}.{value.__name__} is not in worker_sdk.errors"


def test_workflow_functions_refuse_outside_a_workflow() -> None:
    import pytest

    for fn in (workflow.now, workflow.random, workflow.uuid4, workflow.info):
        with pytest.raises(errors.NotInWorkflowError, match="only be called from workflow code"):
            fn()
        with pytest.raises(RuntimeError):  # what it was before it had a class of its own
            fn()
    assert not workflow.in_workflow()
    for afn in (activity.info, activity.heartbeat, activity.is_cancelled):
        with pytest.raises(errors.NotInActivityError, match="only be called from activity code"):
            afn()


def test_testing_exports() -> None:
    from worker_sdk import testing

    assert set(testing.__all__) == {"Replayer", "ReplayResult", "WorkflowEnvironment"}


def test_schedules_exports() -> None:
    from worker_sdk import schedules

    assert set(schedules.__all__) == {
        "Schedule", "ScheduleAction", "ScheduleActionStartWorkflow", "ScheduleSpec", "ScheduleIntervalSpec",
        "ScheduleCalendarSpec", "ScheduleRange", "SchedulePolicy", "ScheduleOverlapPolicy", "ScheduleState",
        "ScheduleBackfill", "ScheduleUpdate", "ScheduleUpdateInput", "ScheduleHandle", "ScheduleDescription",
        "ScheduleInfo", "ScheduleActionResult", "ScheduleActionExecution", "ScheduleActionExecutionStartWorkflow",
        "ScheduleListDescription", "ScheduleListSchedule", "ScheduleListAction", "ScheduleListActionStartWorkflow",
        "ScheduleListInfo", "ScheduleListState", "ScheduleAsyncIterator", "ScheduleAlreadyRunningError",
    }
    for name in schedules.__all__:
        assert hasattr(schedules, name), name
