"""A real worker against every backend: retries, dead letters, poison, exactly-once claims."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from datetime import timedelta

import pytest

from backyard import EnqueueRequest, JobOptions, JobStatus, Queue, Worker

from ..backends import OpenStore
from ..jobs import (
    OVERLAPS,
    RUNS,
    AlwaysFails,
    Discards,
    FailTimes,
    Parent,
    Record,
    RetriesLater,
    Sleeps,
    SyncWork,
    reset,
)

pytestmark = pytest.mark.asyncio


@pytest.fixture(autouse=True)
def _fresh_runs() -> Iterator[None]:
    reset()
    yield
    reset()


def worker(store: Queue, **kwargs: object) -> Worker:
    options: dict[str, object] = {
        "queues": ["default"],
        "concurrency": 5,
        "poll_interval": 0.02,
        "lease": 5.0,
        "stop_when_empty": True,
    }
    options.update(kwargs)
    return Worker(store, **options)  # type: ignore[arg-type]


async def run(worker: Worker, timeout: float = 20) -> None:
    await asyncio.wait_for(worker.run(install_signal_handlers=False), timeout)


async def test_runs_jobs_to_completion(live_store: Queue) -> None:
    ids = await live_store.enqueue_many([Record(n=i) for i in range(40)])
    w = worker(live_store)
    await run(w)
    assert all(RUNS[i] == 1 for i in ids)
    assert w.counters.completed == 40
    for job_id in ids[:3]:
        record = await live_store.get(job_id)
        assert record is not None and record.status is JobStatus.COMPLETED


async def test_failures_are_retried_with_attempt_counts(live_store: Queue) -> None:
    job_id = await live_store.enqueue(FailTimes(failures=2))
    await run(worker(live_store))
    record = await live_store.get(job_id)
    assert record is not None
    assert record.status is JobStatus.COMPLETED
    assert record.attempt == 3
    assert RUNS[job_id] == 3
    assert [e.attempt for e in record.errors] == [1, 2]
    assert record.errors[0].message == "RuntimeError: planned failure 1"
    assert record.errors[0].traceback and "planned failure" in record.errors[0].traceback


async def test_backoff_grows_between_retries(live_store: Queue) -> None:
    job_id = await live_store.enqueue(FailTimes(failures=3), JobOptions(max_retries=5))
    await run(worker(live_store))
    record = await live_store.get(job_id)
    assert record is not None and record.status is JobStatus.COMPLETED
    times = [e.at for e in record.errors]
    assert times == sorted(times)


async def test_dead_after_max_retries(live_store: Queue) -> None:
    job_id = await live_store.enqueue(AlwaysFails())  # its options(): max_retries=2
    w = worker(live_store)
    await run(w)
    record = await live_store.get(job_id)
    assert record is not None
    assert record.status is JobStatus.DEAD
    assert record.attempt == 3
    assert RUNS[job_id] == 3
    assert len(record.errors) == 3
    assert record.errors[-1].message == "ValueError: always <b>fails</b>"
    assert (w.counters.retried, w.counters.dead) == (2, 1)


async def test_max_retries_zero_means_one_attempt(live_store: Queue) -> None:
    job_id = await live_store.enqueue(FailTimes(failures=5), JobOptions(max_retries=0))
    await run(worker(live_store))
    record = await live_store.get(job_id)
    assert record is not None and record.status is JobStatus.DEAD
    assert RUNS[job_id] == 1


async def test_discard_goes_to_dead_without_retrying(live_store: Queue) -> None:
    job_id = await live_store.enqueue(Discards())
    await run(worker(live_store))
    record = await live_store.get(job_id)
    assert record is not None and record.status is JobStatus.DEAD
    assert RUNS[job_id] == 1
    assert record.errors[-1].message == "discarded: not worth retrying"


async def test_explicit_retry_at_a_chosen_time(live_store: Queue) -> None:
    job_id = await live_store.enqueue(RetriesLater(delay=0.3))
    w = worker(live_store)
    task = asyncio.create_task(run(w))
    record = None
    for _ in range(200):
        record = await live_store.get(job_id)
        assert record is not None
        if record.errors:
            break
        await asyncio.sleep(0.01)
    assert record is not None
    assert record.status is JobStatus.SCHEDULED
    first = record.errors[0]
    assert first.message == "come back later"
    gap = (record.run_at - first.at).total_seconds()
    assert 0.25 <= gap <= 0.5
    await task
    record = await live_store.get(job_id)
    assert record is not None and record.status is JobStatus.COMPLETED
    assert RUNS[job_id] == 2


async def test_timeout_fails_the_attempt(live_store: Queue) -> None:
    job_id = await live_store.enqueue(Sleeps(seconds=5), JobOptions(timeout=0.05, max_retries=1))
    await run(worker(live_store))
    record = await live_store.get(job_id)
    assert record is not None
    assert record.status is JobStatus.DEAD
    assert [e.message for e in record.errors] == [
        "JobTimeout: ran longer than its timeout of 0.05s"
    ] * 2


async def test_poison_payload_and_unknown_name_go_to_dead(live_store: Queue) -> None:
    bad_payload = await live_store.push(
        EnqueueRequest(name=Record.NAME, payload='{"n": "not a number"}')
    )
    not_json = await live_store.push(EnqueueRequest(name=Record.NAME, payload="{{{"))
    unknown = await live_store.push(EnqueueRequest(name="NoSuchJob", payload="{}"))
    good = await live_store.enqueue_many([Record(n=i) for i in range(10)])
    w = worker(live_store)
    await run(w)
    for job_id in good:
        assert RUNS[job_id] == 1
    payload = await live_store.get(bad_payload)
    assert payload is not None and payload.status is JobStatus.DEAD
    assert payload.attempt == 1  # no retries: retrying cannot fix it
    message = payload.errors[-1].message
    assert "tests.Record" in message and "n:" in message
    garbled = await live_store.get(not_json)
    assert garbled is not None and garbled.status is JobStatus.DEAD
    missing = await live_store.get(unknown)
    assert missing is not None and missing.status is JobStatus.DEAD
    assert "NoSuchJob" in missing.errors[-1].message
    assert "no job class is registered" in missing.errors[-1].message


async def test_sync_jobs_run_in_threads_and_enqueue(live_store: Queue) -> None:
    await live_store.enqueue(SyncWork(value=3))
    await run(worker(live_store))
    assert sum(RUNS.values()) == 4
    depths = await live_store.queue_depths()
    assert depths["default"][JobStatus.COMPLETED] == 4


async def test_jobs_enqueue_follow_ups(live_store: Queue) -> None:
    await live_store.enqueue(Parent(children=5))
    await run(worker(live_store, queues=["default", "children"]))
    depths = await live_store.queue_depths()
    assert depths["children"][JobStatus.COMPLETED] == 5
    assert sum(RUNS.values()) == 6


async def test_two_workers_never_run_one_job_twice(live_backend: tuple[Queue, OpenStore]) -> None:
    store, open_another = live_backend
    ids = await store.enqueue_many([Record(n=i, sleep=0.001) for i in range(400)])
    other = await open_another()
    a = worker(store, concurrency=8)
    b = worker(other, concurrency=8)
    await asyncio.gather(run(a, 60), run(b, 60))
    assert OVERLAPS == []
    assert [RUNS[i] for i in ids] == [1] * 400
    assert a.counters.completed + b.counters.completed == 400


async def test_graceful_stop_gives_unfinished_jobs_back(live_store: Queue) -> None:
    slow = await live_store.enqueue(Sleeps(seconds=30))
    quick = await live_store.enqueue(Sleeps(seconds=0.05))
    w = worker(live_store, stop_when_empty=False, shutdown_grace=0.3)
    task = asyncio.create_task(run(w))
    while RUNS[slow] == 0 or RUNS[quick] == 0:
        await asyncio.sleep(0.01)
    w.stop()
    await task
    finished = await live_store.get(quick)
    assert finished is not None and finished.status is JobStatus.COMPLETED
    returned = await live_store.get(slow)
    assert returned is not None
    assert returned.status is JobStatus.AVAILABLE
    assert returned.attempt == 0
    assert await live_store.workers() == []


async def test_worker_registers_itself_while_running(live_store: Queue) -> None:
    await live_store.enqueue(Sleeps(seconds=0.5))
    w = worker(live_store, concurrency=3, queues=["default", "other"])
    task = asyncio.create_task(run(w))
    seen = []
    for _ in range(100):
        seen = await live_store.workers()
        if seen:
            break
        await asyncio.sleep(0.01)
    await task
    assert [info.id for info in seen] == [w.id]
    assert seen[0].queues == ("default", "other") and seen[0].concurrency == 3


async def test_delayed_jobs_run_when_due(live_store: Queue) -> None:
    job_id = await live_store.enqueue(Record(), JobOptions(delay=timedelta(milliseconds=300)))
    w = worker(live_store)
    await run(w)
    record = await live_store.get(job_id)
    assert record is not None and record.status is JobStatus.COMPLETED
    assert record.started_at is not None
    assert (record.started_at - record.enqueued_at).total_seconds() >= 0.29


async def test_an_idle_worker_wakes_for_a_scheduled_job_on_time(live_store: Queue) -> None:
    job_id = await live_store.enqueue(Record(), JobOptions(delay=timedelta(milliseconds=500)))
    w = worker(live_store, poll_interval=30, stop_when_empty=False)  # no poll would come in time
    task = asyncio.create_task(run(w))
    deadline = asyncio.get_running_loop().time() + 10
    while RUNS[job_id] == 0 and asyncio.get_running_loop().time() < deadline:
        await asyncio.sleep(0.02)
    w.stop()
    await task
    assert RUNS[job_id] == 1
