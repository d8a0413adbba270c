"""wf's web UI: an ASGI application (Starlette, Jinja2 templates, a little plain JavaScript) that
shows a wf server's workflows, their histories as timelines, what they wait on, and acts on them.

It is a client of the public API like any other: it imports ``worker_sdk`` (and the wire modules it
speaks) and its web framework, never the server's packages. ``create_app`` builds the application;
whoever serves it (``wf ui``, ``wf server start-dev``) binds the socket.
"""

from __future__ import annotations

from wf.ui.app import create_app

__all__ = ["create_app"]
