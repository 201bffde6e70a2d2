"""Idle workers wake when work arrives (BLPOP on a signal list), not when their poll comes round."""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import Iterator

import pytest

from backyard import JobOptions, JobStatus, Worker

from ..jobs import RUNS, Record, reset
from .conftest import MakeStore

# Far longer than any test here may take: a job that runs at all was woken.
POLL = 10.0


@pytest.fixture(autouse=True)
def _fresh_runs() -> Iterator[None]:
    reset()
    yield
    reset()


async def wait_for(condition: object, timeout: float = 5.0) -> None:
    async with asyncio.timeout(timeout):
        while not condition():  # type: ignore[operator]
            await asyncio.sleep(0.01)


async def idle_worker(store: object, **options: object) -> tuple[Worker, asyncio.Task[None]]:
    worker = Worker(store, poll_interval=POLL, lease=5, **options)  # type: ignore[arg-type]
    task = asyncio.create_task(worker.run(install_signal_handlers=False))
    await asyncio.sleep(0.2)  # it claims nothing and settles into its wait
    return worker, task


async def stop(worker: Worker, task: asyncio.Task[None]) -> None:
    worker.stop()
    await asyncio.wait_for(task, 10)


async def test_a_push_from_another_process_wakes_an_idle_worker(make_store: MakeStore) -> None:
    worker_store, producer = await make_store(), await make_store()
    worker, task = await idle_worker(worker_store)
    try:
        job_id = await producer.enqueue(Record())
        await wait_for(lambda: RUNS[job_id] == 1, timeout=POLL / 2)
    finally:
        await stop(worker, task)


async def test_idle_workers_wake_each_other_for_a_burst(make_store: MakeStore) -> None:
    # One signal wakes one worker; a claim that leaves work behind signals
    # again, so the second idle worker joins in instead of sleeping its poll.
    first, second, producer = await make_store(), await make_store(), await make_store()
    a, task_a = await idle_worker(first, concurrency=2)
    b, task_b = await idle_worker(second, concurrency=2)
    try:
        ids = await producer.enqueue_many([Record(n=i, sleep=0.2) for i in range(8)])
        await wait_for(lambda: all(RUNS[i] == 1 for i in ids), timeout=POLL / 2)
        assert a.counters.claimed > 0 and b.counters.claimed > 0
    finally:
        await stop(a, task_a)
        await stop(b, task_b)


async def test_a_scheduled_job_starts_when_due_not_at_the_next_poll(
    make_store: MakeStore,
) -> None:
    worker_store, producer = await make_store(), await make_store()
    worker, task = await idle_worker(worker_store)
    try:
        job_id = await producer.enqueue(Record(), JobOptions(delay=0.5))
        await wait_for(lambda: RUNS[job_id] == 1, timeout=POLL / 2)
        record = await producer.get(job_id)
        assert record is not None and record.started_at is not None
        assert (record.started_at - record.run_at).total_seconds() >= 0
    finally:
        await stop(worker, task)


async def test_waiting_survives_its_connection_being_killed(make_store: MakeStore) -> None:
    worker_store, producer = await make_store(), await make_store()
    worker, task = await idle_worker(worker_store)
    try:
        killed = await producer.client.client_kill_filter(_type="normal", skipme=True)
        assert killed >= 1  # the worker's blocked BLPOP among them
        job_id = await producer.enqueue(Record())
        await wait_for(lambda: RUNS[job_id] == 1, timeout=POLL / 2)
        record = await producer.get(job_id)
        assert record is not None
        await wait_for(lambda: worker.counters.completed == 1)
        assert (await producer.get(job_id)).status is JobStatus.COMPLETED  # type: ignore[union-attr]
    finally:
        await stop(worker, task)


async def register_waiter(store: object, worker_id: str, capacity: int, ttl_ms: int) -> str:
    """What an idle worker's wait_for_work does first (see wait_begin.lua)."""
    token = uuid.uuid4().hex
    registered = await store._run(  # type: ignore[attr-defined]
        "wait_begin", repr(time.time()), token, worker_id, "30.0", capacity, ttl_ms, "default"
    )
    assert registered == 1
    return token


async def test_handoff_goes_to_a_live_waiter_with_room_only(make_store: MakeStore) -> None:
    store = await make_store()
    await register_waiter(store, "ghost", capacity=1, ttl_ms=60_000)
    first = await store.enqueue(Record(n=1))
    second = await store.enqueue(Record(n=2))  # the waiter is full now
    handed = await store.get(first)
    assert handed is not None and handed.status is JobStatus.RUNNING
    assert handed.worker_id == "ghost" and handed.lease_expires_at is not None
    waiting = await store.get(second)
    assert waiting is not None and waiting.status is JobStatus.AVAILABLE

    # A waiter whose token expired (its worker died while waiting) gets nothing.
    await store.claim(["default"], "w", 10, 30)  # empties the ready set
    await register_waiter(store, "dead", capacity=5, ttl_ms=50)
    await asyncio.sleep(0.1)
    third = await store.enqueue(Record(n=3))
    record = await store.get(third)
    assert record is not None and record.status is JobStatus.AVAILABLE


async def test_no_handoff_past_jobs_already_waiting(make_store: MakeStore) -> None:
    store = await make_store()
    await register_waiter(store, "ghost", capacity=5, ttl_ms=60_000)
    older = await store.enqueue_many([Record(n=1), Record(n=2)])  # bulk: never handed off
    newer = await store.enqueue(Record(n=3))  # not past the two already waiting
    for job_id in [*older, newer]:
        record = await store.get(job_id)
        assert record is not None and record.status is JobStatus.AVAILABLE
    assert [j.id for j in await store.claim(["default"], "w", 10, 30)] == [*older, newer]


async def test_jobs_handed_to_a_worker_that_stops_go_back(make_store: MakeStore) -> None:
    waiting, producer = await make_store(), await make_store()
    assert await waiting.claim(["default"], "w1", 5, 30) == []  # as a worker does first

    async def push_when_registered() -> str:
        while not await producer.client.llen(f"{producer.prefix}waiters:default"):
            await asyncio.sleep(0.005)
        return await producer.enqueue(Record())

    pushed = asyncio.create_task(push_when_registered())
    await waiting.wait_for_work(["default"], POLL)
    job_id = await pushed
    record = await producer.get(job_id)
    assert record is not None and record.status is JobStatus.RUNNING and record.worker_id == "w1"
    # The worker stops instead of claiming: closing the store gives the job back.
    await waiting.close()
    record = await producer.get(job_id)
    assert record is not None and record.status is JobStatus.AVAILABLE and record.attempt == 0
