"""The history service: wf's durable state machine of executions on PostgreSQL.

Executions, their append-only events, task rows and timer rows live in ``history.schema``; the
``Store`` writes each change in one statement guarded by the execution's version; the
``HistoryService`` holds the operations (start, workflow and activity task lifecycles, timers).
"""
