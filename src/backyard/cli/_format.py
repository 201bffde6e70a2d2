"""How the commands show jobs, workers and times: to people, and as JSON to scripts."""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from typing import Any

from rich import box
from rich.table import Table
from rich.text import Text

from .._records import JobRecord, JobStatus, WorkerInfo

STATUS_STYLE: dict[JobStatus, str] = {
    JobStatus.SCHEDULED: "cyan",
    JobStatus.AVAILABLE: "blue",
    JobStatus.RUNNING: "yellow",
    JobStatus.COMPLETED: "green",
    JobStatus.DEAD: "bold red",
    JobStatus.CANCELLED: "dim",
}

#: The order statuses appear in, in tables and in JSON.
STATUS_ORDER: tuple[JobStatus, ...] = tuple(JobStatus)  # a job's life, in definition order


def status_text(status: JobStatus) -> Text:
    return Text(status.value, style=STATUS_STYLE[status])


def human_duration(delta: timedelta | float) -> str:
    """``timedelta(seconds=3725)`` -> ``"1h 2m"``: the two largest units, rounded down."""
    total = delta.total_seconds() if isinstance(delta, timedelta) else float(delta)
    if total < 1:
        return f"{total * 1000:.0f}ms" if total > 0 else "0s"
    if total < 60:
        return f"{total:.0f}s" if total >= 10 else f"{total:.1f}s".replace(".0s", "s")
    parts = []
    remaining = int(total)
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60), ("s", 1)):
        if remaining >= size:
            parts.append(f"{remaining // size}{unit}")
            remaining %= size
        if len(parts) == 2:
            break
    return " ".join(parts)


def relative(moment: datetime, now: datetime) -> str:
    """``"in 5m"``, ``"3h 2m ago"`` or ``"now"``."""
    delta = (moment - now).total_seconds()
    if abs(delta) < 1:
        return "now"
    return f"in {human_duration(delta)}" if delta > 0 else f"{human_duration(-delta)} ago"


def timestamp(moment: datetime | None, now: datetime) -> str:
    """Absolute UTC time plus how far from now, for ``jobs show``."""
    if moment is None:
        return "-"
    return f"{moment:%Y-%m-%d %H:%M:%S} UTC ({relative(moment, now)})"


def first_line(text: str | None, width: int = 80) -> str:
    if not text:
        return ""
    line = text.strip().splitlines()[0] if text.strip() else ""
    return line if len(line) <= width else line[: width - 1] + "…"


def attempts(record: JobRecord) -> str:
    """``"2/4"``: attempts made out of the most it may get (``max_retries + 1``)."""
    return f"{record.attempt}/{record.max_retries + 1}"


def when(record: JobRecord, now: datetime) -> str:
    """The one time that matters for the job's status, relative to now.

    Finished jobs: when they finished; running: when they started; waiting:
    when they are due (``"now"`` once they are).
    """
    if record.status.is_final and record.finished_at is not None:
        return relative(record.finished_at, now)
    if record.status is JobStatus.RUNNING and record.started_at is not None:
        return relative(record.started_at, now)
    if record.run_at <= now:
        return "now"
    return relative(record.run_at, now)


def payload_value(payload: str) -> Any:
    """The stored payload as JSON data; the raw text if it does not parse."""
    try:
        return json.loads(payload)
    except ValueError:
        return payload


def job_json(record: JobRecord) -> dict[str, Any]:
    """A job for ``--json`` output: ``JobRecord.to_dict`` with the payload as an object."""
    data = record.to_dict()
    data["payload"] = payload_value(record.payload)
    return data


def worker_json(info: WorkerInfo) -> dict[str, Any]:
    data = info.to_dict()
    data["started_at"] = info.started_at.isoformat()
    data["last_seen"] = info.last_seen.isoformat()
    return data


def table(*columns: str, title: str | None = None) -> Table:
    """A compact table with a rule under the header; the caller adds rows.

    Every column but the last keeps to one line (ids must stay whole to be
    copied); on a narrow terminal the last column is the one that gives.
    """
    grid = Table(
        title=title,
        title_justify="left",
        title_style="bold",
        header_style="bold",
        box=box.SIMPLE_HEAD,
        padding=(0, 1, 0, 0),
        pad_edge=False,
    )
    for index, name in enumerate(columns):
        last = index == len(columns) - 1
        grid.add_column(name, no_wrap=not last, overflow="fold" if last else "ellipsis")
    return grid


def keep_whole(grid: Table, *indexes: int) -> None:
    """Never shorten these columns (ids, statuses): a shortened id cannot be copied."""
    for index in indexes:
        column = grid.columns[index]
        column.min_width = max(len(str(cell)) for cell in [column.header, *column.cells])
