"""What one run of a job came to, and what the store should do about it."""

from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import datetime

from .._records import JobError, JobRecord


class Verdict(enum.Enum):
    COMPLETED = "completed"
    RETRY = "retry"
    DEAD = "dead"


@dataclass(frozen=True, slots=True)
class Outcome:
    job: JobRecord
    verdict: Verdict
    duration: float
    error: JobError | None = None
    retry_at: datetime | None = None
