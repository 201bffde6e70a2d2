"""backyard demo: a few hundred jobs through a worker on the embedded SQLite store.

Run it with ``make demo`` (or ``python examples/demo.py``). It uses
``$BACKYARD_URL`` if set, else ``sqlite:///backyard.db`` in the current folder:
afterwards, ``backyard status`` and ``backyard jobs list --status dead`` show
what happened, and ``backyard dashboard`` shows it in a browser.
"""

from __future__ import annotations

import asyncio
import random
import time
from datetime import timedelta

from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TaskID,
    TextColumn,
    TimeElapsedColumn,
)
from rich.table import Table

from backyard import (
    Job,
    JobContext,
    JobOptions,
    JobRecord,
    JobStatus,
    RetryPolicy,
    Worker,
    connect,
    default_url,
)
from backyard.worker import Outcome, Verdict

# Retries come quickly in the demo; real jobs keep the default (1 s, doubling, capped at 1 h).
DEMO_RETRY = RetryPolicy(base=timedelta(milliseconds=50), max_delay=timedelta(milliseconds=400))


class SendWelcomeEmail(Job):
    """Succeeds: the everyday job."""

    NAME = "demo.SendWelcomeEmail"
    user_id: int
    email: str

    async def execute(self, ctx: JobContext) -> None:
        await asyncio.sleep(random.uniform(0.01, 0.05))  # pretend to talk to a mail server


class PlaceOrder(Job):
    """Enqueues a follow-up job on another queue."""

    NAME = "demo.PlaceOrder"
    order_id: int
    amount_cents: int

    async def execute(self, ctx: JobContext) -> None:
        await asyncio.sleep(0.002)
        await ctx.enqueue(ShipOrder(order_id=self.order_id), JobOptions(queue="shipping"))


class ShipOrder(Job):
    NAME = "demo.ShipOrder"
    order_id: int

    @classmethod
    def options(cls) -> JobOptions:
        return JobOptions(queue="shipping", priority=5)

    def execute(self, ctx: JobContext) -> None:  # type: ignore[override]
        # A plain `def` job: backyard runs it in a thread pool.
        time.sleep(0.001)


class ChargeCard(Job):
    """Fails its first attempts (a flaky payment API), then succeeds on a retry."""

    NAME = "demo.ChargeCard"
    RETRY = DEMO_RETRY
    order_id: int
    flaky_attempts: int

    async def execute(self, ctx: JobContext) -> None:
        if ctx.attempt <= self.flaky_attempts:
            raise ConnectionError(f"payment API timed out (attempt {ctx.attempt})")


class ImportSpreadsheet(Job):
    """Always fails: ends in the dead-letter set, where a person can read why and retry it."""

    NAME = "demo.ImportSpreadsheet"
    RETRY = DEMO_RETRY
    filename: str

    @classmethod
    def options(cls) -> JobOptions:
        return JobOptions(max_retries=2)

    async def execute(self, ctx: JobContext) -> None:
        raise ValueError(f"{self.filename}: row 17 has 9 columns, expected 8")


def make_jobs(rng: random.Random) -> list[Job]:
    jobs: list[Job] = []
    jobs += [SendWelcomeEmail(user_id=i, email=f"user{i}@example.com") for i in range(400)]
    jobs += [PlaceOrder(order_id=i, amount_cents=rng.randint(500, 50_000)) for i in range(60)]
    jobs += [ChargeCard(order_id=i, flaky_attempts=rng.randint(1, 2)) for i in range(30)]
    jobs += [ImportSpreadsheet(filename=f"customers-{i}.csv") for i in range(5)]
    rng.shuffle(jobs)
    return jobs


class ProgressHook:
    """Moves the progress bar as outcomes are recorded (a WorkerHook)."""

    def __init__(self, progress: Progress, task: TaskID) -> None:
        self.progress = progress
        self.task = task
        self.finished_ids: set[str] = set()

    def job_started(self, worker: Worker, job: JobRecord) -> None:
        pass

    def job_finished(self, worker: Worker, outcome: Outcome) -> None:
        if outcome.verdict is not Verdict.RETRY:
            self.progress.advance(self.task)


async def main() -> None:
    console = Console()
    url = default_url()
    jobs = make_jobs(random.Random(7))
    expected = len(jobs) + sum(isinstance(job, PlaceOrder) for job in jobs)  # + follow-ups
    async with connect(url) as store:
        console.print(f"[bold]backyard demo[/] on [cyan]{store!r}[/]")
        started = time.perf_counter()
        await store.enqueue_many(jobs)
        console.print(
            f"enqueued {len(jobs)} jobs in {(time.perf_counter() - started) * 1000:.1f} ms"
        )
        with Progress(
            TextColumn("[progress.description]{task.description}"),
            BarColumn(),
            MofNCompleteColumn(),
            TimeElapsedColumn(),
            console=console,
        ) as progress:
            task = progress.add_task("running", total=expected)
            worker = Worker(
                store,
                queues=["default", "shipping"],
                concurrency=20,
                poll_interval=0.05,
                stop_when_empty=True,
                hooks=[ProgressHook(progress, task)],
            )
            started = time.perf_counter()
            await worker.run()
            elapsed = time.perf_counter() - started

    counters = worker.counters
    table = Table(title="demo summary")
    table.add_column("outcome")
    table.add_column("count", justify="right")
    table.add_row("completed", str(counters.completed))
    table.add_row("retried (failed attempts)", str(counters.retried))
    table.add_row("dead", f"[red]{counters.dead}[/]")
    table.add_row("attempts run", str(counters.processed))
    table.add_row("jobs/s", f"{counters.processed / elapsed:,.0f}")
    console.print(table)
    async with connect(url) as store:
        dead = await store.list(status=JobStatus.DEAD, limit=3)
    for record in dead:
        error = record.last_error.message if record.last_error else ""
        console.print(f"[red]dead[/] {record.name} {record.id}: {error}")
    console.print(
        "Next: [bold]backyard status[/], [bold]backyard jobs list --status dead[/], "
        "[bold]backyard dashboard[/]"
        + ("" if url == "sqlite:///backyard.db" else f"  (with --url {url})")
    )


if __name__ == "__main__":
    asyncio.run(main())
