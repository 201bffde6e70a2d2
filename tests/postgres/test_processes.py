"""Real worker processes: one is killed with SIGKILL mid-run; nothing is lost,
and no job runs twice while its lease is live."""

from __future__ import annotations

import asyncio
import itertools
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import asyncpg
import pytest

from backyard import JobStatus
from backyard.backends.postgres import PostgresQueue

from ..backends import POSTGRES_URL
from ._jobs import RUNS_TABLE, TrackedRun

pytestmark = [pytest.mark.postgres, pytest.mark.slow]

ROOT = Path(__file__).resolve().parents[2]
JOBS = 150


def start_worker(schema: str) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [sys.executable, "-m", "tests.postgres.worker_process", POSTGRES_URL, schema],
        cwd=ROOT,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )


async def test_kill_9_loses_nothing_and_never_overlaps_a_live_lease(
    pg: PostgresQueue, admin: asyncpg.Connection
) -> None:
    schema = pg.schema
    await admin.execute(RUNS_TABLE.format(schema=schema))
    ids = await pg.enqueue_many([TrackedRun(sleep=0.2) for _ in range(JOBS)])
    workers = [start_worker(schema) for _ in range(3)]
    try:
        victim, killed_at = await kill_one_mid_run(admin, schema, workers)
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            depths = (await pg.queue_depths()).get("default", {})
            if depths.get(JobStatus.COMPLETED, 0) == JOBS:
                break
            assert all(w.poll() is None for w in workers if w.pid != victim)
            await asyncio.sleep(0.1)
    finally:
        for worker in workers:
            if worker.poll() is None:
                worker.send_signal(signal.SIGTERM)
        for worker in workers:
            worker.wait(timeout=20)

    # Nothing lost: every job completed.
    for job_id in ids:
        record = await pg.get(job_id)
        assert record is not None and record.status is JobStatus.COMPLETED, record
    runs = await admin.fetch(
        f'SELECT job_id, attempt, pid, started_at, finished_at FROM "{schema}".test_runs '
        "ORDER BY job_id, started_at"
    )
    by_job: dict[str, list[asyncpg.Record]] = {}
    for run in runs:
        by_job.setdefault(str(run["job_id"]), []).append(run)
    assert set(by_job) == set(ids)

    interrupted = [run for run in runs if run["finished_at"] is None]
    assert interrupted, "the killed worker was not running anything; the test proved nothing"
    assert all(run["pid"] == victim for run in interrupted)
    for job_id, job_runs in by_job.items():
        # Each attempt ran once; a run cut short by the kill lasted until the kill.
        assert len({run["attempt"] for run in job_runs}) == len(job_runs), job_runs
        spans = [(run["started_at"], run["finished_at"] or killed_at) for run in job_runs]
        for (_, end), (next_start, _) in itertools.pairwise(spans):
            assert next_start >= end, f"job {job_id} ran twice at once: {job_runs}"
        # Only the victim's jobs ran more than once.
        if len(job_runs) > 1:
            assert job_runs[0]["pid"] == victim


async def kill_one_mid_run(
    admin: asyncpg.Connection, schema: str, workers: list[subprocess.Popen[bytes]]
) -> tuple[int, object]:
    pids = {w.pid: w for w in workers}
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        busy = await admin.fetch(
            f'SELECT pid, count(*) AS n FROM "{schema}".test_runs '
            "WHERE finished_at IS NULL GROUP BY pid ORDER BY n DESC"
        )
        done = await admin.fetchval(
            f'SELECT count(*) FROM "{schema}".test_runs WHERE finished_at IS NOT NULL'
        )
        candidates = [row["pid"] for row in busy if row["pid"] in pids and row["n"] >= 2]
        if candidates and done >= 10:
            victim = candidates[0]
            os.kill(victim, signal.SIGKILL)
            pids[victim].wait(timeout=10)
            killed_at = await admin.fetchval("SELECT clock_timestamp()")
            return victim, killed_at
        await asyncio.sleep(0.02)
    raise AssertionError("no worker got busy in time")
