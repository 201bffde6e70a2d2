"""Prometheus metrics: from each worker, from the store, and for enqueues.

Three sources, because each number is only honest where it is observed:

- **Workers** count what they run: ``worker_metrics_hook()`` is a
  ``WorkerHook`` with counters of jobs started, completed, retried and dead
  (by queue and job name), a duration histogram, and the number of jobs
  running now. Serve them with ``start_metrics_server(port)``, or let
  ``backyard worker --metrics-port N`` do both::

      from backyard.metrics import start_metrics_server, worker_metrics_hook

      start_metrics_server(9108)
      await Worker(store, queues=["default"], hooks=[worker_metrics_hook()]).run()

- **The store** knows what is waiting: ``store_metrics(store)`` renders queue
  depths by status, the age of the longest-waiting job per queue, live
  workers, and the outcomes of the last complete minute. The dashboard
  serves it at ``/metrics``; one scrape covers every worker and every queue.

- **Producers** know what they enqueue: ``instrument_enqueue(store)`` makes
  a store count every job pushed through it.

All names start with ``backyard_``; see docs/metrics.md for the full list.
"""

from __future__ import annotations

import threading
import weakref
from collections.abc import Iterable, Iterator, Sequence
from datetime import timedelta
from typing import TYPE_CHECKING, Any
from wsgiref.simple_server import WSGIServer

from prometheus_client import (
    REGISTRY,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    generate_latest,
    start_http_server,
)
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

from ._queue import Queue
from ._records import EnqueueRequest, JobStatus, to_timestamp
from .worker import Outcome, Verdict

if TYPE_CHECKING:
    from ._records import JobRecord
    from .worker import Worker

__all__ = [
    "CONTENT_TYPE",
    "WorkerMetrics",
    "instrument_enqueue",
    "oldest_waiting_ages",
    "start_metrics_server",
    "store_metrics",
    "worker_metrics_hook",
]

#: The content type of ``store_metrics`` output (Prometheus text format).
CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"

# Jobs range from sub-millisecond bookkeeping to minutes-long exports; the
# default prometheus_client buckets stop at 10 s.
DURATION_BUCKETS = (
    0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0,
    300.0, 900.0,
)  # fmt: skip


# -- worker side -----------------------------------------------------------


class WorkerMetrics:
    """A ``WorkerHook`` that counts what the workers of this process run.

    Labels are ``queue`` and ``job`` (the job's ``NAME``), so cardinality
    stays bounded by the number of job types, never by job ids. Use
    ``worker_metrics_hook()`` rather than constructing it: metric names can be
    registered only once per registry.
    """

    def __init__(self, registry: CollectorRegistry = REGISTRY) -> None:
        labels = ("queue", "job")
        self.started = Counter(
            "backyard_jobs_started",
            "Jobs a worker of this process started running (every attempt counts).",
            labels,
            registry=registry,
        )
        self.completed = Counter(
            "backyard_jobs_completed",
            "Jobs that ran to completion.",
            labels,
            registry=registry,
        )
        self.retried = Counter(
            "backyard_jobs_retried",
            "Attempts that failed and were scheduled to run again.",
            labels,
            registry=registry,
        )
        self.dead = Counter(
            "backyard_jobs_dead",
            "Jobs that failed for good and went to the dead-letter set.",
            labels,
            registry=registry,
        )
        self.duration = Histogram(
            "backyard_job_duration_seconds",
            "How long one attempt ran, by outcome (completed, retry, dead).",
            (*labels, "outcome"),
            buckets=DURATION_BUCKETS,
            registry=registry,
        )
        # Read from the workers at scrape time rather than counted up and down:
        # jobs given back at shutdown never reach job_finished, and a
        # counted gauge would drift.
        self._workers: weakref.WeakSet[Worker] = weakref.WeakSet()
        self.running = Gauge(
            "backyard_jobs_running",
            "Jobs running right now in the workers of this process.",
            registry=registry,
        )
        self.running.set_function(self._running_now)

    def _running_now(self) -> float:
        return float(sum(worker.running_jobs for worker in list(self._workers)))

    def job_started(self, worker: Worker, job: JobRecord) -> None:
        self._workers.add(worker)
        self.started.labels(job.queue, job.name).inc()

    def job_finished(self, worker: Worker, outcome: Outcome) -> None:
        job = outcome.job
        counter = {
            Verdict.COMPLETED: self.completed,
            Verdict.RETRY: self.retried,
            Verdict.DEAD: self.dead,
        }[outcome.verdict]
        counter.labels(job.queue, job.name).inc()
        self.duration.labels(job.queue, job.name, outcome.verdict.value).observe(outcome.duration)


# Keyed by the registry object itself (weakly), not id(): a collected
# registry's id can be reused by a new one.
_hooks: weakref.WeakKeyDictionary[CollectorRegistry, WorkerMetrics] = weakref.WeakKeyDictionary()
_enqueued: weakref.WeakKeyDictionary[CollectorRegistry, Counter] = weakref.WeakKeyDictionary()
_lock = threading.Lock()


def worker_metrics_hook(registry: CollectorRegistry | None = None) -> WorkerMetrics:
    """The process's ``WorkerMetrics`` hook for ``registry`` (default: the global one).

    Returns the same object on every call, so several workers in one process
    share one set of counters. Pass it to ``Worker(..., hooks=[...])``.
    """
    registry = REGISTRY if registry is None else registry
    with _lock:
        hook = _hooks.get(registry)
        if hook is None:
            hook = _hooks[registry] = WorkerMetrics(registry)
        return hook


def start_metrics_server(
    port: int, addr: str = "0.0.0.0", registry: CollectorRegistry | None = None
) -> WSGIServer:
    """Serve ``registry`` (default: the global one) at ``http://addr:port/metrics``.

    Runs in a daemon thread, so it never blocks the worker's event loop and
    ends with the process. Listens on every interface by default, because
    Prometheus scrapes from another host; pass ``addr="127.0.0.1"`` to keep
    it local. The numbers carry queue and job names, nothing more. Returns
    the server; ``server.shutdown()`` stops it. Port 0 picks a free port
    (read it from ``server.server_port``).
    """
    server, _thread = start_http_server(
        port, addr=addr, registry=REGISTRY if registry is None else registry
    )
    return server


def instrument_enqueue(store: Queue, registry: CollectorRegistry | None = None) -> Queue:
    """Make ``store`` count the jobs enqueued through it; returns the same store.

    Adds ``backyard_jobs_enqueued_total{queue, job}``. Counting happens where
    jobs are pushed, so call this in each process that enqueues (web app,
    worker, scripts) and scrape each; the store itself keeps no such counter.
    A job enqueued inside an application transaction is counted even if that
    transaction later rolls back. Calling it twice on one store is harmless.
    """
    if getattr(store, "_backyard_enqueue_counted", False):
        return store
    counter = _enqueued_counter(REGISTRY if registry is None else registry)
    push, push_many, push_in_transaction = store.push, store.push_many, store.push_in_transaction

    def count(requests: Iterable[EnqueueRequest]) -> None:
        for request in requests:
            counter.labels(request.queue, request.name).inc()

    async def counted_push(request: EnqueueRequest) -> str:
        job_id = await push(request)
        count((request,))
        return job_id

    async def counted_push_many(requests: Sequence[EnqueueRequest]) -> list[str]:
        ids = await push_many(requests)
        count(requests)
        return ids

    async def counted_push_in_transaction(request: EnqueueRequest, connection: Any) -> str:
        job_id = await push_in_transaction(request, connection)
        count((request,))
        return job_id

    # Wrapping the instance's primitives (not the public enqueue methods)
    # catches every path in: enqueue, enqueue_many, the sync facade and
    # ctx.enqueue from inside jobs all end in these.
    setattr(store, "push", counted_push)  # noqa: B010 - mypy forbids assigning to a method
    setattr(store, "push_many", counted_push_many)  # noqa: B010
    setattr(store, "push_in_transaction", counted_push_in_transaction)  # noqa: B010
    setattr(store, "_backyard_enqueue_counted", True)  # noqa: B010
    return store


def _enqueued_counter(registry: CollectorRegistry) -> Counter:
    with _lock:
        counter = _enqueued.get(registry)
        if counter is None:
            counter = _enqueued[registry] = Counter(
                "backyard_jobs_enqueued",
                "Jobs enqueued through this process's store.",
                ("queue", "job"),
                registry=registry,
            )
        return counter


# -- store side ------------------------------------------------------------


async def oldest_waiting_ages(
    store: Queue, depths: dict[str, dict[JobStatus, int]]
) -> dict[str, float]:
    """For each queue with due jobs waiting, how long (seconds) the oldest has waited.

    "Oldest" is the earliest enqueued of the queue's available (due, not
    running) jobs, and its wait is counted from when it became due (its
    ``run_at``), so a retry waiting out its backoff does not count as
    waiting. ``list`` returns newest first, so the oldest is at offset
    ``count - 1``; on SQL backends that is an offset scan over the waiting
    jobs of one queue per scrape. No contract change was needed for this.
    """
    now = store.now()
    ages: dict[str, float] = {}
    for queue, counts in depths.items():
        waiting = counts.get(JobStatus.AVAILABLE, 0)
        if not waiting:
            continue
        found = await store.list(
            queue=queue, status=JobStatus.AVAILABLE, limit=1, offset=waiting - 1
        )
        if not found:
            # Claimed between the two reads: the next oldest is newer still.
            found = await store.list(queue=queue, status=JobStatus.AVAILABLE, limit=1)
        if found:
            ages[queue] = max(0.0, now - to_timestamp(found[0].run_at))
    return ages


class _Snapshot(Collector):
    """Metric families read from the store once, for one scrape."""

    def __init__(self, families: list[Metric]) -> None:
        self._families = families

    def collect(self) -> Iterator[Metric]:
        return iter(self._families)


async def store_metrics(store: Queue) -> bytes:
    """The store's current state in the Prometheus text format.

    Gauges: ``backyard_queue_jobs{queue,status}``,
    ``backyard_queue_oldest_waiting_seconds{queue}``,
    ``backyard_queue_outcomes_last_minute{queue,outcome}``,
    ``backyard_workers``, ``backyard_worker_slots`` and
    ``backyard_worker_running_jobs``. Every scrape reads the store afresh;
    nothing is cached between scrapes.
    """
    depths = await store.queue_depths()
    ages = await oldest_waiting_ages(store, depths)
    workers = await store.workers()
    now = store.now()
    last_minute = (int(now // 60) - 1) * 60
    buckets = await store.stats(store.now_datetime() - timedelta(minutes=2))

    jobs = GaugeMetricFamily(
        "backyard_queue_jobs", "Jobs in each queue by status.", labels=("queue", "status")
    )
    for queue, counts in sorted(depths.items()):
        for status in JobStatus:
            jobs.add_metric((queue, status.value), counts.get(status, 0))

    oldest = GaugeMetricFamily(
        "backyard_queue_oldest_waiting_seconds",
        "How long the oldest due job of each queue has waited to be claimed (0: none waiting).",
        labels=("queue",),
    )
    for queue in sorted(depths):
        oldest.add_metric((queue,), ages.get(queue, 0.0))

    outcomes = GaugeMetricFamily(
        "backyard_queue_outcomes_last_minute",
        "Completed, retried and dead attempts during the last complete minute, per queue "
        "(as recorded by the store, so every worker counts).",
        labels=("queue", "outcome"),
    )
    totals: dict[str, tuple[int, int, int]] = dict.fromkeys(depths, (0, 0, 0))
    for bucket in buckets:
        if int(to_timestamp(bucket.minute)) == last_minute:
            c, f, d = totals.get(bucket.queue, (0, 0, 0))
            totals[bucket.queue] = (c + bucket.completed, f + bucket.failed, d + bucket.dead)
    for queue, (completed, failed, dead) in sorted(totals.items()):
        outcomes.add_metric((queue, "completed"), completed)
        outcomes.add_metric((queue, "retried"), failed)
        outcomes.add_metric((queue, "dead"), dead)

    alive = GaugeMetricFamily("backyard_workers", "Workers that heartbeated within their ttl.")
    alive.add_metric((), len(workers))
    slots = GaugeMetricFamily(
        "backyard_worker_slots", "Sum of the live workers' concurrency (jobs they may run at once)."
    )
    slots.add_metric((), sum(worker.concurrency for worker in workers))
    running = GaugeMetricFamily(
        "backyard_worker_running_jobs",
        "Jobs the live workers reported running at their last heartbeat.",
    )
    running.add_metric((), sum(worker.running for worker in workers))

    return generate_latest(_Snapshot([jobs, oldest, outcomes, alive, slots, running]))
