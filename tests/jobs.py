"""Job classes the tests share. Runs are recorded in ``RUNS`` (job id -> count)."""

from __future__ import annotations

import asyncio
import time
from collections import Counter
from datetime import timedelta

from backyard import Discard, Job, JobContext, JobOptions, Retry, RetryPolicy

RUNS: Counter[str] = Counter()
CONCURRENT: dict[str, int] = {}
OVERLAPS: list[str] = []

FAST_RETRY = RetryPolicy(base=timedelta(milliseconds=5), max_delay=timedelta(milliseconds=50))


def reset() -> None:
    RUNS.clear()
    CONCURRENT.clear()
    OVERLAPS.clear()


class Record(Job):
    """Counts its runs and notices if two runs of one job ever overlap."""

    NAME = "tests.Record"
    n: int = 0
    sleep: float = 0.0

    async def execute(self, ctx: JobContext) -> None:
        RUNS[ctx.job_id] += 1
        CONCURRENT[ctx.job_id] = CONCURRENT.get(ctx.job_id, 0) + 1
        if CONCURRENT[ctx.job_id] > 1:
            OVERLAPS.append(ctx.job_id)
        try:
            await asyncio.sleep(self.sleep)
        finally:
            CONCURRENT[ctx.job_id] -= 1


class FailTimes(Job):
    """Fails its first ``failures`` attempts, then succeeds."""

    NAME = "tests.FailTimes"
    RETRY = FAST_RETRY
    failures: int

    async def execute(self, ctx: JobContext) -> None:
        RUNS[ctx.job_id] += 1
        if ctx.attempt <= self.failures:
            raise RuntimeError(f"planned failure {ctx.attempt}")


class AlwaysFails(Job):
    NAME = "tests.AlwaysFails"
    RETRY = FAST_RETRY

    @classmethod
    def options(cls) -> JobOptions:
        return JobOptions(max_retries=2)

    async def execute(self, ctx: JobContext) -> None:
        RUNS[ctx.job_id] += 1
        raise ValueError("always <b>fails</b>")


class Discards(Job):
    NAME = "tests.Discards"

    async def execute(self, ctx: JobContext) -> None:
        RUNS[ctx.job_id] += 1
        raise Discard("not worth retrying")


class RetriesLater(Job):
    NAME = "tests.RetriesLater"
    delay: float

    async def execute(self, ctx: JobContext) -> None:
        RUNS[ctx.job_id] += 1
        if ctx.attempt == 1:
            raise Retry("come back later", delay=self.delay)


class Sleeps(Job):
    NAME = "tests.Sleeps"
    RETRY = FAST_RETRY
    seconds: float

    async def execute(self, ctx: JobContext) -> None:
        RUNS[ctx.job_id] += 1
        await asyncio.sleep(self.seconds)


class SyncWork(Job):
    NAME = "tests.SyncWork"
    value: int

    def execute(self, ctx: JobContext) -> None:  # type: ignore[override]
        RUNS[ctx.job_id] += 1
        time.sleep(0.001)
        if self.value > 0:
            ctx.enqueue_sync(SyncWork(value=self.value - 1))


class Parent(Job):
    NAME = "tests.Parent"
    children: int

    async def execute(self, ctx: JobContext) -> None:
        RUNS[ctx.job_id] += 1
        for n in range(self.children):
            await ctx.enqueue(Record(n=n), JobOptions(queue="children"))
