"""Claims: order, timing, and never handing one job to two claimers."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import pytest

from backyard import JobOptions, JobStatus, Queue

from ..backends import FakeClock, OpenStore
from ..jobs import Record

pytestmark = pytest.mark.asyncio


async def test_claim_marks_running_with_a_lease(store: Queue, clock: FakeClock) -> None:
    job_id = await store.enqueue(Record())
    (job,) = await store.claim(["default"], "worker-a", 10, lease=30)
    assert job.id == job_id
    assert job.status is JobStatus.RUNNING
    assert job.attempt == 1
    assert job.worker_id == "worker-a"
    assert job.started_at is not None
    assert job.lease_expires_at is not None
    assert abs(job.lease_expires_at.timestamp() - (clock.now + 30)) < 0.01
    stored = await store.get(job_id)
    assert stored is not None and stored.status is JobStatus.RUNNING
    assert await store.claim(["default"], "worker-b", 10, lease=30) == []


async def test_claim_respects_limit(store: Queue) -> None:
    await store.enqueue_many([Record(n=i) for i in range(10)])
    assert len(await store.claim(["default"], "w", 3, 30)) == 3
    assert len(await store.claim(["default"], "w", 100, 30)) == 7
    assert await store.claim(["default"], "w", 100, 30) == []


async def test_order_is_priority_then_run_at_then_enqueue_order(
    store: Queue, clock: FakeClock
) -> None:
    low_first = await store.enqueue(Record(n=1), JobOptions(priority=0))
    low_second = await store.enqueue(Record(n=2), JobOptions(priority=0))
    high = await store.enqueue(Record(n=3), JobOptions(priority=10))
    clock.advance(1)
    # run_at earlier than the others despite being enqueued last:
    early = await store.enqueue(
        Record(n=4), JobOptions(priority=0, at=store.now_datetime() - timedelta(seconds=10))
    )
    negative = await store.enqueue(Record(n=5), JobOptions(priority=-5))
    order = [job.id for job in await store.claim(["default"], "w", 10, 30)]
    assert order == [high, early, low_first, low_second, negative]


async def test_enqueue_order_breaks_ties_within_one_batch(store: Queue) -> None:
    ids = await store.enqueue_many([Record(n=i) for i in range(50)])
    claimed: list[str] = []
    while batch := await store.claim(["default"], "w", 7, 30):
        claimed.extend(job.id for job in batch)
    assert claimed == ids


async def test_delayed_job_is_not_claimed_early(store: Queue, clock: FakeClock) -> None:
    job_id = await store.enqueue(Record(), JobOptions(delay=timedelta(seconds=30)))
    assert await store.claim(["default"], "w", 10, 30) == []
    clock.advance(29.5)
    assert await store.claim(["default"], "w", 10, 30) == []
    clock.advance(1)
    (job,) = await store.claim(["default"], "w", 10, 30)
    assert job.id == job_id


async def test_absolute_time_job_is_not_claimed_early(store: Queue, clock: FakeClock) -> None:
    at = store.now_datetime() + timedelta(hours=2)
    job_id = await store.enqueue(Record(), JobOptions(at=at))
    record = await store.get(job_id)
    assert record is not None and abs((record.run_at - at).total_seconds()) < 0.01
    clock.advance(7199)
    assert await store.claim(["default"], "w", 10, 30) == []
    clock.advance(2)
    assert [j.id for j in await store.claim(["default"], "w", 10, 30)] == [job_id]


async def test_a_due_job_waits_behind_nothing_scheduled(store: Queue, clock: FakeClock) -> None:
    await store.enqueue(Record(n=1), JobOptions(priority=100, delay=60))
    due = await store.enqueue(Record(n=2))
    assert [j.id for j in await store.claim(["default"], "w", 10, 30)] == [due]


async def test_claim_only_from_named_queues(store: Queue) -> None:
    mail = await store.enqueue(Record(), JobOptions(queue="mail"))
    await store.enqueue(Record(), JobOptions(queue="reports"))
    assert await store.claim(["nothing-here"], "w", 10, 30) == []
    assert [j.id for j in await store.claim(["mail", "default"], "w", 10, 30)] == [mail]
    assert len(await store.claim(["reports"], "w", 10, 30)) == 1


async def test_concurrent_claims_never_share_a_job(
    backend: tuple[Queue, OpenStore],
) -> None:
    store, open_another = backend
    ids = await store.enqueue_many([Record(n=i) for i in range(300)])
    claimers = [await open_another() for _ in range(4)]

    async def drain(claimer: Queue, name: str) -> list[str]:
        got: list[str] = []
        while batch := await claimer.claim(["default"], name, 8, 30):
            got.extend(job.id for job in batch)
            await asyncio.sleep(0)
        return got

    results = await asyncio.gather(*(drain(c, f"w{i}") for i, c in enumerate(claimers)))
    claimed = [job_id for got in results for job_id in got]
    assert len(claimed) == len(set(claimed)) == 300
    assert set(claimed) == set(ids)
