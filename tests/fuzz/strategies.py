"""Hypothesis strategies for hostile-but-well-framed wf.v1 requests, built from the protos' descriptors.

Requests are generated as protobuf messages from each method's request descriptor (so every field of
every RPC, present and future, is covered), biased towards what breaks servers: names that exist
(real workflow ids, task queues, tokens) beside huge strings and NUL characters, durations that are
negative or overflow, enum values the proto does not know, failure chains hundreds deep, payloads with
odd metadata. The serialized message is then mutated as bytes, because several inputs cannot be built
through the protobuf API at all: invalid UTF-8 where a string goes, a field of the wrong wire type
(wrong types), truncated messages, flipped bytes, and garbage.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from google.protobuf import message_factory
from google.protobuf.descriptor import Descriptor, FieldDescriptor
from google.protobuf.message import Message
from hypothesis import strategies as st

from wf.v1 import common_pb2

F = FieldDescriptor
INT_RANGES: dict[int, tuple[int, int]] = {
    F.TYPE_INT32: (-(2**31), 2**31 - 1), F.TYPE_SINT32: (-(2**31), 2**31 - 1), F.TYPE_SFIXED32: (-(2**31), 2**31 - 1),
    F.TYPE_INT64: (-(2**63), 2**63 - 1), F.TYPE_SINT64: (-(2**63), 2**63 - 1), F.TYPE_SFIXED64: (-(2**63), 2**63 - 1),
    F.TYPE_UINT32: (0, 2**32 - 1), F.TYPE_FIXED32: (0, 2**32 - 1),
    F.TYPE_UINT64: (0, 2**64 - 1), F.TYPE_FIXED64: (0, 2**64 - 1),
}
# Where a failure's cause chain breaks things: protobuf's own nesting limit is 100 levels.
FAILURE_DEPTHS = st.one_of(st.integers(0, 5), st.sampled_from([31, 32, 33, 64, 96, 98, 99, 100, 120, 200]))


@dataclass
class World:
    """What exists on the server under test, so generated requests can name real things."""

    strings: list[str] = field(default_factory=lambda: ["default"])
    tokens: list[bytes] = field(default_factory=list)
    # A value that exists for fields of these names (namespace, workflow_id, run_id, name, …).
    named: dict[str, str] = field(default_factory=lambda: {"namespace": "default"})


def integers(lo: int, hi: int) -> st.SearchStrategy[int]:
    """Any value of the type, with its edges and the small values that mean something (0, 1, -1)."""
    edges = [v for v in (lo, hi, 0, 1, -1, lo + 1, hi - 1, 2**31 - 1, 2**31, -(2**31) - 1) if lo <= v <= hi]
    return st.one_of(st.sampled_from(edges), st.integers(max(lo, -1000), min(hi, 1000)), st.integers(lo, hi))


def huge_strings() -> st.SearchStrategy[str]:
    """Strings past every size limit wf has: 64 KiB, 1 MiB, and larger than a gRPC message (4 MiB)."""
    return st.sampled_from([1000, 70_000, 1_100_000, 5_000_000]).map(lambda n: "x" * n)


def strings(world: World) -> st.SearchStrategy[str]:
    """Names that exist, short text, text with NUL, and (one draw in 16: they cost the most to send)
    huge strings."""
    usual = st.one_of(
        st.sampled_from(world.strings),
        st.text(max_size=12),
        st.builds(lambda a, b: a + "\x00" + b, st.sampled_from(world.strings + [""]), st.text(max_size=4)),
    )
    return st.integers(0, 15).flatmap(lambda n: huge_strings() if n == 0 else usual)


def token_bytes(world: World) -> st.SearchStrategy[bytes]:
    """Task tokens the server issued, altered ones, and garbage."""
    real = st.sampled_from(world.tokens) if world.tokens else st.just(b"")
    return st.one_of(
        real,
        st.builds(lambda t, i, b: t[:i] + bytes([b]) + t[i + 1:], real, st.integers(0, 64), st.integers(0, 255)),
        st.builds(lambda t, n: t[:n], real, st.integers(0, 64)),
        st.binary(max_size=40),
    )


def durations() -> st.SearchStrategy[Message]:
    """Durations that are negative, zero, tiny, or beyond any calendar (and nanos out of range)."""
    return st.builds(
        lambda s, n: _duration(s, n),
        integers(-(2**63), 2**63 - 1),
        st.one_of(st.just(0), integers(-(2**31), 2**31 - 1)),
    )


def _duration(seconds: int, nanos: int) -> Message:
    from google.protobuf.duration_pb2 import Duration

    return Duration(seconds=seconds, nanos=nanos)


def failures(world: World, depth: st.SearchStrategy[int] = FAILURE_DEPTHS) -> st.SearchStrategy[common_pb2.Failure]:
    """A failure and its chain of causes, as deep as ``depth`` draws."""

    def build(n: int, message: str, stack: str, non_retryable: bool) -> common_pb2.Failure:
        f = common_pb2.Failure(message=f"level {n}", source="fuzz")
        f.application_failure_info.type = "FuzzError"
        for level in range(n - 1, -1, -1):
            outer = common_pb2.Failure(message=f"level {level}", source="fuzz", stack_trace=stack)
            outer.application_failure_info.type = "FuzzError"
            outer.application_failure_info.non_retryable = non_retryable
            outer.cause.CopyFrom(f)
            f = outer
        f.message = message
        return f

    return st.builds(build, depth, strings(world), st.one_of(st.just(""), huge_strings()), st.booleans())


def values(fd: FieldDescriptor, world: World, depth: int) -> st.SearchStrategy[Any]:
    """One value of a (singular) field."""
    t = fd.type
    if t in INT_RANGES:
        return integers(*INT_RANGES[t])
    if t == F.TYPE_BOOL:
        return st.booleans()
    if t in (F.TYPE_DOUBLE, F.TYPE_FLOAT):
        return st.one_of(st.sampled_from([0.0, -1.0, 1e308, float("inf"), float("-inf"), float("nan")]),
                         st.floats(width=64 if t == F.TYPE_DOUBLE else 32))
    if t == F.TYPE_ENUM:
        known = [v.number for v in fd.enum_type.values]
        return st.one_of(st.sampled_from(known), integers(-(2**31), 2**31 - 1))
    if t == F.TYPE_STRING:
        return strings(world)
    if t == F.TYPE_BYTES:
        return token_bytes(world) if "token" in fd.name else st.one_of(st.binary(max_size=64), token_bytes(world))
    if t == F.TYPE_MESSAGE:
        name = fd.message_type.full_name
        if name == "google.protobuf.Duration":
            return durations()
        if name == "google.protobuf.Timestamp":
            return durations().map(lambda d: _timestamp(d.seconds, d.nanos))
        if name == "wf.v1.Failure":
            return st.one_of(failures(world), messages(fd.message_type, world, depth + 1))
        return messages(fd.message_type, world, depth + 1)
    raise AssertionError(f"no strategy for field type {t} ({fd.full_name})")


def _timestamp(seconds: int, nanos: int) -> Message:
    from google.protobuf.timestamp_pb2 import Timestamp

    return Timestamp(seconds=seconds, nanos=nanos)


def _class(desc: Descriptor) -> type[Message]:
    return message_factory.GetMessageClass(desc)


def messages(desc: Descriptor, world: World, depth: int = 0) -> st.SearchStrategy[Message]:
    """A message of type ``desc`` with any subset of its fields set; nesting stops at depth 4."""
    if depth > 4:
        return st.builds(_class(desc))
    return _messages(desc, world, depth)


@st.composite
def _messages(draw: st.DrawFn, desc: Descriptor, world: World, depth: int) -> Message:
    msg = _class(desc)()
    fields = list(desc.fields)
    chosen = []
    if fields:
        chosen = draw(st.lists(st.sampled_from(fields), max_size=len(fields), unique_by=lambda f: f.number))
    for fd in chosen:
        target = getattr(msg, fd.name)
        if fd.message_type is not None and fd.message_type.GetOptions().map_entry:
            key_fd, value_fd = fd.message_type.fields_by_name["key"], fd.message_type.fields_by_name["value"]
            entries = draw(st.dictionaries(values(key_fd, world, depth), values(value_fd, world, depth), max_size=3))
            for k, v in entries.items():
                if value_fd.type == F.TYPE_MESSAGE:
                    target[k].CopyFrom(v)
                else:
                    target[k] = v
        elif fd.is_repeated:
            items = draw(st.lists(values(fd, world, depth), max_size=4))
            if fd.type == F.TYPE_MESSAGE:
                for item in items:
                    target.add().CopyFrom(item)
            else:
                target.extend(items)
        elif fd.type == F.TYPE_MESSAGE:
            target.CopyFrom(draw(values(fd, world, depth)))
        else:
            setattr(msg, fd.name, draw(values(fd, world, depth)))
    return msg


# -- byte-level mutations: what the protobuf API cannot build ------------------------------------


def varint(n: int) -> bytes:
    n &= (1 << 64) - 1
    out = bytearray()
    while True:
        b = n & 0x7F
        n >>= 7
        if n:
            out.append(b | 0x80)
        else:
            out.append(b)
            return bytes(out)


def tagged(number: int, wire_type: int, payload: bytes) -> bytes:
    """One field as it is on the wire; ``payload`` already encoded for its wire type."""
    if wire_type == 2:
        payload = varint(len(payload)) + payload
    return varint(number << 3 | wire_type) + payload


def string_paths(desc: Descriptor, depth: int = 0) -> list[tuple[int, ...]]:
    """The field-number paths from ``desc`` to each string field within three levels."""
    paths: list[tuple[int, ...]] = []
    for fd in desc.fields:
        if fd.type == F.TYPE_STRING:
            paths.append((fd.number,))
        elif fd.type == F.TYPE_MESSAGE and depth < 2 and not fd.message_type.GetOptions().map_entry:
            paths.extend((fd.number, *p) for p in string_paths(fd.message_type, depth + 1))
    return paths


def nested(path: Sequence[int], payload: bytes) -> bytes:
    """``payload`` (a length-delimited value) at ``path``: appended to a message, it merges into it."""
    out = tagged(path[-1], 2, payload)
    for number in reversed(path[:-1]):
        out = tagged(number, 2, out)
    return out


INVALID_UTF8 = [b"\xff", b"\xc3\x28", b"\xed\xa0\x80", b"abc\x80def", b"\xf4\x90\x80\x80", b"\xc0\xaf"]


@st.composite
def mutated(draw: st.DrawFn, data: bytes, desc: Descriptor) -> bytes:
    """``data`` (a serialized ``desc``) as is, or altered the way a broken or hostile client would."""
    kind = draw(st.sampled_from(["none", "none", "utf8", "wrong_type", "truncate", "flip", "garbage", "unknown"]))
    if kind == "utf8":
        paths = string_paths(desc)
        if paths:
            return data + nested(draw(st.sampled_from(paths)), draw(st.sampled_from(INVALID_UTF8)))
    if kind == "wrong_type" and desc.fields:
        fd = draw(st.sampled_from(list(desc.fields)))
        # A varint where a string or message goes, a string where a number goes, and the like.
        wire = draw(st.sampled_from([w for w in (0, 1, 2, 5) if w != _wire_type(fd)]))
        payload = {0: varint(draw(integers(0, 2**64 - 1))), 1: b"\x01" * 8, 2: draw(st.binary(max_size=16)),
                   5: b"\x01" * 4}[wire]
        return data + tagged(fd.number, wire, payload)
    if kind == "truncate" and data:
        return data[: draw(st.integers(0, len(data) - 1))]
    if kind == "flip" and data:
        i = draw(st.integers(0, len(data) - 1))
        return data[:i] + bytes([data[i] ^ draw(st.integers(1, 255))]) + data[i + 1:]
    if kind == "garbage":
        return draw(st.binary(max_size=64))
    if kind == "unknown":
        return data + tagged(draw(st.integers(1000, 536_870_911)), 2, draw(st.binary(max_size=8)))
    return data


def _wire_type(fd: FieldDescriptor) -> int:
    if fd.type in (F.TYPE_STRING, F.TYPE_BYTES, F.TYPE_MESSAGE) or fd.is_repeated:
        return 2
    if fd.type in (F.TYPE_DOUBLE, F.TYPE_FIXED64, F.TYPE_SFIXED64):
        return 1
    if fd.type in (F.TYPE_FLOAT, F.TYPE_FIXED32, F.TYPE_SFIXED32):
        return 5
    return 0


@st.composite
def requests(draw: st.DrawFn, desc: Descriptor, world: World) -> bytes:
    """A request of type ``desc`` as the bytes a client sends."""
    return draw(mutated(draw(messages(desc, world)).SerializeToString(), desc))


def _set_path(msg: Message, path: Sequence[int], value: str) -> None:
    """Set the string field at ``path`` (field numbers), creating the messages on the way."""
    for number in path[:-1]:
        fd = msg.DESCRIPTOR.fields_by_number[number]
        msg = getattr(msg, fd.name).add() if fd.is_repeated else getattr(msg, fd.name)
    fd = msg.DESCRIPTOR.fields_by_number[path[-1]]
    if fd.is_repeated:
        getattr(msg, fd.name).append(value)
    else:
        setattr(msg, fd.name, value)


def _field_at(desc: Descriptor, path: Sequence[int]) -> FieldDescriptor:
    for number in path[:-1]:
        desc = desc.fields_by_number[number].message_type
    return desc.fields_by_number[path[-1]]


def hostile_examples(desc: Descriptor, world: World) -> list[bytes]:
    """Requests every run tries first, whatever the profile: a corrupt message; for each string field
    in turn, a NUL there while every other string names something that exists (so the NUL gets past
    the lookups that would refuse a random name); invalid UTF-8; and real tokens with a NUL or a
    flipped byte."""
    paths = string_paths(desc)[:10]
    plausible = _class(desc)()
    for path in paths:
        name = _field_at(desc, path).name
        _set_path(plausible, path, world.named.get(name, world.strings[min(1, len(world.strings) - 1)]))
    out = [b"\x00", b"\x0a\x05abc"]  # a lone zero tag; a string field shorter than its length says
    for path in paths:
        msg = _class(desc)()
        msg.CopyFrom(plausible)
        _set_path(msg, path, "\x00")
        out.append(msg.SerializeToString())
    if paths:
        out.append(plausible.SerializeToString() + nested(paths[0], b"\xff"))
    for fd in desc.fields:
        if fd.type == F.TYPE_BYTES and "token" in fd.name:
            for token in world.tokens[:1]:
                for bad in (token.replace(b"default", b"\x00efault", 1), token[:-1] + bytes([token[-1] ^ 1])):
                    out.append(plausible.SerializeToString() + tagged(fd.number, 2, bad))
    return out
