"""Work that waits: a task queue's backlog, timers read ahead, and notifications between processes.

A backlog this process committed is handed out from memory, in order, each task once, without
reading the task table again; timers are read before they are due and fire at their time, never
early, once each even when two processors race; a process does not act on its own notifications.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable
from typing import Any

from tests.helpers import (
    Stub,
    assert_eventually,
    complete_workflow,
    complete_workflow_task,
    dur,
    events_of,
    fetch_history,
    new_id,
    next_workflow_task,
    payloads,
    poll_workflow_task,
    start_request,
)
from wf.history.notify import Notifier
from wf.history.tasks import TaskKind, TaskRow
from wf.history.timers import TimerProcessor
from wf.server.app import Server, asyncpg_dsn
from wf.v1 import command_pb2, common_pb2, service_pb2

NS = "default"


def _start_timer(timer_id: str, seconds: float) -> command_pb2.Command:
    return command_pb2.Command(
        command_type=command_pb2.COMMAND_TYPE_START_TIMER,
        start_timer_command_attributes=command_pb2.StartTimerCommandAttributes(
            timer_id=timer_id, start_to_fire_timeout=dur(seconds)
        ),
    )


def _cancel_timer(timer_id: str) -> command_pb2.Command:
    return command_pb2.Command(
        command_type=command_pb2.COMMAND_TYPE_CANCEL_TIMER,
        cancel_timer_command_attributes=command_pb2.CancelTimerCommandAttributes(timer_id=timer_id),
    )


def _seconds(ts: Any) -> float:
    return float(ts.seconds) + ts.nanos / 1e9


# -- the backlog ---------------------------------------------------------------------------------


async def test_a_backlog_committed_here_is_handed_out_in_order_once_each_without_reading_the_table(
    server: Server, stub: Stub, task_queue: str
) -> None:
    assert server.matcher is not None
    store = server.matcher.store
    reads: list[str] = []
    real_backlog = store.backlog

    async def counting_backlog(namespace: str, queue: str, kind: TaskKind, after_id: int, limit: int) -> list[TaskRow]:
        if queue == task_queue:
            reads.append(queue)
        return await real_backlog(namespace, queue, kind, after_id, limit)

    store.backlog = counting_backlog  # type: ignore[method-assign]
    try:
        ids = [new_id() for _ in range(40)]
        for wid in ids:  # one after another: the order of their tasks is the order of the starts
            await stub.StartWorkflowExecution(start_request(wid, task_queue), timeout=10)
        got = []
        for _ in ids:
            task = await next_workflow_task(stub, task_queue)
            got.append(task.workflow_execution.workflow_id)
            await complete_workflow_task(stub, task.task_token, complete_workflow())
    finally:
        store.backlog = real_backlog  # type: ignore[method-assign]
    assert got == ids
    # The first poll of the queue looks at the table once (it might hold rows from before this
    # process started); every task after that came from memory.
    assert len(reads) <= 2, reads


async def test_a_backlog_larger_than_the_memory_bound_is_read_from_the_table(
    server: Server, stub: Stub, task_queue: str, monkeypatch: Any
) -> None:
    import wf.matching.matcher as matcher_module
    monkeypatch.setattr(matcher_module, "BUFFER_MAX", 5)
    ids = [new_id() for _ in range(23)]
    await asyncio.gather(*(stub.StartWorkflowExecution(start_request(wid, task_queue), timeout=10) for wid in ids))
    seen: list[str] = []
    for _ in ids:
        task = await next_workflow_task(stub, task_queue)
        seen.append(task.workflow_execution.workflow_id)
        await complete_workflow_task(stub, task.task_token, complete_workflow())
    assert sorted(seen) == sorted(ids)  # every one, none twice


async def test_a_queue_nobody_polls_is_forgotten_and_its_tasks_are_still_handed_out(
    server: Server, stub: Stub, task_queue: str, monkeypatch: Any
) -> None:
    import wf.matching.matcher as matcher_module
    matcher = server.matcher
    assert matcher is not None
    monkeypatch.setattr(matcher_module, "QUEUE_IDLE", 0.5)
    wid = new_id()
    await stub.StartWorkflowExecution(start_request(wid, task_queue), timeout=10)  # no poller: kept here
    key = (NS, task_queue, TaskKind.WORKFLOW)
    assert key in matcher._queues
    other = new_id("tq")

    async def forgotten() -> bool:
        await poll_workflow_task(stub, other, timeout=0.2)  # polls elsewhere sweep the idle queues
        return key not in matcher._queues

    await assert_eventually(forgotten)
    task = await next_workflow_task(stub, task_queue)  # read back from the task table
    assert task.workflow_execution.workflow_id == wid
    await complete_workflow_task(stub, task.task_token, complete_workflow())


# -- timers --------------------------------------------------------------------------------------


async def _timers_fired(stub: Stub, wid: str) -> list[Any]:
    return events_of(await fetch_history(stub, wid), "TimerFired")


async def test_timers_fire_once_each_and_never_early_even_with_two_processors_racing(
    server: Server, stub: Stub, task_queue: str
) -> None:
    assert server.history is not None
    # A second processor on the same server, reading three timers at a time: it and the server's
    # own one schedule the same rows, and each timer must still fire exactly once.
    reads = 0

    class Counting(TimerProcessor):
        async def _read(self) -> float:
            nonlocal reads
            reads += 1
            return await super()._read()

    wid = new_id()
    await stub.StartWorkflowExecution(start_request(wid, task_queue), timeout=10)
    task = await next_workflow_task(stub, task_queue)
    seconds = {f"t{i}": 1.0 + 0.1 * i for i in range(10)}
    await complete_workflow_task(stub, task.task_token, *(_start_timer(t, s) for t, s in seconds.items()))
    rival = Counting(server.history, batch=3, lookahead=5.0)
    rival_task = asyncio.create_task(rival.run())
    try:
        fired = await assert_eventually(lambda: _at_least(_timers_fired(stub, wid), len(seconds)), timeout=20)
    finally:
        rival_task.cancel()
        await asyncio.gather(rival_task, return_exceptions=True)
    history = await fetch_history(stub, wid)
    started = {e.timer_started_event_attributes.timer_id: e for e in events_of(history, "TimerStarted")}
    assert sorted(e.timer_fired_event_attributes.timer_id for e in fired) == sorted(seconds)
    for e in fired:
        timer_id = e.timer_fired_event_attributes.timer_id
        due = _seconds(started[timer_id].event_time) + seconds[timer_id]
        assert _seconds(e.event_time) >= due, f"{timer_id} fired {due - _seconds(e.event_time):.3f}s early"
    assert reads >= 4  # ten timers three at a time: it read on from where each read ended


async def _at_least(fired: Awaitable[list[Any]], n: int) -> list[Any]:
    got = await fired
    assert len(got) >= n, f"{len(got)} of {n} timers fired so far"
    return got


async def test_a_timer_cancelled_after_it_was_read_ahead_does_not_fire(
    server: Server, stub: Stub, task_queue: str
) -> None:
    timers = server.timers
    assert timers is not None
    wid = new_id()
    started = await stub.StartWorkflowExecution(start_request(wid, task_queue), timeout=10)
    task = await next_workflow_task(stub, task_queue)
    await complete_workflow_task(stub, task.task_token, _start_timer("soon", 0.8))

    def scheduled() -> bool:
        return any(key[1] == wid and key[3] == "t:soon" for key in timers._scheduled)

    await assert_eventually(scheduled)  # read ahead, waiting for its time on the event loop
    await stub.SignalWorkflowExecution(
        service_pb2.SignalWorkflowExecutionRequest(
            namespace=NS,
            workflow_execution=common_pb2.WorkflowExecution(workflow_id=wid, run_id=started.run_id),
            signal_name="stop",
            input=payloads(b"x"),
            identity="tests",
        ),
        timeout=10,
    )
    task = await next_workflow_task(stub, task_queue)
    await complete_workflow_task(stub, task.task_token, _cancel_timer("soon"))
    # Its time comes and goes: the scheduled firing finds the timer gone and leaves no trace.
    await assert_eventually(lambda: not scheduled(), timeout=10)
    history = await fetch_history(stub, wid)
    assert events_of(history, "TimerCanceled")
    assert not events_of(history, "TimerFired")


# -- notifications ---------------------------------------------------------------------------------


async def test_a_process_does_not_act_on_its_own_notifications(db_url: str) -> None:
    dsn = asyncpg_dsn(db_url)
    a, b = Notifier(dsn), Notifier(dsn)
    got_a: list[str] = []
    got_b: list[str] = []
    prefix = new_id("n")
    a.subscribe(prefix, got_a.append)
    b.subscribe(prefix, got_b.append)
    await a.start()
    await b.start()
    try:
        a.publish(prefix, "from-a")
        await assert_eventually(lambda: got_b == ["from-a"])
        b.publish(prefix, "from-b")
        await assert_eventually(lambda: got_a == ["from-b"])
        # Notifications reach listeners in commit order: had a's own come back, it would be first.
        assert got_a == ["from-b"] and got_b == ["from-a"]
    finally:
        await a.close()
        await b.close()

