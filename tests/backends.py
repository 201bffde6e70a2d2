"""The backends the conformance suite runs against, and how to reach each one.

A backend joins the suite by adding a factory here. Each factory yields an
opened store with a private namespace (a temp file, a schema, a key prefix)
and can open a second, independent connection to that same namespace (to
act as another worker process).
"""

from __future__ import annotations

import os
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Protocol

import pytest

from backyard import Queue, connect


class FakeClock:
    """A clock tests move by hand, so delays and leases need no sleeping."""

    def __init__(self) -> None:
        import time

        self.now = time.time()

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


OpenStore = Callable[[], Awaitable[Queue]]


class BackendFactory(Protocol):
    def __call__(
        self, clock: Callable[[], float] | None, tmp_path: Path
    ) -> AsyncIterator[tuple[Queue, OpenStore]]: ...


def service_missing(what: str, how: str) -> None:
    """Skip on a laptop without the service; fail under CI, where it must be there."""
    message = f"{what} is not reachable; start it with: {how}"
    if os.environ.get("CI", "").lower() in ("1", "true", "yes"):
        pytest.fail(message)
    pytest.skip(message)


@asynccontextmanager
async def memory_backend(
    clock: Callable[[], float] | None, tmp_path: Path
) -> AsyncIterator[tuple[Queue, OpenStore]]:
    store = connect("memory://", clock=clock)
    await store.open()

    async def same() -> Queue:
        # Memory storage lives in one object: "another connection" is that object.
        return store

    yield store, same
    await store.close()


@asynccontextmanager
async def sqlite_backend(
    clock: Callable[[], float] | None, tmp_path: Path
) -> AsyncIterator[tuple[Queue, OpenStore]]:
    url = f"sqlite:///{tmp_path / f'backyard-{uuid.uuid4().hex[:8]}.db'}"
    opened: list[Queue] = []

    async def another() -> Queue:
        store = connect(url, clock=clock)
        await store.open()
        opened.append(store)
        return store

    store = await another()
    yield store, another
    for each in opened:
        await each.close()


BACKENDS: dict[str, Callable[..., object]] = {
    "memory": memory_backend,
    "sqlite": sqlite_backend,
}
