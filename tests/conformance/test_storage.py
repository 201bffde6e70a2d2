"""Storing, finding and managing jobs: the non-worker half of the contract."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from backyard import EnqueueRequest, JobError, JobOptions, JobStatus, Queue, WorkerInfo

from ..backends import FakeClock
from ..jobs import Record

pytestmark = pytest.mark.asyncio


def request(**overrides: object) -> EnqueueRequest:
    fields: dict[str, object] = {"name": Record.NAME, "payload": Record(n=1).encode()}
    fields.update(overrides)
    return EnqueueRequest(**fields)  # type: ignore[arg-type]


async def test_enqueue_then_get_returns_what_was_stored(store: Queue) -> None:
    job_id = await store.enqueue(
        Record(n=7), JobOptions(queue="mail", priority=5, max_retries=9, timeout=12)
    )
    record = await store.get(job_id)
    assert record is not None
    assert record.id == job_id
    assert record.name == "tests.Record"
    assert Record.model_validate_json(record.payload) == Record(n=7)
    assert record.queue == "mail"
    assert record.priority == 5
    assert record.max_retries == 9
    assert record.timeout == 12
    assert record.status is JobStatus.AVAILABLE
    assert record.attempt == 0
    assert record.errors == ()
    assert record.finished_at is None
    assert abs(record.enqueued_at.timestamp() - store.now()) < 1
    assert abs(record.run_at.timestamp() - store.now()) < 1


async def test_get_unknown_id_is_none(store: Queue) -> None:
    assert await store.get("00000000-0000-7000-8000-000000000000") is None


async def test_defaults_come_from_the_job_type_then_globals(store: Queue) -> None:
    record = await store.get(await store.enqueue(Record()))
    assert record is not None
    assert (record.queue, record.priority, record.max_retries, record.timeout) == (
        "default",
        0,
        3,
        None,
    )


async def test_delayed_job_is_scheduled(store: Queue, clock: FakeClock) -> None:
    job_id = await store.enqueue(Record(), JobOptions(delay=timedelta(minutes=5)))
    record = await store.get(job_id)
    assert record is not None
    assert record.status is JobStatus.SCHEDULED
    assert abs(record.run_at.timestamp() - (clock.now + 300)) < 0.01
    clock.advance(301)
    record = await store.get(job_id)
    assert record is not None and record.status is JobStatus.AVAILABLE


async def test_push_many_keeps_order_and_ids(store: Queue) -> None:
    requests = [request(payload=Record(n=i).encode()) for i in range(250)]
    ids = await store.push_many(requests)
    assert ids == [r.id for r in requests]
    listed = await store.list(limit=1000)
    assert len(listed) == 250
    # newest enqueued first
    assert [r.id for r in listed] == list(reversed(ids))


async def test_enqueue_many(store: Queue) -> None:
    ids = await store.enqueue_many([Record(n=i) for i in range(3)], JobOptions(queue="bulk"))
    assert len(set(ids)) == 3
    depths = await store.queue_depths()
    assert depths["bulk"][JobStatus.AVAILABLE] == 3


async def test_list_filters_by_queue_and_status_with_paging(store: Queue) -> None:
    for i in range(5):
        await store.enqueue(Record(n=i), JobOptions(queue="a"))
    for i in range(3):
        await store.enqueue(Record(n=i), JobOptions(queue="b", delay=60))
    assert len(await store.list(queue="a")) == 5
    assert len(await store.list(queue="b", status=JobStatus.SCHEDULED)) == 3
    assert await store.list(queue="b", status=JobStatus.AVAILABLE) == []
    assert len(await store.list(status=JobStatus.AVAILABLE)) == 5
    page1 = await store.list(queue="a", limit=2)
    page2 = await store.list(queue="a", limit=2, offset=2)
    page3 = await store.list(queue="a", limit=2, offset=4)
    ids = [r.id for r in page1 + page2 + page3]
    assert len(ids) == 5 and len(set(ids)) == 5


async def test_queue_depths_counts_every_status(store: Queue, clock: FakeClock) -> None:
    await store.enqueue(Record(), JobOptions(queue="q"))
    await store.enqueue(Record(), JobOptions(queue="q"))
    await store.enqueue(Record(), JobOptions(queue="q", delay=100))
    cancelled = await store.enqueue(Record(), JobOptions(queue="q"))
    await store.cancel(cancelled)
    _running, done = await store.claim(["q"], "w1", 2, lease=30)
    await store.ack([done])
    depths = await store.queue_depths()
    assert set(depths["q"]) == set(JobStatus)
    assert depths["q"] == {
        JobStatus.SCHEDULED: 1,
        JobStatus.AVAILABLE: 0,
        JobStatus.RUNNING: 1,
        JobStatus.COMPLETED: 1,
        JobStatus.DEAD: 0,
        JobStatus.CANCELLED: 1,
    }


async def test_cancel_only_waiting_jobs(store: Queue) -> None:
    waiting = await store.enqueue(Record())
    assert await store.cancel(waiting) is True
    record = await store.get(waiting)
    assert record is not None and record.status is JobStatus.CANCELLED
    assert record.finished_at is not None
    assert await store.cancel(waiting) is False
    assert await store.claim(["default"], "w", 1, 30) == []  # a cancelled job is never claimed

    running_id = await store.enqueue(Record())
    await store.claim(["default"], "w", 1, 30)
    assert await store.cancel(running_id) is False
    assert await store.cancel("00000000-0000-7000-8000-000000000000") is False


async def test_requeue_dead_and_cancelled(store: Queue) -> None:
    job_id = await store.enqueue(Record(), JobOptions(max_retries=0))
    (job,) = await store.claim(["default"], "w", 1, 30)
    error = JobError(attempt=1, at=datetime.now(UTC), message="boom", traceback="tb")
    assert await store.fail(job, error)
    dead = await store.get(job_id)
    assert dead is not None and dead.status is JobStatus.DEAD
    assert await store.requeue(job_id) is True
    again = await store.get(job_id)
    assert again is not None
    assert again.status is JobStatus.AVAILABLE
    assert again.attempt == 0
    assert again.finished_at is None
    assert [e.message for e in again.errors] == ["boom"]  # history is kept
    assert await store.requeue(job_id) is False  # not dead any more
    (job,) = await store.claim(["default"], "w", 1, 30)
    assert job.id == job_id and job.attempt == 1


async def test_requeue_dead_in_bulk(store: Queue) -> None:
    ids = []
    for queue in ("a", "a", "b"):
        ids.append(await store.enqueue(Record(), JobOptions(queue=queue)))
    for job in await store.claim(["a", "b"], "w", 3, 30):
        await store.fail(job, JobError(1, datetime.now(UTC), "x"))
    assert await store.requeue_dead(queue="a") == 2
    assert (await store.queue_depths())["b"][JobStatus.DEAD] == 1
    assert await store.requeue_dead() == 1
    assert (await store.queue_depths())["b"][JobStatus.AVAILABLE] == 1


async def test_delete(store: Queue) -> None:
    job_id = await store.enqueue(Record())
    assert await store.delete(job_id) is True
    assert await store.get(job_id) is None
    assert await store.delete(job_id) is False
    running_id = await store.enqueue(Record())
    await store.claim(["default"], "w", 1, 30)
    assert await store.delete(running_id) is False


async def test_prune_removes_only_old_finished_jobs(store: Queue, clock: FakeClock) -> None:
    old_done = await store.enqueue(Record())
    old_dead = await store.enqueue(Record())
    waiting = await store.enqueue(Record(), JobOptions(delay=10_000))
    done, dead = await store.claim(["default"], "w", 2, 30)
    await store.ack([done])
    await store.fail(dead, JobError(1, datetime.now(UTC), "x"))
    clock.advance(3600)
    recent = await store.enqueue(Record())
    (recent_job,) = await store.claim(["default"], "w", 1, 30)
    await store.ack([recent_job])
    pruned = await store.prune(store.now_datetime() - timedelta(minutes=30))
    assert pruned == 2
    assert await store.get(old_done) is None
    assert await store.get(old_dead) is None
    assert await store.get(waiting) is not None
    assert await store.get(recent) is not None


async def test_worker_registry(store: Queue, clock: FakeClock) -> None:
    now = store.now_datetime()
    info = WorkerInfo(
        id="w-1",
        host="box",
        pid=42,
        queues=("default", "mail"),
        concurrency=10,
        started_at=now,
        last_seen=now,
        running=3,
        processed=100,
        failed=2,
    )
    await store.register_worker(info, ttl=30)
    (seen,) = await store.workers()
    assert seen.id == "w-1"
    assert seen.queues == ("default", "mail")
    assert (seen.running, seen.processed, seen.failed, seen.pid) == (3, 100, 2, 42)
    clock.advance(31)
    assert await store.workers() == []
    await store.register_worker(info, ttl=30)
    assert len(await store.workers()) == 1
    await store.unregister_worker("w-1")
    assert await store.workers() == []


async def test_stats_count_outcomes_per_minute(store: Queue) -> None:
    for _ in range(3):
        await store.enqueue(Record(), JobOptions(queue="s"))
    a, b, c = await store.claim(["s"], "w", 3, 30)
    await store.ack([a])
    error = JobError(1, datetime.now(UTC), "x")
    await store.retry(b, store.now_datetime(), error)
    await store.fail(c, error)
    buckets = [
        b for b in await store.stats(store.now_datetime() - timedelta(minutes=5)) if b.queue == "s"
    ]
    assert sum(b.completed for b in buckets) == 1
    assert sum(b.failed for b in buckets) == 1
    assert sum(b.dead for b in buckets) == 1
    assert all(b.minute.second == 0 for b in buckets)
