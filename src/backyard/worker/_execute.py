"""Run one claimed job: decode it, call ``execute``, and judge the result.

Nothing here touches storage; the outcome goes to the completer. Poison
input (an unknown NAME, a payload that no longer validates) is judged dead
at once: retrying cannot fix it, and the worker must go on.
"""

from __future__ import annotations

import asyncio
import time
import traceback
from collections.abc import Awaitable, Callable
from concurrent.futures import Executor
from datetime import timedelta
from typing import cast

from .._context import JobContext, make_job_logger
from .._errors import Discard, JobTimeout, PayloadError, Retry, UnknownJobError
from .._job import Job, JobRegistry
from .._queue import Queue
from .._records import JobError, JobRecord, from_timestamp
from .._retry import DEFAULT_RETRY_POLICY
from ._outcome import Outcome, Verdict


class JobExecutor:
    def __init__(
        self,
        store: Queue,
        registry: JobRegistry,
        worker_id: str,
        threads: Executor,
    ) -> None:
        self._store = store
        self._registry = registry
        self._worker_id = worker_id
        self._threads = threads

    async def run(self, record: JobRecord) -> Outcome:
        started = time.perf_counter()
        try:
            job = self._registry.decode(record.name, record.payload)
        except (UnknownJobError, PayloadError) as exc:
            return self._dead(record, started, str(exc), None)
        try:
            await self._call(job, record)
        except asyncio.CancelledError:
            raise
        except Discard as exc:
            return self._dead(record, started, f"discarded: {exc.reason}", None)
        except Retry as exc:
            return self._failed(job, record, started, exc.reason, None, exc)
        except JobTimeout as exc:
            return self._failed(job, record, started, f"JobTimeout: {exc}", None, None)
        # A job's failure, even sys.exit() inside it, must not stop the worker.
        except (Exception, SystemExit) as exc:
            message = f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__
            return self._failed(job, record, started, message, traceback.format_exc(), None)
        return Outcome(record, Verdict.COMPLETED, time.perf_counter() - started)

    async def _call(self, job: Job, record: JobRecord) -> None:
        loop = asyncio.get_running_loop()
        ctx = JobContext(
            job_id=record.id,
            name=record.name,
            attempt=record.attempt,
            max_retries=record.max_retries,
            queue=record.queue,
            worker_id=self._worker_id,
            store=self._store,
            log=make_job_logger(record.id, record.name, record.queue, record.attempt),
            loop=loop,
        )
        if type(job).__backyard_is_async__:
            call: Awaitable[object] = job.execute(ctx)
        else:
            # A thread cannot be interrupted: on timeout the attempt fails and
            # the thread is left to finish on its own.
            sync_execute = cast(Callable[[JobContext], object], job.execute)
            call = loop.run_in_executor(self._threads, sync_execute, ctx)
        if record.timeout is None:
            await call
            return
        deadline = asyncio.timeout(record.timeout)
        try:
            async with deadline:
                await call
        except TimeoutError:
            if deadline.expired():
                raise JobTimeout(f"ran longer than its timeout of {record.timeout:g}s") from None
            raise  # the job's own TimeoutError, a failure like any other

    def _error(self, record: JobRecord, message: str, trace: str | None) -> JobError:
        return JobError(
            attempt=record.attempt,
            at=from_timestamp(self._store.now()),
            message=message,
            traceback=trace,
        )

    def _dead(self, record: JobRecord, started: float, message: str, trace: str | None) -> Outcome:
        return Outcome(
            record, Verdict.DEAD, time.perf_counter() - started, self._error(record, message, trace)
        )

    def _failed(
        self,
        job: Job,
        record: JobRecord,
        started: float,
        message: str,
        trace: str | None,
        request: Retry | None,
    ) -> Outcome:
        if record.attempt > record.max_retries:
            return self._dead(record, started, message, trace)
        now = self._store.now_datetime()
        if request is not None and request.at is not None:
            retry_at = request.at
        elif request is not None and request.delay is not None:
            delay = request.delay
            retry_at = now + (delay if isinstance(delay, timedelta) else timedelta(seconds=delay))
        else:
            policy = getattr(type(job), "RETRY", DEFAULT_RETRY_POLICY)
            retry_at = policy.next_retry_at(record.attempt, now)
        return Outcome(
            record,
            Verdict.RETRY,
            time.perf_counter() - started,
            self._error(record, message, trace),
            retry_at,
        )
