"""Who may do what: API keys and certificate subjects mapped to roles per namespace, checked by one
link of the call pipeline (``link.py``) for every call on every transport.

- ``principal.py``: :class:`Principal`, who makes a call.
- ``roles.py``: the role each method needs, and which roles satisfy it.
- ``keys.py``: API keys (``wf_<key id>_<secret>``), their table and a short verification cache.
- ``subjects.py``: the ``--auth-subjects`` file, certificate subject → grants.
- ``link.py``: the pipeline's authentication and authorization link.
"""

from __future__ import annotations

from wf.server.auth.principal import Principal

__all__ = ["Principal"]
