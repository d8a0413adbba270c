"""The list query language: Temporal's, parsed by a grammar and compiled to parameterized SQL.

``WorkflowType = 'Order' AND (ExecutionStatus = 'Failed' OR CustomerId IN ('c-1', 'c-2'))
AND StartTime > '2026-01-05T00:00:00Z' ORDER BY StartTime DESC``

The grammar (lark, LALR) reads the text into a tree; :func:`compile_query` turns the tree into a
SQLAlchemy Core condition over the ``executions`` table, every value a bound parameter (never part of
the SQL text), after checking each condition against the attribute's type with Temporal's rules:

- Keyword: every operator (``STARTS_WITH`` on Keyword only);
- Text: ``=`` and ``!=`` only, as a full-text match (PostgreSQL's ``@@``);
- KeywordList: ``=``, ``!=``, ``IN``, ``NOT IN``, meaning "contains";
- Int, Double, Datetime: comparisons, ``IN``, ``BETWEEN``; Bool: ``=`` and ``!=``;
- every type: ``IS NULL`` and ``IS NOT NULL``.

``LIMIT`` is refused (page with the page size); ``GROUP BY ExecutionStatus`` is for counts only;
``ORDER BY`` on a built-in time field (StartTime, CloseTime, ExecutionTime) or on a built-in Int of
what a run cost (HistoryLength, StateTransitionCount, ActivityAttempts…: :data:`ORDERABLE_COST`) is
wf's extension, as Temporal's SQL visibility refuses it. Every refusal is InvalidArgument naming the
position.
"""

from __future__ import annotations

import dataclasses
import json
import re
from collections.abc import Mapping
from typing import Any

from lark import Lark, Token, Tree, UnexpectedCharacters, UnexpectedEOF, UnexpectedInput, UnexpectedToken
from sqlalchemy import (
    BigInteger,
    Boolean,
    ColumnElement,
    DateTime,
    Numeric,
    Text,
    and_,
    bindparam,
    case,
    cast,
    func,
    literal,
    literal_column,
    not_,
    or_,
    true,
)
from sqlalchemy.dialects.postgresql import JSONB

from wf.history.errors import InvalidArgument
from wf.history.schema import executions
from wf.history.visibility.attributes import (
    BOOL,
    BUILT_IN,
    DATETIME,
    DOUBLE,
    INT,
    KEYWORD,
    KEYWORD_LIST,
    TEXT,
    format_datetime,
    parse_datetime,
    type_name,
)
from wf.v1 import common_pb2

_GRAMMAR = r"""
start: where? order? group? limit?

?where: or_expr
?or_expr: and_expr (_OR and_expr)*
?and_expr: not_expr (_AND not_expr)*
?not_expr: _NOT not_expr -> negation
         | atom
?atom: "(" or_expr ")"
     | condition

condition: name COMPARE value                                   -> compare
         | name NOT? _IN "(" value ("," value)* ")"             -> member
         | name NOT? _BETWEEN value _AND value                   -> between
         | name NOT? _STARTS_WITH value                          -> starts_with
         | name _IS NOT? _NULL                                   -> is_null

order: _ORDER _BY name DIRECTION? ("," name DIRECTION?)*
group: _GROUP _BY name ("," name)*
limit: LIMIT value

name: NAME | QUOTED_NAME
value: STRING | NUMBER | BOOLEAN

COMPARE: "<=" | ">=" | "!=" | "<>" | "=" | "<" | ">"
DIRECTION.2: /(asc|desc)\b/i
NOT.2: /not\b/i
_AND.2: /and\b/i
_OR.2: /or\b/i
_NOT.2: /not\b/i
_IN.2: /in\b/i
_BETWEEN.2: /between\b/i
_STARTS_WITH.2: /starts_with\b/i
_IS.2: /is\b/i
_NULL.2: /null\b/i
_ORDER.2: /order\b/i
_GROUP.2: /group\b/i
_BY.2: /by\b/i
LIMIT.2: /limit\b/i
BOOLEAN.2: /(true|false)\b/i
NAME: /[A-Za-z_][A-Za-z0-9_]*/
QUOTED_NAME: /`[^`]+`/
STRING: /'(?:[^'\\]|\\.|'')*'/ | /"(?:[^"\\]|\\.|"")*"/
NUMBER: /[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?/

%import common.WS
%ignore WS
"""

# Parentheses and NOTs nested deeper than this are refused (the compiler and SQL text recurse on them).
MAX_DEPTH = 64
# Longer query texts are refused before parsing.
MAX_QUERY_LENGTH = 32_768

_PARSER = Lark(_GRAMMAR, parser="lalr", propagate_positions=True, maybe_placeholders=False)

# ExecutionStatus values as queries write them (``Running``, ``ContinuedAsNew``…), from the wire enum.
STATUS_WORDS: dict[str, int] = {
    "".join(w.capitalize() for w in name.removeprefix("WORKFLOW_EXECUTION_STATUS_").split("_")): number
    for name, number in common_pb2.WorkflowExecutionStatus.items()
    if number != common_pb2.WORKFLOW_EXECUTION_STATUS_UNSPECIFIED
}
STATUS_NAMES: dict[int, str] = {number: word for word, number in STATUS_WORDS.items()}
_STATUS_BY_LOWER = {word.lower(): number for word, number in STATUS_WORDS.items()}
# ORDER BY (wf's extension): the built-in time fields, by the column the order and its index use;
# and the built-in Ints of cost, by their column (HistoryLength, ``next_event_id - 1``, orders as
# ``next_event_id``). A page token carries the last run's value of that column.
ORDERABLE_TIME = {"StartTime": "start_time", "CloseTime": "close_order", "ExecutionTime": "execution_time"}
ORDERABLE_COST = {
    "HistoryLength": "next_event_id",
    "HistorySizeBytes": "history_size",
    "StateTransitionCount": "db_version",
    "WorkflowTaskAttempts": "workflow_task_attempts",
    "ActivityAttempts": "activity_attempts",
    "PayloadBytesIn": "payload_bytes_in",
    "PayloadBytesOut": "payload_bytes_out",
}
ORDERABLE = {**ORDERABLE_TIME, **ORDERABLE_COST}
_DURATION = re.compile(r"(\d+(?:\.\d+)?)(ns|us|µs|ms|s|m|h)")
_DURATION_NANOS = {"ns": 1, "us": 10**3, "µs": 10**3, "ms": 10**6, "s": 10**9, "m": 60 * 10**9, "h": 3600 * 10**9}
_TOKEN_WORDS = {
    "COMPARE": "a comparison (=, !=, <, <=, >, >=)", "NAME": "an attribute name", "QUOTED_NAME": "an attribute name",
    "STRING": "a quoted string", "NUMBER": "a number", "BOOLEAN": "true or false", "LPAR": "'('", "RPAR": "')'",
    "COMMA": "','", "_AND": "AND", "_OR": "OR", "_NOT": "NOT", "NOT": "NOT", "_IN": "IN", "_BETWEEN": "BETWEEN",
    "_STARTS_WITH": "STARTS_WITH", "_IS": "IS", "_NULL": "NULL", "_ORDER": "ORDER BY", "_GROUP": "GROUP BY",
    "_BY": "BY", "LIMIT": "LIMIT", "DIRECTION": "ASC or DESC", "$END": "the end of the query",
}


@dataclasses.dataclass(slots=True)
class Compiled:
    """A query as SQL: the condition (with its parameters by name), the order, and the grouping."""

    where: ColumnElement[bool]
    params: dict[str, Any]
    # The ORDER BY field's column, or None for Temporal's default order; and whether it is ascending.
    order: str | None = None
    ascending: bool = False
    group_by_status: bool = False


def _position(text: str, line: int | None, column: int | None) -> str:
    if line is None or column is None:
        return "at the end"
    offset = sum(len(ln) + 1 for ln in text.split("\n")[: line - 1]) + column
    return f"at position {offset}" if "\n" not in text else f"at position {offset} (line {line}, column {column})"


def _end(text: str) -> str:
    return f"at position {len(text) + 1} (the end of the query)"


def _expected(names: set[str] | frozenset[str]) -> str:
    words = sorted({_TOKEN_WORDS.get(n, n.lstrip("_")) for n in names})
    return ", ".join(words) if words else "nothing more"


def parse(text: str) -> Tree[Token]:
    """The query's tree, or InvalidArgument naming the position and what was expected there."""
    if len(text) > MAX_QUERY_LENGTH:
        raise InvalidArgument(f"invalid list query: longer than {MAX_QUERY_LENGTH:,} characters")
    try:
        return _PARSER.parse(text)
    except UnexpectedToken as exc:
        tok = exc.token
        found = "the end of the query" if tok.type == "$END" else repr(str(tok))
        where = _end(text) if tok.type == "$END" else _position(text, exc.line, exc.column)
        raise InvalidArgument(
            f"invalid list query {where}: expected {_expected(exc.expected)}, found {found}"
        ) from None
    except UnexpectedCharacters as exc:
        raise InvalidArgument(
            f"invalid list query {_position(text, exc.line, exc.column)}: unexpected character "
            f"{text[exc.pos_in_stream or 0]!r}; expected {_expected(exc.allowed or set())}"
        ) from None
    except UnexpectedEOF as exc:
        raise InvalidArgument(f"invalid list query {_end(text)}: expected {_expected(set(exc.expected))}") from None
    except UnexpectedInput as exc:  # pragma: no cover - the three above are every kind lark raises
        raise InvalidArgument(f"invalid list query: {exc}") from None


def _string(token: Token) -> str:
    quote = token[0]
    body = token[1:-1].replace(quote * 2, quote)
    return re.sub(r"\\(.)", lambda m: {"n": "\n", "t": "\t"}.get(m.group(1), m.group(1)), body)


@dataclasses.dataclass(slots=True)
class _Value:
    kind: str  # "string", "number", "bool"
    value: Any
    at: str


@dataclasses.dataclass(slots=True)
class _Field:
    name: str
    type: int
    column: ColumnElement[Any] | None  # None: a custom attribute, read from the JSONB document
    at: str


class _Compiler:
    def __init__(self, text: str, registry: Mapping[str, int]) -> None:
        self.text = text
        self.registry = registry
        self.params: dict[str, Any] = {}

    # -- reading the tree --------------------------------------------------------------------------

    def at(self, node: Tree[Token] | Token) -> str:
        if isinstance(node, Token):
            return _position(self.text, node.line, node.column)
        meta = node.meta
        return _position(self.text, getattr(meta, "line", None), getattr(meta, "column", None))

    def field(self, node: Tree[Token]) -> _Field:
        token = node.children[0]
        assert isinstance(token, Token)
        name = token[1:-1] if token.type == "QUOTED_NAME" else str(token)
        at = self.at(token)
        if name in BUILT_IN:
            column, value_type = BUILT_IN[name]
            return _Field(name, value_type, _builtin_column(column) if column else None, at)
        if name in self.registry:
            return _Field(name, self.registry[name], None, at)
        known = ", ".join(sorted(self.registry)) or "none"
        raise InvalidArgument(
            f"invalid list query {at}: unknown search attribute {name!r} (built in: {', '.join(BUILT_IN)}; "
            f"registered in this namespace: {known})"
        )

    def value(self, node: Tree[Token]) -> _Value:
        token = node.children[0]
        assert isinstance(token, Token)
        at = self.at(token)
        if token.type == "STRING":
            return _Value("string", _string(token), at)
        if token.type == "BOOLEAN":
            return _Value("bool", token.lower() == "true", at)
        number = float(token) if any(c in token for c in ".eE") else int(token)
        return _Value("number", number, at)

    def param(self, value: Any, type_: Any) -> ColumnElement[Any]:
        name = f"q{len(self.params)}"
        self.params[name] = value
        return bindparam(name, type_=type_, required=True)

    # -- conditions --------------------------------------------------------------------------------

    def condition(self, node: Tree[Token], depth: int = 0) -> ColumnElement[bool]:
        kind = node.data
        if depth > MAX_DEPTH:
            raise InvalidArgument(
                f"invalid list query {self.at(node)}: conditions nest more than {MAX_DEPTH} levels deep"
            )
        if kind == "negation":
            return not_(self.condition(node.children[0], depth + 1))  # type: ignore[arg-type]
        if kind in ("or_expr", "and_expr"):
            parts = [self.condition(c, depth + 1) for c in node.children]  # type: ignore[arg-type]
            return or_(*parts) if kind == "or_expr" else and_(*parts)
        children = node.children
        f = self.field(children[0])  # type: ignore[arg-type]
        negated = any(isinstance(c, Token) and c.type == "NOT" for c in children)
        values = [self.value(c) for c in children[1:] if isinstance(c, Tree) and c.data == "value"]
        if kind == "is_null":
            present = f.column.is_not(None) if f.column is not None else _doc(f.name).is_not(None)
            return present if negated else not_(present)
        if kind == "compare":
            op = str(children[1])
            op = "!=" if op == "<>" else op
            return self.compare(f, op, values[0])
        if kind == "member":
            self.allowed(f, "IN", {KEYWORD, KEYWORD_LIST, INT, DOUBLE, DATETIME})
            found = or_(*(self.compare(f, "=", v) for v in values))
            return self.negate(f, found) if negated else found
        if kind == "between":
            self.allowed(f, "BETWEEN", {KEYWORD, INT, DOUBLE, DATETIME})
            inside = and_(self.compare(f, ">=", values[0]), self.compare(f, "<=", values[1]))
            return self.negate(f, inside) if negated else inside
        assert kind == "starts_with"
        self.allowed(f, "STARTS_WITH", {KEYWORD})
        if f.name == "ExecutionStatus":
            raise InvalidArgument(f"invalid list query {f.at}: STARTS_WITH does not apply to ExecutionStatus")
        prefix = self.string_of(f, values[0])
        found = func.starts_with(self.text_of(f), self.param(prefix, Text))
        return self.negate(f, found) if negated else found

    def negate(self, f: _Field, found: ColumnElement[bool]) -> ColumnElement[bool]:
        """NOT of a condition, as SQL's NULL rules give it: a run without the attribute matches neither."""
        present = f.column.is_not(None) if f.column is not None else _doc(f.name).is_not(None)
        return and_(present, not_(found))

    def allowed(self, f: _Field, op: str, types: set[int]) -> None:
        if f.type not in types:
            raise InvalidArgument(
                f"invalid list query {f.at}: {op} does not apply to {f.name!r}, "
                f"a search attribute of type {type_name(f.type)}"
            )

    def compare(self, f: _Field, op: str, v: _Value) -> ColumnElement[bool]:
        t = f.type
        if t == TEXT:
            if op not in ("=", "!="):
                raise InvalidArgument(
                    f"invalid list query {f.at}: {f.name!r} is of type Text, which only = and != "
                    f"(a full-text match) apply to, not {op}"
                )
            words = self.param(self.string_of(f, v), Text)
            simple: ColumnElement[Any] = literal_column("'simple'::regconfig")
            match = func.to_tsvector(simple, self.text_of(f)).op("@@", is_comparison=True)(
                func.plainto_tsquery(simple, words)
            )
            return match if op == "=" else self.negate(f, match)
        if t == KEYWORD_LIST:
            if op not in ("=", "!="):
                raise InvalidArgument(
                    f"invalid list query {f.at}: {f.name!r} is of type KeywordList, which only =, !=, IN "
                    f"and NOT IN (contains) apply to, not {op}"
                )
            doc = self.param(json.dumps({f.name: [self.string_of(f, v)]}), JSONB)
            contains = _contains(doc)
            return contains if op == "=" else self.negate(f, contains)
        if t == BOOL:
            if op not in ("=", "!="):
                raise InvalidArgument(
                    f"invalid list query {f.at}: {f.name!r} is of type Bool, which only = and != apply to"
                )
            if v.kind != "bool":
                raise InvalidArgument(
                    f"invalid list query {v.at}: {f.name!r} is of type Bool: compare it with true or false"
                )
            if f.column is None:
                doc = self.param(json.dumps({f.name: v.value}), JSONB)
                contains = _contains(doc)
                return contains if op == "=" else self.negate(f, contains)
            return _op(f.column, op, self.param(v.value, Boolean))
        if t == KEYWORD:
            return self.keyword(f, op, v)
        if t in (INT, DOUBLE):
            if v.kind != "number" and not (f.name == "ExecutionDuration" and v.kind == "string"):
                raise InvalidArgument(
                    f"invalid list query {v.at}: {f.name!r} is of type {type_name(t)}: compare it with a number"
                )
            number = _duration_nanos(v) if v.kind == "string" else v.value
            if t == INT and isinstance(number, float) and not number.is_integer():
                raise InvalidArgument(
                    f"invalid list query {v.at}: {f.name!r} is of type Int: {number} is not an integer"
                )
            if f.column is not None:
                return _op(f.column, op, self.param(int(number), BigInteger))
            if op == "=":
                return _contains(self.param(json.dumps({f.name: number}), JSONB))
            doc = _doc(f.name)
            numeric = case((func.jsonb_typeof(doc) == "number", cast(doc, Numeric)))
            return _op(numeric, op, self.param(number, Numeric))
        assert t == DATETIME
        if v.kind != "string":
            raise InvalidArgument(
                f"invalid list query {v.at}: {f.name!r} is of type Datetime: compare it with an RFC 3339 time "
                "such as '2026-01-05T00:00:00Z'"
            )
        try:
            when = parse_datetime(v.value)
        except ValueError:
            raise InvalidArgument(
                f"invalid list query {v.at}: {v.value!r} is not an RFC 3339 time (e.g. '2026-01-05T00:00:00Z')"
            ) from None
        if f.column is not None:
            return _op(f.column, op, self.param(when, DateTime(timezone=True)))
        # Kept in one fixed form, so text order is time order.
        return _op(self.text_of(f), op, self.param(format_datetime(when), Text))

    def keyword(self, f: _Field, op: str, v: _Value) -> ColumnElement[bool]:
        if f.name == "ExecutionStatus":
            if op not in ("=", "!="):
                raise InvalidArgument(f"invalid list query {f.at}: ExecutionStatus takes =, !=, IN and NOT IN only")
            word = self.string_of(f, v)
            code = _STATUS_BY_LOWER.get(word.replace("_", "").lower())
            if code is None:
                raise InvalidArgument(
                    f"invalid list query {v.at}: unknown ExecutionStatus {word!r}; known: {', '.join(STATUS_WORDS)}"
                )
            assert f.column is not None
            return _op(f.column, op, literal(code))
        text = self.string_of(f, v)
        if f.column is not None:
            return _op(f.column, op, self.param(text, Text))
        if op == "=":
            return _contains(self.param(json.dumps({f.name: text}), JSONB))
        return _op(self.text_of(f), op, self.param(text, Text))

    def string_of(self, f: _Field, v: _Value) -> str:
        if v.kind != "string":
            raise InvalidArgument(
                f"invalid list query {v.at}: {f.name!r} is of type {type_name(f.type)}: compare it with a "
                "quoted string"
            )
        return str(v.value)

    def text_of(self, f: _Field) -> ColumnElement[Any]:
        if f.column is not None:
            return f.column
        return executions.c.search_attributes.op("->>")(literal(f.name, Text))


def _contains(doc: ColumnElement[Any]) -> ColumnElement[bool]:
    """``search_attributes @> doc``: containment, which the GIN index on the column serves."""
    return executions.c.search_attributes.op("@>", is_comparison=True)(doc)


def _doc(name: str) -> ColumnElement[Any]:
    return executions.c.search_attributes.op("->", return_type=JSONB)(literal(name, Text))


def _op(left: ColumnElement[Any], op: str, right: ColumnElement[Any]) -> ColumnElement[bool]:
    ops = {
        "=": left.__eq__, "!=": left.__ne__, "<": left.__lt__, "<=": left.__le__, ">": left.__gt__, ">=": left.__ge__,
    }
    return ops[op](right)


def _builtin_column(column: str) -> ColumnElement[Any]:
    e = executions.c
    if column == "history_length":
        return e.next_event_id - 1
    if column == "execution_duration":
        seconds = func.extract("epoch", e.close_time - e.start_time)
        return cast(seconds * 1_000_000_000, BigInteger)
    return e[column]


def _duration_nanos(v: _Value) -> int:
    """ExecutionDuration compared with a duration written as Temporal's (``'1h30m'``, ``'500ms'``)."""
    text = str(v.value).strip()
    parts = _DURATION.findall(text)
    if not parts or "".join(n + u for n, u in parts) != text:
        raise InvalidArgument(
            f"invalid list query {v.at}: {text!r} is not a duration (such as '90s', '1h30m' or '500ms')"
        )
    return int(sum(float(n) * _DURATION_NANOS[u] for n, u in parts))


def compile_query(text: str, registry: Mapping[str, int], *, counting: bool = False) -> Compiled:
    """The list query ``text`` as SQL over ``executions`` for a namespace whose custom search
    attributes are ``registry`` (name → IndexedValueType); InvalidArgument for anything wrong."""
    tree = parse(text)
    compiler = _Compiler(text, registry)
    where: ColumnElement[bool] = true()
    compiled = Compiled(where, compiler.params)
    for part in tree.children:
        assert isinstance(part, Tree)
        if part.data == "limit":
            raise InvalidArgument(
                f"invalid list query {compiler.at(part)}: LIMIT is not supported; the page size bounds a page"
            )
        if part.data == "order":
            if counting:
                raise InvalidArgument(f"invalid list query {compiler.at(part)}: ORDER BY does not apply to a count")
            names = [c for c in part.children if isinstance(c, Tree)]
            if len(names) > 1:
                raise InvalidArgument(f"invalid list query {compiler.at(names[1])}: ORDER BY takes one field")
            f = compiler.field(names[0])
            if f.name not in ORDERABLE:
                raise InvalidArgument(
                    f"invalid list query {f.at}: ORDER BY takes a built-in time field "
                    f"({', '.join(ORDERABLE_TIME)}) or a built-in Int of cost ({', '.join(ORDERABLE_COST)}), "
                    f"not {f.name!r}"
                )
            compiled.order = ORDERABLE[f.name]
            directions = [c for c in part.children if isinstance(c, Token) and c.type == "DIRECTION"]
            compiled.ascending = bool(directions) and directions[0].lower() == "asc"
        elif part.data == "group":
            names = [c for c in part.children if isinstance(c, Tree)]
            f = compiler.field(names[0])
            if not counting:
                raise InvalidArgument(f"invalid list query {compiler.at(part)}: GROUP BY applies to a count only")
            if len(names) > 1 or f.name != "ExecutionStatus":
                raise InvalidArgument(
                    f"invalid list query {f.at}: GROUP BY takes ExecutionStatus only"
                )
            compiled.group_by_status = True
        else:
            compiled.where = compiler.condition(part)
    return compiled


__all__ = [
    "Compiled", "ORDERABLE", "ORDERABLE_COST", "ORDERABLE_TIME", "STATUS_NAMES", "STATUS_WORDS",
    "compile_query", "parse",
]
