"""Visibility in the SDK: search attribute types, typed search attribute values, and counts.

The names are temporalio's: ``SearchAttributeIndexedValueType`` (the types a namespace registers),
``WorkflowExecutionCount`` with its ``groups`` of ``WorkflowExecutionCountAggregationGroup``.
"""

from __future__ import annotations

import enum
import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from wf.v1 import common_pb2, service_pb2


class SearchAttributeIndexedValueType(enum.IntEnum):
    """The type of a search attribute's values (the wire enum, numbers as Temporal's)."""

    TEXT = service_pb2.INDEXED_VALUE_TYPE_TEXT
    KEYWORD = service_pb2.INDEXED_VALUE_TYPE_KEYWORD
    INT = service_pb2.INDEXED_VALUE_TYPE_INT
    DOUBLE = service_pb2.INDEXED_VALUE_TYPE_DOUBLE
    BOOL = service_pb2.INDEXED_VALUE_TYPE_BOOL
    DATETIME = service_pb2.INDEXED_VALUE_TYPE_DATETIME
    KEYWORD_LIST = service_pb2.INDEXED_VALUE_TYPE_KEYWORD_LIST

    @property
    def label(self) -> str:
        """The type as Temporal's CLI writes it: ``Keyword``, ``KeywordList``…"""
        return "".join(part.capitalize() for part in self.name.split("_"))

    @classmethod
    def from_label(cls, label: str) -> SearchAttributeIndexedValueType:
        """``Keyword``, ``keyword`` or ``KEYWORD_LIST`` → the type; ValueError naming the known ones."""
        wanted = label.replace("_", "").lower()
        for member in cls:
            if member.label.lower() == wanted:
                return member
        raise ValueError(f"unknown search attribute type {label!r}; known: {', '.join(m.label for m in cls)}")


@dataclass(frozen=True)
class WorkflowExecutionCountAggregationGroup:
    """One group of a count with ``GROUP BY``: its value(s) and how many runs have them."""

    count: int
    group_values: list[Any] = field(default_factory=list)


@dataclass(frozen=True)
class WorkflowExecutionCount:
    """``client.count_workflows(query)``: the runs matched, and per group with ``GROUP BY ExecutionStatus``."""

    count: int
    groups: list[WorkflowExecutionCountAggregationGroup] = field(default_factory=list)

    @staticmethod
    def from_proto(resp: service_pb2.CountWorkflowExecutionsResponse) -> WorkflowExecutionCount:
        return WorkflowExecutionCount(
            count=resp.count,
            groups=[
                WorkflowExecutionCountAggregationGroup(
                    count=g.count, group_values=[json.loads(v.data) for v in g.group_values]
                )
                for g in resp.groups
            ],
        )


def decode_search_attributes(named: Mapping[str, common_pb2.Payload]) -> dict[str, Any]:
    """Search attribute values as the server keeps them (JSON with a ``type`` entry), typed: a
    Datetime a timezone-aware UTC datetime, a KeywordList a list, an Int an int, a Double a float."""
    values: dict[str, Any] = {}
    for name, payload in named.items():
        try:
            value = json.loads(payload.data) if payload.data else None
        except ValueError:
            value = payload.data
        kind = payload.metadata.get("type", b"").decode()
        if kind == "Datetime" and isinstance(value, str):
            parsed = datetime.fromisoformat(value)
            value = parsed.replace(tzinfo=UTC) if parsed.tzinfo is None else parsed.astimezone(UTC)
        elif kind == "KeywordList" and isinstance(value, str):
            value = [value]
        elif kind == "Double" and isinstance(value, int):
            value = float(value)
        values[name] = value
    return values


def search_attribute_payloads(values: Mapping[str, Any]) -> dict[str, common_pb2.Payload]:
    """A plain mapping of search attributes as JSON payloads (never through a codec: the server reads
    them); a datetime goes as RFC 3339 (UTC when naive), a set or tuple as a list, None as null (an
    upsert's removal)."""
    named: dict[str, common_pb2.Payload] = {}
    for name, value in values.items():
        if not isinstance(name, str) or not name:
            raise TypeError(f"search attribute names are non-empty strings, got {name!r}")
        if value is None:
            named[name] = common_pb2.Payload(metadata={"encoding": b"binary/null"})
            continue
        if isinstance(value, datetime):
            value = (value if value.tzinfo else value.replace(tzinfo=UTC)).isoformat()
        elif isinstance(value, (set, frozenset, tuple)):
            value = sorted(value) if isinstance(value, (set, frozenset)) else list(value)
        try:
            data = json.dumps(value, separators=(",", ":"), ensure_ascii=False)
        except TypeError as exc:
            raise TypeError(
                f"search attribute {name!r}: {type(value).__name__} is no search attribute value "
                "(str, int, float, bool, datetime, or a list of str)"
            ) from exc
        named[name] = common_pb2.Payload(metadata={"encoding": b"json/plain"}, data=data.encode())
    return named


def upserted_locally(current: Mapping[str, Any], values: Mapping[str, Any]) -> dict[str, Any]:
    """``workflow.info().search_attributes`` after an upsert, as the workflow sees it before the
    server records it: values set (a datetime in UTC, a set or tuple a list), None removing one."""
    out = dict(current)
    for name, value in values.items():
        if value is None:
            out.pop(name, None)
        elif isinstance(value, datetime):
            out[name] = (value if value.tzinfo else value.replace(tzinfo=UTC)).astimezone(UTC)
        elif isinstance(value, (set, frozenset, tuple)):
            out[name] = sorted(value) if isinstance(value, (set, frozenset)) else list(value)
        else:
            out[name] = value
    return out
