"""Each nominal time of a schedule is taken exactly once across servers, also through a SIGKILL.

Several ``wf server`` processes on one database run the schedules' loop; each time of each schedule
must end up started once (a run with id ``<workflow id>-<time>``) or counted as skipped by the overlap
policy: never both, never twice, no gaps. The expected times are computed here from the interval,
independently of the server's spec code, and compared with the runs the list query
``TemporalScheduledById = '<id>'`` finds and with the counts ``DescribeSchedule`` gives.

These tests run their servers as subprocesses on a scratch database of their own on the session's
PostgreSQL, so no other server of the test session (the in-process one) takes their schedules.
The helpers here are shared with ``tests/test_schedules_catchup.py``.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import math
import time
import uuid
from collections import Counter
from collections.abc import AsyncIterator, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import asyncpg
import grpc
import pytest
import pytest_asyncio
from google.protobuf.timestamp_pb2 import Timestamp

from tests.helpers import Stub, assert_eventually, dur, free_port, list_all, scratch_database, wf_server_process
from wf.server.app import asyncpg_dsn
from wf.v1 import common_pb2, schedule_pb2, service_pb2, service_pb2_grpc
from worker_sdk import Client, Worker, activity, workflow

C = common_pb2
P = schedule_pb2
S = service_pb2

SCHEDULED_BY = "TemporalScheduledById"
SCHEDULED_AT = "TemporalScheduledStartTime"
ALLOW_ALL = P.SCHEDULE_OVERLAP_POLICY_ALLOW_ALL
SKIP = P.SCHEDULE_OVERLAP_POLICY_SKIP


# -- a database of their own -----------------------------------------------------------------------


@pytest_asyncio.fixture(scope="module", loop_scope="session")
async def sched_db(db_url: str) -> AsyncIterator[str]:
    async with scratch_database(db_url, "wf_sched_once") as url:
        yield url


@contextlib.asynccontextmanager
async def channel_to(address: str) -> AsyncIterator[Stub]:
    async with grpc.aio.insecure_channel(address) as channel:
        yield service_pb2_grpc.WorkflowServiceStub(channel)


# -- times and ids ---------------------------------------------------------------------------------


def rfc3339(t: datetime) -> str:
    """The nominal time as a scheduled run's workflow id ends: seconds, UTC, ``Z``."""
    return t.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def run_id_for(workflow_id: str, t: datetime) -> str:
    return f"{workflow_id}-{rfc3339(t)}"


def whole_seconds_from_now(seconds: float) -> datetime:
    """A whole second at least ``seconds`` from now."""
    return datetime.fromtimestamp(math.ceil(time.time() + seconds), UTC)


def interval_times(first: datetime, last: datetime, every: float, phase: float = 0.0) -> list[datetime]:
    """Every ``epoch + n * every + phase`` in [first, last] (Temporal's interval spec)."""
    n = math.ceil((first.timestamp() - phase) / every)
    out = []
    while (t := n * every + phase) <= last.timestamp():
        out.append(datetime.fromtimestamp(t, UTC))
        n += 1
    return out


def ts(t: datetime) -> Timestamp:
    stamp = Timestamp()
    stamp.FromDatetime(t)
    return stamp


async def wait_until(moment: datetime) -> None:
    """Sleep until a wall-clock moment: the times a schedule fires, and outages, are wall-clock time."""
    await asyncio.sleep(max(0.0, moment.timestamp() - time.time()))


# -- schedules over raw gRPC -----------------------------------------------------------------------


def interval_schedule(
    workflow_id: str,
    task_queue: str,
    workflow_type: str,
    *,
    every: float,
    start: datetime | None = None,
    end: datetime | None = None,
    overlap: int = ALLOW_ALL,
    catchup_window: float | None = None,
    phase: float = 0.0,
) -> P.Schedule:
    """A schedule starting ``workflow_type`` every ``every`` seconds (jitter off)."""
    spec = P.ScheduleSpec(interval=[P.IntervalSpec(interval=dur(every), phase=dur(phase))])
    if start is not None:
        spec.start_time.CopyFrom(ts(start))
    if end is not None:
        spec.end_time.CopyFrom(ts(end))
    policies = P.SchedulePolicies(overlap_policy=overlap)
    if catchup_window is not None:
        policies.catchup_window.CopyFrom(dur(catchup_window))
    return P.Schedule(
        spec=spec,
        action=P.ScheduleAction(
            start_workflow=P.NewWorkflowExecutionInfo(
                workflow_id=workflow_id,
                workflow_type=C.WorkflowType(name=workflow_type),
                task_queue=C.TaskQueue(name=task_queue),
                workflow_task_timeout=dur(10),
            )
        ),
        policies=policies,
    )


async def create_schedule(stub: Stub, schedule_id: str, schedule: P.Schedule) -> None:
    await stub.CreateSchedule(
        S.CreateScheduleRequest(
            namespace="default", schedule_id=schedule_id, schedule=schedule, request_id=uuid.uuid4().hex
        ),
        timeout=10,
    )


async def describe_schedule(stub: Stub, schedule_id: str) -> S.DescribeScheduleResponse:
    return await stub.DescribeSchedule(
        S.DescribeScheduleRequest(namespace="default", schedule_id=schedule_id), timeout=10
    )


async def patch_schedule(stub: Stub, schedule_id: str, patch: P.SchedulePatch) -> None:
    await stub.PatchSchedule(
        S.PatchScheduleRequest(namespace="default", schedule_id=schedule_id, patch=patch, request_id=uuid.uuid4().hex),
        timeout=10,
    )


async def delete_schedule(stub: Stub, schedule_id: str) -> None:
    await stub.DeleteSchedule(S.DeleteScheduleRequest(namespace="default", schedule_id=schedule_id), timeout=10)


@dataclass(frozen=True)
class ScheduledRun:
    workflow_id: str
    run_id: str
    scheduled_at: datetime


def _payload_value(payload: C.Payload) -> object:
    return json.loads(payload.data)


async def scheduled_runs(stub: Stub, schedule_id: str) -> list[ScheduledRun]:
    """Every run the schedule started, as the list query on ``TemporalScheduledById`` finds them."""
    runs = []
    for info in await list_all(stub, f"{SCHEDULED_BY} = '{schedule_id}'", page_size=200):
        fields = info.search_attributes.indexed_fields
        assert _payload_value(fields[SCHEDULED_BY]) == schedule_id, info
        at = datetime.fromisoformat(str(_payload_value(fields[SCHEDULED_AT])).replace("Z", "+00:00"))
        runs.append(ScheduledRun(info.execution.workflow_id, info.execution.run_id, at))
    return runs


@dataclass(frozen=True)
class Accounts:
    """How one schedule's nominal times were taken, checked against the times it should have taken."""

    started: list[datetime]
    skipped: int
    missed: int
    action_count: int


def account(
    workflow_id: str, expected: Iterable[datetime], runs: list[ScheduledRun], info: P.ScheduleInfo
) -> Accounts:
    """Check that ``runs`` are distinct runs of distinct expected times with the right ids, and that
    the schedule's counters add up: every expected time started or counted, none both, none twice.

    Returns the started times (sorted) and the counters, for the caller's own checks."""
    want = set(expected)
    ids = Counter(r.workflow_id for r in runs)
    twice = sorted(i for i, n in ids.items() if n > 1)
    assert not twice, f"workflow ids started more than once: {twice}"
    times = Counter(r.scheduled_at for r in runs)
    assert all(n == 1 for n in times.values()), f"a nominal time started twice: {times.most_common(3)}"
    for r in runs:
        assert r.workflow_id == run_id_for(workflow_id, r.scheduled_at), (
            f"run {r.workflow_id} carries {SCHEDULED_AT} {r.scheduled_at}"
        )
        assert r.scheduled_at in want, f"{r.workflow_id}: {r.scheduled_at} is not a nominal time of the window"
    assert info.action_count == len(runs), f"action_count {info.action_count} but {len(runs)} runs listed"
    accounted = len(runs) + info.overlap_skipped + info.missed_catchup_window
    assert accounted == len(want), (
        f"{len(want)} nominal times, but {len(runs)} started + {info.overlap_skipped} skipped"
        f" + {info.missed_catchup_window} missed = {accounted}"
    )
    return Accounts(sorted(times), info.overlap_skipped, info.missed_catchup_window, info.action_count)


async def settled(stub: Stub, schedule_id: str, count: int, *, timeout: float) -> S.DescribeScheduleResponse:
    """Describe the schedule once it has accounted for ``count`` times (started, skipped or missed)."""

    async def done() -> S.DescribeScheduleResponse:
        d = await describe_schedule(stub, schedule_id)
        i = d.info
        got = i.action_count + i.overlap_skipped + i.missed_catchup_window
        assert got >= count, (
            f"{schedule_id}: {i.action_count} started, {i.overlap_skipped} skipped,"
            f" {i.missed_catchup_window} missed of {count}"
        )
        return d

    return await assert_eventually(done, timeout=timeout, interval=0.2)


# -- the runs: one activity a worker closes at once ------------------------------------------------


@activity.defn
async def scheduled_tick(workflow_id: str) -> str:
    return workflow_id


@workflow.defn
class ScheduledTick:
    @workflow.run
    async def run(self) -> str:
        result: str = await workflow.execute_activity(
            scheduled_tick, workflow.info().workflow_id, start_to_close_timeout=timedelta(seconds=10)
        )
        return result


# -- the tests -------------------------------------------------------------------------------------

SCHEDULES = 20
WINDOW = 30  # seconds: the nominal times every schedule takes
LEAD = 4.0  # seconds from now to the first nominal time: room to create every schedule before it


@pytest.mark.timeout(150)
async def test_two_servers_take_every_time_once_with_one_killed_and_restarted(sched_db: str) -> None:
    """Two servers, 20 schedules every second for 30 s; server B is SIGKILLed at the middle and
    restarted 5 s later. Half the schedules ALLOW_ALL (every time must start), half SKIP (a time
    whose previous run is still open is counted skipped instead)."""
    task_queue = f"sched-once-{uuid.uuid4().hex[:8]}"
    async with wf_server_process(sched_db) as a, wf_server_process(sched_db) as b:
        client = await Client.connect(a.address)
        try:
            async with (
                Worker(
                    client,
                    task_queue=task_queue,
                    workflows=[ScheduledTick],
                    activities=[scheduled_tick],
                    workflow_task_pollers=4,
                    activity_task_pollers=4,
                ),
                channel_to(a.address) as stub_a,
                channel_to(b.address) as stub_b,
            ):
                first = whole_seconds_from_now(LEAD)
                last = first + timedelta(seconds=WINDOW - 1)
                expected = interval_times(first, last, 1.0)
                assert len(expected) == WINDOW
                schedules: dict[str, tuple[str, int]] = {}
                for i in range(SCHEDULES):
                    sid, wid = f"once-{task_queue}-{i}", f"once-{task_queue}-{i}-wf"
                    overlap = ALLOW_ALL if i % 2 == 0 else SKIP
                    schedule = interval_schedule(
                        wid, task_queue, "ScheduledTick", every=1.0, overlap=overlap,
                        # Half a second around the window, so neither end's inclusiveness matters.
                        start=first - timedelta(seconds=0.5), end=last + timedelta(seconds=0.5),
                    )
                    # Created through both servers.
                    await create_schedule(stub_a if i % 2 == 0 else stub_b, sid, schedule)
                    schedules[sid] = (wid, overlap)
                assert time.time() < first.timestamp() - 0.5, "creating the schedules took longer than the lead"

                # SIGKILL in the middle of the window, just after a second's times fell due: most
                # likely in the tick that takes them, whatever it was doing is cut off.
                await wait_until(first + timedelta(seconds=WINDOW / 2, milliseconds=5))
                await b.kill()
                await wait_until(first + timedelta(seconds=WINDOW / 2 + 5))
                async with wf_server_process(sched_db, port=b.port):
                    await wait_until(last)
                    descriptions = {
                        sid: await settled(stub_a, sid, WINDOW, timeout=30) for sid in schedules
                    }
                    # Whatever started has been listed (visibility is the run's own row).
                    for sid, (wid, overlap) in schedules.items():
                        runs = await scheduled_runs(stub_a, sid)
                        info = descriptions[sid].info
                        accounts = account(wid, expected, runs, info)
                        assert accounts.missed == 0, f"{sid}: times counted as missed with both servers up"
                        if overlap == ALLOW_ALL:
                            assert accounts.started == expected, f"{sid}: times not started under ALLOW_ALL"
                            assert accounts.skipped == 0
                        else:
                            # Each run closes within the second, so most times start.
                            assert len(accounts.started) >= WINDOW // 2, f"{sid}: {accounts}"
                        recent = {r.start_workflow_result.workflow_id for r in info.recent_actions}
                        assert recent <= {r.workflow_id for r in runs}
                    # Every run closes, those the killed server started included: none was lost.
                    async def all_closed() -> None:
                        running = await list_all(
                            stub_a, f"WorkflowId STARTS_WITH 'once-{task_queue}-' AND ExecutionStatus = 'Running'"
                        )
                        assert not running, f"{len(running)} scheduled runs still running"

                    await assert_eventually(all_closed, timeout=30, interval=0.5)
                    closed = await list_all(stub_a, f"WorkflowId STARTS_WITH 'once-{task_queue}-'", page_size=500)
                    assert {i.status for i in closed} == {C.WORKFLOW_EXECUTION_STATUS_COMPLETED}
                    # Neither server starts anything more once the window is over.
                    again = {sid: await describe_schedule(stub_a, sid) for sid in schedules}
                    assert {s: d.info.action_count for s, d in again.items()} == {
                        s: d.info.action_count for s, d in descriptions.items()
                    }
                    for sid in schedules:
                        await delete_schedule(stub_a, sid)
        finally:
            await client.close()


async def _insert_blocking_run(conn: asyncpg.Connection, workflow_id: str) -> None:
    """In an open transaction on ``conn``: a running execution row for ``workflow_id``, uncommitted.

    A start of that workflow id then waits on this transaction (the unique index of running runs)
    after it has decided to start and before it can commit: it is held between the two."""
    await conn.execute(
        """
        INSERT INTO executions (namespace, workflow_id, run_id, workflow_type, task_queue, status, start_time,
                                request_id, next_event_id, history_size, db_version, state)
        VALUES ('default', $1, $2, 'Blocker', 'nowhere', $3, now(), $2, 1, 0, 1, ''::bytea)
        """,
        workflow_id,
        uuid.uuid4().hex,
        C.WORKFLOW_EXECUTION_STATUS_RUNNING,
    )


async def _waiting_on(conn: asyncpg.Connection) -> int:
    """How many other backends wait for a lock ``conn``'s transaction holds."""
    return int(
        await conn.fetchval(
            "SELECT count(*) FROM pg_stat_activity WHERE pg_backend_pid() = ANY(pg_blocking_pids(pid))"
        )
    )


@pytest.mark.timeout(90)
@pytest.mark.parametrize("takeover", ["restarted", "other"], ids=["the server restarted", "another server"])
async def test_a_server_killed_between_deciding_a_start_and_committing_it_starts_it_once(
    sched_db: str, takeover: str
) -> None:
    """The server is SIGKILLed between a start's decision and its commit; the same server
    restarted, or another one that ran beside it (and left the held schedule alone meanwhile),
    then starts the time exactly once, and the times that passed meanwhile too."""
    task_queue = f"sched-held-{uuid.uuid4().hex[:8]}"
    sid, wid = f"held-{task_queue}", f"held-{task_queue}-wf"
    holder = await asyncpg.connect(asyncpg_dsn(sched_db))
    port = free_port()
    try:
        async with contextlib.AsyncExitStack() as servers:
            server = await servers.enter_async_context(wf_server_process(sched_db, port=port))
            async with channel_to(server.address) as stub:
                first = whole_seconds_from_now(3)
                expected = interval_times(first, first + timedelta(seconds=2), 1.0)
                hold = holder.transaction()
                await hold.start()
                await _insert_blocking_run(holder, run_id_for(wid, first))
                schedule = interval_schedule(
                    wid, task_queue, "ScheduledTick", every=1.0, overlap=ALLOW_ALL,
                    start=first - timedelta(seconds=0.5), end=expected[-1] + timedelta(seconds=0.5),
                )
                await create_schedule(stub, sid, schedule)
                assert time.time() < first.timestamp() - 0.5, "creating the schedule took longer than the lead"

                async def held() -> None:
                    assert await _waiting_on(holder) > 0, "the server has not reached the first start yet"

                await assert_eventually(held, timeout=first.timestamp() - time.time() + 15, interval=0.05)
                # Nothing of the start is visible: it waits, uncommitted.
                assert (await describe_schedule(stub, sid)).info.action_count == 0
            if takeover == "other":
                other = await servers.enter_async_context(wf_server_process(sched_db))
                # Its loop ticks meanwhile (at least every second) and skips the held schedule's row:
                # it does not try the start too (it would wait on the same row).
                await wait_until(datetime.now(UTC) + timedelta(seconds=2.5))
                assert await _waiting_on(holder) == 1
            await server.kill()
            if takeover == "restarted":
                other = await servers.enter_async_context(wf_server_process(sched_db, port=port))
            # The dead server's transaction still holds the schedule while it waits; let it go: it
            # finds its client gone and rolls back, and the live server takes the schedule.
            await hold.rollback()
            async with channel_to(other.address) as stub:
                d = await settled(stub, sid, len(expected), timeout=30)
                runs = await scheduled_runs(stub, sid)
                accounts = account(wid, expected, runs, d.info)
                assert accounts.started == expected
                assert accounts.skipped == accounts.missed == 0
                await delete_schedule(stub, sid)
    finally:
        await holder.close()
