"""Writes job outcomes to the store in batches.

One ``ack`` round trip per finished job would cap a worker at the store's
round-trip rate; instead outcomes queue up while the previous write is in
flight and go out together (the batching River's completer does). With a
single finished job the write starts at once, so latency stays low.

Until its outcome is written a job stays "held": the heartbeat keeps its
lease alive, so a slow or failing write does not let another worker take
the job.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Sequence

from .._queue import Queue
from ._outcome import Outcome, Verdict

log = logging.getLogger("backyard.worker")

MAX_BACKOFF = 5.0


class Completer:
    def __init__(self, store: Queue, on_written: Callable[[Sequence[Outcome]], None]) -> None:
        self._store = store
        self._on_written = on_written
        self._pending: list[Outcome] = []
        self._wake = asyncio.Event()
        self._closing = False

    def add(self, outcome: Outcome) -> None:
        self._pending.append(outcome)
        self._wake.set()

    @property
    def pending(self) -> int:
        return len(self._pending)

    async def run(self) -> None:
        """Write outcomes until ``close`` and then until nothing is left."""
        backoff = 0.05
        while True:
            await self._wake.wait()
            self._wake.clear()
            while self._pending:
                batch, self._pending = self._pending, []
                try:
                    await self._write(batch)
                except asyncio.CancelledError:
                    self._pending[:0] = batch
                    raise
                except Exception as exc:  # storage down: keep the outcomes, try again
                    self._pending[:0] = batch
                    log.warning(
                        "could not record %d job outcome(s), retrying in %.2fs: %s",
                        len(batch),
                        backoff,
                        exc,
                    )
                    await asyncio.sleep(backoff)
                    backoff = min(MAX_BACKOFF, backoff * 2)
                    continue
                backoff = 0.05
                self._on_written(batch)
            if self._closing:
                return

    async def close(self) -> None:
        """Ask ``run`` to finish once the outcomes already added are written."""
        self._closing = True
        self._wake.set()

    async def _write(self, batch: list[Outcome]) -> None:
        acks = [o.job for o in batch if o.verdict is Verdict.COMPLETED]
        if acks:
            await self._store.ack(acks)
        for outcome in batch:
            if outcome.verdict is Verdict.RETRY:
                assert outcome.error is not None and outcome.retry_at is not None
                await self._store.retry(outcome.job, outcome.retry_at, outcome.error)
            elif outcome.verdict is Verdict.DEAD:
                assert outcome.error is not None
                await self._store.fail(outcome.job, outcome.error)
