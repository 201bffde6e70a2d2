"""What the overview page shows, computed from the store: per-queue counts,
recent outcomes, the oldest waiting job, and the throughput chart's bars."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from .._queue import Queue
from .._records import JobStatus, StatsBucket, WorkerInfo, from_timestamp, to_timestamp
from ..metrics import oldest_waiting_ages

CHART_MINUTES = 30
RECENT_MINUTES = 5


@dataclass(slots=True)
class Outcomes:
    completed: int = 0
    failed: int = 0  # attempts that raised and will be retried
    dead: int = 0

    def add(self, bucket: StatsBucket) -> None:
        self.completed += bucket.completed
        self.failed += bucket.failed
        self.dead += bucket.dead

    @property
    def attempts(self) -> int:
        return self.completed + self.failed + self.dead

    @property
    def failure_rate(self) -> float | None:
        """Share of finished attempts that failed (retried or dead); None with no attempts."""
        return (self.failed + self.dead) / self.attempts if self.attempts else None


@dataclass(slots=True)
class QueueSummary:
    name: str
    counts: dict[JobStatus, int]
    recent: Outcomes = field(default_factory=Outcomes)
    oldest_wait: float | None = None  # seconds the oldest due job has waited


@dataclass(slots=True)
class Segment:
    kind: str  # completed, failed or dead: the CSS class
    y: float
    height: float


@dataclass(slots=True)
class Bar:
    minute: datetime
    x: float
    outcomes: Outcomes
    segments: list[Segment]


@dataclass(slots=True)
class Chart:
    """Per-minute stacked bars of outcomes, as SVG geometry (drawn by the template)."""

    bars: list[Bar]
    peak: int
    width: float
    height: float
    bar_width: float


@dataclass(slots=True)
class Overview:
    queues: list[QueueSummary]
    totals: dict[JobStatus, int]
    recent: Outcomes
    chart: Chart
    workers: list[WorkerInfo]
    recent_minutes: int = RECENT_MINUTES
    chart_minutes: int = CHART_MINUTES


async def build_overview(store: Queue) -> Overview:
    """Read everything the overview shows, a handful of store calls in all."""
    now = store.now()
    depths = await store.queue_depths()
    ages = await oldest_waiting_ages(store, depths)
    buckets = await store.stats(from_timestamp(now - CHART_MINUTES * 60))
    workers = await store.workers()

    this_minute = int(now // 60) * 60
    recent_from = this_minute - (RECENT_MINUTES - 1) * 60
    queues = {
        name: QueueSummary(name, dict(counts), oldest_wait=ages.get(name))
        for name, counts in depths.items()
    }
    recent = Outcomes()
    per_minute: dict[int, Outcomes] = {}
    for bucket in buckets:
        minute = int(to_timestamp(bucket.minute))
        per_minute.setdefault(minute, Outcomes()).add(bucket)
        if minute >= recent_from:
            recent.add(bucket)
            # A queue emptied and pruned still had outcomes worth showing.
            queues.setdefault(
                bucket.queue, QueueSummary(bucket.queue, dict.fromkeys(JobStatus, 0))
            ).recent.add(bucket)

    totals = dict.fromkeys(JobStatus, 0)
    for summary in queues.values():
        for status, count in summary.counts.items():
            totals[status] += count
    minutes = [this_minute - 60 * back for back in range(CHART_MINUTES - 1, -1, -1)]
    return Overview(
        queues=sorted(queues.values(), key=lambda q: q.name),
        totals=totals,
        recent=recent,
        chart=draw_chart([(m, per_minute.get(m, Outcomes())) for m in minutes]),
        workers=workers,
    )


def draw_chart(
    minutes: list[tuple[int, Outcomes]], width: float = 600.0, height: float = 120.0
) -> Chart:
    """Stacked bars, completed at the bottom, then retried, then dead on top."""
    peak = max((o.attempts for _, o in minutes), default=0)
    scale = (height - 4) / peak if peak else 0.0
    slot = width / max(1, len(minutes))
    bar_width = max(1.0, slot - 2)
    bars = []
    for index, (minute, outcomes) in enumerate(minutes):
        segments = []
        top = height
        for kind, count in (
            ("completed", outcomes.completed),
            ("failed", outcomes.failed),
            ("dead", outcomes.dead),
        ):
            if count:
                # At least one pixel, so a single dead job is never invisible.
                h = max(1.0, count * scale)
                top -= h
                segments.append(Segment(kind, round(top, 2), round(h, 2)))
        bars.append(Bar(from_timestamp(minute), round(index * slot + 1, 2), outcomes, segments))
    return Chart(bars=bars, peak=peak, width=width, height=height, bar_width=round(bar_width, 2))
