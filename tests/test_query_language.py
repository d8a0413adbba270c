"""The list query language through a real server and PostgreSQL: every operator on every type, the
per-type rules, and the refusals (each naming its position), including quotes, unicode and SQL
injection attempts, which must stay inert values."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

import asyncpg
import grpc
import pytest

from wf.server.app import asyncpg_dsn
from worker_sdk import Client, SearchAttributeIndexedValueType
from worker_sdk.errors import RPCError

T = SearchAttributeIndexedValueType
ATTRIBUTES = {
    "CustomerId": T.KEYWORD,
    "Amount": T.INT,
    "Score": T.DOUBLE,
    "Urgent": T.BOOL,
    "DueAt": T.DATETIME,
    "Tags": T.KEYWORD_LIST,
    "Note": T.TEXT,
}

# The runs each test module starts once: name → (workflow id suffix, workflow type, search attributes).
RUNS: dict[str, tuple[str, dict[str, object]]] = {
    "a": ("Order", {"CustomerId": "c-17", "Amount": 10, "Score": 1.5, "Urgent": True,
                    "DueAt": datetime(2026, 1, 5, tzinfo=UTC), "Tags": ["vip", "eu"], "Note": "late delivery"}),
    "b": ("Order", {"CustomerId": "c-2", "Amount": 200, "Score": 9.25, "Urgent": False,
                    "DueAt": datetime(2026, 2, 1, tzinfo=UTC), "Tags": ["eu"], "Note": "refund requested"}),
    "c": ("Order", {"CustomerId": "a AND b", "Amount": -3}),
    "d": ("Agent", {"CustomerId": "ünïcødé 客户", "Tags": ["it's"]}),
    "e": ("Agent", {}),
}


@pytest.fixture(scope="module")
def marker() -> str:
    return f"ql-{uuid.uuid4().hex[:8]}"


@pytest.fixture
async def runs(client: Client, marker: str) -> dict[str, str]:
    """The runs of :data:`RUNS` on a task queue of this module (started once), by name → workflow id."""
    await client.add_search_attributes(ATTRIBUTES)
    existing = {w.id async for w in client.list_workflows(f"TaskQueue = '{marker}'")}
    ids = {name: f"{marker}-{name}" for name in RUNS}
    for name, (workflow_type, attributes) in RUNS.items():
        if ids[name] not in existing:
            await client.start_workflow(
                workflow_type, id=ids[name], task_queue=marker, search_attributes=attributes or None
            )
    return ids


async def matching(client: Client, marker: str, runs: dict[str, str], query: str) -> set[str]:
    by_id = {v: k for k, v in runs.items()}
    found = {w.id async for w in client.list_workflows(f"TaskQueue = '{marker}' AND ({query})")}
    assert (await client.count_workflows(f"TaskQueue = '{marker}' AND ({query})")).count == len(found)
    return {by_id[i] for i in found}


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        # Keyword: every operator.
        ("CustomerId = 'c-17'", "a"),
        ("CustomerId != 'c-17'", "bcd"),
        ("CustomerId > 'c-17'", "bd"),
        ("CustomerId >= 'c-17'", "abd"),
        ("CustomerId < 'c-17'", "c"),
        ("CustomerId <= 'c-2'", "abc"),
        ("CustomerId IN ('c-2', 'c-17', 'nobody')", "ab"),
        ("CustomerId NOT IN ('c-2', 'c-17')", "cd"),
        ("CustomerId BETWEEN 'c-1' AND 'c-2'", "ab"),
        ("CustomerId NOT BETWEEN 'c-1' AND 'c-2'", "cd"),
        ("CustomerId STARTS_WITH 'c-'", "ab"),
        ("CustomerId NOT STARTS_WITH 'c-'", "cd"),
        ("CustomerId IS NULL", "e"),
        ("CustomerId IS NOT NULL", "abcd"),
        # AND inside a string, quotes, unicode.
        ("CustomerId = 'a AND b'", "c"),
        ('CustomerId = "a AND b"', "c"),
        ("CustomerId = 'ünïcødé 客户'", "d"),
        ("Tags = 'it''s'", "d"),
        ("Tags = 'it\\'s'", "d"),
        # Int, Double, Bool, Datetime.
        ("Amount = 10", "a"),
        ("Amount != 10", "bc"),
        ("Amount > 0", "ab"),
        ("Amount <= 10", "ac"),
        ("Amount BETWEEN -5 AND 10", "ac"),
        ("Amount IN (200, -3)", "bc"),
        ("Score >= 1.5 AND Score < 9.25", "a"),
        ("Score BETWEEN 2 AND 10", "b"),
        ("Urgent = true", "a"),
        ("Urgent != TRUE", "b"),
        ("DueAt > '2026-01-10T00:00:00Z'", "b"),
        ("DueAt = '2026-01-05T01:00:00+01:00'", "a"),
        ("DueAt BETWEEN '2026-01-01T00:00:00Z' AND '2026-01-31T23:59:59Z'", "a"),
        # KeywordList: contains.
        ("Tags = 'eu'", "ab"),
        ("Tags != 'vip'", "bd"),
        ("Tags IN ('vip', 'it''s')", "ad"),
        ("Tags NOT IN ('vip')", "bd"),
        # Text: a full-text match.
        ("Note = 'delivery'", "a"),
        ("Note = 'Refund'", "b"),
        ("Note != 'delivery'", "b"),
        # Built-in attributes, AND, OR, NOT, parentheses.
        ("WorkflowType = 'Agent'", "de"),
        ("WorkflowType = 'Agent' OR Amount < 0", "cde"),
        ("NOT WorkflowType = 'Agent'", "abc"),
        ("(WorkflowType = 'Order' AND Urgent = false) OR CustomerId IS NULL", "be"),
        ("WorkflowType = 'Order' AND NOT (Amount > 100 OR Amount < 0)", "a"),
        ("ExecutionStatus = 'Running' AND CloseTime IS NULL", "abcde"),
        ("ExecutionStatus IN ('Completed', 'Failed')", ""),
        ("StartTime > '2000-01-01T00:00:00Z' AND HistoryLength >= 2 AND StateTransitionCount > 0", "abcde"),
        ("RootWorkflowId STARTS_WITH 'ql-' AND ParentWorkflowId IS NULL", "abcde"),
        ("ExecutionTime <= '2999-01-01T00:00:00Z' AND HistorySizeBytes > 0", "abcde"),
        # wf's built-in attributes of cost: no worker has run these runs, nor have they any input.
        ("WorkflowTaskAttempts = 0 AND ActivityAttempts = 0 AND PayloadBytesIn = 0 AND PayloadBytesOut = 0", "abcde"),
        ("WorkflowTaskAttempts > 0 OR ActivityAttempts >= 1 OR PayloadBytesIn != 0", ""),
        ("ActivityAttempts BETWEEN 0 AND 1 AND PayloadBytesOut IN (0, 5) AND PayloadBytesIn IS NOT NULL", "abcde"),
        ("PayloadBytesIn IS NULL", ""),
        ("WorkflowType = 'Agent' and CustomerId is null", "e"),
        ("`CustomerId` = 'c-2'", "b"),
    ],
)
async def test_each_operator_on_each_type(
    client: Client, marker: str, runs: dict[str, str], query: str, expected: str
) -> None:
    assert await matching(client, marker, runs, query) == set(expected)


async def test_sql_injection_attempts_are_inert_values(
    client: Client, marker: str, runs: dict[str, str], db_url: str
) -> None:
    for attempt in (
        "CustomerId = 'x'' OR ''1''=''1'",
        "CustomerId = 'x''; DROP TABLE executions; --'",
        "Tags = '\"]}'' OR true --'",
        "Note = ''');DELETE FROM executions;--'",
        "CustomerId STARTS_WITH '%'",
        "CustomerId STARTS_WITH '_'",
    ):
        assert await matching(client, marker, runs, attempt) == set(), attempt
    conn = await asyncpg.connect(asyncpg_dsn(db_url))
    try:
        assert await conn.fetchval("SELECT count(*) FROM executions WHERE task_queue = $1", marker) == len(RUNS)
    finally:
        await conn.close()


@pytest.mark.parametrize(
    ("query", "says"),
    [
        ("CustomerId = ", "at position 14 (the end of the query): expected"),
        ("CustomerId == 'x'", "at position 13: expected"),
        ("CustomerId = 'x", "at position 14: unexpected character"),
        ("(CustomerId = 'x'", "at position 18 (the end of the query): expected ')'"),
        ("CustomerId = 'x' AND", "at position 21 (the end of the query)"),
        ("CustomerId = 'x'; DROP TABLE executions", "at position 17: unexpected character ';'"),
        ("CustomerId = 'x' LIMIT 10", "at position 18: LIMIT is not supported"),
        ("Colour = 'red'", "at position 1: unknown search attribute 'Colour'"),
        ("Amount = 'ten'", "at position 10: 'Amount' is of type Int"),
        ("Amount = 1.5", "is of type Int: 1.5 is not an integer"),
        ("Urgent = 'yes'", "'Urgent' is of type Bool"),
        ("Urgent > true", "only = and != apply"),
        ("DueAt > 'last week'", "at position 9: 'last week' is not an RFC 3339 time"),
        ("DueAt > 5", "'DueAt' is of type Datetime"),
        ("Note > 'a'", "'Note' is of type Text, which only = and !="),
        ("Note STARTS_WITH 'a'", "STARTS_WITH does not apply to 'Note'"),
        ("Tags > 'a'", "'Tags' is of type KeywordList"),
        ("Tags BETWEEN 'a' AND 'b'", "BETWEEN does not apply to 'Tags'"),
        ("Amount STARTS_WITH '1'", "STARTS_WITH does not apply to 'Amount'"),
        ("CustomerId = 17", "'CustomerId' is of type Keyword: compare it with a quoted string"),
        ("ExecutionStatus = 'Sleeping'", "unknown ExecutionStatus 'Sleeping'"),
        ("ExecutionStatus > 'Running'", "ExecutionStatus takes =, !=, IN and NOT IN only"),
        ("CustomerId = 'x' ORDER BY CustomerId", "ORDER BY takes a built-in time field"),
        ("CustomerId = 'x' ORDER BY Amount DESC", "or a built-in Int of cost (HistoryLength, HistorySizeBytes"),
        ("ORDER BY ExecutionDuration", "at position 10: ORDER BY takes a built-in time field"),
        ("ORDER BY ActivityAttempts DESC, StartTime", "at position 33: ORDER BY takes one field"),
        ("ActivityAttempts = 'many'", "'ActivityAttempts' is of type Int: compare it with a number"),
        ("PayloadBytesIn STARTS_WITH '1'", "STARTS_WITH does not apply to 'PayloadBytesIn'"),
        ("CustomerId = 'x' GROUP BY ExecutionStatus", "GROUP BY applies to a count only"),
    ],
)
async def test_a_malformed_query_is_refused_naming_the_position(client: Client, query: str, says: str) -> None:
    await client.add_search_attributes(ATTRIBUTES)
    with pytest.raises(RPCError) as refused:
        [w async for w in client.list_workflows(query)]
    assert refused.value.status == grpc.StatusCode.INVALID_ARGUMENT
    assert says in refused.value.message


async def test_a_query_nested_too_deeply_or_too_long_is_refused_not_a_crash(client: Client) -> None:
    # Parentheses alone add no depth: they only group.
    assert (await client.count_workflows("(" * 500 + "WorkflowId = 'none-such'" + ")" * 500)).count == 0
    for query in ("NOT " * 300 + "WorkflowId = 'x'", "(NOT " * 100 + "WorkflowId = 'x'" + ")" * 100,
                  "WorkflowId IN (" + ", ".join(["'x'"] * 20_000) + ")"):
        with pytest.raises(RPCError) as refused:
            await client.count_workflows(query)
        assert refused.value.status == grpc.StatusCode.INVALID_ARGUMENT
