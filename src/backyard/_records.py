"""The plain data that crosses the storage contract.

Backends store and return these; nothing here knows about job classes,
retry policy or workers.
"""

from __future__ import annotations

import enum
import os
import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from typing import Any


class JobStatus(enum.StrEnum):
    """Where a job is in its life.

    ``scheduled`` and ``available`` are both "waiting"; a job is reported as
    ``scheduled`` while its ``run_at`` lies in the future.
    """

    SCHEDULED = "scheduled"
    AVAILABLE = "available"
    RUNNING = "running"
    COMPLETED = "completed"
    DEAD = "dead"
    CANCELLED = "cancelled"

    @property
    def is_final(self) -> bool:
        return self in FINAL_STATUSES


FINAL_STATUSES = frozenset({JobStatus.COMPLETED, JobStatus.DEAD, JobStatus.CANCELLED})
PENDING_STATUSES = frozenset({JobStatus.SCHEDULED, JobStatus.AVAILABLE})


def utcnow() -> datetime:
    return datetime.now(UTC)


def to_timestamp(moment: datetime) -> float:
    """Seconds since the epoch; naive datetimes are taken to be UTC."""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.timestamp()


def from_timestamp(seconds: float) -> datetime:
    return datetime.fromtimestamp(seconds, UTC)


def new_job_id() -> str:
    """A UUID in the version 7 layout: time-ordered, so ids sort roughly by creation."""
    return new_job_ids(1)[0]


# The hex digit that carries the RFC 4122 variant (binary 10) in its top two
# bits and two random bits below, for each random hex digit.
_VARIANT_DIGIT = {digit: "89ab"[int(digit, 16) & 3] for digit in "0123456789abcdef"}


def new_job_ids(count: int) -> list[str]:
    """``count`` ids as ``new_job_id`` makes them, for a bulk enqueue.

    One clock reading and one ``os.urandom`` call for the whole batch, sliced
    as hex: building each id from its own integer cost more than storing
    the job on Redis. The layout is UUIDv7's: 48 bits of Unix milliseconds,
    the version (7), 12 random bits, the variant, 62 random bits.
    """
    millis = f"{time.time_ns() // 1_000_000 & 0xFFFF_FFFF_FFFF:012x}"
    head = f"{millis[:8]}-{millis[8:12]}-7"
    rand = os.urandom(10 * count).hex()  # 20 hex digits per id, 19 used
    variant = _VARIANT_DIGIT
    return [
        f"{head}{rand[i : i + 3]}-{variant[rand[i + 3]]}{rand[i + 4 : i + 7]}-{rand[i + 7 : i + 19]}"
        for i in range(0, 20 * count, 20)
    ]


@dataclass(frozen=True, slots=True)
class JobError:
    """One failed attempt: what was raised, and where."""

    attempt: int
    at: datetime
    message: str
    traceback: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "attempt": self.attempt,
            "at": to_timestamp(self.at),
            "message": self.message,
            "traceback": self.traceback,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> JobError:
        return cls(
            attempt=int(data["attempt"]),
            at=from_timestamp(float(data["at"])),
            message=str(data["message"]),
            traceback=data.get("traceback"),
        )


def lease_expired_error(attempt: int, worker_id: str | None, now: float) -> JobError:
    """The error every backend's ``rescue`` records for a job whose worker went away."""
    return JobError(
        attempt=attempt,
        at=from_timestamp(now),
        message=(
            f"lease expired: worker {worker_id} stopped heartbeating "
            "(it crashed, was killed, or lost its connection)"
        ),
    )


@dataclass(frozen=True, slots=True)
class EnqueueRequest:
    """A job ready to be stored: its wire name, JSON payload and resolved options."""

    name: str
    payload: str
    queue: str = "default"
    priority: int = 0
    max_retries: int = 3
    run_at: datetime | None = None  # None: now
    timeout: float | None = None  # seconds
    id: str = field(default_factory=new_job_id)


# The slots' descriptors, whose __set__ fills a field of a frozen instance.
_new = object.__new__
_SET_NAME, _SET_PAYLOAD, _SET_QUEUE, _SET_PRIORITY = (
    EnqueueRequest.__dict__[name].__set__ for name in ("name", "payload", "queue", "priority")
)
_SET_MAX_RETRIES, _SET_RUN_AT, _SET_TIMEOUT, _SET_ID = (
    EnqueueRequest.__dict__[name].__set__ for name in ("max_retries", "run_at", "timeout", "id")
)


def request_maker(
    name: str,
    queue: str,
    priority: int,
    max_retries: int,
    run_at: datetime | None,
    timeout: float | None,
) -> Callable[[str, str], EnqueueRequest]:
    """``make(payload, id)``: an ``EnqueueRequest`` with these shared fields, made fast.

    The same object ``EnqueueRequest(name, payload, queue, ..., id=id)``
    makes, for ``enqueue_many``'s loop: a frozen dataclass's ``__init__``
    sets each field through ``object.__setattr__``, which cost more per job
    than encoding the payload. The slots' own descriptors set them directly.
    """

    def make(payload: str, job_id: str) -> EnqueueRequest:
        request: EnqueueRequest = _new(EnqueueRequest)
        _SET_NAME(request, name)
        _SET_PAYLOAD(request, payload)
        _SET_QUEUE(request, queue)
        _SET_PRIORITY(request, priority)
        _SET_MAX_RETRIES(request, max_retries)
        _SET_RUN_AT(request, run_at)
        _SET_TIMEOUT(request, timeout)
        _SET_ID(request, job_id)
        return request

    return make


@dataclass(frozen=True, slots=True)
class JobRecord:
    """A stored job, as a backend returns it."""

    id: str
    name: str
    queue: str
    payload: str
    status: JobStatus
    priority: int
    attempt: int  # how many times it has been claimed; 0 before the first run
    max_retries: int
    run_at: datetime
    enqueued_at: datetime
    timeout: float | None = None
    started_at: datetime | None = None
    finished_at: datetime | None = None
    lease_expires_at: datetime | None = None
    worker_id: str | None = None
    errors: tuple[JobError, ...] = ()

    @property
    def retries_left(self) -> int:
        return max(0, self.max_retries + 1 - self.attempt)

    @property
    def last_error(self) -> JobError | None:
        return self.errors[-1] if self.errors else None

    def evolve(self, **changes: Any) -> JobRecord:
        return replace(self, **changes)

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready view, used by the command line and the dashboard."""

        def iso(moment: datetime | None) -> str | None:
            return moment.isoformat() if moment else None

        return {
            "id": self.id,
            "name": self.name,
            "queue": self.queue,
            "status": self.status.value,
            "payload": self.payload,
            "priority": self.priority,
            "attempt": self.attempt,
            "max_retries": self.max_retries,
            "timeout": self.timeout,
            "run_at": iso(self.run_at),
            "enqueued_at": iso(self.enqueued_at),
            "started_at": iso(self.started_at),
            "finished_at": iso(self.finished_at),
            "lease_expires_at": iso(self.lease_expires_at),
            "worker_id": self.worker_id,
            "errors": [{**error.to_dict(), "at": error.at.isoformat()} for error in self.errors],
        }


@dataclass(frozen=True, slots=True)
class RescueResult:
    """What one pass of ``Queue.rescue`` did with jobs whose lease had expired."""

    requeued: int = 0
    dead: int = 0


@dataclass(frozen=True, slots=True)
class WorkerInfo:
    """A live worker, as it registers itself for the dashboard and the CLI."""

    id: str
    host: str
    pid: int
    queues: tuple[str, ...]
    concurrency: int
    started_at: datetime
    last_seen: datetime
    running: int = 0
    processed: int = 0
    failed: int = 0

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "host": self.host,
            "pid": self.pid,
            "queues": list(self.queues),
            "concurrency": self.concurrency,
            "started_at": to_timestamp(self.started_at),
            "last_seen": to_timestamp(self.last_seen),
            "running": self.running,
            "processed": self.processed,
            "failed": self.failed,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> WorkerInfo:
        return cls(
            id=str(data["id"]),
            host=str(data["host"]),
            pid=int(data["pid"]),
            queues=tuple(data["queues"]),
            concurrency=int(data["concurrency"]),
            started_at=from_timestamp(float(data["started_at"])),
            last_seen=from_timestamp(float(data["last_seen"])),
            running=int(data.get("running", 0)),
            processed=int(data.get("processed", 0)),
            failed=int(data.get("failed", 0)),
        )


@dataclass(frozen=True, slots=True)
class StatsBucket:
    """Outcomes counted per queue and minute, for throughput and failure-rate charts."""

    minute: datetime
    queue: str
    completed: int = 0
    failed: int = 0  # attempts that raised and were scheduled for retry
    dead: int = 0
