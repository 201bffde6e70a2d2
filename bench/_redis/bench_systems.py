"""The systems bench/redis.py compares, each behind the same small adapter.

Every system runs the same no-op job: it records when it started (and, for
the latency runs, how long after its enqueue) in ``TALLY``, in process
memory, so the measurement adds no Redis traffic of its own. Imports are
lazy: backyard lives in the project's venv, the others in .bench/venv-redis.
"""

from __future__ import annotations

import asyncio
import threading
import time
from typing import Any

CONCURRENCY = 10


class Tally:
    """Jobs started in this process: how many, first and last start, latencies."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.count = 0
        self.first = 0.0
        self.last = 0.0
        self.latencies: list[float] = []
        self.changed = threading.Event()

    def mark(self, enqueued_at: float) -> None:
        now = time.time()
        with self.lock:
            self.count += 1
            if not self.first:
                self.first = now
            self.last = now
            if enqueued_at:
                self.latencies.append(now - enqueued_at)
        if enqueued_at:
            self.changed.set()

    def snapshot(self) -> dict[str, Any]:
        with self.lock:
            return {
                "count": self.count,
                "first": self.first,
                "last": self.last,
                "lat": self.latencies[-1000:],
            }


TALLY = Tally()


class System:
    """Enqueue from the bench process; ``run_worker`` blocks in a worker process."""

    name = ""
    note = ""

    def __init__(self, url: str) -> None:
        self.url = url

    async def open(self) -> None:
        pass

    async def close(self) -> None:
        pass

    async def enqueue_one(self, enqueued_at: float = 0.0) -> None:
        raise NotImplementedError

    async def enqueue_bulk(self, count: int) -> None:
        raise NotImplementedError

    def run_worker(self, concurrency: int) -> None:
        raise NotImplementedError


# -- backyard -----------------------------------------------------------------


def _backyard_job() -> Any:
    from backyard import Job, JobContext, registry

    if "bench.Noop" in registry.names():
        return registry.get("bench.Noop")

    class Noop(Job):
        NAME = "bench.Noop"
        t: float = 0.0

        async def execute(self, ctx: JobContext) -> None:
            TALLY.mark(self.t)

    return Noop


class Backyard(System):
    name = "backyard redis"
    note = "BLPOP wake-ups, batched claims and acks"

    async def open(self) -> None:
        from backyard import connect

        self.job = _backyard_job()
        self.store = connect(self.url, prefix="bench:")
        await self.store.open()

    async def close(self) -> None:
        await self.store.close()

    async def enqueue_one(self, enqueued_at: float = 0.0) -> None:
        await self.store.enqueue(self.job(t=enqueued_at))

    async def enqueue_bulk(self, count: int) -> None:
        job = self.job
        for start in range(0, count, 5000):
            await self.store.enqueue_many([job() for _ in range(min(5000, count - start))])

    def run_worker(self, concurrency: int) -> None:
        from backyard import Worker, connect

        _backyard_job()

        async def work() -> None:
            async with connect(self.url, prefix="bench:") as store:
                await Worker(store, concurrency=concurrency, prune_after=None).run()

        asyncio.run(work())


# -- arq ----------------------------------------------------------------------


async def arq_noop(ctx: dict[str, Any], t: float = 0.0) -> None:
    TALLY.mark(t)


class Arq(System):
    name = "arq"
    note = "max_jobs=10, default 0.5 s poll; no bulk API (500 concurrent enqueue_job)"

    async def open(self) -> None:
        from arq import create_pool
        from arq.connections import RedisSettings

        self.pool = await create_pool(RedisSettings.from_dsn(self.url))

    async def close(self) -> None:
        await self.pool.aclose()

    async def enqueue_one(self, enqueued_at: float = 0.0) -> None:
        await self.pool.enqueue_job("arq_noop", enqueued_at)

    async def enqueue_bulk(self, count: int) -> None:
        for start in range(0, count, 500):
            n = min(500, count - start)
            await asyncio.gather(*(self.pool.enqueue_job("arq_noop", 0.0) for _ in range(n)))

    def run_worker(self, concurrency: int) -> None:
        from arq.connections import RedisSettings
        from arq.worker import run_worker

        class Settings:
            functions = [arq_noop]  # noqa: RUF012 - arq reads class attributes
            redis_settings = RedisSettings.from_dsn(self.url)
            max_jobs = concurrency
            keep_result = 0

        run_worker(Settings)  # type: ignore[arg-type]


# -- SAQ ----------------------------------------------------------------------


async def saq_noop(ctx: dict[str, Any], *, t: float = 0.0) -> None:
    TALLY.mark(t)


class Saq(System):
    name = "saq"
    note = "concurrency=10; no bulk API (500 concurrent enqueue)"

    async def open(self) -> None:
        from saq import Queue

        self.queue = Queue.from_url(self.url)
        await self.queue.connect()

    async def close(self) -> None:
        await self.queue.disconnect()

    async def enqueue_one(self, enqueued_at: float = 0.0) -> None:
        await self.queue.enqueue("saq_noop", t=enqueued_at)

    async def enqueue_bulk(self, count: int) -> None:
        for start in range(0, count, 500):
            n = min(500, count - start)
            await asyncio.gather(*(self.queue.enqueue("saq_noop", t=0.0) for _ in range(n)))

    def run_worker(self, concurrency: int) -> None:
        from saq import Queue, Worker

        async def work() -> None:
            queue = Queue.from_url(self.url)
            worker = Worker(queue, functions=[saq_noop], concurrency=concurrency)
            await worker.start()

        asyncio.run(work())


# -- RQ -----------------------------------------------------------------------


def rq_noop(t: float = 0.0) -> None:
    TALLY.mark(t)


class Rq(System):
    name = "rq"
    note = "SimpleWorker: one job at a time per process (RQ has no in-process concurrency)"

    async def open(self) -> None:
        from rq import Queue

        from redis import Redis

        self.redis = Redis.from_url(self.url)
        self.queue = Queue(connection=self.redis)

    async def close(self) -> None:
        self.redis.close()

    async def enqueue_one(self, enqueued_at: float = 0.0) -> None:
        self.queue.enqueue("bench_systems.rq_noop", enqueued_at)

    async def enqueue_bulk(self, count: int) -> None:
        from rq import Queue

        for start in range(0, count, 1000):
            n = min(1000, count - start)
            self.queue.enqueue_many(
                [Queue.prepare_data("bench_systems.rq_noop", (0.0,)) for _ in range(n)]
            )

    def run_worker(self, concurrency: int) -> None:
        from rq import Queue, SimpleWorker

        from redis import Redis

        redis = Redis.from_url(self.url)
        SimpleWorker([Queue(connection=redis)], connection=redis).work(logging_level="WARNING")


# -- Dramatiq -----------------------------------------------------------------


def _dramatiq_actor(url: str) -> Any:
    import dramatiq
    from dramatiq.brokers.redis import RedisBroker

    broker = RedisBroker(url=url)
    dramatiq.set_broker(broker)

    @dramatiq.actor(actor_name="dramatiq_noop", max_retries=0)
    def noop(t: float = 0.0) -> None:
        TALLY.mark(t)

    return broker, noop


class Dramatiq(System):
    name = "dramatiq"
    note = "1 process, worker_threads=10; no bulk API (send() in a loop)"

    async def open(self) -> None:
        self.broker, self.actor = _dramatiq_actor(self.url)

    async def close(self) -> None:
        self.broker.close()

    async def enqueue_one(self, enqueued_at: float = 0.0) -> None:
        self.actor.send(enqueued_at)

    async def enqueue_bulk(self, count: int) -> None:
        for _ in range(count):
            self.actor.send(0.0)

    def run_worker(self, concurrency: int) -> None:
        import signal

        import dramatiq

        broker, _ = _dramatiq_actor(self.url)
        worker = dramatiq.Worker(broker, worker_threads=concurrency)
        worker.start()
        stop = threading.Event()
        signal.signal(signal.SIGTERM, lambda *_: stop.set())
        stop.wait()
        worker.stop()


# -- Celery -------------------------------------------------------------------


def _celery_app(url: str) -> Any:
    from celery import Celery

    app = Celery("bench", broker=url)
    app.conf.update(
        task_ignore_result=True,
        broker_connection_retry_on_startup=True,
        worker_hijack_root_logger=False,
    )

    @app.task(name="celery_noop")
    def noop(t: float = 0.0) -> None:
        TALLY.mark(t)

    return app, noop


class Celery(System):
    name = "celery"
    note = "threads pool, concurrency=10; bulk = group().apply_async()"

    async def open(self) -> None:
        self.app, self.task = _celery_app(self.url)

    async def enqueue_one(self, enqueued_at: float = 0.0) -> None:
        self.task.delay(enqueued_at)

    async def enqueue_bulk(self, count: int) -> None:
        from celery import group

        for start in range(0, count, 1000):
            n = min(1000, count - start)
            group(self.task.s(0.0) for _ in range(n)).apply_async()

    def run_worker(self, concurrency: int) -> None:
        app, _ = _celery_app(self.url)
        app.worker_main(
            [
                "worker",
                "--pool=threads",
                f"--concurrency={concurrency}",
                "--loglevel=WARNING",
                "--without-gossip",
                "--without-mingle",
                "--without-heartbeat",
            ]
        )


SYSTEMS: dict[str, type[System]] = {
    "backyard": Backyard,
    "arq": Arq,
    "saq": Saq,
    "rq": Rq,
    "dramatiq": Dramatiq,
    "celery": Celery,
}
