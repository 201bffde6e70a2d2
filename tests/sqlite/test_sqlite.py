"""What only the SQLite backend has to get right: files, locks, damaged data, wake-ups."""

from __future__ import annotations

import asyncio
import sqlite3
import time
from pathlib import Path

import pytest

from backyard import JobError, JobStatus, StorageError, Worker, connect, connect_sync

from ..jobs import RUNS, Record, reset

pytestmark = pytest.mark.sqlite


def url(tmp_path: Path, name: str = "jobs.db") -> str:
    return f"sqlite:///{tmp_path / name}"


async def test_schema_is_created_and_versioned(tmp_path: Path) -> None:
    async with connect(url(tmp_path)) as store:
        await store.enqueue(Record())
    conn = sqlite3.connect(tmp_path / "jobs.db")
    assert conn.execute("PRAGMA user_version").fetchone()[0] >= 1
    assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    conn.close()
    async with connect(url(tmp_path)) as store:  # reopening migrates nothing and keeps data
        assert len(await store.list()) == 1


async def test_many_stores_opening_a_new_file_at_once(tmp_path: Path) -> None:
    stores = [connect(url(tmp_path)) for _ in range(6)]
    await asyncio.gather(*(store.open() for store in stores))
    await asyncio.gather(*(store.enqueue(Record()) for store in stores))
    assert len(await stores[0].list()) == 6
    for store in stores:
        await store.close()


async def test_missing_folder_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(StorageError, match="does not exist"):
        async with connect(f"sqlite:///{tmp_path}/no/such/dir/jobs.db"):
            pass


async def test_a_file_that_is_not_a_database(tmp_path: Path) -> None:
    (tmp_path / "jobs.db").write_text("this is a text file, not a database\n" * 100)
    with pytest.raises(StorageError, match="not a usable database"):
        async with connect(url(tmp_path)):
            pass


async def test_a_newer_schema_is_refused(tmp_path: Path) -> None:
    async with connect(url(tmp_path)):
        pass
    conn = sqlite3.connect(tmp_path / "jobs.db")
    conn.execute("PRAGMA user_version = 999")
    conn.close()
    with pytest.raises(StorageError, match="upgrade backyard"):
        async with connect(url(tmp_path)):
            pass


async def test_locked_database_is_a_clear_error_and_loses_nothing(tmp_path: Path) -> None:
    async with connect(url(tmp_path) + "?busy_timeout=0.2") as store:
        await store.enqueue(Record(n=1))
        blocker = sqlite3.connect(tmp_path / "jobs.db", isolation_level=None)
        blocker.execute("BEGIN IMMEDIATE")  # another process holds the write lock
        try:
            with pytest.raises(StorageError, match="is locked"):
                await store.enqueue(Record(n=2))
            with pytest.raises(StorageError, match="is locked"):
                await store.claim(["default"], "w", 10, 30)
        finally:
            blocker.execute("ROLLBACK")
            blocker.close()
        # Once the lock is gone everything works again and the first job is intact.
        await store.enqueue(Record(n=3))
        jobs = await store.claim(["default"], "w", 10, 30)
        assert sorted(Record.model_validate_json(j.payload).n for j in jobs) == [1, 3]


async def test_damaged_rows_are_shown_not_hidden(tmp_path: Path) -> None:
    reset()
    async with connect(url(tmp_path), wake_interval=0.002) as store:
        bad_errors = await store.enqueue(Record(n=1))
        bad_payload = await store.enqueue(Record(n=2))
        conn = sqlite3.connect(tmp_path / "jobs.db")
        conn.execute("UPDATE backyard_jobs SET errors = '{not json' WHERE id = ?", (bad_errors,))
        conn.execute(
            "UPDATE backyard_jobs SET payload = ? WHERE id = ?", ("\x00garbage", bad_payload)
        )
        conn.commit()
        conn.close()
        record = await store.get(bad_errors)
        assert record is not None
        assert "could not read this job's stored error history" in record.errors[0].message
        (claimed,) = await store.claim(["default"], "w", 1, 30)
        assert claimed.id == bad_errors
        error = JobError(attempt=1, at=store.now_datetime(), message="new failure")
        assert await store.retry(claimed, store.now_datetime(), error)  # appending still works
        retried = await store.get(bad_errors)
        assert retried is not None
        assert [e.message for e in retried.errors] == [
            "damaged error history (kept as text in traceback)",
            "new failure",
        ]
        assert retried.errors[0].traceback == "{not json"
        worker = Worker(store, poll_interval=0.02, stop_when_empty=True)
        await asyncio.wait_for(worker.run(install_signal_handlers=False), 20)
        done = await store.get(bad_errors)
        assert done is not None and done.status is JobStatus.COMPLETED
        dead = await store.get(bad_payload)
        assert dead is not None and dead.status is JobStatus.DEAD
        assert "does not match" in dead.errors[-1].message


async def test_an_idle_worker_wakes_on_another_process_enqueue(tmp_path: Path) -> None:
    reset()
    async with connect(url(tmp_path)) as worker_store, connect(url(tmp_path)) as producer:
        worker = Worker(worker_store, poll_interval=30)  # would sleep 30 s without a wake-up
        task = asyncio.create_task(worker.run(install_signal_handlers=False))
        await asyncio.sleep(0.2)
        job_id = await producer.enqueue(Record())
        started = time.monotonic()
        while RUNS[job_id] == 0 and time.monotonic() - started < 10:
            await asyncio.sleep(0.005)
        worker.stop()
        await task
        assert RUNS[job_id] == 1
        assert time.monotonic() - started < 10


async def test_a_due_scheduled_job_wakes_an_idle_worker(tmp_path: Path) -> None:
    reset()
    async with connect(url(tmp_path)) as store:
        job_id = await store.enqueue(Record(), options=None)
        await store.claim(["default"], "other", 1, 30)  # keep it out of the way
        later = await store.enqueue(Record(n=5), __import__("backyard").JobOptions(delay=0.3))
        worker = Worker(store, poll_interval=30, stop_when_empty=False)
        task = asyncio.create_task(worker.run(install_signal_handlers=False))
        deadline = time.monotonic() + 10
        while RUNS[later] == 0 and time.monotonic() < deadline:
            await asyncio.sleep(0.01)
        worker.stop()
        await task
        assert RUNS[later] == 1
        assert RUNS[job_id] == 0


def test_sync_client_from_plain_code(tmp_path: Path) -> None:
    with connect_sync(url(tmp_path)) as queue:
        job_id = queue.enqueue(Record(n=42))
        record = queue.get(job_id)
        assert record is not None and record.status is JobStatus.AVAILABLE
        assert queue.queue_depths()["default"][JobStatus.AVAILABLE] == 1
        assert queue.cancel(job_id)
        assert queue.requeue(job_id)
        assert [r.id for r in queue.list()] == [job_id]
    with pytest.raises(RuntimeError, match="closed"):
        queue.enqueue(Record())


def test_sync_client_reports_a_bad_store_at_once(tmp_path: Path) -> None:
    with pytest.raises(StorageError):
        connect_sync(f"sqlite:///{tmp_path}/missing/dir/x.db")
