"""A blocking client for sync code (a Django or Flask view, a script).

It runs the async store on a private event loop in a background thread, so
it works the same over every backend and from any thread.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Coroutine, Iterable
from types import TracebackType
from typing import Any, Self, TypeVar

from ._connect import connect
from ._job import Job
from ._options import JobOptions
from ._queue import Queue
from ._records import JobRecord, JobStatus

T = TypeVar("T")


class SyncQueue:
    """Blocking twin of ``Queue`` for enqueueing and inspecting jobs.

    ::

        queue = connect_sync("sqlite:///backyard.db")
        queue.enqueue(SendEmail(to="a@example.com", subject="hi"))

    Thread-safe. Keep one per process (for example at module level) and
    ``close()`` it at exit, or use it as a context manager.
    """

    def __init__(self, store: Queue) -> None:
        self.store = store
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(
            target=self._loop.run_forever, name="backyard-sync", daemon=True
        )
        self._thread.start()
        self._closed = False
        try:
            self._call(store.open())
        except BaseException:
            self._stop_loop()
            raise

    def _call(self, coro: Coroutine[Any, Any, T]) -> T:
        if self._closed:
            coro.close()
            raise RuntimeError("this SyncQueue is closed")
        return asyncio.run_coroutine_threadsafe(coro, self._loop).result()

    def enqueue(self, job: Job, options: JobOptions | None = None) -> str:
        """Store ``job``; returns its id. See ``Queue.enqueue``."""
        return self._call(self.store.enqueue(job, options))

    def enqueue_many(self, jobs: Iterable[Job], options: JobOptions | None = None) -> list[str]:
        return self._call(self.store.enqueue_many(list(jobs), options))

    def get(self, job_id: str) -> JobRecord | None:
        return self._call(self.store.get(job_id))

    def list(
        self,
        queue: str | None = None,
        status: JobStatus | None = None,
        limit: int = 50,
        offset: int = 0,
    ) -> list[JobRecord]:
        return self._call(self.store.list(queue, status, limit, offset))

    def queue_depths(self) -> dict[str, dict[JobStatus, int]]:
        return self._call(self.store.queue_depths())

    def cancel(self, job_id: str) -> bool:
        return self._call(self.store.cancel(job_id))

    def requeue(self, job_id: str) -> bool:
        return self._call(self.store.requeue(job_id))

    def close(self) -> None:
        if self._closed:
            return
        try:
            self._call(self.store.close())
        finally:
            self._closed = True
            self._stop_loop()

    def _stop_loop(self) -> None:
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(timeout=5)
        self._loop.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()


def connect_sync(url: str | None = None, **options: Any) -> SyncQueue:
    """A blocking ``SyncQueue`` over the backend for ``url`` (opened already)."""
    return SyncQueue(connect(url, **options))
