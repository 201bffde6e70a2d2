"""What a running job knows about itself and can do."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import MutableMapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from ._options import JobOptions

if TYPE_CHECKING:
    from ._job import Job
    from ._queue import Queue

logger = logging.getLogger("backyard.job")


class JobLogger(logging.LoggerAdapter[logging.Logger]):
    """A logger whose records carry the job's id, name, queue and attempt.

    The fields are in ``record.backyard`` (a dict) and, for formatters and
    structlog's stdlib integration, as top-level attributes ``job_id``,
    ``job_name``, ``queue`` and ``attempt``.
    """

    def process(
        self, msg: Any, kwargs: MutableMapping[str, Any]
    ) -> tuple[Any, MutableMapping[str, Any]]:
        extra = dict(self.extra or {})
        extra.update(kwargs.get("extra") or {})
        extra["backyard"] = dict(self.extra or {})
        kwargs["extra"] = extra
        return msg, kwargs


@dataclass(slots=True)
class JobContext:
    """Passed to ``Job.execute``: the job's identity and a way to enqueue more jobs."""

    job_id: str
    name: str
    attempt: int
    """1 on the first run, 2 on the first retry, and so on."""
    max_retries: int
    queue: str
    """The name of the queue the job was taken from."""
    worker_id: str
    store: Queue
    """The storage the job came from; follow-up jobs go to the same place."""
    log: JobLogger
    loop: asyncio.AbstractEventLoop | None = None

    @property
    def is_last_attempt(self) -> bool:
        return self.attempt > self.max_retries

    async def enqueue(self, job: Job, options: JobOptions | None = None) -> str:
        """Enqueue a follow-up job in the same storage; returns its id."""
        return await self.store.enqueue(job, options)

    def enqueue_sync(self, job: Job, options: JobOptions | None = None) -> str:
        """``enqueue`` for a job whose ``execute`` is a plain ``def`` (runs in a thread)."""
        if self.loop is None:
            raise RuntimeError("enqueue_sync needs the worker's event loop")
        future = asyncio.run_coroutine_threadsafe(self.enqueue(job, options), self.loop)
        return future.result()


def make_job_logger(job_id: str, name: str, queue: str, attempt: int) -> JobLogger:
    return JobLogger(
        logger, {"job_id": job_id, "job_name": name, "queue": queue, "attempt": attempt}
    )
