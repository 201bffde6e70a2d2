"""Finished jobs expire after their retention, and expired ids are never listed or counted."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime

from backyard import JobError, JobStatus

from ..backends import FakeClock
from ..jobs import Record
from .conftest import MakeStore


def finished_counts(depths: dict[str, dict[JobStatus, int]]) -> tuple[int, int, int]:
    counts = depths.get("default", dict.fromkeys(JobStatus, 0))
    return counts[JobStatus.COMPLETED], counts[JobStatus.DEAD], counts[JobStatus.CANCELLED]


async def test_each_final_status_keeps_its_own_retention(
    make_store: MakeStore, clock: FakeClock
) -> None:
    store = await make_store(clock=clock, completed_ttl=60, dead_ttl=600)
    done_id, dead_id, _ = await store.enqueue_many([Record(n=i) for i in range(3)])
    cancelled_id = await store.enqueue(Record(n=9))
    done, dead, waiting = await store.claim(["default"], "w", 3, 30)
    await store.ack([done])
    await store.fail(dead, JobError(1, datetime.now(UTC), "boom"))
    await store.cancel(cancelled_id)

    # Redis itself drops the hashes (on its own clock) after the retention:
    assert 59_000 < await store.client.pttl(f"{store.prefix}job:{done_id}") <= 60_000
    assert 599_000 < await store.client.pttl(f"{store.prefix}job:{dead_id}") <= 600_000
    assert await store.client.pttl(f"{store.prefix}job:{waiting.id}") == -1  # running: kept

    assert finished_counts(await store.queue_depths()) == (1, 1, 1)
    clock.advance(61)
    # Past the completed retention on the client's clock: gone from every view.
    assert finished_counts(await store.queue_depths()) == (0, 1, 0)
    assert await store.get(done_id) is None
    assert await store.get(cancelled_id) is None
    assert {r.id for r in await store.list()} == {dead_id, waiting.id}
    clock.advance(600)
    assert await store.get(dead_id) is None
    assert [r.id for r in await store.list()] == [waiting.id]


async def test_requeued_job_is_kept_again(make_store: MakeStore, clock: FakeClock) -> None:
    store = await make_store(clock=clock, dead_ttl=60)
    job_id = await store.enqueue(Record())
    (job,) = await store.claim(["default"], "w", 1, 30)
    await store.fail(job, JobError(1, datetime.now(UTC), "boom"))
    assert await store.requeue(job_id)
    assert await store.client.pttl(f"{store.prefix}job:{job_id}") == -1
    clock.advance(120)
    record = await store.get(job_id)
    assert record is not None and record.status is JobStatus.AVAILABLE


async def test_hashes_expired_by_redis_are_not_listed_or_counted(make_store: MakeStore) -> None:
    # A 0.2 s retention on the real clock: Redis expires the hash by itself.
    store = await make_store(completed_ttl=0.2)
    ids = await store.enqueue_many([Record(n=i) for i in range(3)])
    await store.ack(await store.claim(["default"], "w", 2, 30))
    assert finished_counts(await store.queue_depths()) == (2, 0, 0)
    await asyncio.sleep(0.4)
    assert not await store.client.exists(*(f"{store.prefix}job:{i}" for i in ids[:2]))
    assert [r.id for r in await store.list()] == [ids[2]]
    assert await store.list(status=JobStatus.COMPLETED) == []
    assert finished_counts(await store.queue_depths()) == (0, 0, 0)


async def test_expired_by_redis_before_the_clients_clock_says_so(
    make_store: MakeStore, clock: FakeClock
) -> None:
    # The server's clock runs ahead of the (fake, frozen) client clock: the
    # hashes vanish while the client still thinks they are within retention.
    store = await make_store(clock=clock, completed_ttl=0.2)
    await store.enqueue_many([Record(n=i) for i in range(3)])
    await store.ack(await store.claim(["default"], "w", 3, 30))
    await asyncio.sleep(0.4)
    assert finished_counts(await store.queue_depths()) == (0, 0, 0)
    assert await store.list() == []


async def test_acks_forget_expired_jobs_as_they_go(make_store: MakeStore, clock: FakeClock) -> None:
    store = await make_store(clock=clock, completed_ttl=10)
    await store.enqueue_many([Record(n=i) for i in range(30)])
    await store.ack(await store.claim(["default"], "w", 30, 30))
    clock.advance(11)
    await store.enqueue(Record())
    await store.ack(await store.claim(["default"], "w", 1, 30))
    # Each ack forgets as many expired jobs as it completes, plus a margin;
    # no prune or depths call ran.
    index = f"{store.prefix}status:completed:default"
    assert await store.client.zcard(index) < 30


async def test_prune_forgets_empty_queues(make_store: MakeStore, clock: FakeClock) -> None:
    store = await make_store(clock=clock)
    await store.enqueue(Record())
    await store.ack(await store.claim(["default"], "w", 1, 30))
    clock.advance(10)
    assert await store.prune(store.now_datetime()) == 1
    assert await store.client.smembers(f"{store.prefix}queues") == set()
    assert await store.queue_depths() == {}
