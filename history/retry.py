"""Retry decisions for activities, by the retry policy (Temporal's defaults and rules)."""

from __future__ import annotations

import math
from datetime import datetime, timedelta

from wf.history.durations import duration, is_set
from wf.history.limits import MAX_DURATION_SECONDS
from wf.v1 import common_pb2

DEFAULT_INITIAL = timedelta(seconds=1)
DEFAULT_BACKOFF = 2.0
DEFAULT_MAX_FACTOR = 100


def with_defaults(policy: common_pb2.RetryPolicy) -> common_pb2.RetryPolicy:
    """The policy with unset fields filled: initial 1 s, back-off 2.0, maximum 100 × initial."""
    p = common_pb2.RetryPolicy()
    p.CopyFrom(policy)
    if not is_set(p.initial_interval):
        p.initial_interval.FromTimedelta(DEFAULT_INITIAL)
    if p.backoff_coefficient == 0:
        p.backoff_coefficient = DEFAULT_BACKOFF
    if not is_set(p.maximum_interval):
        p.maximum_interval.FromTimedelta(duration(p.initial_interval) * DEFAULT_MAX_FACTOR)
    return p


def validate(policy: common_pb2.RetryPolicy) -> str | None:
    """What is wrong with a policy, or None."""
    if policy.initial_interval.seconds < 0 or policy.initial_interval.nanos < 0:
        return "retry_policy.initial_interval must not be negative"
    if policy.maximum_interval.seconds < 0 or policy.maximum_interval.nanos < 0:
        return "retry_policy.maximum_interval must not be negative"
    if max(policy.initial_interval.seconds, policy.maximum_interval.seconds) > MAX_DURATION_SECONDS:
        return "retry_policy intervals must not be longer than 100 years"
    if policy.backoff_coefficient != 0 and not policy.backoff_coefficient >= 1:  # NaN too
        return "retry_policy.backoff_coefficient must be 1 or more"
    if policy.maximum_attempts < 0:
        return "retry_policy.maximum_attempts must not be negative (0 means unlimited)"
    if (
        is_set(policy.maximum_interval)
        and is_set(policy.initial_interval)
        and duration(policy.maximum_interval) < duration(policy.initial_interval)
    ):
        return "retry_policy.maximum_interval must not be less than initial_interval"
    return None


def next_delay(
    policy: common_pb2.RetryPolicy,
    attempt: int,
    failure: common_pb2.Failure,
    now: datetime,
    deadline: datetime | None,
) -> tuple[timedelta | None, int]:
    """After attempt ``attempt`` failed with ``failure``: the back-off before the next, or None.

    Returns (delay or None, RetryState saying why not when None).
    """
    info = failure.application_failure_info if failure.HasField("application_failure_info") else None
    if info is not None and (info.non_retryable or info.type in policy.non_retryable_error_types):
        return None, common_pb2.RETRY_STATE_NON_RETRYABLE_FAILURE
    if policy.maximum_attempts and attempt >= policy.maximum_attempts:
        return None, common_pb2.RETRY_STATE_MAXIMUM_ATTEMPTS_REACHED
    # In float seconds, capped before it becomes a timedelta: with unlimited attempts the uncapped
    # back-off outgrows timedelta (attempt 48 with the defaults) and then float itself.
    try:
        factor = policy.backoff_coefficient ** (attempt - 1)
    except OverflowError:
        factor = math.inf
    seconds = duration(policy.initial_interval).total_seconds() * factor
    delay = timedelta(seconds=min(seconds, duration(policy.maximum_interval).total_seconds(), MAX_DURATION_SECONDS))
    if deadline is not None and now + delay >= deadline:
        return None, common_pb2.RETRY_STATE_TIMEOUT
    return delay, common_pb2.RETRY_STATE_IN_PROGRESS
