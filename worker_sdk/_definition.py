"""What the decorators record: workflow and activity definitions, found again from user objects."""

from __future__ import annotations

import dataclasses
import inspect
import typing
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

_WORKFLOW_ATTR = "__wf_workflow_definition__"
_RUN_ATTR = "__wf_workflow_run__"
_ACTIVITY_ATTR = "__wf_activity_definition__"
_SIGNAL_ATTR = "__wf_signal_name__"
_QUERY_ATTR = "__wf_query_name__"
_UPDATE_ATTR = "__wf_update_name__"
_VALIDATOR_ATTR = "__wf_update_validator__"


def _param_hints(fn: Callable[..., Any], skip_self: bool) -> tuple[list[Any], Any]:
    try:
        hints = typing.get_type_hints(fn)
    except Exception:  # unresolved forward references: decode untyped
        hints = {}
    params = list(inspect.signature(fn).parameters.values())
    if skip_self and params:
        params = params[1:]
    arg_hints = [
        hints.get(p.name)
        for p in params
        if p.kind in (inspect.Parameter.POSITIONAL_ONLY, inspect.Parameter.POSITIONAL_OR_KEYWORD)
    ]
    return arg_hints, hints.get("return")


@dataclass(frozen=True)
class WorkflowDefinition:
    name: str
    # The class (None for a workflow written as a plain async function).
    cls: type | None
    run_fn: Callable[..., Any]
    arg_hints: list[Any]
    return_hint: Any
    # Signal name → the method that handles it.
    signals: dict[str, Callable[..., Any]] = dataclasses.field(default_factory=dict)
    # Query name → the method that answers it.
    queries: dict[str, Callable[..., Any]] = dataclasses.field(default_factory=dict)
    # Update name → the method that runs it (its validator is an attribute of the method).
    updates: dict[str, Callable[..., Any]] = dataclasses.field(default_factory=dict)

    @staticmethod
    def of(obj: Any) -> WorkflowDefinition:
        """The definition behind a workflow class, its run method, or a decorated function."""
        defn = getattr(obj, _WORKFLOW_ATTR, None)
        if isinstance(defn, WorkflowDefinition):
            return defn
        raise TypeError(
            f"{getattr(obj, '__qualname__', obj)!r} is not a workflow: decorate the class with "
            "@workflow.defn and its entry method with @workflow.run"
        )


def define_workflow(obj: Any, name: str | None) -> Any:
    if inspect.isclass(obj):
        runs = [m for _, m in inspect.getmembers(obj, inspect.isfunction) if getattr(m, _RUN_ATTR, False)]
        if len(runs) != 1:
            raise TypeError(
                f"workflow class {obj.__qualname__} needs exactly one method decorated with @workflow.run "
                f"(found {len(runs)})"
            )
        run = runs[0]
        if not inspect.iscoroutinefunction(run):
            raise TypeError(f"{obj.__qualname__}.{run.__name__} must be `async def`")
        arg_hints, ret = _param_hints(run, skip_self=True)
        handlers: dict[str, dict[str, Callable[..., Any]]] = {"signal": {}, "query": {}, "update": {}}
        for _, member in inspect.getmembers(obj, inspect.isfunction):
            for kind, attr in (("signal", _SIGNAL_ATTR), ("query", _QUERY_ATTR), ("update", _UPDATE_ATTR)):
                handler_name = getattr(member, attr, None)
                if handler_name is None:
                    continue
                if handler_name in handlers[kind]:
                    raise TypeError(f"workflow class {obj.__qualname__} has two handlers for {kind} {handler_name!r}")
                handlers[kind][handler_name] = member
        defn = WorkflowDefinition(
            name or obj.__name__, obj, run, arg_hints, ret, handlers["signal"], handlers["query"], handlers["update"]
        )
        setattr(obj, _WORKFLOW_ATTR, defn)
        setattr(run, _WORKFLOW_ATTR, defn)
        return obj
    if inspect.iscoroutinefunction(obj):
        arg_hints, ret = _param_hints(obj, skip_self=False)
        defn = WorkflowDefinition(name or obj.__name__, None, obj, arg_hints, ret)
        setattr(obj, _WORKFLOW_ATTR, defn)
        return obj
    raise TypeError("@workflow.defn goes on a class (with an @workflow.run method) or an `async def` function")


def mark_signal(fn: Any, name: str | None) -> Any:
    if not callable(fn):
        raise TypeError("@workflow.signal goes on a method of a workflow class")
    setattr(fn, _SIGNAL_ATTR, name or fn.__name__)
    return fn


def mark_query(fn: Any, name: str | None) -> Any:
    if inspect.iscoroutinefunction(fn):
        raise TypeError(
            f"@workflow.query handler {fn.__qualname__} must be a plain `def`: a query reads state, it cannot wait"
        )
    if not callable(fn):
        raise TypeError("@workflow.query goes on a method of a workflow class")
    setattr(fn, _QUERY_ATTR, name or fn.__name__)
    return fn


def mark_update(fn: Any, name: str | None) -> Any:
    if not callable(fn):
        raise TypeError("@workflow.update goes on a method of a workflow class")
    setattr(fn, _UPDATE_ATTR, name or fn.__name__)

    def validator(check: Any) -> Any:
        if inspect.iscoroutinefunction(check):
            raise TypeError(f"update validator {check.__qualname__} must be a plain `def`: it cannot wait")
        setattr(fn, _VALIDATOR_ATTR, check)
        return check

    fn.validator = validator
    return fn


def update_validator(fn: Callable[..., Any]) -> Callable[..., Any] | None:
    return getattr(fn, _VALIDATOR_ATTR, None)


def handler_name(obj: Any, kind: str = "query") -> str:
    """The query (or update) name of a handler method, or the string itself."""
    if isinstance(obj, str):
        return obj
    name = getattr(obj, _UPDATE_ATTR if kind == "update" else _QUERY_ATTR, None)
    if name is None:
        what = getattr(obj, "__qualname__", obj)
        raise TypeError(f"{what!r} is not a {kind} handler: decorate it with @workflow.{kind}")
    return str(name)


def signal_name(obj: Any) -> str:
    """The signal name of a handler method, or the string itself."""
    if isinstance(obj, str):
        return obj
    name = getattr(obj, _SIGNAL_ATTR, None)
    if name is None:
        what = getattr(obj, "__qualname__", obj)
        raise TypeError(f"{what!r} is not a signal handler: decorate it with @workflow.signal")
    return str(name)


def check_arguments(fn: Callable[..., Any], args: Sequence[Any], converter: Any, what: str) -> None:
    """Raise TypeError unless ``args`` fit ``fn`` (self excluded): count, and a round trip through the
    data converter into its parameter types."""
    params = [
        p for p in list(inspect.signature(fn).parameters.values())[1:]
        if p.kind in (inspect.Parameter.POSITIONAL_ONLY, inspect.Parameter.POSITIONAL_OR_KEYWORD)
    ]
    required = [p for p in params if p.default is inspect.Parameter.empty]
    if not len(required) <= len(args) <= len(params):
        raise TypeError(f"{what} takes {len(params)} argument(s), got {len(args)}")
    hints, _ = _param_hints(fn, skip_self=True)
    try:
        converter.from_payloads(converter.to_payloads(list(args)), hints)
    except (TypeError, ValueError, KeyError) as exc:
        raise TypeError(f"{what}: the arguments do not convert to its parameter types: {exc}") from exc


def mark_run(fn: Any) -> Any:
    if not inspect.iscoroutinefunction(fn):
        raise TypeError(f"@workflow.run method {fn.__qualname__} must be `async def`")
    setattr(fn, _RUN_ATTR, True)
    return fn


@dataclass(frozen=True)
class ActivityDefinition:
    name: str
    fn: Callable[..., Any]
    is_async: bool
    arg_hints: list[Any]
    return_hint: Any

    @staticmethod
    def of(obj: Any) -> ActivityDefinition:
        defn = getattr(obj, _ACTIVITY_ATTR, None)
        if isinstance(defn, ActivityDefinition):
            return defn
        raise TypeError(f"{getattr(obj, '__qualname__', obj)!r} is not an activity: decorate it with @activity.defn")


def define_activity(fn: Any, name: str | None) -> Any:
    if not callable(fn) or inspect.isclass(fn):
        raise TypeError("@activity.defn goes on a function (async def, or def to run in a thread)")
    arg_hints, ret = _param_hints(fn, skip_self=inspect.ismethod(fn))
    setattr(
        fn,
        _ACTIVITY_ATTR,
        ActivityDefinition(name or fn.__name__, fn, inspect.iscoroutinefunction(fn), arg_hints, ret),
    )
    return fn
