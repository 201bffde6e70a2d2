"""Where bulk enqueue on Redis spends its time, per job.

    python -m bench.redis_enqueue [--url redis://127.0.0.1:6379/13] [--jobs 50000] [--chunk 5000]

Runs ``enqueue_many`` the way ``bench.redis`` does (job objects made and
enqueued ``--chunk`` at a time), then ``push_many`` of ready-made requests,
then single enqueues, each a few times (best run shown), and prints the
time per job: making the job objects, the core's request building, the
Python side of ``push_many`` and the script inside Redis (from INFO
commandstats, so it is Redis's own CPU time). The database is flushed
before and after: use one nothing else lives in.
"""

from __future__ import annotations

import argparse
import asyncio
import time
from typing import Any

from bench._common import console

RUNS = 5
SINGLE = 2000


async def script_usec(client: Any) -> int:
    """Microseconds Redis has spent running scripts so far."""
    stats = await client.info("commandstats")
    return sum(stats.get(f"cmdstat_{name}", {}).get("usec", 0) for name in ("evalsha", "eval"))


async def measure(url: str, jobs: int, chunk: int) -> list[tuple[str, str]]:
    from backyard import EnqueueRequest, Job, JobContext, connect
    from backyard.backends.redis import RedisQueue

    class Noop(Job):
        NAME = "bench.EnqueueNoop"
        t: float = 0.0

        async def execute(self, ctx: JobContext) -> None:
            pass

    store = connect(url, prefix="bench:")
    assert isinstance(store, RedisQueue)
    async with store:
        client = store.client
        best: dict[str, float] = {}

        def keep(name: str, seconds: float) -> None:
            best[name] = min(best.get(name, float("inf")), seconds / jobs)

        for _ in range(RUNS):
            await client.flushdb()
            objects = 0.0
            started, redis_before = time.perf_counter(), await script_usec(client)
            for start in range(0, jobs, chunk):
                made = time.perf_counter()
                batch = [Noop() for _ in range(min(chunk, jobs - start))]
                objects += time.perf_counter() - made
                await store.enqueue_many(batch)
            elapsed = time.perf_counter() - started
            if elapsed / jobs < best.get("enqueue_many", float("inf")):
                best["objects"] = objects / jobs
                best["redis"] = (await script_usec(client) - redis_before) / 1e6 / jobs
            keep("enqueue_many", elapsed)

            await client.flushdb()
            requests = [
                EnqueueRequest(name=Noop.NAME, payload=Noop().encode()) for _ in range(jobs)
            ]
            ready = [requests[start : start + chunk] for start in range(0, jobs, chunk)]
            started = time.perf_counter()
            for each in ready:
                await store.push_many(each)
            keep("push_many", time.perf_counter() - started)

        await client.flushdb()
        single = float("inf")
        for _ in range(3):
            started = time.perf_counter()
            for _ in range(SINGLE):
                await store.enqueue(Noop())
            single = min(single, (time.perf_counter() - started) / SINGLE)
        await client.flushdb()

    # Derived from the best runs of each kind, so approximate.
    us = 1e6
    push_python = best["push_many"] - best["redis"]
    core = best["enqueue_many"] - best["objects"] - best["push_many"]
    return [
        ("enqueue_many, jobs/s", f"{1 / best['enqueue_many']:,.0f}"),
        ("push_many of ready-made requests, jobs/s", f"{1 / best['push_many']:,.0f}"),
        ("enqueue one at a time, jobs/s", f"{1 / single:,.0f}"),
        ("per job: making the job objects, µs", f"{best['objects'] * us:.2f}"),
        ("per job: core (ids, payloads, requests), µs", f"{core * us:.2f}"),
        ("per job: push_many in Python and on the wire, µs", f"{push_python * us:.2f}"),
        ("per job: push.lua inside Redis, µs", f"{best['redis'] * us:.2f}"),
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--url", default="redis://127.0.0.1:6379/13")
    parser.add_argument("--jobs", type=int, default=50_000)
    parser.add_argument("--chunk", type=int, default=5_000)
    args = parser.parse_args()
    rows = asyncio.run(measure(args.url, args.jobs, args.chunk))
    console.print(
        f"Redis bulk enqueue, {args.jobs:,} no-op jobs, {args.chunk:,} a call, best of {RUNS}"
    )
    width = max(len(label) for label, _ in rows)
    for label, value in rows:
        console.print(f"  {label:<{width}}  {value:>10}")


if __name__ == "__main__":
    main()
