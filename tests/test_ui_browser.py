"""The web UI in a real browser: headless Chromium driven by Playwright, by role, as assistive
technology would drive it.

A real wf server and a real worker run a checkout workflow whose payment activity is declined until
the test lets it through, then waits for an ``approve`` signal. In the browser: a query finds it,
its id link opens it, the Timeline and the pending activity's last failure show, the Signal form
sends ``approve`` (confirmed in a dialog), and the status turns "Completed" without a reload.
Each page is photographed at 1280×800 into ``build/ui-screenshots/`` (not committed), in dark mode
too, and the list must fit a phone's width.

The browser is Debian's ``chromium`` (``apt-get install -y chromium``), launched by path: Playwright's
own browser download cannot work on machines without internet. Playwright speaks Chromium's DevTools
protocol, which changes between major versions, so the pinned Playwright (pyproject.toml's ``test``
extra) is run only against the Chromium majors it was checked with; on another the tests skip, saying
so, and so they do where Chromium is not installed.
"""

from __future__ import annotations

import asyncio
import importlib.metadata
import re
import shutil
import subprocess
import uuid
from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
import pytest_asyncio

from tests.helpers import assert_eventually
from wf.server.app import Server
from worker_sdk import Client, RetryPolicy, Worker, activity, workflow
from worker_sdk._cli.ui_cmd import RunningUi, start_ui
from worker_sdk.errors import ApplicationError

ROOT = Path(__file__).resolve().parent.parent
SCREENSHOTS = ROOT / "build" / "ui-screenshots"
CHROMIUM = "/usr/bin/chromium"
# The Playwright pinned in pyproject.toml's `test` extra, and the Chromium majors it was checked with.
PLAYWRIGHT = "1.65.3"
CHECKED_CHROMIUM_MAJORS = frozenset({156})
# Chromium as a test's browser on a machine with a closed network: no sandbox (CI runs as root), and
# none of the background connections it would otherwise try (refused here, and slow to give up on).
CHROMIUM_ARGS = [
    "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
    "--disable-component-update", "--disable-sync", "--disable-dev-shm-usage",
]
DESKTOP = {"width": 1280, "height": 800}
PHONE = {"width": 390, "height": 844}


def _chromium_major() -> int:
    """The installed Chromium's major version; skips the test when there is none."""
    if shutil.which(CHROMIUM) is None:
        pytest.skip(f"the browser tests need Chromium at {CHROMIUM}: install it: apt-get install -y chromium")
    done = subprocess.run([CHROMIUM, "--version"], capture_output=True, text=True, timeout=60)
    found = re.search(r"Chromium (\d+)\.", done.stdout)
    if found is None:
        pytest.skip(f"`{CHROMIUM} --version` said {done.stdout.strip()!r}: not a Chromium version")
    return int(found.group(1))


def _check_versions() -> None:
    """Skip, saying why, unless the pinned Playwright and a Chromium it was checked with are here."""
    major = _chromium_major()
    try:
        installed = importlib.metadata.version("playwright")
    except importlib.metadata.PackageNotFoundError:
        pytest.skip(f"the browser tests need Playwright: pip install 'playwright=={PLAYWRIGHT}'")
    if installed != PLAYWRIGHT:
        pytest.skip(f"Playwright {installed} is installed; the browser tests were checked with {PLAYWRIGHT} "
                    "(pyproject.toml's test extra): reinstall with make")
    if major not in CHECKED_CHROMIUM_MAJORS:
        pytest.skip(
            f"Chromium {major} is installed, but Playwright {PLAYWRIGHT} was checked with Chromium "
            f"{', '.join(map(str, sorted(CHECKED_CHROMIUM_MAJORS)))}: pin a Playwright that drives Chromium {major} "
            "in pyproject.toml's test extra and add it to CHECKED_CHROMIUM_MAJORS in tests/test_ui_browser.py"
        )


# -- the workflow the browser looks at ----------------------------------------------------------

# Set by the test once the browser has seen the declined attempts: the next attempt is accepted.
_accept_payment: dict[str, asyncio.Event] = {}


@activity.defn(name="charge")
async def charge(order: str) -> str:
    event = _accept_payment.get(order)
    if event is None or not event.is_set():
        raise ApplicationError(f"card declined for {order} (attempt {activity.info().attempt})")
    return f"charged {order}"


@workflow.defn(name="UiCheckout")
class UiCheckout:
    def __init__(self) -> None:
        self.approved_by: str | None = None

    @workflow.run
    async def run(self, order: str) -> str:
        charged = await workflow.execute_activity(
            charge, order, start_to_close_timeout=timedelta(seconds=10),
            retry_policy=RetryPolicy(initial_interval=timedelta(milliseconds=500), backoff_coefficient=1.0),
        )
        await workflow.wait_condition(lambda: self.approved_by is not None)
        return f"{charged}, approved by {self.approved_by}"

    @workflow.signal
    def approve(self, by: str) -> None:
        self.approved_by = by


# -- fixtures -----------------------------------------------------------------------------------


@pytest_asyncio.fixture(scope="module", loop_scope="session")
async def browser() -> AsyncIterator[Any]:
    """Headless Chromium driven by Playwright, for the module's tests."""
    _check_versions()
    from playwright.async_api import async_playwright

    async with async_playwright() as playwright:
        launched = await playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            yield launched
        finally:
            await launched.close()


@pytest_asyncio.fixture(scope="module", loop_scope="session")
async def ui(server: Server) -> AsyncIterator[RunningUi]:
    """The web UI for the session's server, on a free port, served on this event loop as ``wf server
    start --ui-port`` serves it."""
    running = await start_ui(address=server.address, host="127.0.0.1", port=0)
    try:
        yield running
    finally:
        await running.stop()


@pytest.fixture(scope="module")
def screenshots() -> Path:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    return SCREENSHOTS


async def _new_page(browser: Any, **options: Any) -> Any:
    context = await browser.new_context(**options)
    context.set_default_timeout(15_000)
    return await context.new_page()


# -- the scenario -------------------------------------------------------------------------------


@pytest.mark.timeout(240)
async def test_find_a_workflow_see_its_failure_signal_it_and_watch_it_complete(
    browser: Any, ui: RunningUi, client: Client, task_queue: str, screenshots: Path
) -> None:
    from playwright.async_api import expect

    order = f"order-{uuid.uuid4().hex[:8]}"
    workflow_id = f"checkout/{order}"
    _accept_payment[order] = asyncio.Event()
    async with Worker(client, task_queue=task_queue, workflows=[UiCheckout], activities=[charge]):
        handle = await client.start_workflow(UiCheckout.run, order, id=workflow_id, task_queue=task_queue)

        async def declined_twice() -> None:
            pendings = (await handle.describe()).raw.pending_activities
            assert len(pendings) == 1, pendings
            pending = pendings[0]
            assert pending.attempt >= 3 and "card declined" in pending.last_failure.message, pending

        await assert_eventually(declined_twice, timeout=30)

        page = await _new_page(browser, viewport=DESKTOP)
        await page.goto(ui.url + "/")
        search = page.get_by_role("searchbox", name="Query")
        await search.fill(f"WorkflowId = '{workflow_id}'")
        await page.get_by_role("button", name="Search").click()
        link = page.get_by_role("link", name=workflow_id, exact=True)
        await expect(link).to_be_visible()
        # The query found this run alone: the header row and its row.
        await expect(page.get_by_role("table").get_by_role("row")).to_have_count(2)
        await page.screenshot(path=screenshots / "workflows.png")

        await link.click()
        status = page.get_by_role("status")
        await expect(status).to_have_text("Running")
        await expect(page.get_by_role("heading", name="Timeline")).to_be_visible()
        await expect(page.get_by_role("button", name=re.compile(r"^Activity charge attempt \d+")).first).to_be_visible()
        await expect(page.get_by_role("heading", name="Pending")).to_be_visible()
        await expect(page.get_by_text(re.compile(f"card declined for {order}")).first).to_be_visible()
        await page.screenshot(path=screenshots / "workflow-running.png", full_page=True)

        # The payment goes through at the next attempt; the run then waits for the signal.
        _accept_payment[order].set()

        async def charged() -> None:
            assert not (await handle.describe()).raw.pending_activities

        await assert_eventually(charged, timeout=30)

        signal_form = page.get_by_role("group", name="Signal")
        await signal_form.get_by_label("Name", exact=True).fill("approve")
        await signal_form.get_by_label("Input", exact=True).fill('"ada"')
        await signal_form.get_by_role("button", name="Signal", exact=True).click()
        dialog = page.get_by_role("dialog")
        await expect(dialog).to_be_visible()
        await dialog.get_by_role("button", name="Confirm").click()
        await expect(page.get_by_role("alert").first).to_contain_text("approve")

        # Live: the page was not reloaded; the status element turns "Completed" by itself.
        await expect(status).to_have_text("Completed", timeout=30_000)
        assert await handle.result() == f"charged {order}, approved by ada"
        # The rest of the page follows too: the result, and nothing pending any more.
        await expect(page.locator("section.io").get_by_text(f"charged {order}, approved by ada")).to_be_visible()
        await expect(page.locator("#pending")).not_to_contain_text(f"card declined for {order}")
        await page.screenshot(path=screenshots / "workflow-completed.png", full_page=True)

        # Its task queue, from the link on the workflow's page: the worker polls it.
        await page.get_by_role("link", name=task_queue, exact=True).first.click()
        await expect(page.get_by_role("heading", name="Pollers")).to_be_visible()
        await expect(page.get_by_role("table").get_by_role("row").nth(1)).to_be_visible()
        await page.screenshot(path=screenshots / "task-queue.png", full_page=True)

        for name, file in (("Task queues", "task-queues"), ("Namespaces", "namespaces"), ("Schedules", "schedules")):
            await page.get_by_role("link", name=name, exact=True).first.click()
            await expect(page.locator("body")).not_to_contain_text("Traceback")
            await page.screenshot(path=screenshots / f"{file}.png", full_page=True)
        await page.context.close()
    for file in ("workflows", "workflow-running", "workflow-completed", "task-queue", "task-queues", "namespaces",
                 "schedules"):
        assert (screenshots / f"{file}.png").stat().st_size > 1000


async def test_dark_mode_follows_the_system(browser: Any, ui: RunningUi, screenshots: Path) -> None:
    backgrounds = {}
    for scheme in ("light", "dark"):
        page = await _new_page(browser, viewport=DESKTOP, color_scheme=scheme)
        await page.goto(ui.url + "/")
        await page.get_by_role("searchbox", name="Query").wait_for()
        backgrounds[scheme] = _luminance(await page.evaluate("getComputedStyle(document.body).backgroundColor"))
        await page.screenshot(path=screenshots / f"workflows-{scheme}.png")
        await page.context.close()
    assert backgrounds["dark"] < 0.2 < backgrounds["light"], backgrounds


def _luminance(css_color: str) -> float:
    """0 (black) to 1 (white), from ``rgb(r, g, b)`` or ``rgba(...)`` (a transparent body counts as white,
    the browser's own canvas)."""
    numbers = [float(n) for n in re.findall(r"[\d.]+", css_color)]
    if len(numbers) == 4 and numbers[3] == 0:
        return 1.0
    r, g, b = (n / 255 for n in numbers[:3])
    return 0.2126 * r + 0.7152 * g + 0.0722 * b


async def test_the_list_fits_a_phone_without_scrolling_sideways(
    browser: Any, ui: RunningUi, client: Client, task_queue: str, screenshots: Path
) -> None:
    # A row to show, with a long id: the table must fit or scroll inside itself, not the whole page.
    await client.start_workflow("UiPhoneLongTypeName", id=f"phone-{'x' * 60}-{uuid.uuid4().hex[:6]}",
                                task_queue=task_queue)
    page = await _new_page(browser, viewport=PHONE, is_mobile=True, has_touch=True, device_scale_factor=2)
    await page.goto(ui.url + "/")
    await page.get_by_role("searchbox", name="Query").wait_for()
    widths = await page.evaluate(
        "({page: document.documentElement.scrollWidth, body: document.body.scrollWidth, view: window.innerWidth})"
    )
    await page.screenshot(path=screenshots / "workflows-phone.png")
    await page.context.close()
    assert widths["page"] <= widths["view"] and widths["body"] <= widths["view"], widths
