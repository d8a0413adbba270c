"""Schedules' pure model of time: which instants a `ScheduleSpec` names (see `spec.py`)."""

from __future__ import annotations

from .spec import SpecTimes, canonical_spec

__all__ = ["SpecTimes", "canonical_spec"]
