"""Configuration of one ``wf server`` process.

Each field is described once, with :func:`wf.history.limits.setting`: its default, help, flag and
``WF_…`` environment variable. ``wf server start`` and ``start-dev`` generate their options from these
descriptions and from those of :class:`wf.history.limits.Limits` (see ``wf.server.cli``).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from wf.history.limits import Limits, required_setting, setting


@dataclass
class ServerConfig:
    db_url: str = required_setting(
        "PostgreSQL URL, e.g. postgresql://wf:secret@db:5432/wf.", flag="--db"
    )
    host: str = setting("127.0.0.1", "Address to listen on.", flag="--ip", env="WF_IP")
    port: int = setting(7233, "gRPC port.", minimum=0, maximum=65535)
    long_poll_timeout: float = setting(
        60.0, "Seconds a poll for tasks (or for new history events) waits before answering empty.", minimum=0.1
    )
    query_timeout: float = setting(10.0, "Seconds a query waits for a worker to answer it.", minimum=0.1)
    db_pool_size: int = setting(
        20, "Database connections this server keeps; a quarter of them may start new runs at once.", minimum=4
    )
    max_grpc_message_bytes: int = setting(
        4 * 1024 * 1024, "Largest gRPC message the server receives or sends, in bytes.", minimum=64 * 1024
    )
    timer_poll_interval: float = setting(
        1.0, "Longest time, in seconds, between two reads of the timers due soon.", minimum=0.01
    )
    min_client_ping_interval: float = setting(
        10.0,
        "Shortest interval, in seconds, between keepalive pings the server accepts from a client, with or "
        "without calls in flight (the SDK pings every 30 s); a client pinging more often is sent GOAWAY.",
        minimum=0.001,
    )
    # Retention (``wf.history.retention``): closed runs past their namespace's retention are deleted in
    # small batches, each its own short transaction, so the live workload is not slowed.
    retention_batch_size: int = setting(
        100, "Most closed runs past their namespace's retention one statement deletes.", minimum=1
    )
    retention_pause: float = setting(
        0.05, "Seconds between two batches of deletions while runs are due.", minimum=0
    )
    retention_idle: float = setting(
        10.0, "Seconds between looks for runs past their retention when none were due.", minimum=0.01
    )
    otel_console: bool = setting(False, "Print an OpenTelemetry span for every RPC to stderr (for debugging).")
    # Who may do what (``wf.server.auth``): API keys and mapped client certificates, checked by one
    # link of the call pipeline.
    auth: str = setting(
        "off",
        "'off': every caller may do everything (the default). 'required': every call needs an API key "
        "(authorization: Bearer) or a client certificate mapped by --auth-subjects, with the role its "
        "method needs in its namespace.",
    )
    auth_subjects: str = setting(
        "", "TOML or JSON file mapping client certificate subjects to [namespace, role] grants (mutual TLS)."
    )
    limits: Limits = field(default_factory=Limits)
