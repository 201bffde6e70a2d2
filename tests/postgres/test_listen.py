"""LISTEN/NOTIFY: an idle worker starts a job pushed from elsewhere at once,
and keeps doing so after its listening connection is killed."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator

import asyncpg
import pytest

from backyard import JobStatus, Worker
from backyard.backends.postgres import PostgresQueue

from ..jobs import RUNS, Record, reset
from .conftest import OpenPg, backends_of, terminate

pytestmark = pytest.mark.postgres

# Far longer than the tests wait: a job that starts in time was woken, not polled.
POLL = 10.0


@pytest.fixture(autouse=True)
def _fresh_runs() -> Iterator[None]:
    reset()
    yield
    reset()


async def wait_until(condition: object, timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if await condition():  # type: ignore[operator]
            return True
        await asyncio.sleep(0.02)
    return False


async def listening(admin: asyncpg.Connection, app_name: str) -> bool:
    return bool(await backends_of(admin, f"{app_name}:listener"))


async def start_idle_worker(
    store: PostgresQueue, admin: asyncpg.Connection, app_name: str
) -> tuple[Worker, asyncio.Task[None]]:
    worker = Worker(store, concurrency=4, poll_interval=POLL, lease=5)
    task = asyncio.create_task(worker.run(install_signal_handlers=False))
    assert await wait_until(lambda: listening(admin, app_name), 5)
    await asyncio.sleep(0.2)  # let the worker's post-connect claim finish and go idle
    return worker, task


async def stop(worker: Worker, task: asyncio.Task[None]) -> None:
    worker.stop()
    await asyncio.wait_for(task, 10)


async def test_idle_worker_starts_a_job_pushed_by_another_store(
    open_pg: OpenPg, admin: asyncpg.Connection, app_name: str
) -> None:
    store, producer = await open_pg(), await open_pg()
    worker, task = await start_idle_worker(store, admin, app_name)
    try:
        for n in range(3):
            job_id = await producer.enqueue(Record(n=n))
            assert await wait_until(lambda: _ran(job_id), 2.0), "not woken by NOTIFY"  # noqa: B023
    finally:
        await stop(worker, task)
    record = await producer.get(job_id)
    assert record is not None and record.status is JobStatus.COMPLETED


async def test_bulk_push_wakes_the_worker(
    open_pg: OpenPg, admin: asyncpg.Connection, app_name: str
) -> None:
    store, producer = await open_pg(), await open_pg()
    worker, task = await start_idle_worker(store, admin, app_name)
    try:
        ids = await producer.enqueue_many([Record(n=n) for n in range(20)])
        assert await wait_until(lambda: _all_ran(ids), 3.0)
    finally:
        await stop(worker, task)


async def test_listener_reconnects_after_its_backend_is_terminated(
    open_pg: OpenPg, admin: asyncpg.Connection, app_name: str
) -> None:
    store, producer = await open_pg(), await open_pg()
    worker, task = await start_idle_worker(store, admin, app_name)
    try:
        (old_pid,) = await backends_of(admin, f"{app_name}:listener")
        assert await terminate(admin, f"{app_name}:listener") == 1

        async def new_listener() -> bool:
            pids = await backends_of(admin, f"{app_name}:listener")
            return bool(pids) and old_pid not in pids

        assert await wait_until(new_listener, 5.0), "the listener did not come back"
        await asyncio.sleep(0.2)
        job_id = await producer.enqueue(Record(n=99))
        assert await wait_until(lambda: _ran(job_id), 2.0), "not woken after reconnecting"
    finally:
        await stop(worker, task)


async def test_wait_for_work_ignores_other_queues(
    open_pg: OpenPg, admin: asyncpg.Connection, app_name: str
) -> None:
    store, producer = await open_pg(), await open_pg()
    # Connect the listener first: the first wait returns at once by design.
    await store.wait_for_work(["mail"], 0.01)
    started = time.monotonic()
    waiting = asyncio.create_task(store.wait_for_work(["mail"], 0.5))
    await asyncio.sleep(0.05)
    await producer.enqueue(Record(n=1))  # to "default": not for this waiter
    await waiting
    assert time.monotonic() - started >= 0.45


async def _ran(job_id: str) -> bool:
    return RUNS[job_id] >= 1


async def _all_ran(ids: list[str]) -> bool:
    return all(RUNS[i] >= 1 for i in ids)
