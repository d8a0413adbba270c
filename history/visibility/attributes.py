"""Search attributes: their types, the built-in ones, and the typed values the server keeps.

The SDK sends each value as a JSON payload (never through a payload codec: the server must read it).
The server checks it against the type the namespace registered for its name and keeps it *typed*:
the payload's data normalized (a Datetime in one fixed RFC 3339 form, an Int an integer) and a
``type`` metadata entry naming the type, as Temporal's payloads carry. So describe returns values the
SDK decodes typed, and the execution mirrors the values into the ``search_attributes`` JSONB column
(:func:`document`) without the registry at hand.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from wf.history.errors import InvalidArgument
from wf.v1 import common_pb2, service_pb2

C = common_pb2
S = service_pb2

TEXT = S.INDEXED_VALUE_TYPE_TEXT
KEYWORD = S.INDEXED_VALUE_TYPE_KEYWORD
INT = S.INDEXED_VALUE_TYPE_INT
DOUBLE = S.INDEXED_VALUE_TYPE_DOUBLE
BOOL = S.INDEXED_VALUE_TYPE_BOOL
DATETIME = S.INDEXED_VALUE_TYPE_DATETIME
KEYWORD_LIST = S.INDEXED_VALUE_TYPE_KEYWORD_LIST

# The names of the types as Temporal's CLI and payload metadata write them.
TYPE_NAMES: dict[int, str] = {
    TEXT: "Text",
    KEYWORD: "Keyword",
    INT: "Int",
    DOUBLE: "Double",
    BOOL: "Bool",
    DATETIME: "Datetime",
    KEYWORD_LIST: "KeywordList",
}
TYPES_BY_NAME: dict[str, int] = {name.lower(): number for number, name in TYPE_NAMES.items()}

# The built-in search attributes, as Temporal's: name → (executions column, type). Every namespace
# has them; custom names may not take them, nor begin with the reserved prefix.
BUILT_IN: dict[str, tuple[str, int]] = {
    "WorkflowId": ("workflow_id", KEYWORD),
    "RunId": ("run_id", KEYWORD),
    "WorkflowType": ("workflow_type", KEYWORD),
    "ExecutionStatus": ("status", KEYWORD),
    "StartTime": ("start_time", DATETIME),
    "CloseTime": ("close_time", DATETIME),
    "ExecutionTime": ("execution_time", DATETIME),
    "ExecutionDuration": ("execution_duration", INT),
    "TaskQueue": ("task_queue", KEYWORD),
    "HistoryLength": ("history_length", INT),
    "HistorySizeBytes": ("history_size", INT),
    "StateTransitionCount": ("db_version", INT),
    "ParentWorkflowId": ("parent_workflow_id", KEYWORD),
    "ParentRunId": ("parent_run_id", KEYWORD),
    "RootWorkflowId": ("root_workflow_id", KEYWORD),
    "RootRunId": ("root_run_id", KEYWORD),
    # wf's own (Temporal has none of them): what a run cost beyond the three above, from
    # ``MutableState.cost`` (``wf.history.cost``). Every workflow task attempt counts, failed and
    # timed out ones included.
    "WorkflowTaskAttempts": ("workflow_task_attempts", INT),
    "ActivityAttempts": ("activity_attempts", INT),
    "PayloadBytesIn": ("payload_bytes_in", INT),
    "PayloadBytesOut": ("payload_bytes_out", INT),
    # Set by a schedule on the runs it starts (``wf.history.schedules``), as Temporal's: kept in the
    # run's JSONB document like a custom attribute (no column: ""), never set by a user.
    "TemporalScheduledById": ("", KEYWORD),
    "TemporalScheduledStartTime": ("", DATETIME),
}
RESERVED_PREFIX = "Temporal"
_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
MAX_NAME_LENGTH = 255
_TYPE = "type"
_ENCODING = "encoding"
_JSON = b"json/plain"
_INT_RANGE = (-(2**63), 2**63 - 1)
# Temporal's default limits on a run's search attributes: bytes of one value, of all, and how many.
MAX_VALUE_BYTES = 2048
MAX_TOTAL_BYTES = 40 * 1024
MAX_PER_RUN = 100


def type_name(value_type: int) -> str:
    return TYPE_NAMES.get(value_type, str(value_type))


def check_custom_name(name: str) -> None:
    """Refuse a name a custom search attribute may not have (InvalidArgument)."""
    if not _NAME.fullmatch(name) or len(name) > MAX_NAME_LENGTH:
        raise InvalidArgument(
            f"search attribute name {name!r} must be 1 to {MAX_NAME_LENGTH} ASCII letters, digits and '_', "
            "beginning with a letter or '_' (a list query names it bare)"
        )
    if name in BUILT_IN:
        raise InvalidArgument(f"search attribute {name!r} is built in")
    if name.startswith(RESERVED_PREFIX):
        raise InvalidArgument(f"search attribute names beginning with {RESERVED_PREFIX!r} are reserved")


def format_datetime(value: datetime) -> str:
    """The one form a Datetime is kept in: UTC, microseconds, ``Z`` (so text order is time order)."""
    return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def parse_datetime(text: str) -> datetime:
    """An RFC 3339 time (``Z`` or an offset; a time without one is taken as UTC); ValueError if not."""
    parsed = datetime.fromisoformat(text.strip())
    return parsed.replace(tzinfo=UTC) if parsed.tzinfo is None else parsed.astimezone(UTC)


def _refuse(name: str, value_type: int, value: Any) -> InvalidArgument:
    return InvalidArgument(
        f"search attribute {name!r} is of type {type_name(value_type)}; the value {value!r} is not one"
    )


def typed_value(name: str, value_type: int, value: Any) -> Any:
    """``value`` (decoded JSON) as ``value_type`` keeps it, or InvalidArgument naming the attribute."""
    if value_type in (KEYWORD, TEXT):
        if isinstance(value, str):
            return value
    elif value_type == KEYWORD_LIST:
        if isinstance(value, str):
            return [value]
        if isinstance(value, list) and all(isinstance(v, str) for v in value):
            return value
    elif value_type == INT:
        if isinstance(value, int) and not isinstance(value, bool) and _INT_RANGE[0] <= value <= _INT_RANGE[1]:
            return value
        if isinstance(value, float) and value.is_integer() and _INT_RANGE[0] <= value <= _INT_RANGE[1]:
            return int(value)
    elif value_type == DOUBLE:
        if isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value):
            return float(value)
    elif value_type == BOOL:
        if isinstance(value, bool):
            return value
    elif value_type == DATETIME:
        if isinstance(value, str):
            try:
                return format_datetime(parse_datetime(value))
            except ValueError:
                pass
    raise _refuse(name, value_type, value)


def typed_payload(name: str, value_type: int, payload: C.Payload) -> C.Payload | None:
    """The payload as the server keeps it (normalized JSON with its ``type``), None for a JSON null
    (an upsert's removal), or InvalidArgument when it is no value of ``value_type``."""
    encoding = payload.metadata.get(_ENCODING, _JSON)
    if encoding == b"binary/null":
        return None
    if encoding != _JSON:
        raise InvalidArgument(
            f"search attribute {name!r}: its value must be a JSON payload (encoding json/plain), "
            f"not {encoding.decode(errors='replace')!r}: search attributes never go through a payload codec"
        )
    try:
        value = json.loads(payload.data)
    except ValueError as exc:
        raise InvalidArgument(f"search attribute {name!r}: its value is not JSON") from exc
    if value is None:
        return None
    kept = typed_value(name, value_type, value)
    data = json.dumps(kept, separators=(",", ":"), ensure_ascii=False).encode()
    return C.Payload(metadata={_ENCODING: _JSON, _TYPE: type_name(value_type).encode()}, data=data)


def typed(
    attributes: C.SearchAttributes, registry: Mapping[str, int], *, removals: bool = False
) -> C.SearchAttributes:
    """Every value of ``attributes`` checked against the namespace's ``registry`` and kept typed.

    An unregistered name, a built-in one or a value of the wrong type is refused (InvalidArgument
    naming the attribute and its registered type). With ``removals`` (an upsert), a null value stays
    as a null payload, which :func:`merge` reads as "remove"; otherwise a null is simply left out.
    """
    out = C.SearchAttributes()
    if len(attributes.indexed_fields) > MAX_PER_RUN:
        raise InvalidArgument(f"a run may have at most {MAX_PER_RUN} search attributes")
    total = 0
    for name in sorted(attributes.indexed_fields):
        size = len(attributes.indexed_fields[name].data)
        if size > MAX_VALUE_BYTES:
            raise InvalidArgument(
                f"search attribute {name!r}: its value is {size:,} bytes, over the limit of {MAX_VALUE_BYTES:,}"
            )
        total += size
        if total > MAX_TOTAL_BYTES:
            raise InvalidArgument(f"search attributes are over {MAX_TOTAL_BYTES:,} bytes in all")
        if name in BUILT_IN:
            raise InvalidArgument(f"search attribute {name!r} is built in: the server sets it")
        value_type = registry.get(name)
        if value_type is None:
            raise InvalidArgument(
                f"search attribute {name!r} is not registered in this namespace "
                f"(wf operator search-attribute create --name {name} --type Keyword|Text|Int|...)"
            )
        kept = typed_payload(name, value_type, attributes.indexed_fields[name])
        if kept is not None:
            out.indexed_fields[name].CopyFrom(kept)
        elif removals:
            out.indexed_fields[name].metadata[_ENCODING] = b"binary/null"
    return out


def is_null(payload: C.Payload) -> bool:
    return payload.metadata.get(_ENCODING) == b"binary/null" or (
        payload.metadata.get(_ENCODING, _JSON) == _JSON and payload.data.strip() == b"null"
    )


def merge_named(current: Mapping[str, C.Payload], upsert: Mapping[str, C.Payload]) -> dict[str, C.Payload]:
    """``current`` (search attributes, or a memo's fields) with an upsert's values set and those it
    sets to null removed: Temporal's upsert of search attributes and of the memo."""
    out = {name: payload for name, payload in current.items()}
    for name, payload in upsert.items():
        if is_null(payload):
            out.pop(name, None)
        else:
            out[name] = payload
    return out


def document(attributes: C.SearchAttributes) -> str | None:
    """The JSONB document of typed values (the ``search_attributes`` column), None when there are none.

    Values the server kept typed are JSON already; one without a ``type`` (a run started before
    search attributes were typed) is left out, as it was never checked.
    """
    values: dict[str, Any] = {}
    for name, payload in attributes.indexed_fields.items():
        if _TYPE not in payload.metadata or payload.metadata.get(_ENCODING, _JSON) != _JSON:
            continue
        try:
            values[name] = json.loads(payload.data)
        except ValueError:
            continue
    if not values:
        return None
    return json.dumps(values, separators=(",", ":"), ensure_ascii=False, sort_keys=True)


def mirror(record: Any, state: Any) -> None:
    """Set the visibility columns of an execution row from the run's mutable state
    (``wf.v1.MutableState``): its custom search attributes, its parent and its root (a run that is no
    child is its own root, as in Temporal), and its execution time (its start, as nothing delays a
    first workflow task yet), and its cost counters."""
    record.search_attributes = document(state.search_attributes) if state.HasField("search_attributes") else None
    if state.HasField("parent_execution"):
        record.parent_workflow_id = state.parent_execution.workflow_id
        record.parent_run_id = state.parent_execution.run_id
    if state.HasField("root_execution") and state.root_execution.workflow_id:
        record.root_workflow_id = state.root_execution.workflow_id
        record.root_run_id = state.root_execution.run_id
    else:
        record.root_workflow_id, record.root_run_id = record.workflow_id, record.run_id
    if record.execution_time is None:
        record.execution_time = record.start_time
    cost = state.cost
    record.workflow_task_attempts = cost.workflow_tasks
    record.activity_attempts = cost.activity_attempts
    record.payload_bytes_in = cost.payload_bytes_in
    record.payload_bytes_out = cost.payload_bytes_out
