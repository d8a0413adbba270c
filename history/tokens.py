"""Task tokens: what a worker holds for a started task and sends back with its answer."""

from __future__ import annotations

from wf.history.errors import InvalidArgument
from wf.v1 import internal_pb2


def encode_token(token: internal_pb2.TaskToken) -> bytes:
    return token.SerializeToString()


def decode_token(data: bytes) -> internal_pb2.TaskToken:
    token = internal_pb2.TaskToken()
    try:
        token.ParseFromString(data)
    except Exception as exc:  # protobuf raises DecodeError, a bare Exception subclass
        raise InvalidArgument("task_token is malformed") from exc
    if not token.workflow_id or not token.run_id or not token.scheduled_event_id:
        raise InvalidArgument("task_token is malformed")
    return token


def run_key(token: internal_pb2.TaskToken) -> tuple[str, str, str]:
    """The (namespace, workflow id, run id) of the run the token's task belongs to."""
    return (token.namespace, token.workflow_id, token.run_id)
