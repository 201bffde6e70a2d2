"""Per-enqueue options, merged over the job type's defaults and the global ones."""

from __future__ import annotations

from dataclasses import dataclass, fields, replace
from datetime import datetime, timedelta

from ._errors import ConfigurationError
from ._records import utcnow

DEFAULT_QUEUE = "default"
DEFAULT_MAX_RETRIES = 3
DEFAULT_PRIORITY = 0


def _seconds(value: timedelta | float | None) -> float | None:
    if value is None:
        return None
    if isinstance(value, timedelta):
        return value.total_seconds()
    return float(value)


@dataclass(frozen=True, slots=True)
class JobOptions:
    """How and when a job runs. Every field left as ``None`` falls back.

    Options given at enqueue override the job type's ``options()``, which
    override the defaults: queue ``"default"``, ``max_retries`` 3 (retries
    after the first attempt), ``priority`` 0 (higher runs first), no delay,
    no timeout.

    ``delay`` (a ``timedelta`` or seconds) and ``at`` (an absolute time) both
    schedule the job; give one of them, not both.
    """

    queue: str | None = None
    delay: timedelta | float | None = None
    at: datetime | None = None
    max_retries: int | None = None
    priority: int | None = None
    timeout: timedelta | float | None = None

    def __post_init__(self) -> None:
        if self.delay is not None and self.at is not None:
            raise ConfigurationError(
                "JobOptions takes delay or at, not both: "
                f"got delay={self.delay!r} and at={self.at!r}"
            )
        if self.queue is not None and (not self.queue or not self.queue.strip()):
            raise ConfigurationError("JobOptions.queue must be a non-empty name")
        if self.max_retries is not None and self.max_retries < 0:
            raise ConfigurationError(
                f"JobOptions.max_retries must be 0 or more, got {self.max_retries}"
            )
        delay = _seconds(self.delay)
        if delay is not None and delay < 0:
            raise ConfigurationError(f"JobOptions.delay must not be negative, got {self.delay!r}")
        timeout = _seconds(self.timeout)
        if timeout is not None and timeout <= 0:
            raise ConfigurationError(f"JobOptions.timeout must be positive, got {self.timeout!r}")

    def merged_over(self, base: JobOptions) -> JobOptions:
        """These options with every unset field taken from ``base``.

        ``delay`` and ``at`` are one choice: setting either here replaces both.
        """
        changes = {
            f.name: getattr(self, f.name) for f in fields(self) if getattr(self, f.name) is not None
        }
        if "delay" in changes or "at" in changes:
            changes.setdefault("delay", None)
            changes.setdefault("at", None)
        return replace(base, **changes)

    # Resolved values, with the global defaults applied.

    @property
    def resolved_queue(self) -> str:
        return self.queue or DEFAULT_QUEUE

    @property
    def resolved_max_retries(self) -> int:
        return DEFAULT_MAX_RETRIES if self.max_retries is None else self.max_retries

    @property
    def resolved_priority(self) -> int:
        return DEFAULT_PRIORITY if self.priority is None else self.priority

    @property
    def timeout_seconds(self) -> float | None:
        return _seconds(self.timeout)

    def run_at(self, now: datetime | None = None) -> datetime | None:
        """The scheduled time: ``at``, else now + ``delay``, else None (run now)."""
        if self.at is not None:
            if self.at.tzinfo is None:
                raise ConfigurationError(
                    f"JobOptions.at must be timezone-aware (got naive {self.at!r}); "
                    "use datetime.now(UTC) or attach a tzinfo"
                )
            return self.at
        delay = _seconds(self.delay)
        if delay:
            return (now or utcnow()) + timedelta(seconds=delay)
        return None
