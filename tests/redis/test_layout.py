"""Key prefixes, scripts and the multi-chunk push: Redis-specific mechanics."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from backyard import EnqueueRequest, JobOptions, JobStatus
from backyard.backends import redis as redis_backend

from ..backends import FakeClock
from ..jobs import Record
from .conftest import MakeStore


async def test_prefixes_isolate_applications(make_store: MakeStore, prefix: str) -> None:
    one = await make_store()
    before = {k async for k in one.client.scan_iter(match="*", count=1000)}
    two = await make_store(prefix=prefix + "other:")
    await one.enqueue(Record(n=1))
    job_two = await two.enqueue(Record(n=2))
    assert [r.id for r in await two.list()] == [job_two]
    assert (await two.queue_depths())["default"][JobStatus.AVAILABLE] == 1
    (claimed,) = await two.claim(["default"], "w", 10, 30)
    assert claimed.id == job_two
    assert await two.claim(["default"], "w", 10, 30) == []
    assert len(await one.claim(["default"], "w", 10, 30)) == 1

    after = {k async for k in one.client.scan_iter(match="*", count=1000)}
    # Nothing either store wrote lives outside its prefix (other tests may
    # be writing under their own backyard-test- prefixes meanwhile).
    assert any(k.startswith(prefix + "other:") for k in after)
    assert [k for k in after - before if not k.startswith("backyard-test-")] == []


async def test_url_prefix_option(make_store: MakeStore, prefix: str) -> None:
    store = await make_store(url=f"redis://127.0.0.1:6379/0?prefix={prefix}", prefix=None)
    assert store.prefix == prefix
    job_id = await store.enqueue(Record())
    assert await store.client.exists(f"{prefix}job:{job_id}")


@pytest.fixture
def small_chunks(monkeypatch: pytest.MonkeyPatch) -> None:
    """Pushes of more than 1,000 jobs take the multi-chunk path (one MULTI of chunks)."""
    monkeypatch.setattr(redis_backend, "PUSH_CHUNK", 1000)


async def test_scripts_reload_after_script_flush(make_store: MakeStore, small_chunks: None) -> None:
    store = await make_store()
    await store.enqueue(Record(n=1))
    await store.client.script_flush()
    # Every call after the flush meets NOSCRIPT first and must load again.
    await store.enqueue(Record(n=2))
    jobs = await store.claim(["default"], "w", 10, 30)
    assert len(jobs) == 2
    await store.client.script_flush()
    assert await store.ack(jobs) == 2
    await store.client.script_flush()
    ids = await store.push_many(
        [EnqueueRequest(name=Record.NAME, payload=Record(n=i).encode()) for i in range(2500)]
    )
    assert len(ids) == 2500


async def test_big_push_many_is_all_or_none(make_store: MakeStore, small_chunks: None) -> None:
    store = await make_store()
    taken = await store.enqueue(Record(n=0))
    requests = [EnqueueRequest(name=Record.NAME, payload=Record(n=i).encode()) for i in range(2500)]
    requests[2100] = EnqueueRequest(name=Record.NAME, payload="{}", id=taken)
    with pytest.raises(ValueError, match=taken):
        await store.push_many(requests)
    assert [r.id for r in await store.list(limit=10)] == [taken]
    assert await store.get(requests[0].id) is None

    ok = [EnqueueRequest(name=Record.NAME, payload=Record(n=i).encode()) for i in range(2500)]
    assert await store.push_many(ok) == [r.id for r in ok]
    claimed = []
    while batch := await store.claim(["default"], "w", 1000, 30):
        claimed += [job.id for job in batch]
    assert claimed == [taken] + [r.id for r in ok]  # enqueue order across chunks


async def test_a_push_of_mixed_jobs_stores_each_as_given(
    make_store: MakeStore, clock: FakeClock
) -> None:
    # push.lua sends what jobs share once per distinct combination: jobs
    # whose combinations interleave must each keep their own.
    store = await make_store(clock=clock)
    now = datetime.fromtimestamp(clock.now, UTC)
    kinds: list[dict[str, Any]] = [
        {},
        {"queue": "other", "priority": 5, "timeout": 2.5},
        {"max_retries": 0, "run_at": now + timedelta(seconds=60)},
        {"name": "tests.Other", "run_at": now - timedelta(seconds=60)},
        {"priority": -(2**40)},
    ]
    requests = [
        EnqueueRequest(**{"name": Record.NAME, "payload": Record(n=i).encode(), **kinds[i % 5]})
        for i in range(50)
    ]
    assert await store.push_many(requests) == [r.id for r in requests]
    for r in requests:
        record = await store.get(r.id)
        assert record is not None
        assert (record.name, record.payload, record.queue) == (r.name, r.payload, r.queue)
        assert (record.priority, record.max_retries, record.timeout) == (
            r.priority,
            r.max_retries,
            r.timeout,
        )
        assert record.run_at == (r.run_at or now)
        assert record.status is (
            JobStatus.SCHEDULED if r.run_at and r.run_at > now else JobStatus.AVAILABLE
        )

    def order(queue: str) -> list[str]:
        due = [
            (i, r)
            for i, r in enumerate(requests)
            if r.queue == queue and not (r.run_at and r.run_at > now)
        ]
        due.sort(key=lambda pair: (-pair[1].priority, pair[1].run_at or now, pair[0]))
        return [r.id for _, r in due]

    for queue in ("default", "other"):
        assert [job.id for job in await store.claim([queue], "w", 100, 30)] == order(queue)
    clock.advance(61)
    scheduled = [r.id for r in requests if r.run_at and r.run_at > now]
    assert [job.id for job in await store.claim(["default"], "w", 100, 30)] == scheduled


async def test_cancel_and_delete_leave_no_index_entry_behind(
    make_store: MakeStore, clock: FakeClock
) -> None:
    # A job hash leaves out fields at their defaults (run_at = enqueued_at,
    # priority 0): the scripts that rebuild a job's ready-set member from
    # its hash must default them the same way push.lua did.
    store = await make_store(clock=clock)
    ids = [
        await store.enqueue(Record(n=1)),
        await store.enqueue(Record(n=2), JobOptions(priority=3)),
        await store.enqueue(Record(n=3), JobOptions(delay=60)),
        *await store.enqueue_many([Record(n=4), Record(n=5)], JobOptions(priority=-1)),
    ]
    for job_id in ids[:3]:
        assert await store.cancel(job_id)
    for job_id in ids[3:]:
        assert await store.delete(job_id)
    for key in ("ready:default", "scheduled:default", "status:available:default"):
        assert await store.client.zcard(store.prefix + key) == 0, key


async def test_a_push_retried_after_a_lost_reply_is_stored_once(make_store: MakeStore) -> None:
    store = await make_store()
    request = EnqueueRequest(name=Record.NAME, payload=Record(n=1).encode())
    assert await store.push(request) == request.id
    assert await store.push(request) == request.id  # same id, same job: a retry
    assert len(await store.list()) == 1
    with pytest.raises(ValueError, match="already exists"):
        await store.push(EnqueueRequest(name=Record.NAME, payload="{}", id=request.id))


async def test_priorities_beyond_float_precision_keep_order(
    make_store: MakeStore, clock: FakeClock
) -> None:
    store = await make_store(clock=clock)
    ids = [
        await store.enqueue(Record(n=p), JobOptions(priority=p))
        for p in (2**40, -(2**40), 2**40 - 1, 0)
    ]
    order = [job.id for job in await store.claim(["default"], "w", 10, 30)]
    assert order == [ids[0], ids[2], ids[3], ids[1]]


async def test_many_queues_claim_in_global_order(make_store: MakeStore) -> None:
    store = await make_store()
    a1 = await store.enqueue(Record(), JobOptions(queue="a"))
    b1 = await store.enqueue(Record(), JobOptions(queue="b", priority=1))
    a2 = await store.enqueue(Record(), JobOptions(queue="a", priority=1))
    b2 = await store.enqueue(Record(), JobOptions(queue="b"))
    order = [job.id for job in await store.claim(["a", "b"], "w", 3, 30)]
    assert order == [b1, a2, a1]
    assert [job.id for job in await store.claim(["b", "a"], "w", 3, 30)] == [b2]
