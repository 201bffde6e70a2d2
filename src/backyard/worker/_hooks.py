"""Hooks: how logging and metrics watch a worker without living inside it."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Protocol

from .._records import JobRecord
from ._outcome import Outcome, Verdict

if TYPE_CHECKING:
    from ._worker import Worker

log = logging.getLogger("backyard.worker")


class WorkerHook(Protocol):
    """Called on the worker's event loop; keep both methods quick."""

    def job_started(self, worker: Worker, job: JobRecord) -> None: ...

    def job_finished(self, worker: Worker, outcome: Outcome) -> None: ...


class LogHook:
    """Logs each job's start and end on the ``backyard.worker`` logger.

    Every record carries ``job_id``, ``job_name``, ``queue``, ``attempt``,
    ``worker_id`` and (at the end) ``outcome`` and ``duration`` as
    attributes, so stdlib formatters, JSON formatters and structlog can route
    them. Start and success log at DEBUG, retries at WARNING, dead at ERROR.
    """

    def job_started(self, worker: Worker, job: JobRecord) -> None:
        if log.isEnabledFor(logging.DEBUG):
            log.debug(
                "job %s %s started (attempt %d)",
                job.name,
                job.id,
                job.attempt,
                extra=_fields(worker, job),
            )

    def job_finished(self, worker: Worker, outcome: Outcome) -> None:
        job = outcome.job
        level = {
            Verdict.COMPLETED: logging.DEBUG,
            Verdict.RETRY: logging.WARNING,
            Verdict.DEAD: logging.ERROR,
        }[outcome.verdict]
        if not log.isEnabledFor(level):
            return
        extra = _fields(worker, job)
        extra.update(outcome=outcome.verdict.value, duration=outcome.duration)
        if outcome.verdict is Verdict.COMPLETED:
            log.log(
                level,
                "job %s %s completed in %.1f ms",
                job.name,
                job.id,
                outcome.duration * 1000,
                extra=extra,
            )
        elif outcome.verdict is Verdict.RETRY:
            assert outcome.error is not None and outcome.retry_at is not None
            log.log(
                level,
                "job %s %s failed (attempt %d of %d), retrying at %s: %s",
                job.name,
                job.id,
                job.attempt,
                job.max_retries + 1,
                outcome.retry_at.isoformat(timespec="seconds"),
                outcome.error.message,
                extra=extra,
            )
        else:
            assert outcome.error is not None
            log.log(
                level,
                "job %s %s is dead after attempt %d: %s",
                job.name,
                job.id,
                job.attempt,
                outcome.error.message,
                extra=extra,
            )


def _fields(worker: Worker, job: JobRecord) -> dict[str, object]:
    return {
        "job_id": job.id,
        "job_name": job.name,
        "queue": job.queue,
        "attempt": job.attempt,
        "worker_id": worker.id,
    }


log_hook = LogHook()
