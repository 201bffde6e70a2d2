"""A person's path through the dashboard, in headless Chromium.

Open the overview, see a dead job, open it, read why it died, retry it, and
see it leave the dead list; then clear the dead list, confirming in the
browser's dialog. The dashboard runs in a real uvicorn server over a SQLite
file that the test also writes to, like a worker in another process would.

Needs Debian's ``chromium`` (``bash scripts/install-browser.sh``). Without it
the test is skipped, except under CI=true, where it runs the install script
and fails if the browser still is not there.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import subprocess
from collections.abc import Awaitable, Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import TypeVar

import pytest
from playwright.sync_api import expect, sync_playwright

from backyard import JobStatus, Queue, connect
from backyard.dashboard import create_app

from .conftest import fill, push, run_to
from .server import ServerThread

ROOT = Path(__file__).resolve().parents[2]
INSTALL = ROOT / "scripts" / "install-browser.sh"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


def under_ci() -> bool:
    return os.environ.get("CI", "").lower() in ("1", "true", "yes")


def chromium() -> str:
    path = shutil.which("chromium")
    if path is None and under_ci():
        subprocess.run(["bash", str(INSTALL)], check=False)
        path = shutil.which("chromium")
    if path is None:
        message = (
            "headless Chromium is not installed; install it with: bash scripts/install-browser.sh"
        )
        if under_ci():
            pytest.fail(message)
        pytest.skip(message)
    return path


@pytest.fixture
def sqlite_url(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'browser.db'}"


T = TypeVar("T")


def in_store(url: str, action: Callable[[Queue], Awaitable[T]]) -> T:
    """Run ``action(store)`` on a connection of our own, as another process would.

    In a thread of its own: Playwright's sync API keeps an event loop running
    in the test's thread.
    """

    async def run() -> T:
        async with connect(url) as store:
            return await action(store)

    with ThreadPoolExecutor(1) as pool:
        return pool.submit(asyncio.run, run()).result()


@pytest.fixture
def server(sqlite_url: str) -> Iterator[ServerThread]:
    with ServerThread(create_app(sqlite_url, refresh_seconds=0.3)) as running:
        yield running


def test_find_a_dead_job_read_why_and_retry_it(
    sqlite_url: str, server: ServerThread, tmp_path: Path
) -> None:
    executable = chromium()
    dead_id = in_store(sqlite_url, fill).dead.id

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=executable, args=CHROMIUM_ARGS)
        page = browser.new_page(viewport={"width": 1280, "height": 900})
        problems: list[str] = []  # script errors, CSP violations, failed requests
        page.on("console", lambda m: problems.append(m.text) if m.type == "error" else None)
        page.on("pageerror", lambda e: problems.append(str(e)))

        page.goto(server.url + "/")
        dead_tile = page.locator("a.tile", has_text="Dead").locator(".value")
        expect(dead_tile).to_have_text("1")
        waiting = page.locator("a.tile", has_text="Waiting").locator(".value")
        expect(waiting).to_have_text("1")

        # Jobs keep arriving: the overview refreshes itself, no reload.
        in_store(sqlite_url, lambda store: push(store, queue="mail"))
        expect(waiting).to_have_text("2")

        page.locator("a.tile", has_text="Dead").click()
        expect(page).to_have_url(server.url + "/dead")
        page.locator(f'a[title="{dead_id}"]').click()
        expect(page.locator(".why")).to_contain_text("reports API answered 503")
        expect(page.locator(".why .traceback")).to_contain_text("Traceback (most recent call last)")
        page.screenshot(path=str(tmp_path / "dead-job.png"), full_page=True)

        page.get_by_role("button", name="Retry").click()
        expect(page.locator(".notice")).to_contain_text(f"Job {dead_id} is back in its queue.")
        expect(page.locator(".job-head .status")).to_have_text("available")
        page.locator("header nav").get_by_role("link", name="Dead").click()
        expect(page.locator("p.empty")).to_have_text("No dead jobs.")
        record = in_store(sqlite_url, lambda store: store.get(dead_id))
        assert record is not None and record.status is JobStatus.AVAILABLE

        # Delete all asks first: dismissing keeps the jobs, accepting deletes them.
        for _ in range(2):
            in_store(sqlite_url, lambda store: run_to(store, JobStatus.DEAD, queue="imports"))
        page.reload()
        page.once("dialog", lambda dialog: dialog.dismiss())
        page.get_by_role("button", name="Delete all").click()
        expect(page.locator("table.dead tbody tr")).to_have_count(2)
        page.once("dialog", lambda dialog: dialog.accept())
        page.get_by_role("button", name="Delete all").click()
        expect(page.locator(".notice")).to_have_text("Deleted 2 dead jobs.")
        expect(page.locator("p.empty")).to_have_text("No dead jobs.")

        page.goto(server.url + "/")
        expect(dead_tile).to_have_text("0")
        page.screenshot(path=str(tmp_path / "overview.png"), full_page=True)
        browser.close()
    assert problems == []
