"""Testing helpers: replay recorded histories against workflow code, with no server."""

from worker_sdk._replayer import Replayer, ReplayResult

__all__ = ["Replayer", "ReplayResult"]
