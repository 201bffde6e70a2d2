from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from backyard import RetryPolicy, next_retry_at


def test_backoff_doubles_and_is_capped() -> None:
    policy = RetryPolicy(base=timedelta(seconds=1), jitter=0, max_delay=timedelta(seconds=60))
    assert [policy.delay(n).total_seconds() for n in range(1, 9)] == [1, 2, 4, 8, 16, 32, 60, 60]
    assert policy.delay(10_000) == timedelta(seconds=60)


def test_jitter_stays_within_its_fraction() -> None:
    policy = RetryPolicy(base=timedelta(seconds=8), jitter=0.5)
    delays = [policy.delay(1).total_seconds() for _ in range(500)]
    assert all(4 <= d <= 8 for d in delays)
    assert len(set(delays)) > 100


def test_each_retry_is_later_on_average() -> None:
    policy = RetryPolicy()
    means = [sum(policy.delay(n).total_seconds() for _ in range(200)) / 200 for n in range(1, 8)]
    assert means == sorted(means)


def test_default_helper_caps_at_one_hour() -> None:
    now = datetime(2026, 1, 1, tzinfo=UTC)
    assert next_retry_at(50, now) - now <= timedelta(hours=1)
    assert next_retry_at(1, now) > now


def test_invalid_policies_are_refused() -> None:
    with pytest.raises(ValueError):
        RetryPolicy(factor=0.5)
    with pytest.raises(ValueError):
        RetryPolicy(jitter=2)
