"""``redis://`` and ``rediss://``: many workers on many machines, sharing one Redis.

Every change that touches more than one key is one Lua script (one .lua
file each, in this folder), so a job is always in exactly one place: the
ready or scheduled set of its queue, the leases set while it runs, or a
finished index. A claimed job stays in the leases set until its worker
writes the outcome, and ``rescue`` returns jobs whose lease ran out (the
"reliable fetch" that plain RPOP/BRPOP queues lack). See docs/redis.md for
the key layout, wake-ups, retention and durability.

Every notion of "now" is the client's clock (``self.now()``), passed to the
scripts; only the expiry of finished jobs' hashes runs on the server's
clock. Keep client and server clocks in sync (NTP).
"""

from __future__ import annotations

import asyncio
import builtins
import contextvars
import functools
import heapq
import json
import logging
import uuid
from collections.abc import Callable, Coroutine, Sequence
from datetime import datetime
from typing import Any, Concatenate, ParamSpec, TypeVar, cast

from redis.asyncio import Redis
from redis.asyncio.retry import Retry
from redis.backoff import ExponentialBackoff
from redis.exceptions import (
    AuthenticationError,
    AuthorizationError,
    RedisError,
)
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError

from ..._errors import BackyardError, ConfigurationError, StorageError
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
from ._codec import error_json, record_from_claim, record_from_handoff, record_from_hash, ts
from ._scripts import Scripts
from ._settings import FROM_URL, RedisSettings, Seconds, _Unset, parse_settings

__all__ = ["RedisQueue"]

log = logging.getLogger("backyard.redis")

P = ParamSpec("P")
T = TypeVar("T")

# Jobs per script call; bigger batches run as one MULTI of chunks. Redis is
# blocked for the whole MULTI anyway, so chunks only bound the Lua heap that
# decoding one call's jobs takes; each extra chunk costs an id check.
PUSH_CHUNK = 10_000
PROMOTE_LIMIT = 1000  # scheduled jobs moved to ready per queue per claim
RESCUE_BATCH = 500
PRUNE_BATCH = 1000
SWEEP_EXTRA = 10  # expired finished jobs each ack may forget beyond its own count
MIN_REDIS = (6, 2)

# Stored statuses behind each reported one ("scheduled" is a waiting job
# whose run_at is still in the future).
_STORED = {
    None: ("available", "running", "completed", "dead", "cancelled"),
    JobStatus.SCHEDULED: ("available",),
    JobStatus.AVAILABLE: ("available",),
    JobStatus.RUNNING: ("running",),
    JobStatus.COMPLETED: ("completed",),
    JobStatus.DEAD: ("dead",),
    JobStatus.CANCELLED: ("cancelled",),
}
# What the current task's last claim asked for: (store, queues, worker_id,
# limit, lease). A worker claims and then waits in the same task, so
# wait_for_work learns whom it may take a handed-off job for.
_LAST_CLAIM: contextvars.ContextVar[tuple[object, tuple[str, ...], str, int, float]] = (
    contextvars.ContextVar("backyard_redis_last_claim")
)
HANDOFF_MARGIN = 5.0  # seconds a waiter token outlives the wait it was made for

_DEPTH_ORDER = tuple(JobStatus)  # the order depths.lua returns its counts in


def _redis_errors(
    method: Callable[Concatenate[RedisQueue, P], Coroutine[Any, Any, T]],
) -> Callable[Concatenate[RedisQueue, P], Coroutine[Any, Any, T]]:
    """Surface redis-py's errors as backyard's, so the worker's retry-with-backoff handles them."""

    async def wrapper(self: RedisQueue, /, *args: P.args, **kwargs: P.kwargs) -> T:
        try:
            return await method(self, *args, **kwargs)
        except RedisError as exc:
            raise self._translate(exc) from exc
        except OSError as exc:  # TLS and socket errors redis-py lets through
            raise StorageError(f"Redis at {self._settings.where}: {exc}") from exc

    functools.update_wrapper(wrapper, method)
    return wrapper


class RedisQueue(Queue):
    """Jobs in Redis (server 6.2 or newer), through redis-py's asyncio client.

    ::

        async with connect("redis://localhost:6379/0") as queue:
            await queue.enqueue(SendEmail(to="a@example.com", subject="hi"))

    URL: ``redis://[[user]:password@]host[:port][/db][?options]``, or
    ``rediss://`` for TLS. backyard reads these query options (keyword
    arguments of the same names win over them); all others go to redis-py
    (``socket_timeout``, ``ssl_ca_certs``, ``ssl_cert_reqs``, ...):

    - ``prefix``: prepended to every key (default ``backyard:``), so several
      applications can share one Redis database.
    - ``completed_ttl``: seconds a completed job stays findable (default one
      day); ``cancelled_ttl`` the same for cancelled jobs (default: as
      completed); ``dead_ttl`` for dead jobs (default seven days). ``0`` (or
      ``None`` as a keyword argument) keeps them until ``prune``.

    Keyword-only ``stats_ttl`` (default two days) is how long the per-minute
    outcome counters live. Other keyword arguments go to ``redis.asyncio.Redis``.

    Raises ``ConfigurationError`` for a malformed URL, wrong credentials or
    a database number the server does not have; ``StorageError`` when Redis
    cannot be reached or fails.
    """

    schemes = ("redis", "rediss")

    def __init__(
        self,
        url: str = "redis://localhost:6379/0",
        *,
        clock: Clock | None = None,
        prefix: str | None = None,
        completed_ttl: Seconds | _Unset = FROM_URL,
        dead_ttl: Seconds | _Unset = FROM_URL,
        cancelled_ttl: Seconds | _Unset = FROM_URL,
        stats_ttl: Seconds = 2 * 24 * 3600.0,
        **redis_options: Any,
    ) -> None:
        super().__init__(url, clock=clock)
        self._settings: RedisSettings = parse_settings(
            url,
            prefix=prefix,
            completed_ttl=completed_ttl,
            dead_ttl=dead_ttl,
            cancelled_ttl=cancelled_ttl,
            stats_ttl=stats_ttl,
        )
        self.prefix = self._settings.prefix
        self._redis_options = redis_options
        self._scripts = Scripts()
        self._client: Redis | None = None
        self._blocking: Redis | None = None  # BLPOP waits, one connection per waiter
        self._next_due: dict[tuple[str, ...], float | None] = {}
        # By worker id: jobs handed to it while it waited, kept for its next
        # claim, and the waiter token its next claim is to unregister.
        self._handed: dict[str, builtins.list[JobRecord]] = {}
        self._waits: dict[str, tuple[str, tuple[str, ...]]] = {}
        self._identity = object()  # tells this store's claims from other stores' ones
        s = self._settings
        self._ttl_args = (ts(s.completed_ttl), ts(s.dead_ttl), ts(s.cancelled_ttl))
        self._retention = {
            JobStatus.COMPLETED: s.completed_ttl,
            JobStatus.DEAD: s.dead_ttl,
            JobStatus.CANCELLED: s.cancelled_ttl,
        }

    # -- life cycle -------------------------------------------------------

    def _make_client(self, **overrides: Any) -> Redis:
        options: dict[str, Any] = {
            "decode_responses": True,
            "socket_connect_timeout": 5.0,
            "socket_timeout": 10.0,
            # A connection the server closed (a restart, CLIENT KILL, an idle
            # timeout) is replaced and the command sent again, once or twice.
            # Timeouts are not retried: the script may have run.
            "retry": Retry(ExponentialBackoff(cap=0.5, base=0.02), 2),
            "retry_on_error": [RedisConnectionError],
            "client_name": "backyard",
        }
        options.update(self._redis_options)
        options.update(overrides)
        try:
            return Redis.from_url(self._settings.redis_url, **options)
        except (ValueError, TypeError) as exc:
            raise ConfigurationError(f"bad Redis URL or option for {self!r}: {exc}") from exc

    @_redis_errors
    async def open(self) -> None:
        """Connect, check the server and load the scripts."""
        if self._client is not None:
            return
        client = self._make_client()
        try:
            info = await client.info("server")
            version = tuple(int(p) for p in str(info.get("redis_version", "0.0")).split(".")[:2])
            if version < MIN_REDIS:
                raise StorageError(
                    f"Redis at {self._settings.where} is version {info.get('redis_version')}; "
                    "backyard needs Redis 6.2 or newer"
                )
            await self._scripts.load(client)
        except BaseException:
            await client.aclose()
            raise
        self._client = client

    async def close(self) -> None:
        for worker_id in list(self._waits):
            try:
                await self._end_wait(worker_id)
            except (RedisError, OSError) as exc:  # the token expires by itself
                log.debug("could not end a wait for work: %s", exc)
        handed = [job for jobs in self._handed.values() for job in jobs]
        self._handed.clear()
        if handed and self._client is not None:
            try:  # handed to a worker that stopped before claiming them
                await self.release(handed)
            except BackyardError as exc:
                log.warning("could not give back %d job(s): %s", len(handed), exc)
        client, blocking = self._client, self._blocking
        self._client = self._blocking = None
        for each in (blocking, client):
            if each is not None:
                try:
                    await each.aclose()
                except (RedisError, OSError) as exc:
                    log.debug("closing a Redis connection failed: %s", exc)

    def _translate(self, exc: RedisError) -> BackyardError:
        where = self._settings.where
        text = str(exc)
        if isinstance(exc, AuthorizationError) or "NOPERM" in text:
            return ConfigurationError(
                f"Redis at {where}: the user in the URL lacks a permission backyard needs "
                f"({text}); it needs the commands of its scripts on keys {self.prefix}*"
            )
        if isinstance(exc, AuthenticationError) or any(
            marker in text
            for marker in ("WRONGPASS", "NOAUTH", "invalid password", "invalid username-password")
        ):
            return ConfigurationError(
                f"Redis at {where} refused the credentials ({text}); put the right password "
                "in the URL: redis://:PASSWORD@host:6379/0, or redis://USER:PASSWORD@... "
                "for an ACL user"
            )
        if "DB index is out of range" in text:
            return ConfigurationError(
                f"Redis at {where}: the database number in the URL does not exist on this "
                "server (see its `databases` setting; the default allows 0 to 15)"
            )
        if isinstance(exc, RedisConnectionError | RedisTimeoutError):
            return StorageError(
                f"cannot reach Redis at {where}: {text} (is redis-server running and reachable?)"
            )
        return StorageError(f"Redis at {where} failed: {text}")

    @property
    def client(self) -> Redis:
        """The redis-py client (opened); for tests and tools that inspect the keys."""
        if self._client is None:
            raise StorageError(f"{self!r} is not open: use `async with` or await open() first")
        return self._client

    def _key(self, *parts: str) -> str:
        return self.prefix + ":".join(parts)

    async def _run(self, script: str, *args: str | int | float) -> Any:
        return await self._scripts.run(self.client, script, self.prefix, *args)

    # -- pushing ----------------------------------------------------------

    @_redis_errors
    async def push(self, request: EnqueueRequest) -> str:
        now = ts(self.now())
        _check_push(await self._run("push", now, "", *_push_args([request], now)))
        return request.id

    @_redis_errors
    async def push_many(self, requests: Sequence[EnqueueRequest]) -> list[str]:
        ids = [r.id for r in requests]
        if len(set(ids)) != len(ids):
            raise ValueError("push_many: duplicate job ids")
        if not requests:
            return []
        now = ts(self.now())
        if len(requests) <= PUSH_CHUNK:
            _check_push(await self._run("push", now, "", *_push_args(requests, now)))
            return ids
        # Too big for one script call: the chunks run in one MULTI, after a
        # check that sets a guard key if any id is taken, so either every
        # chunk writes or none does. EVAL (not EVALSHA) inside the MULTI: a
        # NOSCRIPT there would fail one chunk and let the others commit.
        guard = self._key("guard", uuid.uuid4().hex)
        sources = self._scripts.sources
        async with self.client.pipeline(transaction=True) as pipe:
            pipe.eval(sources["push_check"], 0, self.prefix, now, guard, _json(ids))
            for start in range(0, len(requests), PUSH_CHUNK):
                specs, jobs = _push_args(requests[start : start + PUSH_CHUNK], now)
                pipe.eval(sources["push"], 0, self.prefix, now, guard, specs, jobs)
            pipe.delete(guard)
            results = await pipe.execute()
        if results[0]:
            raise ValueError(f"push_many: job id {results[0]} already exists")
        for reply in results[1:-1]:
            _check_push(reply)
        return ids

    # -- claiming and outcomes ---------------------------------------------

    @_redis_errors
    async def claim(
        self, queues: Sequence[str], worker_id: str, limit: int, lease: float
    ) -> list[JobRecord]:
        names = tuple(dict.fromkeys(queues))
        if not names or limit <= 0:
            return []
        _LAST_CLAIM.set((self._identity, names, worker_id, limit, lease))
        handed = self._handed.pop(worker_id, None)
        if handed:
            return handed  # claimed for this worker by push.lua while it waited
        end_token = ""
        waited = self._waits.pop(worker_id, None)
        if waited is not None:
            if waited[1] == names:
                end_token = waited[0]
            else:
                self._waits[worker_id] = waited  # another queue set: wait_for_work ends it
        now = self.now()
        lease_at = now + lease
        reply = await self._run(
            "claim", ts(now), worker_id, limit, ts(lease_at), PROMOTE_LIMIT, end_token, *names
        )
        self._next_due[names] = float(reply[0]) if reply[0] else None
        started, expires = from_timestamp(now), from_timestamp(lease_at)
        jobs = [record_from_handoff(raw) for raw in reply[1]]
        jobs += (record_from_claim(row, started, expires, worker_id) for row in reply[2:])
        return jobs

    @_redis_errors
    async def ack(self, jobs: Sequence[JobRecord]) -> int:
        if not jobs:
            return 0
        pairs = json.dumps([[job.id, job.attempt] for job in jobs], separators=(",", ":"))
        stats_ttl = int(self._settings.stats_ttl)
        done: int = await self._run(
            "ack", ts(self.now()), self._ttl_args[0], stats_ttl, SWEEP_EXTRA, pairs
        )
        return done

    @_redis_errors
    async def retry(self, job: JobRecord, run_at: datetime, error: JobError) -> bool:
        updated = await self._run(
            "retry",
            ts(self.now()),
            job.id,
            str(job.attempt),
            ts(to_timestamp(run_at)),
            error_json(error),
            int(self._settings.stats_ttl),
        )
        return bool(updated)

    @_redis_errors
    async def fail(self, job: JobRecord, error: JobError) -> bool:
        updated = await self._run(
            "fail",
            ts(self.now()),
            job.id,
            str(job.attempt),
            error_json(error),
            self._ttl_args[1],
            int(self._settings.stats_ttl),
            SWEEP_EXTRA,
        )
        return bool(updated)

    @_redis_errors
    async def release(self, jobs: Sequence[JobRecord]) -> int:
        if not jobs:
            return 0
        args: list[str] = []
        for job in jobs:
            args += (job.id, str(job.attempt))
        released: int = await self._run("release", ts(self.now()), *args)
        return released

    @_redis_errors
    async def heartbeat(self, job_ids: Sequence[str], worker_id: str, lease: float) -> list[str]:
        if not job_ids:
            return []
        now = self.now()
        held: list[str] = await self._run(
            "heartbeat", ts(now), worker_id, ts(now + lease), *job_ids
        )
        return held

    @_redis_errors
    async def rescue(self) -> RescueResult:
        requeued = dead = 0
        while True:
            now = self.now()
            # The message every backend records, with a placeholder the
            # script fills with each job's worker id.
            template = lease_expired_error(0, "{worker}", now).message
            reply = await self._run(
                "rescue",
                ts(now),
                RESCUE_BATCH,
                template,
                self._ttl_args[1],
                int(self._settings.stats_ttl),
            )
            requeued += int(reply[0])
            dead += int(reply[1])
            if int(reply[2]) < RESCUE_BATCH:
                return RescueResult(requeued=requeued, dead=dead)

    # -- reading ----------------------------------------------------------

    @_redis_errors
    async def get(self, job_id: str) -> JobRecord | None:
        data = cast(dict[str, str], await self.client.hgetall(self._key("job", job_id)))
        if not data:
            return None
        now = self.now()
        record = record_from_hash(job_id, data, now)
        return None if self._past_retention(record, now) else record

    def _past_retention(self, record: JobRecord, now: float) -> bool:
        """Finished longer ago than its retention (not yet swept, or the clocks differ)."""
        ttl = self._retention.get(record.status, 0.0)
        finished = record.finished_at
        return bool(ttl) and finished is not None and finished.timestamp() + ttl < now

    @_redis_errors
    async def list(
        self,
        queue: str | None = None,
        status: JobStatus | None = None,
        limit: int = 50,
        offset: int = 0,
    ) -> builtins.list[JobRecord]:
        if limit <= 0:
            return []
        now = self.now()
        if queue is not None:
            queues = [queue]
        else:
            queues = sorted(cast(set[str], await self.client.smembers(self._key("queues"))))
        keys = [self._key("status", s, q) for q in queues for s in _STORED[status]]
        if not keys:
            return []
        cache: dict[str, dict[str, str]] = {}
        depth = max(offset + limit, 64)
        while True:
            # The newest `depth` ids of each index, merged newest first. The
            # status recorded in the job hash decides (a job may have moved
            # between indexes meanwhile, and "scheduled" is a matter of run_at).
            merged, exhausted = await self._newest(keys, depth)
            found: builtins.list[JobRecord] = []
            seen: set[str] = set()
            stale: builtins.list[tuple[str, str]] = []
            skip = offset
            for start in range(0, len(merged), 200):
                page = [entry for entry in merged[start : start + 200] if entry[1] not in cache]
                if page:
                    async with self.client.pipeline(transaction=False) as pipe:
                        for _, job_id in page:
                            pipe.hgetall(self._key("job", job_id))
                        for (_, job_id), data in zip(page, await pipe.execute(), strict=True):
                            cache[job_id] = data
                for key, job_id in merged[start : start + 200]:
                    data = cache[job_id]
                    if not data:
                        stale.append((key, job_id))  # expired on the server's clock
                        continue
                    if job_id in seen:
                        continue
                    seen.add(job_id)
                    record = record_from_hash(job_id, data, now)
                    if status is not None and record.status is not status:
                        continue
                    if self._past_retention(record, now):
                        continue
                    if skip:
                        skip -= 1
                        continue
                    found.append(record)
                    if len(found) == limit:
                        break
                if len(found) == limit:
                    break
            if stale:
                async with self.client.pipeline(transaction=False) as pipe:
                    for key, job_id in stale:
                        pipe.zrem(key, job_id)
                    await pipe.execute()
            if len(found) == limit or exhausted:
                return found
            depth *= 4

    async def _newest(
        self, keys: builtins.list[str], depth: int
    ) -> tuple[builtins.list[tuple[str, str]], bool]:
        """Up to ``depth`` newest (key, id) of each index, merged newest first; and
        whether every index was read to its end."""
        async with self.client.pipeline(transaction=False) as pipe:
            for key in keys:
                pipe.zrevrange(key, 0, depth - 1, withscores=True)
            replies = await pipe.execute()
        exhausted = all(len(rows) < depth for rows in replies)
        entries = heapq.merge(
            *(
                [(-score, key, job_id) for job_id, score in rows]
                for key, rows in zip(keys, replies, strict=True)
            )
        )
        return [(key, job_id) for _, key, job_id in entries], exhausted

    @_redis_errors
    async def queue_depths(self) -> dict[str, dict[JobStatus, int]]:
        reply = await self._run("depths", ts(self.now()), *self._ttl_args)
        depths: dict[str, dict[JobStatus, int]] = {}
        for i in range(0, len(reply), 7):
            counts = [int(n) for n in reply[i + 1 : i + 7]]
            if any(counts):
                depths[reply[i]] = dict(zip(_DEPTH_ORDER, counts, strict=True))
        return depths

    # -- managing ---------------------------------------------------------

    @_redis_errors
    async def cancel(self, job_id: str) -> bool:
        return bool(await self._run("cancel", ts(self.now()), job_id, self._ttl_args[2]))

    @_redis_errors
    async def requeue(self, job_id: str) -> bool:
        return bool(await self._run("requeue", ts(self.now()), job_id))

    @_redis_errors
    async def delete(self, job_id: str) -> bool:
        return bool(await self._run("delete", ts(self.now()), job_id))

    @_redis_errors
    async def prune(self, before: datetime) -> int:
        return await self._prune(ts(to_timestamp(before)))

    async def _prune(self, before: str) -> int:
        total = 0
        while True:
            deleted = int(
                await self._run("prune", ts(self.now()), before, *self._ttl_args, PRUNE_BATCH)
            )
            total += deleted
            if deleted == 0:
                return total

    @_redis_errors
    async def sweep(self) -> int:
        """Forget finished jobs past their retention now; returns how many.

        Acks do this as they go and ``prune`` does it too, so calling it is
        never required.
        """
        return await self._prune("")

    # -- workers and stats --------------------------------------------------

    @_redis_errors
    async def register_worker(self, info: WorkerInfo, ttl: float) -> None:
        now = self.now()
        await self._run(
            "register_worker", ts(now), info.id, ts(now + ttl), json.dumps(info.to_dict())
        )

    @_redis_errors
    async def unregister_worker(self, worker_id: str) -> None:
        async with self.client.pipeline(transaction=True) as pipe:
            pipe.zrem(self._key("workers"), worker_id)
            pipe.hdel(self._key("workers", "info"), worker_id)
            await pipe.execute()

    @_redis_errors
    async def workers(self) -> builtins.list[WorkerInfo]:
        live = cast(
            builtins.list[str],
            await self.client.zrangebyscore(self._key("workers"), ts(self.now()), "+inf"),
        )
        if not live:
            return []
        infos = cast(
            builtins.list[str | None], await self.client.hmget(self._key("workers", "info"), live)
        )
        found = [WorkerInfo.from_dict(json.loads(raw)) for raw in infos if raw]
        return sorted(found, key=lambda info: info.started_at)

    @_redis_errors
    async def stats(self, since: datetime) -> builtins.list[StatsBucket]:
        now = self.now()
        oldest = now - self._settings.stats_ttl
        first = int(max(to_timestamp(since), oldest) // 60) * 60
        last = int(now // 60) * 60 + 60  # a minute of slack for clock skew between clients
        minutes = list(range(first, last + 1, 60))
        async with self.client.pipeline(transaction=False) as pipe:
            for minute in minutes:
                pipe.hgetall(self._key("stats", str(minute)))
            replies = await pipe.execute()
        buckets: builtins.list[StatsBucket] = []
        for minute, counters in zip(minutes, replies, strict=True):
            per_queue: dict[str, dict[str, int]] = {}
            for field, value in counters.items():
                kind, _, queue = field.partition(":")
                per_queue.setdefault(queue, {})[kind] = int(value)
            for queue in sorted(per_queue):
                counts = per_queue[queue]
                buckets.append(
                    StatsBucket(
                        minute=from_timestamp(minute),
                        queue=queue,
                        completed=counts.get("completed", 0),
                        failed=counts.get("failed", 0),
                        dead=counts.get("dead", 0),
                    )
                )
        return buckets

    # -- wake-ups ---------------------------------------------------------

    async def wait_for_work(self, queues: Sequence[str], timeout: float) -> None:
        """Block until work may be there: a push, a retry coming due, or ``timeout``.

        An idle worker registers a waiter token and blocks (BLPOP, on its own
        connection) on the token's handed list and on the queues' signal
        lists. A single push of a due job claims it for the first waiter and
        appends it to that list, so the BLPOP returns the job itself and the
        worker's next ``claim`` hands it over without a round trip; the claim
        after that unregisters the token in the same script call. Other
        changes (bulk pushes, retries, releases, rescues, requeues) leave a
        signal; a claim that leaves work behind leaves one for the next idle
        worker. The wait ends early when the earliest scheduled job comes due.
        """
        names = tuple(dict.fromkeys(queues))
        claimed = _LAST_CLAIM.get(None)
        last = claimed[1:] if claimed is not None and claimed[0] is self._identity else None
        try:
            if last is not None:
                # A wait no claim has ended yet (the claim failed, or asked
                # for other queues): end it here, and hand over its jobs.
                await self._end_wait(last[1])
                if self._handed.get(last[1]):
                    return
            wait = timeout
            due = self._next_due.get(names)
            if due is not None:
                wait = min(wait, due - self.now())
            if wait < 0.001 or self._client is None:
                return
            if self._blocking is None:
                self._blocking = self._make_client(
                    socket_timeout=None, retry=Retry(ExponentialBackoff(), 0)
                )
            keys = [self._key("signal", q) for q in names]
            if last is not None and last[0] == names:
                await self._wait_for_handoff(names, last[1], last[2], last[3], keys, wait)
            else:
                # The client-side deadline guards against a connection that
                # hangs without closing; BLPOP's own timeout ends the wait.
                async with asyncio.timeout(wait + HANDOFF_MARGIN):
                    await self._blocking.blpop(keys, timeout=wait)
        except (BackyardError, RedisError, OSError, TimeoutError) as exc:
            # Redis restarting or the connection killed: let the caller
            # claim (and back off if storage is really down) after a pause.
            log.debug("waiting for work on Redis failed: %s", exc)
            await asyncio.sleep(min(timeout, 0.1))

    async def _wait_for_handoff(
        self,
        names: tuple[str, ...],
        worker_id: str,
        capacity: int,
        lease: float,
        signals: builtins.list[str],
        wait: float,
    ) -> None:
        assert self._blocking is not None
        token = uuid.uuid4().hex
        handed_key = self._key("handed", token)
        ttl_ms = int((wait + HANDOFF_MARGIN) * 1000)
        # Recorded before the script runs: however this wait ends (a handoff,
        # a signal, the timeout, an error, cancellation), the worker's next
        # claim, its next wait or close() unregisters the token and collects
        # what was handed to it.
        self._waits[worker_id] = (token, names)
        registered = await self._run(
            "wait_begin", ts(self.now()), token, worker_id, ts(lease), capacity, ttl_ms, *names
        )
        if not registered:
            self._waits.pop(worker_id, None)
            return  # work is due already
        async with asyncio.timeout(wait + HANDOFF_MARGIN):
            reply = await self._blocking.blpop([handed_key, *signals], timeout=wait)
        # A cancellation that lands while BLPOP's reply is being read loses
        # that reply: its job comes back when its lease runs out.
        if reply and reply[0] == handed_key:
            job = record_from_handoff(cast(str, reply[1]))
            self._handed.setdefault(worker_id, []).append(job)

    async def _end_wait(self, worker_id: str) -> None:
        """Unregister the worker's pending waiter token and keep what was handed to it."""
        waited = self._waits.pop(worker_id, None)
        if waited is None:
            return
        token, names = waited
        rows: builtins.list[str] = await self._run("wait_end", ts(self.now()), token, *names)
        if rows:
            self._handed.setdefault(worker_id, []).extend(record_from_handoff(r) for r in rows)


def _push_args(requests: Sequence[EnqueueRequest], now: str) -> tuple[str, str]:
    """push.lua's specs and jobs arguments; every value a string, so nothing is lost to
    Lua's numbers (the spec numbers are small integers)."""
    numbers: dict[tuple[Any, ...], int] = {}
    specs: builtins.list[builtins.list[str]] = []
    jobs: builtins.list[int | str] = []
    add = jobs.extend
    for r in requests:
        shared = (r.name, r.queue, r.priority, r.max_retries, r.run_at, r.timeout)
        number = numbers.get(shared)
        if number is None:
            number = numbers[shared] = len(specs) + 1
            specs.append(
                [
                    r.name,
                    r.queue,
                    str(r.priority),
                    str(r.max_retries),
                    now if r.run_at is None else ts(to_timestamp(r.run_at)),
                    "" if r.timeout is None else ts(r.timeout),
                ]
            )
        add((number, r.id, r.payload))
    return _json(specs), _json(jobs)


def _json(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))


def _check_push(reply: Any) -> None:
    if reply[0] == "duplicate":
        raise ValueError(f"job id {reply[1]} already exists")
