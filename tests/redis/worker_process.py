"""A worker in its own OS process, for test_processes.

    python -m tests.redis.worker_process PREFIX LEASE

Runs ``Tracked`` jobs from the ``procs`` queue under the key prefix until
SIGTERM (or SIGKILL, which is the point).
"""

from __future__ import annotations

import asyncio
import logging
import sys

from backyard import Worker, connect

from ..backends import REDIS_URL
from . import process_jobs  # noqa: F401 - registers the job class


async def main(prefix: str, lease: float) -> None:
    async with connect(REDIS_URL, prefix=prefix) as store:
        worker = Worker(store, queues=["procs"], concurrency=4, lease=lease, poll_interval=0.2)
        await worker.run()


if __name__ == "__main__":
    logging.basicConfig(level=logging.WARNING, format="%(process)d %(levelname)s %(message)s")
    asyncio.run(main(sys.argv[1], float(sys.argv[2])))
