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


POSTGRES_URL = os.environ.get(
    "BACKYARD_TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/test"
)


async def postgres_reachable() -> bool:
    import asyncpg

    try:
        conn = await asyncpg.connect(POSTGRES_URL, timeout=3)
    except (OSError, TimeoutError, asyncpg.PostgresError):
        return False
    await conn.close()
    return True


async def drop_postgres_schema(schema: str) -> None:
    import asyncpg

    conn = await asyncpg.connect(POSTGRES_URL, timeout=10)
    try:
        await conn.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')
    finally:
        await conn.close()


@asynccontextmanager
async def postgres_backend(
    clock: Callable[[], float] | None, tmp_path: Path
) -> AsyncIterator[tuple[Queue, OpenStore]]:
    # Each test gets its own schema in database "test", dropped afterwards.
    if not await postgres_reachable():
        service_missing(
            "PostgreSQL at 127.0.0.1:5432",
            "pg_ctlcluster --skip-systemctl-redirect $(ls /etc/postgresql) main start",
        )
    schema = f"backyard_test_{uuid.uuid4().hex[:12]}"
    opened: list[Queue] = []

    async def another() -> Queue:
        store = connect(POSTGRES_URL, clock=clock, schema=schema)
        await store.open()
        opened.append(store)
        return store

    try:
        store = await another()
        yield store, another
    finally:
        for each in opened:
            await each.close()
        await drop_postgres_schema(schema)


REDIS_URL = os.environ.get("BACKYARD_TEST_REDIS_URL", "redis://127.0.0.1:6379/0")
REDIS_START = (
    'redis-server --daemonize yes --bind 127.0.0.1 -::1 --port 6379 --save "" '
    "--appendonly no --dir /var/lib/redis --logfile /var/log/redis/ci.log"
)


async def open_redis(url: str = REDIS_URL, **options: object) -> Queue:
    """An opened RedisQueue, or a skip (a failure under CI) when Redis is not running."""
    from backyard import StorageError

    store = connect(url, **options)
    try:
        await store.open()
    except StorageError:
        service_missing("Redis at 127.0.0.1:6379", REDIS_START)
    return store


async def unlink_prefix(store: Queue, prefix: str) -> None:
    """Delete every key under ``prefix`` (SCAN + UNLINK)."""
    client = store.client  # type: ignore[attr-defined]
    batch = [key async for key in client.scan_iter(match=f"{prefix}*", count=1000)]
    for start in range(0, len(batch), 1000):
        await client.unlink(*batch[start : start + 1000])


@asynccontextmanager
async def redis_backend(
    clock: Callable[[], float] | None, tmp_path: Path
) -> AsyncIterator[tuple[Queue, OpenStore]]:
    # Each test gets its own key prefix, so tests never see each other's keys.
    prefix = f"backyard-test-{uuid.uuid4().hex[:12]}:"
    opened: list[Queue] = []

    async def another() -> Queue:
        store = await open_redis(clock=clock, prefix=prefix)
        opened.append(store)
        return store

    store = await another()
    try:
        yield store, another
    finally:
        await unlink_prefix(store, prefix)
        for each in opened:
            await each.close()


BACKENDS: dict[str, Callable[..., object]] = {
    "memory": memory_backend,
    "sqlite": sqlite_backend,
    "postgres": postgres_backend,
    "redis": redis_backend,
}
