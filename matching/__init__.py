"""Task queues: long-poll dispatch of workflow and activity tasks to workers."""

from wf.matching.matcher import Matcher
from wf.matching.pollers import PollerInfo

__all__ = ["Matcher", "PollerInfo"]
