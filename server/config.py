"""Configuration of one ``wf server`` process."""

from __future__ import annotations

from dataclasses import dataclass, field

from history.limits import Limits


@dataclass
class ServerConfig:
    db_url: str
    host: str = "127.0.0.1"
    port: int = 7233
    # How long a poll for tasks (or for new history events) waits before answering empty.
    long_poll_timeout: float = 60.0
    # How long a query waits for a worker to answer it.
    query_timeout: float = 10.0
    db_pool_size: int = 20
    max_grpc_message_bytes: int = 4 * 1024 * 1024
    timer_poll_interval: float = 1.0
    limits: Limits = field(default_factory=Limits)
