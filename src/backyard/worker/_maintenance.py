"""The worker's background duties besides running jobs.

- heartbeat: renew the leases of every job this worker holds, and refresh
  its registration (what the dashboard's worker list shows);
- rescue: give back jobs whose worker died (their lease expired);
- prune: delete finished jobs past their retention.

Every worker runs rescue and prune; backends make both safe to run from
many workers at once, so there is no leader to elect and no single point
of failure.
"""

from __future__ import annotations

import asyncio
import logging
import random
from datetime import timedelta
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from ._worker import Worker

log = logging.getLogger("backyard.worker")

PRUNE_INTERVAL = 60.0


class Maintenance:
    def __init__(self, worker: Worker) -> None:
        self._worker = worker

    @property
    def heartbeat_interval(self) -> float:
        return self._worker.lease / 3

    @property
    def registration_ttl(self) -> float:
        return self._worker.lease

    async def run(self) -> None:
        await asyncio.gather(self._heartbeats(), self._rescues(), self._prunes())

    async def _heartbeats(self) -> None:
        worker = self._worker
        while True:
            try:
                await worker.store.register_worker(worker.info(), self.registration_ttl)
                held = worker.held_ids()
                if held:
                    kept = set(await worker.store.heartbeat(held, worker.id, worker.lease))
                    # Outcomes written while the heartbeat was in flight are
                    # finished, not lost: only jobs still held count.
                    still_held = set(worker.held_ids())
                    worker.lost([j for j in held if j not in kept and j in still_held])
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # storage blip: next beat tries again
                log.warning("heartbeat failed: %s", exc)
            await asyncio.sleep(self.heartbeat_interval)

    async def _rescues(self) -> None:
        worker = self._worker
        # Start at a random point so many workers started together spread out.
        await asyncio.sleep(random.uniform(0, worker.rescue_interval))
        while True:
            try:
                result = await worker.store.rescue()
                if result.requeued or result.dead:
                    log.warning(
                        "rescued jobs whose worker stopped heartbeating: %d back to the "
                        "queue, %d dead (no retries left)",
                        result.requeued,
                        result.dead,
                    )
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                log.warning("rescue failed: %s", exc)
            await asyncio.sleep(worker.rescue_interval * random.uniform(0.8, 1.2))

    async def _prunes(self) -> None:
        worker = self._worker
        if worker.prune_after is None:
            return
        await asyncio.sleep(random.uniform(0, PRUNE_INTERVAL))
        while True:
            try:
                before = worker.store.now_datetime() - worker.prune_after
                pruned = await worker.store.prune(before)
                if pruned:
                    log.info(
                        "pruned %d finished job(s) older than %s",
                        pruned,
                        _human(worker.prune_after),
                    )
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                log.warning("prune failed: %s", exc)
            await asyncio.sleep(PRUNE_INTERVAL)

    async def unregister(self) -> None:
        try:
            await self._worker.store.unregister_worker(self._worker.id)
        except Exception as exc:  # its registration expires by itself
            log.debug("could not unregister worker: %s", exc)


def _human(delta: timedelta) -> str:
    return f"{delta.total_seconds() / 86400:g} days"
