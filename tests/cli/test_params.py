"""The one duration syntax every command accepts."""

from __future__ import annotations

from datetime import timedelta

import pytest

from backyard.cli._format import human_duration
from backyard.cli._params import parse_duration


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("30s", timedelta(seconds=30)),
        ("15m", timedelta(minutes=15)),
        ("12h", timedelta(hours=12)),
        ("7d", timedelta(days=7)),
        ("2w", timedelta(weeks=2)),
        ("500ms", timedelta(milliseconds=500)),
        ("1h30m", timedelta(hours=1, minutes=30)),
        ("1.5s", timedelta(seconds=1.5)),
        ("45", timedelta(seconds=45)),
        (" 7D ", timedelta(days=7)),
        ("0s", timedelta(0)),
        ("604800.000s", timedelta(days=7)),
    ],
)
def test_durations(text: str, expected: timedelta) -> None:
    assert parse_duration(text) == expected


@pytest.mark.parametrize(
    "text", ["", "s", "7 days", "-5m", "5x", "1e3s", "m5", "1h 30m", "nan", "7d!"]
)
def test_garbage_is_rejected(text: str) -> None:
    with pytest.raises(ValueError, match="is not a duration: use a number and a unit"):
        parse_duration(text)


@pytest.mark.parametrize(
    ("seconds", "text"),
    [(0, "0s"), (0.25, "250ms"), (1.5, "1.5s"), (42, "42s"), (3725, "1h 2m"), (90061, "1d 1h")],
)
def test_human_durations(seconds: float, text: str) -> None:
    assert human_duration(seconds) == text
