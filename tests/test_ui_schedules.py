"""The Schedules pages over HTTP against a real server: the list (what each schedule starts, when,
its state and next action), a schedule's page, and Pause, Unpause and Trigger with the CSRF token."""

from __future__ import annotations

from datetime import timedelta
from urllib.parse import urlencode

from tests.helpers import assert_eventually, new_id
from tests.ui_helpers import csrf_token, no_traceback, ui_client
from wf.server.app import Server
from worker_sdk import Client
from worker_sdk.schedules import (
    Schedule,
    ScheduleActionStartWorkflow,
    ScheduleCalendarSpec,
    ScheduleIntervalSpec,
    ScheduleRange,
    ScheduleSpec,
)


def schedule_url(schedule_id: str) -> str:
    return "/namespaces/default/schedule?" + urlencode({"id": schedule_id})


async def test_schedules_list_page_and_actions(server: Server, client: Client, task_queue: str) -> None:
    sid = new_id("sched <b>")
    handle = await client.create_schedule(
        sid,
        Schedule(
            action=ScheduleActionStartWorkflow("Report", "daily", id=new_id("report"), task_queue=task_queue),
            spec=ScheduleSpec(
                intervals=[ScheduleIntervalSpec(every=timedelta(hours=1))],
                calendars=[ScheduleCalendarSpec(hour=[ScheduleRange(9)], day_of_week=[ScheduleRange(1, 5)])],
            ),
        ),
    )
    try:
        async with ui_client(server.address, client) as http:
            r = await http.get("/namespaces/default/schedules")
            assert r.status_code == 200
            assert "sched &lt;b&gt;" in r.text and "<b>" not in r.text
            assert "every 1h" in r.text and "cron 0 9 * * 1-5" in r.text and "Report" in r.text
            assert ">Active</span>" in r.text
            r = await http.get(schedule_url(sid))
            assert r.status_code == 200
            page = r.text
            assert "every 1h" in page and "&#34;daily&#34;" in page and task_queue in page
            assert '<span role="status" class="badge st-running">Active</span>' in page
            assert '<button type="submit">Pause</button>' in page and '<button type="submit">Trigger</button>' in page
            assert ">Next actions</h2>" in page and "No action yet." in page
            token = csrf_token(page)
            # Without the token: refused, nothing changed.
            r = await http.post("/namespaces/default/schedule/pause", data={"id": sid})
            assert r.status_code == 403
            assert not (await handle.describe()).schedule.state.paused
            r = await http.post("/namespaces/default/schedule/pause",
                                data={"csrf_token": token, "id": sid, "note": "maintenance"})
            assert r.status_code == 200 and "Paused" in r.text and 'role="alert"' in r.text
            described = await handle.describe()
            assert described.schedule.state.paused and described.schedule.state.note == "maintenance"
            page = (await http.get(schedule_url(sid))).text
            assert ">Paused</span>" in page and "maintenance" in page
            assert '<button type="submit">Unpause</button>' in page
            r = await http.post("/namespaces/default/schedule/unpause", data={"csrf_token": token, "id": sid})
            assert r.status_code == 200 and not (await handle.describe()).schedule.state.paused
            r = await http.post("/namespaces/default/schedule/trigger", data={"csrf_token": token, "id": sid},
                                headers={"X-WF-Fragment": "outcome"})
            assert r.status_code == 200 and "Triggered" in r.text

            async def acted() -> str:
                text = (await http.get(schedule_url(sid))).text
                assert "No action yet." not in text
                return text

            page = await assert_eventually(acted)
            assert "/namespaces/default/workflow?id=report-" in page
            r = await http.get(schedule_url("no-such-schedule"))
            assert r.status_code == 404
            no_traceback(r.text)
    finally:
        await handle.delete()


async def test_no_schedules_teaches_how_to_create_one(server: Server, client: Client) -> None:
    ns = f"ui-sched-{new_id('ns')[-8:]}"
    await client.register_namespace(ns)
    async with ui_client(server.address, client) as http:
        r = await http.get(f"/namespaces/{ns}/schedules")
        assert r.status_code == 200 and "wf schedule create" in r.text
