"""The job the worker processes of test_processes run: it records each run in Redis."""

from __future__ import annotations

import asyncio

from backyard import Job, JobContext
from backyard.backends.redis import RedisQueue

RUNS_KEY = "test-runs"  # under the store's prefix: job id -> how many times it ran


class Tracked(Job):
    NAME = "tests.redis.Tracked"
    seconds: float = 0.05

    async def execute(self, ctx: JobContext) -> None:
        store = ctx.store
        assert isinstance(store, RedisQueue)
        await store.client.hincrby(store.prefix + RUNS_KEY, ctx.job_id, 1)
        await asyncio.sleep(self.seconds)
