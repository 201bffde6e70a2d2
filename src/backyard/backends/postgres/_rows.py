"""Turning rows into records, and records' errors into JSON.

Decoding is tolerant: a row edited by hand, or written by a buggy tool,
must not make ``claim`` or ``get`` raise, or one bad row would stop a
worker (a claim that cannot be decoded leaves its whole batch running with
nobody working on it) and hide a job from the dashboard. A malformed error
history becomes one readable entry saying what was found instead.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import Any

from ..._records import JobError, JobRecord, JobStatus, WorkerInfo, from_timestamp

_EPOCH = from_timestamp(0)
_SHOWN = 200  # characters of a garbled value quoted in the error that replaces it


def errors_json(errors: Iterable[JobError]) -> str:
    """A JSON array of errors, ready to append to the ``errors`` column with ``||``."""
    return json.dumps([error.to_dict() for error in errors])


def decode_errors(raw: str | None) -> tuple[JobError, ...]:
    if not raw or raw == "[]":
        return ()
    try:
        items = json.loads(raw)
    except ValueError:
        return (_unreadable(raw),)
    if not isinstance(items, list):
        return (_unreadable(raw),)
    decoded = []
    for item in items:
        try:
            decoded.append(JobError.from_dict(item))
        except (KeyError, TypeError, ValueError, OverflowError, AttributeError):
            decoded.append(_unreadable(json.dumps(item)))
    return tuple(decoded)


def _unreadable(text: str) -> JobError:
    shown = text if len(text) <= _SHOWN else text[:_SHOWN] + "…"
    return JobError(
        attempt=0,
        at=_EPOCH,
        message=f"unreadable error entry in the database: {shown}",
    )


def job_record(row: Mapping[str, Any], now: datetime) -> JobRecord:
    status = JobStatus(row["status"])
    run_at: datetime = row["run_at"]
    if status is JobStatus.AVAILABLE and run_at > now:
        status = JobStatus.SCHEDULED
    return JobRecord(
        id=str(row["id"]),
        name=row["name"],
        queue=row["queue"],
        payload=row["payload"],
        status=status,
        priority=row["priority"],
        attempt=row["attempt"],
        max_retries=row["max_retries"],
        run_at=run_at,
        enqueued_at=row["enqueued_at"],
        timeout=row["timeout"],
        started_at=row["started_at"],
        finished_at=row["finished_at"],
        lease_expires_at=row["lease_expires_at"],
        worker_id=row["worker_id"],
        errors=decode_errors(row["errors"]),
    )


def worker_info(row: Mapping[str, Any]) -> WorkerInfo:
    return WorkerInfo(
        id=row["id"],
        host=row["host"],
        pid=row["pid"],
        queues=tuple(row["queues"]),
        concurrency=row["concurrency"],
        started_at=row["started_at"],
        last_seen=row["last_seen"],
        running=row["running"],
        processed=row["processed"],
        failed=row["failed"],
    )
