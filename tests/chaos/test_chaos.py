"""The short fault-injection run, on every backend (the long one: ``make chaos``)."""

from __future__ import annotations

from pathlib import Path

import pytest

from .harness import TARGETS, run


@pytest.mark.slow
@pytest.mark.parametrize(
    "backend", [pytest.param(name, marks=getattr(pytest.mark, name)) for name in TARGETS]
)
async def test_nothing_is_lost_under_faults(backend: str, tmp_path: Path) -> None:
    report = await run(TARGETS[backend](tmp_path), jobs=1500, duration=15, workers=3, seed=7)
    print("\n".join(report.lines()))
    assert report.enqueued == 1500
    assert report.lost == 0
    assert report.stuck == 0
    assert report.good_dead == 0
    assert report.ran_twice_unexplained == 0
    assert report.poison_wrong == []
    assert report.dead == report.poisoned
    assert sum(report.faults.values()) >= 5
