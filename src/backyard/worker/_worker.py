"""The worker: claims jobs from named queues and runs them, many at once.

Its concerns each live in their own module; this one wires them together
and owns the fetch loop and shutdown:

- ``_execute``: run one job and judge the outcome (retry policy, timeouts).
- ``_completer``: write outcomes to the store in batches.
- ``_maintenance``: heartbeats (leases, worker registration), rescue, prune.
- ``_signals``: SIGINT/SIGTERM to graceful, then immediate, stop.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import socket
import uuid
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import timedelta

from .._job import JobRegistry
from .._job import registry as default_registry
from .._queue import Queue, seconds
from .._records import JobRecord, JobStatus, WorkerInfo
from ._completer import Completer
from ._execute import JobExecutor
from ._hooks import WorkerHook, log_hook
from ._maintenance import Maintenance
from ._outcome import Outcome, Verdict
from ._signals import handle_signals

log = logging.getLogger("backyard.worker")


@dataclass(slots=True)
class WorkerCounters:
    processed: int = 0
    completed: int = 0
    retried: int = 0
    dead: int = 0
    claimed: int = 0

    @property
    def failed(self) -> int:
        return self.retried + self.dead


@dataclass(slots=True)
class _Running:
    tasks: dict[str, asyncio.Task[None]] = field(default_factory=dict)
    records: dict[str, JobRecord] = field(default_factory=dict)


class Worker:
    """Runs jobs from ``queues`` with up to ``concurrency`` at a time.

    ::

        async with connect("sqlite:///backyard.db") as store:
            await Worker(store, queues=["default", "mail"], concurrency=20).run()

    Arguments:
        store: the opened ``Queue`` to take jobs from.
        queues: queue names to serve; a job's order within a queue is kept.
        concurrency: how many jobs run at once (sync jobs use as many threads).
        lease: seconds a claimed job stays reserved without a heartbeat. A
            worker that dies gives its jobs back after at most this long.
            Heartbeats renew it every ``lease / 3`` seconds.
        poll_interval: longest an idle worker waits before looking for work
            again. Backends wake it sooner when a job arrives (see the docs).
        shutdown_grace: on a stop request, how long running jobs may finish
            before they are interrupted and given back to the queue.
        rescue_interval: how often to return jobs of dead workers to the
            queue (default: ``lease / 2``).
        prune_after: delete completed, dead and cancelled jobs this long after
            they finished; ``None`` keeps them until ``backyard prune``.
        stop_when_empty: return once no job is waiting or running in
            ``queues`` (scheduled retries included); for scripts and tests.
    """

    def __init__(
        self,
        store: Queue,
        queues: Sequence[str] = ("default",),
        concurrency: int = 10,
        *,
        lease: timedelta | float = 30.0,
        poll_interval: timedelta | float = 1.0,
        shutdown_grace: timedelta | float = 30.0,
        rescue_interval: timedelta | float | None = None,
        prune_after: timedelta | None = timedelta(days=7),
        stop_when_empty: bool = False,
        registry: JobRegistry | None = None,
        hooks: Sequence[WorkerHook] = (),
        worker_id: str | None = None,
    ) -> None:
        if concurrency < 1:
            raise ValueError(f"concurrency must be at least 1, got {concurrency}")
        if not queues:
            raise ValueError("a worker needs at least one queue name")
        self.store = store
        self.queues = tuple(dict.fromkeys(queues))
        self.concurrency = concurrency
        self.lease = seconds(lease)
        self.poll_interval = seconds(poll_interval)
        self.shutdown_grace = seconds(shutdown_grace)
        self.rescue_interval = seconds(rescue_interval) if rescue_interval else self.lease / 2
        self.prune_after = prune_after
        self.stop_when_empty = stop_when_empty
        self.registry = registry or default_registry
        self.hooks: list[WorkerHook] = [log_hook, *hooks]
        self.id = worker_id or f"{socket.gethostname()}-{os.getpid()}-{uuid.uuid4().hex[:6]}"
        self.counters = WorkerCounters()
        self._running = _Running()
        self._held: dict[str, JobRecord] = {}  # claimed and not yet written back
        self._suspect: set[str] = set()
        self._stopping = asyncio.Event()
        self._aborted = False
        self._slot_free = asyncio.Event()
        self._started_at = store.now_datetime()
        self._threads = ThreadPoolExecutor(
            max_workers=concurrency, thread_name_prefix="backyard-job"
        )
        self._executor = JobExecutor(store, self.registry, self.id, self._threads)
        self._completer = Completer(store, self._written)
        self._maintenance = Maintenance(self)

    # -- control ------------------------------------------------------------

    def stop(self) -> None:
        """Ask the worker to stop taking jobs and finish gracefully."""
        self._stopping.set()
        self._slot_free.set()

    @property
    def stopping(self) -> bool:
        return self._stopping.is_set()

    @property
    def running_jobs(self) -> int:
        return len(self._running.tasks)

    def info(self) -> WorkerInfo:
        return WorkerInfo(
            id=self.id,
            host=socket.gethostname(),
            pid=os.getpid(),
            queues=self.queues,
            concurrency=self.concurrency,
            started_at=self._started_at,
            last_seen=self.store.now_datetime(),
            running=len(self._running.tasks),
            processed=self.counters.processed,
            failed=self.counters.failed,
        )

    def held_ids(self) -> list[str]:
        return list(self._held)

    def lost(self, job_ids: Sequence[str]) -> None:
        """The store says it no longer holds these jobs for us.

        Usually that is a completion racing the heartbeat (the job was just
        written back), so a job is only reported once two heartbeats in a
        row miss it while it is still held here: its lease expired and it
        may run again elsewhere.
        """
        missing = {job_id for job_id in job_ids if job_id in self._held}
        for job_id in missing & self._suspect:
            log.warning(
                "worker %s lost the lease of job %s; it may run again elsewhere", self.id, job_id
            )
        self._suspect = missing

    async def run(self, *, install_signal_handlers: bool = True) -> None:
        """Work until ``stop()``, a signal, or (with ``stop_when_empty``) an empty queue."""
        log.info(
            "worker %s starting: queues=%s concurrency=%d store=%r",
            self.id,
            ",".join(self.queues),
            self.concurrency,
            self.store,
        )
        with handle_signals(self, enabled=install_signal_handlers):
            completer = asyncio.create_task(self._completer.run(), name="backyard-completer")
            maintenance = asyncio.create_task(self._maintenance.run(), name="backyard-maintenance")
            try:
                await self._fetch_loop()
                await self._drain()
            finally:
                await self._completer.close()
                with contextlib.suppress(asyncio.CancelledError):
                    await asyncio.wait_for(completer, timeout=max(self.lease / 2, 1.0))
                maintenance.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await maintenance
                await self._maintenance.unregister()
                self._threads.shutdown(wait=False, cancel_futures=True)
                log.info(
                    "worker %s stopped: %d processed, %d completed, %d retried, %d dead",
                    self.id,
                    self.counters.processed,
                    self.counters.completed,
                    self.counters.retried,
                    self.counters.dead,
                )

    # -- fetching -----------------------------------------------------------

    async def _fetch_loop(self) -> None:
        backoff = 0.05
        while not self._stopping.is_set():
            free = self.concurrency - len(self._running.tasks)
            if free <= 0:
                self._slot_free.clear()
                await self._slot_free.wait()
                continue
            try:
                jobs = await self.store.claim(self.queues, self.id, free, self.lease)
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # storage down: wait and try again
                log.warning("claim failed, retrying in %.2fs: %s", backoff, exc)
                await self._sleep(backoff)
                backoff = min(5.0, backoff * 2)
                continue
            backoff = 0.05
            if jobs:
                self.counters.claimed += len(jobs)
                for record in jobs:
                    self._start(record)
                continue
            if self.stop_when_empty and not self._running.tasks and await self._is_empty():
                return
            await self._idle()

    async def _idle(self) -> None:
        waiter = asyncio.ensure_future(self.store.wait_for_work(self.queues, self.poll_interval))
        stopper = asyncio.ensure_future(self._stopping.wait())
        slot = None
        if self.stop_when_empty and self._running.tasks:
            # Wake when a running job finishes, so an emptied queue is noticed.
            self._slot_free.clear()
            slot = asyncio.ensure_future(self._slot_free.wait())
        waits = [w for w in (waiter, stopper, slot) if w is not None]
        try:
            await asyncio.wait(waits, return_when=asyncio.FIRST_COMPLETED)
        finally:
            for w in waits:
                if not w.done():
                    w.cancel()
            for w in waits:
                with contextlib.suppress(asyncio.CancelledError, Exception):
                    await w

    async def _sleep(self, delay: float) -> None:
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._stopping.wait(), delay)

    async def _is_empty(self) -> bool:
        depths = await self.store.queue_depths()
        waiting = (JobStatus.AVAILABLE, JobStatus.SCHEDULED, JobStatus.RUNNING)
        return not any(
            depths.get(queue, {}).get(status, 0) for queue in self.queues for status in waiting
        )

    # -- running ------------------------------------------------------------

    def _start(self, record: JobRecord) -> None:
        self._held[record.id] = record
        self._running.records[record.id] = record
        for hook in self.hooks:
            hook.job_started(self, record)
        self._running.tasks[record.id] = asyncio.create_task(self._run_one(record))

    async def _run_one(self, record: JobRecord) -> None:
        try:
            outcome = await self._executor.run(record)
        finally:
            self._running.tasks.pop(record.id, None)
            self._running.records.pop(record.id, None)
            self._slot_free.set()
        self._completer.add(outcome)

    def _written(self, outcomes: Sequence[Outcome]) -> None:
        counters = self.counters
        for outcome in outcomes:
            self._held.pop(outcome.job.id, None)
            counters.processed += 1
            if outcome.verdict is Verdict.COMPLETED:
                counters.completed += 1
            elif outcome.verdict is Verdict.RETRY:
                counters.retried += 1
            else:
                counters.dead += 1
            for hook in self.hooks:
                hook.job_finished(self, outcome)

    # -- shutdown -----------------------------------------------------------

    async def _drain(self) -> None:
        """Let running jobs finish within the grace period; give the rest back."""
        tasks = list(self._running.tasks.values())
        if not tasks or self._aborted:
            return
        log.info(
            "worker %s stopping: waiting up to %.0fs for %d running job(s)",
            self.id,
            self.shutdown_grace,
            len(tasks),
        )
        _, unfinished = await asyncio.wait(tasks, timeout=self.shutdown_grace)
        if not unfinished:
            return
        records = [
            self._running.records[job_id]
            for job_id, task in self._running.tasks.items()
            if task in unfinished
        ]
        for task in unfinished:
            task.cancel()
        await asyncio.gather(*unfinished, return_exceptions=True)
        try:
            released = await self.store.release(records)
        except Exception as exc:  # they come back when their leases expire
            log.warning(
                "could not give %d unfinished job(s) back (%s); they return when their "
                "leases expire",
                len(records),
                exc,
            )
            return
        for record in records:
            self._held.pop(record.id, None)
        log.warning(
            "worker %s interrupted %d job(s) after the %.0fs grace period and gave %d back "
            "to the queue",
            self.id,
            len(records),
            self.shutdown_grace,
            released,
        )

    def abort(self) -> None:
        """Stop at once: cancel running jobs without giving them back.

        Their leases expire and another worker's rescue returns them.
        """
        self._aborted = True
        self.stop()
        for task in list(self._running.tasks.values()):
            task.cancel()
