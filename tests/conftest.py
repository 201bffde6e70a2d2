from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from backyard import Queue

from .backends import BACKENDS, FakeClock, OpenStore


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture(
    params=[pytest.param(name, marks=getattr(pytest.mark, name)) for name in sorted(BACKENDS)]
)
def backend_name(request: pytest.FixtureRequest) -> str:
    name: str = request.param
    return name


@pytest.fixture
async def backend(
    backend_name: str, clock: FakeClock, tmp_path: Path
) -> AsyncIterator[tuple[Queue, OpenStore]]:
    """(store on a fake clock, opener of another connection to the same storage)."""
    async with BACKENDS[backend_name](clock, tmp_path) as pair:  # type: ignore[attr-defined]
        yield pair


@pytest.fixture
def store(backend: tuple[Queue, OpenStore]) -> Queue:
    return backend[0]


@pytest.fixture
async def live_backend(backend_name: str, tmp_path: Path) -> AsyncIterator[tuple[Queue, OpenStore]]:
    """Like ``backend`` but on the real clock, for tests that run real workers."""
    async with BACKENDS[backend_name](None, tmp_path) as pair:  # type: ignore[attr-defined]
        yield pair


@pytest.fixture
def live_store(live_backend: tuple[Queue, OpenStore]) -> Queue:
    return live_backend[0]
