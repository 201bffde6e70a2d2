"""Take the dashboard screenshots in docs/ (``make dashboard-screenshots``).

Runs examples/dashboard_demo.py's traffic on a memory store and shoots the
overview and a dead job's page in headless Chromium. The chart covers 30
minutes, so the store's clock first starts half an hour back and 30 minutes
of the demo's job mix are written through the storage contract at one
simulated minute per step; then the real demo runs for a while on the real
clock, so what shows as running, scheduled and dead is live.

Needs Chromium (``bash scripts/install-browser.sh``) and the dev extras.
"""

from __future__ import annotations

import argparse
import asyncio
import importlib.util
import math
import random
import sys
import time
import traceback
from pathlib import Path
from types import ModuleType

import uvicorn
from playwright.async_api import async_playwright

from backyard import JobError, JobStatus, Queue, connect
from backyard._queue import build_request
from backyard.dashboard import create_app

ROOT = Path(__file__).resolve().parents[1]
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


def load_demo() -> ModuleType:
    spec = importlib.util.spec_from_file_location(
        "dashboard_demo", ROOT / "examples" / "dashboard_demo.py"
    )
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules["dashboard_demo"] = module
    spec.loader.exec_module(module)
    return module


class HistoryClock:
    """A fixed time while the history is written, then the real time."""

    def __init__(self) -> None:
        self.fixed: float | None = None

    def __call__(self) -> float:
        return time.time() if self.fixed is None else self.fixed


def error_for(message: str, attempt: int, store: Queue) -> JobError:
    try:
        raise ConnectionError(message)
    except ConnectionError:
        text = traceback.format_exc()
    return JobError(
        attempt=attempt,
        at=store.now_datetime(),
        message=f"ConnectionError: {message}",
        traceback=text,
    )


async def write_history(store: Queue, clock: HistoryClock, demo: ModuleType, minutes: int) -> None:
    """``minutes`` of outcomes, one simulated minute per step, ending with the last minute."""
    rng = random.Random(5)
    this_minute = time.time() // 60 * 60
    for minute in range(minutes):
        # Mid-minute, and fixed while a step runs: each step fills exactly one bar.
        clock.fixed = this_minute - (minutes - minute) * 60.0 + 30.0
        load = 300 + 110 * math.sin(minute / 4.0) + rng.randint(0, 40)  # about the demo's rate
        requests = []
        for n in range(int(load)):
            job, options = demo.random_job(rng, minute * 1000 + n)
            if options is None:  # delayed jobs would only clutter the past
                requests.append(build_request(job, None, store.now_datetime()))
        await store.push_many(requests)
        # Everything due, so last minute's retries run in this one, as a worker's would.
        claimed = await store.claim(demo.QUEUES, "web-1-2211-9f3e1a", 100_000, 30.0)
        done = []
        for record in claimed:
            roll = rng.random()
            if roll < 0.07:
                await store.retry(
                    record, store.now_datetime(), error_for("upstream timed out", 1, store)
                )
            elif roll < 0.085:
                await store.fail(record, error_for("upstream refused the request", 1, store))
            else:
                done.append(record)
        await store.ack(done)
    clock.fixed = None


async def main(out: Path, warm_up: float) -> None:
    demo = load_demo()
    clock = HistoryClock()
    async with connect("memory://", clock=clock) as store:
        await write_history(store, clock, demo, minutes=29)
        # The demo's worker and producer, and the dashboard, all on this loop:
        # the memory store belongs to one event loop.
        server = uvicorn.Server(
            uvicorn.Config(create_app(store), host="127.0.0.1", port=0, log_level="warning")
        )
        async with demo.traffic(store, rate=6.0):
            serving = asyncio.create_task(server.serve())
            while not server.started:  # noqa: ASYNC110 - uvicorn offers a flag, not an event
                await asyncio.sleep(0.05)
            port = server.servers[0].sockets[0].getsockname()[1]
            base = f"http://127.0.0.1:{port}"
            print(f"dashboard on {base}; letting the demo run {warm_up:.0f} s")
            await asyncio.sleep(warm_up)
            async with async_playwright() as playwright:
                browser = await playwright.chromium.launch(
                    executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS
                )
                page = await browser.new_page(viewport={"width": 1280, "height": 880})
                await page.goto(base + "/")
                await page.wait_for_timeout(500)
                await page.screenshot(path=str(out / "dashboard.png"))
                # A job the live demo's outage killed, not one of the written history.
                dead = await store.list(queue="reports", status=JobStatus.DEAD, limit=100)
                [outage, *_] = [
                    job for job in dead if job.last_error and "503" in job.last_error.message
                ]
                await page.goto(f"{base}/jobs/{outage.id}")
                await page.wait_for_timeout(300)
                await page.screenshot(path=str(out / "dashboard-dead-job.png"))
                await browser.close()
            server.should_exit = True
            await serving
    print(f"wrote {out / 'dashboard.png'} and {out / 'dashboard-dead-job.png'}")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=ROOT / "docs")
    parser.add_argument("--warm-up", type=float, default=20.0, help="seconds of live demo first")
    args = parser.parse_args()
    asyncio.run(main(args.out, args.warm_up))
