"""Testing helpers: a real wf server in the test's process, and replay of recorded histories.

``WorkflowEnvironment.start_local()`` needs the server installed (``pip install 'wf-workflows[dev]'``);
the replayer needs no server.
"""

from worker_sdk._environment import WorkflowEnvironment
from worker_sdk._replayer import Replayer, ReplayResult

__all__ = ["Replayer", "ReplayResult", "WorkflowEnvironment"]
