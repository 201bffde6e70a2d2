"""Measures one system for bench/redis.py and prints its figures as one JSON line.

    python bench/_redis/driver.py bench SYSTEM URL JOBS
    python bench/_redis/driver.py worker SYSTEM URL      (started by the bench role)

Runs under whichever venv has SYSTEM installed. Worker processes report
what ``TALLY`` saw to a Redis key every 20 ms (at once after a latency job),
so the bench process knows when they are done without adding per-job
traffic. Every step is bounded in time, and the workers are stopped (SIGTERM,
then SIGKILL) however the run ends.
"""

from __future__ import annotations

import asyncio
import json
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

from bench_systems import CONCURRENCY, SYSTEMS, TALLY, System

from redis import Redis

STATE = "benchstate:"
DONE = "benchdone"  # a latency job ran: the bench process blocks on this list
LATENCY_SAMPLES = 200
LATENCY_SECONDS = 6.0
SINGLE_JOBS = 2000
SINGLE_SECONDS = 5.0
PROCESS_SECONDS = 10.0  # after the first job starts
STALL_SECONDS = 5.0
LOG_DIR = Path(__file__).resolve().parents[2] / ".bench"


# -- worker role ----------------------------------------------------------------


def _report(url: str) -> None:
    redis = Redis.from_url(url)
    key = f"{STATE}{os.getpid()}"
    while True:
        latency_job = TALLY.changed.wait(0.02)
        if latency_job:  # clear only what was seen: a mark after a timeout stays set
            TALLY.changed.clear()
        redis.set(key, json.dumps(TALLY.snapshot()), ex=300)
        if latency_job:
            redis.rpush(DONE, "1")


def worker_main(system: str, url: str) -> None:
    threading.Thread(target=_report, args=(url,), daemon=True).start()
    SYSTEMS[system](url).run_worker(CONCURRENCY)


# -- bench role -----------------------------------------------------------------


class Bench:
    def __init__(self, system: str, url: str, jobs: int) -> None:
        self.name = system
        self.system: System = SYSTEMS[system](url)
        self.url = url
        self.jobs = jobs
        self.redis = Redis.from_url(url)
        self.procs: list[subprocess.Popen[bytes]] = []
        LOG_DIR.mkdir(exist_ok=True)
        self.log = open(LOG_DIR / f"bench-redis-{system}.log", "ab")  # noqa: SIM115

    def spawn(self, count: int) -> list[int]:
        for _ in range(count):
            self.procs.append(
                subprocess.Popen(
                    [sys.executable, __file__, "worker", self.name, self.url],
                    stdout=subprocess.DEVNULL,
                    stderr=self.log,
                )
            )
        return [p.pid for p in self.procs]

    def stop_workers(self) -> None:
        for proc in self.procs:
            if proc.poll() is None:
                proc.send_signal(signal.SIGTERM)
        deadline = time.monotonic() + 5
        for proc in self.procs:
            try:
                proc.wait(max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
        self.procs = []

    def states(self, pids: list[int]) -> list[dict[str, Any]]:
        raw = self.redis.mget([f"{STATE}{pid}" for pid in pids])
        return [json.loads(value) for value in raw if value]

    def done(self, pids: list[int]) -> int:
        return sum(state["count"] for state in self.states(pids))

    async def wait_done(self, pids: list[int], at_least: int, timeout: float) -> bool:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.done(pids) >= at_least:
                return True
            await asyncio.sleep(0.001)
        return False

    def flush(self) -> None:
        self.redis.flushdb()

    async def latency(self) -> dict[str, Any]:
        self.flush()
        pids = self.spawn(1)
        try:
            await self.system.enqueue_one(0.0)  # warm-up: the worker is up once it ran
            if not await self.wait_done(pids, 1, 30):
                return {"lat_note": "worker did not start"}
            started = time.monotonic()
            for _ in range(LATENCY_SAMPLES):
                if time.monotonic() - started > LATENCY_SECONDS:
                    break
                await asyncio.sleep(0.02)  # let the worker go back to its idle wait
                self.redis.delete(DONE)
                await self.system.enqueue_one(time.time())
                # Block rather than poll: polling would compete for the CPU
                # with the worker and Redis and slow the very thing measured.
                if not self.redis.blpop([DONE], timeout=3):
                    break
            await asyncio.sleep(0.05)
            (state,) = self.states(pids)
            return {"lat": state["lat"]}
        finally:
            self.stop_workers()
            self.flush()

    async def enqueue_single(self) -> float:
        self.flush()
        started = time.perf_counter()
        count = 0
        while count < SINGLE_JOBS and time.perf_counter() - started < SINGLE_SECONDS:
            await self.system.enqueue_one(0.0)
            count += 1
        rate = count / (time.perf_counter() - started)
        self.flush()
        return rate

    async def process(self, processes: int) -> tuple[float, float, str]:
        """Bulk-enqueue the backlog (timed), then drain it with ``processes`` workers."""
        self.flush()
        started = time.perf_counter()
        await self.system.enqueue_bulk(self.jobs)
        bulk = self.jobs / (time.perf_counter() - started)
        pids = self.spawn(processes)
        note = ""
        try:
            progress, progress_at = 0, time.monotonic()
            while True:
                await asyncio.sleep(0.05)
                states = self.states(pids)
                total = sum(s["count"] for s in states)
                now = time.monotonic()
                if total >= self.jobs:
                    break
                if total > progress:
                    progress, progress_at = total, now
                elif now - progress_at > STALL_SECONDS + (10 if not total else 0):
                    note = f"stalled after {total} of {self.jobs} jobs"
                    break
                first = min((s["first"] for s in states if s["first"]), default=0)
                if first and time.time() - first > PROCESS_SECONDS:
                    note = f"stopped after {PROCESS_SECONDS:.0f}s: {total} of {self.jobs} jobs"
                    break
            # Steady-state rate: each process from its first job to its last,
            # so worker start-up time does not count against anyone.
            rate = sum(
                s["count"] / (s["last"] - s["first"])
                for s in self.states(pids)
                if s["count"] > 1 and s["last"] > s["first"]
            )
            return bulk, rate, note
        finally:
            self.stop_workers()
            self.flush()

    async def run(self) -> dict[str, Any]:
        await self.system.open()
        try:
            result: dict[str, Any] = {"system": self.system.name, "note": self.system.note}
            result.update(await self.latency())
            result["enqueue_one"] = await self.enqueue_single()
            bulk, result["process_1"], result["process_1_note"] = await self.process(1)
            bulk2, result["process_2"], result["process_2_note"] = await self.process(2)
            result["enqueue_bulk"] = max(bulk, bulk2)
            return result
        finally:
            self.stop_workers()
            await self.system.close()
            self.log.close()


def main() -> None:
    role, system, url = sys.argv[1:4]
    if role == "worker":
        worker_main(system, url)
        return
    bench = Bench(system, url, int(sys.argv[4]))
    print(json.dumps(asyncio.run(bench.run())), flush=True)


if __name__ == "__main__":
    main()
