"""Shared pieces of the benchmark scripts: timing, percentiles, a results table.

Every script measures the same four things the same way, so figures from
different backends and libraries sit side by side:

- enqueue jobs/s, one at a time and in bulk;
- processing jobs/s of a no-op job for one worker process at concurrency 10
  (and for two processes);
- latency from enqueue to the job starting, p50/p99 in ms, with an idle worker.
"""

from __future__ import annotations

import statistics
import time
from collections.abc import Iterable
from dataclasses import dataclass

from rich.console import Console
from rich.table import Table

# Wide enough for the results table when output goes to a file or CI log.
console = Console(width=150)


@dataclass
class Result:
    system: str  # "backyard sqlite", "huey sqlite", ...
    metric: str  # "enqueue one", "enqueue bulk", "process 1 proc c=10", "latency"
    value: float
    unit: str  # "jobs/s" or "ms"
    note: str = ""


def rate(count: int, seconds: float) -> float:
    return count / seconds if seconds > 0 else float("inf")


def percentile(values: Iterable[float], pct: float) -> float:
    ordered = sorted(values)
    if not ordered:
        return float("nan")
    k = (len(ordered) - 1) * pct / 100
    lo, hi = int(k), min(int(k) + 1, len(ordered) - 1)
    return ordered[lo] + (ordered[hi] - ordered[lo]) * (k - lo)


def median(values: Iterable[float]) -> float:
    return statistics.median(list(values))


class Stopwatch:
    def __enter__(self) -> Stopwatch:
        self.start = time.perf_counter()
        self.elapsed = 0.0
        return self

    def __exit__(self, *exc: object) -> None:
        self.elapsed = time.perf_counter() - self.start


def print_results(title: str, results: list[Result], baseline_prefix: str = "backyard") -> None:
    """One table; each metric's competitors get a ratio against backyard's figure."""
    table = Table(title=title)
    for column in ("metric", "system", "value", "vs backyard", "note"):
        table.add_column(column, justify="right" if column in ("value", "vs backyard") else "left")
    by_metric: dict[str, list[Result]] = {}
    for result in results:
        by_metric.setdefault(result.metric, []).append(result)
    for metric, rows in by_metric.items():
        ours = next((r for r in rows if r.system.startswith(baseline_prefix)), None)
        for row in rows:
            ratio = ""
            if (
                ours is not None
                and not row.system.startswith("backyard")
                and row.value
                and ours.value
            ):
                # For latency lower is better: print how many times faster backyard is either way.
                times = ours.value / row.value if row.unit != "ms" else row.value / ours.value
                ratio = f"backyard {times:.1f}x"
            value = f"{row.value:,.0f} {row.unit}" if row.unit != "ms" else f"{row.value:.2f} ms"
            table.add_row(metric, row.system, value, ratio, row.note)
    console.print(table)
