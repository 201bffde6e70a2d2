"""``sqlite:///path.db``: the embedded default. Nothing to install or start.

Uses the standard library's ``sqlite3`` in WAL mode, so readers never
block the writer and several worker processes can share one file. Every
call runs on one private thread per store (a ``sqlite3`` connection must
not block the event loop); claims take the write lock up front with
``BEGIN IMMEDIATE``, which is what makes a claim atomic across processes.

URL forms (the SQLAlchemy convention): ``sqlite:///backyard.db`` is
relative to the current folder, ``sqlite:////var/lib/app/jobs.db`` is
absolute. Query options: ``synchronous`` (``full``, the default: a commit
survives power loss; ``normal``: survives a process crash, faster),
``busy_timeout`` (seconds to wait for another process's write lock,
default 5).
"""

from __future__ import annotations

import asyncio
import builtins
import json
import os
import sqlite3
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime
from pathlib import Path
from typing import Any, TypeVar
from urllib.parse import parse_qs, unquote, urlsplit

from ..._errors import ConfigurationError, StorageError
from ..._queue import Clock, Queue
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
    to_timestamp,
)
from ..._sql import load_queries

T = TypeVar("T")

SQL = load_queries(__name__, "queries.sql")
MIGRATIONS = load_queries(__name__, "schema.sql")
SCHEMA_VERSION = max(int(n) for n in MIGRATIONS)
MIN_SQLITE = (3, 35, 0)  # RETURNING, UPDATE ... FROM, ->>
# How often an idle worker checks for commits by other processes. The check
# reads a counter in shared memory (PRAGMA data_version), not the database.
# After a second with no change it checks less often, to cost less while
# nothing happens.
WAKE_INTERVAL = 0.002
QUIET_WAKE_INTERVAL = 0.005
QUIET_AFTER = 1.0

_STATUS = {status.value: status for status in JobStatus}
_SYNCHRONOUS = ("off", "normal", "full", "extra")


class SQLiteQueue(Queue):
    schemes = ("sqlite",)

    def __init__(
        self,
        url: str,
        *,
        clock: Clock | None = None,
        synchronous: str | None = None,
        busy_timeout: float | None = None,
        wake_interval: float = WAKE_INTERVAL,
    ) -> None:
        super().__init__(url, clock=clock)
        self.path, options = parse_sqlite_url(url)
        self.synchronous = (synchronous or options.get("synchronous", "full")).lower()
        if self.synchronous not in _SYNCHRONOUS:
            raise ConfigurationError(
                f"sqlite synchronous={self.synchronous!r} is not one of {', '.join(_SYNCHRONOUS)}"
            )
        try:
            self.busy_timeout = float(busy_timeout or options.get("busy_timeout") or 5.0)
        except ValueError:
            raise ConfigurationError(
                f"sqlite busy_timeout must be a number of seconds, got {options['busy_timeout']!r}"
            ) from None
        self.wake_interval = wake_interval
        self._thread: ThreadPoolExecutor | None = None
        self._conn: sqlite3.Connection | None = None
        self._watch: sqlite3.Connection | None = None  # event-loop thread only
        self._data_version = 0
        self._last_change = 0.0  # loop time of the last data_version change

    # -- plumbing -----------------------------------------------------------

    async def open(self) -> None:
        if self._thread is not None:
            return
        if sqlite3.sqlite_version_info < MIN_SQLITE:
            raise StorageError(
                f"backyard needs SQLite {'.'.join(map(str, MIN_SQLITE))} or newer; this Python "
                f"has {sqlite3.sqlite_version}. Use a newer Python build, or another backend."
            )
        self._thread = ThreadPoolExecutor(max_workers=1, thread_name_prefix="backyard-sqlite")
        try:
            await self._run(self._connect)
            self._watch = self._open_connection()
            self._data_version = self._read_data_version()
        except BaseException:
            await self.close()
            raise

    async def close(self) -> None:
        thread, self._thread = self._thread, None
        if thread is None:
            return
        if self._conn is not None:
            conn, self._conn = self._conn, None
            await asyncio.get_running_loop().run_in_executor(thread, conn.close)
        if self._watch is not None:
            self._watch.close()
            self._watch = None
        thread.shutdown(wait=True)

    def _open_connection(self) -> sqlite3.Connection:
        folder = Path(self.path).parent
        if self.path != ":memory:" and not folder.is_dir():
            raise StorageError(
                f"cannot open SQLite database {self.path}: folder {folder} does not exist"
            )
        conn = sqlite3.connect(
            self.path, timeout=self.busy_timeout, isolation_level=None, check_same_thread=False
        )
        conn.execute(f"PRAGMA busy_timeout = {int(self.busy_timeout * 1000)}")
        return conn

    def _connect(self) -> None:
        conn = self._open_connection()
        try:
            mode = conn.execute("PRAGMA journal_mode = WAL").fetchone()[0]
            if mode.lower() != "wal" and self.path != ":memory:":
                raise StorageError(
                    f"SQLite database {self.path} could not switch to WAL mode (got {mode}); "
                    "is it on a network file system? backyard needs a local disk"
                )
            conn.execute(f"PRAGMA synchronous = {self.synchronous}")
            self._migrate(conn)
        except BaseException:
            conn.close()
            raise
        self._conn = conn

    def _migrate(self, conn: sqlite3.Connection) -> None:
        version = conn.execute("PRAGMA user_version").fetchone()[0]
        if version > SCHEMA_VERSION:
            raise StorageError(
                f"SQLite database {self.path} has schema version {version}, newer than this "
                f"backyard understands ({SCHEMA_VERSION}); upgrade backyard"
            )
        if version == SCHEMA_VERSION:
            return
        # BEGIN IMMEDIATE takes the write lock, so of several processes starting
        # at once one migrates and the others then see the new version.
        conn.execute("BEGIN IMMEDIATE")
        try:
            version = conn.execute("PRAGMA user_version").fetchone()[0]
            for number in range(version + 1, SCHEMA_VERSION + 1):
                for statement in _statements(MIGRATIONS[str(number)]):
                    conn.execute(statement)
                conn.execute(f"PRAGMA user_version = {number}")
            conn.execute("COMMIT")
        except BaseException:
            conn.execute("ROLLBACK")
            raise

    async def _run(self, fn: Callable[..., T], *args: Any) -> T:
        if self._thread is None:
            raise StorageError(f"{self!r} is not open: use `async with connect(url)` or open()")
        try:
            return await asyncio.get_running_loop().run_in_executor(self._thread, fn, *args)
        except sqlite3.Error as exc:
            raise self._storage_error(exc) from exc

    def _storage_error(self, exc: sqlite3.Error) -> StorageError:
        text = str(exc)
        if "locked" in text or "busy" in text:
            return StorageError(
                f"SQLite database {self.path} is locked: another process held the write lock "
                f"for more than {self.busy_timeout:g}s (busy_timeout). It is retried; if it "
                "persists, look for a stuck process holding the file open"
            )
        if "unable to open" in text:
            return StorageError(
                f"cannot open SQLite database {self.path}: {text}; check the path and that "
                "the folder is writable"
            )
        if "not a database" in text or "malformed" in text:
            return StorageError(f"SQLite file {self.path} is not a usable database: {text}")
        return StorageError(f"SQLite error on {self.path}: {text}")

    @property
    def _db(self) -> sqlite3.Connection:
        assert self._conn is not None, "used before open()"
        return self._conn

    def _transaction(self, body: Callable[[sqlite3.Connection], T]) -> T:
        conn = self._db
        conn.execute("BEGIN IMMEDIATE")
        try:
            result = body(conn)
        except BaseException:
            conn.execute("ROLLBACK")
            raise
        conn.execute("COMMIT")
        return result

    def _count(
        self, conn: sqlite3.Connection, queues: Sequence[str], column: str, now: float
    ) -> None:
        counts: dict[str, int] = {}
        for queue in queues:
            counts[queue] = counts.get(queue, 0) + 1
        minute = int(now // 60) * 60
        for queue, count in counts.items():
            outcome = {"completed": 0, "failed": 0, "dead": 0, column: count}
            conn.execute(SQL["count_outcome"], {"minute": minute, "queue": queue, **outcome})

    # -- wake-ups -----------------------------------------------------------

    def _read_data_version(self) -> int:
        assert self._watch is not None
        value: int = self._watch.execute("PRAGMA data_version").fetchone()[0]
        return value

    async def wait_for_work(self, queues: Sequence[str], timeout: float) -> None:
        """Return on a commit by another connection, a local push, the next due job, or timeout."""
        loop = asyncio.get_running_loop()
        next_run = await self._run(self._next_run_at, json.dumps(list(queues)))
        if next_run is not None:
            timeout = min(timeout, max(0.0, next_run - self.now()))
        deadline = loop.time() + timeout
        with self._wakeup.listening() as pushed:
            while not pushed.is_set():
                try:
                    version = self._read_data_version()
                except sqlite3.Error:
                    version = self._data_version  # a busy moment: look again next tick
                now = loop.time()
                if version != self._data_version:
                    self._data_version = version
                    self._last_change = now
                    return
                remaining = deadline - now
                if remaining <= 0:
                    return
                quiet = now - self._last_change > QUIET_AFTER
                interval = (
                    max(self.wake_interval, QUIET_WAKE_INTERVAL) if quiet else self.wake_interval
                )
                await asyncio.sleep(min(interval, remaining))

    def _next_run_at(self, queues: str) -> float | None:
        value: float | None = self._db.execute(SQL["next_run_at"], {"queues": queues}).fetchone()[0]
        return value

    # -- writes -------------------------------------------------------------

    def _insert_params(self, request: EnqueueRequest, now: float) -> dict[str, Any]:
        return {
            "id": request.id,
            "name": request.name,
            "queue": request.queue,
            "payload": request.payload,
            "priority": request.priority,
            "max_retries": request.max_retries,
            "run_at": now if request.run_at is None else to_timestamp(request.run_at),
            "now": now,
            "timeout": request.timeout,
        }

    async def push(self, request: EnqueueRequest) -> str:
        params = self._insert_params(request, self.now())
        await self._run(self._db.execute, SQL["insert"], params)
        return request.id

    async def push_many(self, requests: Sequence[EnqueueRequest]) -> list[str]:
        now = self.now()
        rows = [self._insert_params(request, now) for request in requests]
        await self._run(self._transaction, lambda conn: conn.executemany(SQL["insert"], rows))
        return [request.id for request in requests]

    async def claim(
        self, queues: Sequence[str], worker_id: str, limit: int, lease: float
    ) -> builtins.list[JobRecord]:
        if limit <= 0 or not queues:
            return []
        now = self.now()
        params = {
            "worker_id": worker_id,
            "now": now,
            "lease_expires_at": now + lease,
            "limit": limit,
        }
        names = list(dict.fromkeys(queues))
        rows = await self._run(self._transaction, lambda conn: self._claim(conn, names, params))
        return [_record(row, now) for row in rows]

    def _claim(
        self, conn: sqlite3.Connection, queues: builtins.list[str], params: dict[str, Any]
    ) -> builtins.list[tuple[Any, ...]]:
        if len(queues) == 1:
            rows = conn.execute(SQL["claim_one_queue"], {**params, "queue": queues[0]}).fetchall()
        else:
            # One index walk per queue, merged here: SQLite cannot merge ordered
            # index scans over IN (...), and sorting every waiting job would make
            # claims slow on a deep queue. The write lock is already held.
            candidates = []
            for queue in queues:
                candidates += conn.execute(
                    SQL["claim_candidates"],
                    {"queue": queue, "now": params["now"], "limit": params["limit"]},
                ).fetchall()
            candidates.sort(key=lambda c: (-c[1], c[2], c[0]))
            seqs = json.dumps([c[0] for c in candidates[: params["limit"]]])
            rows = conn.execute(SQL["claim_seqs"], {**params, "seqs": seqs}).fetchall()
        rows.sort(key=lambda row: (-row[_COL["priority"]], row[_COL["run_at"]], row[_COL["seq"]]))
        return rows

    async def ack(self, jobs: Sequence[JobRecord]) -> int:
        if not jobs:
            return 0
        held = json.dumps([[job.id, job.attempt] for job in jobs])
        now = self.now()

        def write(conn: sqlite3.Connection) -> int:
            queues = [row[0] for row in conn.execute(SQL["ack"], {"held": held, "now": now})]
            self._count(conn, queues, "completed", now)
            return len(queues)

        return await self._run(self._transaction, write)

    async def _finish_one(
        self, query: str, column: str, job: JobRecord, params: dict[str, Any]
    ) -> bool:
        now = self.now()

        def write(conn: sqlite3.Connection) -> bool:
            row = conn.execute(
                SQL[query], {**params, "id": job.id, "attempt": job.attempt, "now": now}
            ).fetchone()
            if row is None:
                return False
            self._count(conn, [row[0]], column, now)
            return True

        return await self._run(self._transaction, write)

    async def retry(self, job: JobRecord, run_at: datetime, error: JobError) -> bool:
        params = {"run_at": to_timestamp(run_at), "error": json.dumps(error.to_dict())}
        return await self._finish_one("retry", "failed", job, params)

    async def fail(self, job: JobRecord, error: JobError) -> bool:
        return await self._finish_one("fail", "dead", job, {"error": json.dumps(error.to_dict())})

    async def release(self, jobs: Sequence[JobRecord]) -> int:
        if not jobs:
            return 0
        params = {"held": json.dumps([[job.id, job.attempt] for job in jobs]), "now": self.now()}
        cursor = await self._run(self._db.execute, SQL["release"], params)
        return cursor.rowcount

    async def heartbeat(
        self, job_ids: Sequence[str], worker_id: str, lease: float
    ) -> builtins.list[str]:
        if not job_ids:
            return []
        params = {
            "ids": json.dumps(list(job_ids)),
            "worker_id": worker_id,
            "lease_expires_at": self.now() + lease,
        }
        rows = await self._run(lambda: self._db.execute(SQL["heartbeat"], params).fetchall())
        return [row[0] for row in rows]

    async def rescue(self) -> RescueResult:
        now = self.now()

        def write(conn: sqlite3.Connection) -> RescueResult:
            requeued: builtins.list[str] = []
            dead: builtins.list[str] = []
            for seq, attempt, max_retries, worker_id, queue in conn.execute(
                SQL["expired"], {"now": now}
            ).fetchall():
                error = json.dumps(lease_expired_error(attempt, worker_id, now).to_dict())
                exhausted = attempt > max_retries
                query = "rescue_dead" if exhausted else "rescue_requeue"
                conn.execute(SQL[query], {"seq": seq, "now": now, "error": error})
                (dead if exhausted else requeued).append(queue)
            self._count(conn, requeued, "failed", now)
            self._count(conn, dead, "dead", now)
            return RescueResult(requeued=len(requeued), dead=len(dead))

        return await self._run(self._transaction, write)

    async def cancel(self, job_id: str) -> bool:
        return await self._changed("cancel", {"id": job_id, "now": self.now()})

    async def requeue(self, job_id: str) -> bool:
        return await self._changed("requeue", {"id": job_id, "now": self.now()})

    async def requeue_dead(self, queue: str | None = None) -> int:
        cursor = await self._run(
            self._db.execute, SQL["requeue_dead"], {"queue": queue, "now": self.now()}
        )
        return cursor.rowcount

    async def delete(self, job_id: str) -> bool:
        return await self._changed("delete", {"id": job_id})

    async def _changed(self, query: str, params: dict[str, Any]) -> bool:
        cursor = await self._run(self._db.execute, SQL[query], params)
        return cursor.rowcount > 0

    async def prune(self, before: datetime) -> int:
        cutoff = to_timestamp(before)

        def write(conn: sqlite3.Connection) -> int:
            pruned = conn.execute(SQL["prune"], {"before": cutoff}).rowcount
            conn.execute(SQL["prune_stats"], {"before": cutoff})
            conn.execute(SQL["forget_workers"], {"before": cutoff})
            return pruned

        return await self._run(self._transaction, write)

    # -- reads --------------------------------------------------------------

    async def get(self, job_id: str) -> JobRecord | None:
        row = await self._run(lambda: self._db.execute(SQL["get"], {"id": job_id}).fetchone())
        return None if row is None else _record(row, self.now())

    async def list(
        self,
        queue: str | None = None,
        status: JobStatus | None = None,
        limit: int = 50,
        offset: int = 0,
    ) -> builtins.list[JobRecord]:
        now = self.now()
        stored: str | None = None if status is None else status.value
        due: int | None = None
        if status is JobStatus.SCHEDULED:
            stored, due = JobStatus.AVAILABLE.value, 0
        elif status is JobStatus.AVAILABLE:
            due = 1
        params = {
            "queue": queue,
            "status": stored,
            "due": due,
            "now": now,
            "limit": limit,
            "offset": offset,
        }
        rows = await self._run(lambda: self._db.execute(SQL["list"], params).fetchall())
        return [_record(row, now) for row in rows]

    async def queue_depths(self) -> dict[str, dict[JobStatus, int]]:
        rows = await self._run(
            lambda: self._db.execute(SQL["depths"], {"now": self.now()}).fetchall()
        )
        depths: dict[str, dict[JobStatus, int]] = {}
        for queue, state, count in rows:
            depths.setdefault(queue, dict.fromkeys(JobStatus, 0))[_STATUS[state]] = count
        return depths

    # -- workers and stats ----------------------------------------------------

    async def register_worker(self, info: WorkerInfo, ttl: float) -> None:
        params = {"id": info.id, "info": json.dumps(info.to_dict()), "expires_at": self.now() + ttl}
        await self._run(self._db.execute, SQL["register_worker"], params)

    async def unregister_worker(self, worker_id: str) -> None:
        await self._run(self._db.execute, SQL["unregister_worker"], {"id": worker_id})

    async def workers(self) -> builtins.list[WorkerInfo]:
        rows = await self._run(
            lambda: self._db.execute(SQL["workers"], {"now": self.now()}).fetchall()
        )
        infos = [WorkerInfo.from_dict(json.loads(row[0])) for row in rows]
        return sorted(infos, key=lambda info: info.started_at)

    async def stats(self, since: datetime) -> builtins.list[StatsBucket]:
        params = {"since": to_timestamp(since)}
        rows = await self._run(lambda: self._db.execute(SQL["stats"], params).fetchall())
        return [
            StatsBucket(from_timestamp(minute), queue, completed, failed, dead)
            for minute, queue, completed, failed, dead in rows
        ]


# -- helpers ----------------------------------------------------------------------

_COLUMNS = (
    "seq",
    "id",
    "name",
    "queue",
    "payload",
    "status",
    "priority",
    "attempt",
    "max_retries",
    "run_at",
    "enqueued_at",
    "timeout",
    "started_at",
    "finished_at",
    "lease_expires_at",
    "worker_id",
    "errors",
)
_COL = {name: index for index, name in enumerate(_COLUMNS)}


def _record(row: tuple[Any, ...], now: float) -> JobRecord:
    (
        _,
        job_id,
        name,
        queue,
        payload,
        status,
        priority,
        attempt,
        max_retries,
        run_at,
        enqueued_at,
        timeout,
        started_at,
        finished_at,
        lease_expires_at,
        worker_id,
        errors,
    ) = row
    state = _STATUS[status]
    if state is JobStatus.AVAILABLE and run_at > now:
        state = JobStatus.SCHEDULED
    return JobRecord(
        id=job_id,
        name=name,
        queue=queue,
        payload=payload,
        status=state,
        priority=priority,
        attempt=attempt,
        max_retries=max_retries,
        run_at=from_timestamp(run_at),
        enqueued_at=from_timestamp(enqueued_at),
        timeout=timeout,
        started_at=None if started_at is None else from_timestamp(started_at),
        finished_at=None if finished_at is None else from_timestamp(finished_at),
        lease_expires_at=None if lease_expires_at is None else from_timestamp(lease_expires_at),
        worker_id=worker_id,
        errors=_errors(errors, attempt),
    )


def _errors(text: str, attempt: int) -> tuple[JobError, ...]:
    if text == "[]":
        return ()
    try:
        return tuple(JobError.from_dict(item) for item in json.loads(text))
    except (ValueError, KeyError, TypeError) as exc:
        # A damaged errors column must not hide the job: show what happened instead.
        return (
            JobError(
                attempt=attempt,
                at=from_timestamp(0),
                message=f"(backyard could not read this job's stored error history: {exc})",
                traceback=text[:2000],
            ),
        )


def _statements(script: str) -> builtins.list[str]:
    """Split a migration into statements (they contain no semicolons in literals)."""
    lines = [line for line in script.splitlines() if not line.lstrip().startswith("--")]
    return [s.strip() for s in "\n".join(lines).split(";") if s.strip()]


def parse_sqlite_url(url: str) -> tuple[str, dict[str, str]]:
    """``sqlite:///rel.db`` -> ``rel.db``; ``sqlite:////abs.db`` -> ``/abs.db``; plus query options."""
    parts = urlsplit(url)
    if parts.scheme != "sqlite":
        raise ConfigurationError(f"not a sqlite URL: {url!r}")
    if parts.netloc:
        raise ConfigurationError(
            f"malformed sqlite URL {url!r}: use three slashes before a relative path "
            "(sqlite:///backyard.db) and four before an absolute one (sqlite:////var/lib/app/jobs.db)"
        )
    path = unquote(parts.path[1:] if parts.path.startswith("/") else parts.path)
    if not path:
        raise ConfigurationError(
            f"sqlite URL {url!r} names no file: use sqlite:///backyard.db (relative) or "
            "sqlite:////var/lib/app/jobs.db (absolute)"
        )
    options = {key: values[-1] for key, values in parse_qs(parts.query).items()}
    unknown = set(options) - {"synchronous", "busy_timeout"}
    if unknown:
        raise ConfigurationError(
            f"unknown sqlite URL option(s) {', '.join(sorted(unknown))}: "
            "supported are synchronous and busy_timeout"
        )
    return os.path.expanduser(path), options
