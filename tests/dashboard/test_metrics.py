"""Prometheus metrics: the worker hook, its HTTP server, enqueue counting, store gauges."""

from __future__ import annotations

import urllib.request
from datetime import timedelta

import pytest
from prometheus_client import CollectorRegistry
from prometheus_client.parser import text_string_to_metric_families

from backyard import JobOptions, JobStatus, Queue, Worker
from backyard.dashboard import create_app
from backyard.metrics import (
    instrument_enqueue,
    start_metrics_server,
    store_metrics,
    worker_metrics_hook,
)

from ..backends import FakeClock
from ..jobs import AlwaysFails, FailTimes, Parent, Record
from .conftest import client_for, push, run_to


def samples(text: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    """Every sample of a Prometheus text exposition, by name and sorted labels."""
    return {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
    }


async def test_the_worker_hook_counts_attempts_by_queue_and_job(live_store: Queue) -> None:
    registry = CollectorRegistry()
    hook = worker_metrics_hook(registry)
    assert worker_metrics_hook(registry) is hook  # one set of counters per registry
    await live_store.enqueue(Record())
    await live_store.enqueue(FailTimes(failures=1))
    await live_store.enqueue(AlwaysFails())  # max_retries=2: three attempts, then dead
    worker = Worker(
        live_store, concurrency=4, poll_interval=0.01, stop_when_empty=True, hooks=[hook]
    )
    await worker.run(install_signal_handlers=False)

    def value(name: str, job: str, **labels: str) -> float | None:
        return registry.get_sample_value(name, {"queue": "default", "job": job, **labels})

    assert value("backyard_jobs_started_total", "tests.Record") == 1
    assert value("backyard_jobs_completed_total", "tests.Record") == 1
    assert value("backyard_jobs_started_total", "tests.FailTimes") == 2
    assert value("backyard_jobs_retried_total", "tests.FailTimes") == 1
    assert value("backyard_jobs_completed_total", "tests.FailTimes") == 1
    assert value("backyard_jobs_started_total", "tests.AlwaysFails") == 3
    assert value("backyard_jobs_retried_total", "tests.AlwaysFails") == 2
    assert value("backyard_jobs_dead_total", "tests.AlwaysFails") == 1
    assert value("backyard_job_duration_seconds_count", "tests.AlwaysFails", outcome="retry") == 2
    assert value("backyard_job_duration_seconds_count", "tests.AlwaysFails", outcome="dead") == 1
    assert value("backyard_job_duration_seconds_count", "tests.Record", outcome="completed") == 1
    assert registry.get_sample_value("backyard_jobs_running") == 0


def test_start_metrics_server_serves_the_registry() -> None:
    registry = CollectorRegistry()
    hook = worker_metrics_hook(registry)
    hook.started.labels("mail", "SendEmail").inc(3)
    server = start_metrics_server(0, addr="127.0.0.1", registry=registry)
    try:
        url = f"http://127.0.0.1:{server.server_port}/metrics"
        with urllib.request.urlopen(url, timeout=5) as response:
            text = response.read().decode()
    finally:
        server.shutdown()
        server.server_close()
    assert (
        samples(text)[("backyard_jobs_started_total", (("job", "SendEmail"), ("queue", "mail")))]
        == 3
    )


async def test_instrument_enqueue_counts_every_way_in(live_store: Queue) -> None:
    registry = CollectorRegistry()
    store = instrument_enqueue(live_store, registry)
    assert instrument_enqueue(store, registry) is store  # twice is harmless: no double counting
    await store.enqueue(Record())
    await store.enqueue(Record(), JobOptions(queue="other"))
    await store.enqueue_many([Record(), Record()])
    await store.enqueue(Parent(children=2))  # its children are enqueued by the worker, via ctx
    worker = Worker(store, queues=["default", "children"], poll_interval=0.01, stop_when_empty=True)
    await worker.run(install_signal_handlers=False)

    def enqueued(queue: str, job: str) -> float | None:
        return registry.get_sample_value(
            "backyard_jobs_enqueued_total", {"queue": queue, "job": job}
        )

    assert enqueued("default", "tests.Record") == 3
    assert enqueued("other", "tests.Record") == 1
    assert enqueued("default", "tests.Parent") == 1
    assert enqueued("children", "tests.Record") == 2


async def test_store_metrics_report_depths_oldest_wait_workers_and_outcomes(
    store: Queue, clock: FakeClock
) -> None:
    await push(store, queue="mail")
    clock.advance(10)
    await push(store, queue="mail")
    await push(store, queue="mail", run_at=store.now_datetime() + timedelta(hours=1))  # not due
    completed = await run_to(store, JobStatus.COMPLETED, queue="reports")
    clock.advance(30)

    values = samples((await store_metrics(store)).decode())

    def jobs(queue: str, status: str) -> float:
        return values[("backyard_queue_jobs", (("queue", queue), ("status", status)))]

    assert jobs("mail", "available") == 2
    assert jobs("mail", "scheduled") == 1
    assert jobs("mail", "dead") == 0
    assert jobs("reports", "completed") == 1
    # the oldest due job in mail has waited 40 s; reports has nobody waiting
    oldest = values[("backyard_queue_oldest_waiting_seconds", (("queue", "mail"),))]
    assert oldest == pytest.approx(40, abs=0.01)
    assert values[("backyard_queue_oldest_waiting_seconds", (("queue", "reports"),))] == 0
    assert values[("backyard_workers", ())] == 0

    # Into the minute after the completion's: that one is now the last complete minute.
    assert completed.finished_at is not None
    clock.now = (completed.finished_at.timestamp() // 60 + 1) * 60 + 5
    values = samples((await store_metrics(store)).decode())
    outcome = (
        "backyard_queue_outcomes_last_minute",
        (("outcome", "completed"), ("queue", "reports")),
    )
    assert values[outcome] == 1


async def test_the_dashboard_serves_store_metrics(live_store: Queue) -> None:
    await push(live_store, queue="mail")
    async with client_for(create_app(live_store)) as client:
        response = await client.get("/metrics")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain; version=0.0.4")
    values = samples(response.text)
    assert values[("backyard_queue_jobs", (("queue", "mail"), ("status", "available")))] == 1
