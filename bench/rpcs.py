"""Counting the RPCs a :class:`worker_sdk.Client` sends, without touching the SDK or the server.

The client's stub (``client.service``) is looked up on every call, so replacing its methods on that
one instance with counting wrappers sees every RPC attempt (retries included) at no real cost.
The driver counts its own RPCs this way and the worker process counts its own; between them they
are every RPC the benchmark's server receives.
"""

from __future__ import annotations

from collections import Counter
from typing import Any

from wf.v1 import service_pb2
from worker_sdk import Client

_METHODS = [m.name for m in service_pb2.DESCRIPTOR.services_by_name["WorkflowService"].methods]


class _Counted:
    def __init__(self, inner: Any, name: str, counts: Counter[str]) -> None:
        self._inner = inner
        self._name = name
        self._counts = counts

    def __call__(self, request: Any, **kwargs: Any) -> Any:
        self._counts[self._name] += 1
        return self._inner(request, **kwargs)


def count_rpcs(client: Client) -> Counter[str]:
    """Count every RPC ``client`` sends from now on, by method name; returns the live counter."""
    counts: Counter[str] = Counter()
    for name in _METHODS:
        setattr(client.service, name, _Counted(getattr(client.service, name), name, counts))
    return counts
