"""Jobs for the real-process tests.

Each run is recorded in a SQLite file of its own (``$BACKYARD_TEST_RUNS``),
apart from the queue's storage, so a test can count the runs of every job
across processes, crashes and restarts: one row per run, with its end left
empty if the process died mid-job.
"""

from __future__ import annotations

import asyncio
import os
import sqlite3
import time
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path

from backyard import Job, JobContext

RUNS_ENV = "BACKYARD_TEST_RUNS"

SCHEMA = """
CREATE TABLE IF NOT EXISTS runs (
    run INTEGER PRIMARY KEY,
    job_id TEXT NOT NULL,
    attempt INTEGER NOT NULL,
    worker_id TEXT NOT NULL,
    pid INTEGER NOT NULL,
    started REAL NOT NULL,
    finished REAL
)
"""


@dataclass(frozen=True)
class Run:
    job_id: str
    attempt: int
    worker_id: str
    pid: int
    finished: bool


def _open(path: str | Path) -> sqlite3.Connection:
    conn = sqlite3.connect(path, timeout=30, isolation_level=None)
    conn.execute("PRAGMA journal_mode = WAL")
    return conn


def create_runs_db(path: Path) -> None:
    with _open(path) as conn:
        conn.execute(SCHEMA)


def read_runs(path: Path) -> dict[str, list[Run]]:
    """job id -> its runs, in order."""
    conn = _open(path)
    try:
        rows = conn.execute(
            "SELECT job_id, attempt, worker_id, pid, finished FROM runs ORDER BY run"
        ).fetchall()
    finally:
        conn.close()
    runs: dict[str, list[Run]] = defaultdict(list)
    for job_id, attempt, worker_id, pid, finished in rows:
        runs[job_id].append(Run(job_id, attempt, worker_id, pid, finished is not None))
    return dict(runs)


def _record_start(ctx: JobContext) -> int:
    conn = _open(os.environ[RUNS_ENV])
    try:
        cursor = conn.execute(
            "INSERT INTO runs (job_id, attempt, worker_id, pid, started) VALUES (?, ?, ?, ?, ?)",
            (ctx.job_id, ctx.attempt, ctx.worker_id, os.getpid(), time.time()),
        )
        return int(cursor.lastrowid or 0)
    finally:
        conn.close()


def _record_end(run: int) -> None:
    conn = _open(os.environ[RUNS_ENV])
    try:
        conn.execute("UPDATE runs SET finished = ? WHERE run = ?", (time.time(), run))
    finally:
        conn.close()


class Sleepy(Job):
    """Records that it started, sleeps, records that it finished."""

    NAME = "process.Sleepy"
    seconds: float = 0.5

    async def execute(self, ctx: JobContext) -> None:
        run = await asyncio.to_thread(_record_start, ctx)
        await asyncio.sleep(self.seconds)
        await asyncio.to_thread(_record_end, run)
