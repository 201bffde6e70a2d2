"""Watch jobs flow in the dashboard: a worker, a steady stream of jobs and the
dashboard, all in one process.

    python examples/dashboard_demo.py        # then open http://127.0.0.1:8700
    python examples/dashboard_demo.py --url sqlite:///demo.db --port 8800 --rate 20

(``make dashboard-demo`` runs the first line.) What to look for:

- the overview's chart fills as jobs complete; a few attempts fail and are
  retried (amber);
- ``PublishReport`` jobs meet a simulated outage of the reports API during the
  first 60 seconds: they retry, run out of retries and die (red). Open one
  on the Dead page to read why; once the outage is over, press Retry and
  watch it complete;
- ``ImportSpreadsheet`` jobs always die: their input is bad, and retrying
  cannot fix that. Delete them;
- some jobs are enqueued with a delay and wait on the Scheduled page.

Uses memory:// unless ``--url`` says otherwise, so nothing is left behind.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import random
import time
from collections.abc import AsyncIterator
from datetime import timedelta

import uvicorn

from backyard import Job, JobContext, JobOptions, Queue, RetryPolicy, Worker, connect
from backyard.dashboard import create_app

OUTAGE_SECONDS = 60.0
_started = time.monotonic()
QUICK_RETRY = RetryPolicy(base=timedelta(seconds=1), max_delay=timedelta(seconds=5))


class SendReceipt(Job):
    NAME = "dashboard_demo.SendReceipt"
    order_id: int
    email: str

    @classmethod
    def options(cls) -> JobOptions:
        return JobOptions(queue="mail")

    async def execute(self, ctx: JobContext) -> None:
        await asyncio.sleep(random.uniform(0.05, 0.3))


class ResizeImage(Job):
    """Usually fine; now and then the image service is slow and the attempt is retried."""

    NAME = "dashboard_demo.ResizeImage"
    RETRY = QUICK_RETRY
    image_id: int
    width: int

    async def execute(self, ctx: JobContext) -> None:
        await asyncio.sleep(random.uniform(0.2, 1.5))
        if random.random() < 0.06:
            raise TimeoutError(f"image service took too long resizing image {self.image_id}")


class PublishReport(Job):
    """Fails while the simulated outage lasts; a retry after it succeeds."""

    NAME = "dashboard_demo.PublishReport"
    RETRY = QUICK_RETRY
    report: str
    recipients: list[str]

    @classmethod
    def options(cls) -> JobOptions:
        return JobOptions(queue="reports", max_retries=2)

    async def execute(self, ctx: JobContext) -> None:
        await asyncio.sleep(random.uniform(0.1, 0.4))
        if time.monotonic() - _started < OUTAGE_SECONDS:
            raise ConnectionError(
                "reports API answered 503 Service Unavailable "
                "(POST https://reports.example.com/v2/publish)"
            )


class ImportSpreadsheet(Job):
    """Always fails: its input is bad, so retrying cannot help."""

    NAME = "dashboard_demo.ImportSpreadsheet"
    RETRY = QUICK_RETRY
    filename: str

    @classmethod
    def options(cls) -> JobOptions:
        return JobOptions(queue="imports", max_retries=1)

    async def execute(self, ctx: JobContext) -> None:
        raise ValueError(f"{self.filename}: row 17 has 9 columns, expected 8")


def random_job(rng: random.Random, n: int) -> tuple[Job, JobOptions | None]:
    """One job of the demo's mix, with options (a delay now and then)."""
    roll = rng.random()
    job: Job
    if roll < 0.45:
        job = SendReceipt(order_id=n, email=f"customer{n}@example.com")
    elif roll < 0.85:
        job = ResizeImage(image_id=n, width=rng.choice([320, 640, 1280]))
    elif roll < 0.97:
        job = PublishReport(report=f"daily-sales-{n}", recipients=["ops@example.com"])
    else:
        job = ImportSpreadsheet(filename=f"customers-{n}.csv")
    delayed = rng.random() < 0.08
    return job, JobOptions(delay=timedelta(seconds=rng.uniform(20, 120))) if delayed else None


async def produce(store: Queue, rate: float, rng: random.Random) -> None:
    """Enqueue about ``rate`` jobs a second, in bursts, until cancelled."""
    n = 0
    while True:
        for _ in range(rng.randint(1, max(1, round(rate * 2)))):
            n += 1
            job, options = random_job(rng, n)
            await store.enqueue(job, options)
        await asyncio.sleep(rng.uniform(0.5, 1.5))


QUEUES = ("default", "mail", "reports", "imports")


@contextlib.asynccontextmanager
async def traffic(store: Queue, rate: float) -> AsyncIterator[Worker]:
    """A producer and a worker running on ``store`` while the block runs."""
    worker = Worker(store, queues=QUEUES, concurrency=8, poll_interval=0.2)
    producer = asyncio.create_task(produce(store, rate, random.Random()))
    working = asyncio.create_task(worker.run(install_signal_handlers=False))
    try:
        yield worker
    finally:
        producer.cancel()
        worker.stop()
        with contextlib.suppress(asyncio.CancelledError):
            await producer
        await working


async def run(url: str, host: str, port: int, rate: float) -> None:
    async with connect(url) as store, traffic(store, rate):
        # uvicorn owns Ctrl-C; the traffic stops when the server returns.
        server = uvicorn.Server(
            uvicorn.Config(create_app(store), host=host, port=port, log_level="warning")
        )
        print(f"backyard dashboard demo on {store!r}: open http://{host}:{port}  (Ctrl-C stops)")
        print(
            f"PublishReport jobs die during a simulated {OUTAGE_SECONDS:.0f} s outage; "
            "retry them from the Dead page after it."
        )
        await server.serve()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--url", default="memory://", help="storage URL (default: memory://)")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8700)
    parser.add_argument("--rate", type=float, default=6.0, help="jobs enqueued per second")
    args = parser.parse_args()
    asyncio.run(run(args.url, args.host, args.port, args.rate))


if __name__ == "__main__":
    main()
