"""Redis going away mid-run: killed connections and a restart of the server."""

from __future__ import annotations

import asyncio
import shlex
import subprocess
import time
from collections.abc import Iterator

import pytest

from backyard import StorageError, Worker

from ..backends import REDIS_START
from ..jobs import RUNS, Record, reset
from .conftest import MakeStore


@pytest.fixture(autouse=True)
def _fresh_runs() -> Iterator[None]:
    reset()
    yield
    reset()


async def wait_for(condition: object, timeout: float = 10.0) -> None:
    async with asyncio.timeout(timeout):
        while not condition():  # type: ignore[operator]
            await asyncio.sleep(0.01)


async def test_client_kill_mid_run(make_store: MakeStore) -> None:
    store, admin = await make_store(), await make_store()
    worker = Worker(store, concurrency=5, poll_interval=0.05, lease=2)
    task = asyncio.create_task(worker.run(install_signal_handlers=False))
    try:
        ids: list[str] = []
        for _ in range(5):
            ids += await admin.enqueue_many([Record(n=i, sleep=0.01) for i in range(40)])
            await asyncio.sleep(0.05)
            # Drops every normal connection but this one: the worker's pool,
            # its BLPOP, and the connections of any command in flight.
            await admin.client.client_kill_filter(_type="normal", skipme=True)
        # A claim whose reply was lost with its connection comes back when
        # its lease expires, so every job runs (at least once).
        await wait_for(lambda: all(RUNS[i] >= 1 for i in ids), timeout=30)
        await wait_for(lambda: worker.counters.completed >= len(ids), timeout=10)
    finally:
        worker.stop()
        await asyncio.wait_for(task, 10)


def redis_running() -> bool:
    return (
        subprocess.run(["redis-cli", "ping"], capture_output=True, text=True).stdout.strip()
        == "PONG"
    )


def start_redis() -> None:
    subprocess.run(shlex.split(REDIS_START), check=True, capture_output=True)
    for _ in range(100):
        if redis_running():
            return
        time.sleep(0.05)
    raise RuntimeError("redis-server did not come back")


@pytest.mark.slow
async def test_worker_carries_on_after_a_redis_restart(make_store: MakeStore) -> None:
    store, producer = await make_store(), await make_store()
    worker = Worker(store, concurrency=5, poll_interval=0.05, lease=2)
    task = asyncio.create_task(worker.run(install_signal_handlers=False))
    try:
        before = await producer.enqueue(Record())
        await wait_for(lambda: RUNS[before] == 1)
        subprocess.run(["redis-cli", "shutdown", "nosave"], capture_output=True)
        await wait_for(lambda: not redis_running())
        # While Redis is down, store calls fail with a StorageError saying so.
        with pytest.raises(StorageError, match="cannot reach Redis"):
            await producer.enqueue(Record())
        await asyncio.sleep(0.3)  # the worker's claims fail and back off meanwhile
        start_redis()
        # Everything was lost with the restart (no persistence); new work
        # flows again, scripts reloaded after NOSCRIPT.
        after = await producer.enqueue(Record())
        await wait_for(lambda: RUNS[after] == 1, timeout=15)
        assert not task.done()
    finally:
        if not redis_running():
            start_redis()
        worker.stop()
        await asyncio.wait_for(task, 15)
