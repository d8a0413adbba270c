"""Catch-up: the times a schedule missed while no server ran, taken on recovery as Temporal does.

With every server stopped (SIGKILL) for a while and then one started again, a missed time inside the
schedule's ``catchup_window`` is taken, subject to the overlap policy (under SKIP the first missed
time starts and the rest are counted skipped); one older than the window at recovery is counted in
``missed_catchup_window``. Times while the schedule is paused are skipped and not counted, whether a
server ran then or not. The outages are real time (a stopped process), so the tests keep them short;
everything else waits on what the server reports.

Runs here have no worker: under ALLOW_ALL they need not close, and under SKIP the open run is the point.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import pytest
import pytest_asyncio

from tests.helpers import Stub, assert_eventually, free_port, wf_server_process
from tests.test_schedules_exactly_once import (
    ALLOW_ALL,
    SKIP,
    P,
    account,
    channel_to,
    create_schedule,
    delete_schedule,
    describe_schedule,
    interval_schedule,
    interval_times,
    patch_schedule,
    run_id_for,
    scheduled_runs,
    scratch_database,
    settled,
    wait_until,
    whole_seconds_from_now,
)


@pytest_asyncio.fixture(scope="module", loop_scope="session")
async def sched_db(db_url: str) -> AsyncIterator[str]:
    async with scratch_database(db_url, "wf_sched_catchup") as url:
        yield url


def before_first(first: datetime) -> None:
    """The schedule was created before its first time (a time before its creation is not taken)."""
    assert time.time() < first.timestamp() - 0.5, "creating the schedule took longer than the lead"


def now() -> datetime:
    return datetime.now(UTC)


def _ids(task_queue: str, name: str) -> tuple[str, str]:
    return f"{name}-{task_queue}", f"{name}-{task_queue}-wf"


async def _runs_at_least(stub: Stub, schedule_id: str, n: int, timeout: float) -> None:
    async def enough() -> None:
        runs = await scheduled_runs(stub, schedule_id)
        assert len(runs) >= n, f"{len(runs)} of {n} runs so far"

    await assert_eventually(enough, timeout=timeout, interval=0.1)


@pytest.mark.timeout(90)
async def test_every_time_missed_inside_the_catchup_window_is_started_on_recovery(sched_db: str) -> None:
    """1 s interval, ALLOW_ALL, catchup_window 60 s, every server down for ~5 s: all started."""
    task_queue = f"catchup-{uuid.uuid4().hex[:8]}"
    sid, wid = _ids(task_queue, "inside")
    port = free_port()
    async with wf_server_process(sched_db, port=port) as server:
        async with channel_to(server.address) as stub:
            first = whole_seconds_from_now(2)
            expected = interval_times(first, first + timedelta(seconds=11), 1.0)
            await create_schedule(stub, sid, interval_schedule(
                wid, task_queue, "Nothing", every=1.0, overlap=ALLOW_ALL, catchup_window=60,
                start=first - timedelta(seconds=0.5), end=expected[-1] + timedelta(seconds=0.5),
            ))
            before_first(first)
            await _runs_at_least(stub, sid, 2, timeout=15)
        await server.kill()
    down = now()
    await wait_until(down + timedelta(seconds=5))
    up = now()
    async with wf_server_process(sched_db, port=port) as server, channel_to(server.address) as stub:
        d = await settled(stub, sid, len(expected), timeout=30)
        runs = await scheduled_runs(stub, sid)
        accounts = account(wid, expected, runs, d.info)
        assert accounts.started == expected, "a missed time was not started"
        assert accounts.skipped == accounts.missed == 0
        outage = [t for t in expected if down < t < up]
        assert len(outage) >= 4, f"the outage covered only {outage}"
        await delete_schedule(stub, sid)


@pytest.mark.timeout(120)
async def test_times_older_than_the_catchup_window_at_recovery_are_counted_missed(sched_db: str) -> None:
    """catchup_window 10 s and a 20 s outage: the times older than 10 s when the server is back are
    counted in missed_catchup_window, the later ones started."""
    task_queue = f"catchup-{uuid.uuid4().hex[:8]}"
    sid, wid = _ids(task_queue, "outside")
    port = free_port()
    async with wf_server_process(sched_db, port=port) as server:
        async with channel_to(server.address) as stub:
            first = whole_seconds_from_now(2)
            expected = interval_times(first, first + timedelta(seconds=27), 1.0)
            await create_schedule(stub, sid, interval_schedule(
                wid, task_queue, "Nothing", every=1.0, overlap=ALLOW_ALL, catchup_window=10,
                start=first - timedelta(seconds=0.5), end=expected[-1] + timedelta(seconds=0.5),
            ))
            before_first(first)
            await _runs_at_least(stub, sid, 2, timeout=15)
        await server.kill()
    down = now()
    await wait_until(down + timedelta(seconds=20))
    restarted = now()
    async with wf_server_process(sched_db, port=port) as server, channel_to(server.address) as stub:
        # The first answer after recovery that shows the outage taken: recovery happened before it.
        async def recovered() -> datetime:
            info = (await describe_schedule(stub, sid)).info
            assert info.missed_catchup_window > 0, "the outage is not accounted for yet"
            return now()

        seen = await assert_eventually(recovered, timeout=20, interval=0.1)
        d = await settled(stub, sid, len(expected), timeout=30)
        runs = await scheduled_runs(stub, sid)
        accounts = account(wid, expected, runs, d.info)
        assert accounts.skipped == 0
        missed = sorted(set(expected) - set(accounts.started))
        assert len(missed) == accounts.missed
        # The missed times are one block inside the outage, older than every time started after it.
        assert missed and down < missed[0] and missed[-1] < restarted, (missed, down, restarted)
        after = [t for t in accounts.started if t > down]
        assert all(m < min(after) for m in missed)
        assert missed == [t for t in expected if missed[0] <= t <= missed[-1]], "the missed times are not contiguous"
        # Recovery came after the restart and before ``seen``: a time started on recovery was at
        # most 10 s old then, a missed one more than 10 s old.
        window = timedelta(seconds=10)
        caught_up = [t for t in after if t < restarted]
        assert caught_up and min(caught_up) >= restarted - window - timedelta(seconds=1), (caught_up, restarted)
        assert missed[-1] < seen - window, (missed, seen)
        await delete_schedule(stub, sid)


@pytest.mark.timeout(60)
async def test_under_skip_the_first_missed_time_starts_and_the_rest_are_skipped(sched_db: str) -> None:
    """SKIP with runs that stay open (no worker): of the times missed in an outage, the first
    starts on recovery and the others are counted as skipped by the overlap policy."""
    task_queue = f"catchup-{uuid.uuid4().hex[:8]}"
    sid, wid = _ids(task_queue, "skip")
    port = free_port()
    async with wf_server_process(sched_db, port=port) as server:
        async with channel_to(server.address) as stub:
            first = whole_seconds_from_now(3)
            expected = interval_times(first, first + timedelta(seconds=4), 1.0)
            await create_schedule(stub, sid, interval_schedule(
                wid, task_queue, "Nothing", every=1.0, overlap=SKIP,
                start=first - timedelta(seconds=0.5), end=expected[-1] + timedelta(seconds=0.5),
            ))
            before_first(first)
        await server.kill()
    assert time.time() < first.timestamp(), "the server was stopped after the first time: too slow to test"
    await wait_until(expected[-1] + timedelta(seconds=1))  # every time of the schedule is in the outage
    async with wf_server_process(sched_db, port=port) as server, channel_to(server.address) as stub:
        d = await settled(stub, sid, len(expected), timeout=30)
        runs = await scheduled_runs(stub, sid)
        accounts = account(wid, expected, runs, d.info)
        assert [r.workflow_id for r in runs] == [run_id_for(wid, first)]
        assert accounts.skipped == len(expected) - 1 and accounts.missed == 0
        assert [w.workflow_id for w in d.info.running_workflows] == [run_id_for(wid, first)]
        await delete_schedule(stub, sid)


@pytest.mark.timeout(90)
async def test_times_while_paused_are_skipped_and_not_counted_also_across_an_outage(sched_db: str) -> None:
    """Paused, then every server down, then up again still paused, then unpaused: no time of the
    pause is started on recovery or on unpausing, none is counted, and the schedule goes on."""
    task_queue = f"catchup-{uuid.uuid4().hex[:8]}"
    sid, wid = _ids(task_queue, "paused")
    port = free_port()
    async with wf_server_process(sched_db, port=port) as server:
        async with channel_to(server.address) as stub:
            first = whole_seconds_from_now(2)
            await create_schedule(stub, sid, interval_schedule(
                wid, task_queue, "Nothing", every=1.0, overlap=ALLOW_ALL, catchup_window=60,
                start=first - timedelta(seconds=0.5),
            ))
            before_first(first)
            await _runs_at_least(stub, sid, 4, timeout=15)
            await patch_schedule(stub, sid, P.SchedulePatch(pause="down for maintenance"))
            paused = now()
            d = await describe_schedule(stub, sid)
            assert d.schedule.state.paused and d.schedule.state.notes == "down for maintenance"
        await server.kill()
    await wait_until(now() + timedelta(seconds=4))
    async with wf_server_process(sched_db, port=port) as server, channel_to(server.address) as stub:
        # Up again and still paused for two more times.
        await wait_until(now() + timedelta(seconds=2))
        before = await scheduled_runs(stub, sid)
        unpausing = now()
        await patch_schedule(stub, sid, P.SchedulePatch(unpause="back"))
        d = await describe_schedule(stub, sid)
        assert not d.schedule.state.paused

        async def resumed() -> None:
            runs = await scheduled_runs(stub, sid)
            assert any(r.scheduled_at > unpausing for r in runs), "no run since unpausing"

        await assert_eventually(resumed, timeout=10, interval=0.1)
        await patch_schedule(stub, sid, P.SchedulePatch(pause="done"))
        stopped = now()
        runs = await scheduled_runs(stub, sid)
        d = await describe_schedule(stub, sid)
        started = sorted(r.scheduled_at for r in runs)
        during = [t for t in started if paused < t < unpausing]
        assert during == [], f"times of the pause were started: {during}"
        assert len(before) == len([t for t in started if t <= paused]), "runs were started while paused"
        # Every time outside the pause was started; the paused ones are neither started nor counted.
        taken = [t for t in interval_times(first, stopped, 1.0) if t <= paused - timedelta(seconds=2)]
        assert taken and set(taken) <= set(started)
        account(wid, started, runs, d.info)
        assert d.info.overlap_skipped == d.info.missed_catchup_window == 0
        await delete_schedule(stub, sid)
