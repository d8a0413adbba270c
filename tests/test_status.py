"""One execution status enum, the wire contract's: the SDK, the list query and the store all use it."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from wf.history.errors import InvalidArgument
from wf.history.schema import RUNNING, executions
from wf.history.statements import Statement
from wf.history.visibility.query import compile_query
from wf.v1 import common_pb2
from worker_sdk import WorkflowExecutionStatus

PREFIX = "WORKFLOW_EXECUTION_STATUS_"
WIRE = {
    name.removeprefix(PREFIX): number
    for name, number in common_pb2.WorkflowExecutionStatus.items()
    if number != common_pb2.WORKFLOW_EXECUTION_STATUS_UNSPECIFIED
}


def test_the_sdk_enum_is_the_wire_enum() -> None:
    # The names users see (handle.describe().status.name, `wf workflow list`) are the wire names.
    assert {s.name: int(s) for s in WorkflowExecutionStatus} == WIRE


@pytest.mark.parametrize("name", list(WIRE))
def test_every_status_can_be_listed_by_its_query_word(name: str) -> None:
    word = "".join(part.capitalize() for part in name.split("_"))  # ContinuedAsNew
    for query in (f"ExecutionStatus = '{word}'", f'ExecutionStatus = "{name}"'):
        compiled = compile_query(query, {})
        sql = Statement(select(executions.c.run_id).where(compiled.where)).sql
        assert sql.endswith(f"WHERE executions.status = {WIRE[name]}") and compiled.params == {}


def test_an_unknown_status_names_the_known_ones() -> None:
    with pytest.raises(InvalidArgument) as exc:
        compile_query("ExecutionStatus = 'Sleeping'", {})
    assert "Running, Completed, Failed, Canceled, Terminated, ContinuedAsNew, TimedOut" in str(exc.value)


def test_the_one_running_run_index_uses_the_wire_status() -> None:
    [index] = [ix for ix in executions.indexes if ix.name == "executions_one_running"]
    assert RUNNING == common_pb2.WORKFLOW_EXECUTION_STATUS_RUNNING
    assert str(index.dialect_options["postgresql"]["where"]) == f"status = {RUNNING}"
