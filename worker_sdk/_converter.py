"""Data conversion: Python values ⇄ ``wf.v1.Payload``, and an optional payload codec.

The payload converter is synchronous and runs inside workflow code; the codec (compression,
encryption) is asynchronous and runs at the edges, on whole payloads, so the server never needs to read
them. JSON is the default encoding: dataclasses, datetime, date, UUID, Decimal, enums, sets, and
pydantic models when pydantic is installed; ``bytes`` travel as raw binary and ``None`` as null.
"""

from __future__ import annotations

import base64
import dataclasses
import datetime as dt
import decimal
import enum
import json
import types
import typing
import uuid
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from google.protobuf.message import Message

from wf.v1 import common_pb2

ENCODING = "encoding"
_JSON = b"json/plain"
_NULL = b"binary/null"
_BYTES = b"binary/plain"


class PayloadCodec:
    """Transforms encoded payloads on their way out (``encode``) and back in (``decode``).

    Subclass it for compression or encryption; both methods must be inverse.
    """

    async def encode(self, payloads: Sequence[common_pb2.Payload]) -> list[common_pb2.Payload]:
        return list(payloads)

    async def decode(self, payloads: Sequence[common_pb2.Payload]) -> list[common_pb2.Payload]:
        return list(payloads)


def _json_default(value: Any) -> Any:
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: getattr(value, f.name) for f in dataclasses.fields(value)}
    if isinstance(value, (dt.datetime, dt.date, dt.time)):
        return value.isoformat()
    if isinstance(value, dt.timedelta):
        return value.total_seconds()
    if isinstance(value, (uuid.UUID, decimal.Decimal)):
        return str(value)
    if isinstance(value, enum.Enum):
        return value.value
    if isinstance(value, (set, frozenset)):
        return list(value)
    if isinstance(value, bytes):
        return base64.b64encode(value).decode()
    dump = getattr(value, "model_dump", None)  # pydantic v2
    if callable(dump):
        return dump(mode="json")
    raise TypeError(f"{type(value).__name__} is not JSON serializable by wf's default converter")


class PayloadConverter:
    """Converts one value to one payload and back, guided by the expected type."""

    def to_payload(self, value: Any) -> common_pb2.Payload:
        if isinstance(value, common_pb2.Payload):
            # Already a payload (encoded elsewhere, e.g. by a codec server for the web UI): as it is.
            return value
        if value is None:
            return common_pb2.Payload(metadata={ENCODING: _NULL})
        if isinstance(value, bytes):
            return common_pb2.Payload(metadata={ENCODING: _BYTES}, data=value)
        data = json.dumps(value, default=_json_default, separators=(",", ":"), ensure_ascii=False)
        return common_pb2.Payload(metadata={ENCODING: _JSON}, data=data.encode())

    def from_payload(self, payload: common_pb2.Payload, type_hint: Any = None) -> Any:
        encoding = payload.metadata.get(ENCODING, _JSON)
        if encoding == _NULL:
            return None
        if encoding == _BYTES:
            return payload.data
        if encoding != _JSON:
            raise ValueError(f"unknown payload encoding {encoding!r}: is a payload codec missing?")
        return convert(json.loads(payload.data), type_hint)


def convert(value: Any, hint: Any) -> Any:
    """Shape a decoded JSON value into ``hint`` (dataclass, datetime, list[T], Optional[T], …)."""
    if hint is None or hint is Any or value is None:
        return value
    origin = typing.get_origin(hint)
    args = typing.get_args(hint)
    if origin in (typing.Union, types.UnionType):
        for arg in args:
            if arg is type(None):
                continue
            try:
                return convert(value, arg)
            except (TypeError, ValueError):
                continue
        return value
    if origin in (list, Sequence, set, frozenset, tuple) or hint in (list, set, tuple):
        item = args[0] if args else None
        items = [convert(v, item) for v in value]
        return (origin or hint)(items) if (origin or hint) in (set, frozenset, tuple) else items
    if origin is dict or hint is dict:
        vt = args[1] if len(args) == 2 else None
        return {k: convert(v, vt) for k, v in value.items()}
    if not isinstance(hint, type):
        return value
    if dataclasses.is_dataclass(hint):
        hints = typing.get_type_hints(hint)
        kwargs = {
            f.name: convert(value[f.name], hints.get(f.name)) for f in dataclasses.fields(hint) if f.name in value
        }
        return hint(**kwargs)
    validate = getattr(hint, "model_validate", None)  # pydantic v2
    if callable(validate):
        return validate(value)
    if hint is dt.datetime:
        return dt.datetime.fromisoformat(value)
    if hint is dt.date:
        return dt.date.fromisoformat(value)
    if hint is dt.timedelta:
        return dt.timedelta(seconds=value)
    if hint is uuid.UUID:
        return uuid.UUID(value)
    if hint is decimal.Decimal:
        return decimal.Decimal(value)
    if hint is bytes:
        return base64.b64decode(value) if isinstance(value, str) else value
    if issubclass(hint, enum.Enum):
        return hint(value)
    if hint is float and isinstance(value, int):
        return float(value)
    return value


@dataclasses.dataclass(frozen=True)
class DataConverter:
    """The pair a Client and its Workers use: a payload converter and an optional codec."""

    payload_converter: PayloadConverter = dataclasses.field(default_factory=PayloadConverter)
    payload_codec: PayloadCodec | None = None

    default: typing.ClassVar[DataConverter]

    def to_payloads(self, values: Sequence[Any]) -> common_pb2.Payloads:
        return common_pb2.Payloads(payloads=[self.payload_converter.to_payload(v) for v in values])

    def from_payloads(self, payloads: common_pb2.Payloads, hints: Sequence[Any] | None = None) -> list[Any]:
        items = list(payloads.payloads)
        hints = list(hints or [])
        return [
            self.payload_converter.from_payload(p, hints[i] if i < len(hints) else None) for i, p in enumerate(items)
        ]

    async def encode(self, values: Sequence[Any]) -> common_pb2.Payloads:
        payloads = self.to_payloads(values)
        if self.payload_codec is not None:
            await self.encode_message(payloads)
        return payloads

    async def decode(self, payloads: common_pb2.Payloads, hints: Sequence[Any] | None = None) -> list[Any]:
        if self.payload_codec is not None:
            copy = common_pb2.Payloads()
            copy.CopyFrom(payloads)
            await self.decode_message(copy)
            payloads = copy
        return self.from_payloads(payloads, hints)

    async def encode_message(self, message: Message) -> None:
        """Run the codec's encode over every Payloads inside ``message``, in place."""
        if self.payload_codec is not None:
            await _visit_payloads(message, self.payload_codec.encode)

    async def decode_message(self, message: Message) -> None:
        """Run the codec's decode over every Payloads inside ``message``, in place."""
        if self.payload_codec is not None:
            await _visit_payloads(message, self.payload_codec.decode)


DataConverter.default = DataConverter()


def encode_named_payloads(
    converter: DataConverter | PayloadConverter, mapping: Mapping[str, Any] | None
) -> dict[str, common_pb2.Payload]:
    """A plain mapping (a memo, search attributes) as named payloads (``Memo.fields``,
    ``SearchAttributes.indexed_fields``): each value by the payload converter. Not through the codec
    here: the server indexes search attributes, so it must read them; a memo goes through the codec
    where its message is encoded whole (``DataConverter.encode_message`` visits ``Memo``)."""
    payload_converter = converter.payload_converter if isinstance(converter, DataConverter) else converter
    named: dict[str, common_pb2.Payload] = {}
    for name, value in (mapping or {}).items():
        if not isinstance(name, str) or not name:
            raise TypeError(f"names of a memo or search attributes are non-empty strings, got {name!r}")
        named[name] = payload_converter.to_payload(value)
    return named


def decode_named_payloads(converter: DataConverter, named: Mapping[str, common_pb2.Payload]) -> dict[str, Any]:
    """The reverse of :func:`encode_named_payloads`: each value decoded without a type hint."""
    return {name: converter.payload_converter.from_payload(p, None) for name, p in named.items()}


async def _visit_memo(
    memo: common_pb2.Memo, fn: Callable[[Sequence[common_pb2.Payload]], typing.Awaitable[list[common_pb2.Payload]]]
) -> None:
    """A memo's values go through the codec as Temporal's do (its names stay readable): an encryption
    codec then keeps them from the server too. Search attributes never do: the server indexes them."""
    # A null value is an upsert's removal of that field, which the server must see as such.
    names = [name for name, p in memo.fields.items() if p.metadata.get(ENCODING) != _NULL]
    if not names:
        return
    new = await fn([memo.fields[name] for name in names])
    for name, payload in zip(names, new, strict=True):
        memo.fields[name].CopyFrom(payload)


async def _visit_payloads(
    message: Message, fn: Callable[[Sequence[common_pb2.Payload]], typing.Awaitable[list[common_pb2.Payload]]]
) -> None:
    if isinstance(message, common_pb2.Payloads):
        new = await fn(list(message.payloads))
        del message.payloads[:]
        message.payloads.extend(new)
        return
    if isinstance(message, common_pb2.Memo):
        await _visit_memo(message, fn)
        return
    for field, value in message.ListFields():
        if field.message_type is None:
            continue
        if field.message_type.GetOptions().map_entry:
            for v in value.values():
                if isinstance(v, Message):
                    await _visit_payloads(v, fn)
        elif field.is_repeated:
            for item in value:
                await _visit_payloads(item, fn)
        else:
            await _visit_payloads(value, fn)
