"""Fixtures for the Redis-only tests: stores under a private key prefix each."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import pytest

from backyard.backends.redis import RedisQueue

from ..backends import FakeClock, open_redis, unlink_prefix

MakeStore = Callable[..., Awaitable[RedisQueue]]


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if "tests/redis/" in str(item.fspath):
            item.add_marker(pytest.mark.redis)


@pytest.fixture
def prefix() -> str:
    return f"backyard-test-{uuid.uuid4().hex[:12]}:"


@pytest.fixture
async def make_store(prefix: str) -> AsyncIterator[MakeStore]:
    """Opens RedisQueues under the test's prefix (or another one); all keys go afterwards."""
    opened: list[RedisQueue] = []
    prefixes = {prefix}

    async def make(**options: Any) -> RedisQueue:
        options.setdefault("prefix", prefix)
        if options["prefix"] is not None:
            prefixes.add(options["prefix"])
        store = await open_redis(**options)
        assert isinstance(store, RedisQueue)
        opened.append(store)
        return store

    yield make
    if opened:
        cleaner = await open_redis()
        for each in prefixes:
            await unlink_prefix(cleaner, each)
        await cleaner.close()
    for store in opened:
        await store.close()


@pytest.fixture
async def store(make_store: MakeStore, clock: FakeClock) -> RedisQueue:
    return await make_store(clock=clock)
