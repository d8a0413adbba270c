"""``--api-key`` / ``WF_API_KEY``: the key every command that connects sends (Temporal's CLI flag).

Kept out of the group's parsed values, as the TLS flags are, so it never appears in a ``_Settings``
repr or a traceback's locals; it goes straight to ``Client.connect(api_key=...)``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

import click

F = TypeVar("F", bound=Callable[..., Any])
_META = "wf.api_key"


def _store(ctx: click.Context, param: click.Parameter, value: Any) -> Any:
    if value:
        ctx.meta[_META] = str(value)
    return None


def api_key_options(*, group: bool) -> list[Callable[[F], F]]:
    """``--api-key``: with its environment variable on a group, as an override on its commands."""
    kw: dict[str, Any] = {"expose_value": False, "callback": _store, "default": None}
    help_text = "API key to send as 'authorization: Bearer' (servers run with --auth required)."
    if group:
        kw.update(envvar="WF_API_KEY", show_envvar=True, help=help_text)
    else:
        kw["help"] = f"{help_text} [env WF_API_KEY]"
    return [click.option("--api-key", "api_key", **kw)]


def api_key_from_context(ctx: click.Context | None) -> str | None:
    """The key given by ``--api-key`` or ``WF_API_KEY``, if any."""
    if ctx is None:
        return None
    key = ctx.meta.get(_META)
    return str(key) if key else None
