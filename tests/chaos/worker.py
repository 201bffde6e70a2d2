"""One chaos worker process: ``python -m tests.chaos.worker URL``."""

from __future__ import annotations

import asyncio
import logging
import os
import sys

from backyard import Worker

from . import jobs  # noqa: F401  (registers the job classes)

LEASE = 3.0


async def main(url: str) -> None:
    # The store may be restarting when this process starts: wait for it.
    from .harness import open_store

    store = await open_store(url)
    async with store:
        worker = Worker(
            store,
            queues=["chaos"],
            concurrency=10,
            lease=LEASE,
            poll_interval=0.5,
            shutdown_grace=2.0,
            rescue_interval=1.0,
            prune_after=None,
        )
        await worker.run()


if __name__ == "__main__":
    level = logging.WARNING if os.environ.get("BACKYARD_CHAOS_VERBOSE") else logging.CRITICAL
    logging.basicConfig(level=level, format="%(process)d %(name)s %(message)s")
    asyncio.run(main(sys.argv[1]))
