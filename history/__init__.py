"""The history service: wf's durable state machine of executions on PostgreSQL.

A change of a run takes one path: ``runs.Runs`` loads the run, an operation (``operations/``)
applies itself through the ``execution.Execution``'s transitions (each appends its events and its
task and timer rows; a workflow task's commands go through the handlers in ``commands/``), and
``Runs`` commits the change as one statement guarded by the run's version (``store.Store``). The
round trips the server saves are in ``shortcuts``. ``service.HistoryService`` composes it all.
"""
