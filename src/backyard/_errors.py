"""Exceptions users see, and the ones jobs raise to steer their own retries."""

from __future__ import annotations

from datetime import datetime, timedelta


class BackyardError(Exception):
    """Base class of every error backyard raises."""


class ConfigurationError(BackyardError):
    """Bad settings: a malformed URL, conflicting options, a duplicate job name."""


class UnknownJobError(BackyardError):
    """No job class is registered under a stored job's ``NAME``."""


class PayloadError(BackyardError):
    """A stored payload that does not decode into its job class."""


class StorageError(BackyardError):
    """The storage backend failed: unreachable, locked, or returned a bad row."""


class Retry(Exception):  # noqa: N818 - raised by jobs as a request, like StopIteration
    """Raise from ``execute`` to retry the job at a chosen time.

    The attempt counts against ``max_retries``; when no retries are left the
    job goes to dead as usual. Give ``delay`` or ``at``, not both; with
    neither, the job type's retry policy decides.
    """

    def __init__(
        self,
        reason: str = "retry requested",
        *,
        delay: timedelta | float | None = None,
        at: datetime | None = None,
    ) -> None:
        if delay is not None and at is not None:
            raise ConfigurationError("Retry takes delay or at, not both")
        super().__init__(reason)
        self.reason = reason
        self.delay = delay
        self.at = at


class Discard(Exception):  # noqa: N818 - raised by jobs as a request
    """Raise from ``execute`` to stop retrying: the job goes to dead at once."""

    def __init__(self, reason: str = "discarded by the job") -> None:
        super().__init__(reason)
        self.reason = reason


class JobTimeout(BackyardError):  # noqa: N818 - reads as what happened
    """The job ran longer than its ``timeout``."""
