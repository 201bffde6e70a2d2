"""The worker's log records carry the job's fields, and the JSON formatter in docs/metrics.md uses them."""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Iterator
from pathlib import Path

import pytest

from backyard import Queue, Worker

from ..jobs import AlwaysFails, Record

DOC = Path(__file__).resolve().parents[2] / "docs" / "metrics.md"
JOB_FIELDS = ("job_id", "job_name", "queue", "attempt", "worker_id")


class Collect(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)


@pytest.fixture
def worker_log() -> Iterator[Collect]:
    logger = logging.getLogger("backyard.worker")
    handler, level = Collect(), logger.level
    logger.addHandler(handler)
    logger.setLevel(logging.DEBUG)
    try:
        yield handler
    finally:
        logger.removeHandler(handler)
        logger.setLevel(level)


async def run_jobs(store: Queue) -> tuple[str, str]:
    ok = await store.enqueue(Record())
    bad = await store.enqueue(AlwaysFails())
    worker = Worker(store, poll_interval=0.01, stop_when_empty=True, worker_id="w-test")
    await worker.run(install_signal_handlers=False)
    return ok, bad


async def test_job_records_carry_the_fields_as_attributes(
    live_store: Queue, worker_log: Collect
) -> None:
    ok, bad = await run_jobs(live_store)
    by_job: dict[str, list[logging.LogRecord]] = {}
    for record in worker_log.records:
        if hasattr(record, "job_id"):
            by_job.setdefault(record.job_id, []).append(record)
    assert set(by_job) == {ok, bad}
    for records in by_job.values():
        for record in records:
            assert {
                field: getattr(record, field, None) is not None for field in JOB_FIELDS
            } == dict.fromkeys(JOB_FIELDS, True)
            assert record.worker_id == "w-test" and record.queue == "default"  # type: ignore[attr-defined]

    outcomes = [(r.attempt, r.outcome, r.levelname) for r in by_job[bad] if hasattr(r, "outcome")]  # type: ignore[attr-defined]
    assert outcomes == [(1, "retry", "WARNING"), (2, "retry", "WARNING"), (3, "dead", "ERROR")]
    [done] = [r for r in by_job[ok] if hasattr(r, "outcome")]
    assert done.outcome == "completed" and done.job_name == "tests.Record"  # type: ignore[attr-defined]
    assert isinstance(done.duration, float) and done.duration >= 0  # type: ignore[attr-defined]


def docs_json_formatter() -> type[logging.Formatter]:
    """The ``JsonFormatter`` class exactly as docs/metrics.md shows it."""
    blocks = re.findall(r"```python\n(.*?)```", DOC.read_text(), re.S)
    [block] = [b for b in blocks if "class JsonFormatter" in b]
    namespace: dict[str, object] = {}
    exec(block, namespace)  # the doc's sample also installs its handler: take it off again
    logging.getLogger("backyard").removeHandler(namespace["handler"])  # type: ignore[arg-type]
    logging.getLogger("backyard").setLevel(logging.NOTSET)
    formatter = namespace["JsonFormatter"]
    assert isinstance(formatter, type) and issubclass(formatter, logging.Formatter)
    return formatter


async def test_the_documented_json_formatter_writes_the_fields(
    live_store: Queue, worker_log: Collect
) -> None:
    formatter = docs_json_formatter()()
    _, bad = await run_jobs(live_store)
    lines = [json.loads(formatter.format(r)) for r in worker_log.records if hasattr(r, "job_id")]
    [dead] = [line for line in lines if line.get("outcome") == "dead"]
    assert dead["job_id"] == bad and dead["job_name"] == "tests.AlwaysFails"
    assert dead["level"] == "ERROR" and dead["attempt"] == 3 and dead["worker_id"] == "w-test"
    assert "is dead after attempt 3" in dead["message"]
    assert isinstance(dead["duration"], float)
