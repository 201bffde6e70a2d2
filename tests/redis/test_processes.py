"""Real worker processes, one killed with SIGKILL mid-run: no job is lost."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from backyard import JobOptions, JobStatus

from .conftest import MakeStore
from .process_jobs import RUNS_KEY, Tracked

ROOT = Path(__file__).resolve().parents[2]
JOBS = 150
LEASE = 1.5


def spawn(prefix: str) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [sys.executable, "-m", "tests.redis.worker_process", prefix, str(LEASE)],
        cwd=ROOT,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )


@pytest.mark.slow
async def test_killing_a_worker_process_loses_no_job(make_store: MakeStore, prefix: str) -> None:
    store = await make_store()
    ids = await store.enqueue_many(
        [Tracked(seconds=0.05) for _ in range(JOBS)], JobOptions(queue="procs")
    )
    runs_key = store.prefix + RUNS_KEY
    workers = [spawn(prefix) for _ in range(3)]
    try:
        async with asyncio.timeout(30):
            while await store.client.hlen(runs_key) < 20:
                await asyncio.sleep(0.01)
        victim = workers[0]
        # The victim is mid-run: it holds claimed jobs nobody will ack.
        victim.send_signal(signal.SIGKILL)
        victim.wait(10)

        async with asyncio.timeout(60):
            while (await store.queue_depths())["procs"][JobStatus.COMPLETED] < JOBS:
                await asyncio.sleep(0.05)
    finally:
        for process in workers:
            if process.poll() is None:
                process.send_signal(signal.SIGTERM)
        for process in workers:
            try:
                process.wait(15)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()

    runs = {job_id: int(n) for job_id, n in (await store.client.hgetall(runs_key)).items()}
    assert set(runs) == set(ids)  # every job ran
    twice = {job_id for job_id, n in runs.items() if n > 1}
    # Only jobs the killed worker had claimed ran again (at most its
    # concurrency), each after a rescue that names it.
    assert len(twice) <= 4
    rescued = set()
    for record in await store.list(queue="procs", limit=JOBS):
        assert record.status is JobStatus.COMPLETED
        if record.errors:
            (error,) = record.errors
            assert "lease expired" in error.message and f"-{victim.pid}-" in error.message
            rescued.add(record.id)
    assert twice <= rescued
    depths = (await store.queue_depths())["procs"]
    assert depths[JobStatus.COMPLETED] == JOBS
    assert depths[JobStatus.RUNNING] == depths[JobStatus.AVAILABLE] == 0
