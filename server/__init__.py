"""The wf server: gRPC frontend, configuration and process assembly (``wf server``)."""

__version__ = "0.1.0"
