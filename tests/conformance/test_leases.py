"""Leases: completion by the holder only, heartbeats, rescue, release."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from backyard import JobError, JobOptions, JobStatus, Queue

from ..backends import FakeClock
from ..jobs import Record

pytestmark = pytest.mark.asyncio


def error(attempt: int = 1, message: str = "boom") -> JobError:
    return JobError(attempt=attempt, at=datetime.now(UTC), message=message, traceback="Traceback…")


async def test_ack_completes(store: Queue) -> None:
    job_id = await store.enqueue(Record())
    (job,) = await store.claim(["default"], "w", 1, 30)
    assert await store.ack([job]) == 1
    record = await store.get(job_id)
    assert record is not None
    assert record.status is JobStatus.COMPLETED
    assert record.finished_at is not None
    assert record.lease_expires_at is None
    assert await store.ack([job]) == 0  # already done


async def test_retry_schedules_and_records_the_error(store: Queue, clock: FakeClock) -> None:
    job_id = await store.enqueue(Record())
    (job,) = await store.claim(["default"], "w", 1, 30)
    run_at = store.now_datetime() + timedelta(seconds=20)
    assert await store.retry(job, run_at, error(1, "first")) is True
    record = await store.get(job_id)
    assert record is not None
    assert record.status is JobStatus.SCHEDULED
    assert record.attempt == 1
    assert [(e.attempt, e.message, e.traceback) for e in record.errors] == [
        (1, "first", "Traceback…")
    ]
    assert await store.claim(["default"], "w", 1, 30) == []
    clock.advance(21)
    (again,) = await store.claim(["default"], "w", 1, 30)
    assert again.attempt == 2
    assert await store.retry(again, store.now_datetime(), error(2, "second"))
    record = await store.get(job_id)
    assert record is not None
    assert [e.message for e in record.errors] == ["first", "second"]


async def test_fail_sends_to_dead(store: Queue) -> None:
    job_id = await store.enqueue(Record())
    (job,) = await store.claim(["default"], "w", 1, 30)
    assert await store.fail(job, error(1, "fatal <script>")) is True
    record = await store.get(job_id)
    assert record is not None
    assert record.status is JobStatus.DEAD
    assert record.finished_at is not None
    assert record.last_error is not None and record.last_error.message == "fatal <script>"


async def test_only_the_current_attempt_can_finish_a_job(store: Queue, clock: FakeClock) -> None:
    job_id = await store.enqueue(Record())
    (stale,) = await store.claim(["default"], "slow-worker", 1, lease=10)
    clock.advance(11)
    assert (await store.rescue()).requeued == 1
    (current,) = await store.claim(["default"], "other-worker", 1, lease=10)
    assert current.attempt == 2
    # The first worker wakes up late: none of its writes may touch the job.
    assert await store.ack([stale]) == 0
    assert await store.retry(stale, store.now_datetime(), error()) is False
    assert await store.fail(stale, error()) is False
    assert await store.release([stale]) == 0
    record = await store.get(job_id)
    assert record is not None and record.status is JobStatus.RUNNING
    assert record.worker_id == "other-worker"
    assert await store.ack([current]) == 1


async def test_heartbeat_extends_leases_of_the_holder_only(store: Queue, clock: FakeClock) -> None:
    await store.enqueue_many([Record(n=1), Record(n=2)])
    a, b = await store.claim(["default"], "w1", 2, lease=10)
    clock.advance(8)
    assert sorted(await store.heartbeat([a.id, b.id], "w1", lease=10)) == sorted([a.id, b.id])
    assert await store.heartbeat([a.id], "someone-else", lease=10) == []
    clock.advance(8)  # 16s after the claim, 8s after the heartbeat
    assert await store.rescue() == type(await store.rescue())(requeued=0, dead=0)
    record = await store.get(a.id)
    assert record is not None and record.status is JobStatus.RUNNING
    clock.advance(3)
    result = await store.rescue()
    assert result.requeued == 2 and result.dead == 0
    assert await store.heartbeat([a.id], "w1", lease=10) == []


async def test_rescue_returns_expired_jobs_with_an_error(store: Queue, clock: FakeClock) -> None:
    job_id = await store.enqueue(Record())
    await store.claim(["default"], "crashed-worker", 1, lease=5)
    clock.advance(6)
    result = await store.rescue()
    assert (result.requeued, result.dead) == (1, 0)
    record = await store.get(job_id)
    assert record is not None
    assert record.status is JobStatus.AVAILABLE
    assert record.attempt == 1
    assert record.last_error is not None
    assert "lease expired" in record.last_error.message
    assert "crashed-worker" in record.last_error.message
    assert (await store.rescue()).requeued == 0


async def test_rescue_sends_exhausted_jobs_to_dead(store: Queue, clock: FakeClock) -> None:
    job_id = await store.enqueue(Record(), JobOptions(max_retries=1))
    for _ in range(2):
        (_job,) = await store.claim(["default"], "w", 1, lease=5)
        clock.advance(6)
        await store.rescue()
    record = await store.get(job_id)
    assert record is not None
    assert record.status is JobStatus.DEAD
    assert record.attempt == 2
    assert len(record.errors) == 2


async def test_release_gives_jobs_back_unrun(store: Queue, clock: FakeClock) -> None:
    job_id = await store.enqueue(Record(), JobOptions(delay=0))
    (job,) = await store.claim(["default"], "w", 1, 30)
    assert await store.release([job]) == 1
    record = await store.get(job_id)
    assert record is not None
    assert record.status is JobStatus.AVAILABLE
    assert record.attempt == 0
    assert record.errors == ()
    (again,) = await store.claim(["default"], "w", 1, 30)
    assert again.attempt == 1
