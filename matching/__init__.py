"""Task queues: long-poll dispatch of workflow and activity tasks to workers."""

from wf.matching.matcher import Matcher, PollerInfo

__all__ = ["Matcher", "PollerInfo"]
