"""The jobs the fault-injection harness runs, and the ledger they record runs in.

The ledger is a SQLite file of its own, apart from the store under test, so
the faults aimed at the store (killed connections, a restarted server) never
touch the record of what ran. Each run inserts (job id, attempt, pid) once:
a job that appears with two attempts ran twice.
"""

from __future__ import annotations

import asyncio
import os
import sqlite3
from datetime import timedelta

from backyard import Job, JobContext, JobOptions, RetryPolicy

LEDGER_ENV = "BACKYARD_CHAOS_LEDGER"

_FAST = RetryPolicy(base=timedelta(milliseconds=50), max_delay=timedelta(seconds=1))
_ledger: sqlite3.Connection | None = None


def ledger() -> sqlite3.Connection:
    global _ledger
    if _ledger is None:
        _ledger = open_ledger(os.environ[LEDGER_ENV])
    return _ledger


def open_ledger(path: str) -> sqlite3.Connection:
    conn = sqlite3.connect(path, timeout=30, isolation_level=None)
    conn.execute("PRAGMA journal_mode = WAL")
    conn.execute(
        "CREATE TABLE IF NOT EXISTS runs ("
        " job_id TEXT NOT NULL, attempt INTEGER NOT NULL, pid INTEGER NOT NULL,"
        " PRIMARY KEY (job_id, attempt))"
    )
    return conn


class Work(Job):
    """A well-behaved job: a little async work, then one ledger row.

    The row is written with no await after it, so a cancelled (interrupted)
    run never records itself: a recorded run is one that finished.
    """

    NAME = "chaos.Work"
    RETRY = _FAST
    n: int
    sleep_ms: int = 5

    @classmethod
    def options(cls) -> JobOptions:
        return JobOptions(max_retries=25)

    async def execute(self, ctx: JobContext) -> None:
        await asyncio.sleep(self.sleep_ms / 1000)
        ledger().execute(
            "INSERT OR IGNORE INTO runs (job_id, attempt, pid) VALUES (?, ?, ?)",
            (ctx.job_id, ctx.attempt, os.getpid()),
        )


class Hangs(Job):
    """Runs past its timeout every time: dead with JobTimeout."""

    NAME = "chaos.Hangs"
    RETRY = _FAST

    async def execute(self, ctx: JobContext) -> None:
        await asyncio.sleep(3600)


class Raises(Job):
    NAME = "chaos.Raises"
    RETRY = _FAST

    async def execute(self, ctx: JobContext) -> None:
        raise RuntimeError("chaos: this job always raises")


class ExitsProcess(Job):
    """Takes its worker process down with it (os._exit): dead once its retries are used up by rescue."""

    NAME = "chaos.ExitsProcess"
    RETRY = _FAST

    async def execute(self, ctx: JobContext) -> None:
        os._exit(3)


POISON_MESSAGES = {
    "bad_payload": "does not match",
    "unknown_name": "no job class is registered",
    "hangs": "JobTimeout",
    "raises": "RuntimeError: chaos: this job always raises",
    "exits": "lease expired",
}
