"""LISTEN on the schema's channel so idle workers start new jobs at once.

Every push NOTIFYs the job's queue name in the inserting transaction;
PostgreSQL delivers it on commit. One dedicated connection per store (not
one from the pool: a LISTEN must stay on one session) receives them and
wakes the waiters serving that queue.

Notifications are a hint, never the only way work is found: the worker
still polls every ``poll_interval``, and a wake-up with nothing to claim
is harmless. So when the connection drops (a restart, a failover, an
administrator's pg_terminate_backend) the waiters are woken (a job may
have arrived while nobody listened), and the next wait reconnects. If the
database is unreachable, waits just time out: polling carries on.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Awaitable, Callable, Sequence
from typing import Any

import asyncpg

log = logging.getLogger("backyard.postgres")

Connect = Callable[[], Awaitable[asyncpg.Connection]]

# How often an idle listener checks that its connection still answers: a
# dead network path can leave a socket open that no notification will reach.
PING_INTERVAL = 30.0
PING_TIMEOUT = 5.0
MAX_RECONNECT_DELAY = 5.0


class Listener:
    def __init__(self, connect: Connect, channel: str) -> None:
        self._connect = connect
        self._channel = channel
        self._conn: asyncpg.Connection | None = None
        self._lock = asyncio.Lock()
        self._waiters: dict[asyncio.Event, frozenset[str]] = {}
        self._last_ok = 0.0
        self._failures = 0
        self._retry_at = 0.0
        self._closed = False

    @property
    def connected(self) -> bool:
        return self._conn is not None and not self._conn.is_closed()

    async def wait(self, queues: Sequence[str], timeout: float) -> None:
        """Return on a notification for one of ``queues``, after ``timeout``, or
        at once when (re)connecting, since notifications sent while nobody
        listened are lost and the caller must look for work."""
        event = asyncio.Event()
        self._waiters[event] = frozenset(queues)
        try:
            if not self.connected:
                if await self._reconnect():
                    return
                # Not listening: fall back to plain polling, without spinning.
                await self._sleep_with(event, timeout)
                return
            await self._sleep_with(event, timeout)
            if not event.is_set():
                await self._ping()
        finally:
            self._waiters.pop(event, None)

    async def close(self) -> None:
        self._closed = True
        conn, self._conn = self._conn, None
        if conn is not None and not conn.is_closed():
            with contextlib.suppress(Exception):
                await asyncio.wait_for(conn.close(), timeout=2.0)
        self._wake_all()

    # -- internals ------------------------------------------------------------

    @staticmethod
    async def _sleep_with(event: asyncio.Event, timeout: float) -> None:
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(event.wait(), timeout)

    async def _reconnect(self) -> bool:
        """Connect and LISTEN; True if a fresh listener is now up (the caller
        returns at once to claim whatever arrived while nobody listened)."""
        async with self._lock:
            if self._closed:
                return False
            if self.connected:
                return True
            if time.monotonic() < self._retry_at:
                return False
            try:
                conn = await self._connect()
                try:
                    conn.add_termination_listener(self._terminated)
                    await conn.add_listener(self._channel, self._notified)
                except BaseException:
                    await conn.close()
                    raise
            except Exception as exc:
                self._failures += 1
                delay = min(MAX_RECONNECT_DELAY, 0.1 * 2**self._failures)
                self._retry_at = time.monotonic() + delay
                log.warning(
                    "cannot LISTEN for new jobs (%s); polling instead, next try in %.1fs",
                    exc,
                    delay,
                )
                return False
            if self._failures:
                log.info("listening for new jobs again")
            self._failures = 0
            self._conn = conn
            self._last_ok = time.monotonic()
            return True

    def _notified(self, conn: Any, pid: int, channel: str, queue: str) -> None:
        self._last_ok = time.monotonic()
        for event, queues in self._waiters.items():
            if queue in queues:
                event.set()

    def _terminated(self, conn: Any) -> None:
        if conn is self._conn:
            self._conn = None
            if not self._closed:
                log.warning("the LISTEN connection closed; reconnecting on the next wait")
        self._wake_all()

    def _wake_all(self) -> None:
        for event in self._waiters:
            event.set()

    async def _ping(self) -> None:
        conn = self._conn
        if conn is None:
            return
        if time.monotonic() - self._last_ok < PING_INTERVAL:
            return
        try:
            await asyncio.wait_for(conn.fetchval("SELECT 1"), PING_TIMEOUT)
            self._last_ok = time.monotonic()
        except Exception as exc:
            log.warning("the LISTEN connection stopped answering (%s); reconnecting", exc)
            conn.terminate()
            if self._conn is conn:
                self._conn = None
