"""Protobuf durations as history reads them: a duration is "set" when it is positive."""

from __future__ import annotations

from datetime import timedelta

from google.protobuf.duration_pb2 import Duration


def duration(d: Duration) -> timedelta:
    return timedelta(microseconds=d.ToMicroseconds())


def is_set(d: Duration) -> bool:
    return d.seconds > 0 or d.nanos > 0
