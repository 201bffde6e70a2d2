"""The short fault-injection run, on every backend (the long one: ``make chaos``)."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from ..backends import service_missing
from .harness import TARGETS, run


@pytest.mark.slow
@pytest.mark.parametrize(
    "backend", [pytest.param(name, marks=getattr(pytest.mark, name)) for name in TARGETS]
)
async def test_nothing_is_lost_under_faults(backend: str, tmp_path: Path) -> None:
    await require(backend)
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
    once = [fault.__name__.replace("_", " ") for fault in TARGETS[backend](tmp_path).once()]
    assert all(report.faults[name] == 1 for name in once)


async def require(backend: str) -> None:
    """The service a target needs: skip on a laptop without it, fail under CI."""
    if backend == "postgres":
        from ..backends import postgres_reachable

        if not await postgres_reachable():
            service_missing(
                "PostgreSQL at 127.0.0.1:5432",
                "pg_ctlcluster --skip-systemctl-redirect $(ls /etc/postgresql) main start",
            )
    elif backend == "redis" and shutil.which("redis-server") is None:
        service_missing(
            "redis-server (the chaos run starts a private one)", "apt-get install redis-server"
        )
