"""The storage contract: one abstract ``Queue`` that every backend implements.

Backends store and claim. They hold no retry policy, no timeouts and no
dispatch: everything above this contract (options, encoding, the worker)
exists once. The public methods at the top of the class build on the
primitives below them; a backend fills in the primitives only.

Every time a backend needs ("now") comes from ``self.now()``, so tests can
move a fake clock instead of sleeping.
"""

from __future__ import annotations

import asyncio
import builtins
import contextlib
import threading
import time
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterable, Iterator, Sequence
from datetime import datetime, timedelta
from types import TracebackType
from typing import Any, Self

from pydantic import BaseModel

from ._errors import ConfigurationError
from ._job import Job
from ._options import JobOptions
from ._records import (
    EnqueueRequest,
    JobError,
    JobRecord,
    JobStatus,
    RescueResult,
    StatsBucket,
    WorkerInfo,
    from_timestamp,
    new_job_id,
    new_job_ids,
    request_maker,
)

Clock = Callable[[], float]


def build_request(
    job: Job, options: JobOptions | None = None, now: datetime | None = None
) -> EnqueueRequest:
    """Resolve a job's options (enqueue-time over type defaults over global ones)."""
    return _request_factory(type(job), options, now)(job, new_job_id())


def _request_factory(
    cls: type[Job], options: JobOptions | None, now: datetime | None
) -> Callable[[Job, str], EnqueueRequest]:
    """Resolve the options of one job type once; the result builds a request per job
    (given its id: ``enqueue_many`` makes them in one go)."""
    resolved = cls.options()
    if options is not None:
        resolved = options.merged_over(resolved)
    make = request_maker(
        name=cls.NAME,
        queue=resolved.resolved_queue,
        priority=resolved.resolved_priority,
        max_retries=resolved.resolved_max_retries,
        run_at=resolved.run_at(now),
        timeout=resolved.timeout_seconds,
    )

    encode = _encoder(cls)

    def build(job: Job, job_id: str) -> EnqueueRequest:
        return make(encode(job), job_id)

    return build


def _encoder(cls: type[Job]) -> Callable[[Job], str]:
    """``cls.encode``, or the same JSON straight from pydantic's serializer.

    ``Job.encode`` is ``model_dump_json()`` with its defaults, and that is
    ``__pydantic_serializer__.to_json(job).decode()`` behind two Python
    frames that cost more than the serializing itself (~0.5 us a job in a
    bulk enqueue). A class that overrides either method keeps its own.
    """
    if cls.encode is not Job.encode or cls.model_dump_json is not BaseModel.model_dump_json:
        return cls.encode
    to_json = cls.__pydantic_serializer__.to_json

    def encode(job: Job) -> str:
        return to_json(job).decode()

    return encode


class _Wakeup:
    """Wakes workers of this process the moment a job is pushed through the same store.

    Cross-process wake-ups are each backend's business (``wait_for_work``);
    this covers the common case of a web app, or a job, enqueueing into a
    store its own process also works from. Safe to call from any thread.
    """

    def __init__(self) -> None:
        self._waiters: set[tuple[asyncio.AbstractEventLoop, asyncio.Event]] = set()
        self._lock = threading.Lock()

    def notify(self) -> None:
        with self._lock:
            waiters = list(self._waiters)
        for loop, event in waiters:
            try:
                running = asyncio.get_running_loop()
            except RuntimeError:
                running = None
            if running is loop:
                event.set()
            else:
                try:
                    loop.call_soon_threadsafe(event.set)
                except RuntimeError:  # that loop has closed
                    pass

    async def wait(self, timeout: float) -> bool:
        """Wait up to ``timeout`` seconds for a notify; True if one came."""
        with self.listening() as event:
            try:
                async with asyncio.timeout(timeout):
                    await event.wait()
                return True
            except TimeoutError:
                return False

    @contextlib.contextmanager
    def listening(self) -> Iterator[asyncio.Event]:
        """An event set by the next notify, for callers that poll something else too."""
        entry = (asyncio.get_running_loop(), asyncio.Event())
        with self._lock:
            self._waiters.add(entry)
        try:
            yield entry[1]
        finally:
            with self._lock:
                self._waiters.discard(entry)


class Queue(ABC):
    """Storage for jobs. Use ``connect(url)`` to get one.

    ::

        async with connect("sqlite:///backyard.db") as queue:
            job_id = await queue.enqueue(SendEmail(to="a@example.com", subject="hi"))
            record = await queue.get(job_id)
    """

    #: URL schemes this backend serves, e.g. ``("sqlite",)``.
    schemes: tuple[str, ...] = ()

    def __init__(self, url: str, *, clock: Clock | None = None) -> None:
        self.url = url
        self._clock: Clock = clock or time.time
        self._wakeup = _Wakeup()

    def now(self) -> float:
        """The backend's notion of now, in seconds since the epoch."""
        return self._clock()

    def now_datetime(self) -> datetime:
        return from_timestamp(self.now())

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {redact_url(self.url)}>"

    # -- life cycle -------------------------------------------------------

    async def open(self) -> None:  # noqa: B027 - optional hook
        """Connect and prepare storage (create or migrate the schema)."""

    async def close(self) -> None:  # noqa: B027 - optional hook
        """Release connections. The store may not be used afterwards."""

    async def __aenter__(self) -> Self:
        await self.open()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.close()

    # -- the public API users call ----------------------------------------

    async def enqueue(
        self, job: Job, options: JobOptions | None = None, *, connection: Any = None
    ) -> str:
        """Store ``job`` to run later; returns its id.

        ``options`` override the job type's ``options()``. ``connection``
        enqueues inside the caller's open database transaction, on backends
        that support it (PostgreSQL): the job exists only if that
        transaction commits.
        """
        request = build_request(job, options, self.now_datetime())
        if connection is not None:
            job_id = await self.push_in_transaction(request, connection)
        else:
            job_id = await self.push(request)
            self._wakeup.notify()
        return job_id

    async def enqueue_many(
        self, jobs: Iterable[Job], options: JobOptions | None = None
    ) -> list[str]:
        """Store many jobs in one round trip where the backend allows; returns their ids."""
        now = self.now_datetime()
        batch = jobs if isinstance(jobs, builtins.list) else builtins.list(jobs)
        if not batch:
            return []
        factories: dict[type[Job], Callable[[Job, str], EnqueueRequest]] = {}
        requests = []
        for job, job_id in zip(batch, new_job_ids(len(batch)), strict=True):
            cls = type(job)
            build = factories.get(cls)
            if build is None:
                build = factories[cls] = _request_factory(cls, options, now)
            requests.append(build(job, job_id))
        ids = await self.push_many(requests)
        self._wakeup.notify()
        return ids

    async def wait_for_work(self, queues: Sequence[str], timeout: float) -> None:
        """Return when a job may have become available in ``queues``, or after ``timeout``.

        The base waits for pushes made through this object only; backends add
        their own cross-process signal (LISTEN/NOTIFY, a blocking pop, a
        cheap change counter). Spurious returns are fine: the caller claims
        and finds nothing.
        """
        await self._wakeup.wait(timeout)

    async def push_in_transaction(self, request: EnqueueRequest, connection: Any) -> str:
        raise ConfigurationError(
            f"{type(self).__name__} cannot enqueue inside an application transaction; "
            "transactional enqueue needs the postgresql:// backend"
        )

    async def requeue_dead(self, queue: str | None = None) -> int:
        """Move every dead job (of ``queue``, or of all queues) back to available."""
        count = 0
        while True:
            batch = await self.list(queue=queue, status=JobStatus.DEAD, limit=500)
            if not batch:
                return count
            for record in batch:
                count += await self.requeue(record.id)

    # -- primitives every backend implements -------------------------------

    @abstractmethod
    async def push(self, request: EnqueueRequest) -> str:
        """Store one job as available (or scheduled, if ``run_at`` is later); return its id.

        When this returns, the job is durably stored (as durable as the
        backend can make it).
        """

    @abstractmethod
    async def push_many(self, requests: Sequence[EnqueueRequest]) -> list[str]:
        """Store many jobs at once, all or none; return their ids in order."""

    @abstractmethod
    async def claim(
        self, queues: Sequence[str], worker_id: str, limit: int, lease: float
    ) -> list[JobRecord]:
        """Take up to ``limit`` due jobs from ``queues`` and mark them running.

        Within a queue, jobs come out by priority (higher first), then
        ``run_at``, then enqueue order; a job is never returned before its
        ``run_at``. Each claimed job has ``attempt`` incremented, ``worker_id``
        and ``started_at`` set, and a lease that expires ``lease`` seconds from
        now. Two concurrent claims never return the same job.
        """

    @abstractmethod
    async def ack(self, jobs: Sequence[JobRecord]) -> int:
        """Mark claimed jobs completed; return how many were.

        A job counts only if it is still running under the same attempt
        (a job whose lease expired and was claimed again is left alone).
        """

    @abstractmethod
    async def retry(self, job: JobRecord, run_at: datetime, error: JobError) -> bool:
        """Put a running job back to wait until ``run_at``, recording ``error``.

        Same attempt check as ``ack``; returns whether the job was updated.
        """

    @abstractmethod
    async def fail(self, job: JobRecord, error: JobError) -> bool:
        """Move a running job to dead, recording ``error``. Same check as ``ack``."""

    @abstractmethod
    async def release(self, jobs: Sequence[JobRecord]) -> int:
        """Give running jobs back unrun (graceful shutdown): available now, attempt undone."""

    @abstractmethod
    async def heartbeat(self, job_ids: Sequence[str], worker_id: str, lease: float) -> list[str]:
        """Extend the leases of jobs ``worker_id`` is running; return the ids still held."""

    @abstractmethod
    async def rescue(self) -> RescueResult:
        """Deal with running jobs whose lease expired (their worker died).

        Each goes back to available if it has retries left, otherwise to dead
        with an error saying its lease expired. Safe to run from many workers
        at once.
        """

    @abstractmethod
    async def get(self, job_id: str) -> JobRecord | None:
        """One job by id, or None."""

    @abstractmethod
    async def list(
        self,
        queue: str | None = None,
        status: JobStatus | None = None,
        limit: int = 50,
        offset: int = 0,
    ) -> list[JobRecord]:
        """Jobs filtered by queue and status, newest enqueued first."""

    @abstractmethod
    async def queue_depths(self) -> dict[str, dict[JobStatus, int]]:
        """For each queue that holds jobs, how many are in each status (zeros included)."""

    @abstractmethod
    async def cancel(self, job_id: str) -> bool:
        """Cancel a job that has not started (scheduled or available)."""

    @abstractmethod
    async def requeue(self, job_id: str) -> bool:
        """Make a dead or cancelled job available now, with a fresh retry budget."""

    @abstractmethod
    async def delete(self, job_id: str) -> bool:
        """Remove a job that is not running."""

    @abstractmethod
    async def prune(self, before: datetime) -> int:
        """Delete completed, dead and cancelled jobs that finished before ``before``."""

    @abstractmethod
    async def register_worker(self, info: WorkerInfo, ttl: float) -> None:
        """Record (or refresh) a live worker; it disappears ``ttl`` seconds after its last refresh."""

    @abstractmethod
    async def unregister_worker(self, worker_id: str) -> None:
        """Forget a worker that is shutting down."""

    @abstractmethod
    async def workers(self) -> builtins.list[WorkerInfo]:
        """Workers that refreshed their registration within their ttl."""

    @abstractmethod
    async def stats(self, since: datetime) -> builtins.list[StatsBucket]:
        """Per-minute, per-queue counts of completed, failed (retried) and dead outcomes.

        ``ack``, ``retry``, ``fail`` and ``rescue`` record them as they happen.
        """


def redact_url(url: str) -> str:
    """The URL with any password replaced, for logs and error messages."""
    from urllib.parse import urlsplit, urlunsplit

    try:
        parts = urlsplit(url)
    except ValueError:
        return "<malformed url>"
    if parts.password is None:
        return url
    netloc = parts.netloc.rsplit("@", 1)[-1]
    user = parts.username or ""
    return urlunsplit(parts._replace(netloc=f"{user}:***@{netloc}"))


def seconds(value: timedelta | float) -> float:
    return value.total_seconds() if isinstance(value, timedelta) else float(value)
