"""Capped exponential backoff with jitter: when a failed job runs again."""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import datetime, timedelta

from ._records import utcnow


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    """Delay before retry number ``n`` is ``base * factor**(n-1)``, capped at ``max_delay``.

    ``jitter`` is the fraction of that delay that is random: with the default
    0.5 a 8 s delay becomes anywhere from 4 s to 8 s. Randomness spreads the
    retries of many jobs that failed together (a database blip) so they do not
    come back as one thundering herd, while each retry still comes later, on
    average, than the one before.

    >>> RetryPolicy(base=timedelta(seconds=1), jitter=0).delay(4)
    datetime.timedelta(seconds=8)
    """

    base: timedelta = timedelta(seconds=1)
    factor: float = 2.0
    max_delay: timedelta = timedelta(hours=1)
    jitter: float = 0.5

    def __post_init__(self) -> None:
        if self.base < timedelta(0) or self.max_delay < timedelta(0):
            raise ValueError("RetryPolicy delays must not be negative")
        if self.factor < 1:
            raise ValueError("RetryPolicy.factor must be at least 1")
        if not 0 <= self.jitter <= 1:
            raise ValueError("RetryPolicy.jitter must be between 0 and 1")

    def delay(self, retry: int) -> timedelta:
        """The delay before retry number ``retry`` (1 for the first retry)."""
        exponent = max(0, retry - 1)
        cap = self.max_delay.total_seconds()
        try:
            seconds = min(cap, self.base.total_seconds() * self.factor**exponent)
        except OverflowError:
            seconds = cap
        if self.jitter:
            seconds -= seconds * self.jitter * random.random()
        return timedelta(seconds=seconds)

    def next_retry_at(self, retry: int, now: datetime | None = None) -> datetime:
        return (now or utcnow()) + self.delay(retry)


DEFAULT_RETRY_POLICY = RetryPolicy()


def next_retry_at(attempt: int, now: datetime | None = None) -> datetime:
    """When retry number ``attempt`` runs under the default policy (the seed crate's helper)."""
    return DEFAULT_RETRY_POLICY.next_retry_at(attempt, now)
