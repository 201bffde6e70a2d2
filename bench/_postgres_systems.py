"""One benchmark step of one system, run in its own process by bench/postgres.py.

    python bench/_postgres_systems.py SYSTEM STEP URL [N]

SYSTEM is backyard, procrastinate or saq; backyard runs with the project's
venv, the others with .bench/venv-postgres (they are never installed into
the project). Standard library plus the system's own package only.

Steps: ``init`` (create its tables), ``enqueue-one N`` and ``enqueue-bulk N``
(print the seconds taken), ``fill N`` (a backlog, untimed), ``latency N``
(enqueue N jobs 10 ms apart, each carrying its send time) and
``worker C`` (run a worker at concurrency C; print "ready" once started and,
after SIGTERM, a JSON line with the first and last job start times and the
enqueue-to-start latencies it saw).

Every system runs the same no-op async job.
"""

from __future__ import annotations

import asyncio
import json
import logging
import sys
import time
from typing import Any

STARTS: list[float] = []
LATENCIES: list[float] = []


def record(sent: float) -> None:
    now = time.time()
    STARTS.append(now)
    if sent:
        LATENCIES.append((now - sent) * 1000)


def report_worker() -> None:
    print(
        json.dumps(
            {
                "count": len(STARTS),
                "first": min(STARTS, default=0.0),
                "last": max(STARTS, default=0.0),
                "latencies_ms": LATENCIES,
            }
        ),
        flush=True,
    )


async def ready_after(delay: float) -> None:
    await asyncio.sleep(delay)
    print("ready", flush=True)


# -- backyard ------------------------------------------------------------------


async def backyard(step: str, url: str, n: int) -> Any:
    from backyard import Job, JobContext, Worker, connect

    class Noop(Job):
        NAME = "bench.Noop"
        sent: float = 0.0

        async def execute(self, ctx: JobContext) -> None:
            record(self.sent)

    async with connect(url, schema="bench") as store:
        if step == "init":
            return None
        if step == "enqueue-one":
            started = time.perf_counter()
            for _ in range(n):
                await store.enqueue(Noop())
            return time.perf_counter() - started
        if step in ("enqueue-bulk", "fill"):
            started = time.perf_counter()
            await store.enqueue_many([Noop() for _ in range(n)])
            return time.perf_counter() - started
        if step == "latency":
            for _ in range(n):
                await store.enqueue(Noop(sent=time.time()))
                await asyncio.sleep(0.01)
            return None
        if step == "worker":
            asyncio.get_running_loop().create_task(ready_after(0.5))
            await Worker(store, concurrency=n, prune_after=None).run()
            report_worker()
            return None
    raise SystemExit(f"unknown step {step}")


# -- procrastinate --------------------------------------------------------------


async def procrastinate(step: str, url: str, n: int) -> Any:
    from procrastinate import App, PsycopgConnector

    app = App(connector=PsycopgConnector(conninfo=url))

    @app.task(name="noop", queue="default")
    async def noop(sent: float = 0.0) -> None:
        record(sent)

    async with app.open_async():
        if step == "init":
            await app.schema_manager.apply_schema_async()
            return None
        if step == "enqueue-one":
            started = time.perf_counter()
            for _ in range(n):
                await noop.defer_async()
            return time.perf_counter() - started
        if step in ("enqueue-bulk", "fill"):
            started = time.perf_counter()
            await noop.batch_defer_async(*({} for _ in range(n)))
            return time.perf_counter() - started
        if step == "latency":
            for _ in range(n):
                await noop.defer_async(sent=time.time())
                await asyncio.sleep(0.01)
            return None
        if step == "worker":
            asyncio.get_running_loop().create_task(ready_after(0.5))
            await app.run_worker_async(concurrency=n, wait=True, install_signal_handlers=True)
            report_worker()
            return None
    raise SystemExit(f"unknown step {step}")


# -- saq ---------------------------------------------------------------------------


async def saq(step: str, url: str, n: int) -> Any:
    from saq import Worker
    from saq.queue.postgres import PostgresQueue

    async def noop(ctx: Any, *, sent: float = 0.0) -> None:
        record(sent)

    queue = PostgresQueue.from_url(url)
    await queue.connect()
    try:
        if step == "init":
            return None
        if step == "enqueue-one":
            started = time.perf_counter()
            for _ in range(n):
                await queue.enqueue("noop")
            return time.perf_counter() - started
        if step == "enqueue-bulk":
            return None  # SAQ has no bulk enqueue
        if step == "fill":
            for start in range(0, n, 100):
                await asyncio.gather(*(queue.enqueue("noop") for _ in range(min(100, n - start))))
            return None
        if step == "latency":
            for _ in range(n):
                await queue.enqueue("noop", sent=time.time())
                await asyncio.sleep(0.01)
            return None
        if step == "worker":
            asyncio.get_running_loop().create_task(ready_after(0.5))
            await Worker(queue, functions=[("noop", noop)], concurrency=n).start()
            report_worker()
            return None
    finally:
        await queue.disconnect()
    raise SystemExit(f"unknown step {step}")


SYSTEMS = {"backyard": backyard, "procrastinate": procrastinate, "saq": saq}


def main() -> None:
    logging.basicConfig(level=logging.WARNING)
    system, step, url = sys.argv[1:4]
    n = int(sys.argv[4]) if len(sys.argv) > 4 else 0
    result = asyncio.run(SYSTEMS[system](step, url, n))
    if step != "worker":
        print(json.dumps({"seconds": result}), flush=True)


if __name__ == "__main__":
    main()
