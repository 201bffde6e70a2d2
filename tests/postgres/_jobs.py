"""A job that records each run in a table, for tests with real worker processes.

Runs go to ``<schema>.test_runs`` through the store's own pool, so a run
recorded is a run that happened, whatever process it was in.
"""

from __future__ import annotations

import asyncio
import os

from backyard import Job, JobContext
from backyard.backends.postgres import PostgresQueue

RUNS_TABLE = """
CREATE TABLE "{schema}".test_runs (
    job_id      uuid NOT NULL,
    attempt     integer NOT NULL,
    pid         integer NOT NULL,
    started_at  timestamptz NOT NULL,
    finished_at timestamptz
)
"""


class TrackedRun(Job):
    NAME = "tests.postgres.TrackedRun"
    sleep: float = 0.2

    async def execute(self, ctx: JobContext) -> None:
        store = ctx.store
        assert isinstance(store, PostgresQueue)
        table = f'"{store.schema}".test_runs'
        await store.pool.execute(
            f"INSERT INTO {table} (job_id, attempt, pid, started_at) "
            "VALUES ($1, $2, $3, clock_timestamp())",
            ctx.job_id,
            ctx.attempt,
            os.getpid(),
        )
        await asyncio.sleep(self.sleep)
        await store.pool.execute(
            f"UPDATE {table} SET finished_at = clock_timestamp() "
            "WHERE job_id = $1 AND attempt = $2 AND pid = $3",
            ctx.job_id,
            ctx.attempt,
            os.getpid(),
        )
