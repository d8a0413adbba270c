"""RetryPolicy: how activities (and, when asked, workflows) are retried."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import timedelta

from wf.v1 import common_pb2


@dataclass(frozen=True)
class RetryPolicy:
    """How an activity is retried. Defaults match Temporal's.

    Attributes:
        initial_interval: wait before the first retry.
        backoff_coefficient: each wait is this many times the previous one.
        maximum_interval: no wait is longer (default 100 × initial_interval).
        maximum_attempts: stop after this many attempts; 0 means no limit.
        non_retryable_error_types: ApplicationError types (or exception class names) never retried.
    """

    initial_interval: timedelta = timedelta(seconds=1)
    backoff_coefficient: float = 2.0
    maximum_interval: timedelta | None = None
    maximum_attempts: int = 0
    non_retryable_error_types: Sequence[str] = field(default_factory=tuple)

    def __post_init__(self) -> None:
        if self.initial_interval <= timedelta(0):
            raise ValueError("RetryPolicy.initial_interval must be positive")
        if self.backoff_coefficient < 1:
            raise ValueError("RetryPolicy.backoff_coefficient must be 1 or more")
        if self.maximum_interval is not None and self.maximum_interval < self.initial_interval:
            raise ValueError("RetryPolicy.maximum_interval must not be less than initial_interval")
        if self.maximum_attempts < 0:
            raise ValueError("RetryPolicy.maximum_attempts must not be negative (0 means no limit)")

    def to_proto(self) -> common_pb2.RetryPolicy:
        p = common_pb2.RetryPolicy(
            backoff_coefficient=self.backoff_coefficient,
            maximum_attempts=self.maximum_attempts,
            non_retryable_error_types=list(self.non_retryable_error_types),
        )
        p.initial_interval.FromTimedelta(self.initial_interval)
        if self.maximum_interval is not None:
            p.maximum_interval.FromTimedelta(self.maximum_interval)
        return p
