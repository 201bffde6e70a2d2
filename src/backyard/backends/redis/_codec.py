"""Job hashes and script replies to ``JobRecord``, and errors to JSON.

Timestamps are stored as the client's ``repr(float)`` strings, which read
back exactly.
"""

from __future__ import annotations

import json
from typing import Any

from ..._records import JobError, JobRecord, JobStatus, from_timestamp

_STATUSES = {status.value: status for status in JobStatus}


def ts(value: float) -> str:
    """A timestamp as stored: the shortest string that reads back as the same float."""
    return repr(float(value))


def error_json(error: JobError) -> str:
    return json.dumps(error.to_dict(), separators=(",", ":"))


def decode_errors(raw: str | None) -> tuple[JobError, ...]:
    if not raw:
        return ()
    return tuple(JobError.from_dict(item) for item in json.loads(raw))


def _opt_time(raw: str | None) -> Any:
    return None if raw is None else from_timestamp(float(raw))


def record_from_hash(job_id: str, data: dict[str, str], now: float) -> JobRecord:
    """A stored job; a waiting job whose run_at is in the future reads as scheduled.

    push.lua leaves out fields at their defaults: attempt and priority 0,
    run_at equal to enqueued_at, no timeout.
    """
    status = _STATUSES[data["status"]]
    enqueued_at = float(data["enqueued_at"])
    run_at = float(data.get("run_at", enqueued_at))
    if status is JobStatus.AVAILABLE and run_at > now:
        status = JobStatus.SCHEDULED
    timeout = data.get("timeout")
    return JobRecord(
        id=job_id,
        name=data["name"],
        queue=data["queue"],
        payload=data["payload"],
        status=status,
        priority=int(data.get("priority", 0)),
        attempt=int(data.get("attempt", 0)),
        max_retries=int(data["max_retries"]),
        run_at=from_timestamp(run_at),
        enqueued_at=from_timestamp(enqueued_at),
        timeout=None if timeout is None else float(timeout),
        started_at=_opt_time(data.get("started_at")),
        finished_at=_opt_time(data.get("finished_at")),
        lease_expires_at=_opt_time(data.get("lease_expires_at")),
        worker_id=data.get("worker_id"),
        errors=decode_errors(data.get("errors")),
    )


def record_from_claim(
    row: list[Any], started: Any, lease_expires: Any, worker_id: str
) -> JobRecord:
    """One job of claim.lua's reply (see the field order there)."""
    (
        job_id,
        name,
        queue,
        payload,
        priority,
        attempt,
        max_retries,
        run_at,
        enqueued,
        timeout,
        errors,
    ) = row
    return JobRecord(
        id=job_id,
        name=name,
        queue=queue,
        payload=payload,
        status=JobStatus.RUNNING,
        priority=int(priority),
        attempt=int(attempt),
        max_retries=int(max_retries),
        run_at=from_timestamp(float(run_at)),
        enqueued_at=from_timestamp(float(enqueued)),
        timeout=None if timeout in (None, False, "") else float(timeout),
        started_at=started,
        lease_expires_at=lease_expires,
        worker_id=worker_id,
        errors=decode_errors(errors or None),
    )


def record_from_handoff(raw: str) -> JobRecord:
    """A job push.lua claimed for a waiting worker: a claim row, then started, lease, worker."""
    row = json.loads(raw)
    started, lease_expires, worker_id = row[11:14]
    return record_from_claim(
        row[:11],
        from_timestamp(float(started)),
        from_timestamp(float(lease_expires)),
        worker_id,
    )
