"""A worker process for tests: ``python -m tests.postgres.worker_process URL SCHEMA``.

Short lease so a killed process's jobs come back within seconds; SIGTERM
stops it gracefully.
"""

from __future__ import annotations

import asyncio
import logging
import sys

from backyard import Worker, connect

from . import _jobs  # noqa: F401 - registers TrackedRun


async def main(url: str, schema: str) -> None:
    async with connect(url, schema=schema) as store:
        worker = Worker(
            store, concurrency=4, lease=3.0, poll_interval=0.2, shutdown_grace=5, prune_after=None
        )
        await worker.run()


if __name__ == "__main__":
    logging.basicConfig(level=logging.WARNING, format="worker %(process)d: %(message)s")
    asyncio.run(main(sys.argv[1], sys.argv[2]))
