"""``memory://``: the reference backend, held in one process's memory.

For tests and experiments: fast, exact, and gone when the process exits.
Every other backend must behave like this one (the conformance suite runs
the same tests against all of them).
"""

from __future__ import annotations

import builtins
import heapq
import itertools
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime

from .._queue import Queue
from .._records import (
    FINAL_STATUSES,
    EnqueueRequest,
    JobError,
    JobRecord,
    JobStatus,
    RescueResult,
    StatsBucket,
    WorkerInfo,
    from_timestamp,
    lease_expired_error,
    to_timestamp,
)

# Stored statuses: "scheduled" is never stored, only reported for a waiting
# job whose run_at is still in the future.
_WAITING = JobStatus.AVAILABLE


@dataclass(slots=True)
class _Job:
    id: str
    seq: int
    name: str
    queue: str
    payload: str
    status: JobStatus
    priority: int
    attempt: int
    max_retries: int
    run_at: float
    enqueued_at: float
    timeout: float | None
    started_at: float | None = None
    finished_at: float | None = None
    lease_expires_at: float | None = None
    worker_id: str | None = None
    errors: list[JobError] = field(default_factory=list)

    def record(self, now: float) -> JobRecord:
        status = self.status
        if status is _WAITING and self.run_at > now:
            status = JobStatus.SCHEDULED
        return JobRecord(
            id=self.id,
            name=self.name,
            queue=self.queue,
            payload=self.payload,
            status=status,
            priority=self.priority,
            attempt=self.attempt,
            max_retries=self.max_retries,
            run_at=from_timestamp(self.run_at),
            enqueued_at=from_timestamp(self.enqueued_at),
            timeout=self.timeout,
            started_at=_dt(self.started_at),
            finished_at=_dt(self.finished_at),
            lease_expires_at=_dt(self.lease_expires_at),
            worker_id=self.worker_id,
            errors=tuple(self.errors),
        )

    def sort_key(self) -> tuple[int, float, int]:
        return (-self.priority, self.run_at, self.seq)


def _dt(value: float | None) -> datetime | None:
    return None if value is None else from_timestamp(value)


class MemoryQueue(Queue):
    schemes = ("memory",)

    def __init__(self, url: str = "memory://", **kwargs: object) -> None:
        super().__init__(url, **kwargs)  # type: ignore[arg-type]
        self._jobs: dict[str, _Job] = {}
        # Per queue, waiting jobs as (sort key, id): due ones in a heap by claim
        # order, future ones in a heap by run_at until they come due. Entries go
        # stale when a job leaves the waiting state; claim skips those.
        self._ready: dict[str, list[tuple[tuple[int, float, int], str]]] = {}
        self._scheduled: dict[str, list[tuple[float, str]]] = {}
        self._seq = itertools.count()
        self._workers: dict[str, tuple[WorkerInfo, float]] = {}
        self._stats: dict[tuple[int, str], list[int]] = {}

    # -- helpers ------------------------------------------------------------

    def _make_waiting(self, job: _Job) -> None:
        job.status = _WAITING
        if job.run_at > self.now():
            heapq.heappush(self._scheduled.setdefault(job.queue, []), (job.run_at, job.id))
        else:
            heapq.heappush(self._ready.setdefault(job.queue, []), (job.sort_key(), job.id))

    def _promote_due(self, queue: str, now: float) -> None:
        scheduled = self._scheduled.get(queue)
        ready = self._ready.setdefault(queue, [])
        while scheduled and scheduled[0][0] <= now:
            run_at, job_id = heapq.heappop(scheduled)
            job = self._jobs.get(job_id)
            if job is not None and job.status is _WAITING and job.run_at == run_at:
                heapq.heappush(ready, (job.sort_key(), job_id))

    def _held(self, record: JobRecord) -> _Job | None:
        job = self._jobs.get(record.id)
        if job is None or job.status is not JobStatus.RUNNING or job.attempt != record.attempt:
            return None
        return job

    def _count(self, queue: str, column: int, now: float) -> None:
        minute = int(now // 60) * 60
        self._stats.setdefault((minute, queue), [0, 0, 0])[column] += 1

    def _finish(self, job: _Job, status: JobStatus, now: float) -> None:
        job.status = status
        job.finished_at = now
        job.lease_expires_at = None

    async def wait_for_work(self, queues: Sequence[str], timeout: float) -> None:
        """A local push, the next scheduled job of ``queues`` coming due, or ``timeout``."""
        now = self.now()
        for queue in queues:
            heap = self._scheduled.get(queue)
            while heap:  # drop entries of jobs that have moved on
                run_at, job_id = heap[0]
                job = self._jobs.get(job_id)
                if job is not None and job.status is _WAITING and job.run_at == run_at:
                    timeout = min(timeout, max(0.0, run_at - now))
                    break
                heapq.heappop(heap)
        await super().wait_for_work(queues, timeout)

    # -- primitives ---------------------------------------------------------

    async def push(self, request: EnqueueRequest) -> str:
        return self._push(request, self.now())

    def _push(self, request: EnqueueRequest, now: float) -> str:
        if request.id in self._jobs:
            raise ValueError(f"job id {request.id} already exists")
        job = _Job(
            id=request.id,
            seq=next(self._seq),
            name=request.name,
            queue=request.queue,
            payload=request.payload,
            status=_WAITING,
            priority=request.priority,
            attempt=0,
            max_retries=request.max_retries,
            run_at=now if request.run_at is None else to_timestamp(request.run_at),
            enqueued_at=now,
            timeout=request.timeout,
        )
        self._jobs[job.id] = job
        self._make_waiting(job)
        return job.id

    async def push_many(self, requests: Sequence[EnqueueRequest]) -> list[str]:
        now = self.now()
        ids = {r.id for r in requests}
        if len(ids) != len(requests) or any(i in self._jobs for i in ids):
            raise ValueError("push_many: duplicate job ids")
        return [self._push(request, now) for request in requests]

    async def claim(
        self, queues: Sequence[str], worker_id: str, limit: int, lease: float
    ) -> list[JobRecord]:
        now = self.now()
        claimed: list[JobRecord] = []
        names = list(dict.fromkeys(queues))
        for queue in names:
            self._promote_due(queue, now)
        heaps = [self._ready[q] for q in names if q in self._ready]
        while len(claimed) < limit:
            best: list[tuple[tuple[int, float, int], str]] | None = None
            for heap in heaps:
                # Drop stale entries: jobs no longer waiting, or re-pushed with a new key.
                while heap:
                    key, job_id = heap[0]
                    job = self._jobs.get(job_id)
                    if job is not None and job.status is _WAITING and job.sort_key() == key:
                        break
                    heapq.heappop(heap)
                if heap and (best is None or heap[0] < best[0]):
                    best = heap
            if best is None:
                break
            _, job_id = heapq.heappop(best)
            job = self._jobs[job_id]
            job.status = JobStatus.RUNNING
            job.attempt += 1
            job.worker_id = worker_id
            job.started_at = now
            job.lease_expires_at = now + lease
            claimed.append(job.record(now))
        return claimed

    async def ack(self, jobs: Sequence[JobRecord]) -> int:
        now = self.now()
        count = 0
        for record in jobs:
            job = self._held(record)
            if job is not None:
                self._finish(job, JobStatus.COMPLETED, now)
                self._count(job.queue, 0, now)
                count += 1
        return count

    async def retry(self, job: JobRecord, run_at: datetime, error: JobError) -> bool:
        held = self._held(job)
        if held is None:
            return False
        held.errors.append(error)
        held.run_at = to_timestamp(run_at)
        held.lease_expires_at = None
        self._make_waiting(held)
        self._count(held.queue, 1, self.now())
        return True

    async def fail(self, job: JobRecord, error: JobError) -> bool:
        held = self._held(job)
        if held is None:
            return False
        now = self.now()
        held.errors.append(error)
        self._finish(held, JobStatus.DEAD, now)
        self._count(held.queue, 2, now)
        return True

    async def release(self, jobs: Sequence[JobRecord]) -> int:
        now = self.now()
        count = 0
        for record in jobs:
            job = self._held(record)
            if job is not None:
                job.attempt -= 1
                job.run_at = now
                job.lease_expires_at = None
                self._make_waiting(job)
                count += 1
        return count

    async def heartbeat(self, job_ids: Sequence[str], worker_id: str, lease: float) -> list[str]:
        now = self.now()
        held = []
        for job_id in job_ids:
            job = self._jobs.get(job_id)
            if job and job.status is JobStatus.RUNNING and job.worker_id == worker_id:
                job.lease_expires_at = now + lease
                held.append(job_id)
        return held

    async def rescue(self) -> RescueResult:
        now = self.now()
        requeued = dead = 0
        for job in list(self._jobs.values()):
            if job.status is not JobStatus.RUNNING or (job.lease_expires_at or now) >= now:
                continue
            if job.attempt > job.max_retries:
                job.errors.append(lease_expired_error(job.attempt, job.worker_id, now))
                self._finish(job, JobStatus.DEAD, now)
                self._count(job.queue, 2, now)
                dead += 1
            else:
                job.errors.append(lease_expired_error(job.attempt, job.worker_id, now))
                job.run_at = now
                job.lease_expires_at = None
                self._make_waiting(job)
                self._count(job.queue, 1, now)
                requeued += 1
        return RescueResult(requeued=requeued, dead=dead)

    async def get(self, job_id: str) -> JobRecord | None:
        job = self._jobs.get(job_id)
        return None if job is None else job.record(self.now())

    async def list(
        self,
        queue: str | None = None,
        status: JobStatus | None = None,
        limit: int = 50,
        offset: int = 0,
    ) -> list[JobRecord]:
        now = self.now()
        records = [
            record
            for job in self._jobs.values()
            if queue is None or job.queue == queue
            for record in (job.record(now),)
            if status is None or record.status is status
        ]
        records.sort(key=lambda r: self._jobs[r.id].seq, reverse=True)
        return records[offset : offset + limit]

    async def queue_depths(self) -> dict[str, dict[JobStatus, int]]:
        now = self.now()
        depths: dict[str, dict[JobStatus, int]] = {}
        for job in self._jobs.values():
            counts = depths.setdefault(job.queue, dict.fromkeys(JobStatus, 0))
            counts[job.record(now).status] += 1
        return depths

    async def cancel(self, job_id: str) -> bool:
        job = self._jobs.get(job_id)
        if job is None or job.status is not _WAITING:
            return False
        self._finish(job, JobStatus.CANCELLED, self.now())
        return True

    async def requeue(self, job_id: str) -> bool:
        job = self._jobs.get(job_id)
        if job is None or job.status not in (JobStatus.DEAD, JobStatus.CANCELLED):
            return False
        job.attempt = 0
        job.run_at = self.now()
        job.finished_at = None
        self._make_waiting(job)
        return True

    async def delete(self, job_id: str) -> bool:
        job = self._jobs.get(job_id)
        if job is None or job.status is JobStatus.RUNNING:
            return False
        del self._jobs[job_id]
        return True

    async def prune(self, before: datetime) -> int:
        cutoff = to_timestamp(before)
        doomed = [
            job.id
            for job in self._jobs.values()
            if job.status in FINAL_STATUSES and (job.finished_at or 0) < cutoff
        ]
        for job_id in doomed:
            del self._jobs[job_id]
        return len(doomed)

    async def register_worker(self, info: WorkerInfo, ttl: float) -> None:
        self._workers[info.id] = (info, self.now() + ttl)

    async def unregister_worker(self, worker_id: str) -> None:
        self._workers.pop(worker_id, None)

    async def workers(self) -> builtins.list[WorkerInfo]:
        now = self.now()
        return sorted(
            (info for info, expires in self._workers.values() if expires >= now),
            key=lambda info: info.started_at,
        )

    async def stats(self, since: datetime) -> builtins.list[StatsBucket]:
        cutoff = to_timestamp(since)
        return [
            StatsBucket(from_timestamp(minute), queue, *counts)
            for (minute, queue), counts in sorted(self._stats.items())
            if minute + 60 > cutoff
        ]
