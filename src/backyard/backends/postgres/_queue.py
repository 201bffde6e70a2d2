"""``postgresql://``: jobs in PostgreSQL, for many workers on many machines.

- claims take a batch in one statement (``FOR UPDATE SKIP LOCKED`` over a
  partial index that holds only waiting jobs);
- pushes NOTIFY in their own transaction and idle workers LISTEN, so a new
  job starts within milliseconds; polling remains the fallback;
- ``enqueue(job, connection=conn)`` writes the job in the caller's
  transaction: it exists only if that transaction commits;
- migrations run on ``open()`` under an advisory lock.

The SQL is in ``queries.sql`` and ``migrations/``; docs/postgres.md has the
how-to and the reasoning.
"""

from __future__ import annotations

import asyncio
import builtins
import contextlib
import logging
import random
import uuid
from collections.abc import Awaitable, Callable, Sequence
from datetime import datetime, timedelta
from typing import Any, TypeVar
from urllib.parse import parse_qsl, unquote, urlsplit

import asyncpg
import asyncpg.pool

from ..._errors import ConfigurationError, StorageError
from ..._queue import Clock, Queue, redact_url
from ..._records import (
    EnqueueRequest,
    JobError,
    JobRecord,
    JobStatus,
    RescueResult,
    StatsBucket,
    WorkerInfo,
    from_timestamp,
    lease_expired_error,
)
from . import _migrations
from ._config import PostgresSettings, parse_settings
from ._enqueue_sql import push_args
from ._errors import TRANSIENT_CONNECT_ERRORS, connect_error, translated
from ._listener import Listener
from ._rows import errors_json, job_record, worker_info
from ._sql import Queries

log = logging.getLogger("backyard.postgres")
T = TypeVar("T")

STATS_SHARDS = 8
PRUNE_BATCH = 5000
RESCUE_BATCH = 1000
DEFAULT_APPLICATION_NAME = "backyard"


class PostgresQueue(Queue):
    """Jobs stored in PostgreSQL through an asyncpg connection pool.

    ::

        async with connect("postgresql://app@db.internal/app?schema=jobs") as queue:
            await queue.enqueue(SendEmail(to="a@example.com", subject="hi"))

    URL query options (or keyword arguments of ``connect()``, which win):
    ``schema`` (default ``backyard``), ``pool_min`` (1), ``pool_max`` (10),
    ``connect_timeout`` (10 seconds), ``connect_retries`` (0: extra
    attempts, with backoff, while the database is unreachable at ``open()``),
    ``migrate`` (true: apply pending migrations on ``open()``). Other query
    parameters go to asyncpg (``sslmode``, ``application_name``…).

    Raises ``ConfigurationError`` for a malformed URL or option, and
    ``StorageError`` (naming host:port and what to try) when the database
    cannot be reached or fails a statement.
    """

    schemes = ("postgresql", "postgres")

    def __init__(self, url: str, *, clock: Clock | None = None, **options: Any) -> None:
        super().__init__(url, clock=clock)
        self.settings: PostgresSettings = parse_settings(url, options)
        self.schema = self.settings.schema
        self._sql = Queries(self.settings.quoted_schema)
        self._channel = self.settings.channel
        self._pool: asyncpg.Pool | None = None
        self._listener: Listener | None = None
        self._open_lock = asyncio.Lock()

    # -- life cycle -------------------------------------------------------------

    async def open(self) -> None:
        """Create the connection pool and bring the schema up to date.

        Raises ``StorageError`` if the database cannot be reached (after
        ``connect_retries`` extra attempts) or the schema is behind and
        automatic migration is off.
        """
        async with self._open_lock:
            if self._pool is not None:
                return
            pool = await self._with_connect_retries(self._create_pool)
            try:
                with translated("prepare the schema", self.settings.endpoints):
                    async with pool.acquire() as conn:
                        if self.settings.migrate:
                            await _migrations.apply(conn, self._sql, self.schema)
                        else:
                            await _migrations.check(conn, self._sql, self.schema)
            except BaseException:
                await _close_pool(pool)
                raise
            self._pool = pool

    async def close(self) -> None:
        if self._listener is not None:
            await self._listener.close()
            self._listener = None
        pool, self._pool = self._pool, None
        if pool is not None:
            await _close_pool(pool)

    async def migrate(self) -> list[str]:
        """Apply pending migrations now; return the names of those applied.

        Works on an opened or unopened store (``backyard migrate`` uses a
        store opened with ``migrate=False``). Safe to run from many
        processes at once.
        """
        if self._pool is not None:
            with translated("migrate the schema", self.settings.endpoints):
                async with self._pool.acquire() as conn:
                    return await _migrations.apply(conn, self._sql, self.schema)
        conn = await self._with_connect_retries(self._connect)
        try:
            with translated("migrate the schema", self.settings.endpoints):
                return await _migrations.apply(conn, self._sql, self.schema)
        finally:
            await conn.close()

    def migration_sql(self, after: int = 0) -> str:
        """The SQL script of every migration after version ``after`` (``backyard migrate --sql``)."""
        return _migrations.migration_sql(self.schema, after)

    def _server_settings(self, role: str | None = None) -> dict[str, str]:
        query = dict(parse_qsl(urlsplit(self.settings.dsn).query))
        name = query.get("application_name", DEFAULT_APPLICATION_NAME)
        if role is not None:  # e.g. "backyard:listener", to tell it apart in pg_stat_activity
            name = f"{name[: 62 - len(role)]}:{role}"
        return {"application_name": name}

    async def _create_pool(self) -> asyncpg.Pool:
        return await asyncpg.create_pool(
            self.settings.dsn,
            min_size=self.settings.pool_min,
            max_size=self.settings.pool_max,
            timeout=self.settings.connect_timeout,
            server_settings=self._server_settings(),
        )

    async def _connect(self, role: str | None = None) -> asyncpg.Connection:
        return await asyncpg.connect(
            self.settings.dsn,
            timeout=self.settings.connect_timeout,
            server_settings=self._server_settings(role),
        )

    async def _with_connect_retries(self, make: Callable[[], Awaitable[T]]) -> T:
        attempts = self.settings.connect_retries + 1
        delay = 0.5
        for attempt in range(1, attempts + 1):
            try:
                return await make()
            except TRANSIENT_CONNECT_ERRORS as exc:
                if attempt == attempts:
                    raise self._connect_error(exc) from exc
                log.warning(
                    "PostgreSQL at %s is not reachable (%s); attempt %d of %d, retrying in %.1fs",
                    self.settings.endpoints,
                    exc,
                    attempt,
                    attempts,
                    delay,
                )
                await asyncio.sleep(delay)
                delay = min(delay * 2, 10.0)
            except (asyncpg.PostgresError, asyncpg.InterfaceError) as exc:
                raise self._connect_error(exc) from exc
        raise AssertionError("unreachable")

    def _connect_error(self, exc: BaseException) -> Exception:
        path = urlsplit(self.settings.dsn).path.lstrip("/")
        database = unquote(path) or "(the user's name)"
        return connect_error(exc, self.settings.endpoints, database, self.settings.connect_timeout)

    @property
    def pool(self) -> asyncpg.Pool:
        """The asyncpg pool of an opened store (for your own queries, sparingly)."""
        if self._pool is None:
            raise StorageError(
                f"{self!r} is not open: use `async with connect(url) as queue` "
                "or `await queue.open()` first"
            )
        return self._pool

    def __repr__(self) -> str:
        return f"<PostgresQueue {redact_url(self.url)} schema={self.schema}>"

    # -- wake-ups and transactional enqueue -----------------------------------

    async def wait_for_work(self, queues: Sequence[str], timeout: float) -> None:
        """Return when a job is pushed to one of ``queues`` (LISTEN/NOTIFY), or after ``timeout``."""
        if self._pool is None:
            await super().wait_for_work(queues, timeout)
            return
        if self._listener is None:
            self._listener = Listener(lambda: self._connect("listener"), self._channel)
        # A scheduled job coming due sends no NOTIFY: wake for it on time.
        with contextlib.suppress(StorageError):
            with self._errors("find the next scheduled job"):
                next_run = await self.pool.fetchval(
                    self._sql["next_run_at"], list(dict.fromkeys(queues))
                )
            if next_run is not None:
                timeout = min(timeout, max(0.0, next_run.timestamp() - self.now()))
        waits = [
            asyncio.ensure_future(self._listener.wait(queues, timeout)),
            asyncio.ensure_future(self._wakeup.wait(timeout)),
        ]
        try:
            await asyncio.wait(waits, return_when=asyncio.FIRST_COMPLETED)
        finally:
            for waiting in waits:
                waiting.cancel()
            for waiting in waits:
                with contextlib.suppress(asyncio.CancelledError, Exception):
                    await waiting

    async def push_in_transaction(self, request: EnqueueRequest, connection: Any) -> str:
        """Insert the job through the caller's asyncpg connection (and so its transaction).

        The job, and the NOTIFY that wakes workers, exist only once that
        transaction commits; a rollback leaves no trace. Outside a
        transaction the insert commits at once, like any statement on that
        connection. For psycopg or SQLAlchemy use ``enqueue_statement``.
        """
        if not isinstance(connection, asyncpg.Connection | asyncpg.pool.PoolConnectionProxy):
            raise ConfigurationError(
                f"enqueue(connection=...) takes an asyncpg connection, got "
                f"{type(connection).__name__}; with psycopg or SQLAlchemy, run the statement "
                "from backyard.backends.postgres.enqueue_statement(job) on your own connection"
            )
        with translated("enqueue in the caller's transaction", self.settings.endpoints):
            await connection.execute(self._sql["push"], *self._push_args(request))
        return request.id

    # -- primitives ---------------------------------------------------------------

    def _push_args(self, request: EnqueueRequest) -> tuple[Any, ...]:
        return push_args(request, self.now_datetime(), self._channel)

    async def push(self, request: EnqueueRequest) -> str:
        with self._errors("enqueue a job"):
            await self.pool.execute(self._sql["push"], *self._push_args(request))
        return request.id

    async def push_many(self, requests: Sequence[EnqueueRequest]) -> list[str]:
        if not requests:
            return []
        now = self.now_datetime()
        ids = [r.id for r in requests]
        with self._errors(f"enqueue {len(requests)} jobs"):
            await self.pool.execute(
                self._sql["push_many"],
                ids,
                [r.name for r in requests],
                [r.queue for r in requests],
                [r.payload for r in requests],
                [r.priority for r in requests],
                [r.max_retries for r in requests],
                [r.run_at for r in requests],
                now,
                [r.timeout for r in requests],
                self._channel,
            )
        return ids

    async def claim(
        self, queues: Sequence[str], worker_id: str, limit: int, lease: float
    ) -> list[JobRecord]:
        if limit <= 0 or not queues:
            return []
        now = self.now_datetime()
        with self._errors("claim jobs"):
            rows = await self.pool.fetch(
                self._sql["claim"],
                list(dict.fromkeys(queues)),
                now,
                limit,
                worker_id,
                now + timedelta(seconds=lease),
            )
        rows.sort(key=lambda row: (-row["priority"], row["run_at"], row["seq"]))
        return [job_record(row, now) for row in rows]

    async def ack(self, jobs: Sequence[JobRecord]) -> int:
        if not jobs:
            return 0
        now = self.now()
        with self._errors(f"complete {len(jobs)} job(s)"):
            count: int = await self.pool.fetchval(
                self._sql["ack"],
                [job.id for job in jobs],
                [job.attempt for job in jobs],
                from_timestamp(now),
                _minute(now),
                _shard(),
            )
        return count

    async def retry(self, job: JobRecord, run_at: datetime, error: JobError) -> bool:
        now = self.now()
        with self._errors("schedule a retry"):
            row = await self.pool.fetchrow(
                self._sql["retry"],
                job.id,
                job.attempt,
                run_at,
                errors_json([error]),
                _minute(now),
                _shard(),
                from_timestamp(now),
                self._channel,
            )
        return bool(row and row["updated"])

    async def fail(self, job: JobRecord, error: JobError) -> bool:
        now = self.now()
        with self._errors("move a job to dead"):
            count = await self.pool.fetchval(
                self._sql["fail"],
                job.id,
                job.attempt,
                from_timestamp(now),
                errors_json([error]),
                _minute(now),
                _shard(),
            )
        return bool(count)

    async def release(self, jobs: Sequence[JobRecord]) -> int:
        if not jobs:
            return 0
        with self._errors(f"give back {len(jobs)} job(s)"):
            row = await self.pool.fetchrow(
                self._sql["release"],
                [job.id for job in jobs],
                [job.attempt for job in jobs],
                self.now_datetime(),
                self._channel,
            )
        return int(row["updated"]) if row else 0

    async def heartbeat(self, job_ids: Sequence[str], worker_id: str, lease: float) -> list[str]:
        if not job_ids:
            return []
        expires = self.now_datetime() + timedelta(seconds=lease)
        with self._errors("renew leases"):
            rows = await self.pool.fetch(self._sql["heartbeat"], list(job_ids), worker_id, expires)
        return [str(row["id"]) for row in rows]

    async def rescue(self) -> RescueResult:
        requeued = dead = 0
        while True:
            now = self.now()
            with self._errors("rescue jobs with expired leases"):
                async with self.pool.acquire() as conn, conn.transaction():
                    expired = await conn.fetch(
                        self._sql["rescue_expired"], from_timestamp(now), RESCUE_BATCH
                    )
                    if not expired:
                        break
                    errors = [
                        errors_json([lease_expired_error(row["attempt"], row["worker_id"], now)])
                        for row in expired
                    ]
                    result = await conn.fetchrow(
                        self._sql["rescue_apply"],
                        [row["id"] for row in expired],
                        errors,
                        from_timestamp(now),
                        _minute(now),
                        _shard(),
                        self._channel,
                    )
            requeued += result["requeued"]
            dead += result["dead"]
            if len(expired) < RESCUE_BATCH:
                break
        return RescueResult(requeued=requeued, dead=dead)

    async def get(self, job_id: str) -> JobRecord | None:
        if not _is_uuid(job_id):
            return None
        now = self.now_datetime()
        with self._errors("read a job"):
            row = await self.pool.fetchrow(self._sql["get"], job_id)
        return None if row is None else job_record(row, now)

    async def list(
        self,
        queue: str | None = None,
        status: JobStatus | None = None,
        limit: int = 50,
        offset: int = 0,
    ) -> builtins.list[JobRecord]:
        stored: str | None = None
        due: bool | None = None
        if status is JobStatus.SCHEDULED:
            stored, due = JobStatus.AVAILABLE.value, False
        elif status is JobStatus.AVAILABLE:
            stored, due = JobStatus.AVAILABLE.value, True
        elif status is not None:
            stored = status.value
        now = self.now_datetime()
        with self._errors("list jobs"):
            rows = await self.pool.fetch(self._sql["list"], queue, stored, due, now, limit, offset)
        return [job_record(row, now) for row in rows]

    async def queue_depths(self) -> dict[str, dict[JobStatus, int]]:
        with self._errors("count jobs"):
            rows = await self.pool.fetch(self._sql["queue_depths"], self.now_datetime())
        depths: dict[str, dict[JobStatus, int]] = {}
        for row in rows:
            counts = depths.setdefault(row["queue"], dict.fromkeys(JobStatus, 0))
            counts[JobStatus(row["status"])] += row["jobs"]
        return depths

    async def cancel(self, job_id: str) -> bool:
        if not _is_uuid(job_id):
            return False
        with self._errors("cancel a job"):
            row = await self.pool.fetchrow(self._sql["cancel"], job_id, self.now_datetime())
        return row is not None

    async def requeue(self, job_id: str) -> bool:
        if not _is_uuid(job_id):
            return False
        with self._errors("requeue a job"):
            row = await self.pool.fetchrow(
                self._sql["requeue"], job_id, self.now_datetime(), self._channel
            )
        return bool(row and row["updated"])

    async def delete(self, job_id: str) -> bool:
        if not _is_uuid(job_id):
            return False
        with self._errors("delete a job"):
            row = await self.pool.fetchrow(self._sql["delete"], job_id)
        return row is not None

    async def prune(self, before: datetime) -> int:
        total = 0
        with self._errors("prune finished jobs"):
            while True:
                status = await self.pool.execute(self._sql["prune"], before, PRUNE_BATCH)
                deleted = int(status.split()[-1])
                total += deleted
                if deleted < PRUNE_BATCH:
                    break
            await self.pool.execute(self._sql["prune_stats"], before)
            await self.pool.execute(self._sql["prune_workers"], before)
        return total

    async def register_worker(self, info: WorkerInfo, ttl: float) -> None:
        now = self.now_datetime()
        with self._errors("register a worker"):
            await self.pool.execute(
                self._sql["register_worker"],
                info.id,
                info.host,
                info.pid,
                list(info.queues),
                info.concurrency,
                info.started_at,
                info.last_seen,
                now + timedelta(seconds=ttl),
                info.running,
                info.processed,
                info.failed,
            )

    async def unregister_worker(self, worker_id: str) -> None:
        with self._errors("unregister a worker"):
            await self.pool.execute(self._sql["unregister_worker"], worker_id)

    async def workers(self) -> builtins.list[WorkerInfo]:
        with self._errors("list workers"):
            rows = await self.pool.fetch(self._sql["workers"], self.now_datetime())
        return [worker_info(row) for row in rows]

    async def stats(self, since: datetime) -> builtins.list[StatsBucket]:
        with self._errors("read statistics"):
            rows = await self.pool.fetch(self._sql["stats"], since)
        return [
            StatsBucket(
                minute=row["minute"],
                queue=row["queue"],
                completed=int(row["completed"]),
                failed=int(row["failed"]),
                dead=int(row["dead"]),
            )
            for row in rows
        ]

    # -- helpers -------------------------------------------------------------------

    def _errors(self, action: str) -> contextlib.AbstractContextManager[None]:
        return translated(action, self.settings.endpoints)


async def _close_pool(pool: asyncpg.Pool) -> None:
    try:
        await asyncio.wait_for(pool.close(), timeout=5.0)
    except (TimeoutError, Exception):
        # Connections stuck in a query (a dead network): drop them.
        pool.terminate()


def _minute(now: float) -> datetime:
    return from_timestamp(now // 60 * 60)


def _shard() -> int:
    return random.randrange(STATS_SHARDS)


def _is_uuid(value: str) -> bool:
    # Ids are UUIDs; anything else cannot be stored, so it is simply not found
    # (instead of PostgreSQL rejecting the parameter).
    try:
        uuid.UUID(value)
    except (ValueError, TypeError, AttributeError):
        return False
    return True
