"""The operations callers ask of history, one module per kind of change, each a small class over the
shared :class:`wf.history.runs.Runs` helper (load → apply through the execution → commit).
``wf.history.service.HistoryService`` composes them."""
