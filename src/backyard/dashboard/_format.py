"""Jinja filters: times, durations and payloads as people read them."""

from __future__ import annotations

import json
from datetime import UTC, datetime

from .._records import to_timestamp


def span(seconds: float) -> str:
    """``42s``, ``3m 12s``, ``5h 02m``, ``3d 4h``: two units at most."""
    seconds = abs(seconds)
    if seconds < 1:
        return f"{seconds * 1000:.0f}ms"
    whole = int(seconds)
    if whole < 60:
        return f"{seconds:.1f}s" if seconds < 10 else f"{whole}s"
    minutes, secs = divmod(whole, 60)
    if minutes < 60:
        return f"{minutes}m {secs:02d}s"
    hours, minutes = divmod(minutes, 60)
    if hours < 24:
        return f"{hours}h {minutes:02d}m"
    days, hours = divmod(hours, 24)
    return f"{days}d {hours}h"


def relative(moment: datetime | None, now: datetime) -> str:
    """``3m 12s ago`` or ``in 5m 00s``; ``—`` for no time."""
    if moment is None:
        return "—"
    delta = to_timestamp(now) - to_timestamp(moment)
    if abs(delta) < 1:
        return "just now"
    return f"{span(delta)} ago" if delta > 0 else f"in {span(delta)}"


def timestamp(moment: datetime | None) -> str:
    """UTC, to the millisecond: ``2025-01-31 12:00:03.120 UTC``."""
    if moment is None:
        return "—"
    return to_iso(moment).replace("T", " ").replace("+00:00", " UTC")


def to_iso(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat(timespec="milliseconds")


def pretty_json(payload: str) -> str:
    """The payload indented; as stored if it is not valid JSON (a bad payload is worth seeing)."""
    try:
        return json.dumps(json.loads(payload), indent=2, ensure_ascii=False, sort_keys=True)
    except ValueError:
        return payload


def shorten(text: str | None, limit: int = 160) -> str:
    """The first line of ``text``, cut at ``limit`` characters."""
    if not text:
        return ""
    line = text.strip().splitlines()[0] if text.strip() else ""
    return line if len(line) <= limit else line[: limit - 1] + "…"
