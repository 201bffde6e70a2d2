"""Fault injection: run real workers while killing them, cutting their connections
and restarting their database, feed them bad input, and count what was lost.

    python -m tests.chaos.harness --backend sqlite --jobs 20000 --duration 120
    make chaos          # the long run on every backend

What it does, per backend:

1. enqueues a known set of well-behaved jobs, each of which records its run
   in a separate ledger (tests/chaos/jobs.py);
2. runs several worker processes while a fault loop, every second or two,
   kills one with SIGKILL (and starts a replacement), stops one with SIGTERM
   (the graceful path), or does something to the backend itself (see each
   Target's ``faults``); the first rounds also inject poison: payloads that do
   not decode, unknown job names, jobs that hang past their timeout, jobs
   that raise, jobs that exit their process;
3. stops the faults, lets the workers drain the queue, stops them, and
   reports: enqueued, completed, dead (only poisoned jobs may be, each with a
   readable error), lost (must be 0), ran more than once (allowed only when
   the earlier run's worker died before recording it: the job carries a
   "lease expired" error for that attempt), and stuck in running (must be 0).

Every loop is bounded in count and time, the harness stops itself, and it
touches only 127.0.0.1.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import shutil
import signal
import socket
import sqlite3
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import TypeVar

from backyard import EnqueueRequest, JobOptions, JobRecord, JobStatus, Queue, connect

from .jobs import LEDGER_ENV, ExitsProcess, Hangs, Raises, Work, open_ledger
from .worker import LEASE

ROOT = Path(__file__).resolve().parents[2]
QUEUE = "chaos"
T = TypeVar("T")
Fault = Callable[[], Awaitable[str]]


# -- targets: one per backend ------------------------------------------------------


class Target:
    """A backend under test: where its store is, and the faults only it can suffer."""

    name = "?"

    def __init__(self, folder: Path) -> None:
        self.folder = folder

    @property
    def url(self) -> str:
        raise NotImplementedError

    async def setup(self) -> None:
        pass

    async def teardown(self) -> None:
        pass

    def faults(self) -> list[Fault]:
        """Faults the loop picks from at random, again and again."""
        return []

    def once(self) -> list[Fault]:
        """Faults run once, halfway through the fault window (a server restart)."""
        return []


class SQLiteTarget(Target):
    name = "sqlite"

    @property
    def url(self) -> str:
        return f"sqlite:///{self.folder / 'store.db'}?busy_timeout=2"

    def faults(self) -> list[Fault]:
        return [self.hold_write_lock]

    async def hold_write_lock(self) -> str:
        """Another process holds the write lock past the workers' busy_timeout."""
        conn = sqlite3.connect(self.folder / "store.db", isolation_level=None)
        try:
            conn.execute("BEGIN IMMEDIATE")
            await asyncio.sleep(2.5)
            conn.execute("ROLLBACK")
        finally:
            conn.close()
        return "held the SQLite write lock for 2.5 s"


class PostgresTarget(Target):
    """A private schema in database test; its connections are cut now and then,
    and the server is restarted once (where this machine's cluster is managed
    by pg_ctlcluster and we may run it: CI and the development machines).
    """

    name = "postgres"

    def __init__(self, folder: Path) -> None:
        super().__init__(folder)
        self.schema = f"backyard_chaos_{os.urandom(4).hex()}"
        self.app = f"chaos_{self.schema}"

    @property
    def url(self) -> str:
        from ..backends import POSTGRES_URL

        return f"{POSTGRES_URL}?schema={self.schema}&application_name={self.app}"

    async def teardown(self) -> None:
        from ..backends import drop_postgres_schema

        await drop_postgres_schema(self.schema)

    def faults(self) -> list[Fault]:
        return [self.terminate_connections]

    async def terminate_connections(self) -> str:
        """pg_terminate_backend on every connection of this run (pools and listeners)."""
        import asyncpg

        from ..backends import POSTGRES_URL

        conn = await asyncpg.connect(POSTGRES_URL)
        try:
            killed = await conn.fetchval(
                "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
                "WHERE application_name LIKE $1",
                f"{self.app}%",
            )
        finally:
            await conn.close()
        return f"terminated {killed} PostgreSQL connection(s)"

    def once(self) -> list[Fault]:
        if shutil.which("pg_ctlcluster") is None or os.geteuid() != 0:
            return []
        return [self.restart_server]

    async def restart_server(self) -> str:
        """Restart the PostgreSQL server (fast mode: every connection is cut)."""
        version = sorted(os.listdir("/etc/postgresql"))[0]
        command = [
            "pg_ctlcluster",
            "--skip-systemctl-redirect",
            version,
            "main",
            "restart",
            "-m",
            "fast",
        ]
        result = await asyncio.to_thread(
            subprocess.run, command, capture_output=True, text=True, timeout=60
        )
        if result.returncode != 0:
            raise RuntimeError(f"pg_ctlcluster restart failed: {result.stderr.strip()}")
        return f"restarted PostgreSQL {version}"


class RedisTarget(Target):
    """A private redis-server on a free port, with AOF fsynced on every write.

    Its clients are killed now and then (CLIENT KILL) and the server itself is
    killed with SIGKILL and started again once, replaying its AOF. A Redis
    without persistence forgets everything on a restart by design; this shows
    that with `appendonly yes` and `appendfsync always`, nothing acknowledged
    is lost.
    """

    name = "redis"

    def __init__(self, folder: Path) -> None:
        super().__init__(folder)
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            self.port = probe.getsockname()[1]
        self.server: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def _start(self) -> None:
        binary = shutil.which("redis-server")
        if binary is None:
            raise RuntimeError("redis-server is not installed (apt-get install redis-server)")
        self.server = subprocess.Popen(
            [
                binary,
                "--port",
                str(self.port),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
                "--appendonly",
                "yes",
                "--appendfsync",
                "always",
                "--dir",
                str(self.folder),
                "--logfile",
                str(self.folder / "redis.log"),
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )

    async def _wait_ready(self) -> None:
        for _ in range(100):
            try:
                _, writer = await asyncio.open_connection("127.0.0.1", self.port)
            except OSError:
                await asyncio.sleep(0.1)
                continue
            writer.close()
            return
        raise RuntimeError(f"private redis-server on port {self.port} did not start")

    async def setup(self) -> None:
        self._start()
        await self._wait_ready()

    async def teardown(self) -> None:
        if self.server is not None and self.server.poll() is None:
            self.server.kill()
            self.server.wait()

    async def _command(self, *args: str) -> str:
        result = await asyncio.to_thread(
            subprocess.run,
            ["redis-cli", "-p", str(self.port), *args],
            capture_output=True,
            text=True,
            timeout=10,
        )
        return result.stdout.strip()

    def faults(self) -> list[Fault]:
        return [self.client_kill]

    async def client_kill(self) -> str:
        """CLIENT KILL every normal client: the workers' pools and blocking pops."""
        killed = await self._command("CLIENT", "KILL", "TYPE", "normal")
        return f"killed {killed} Redis client connection(s)"

    def once(self) -> list[Fault]:
        return [self.kill_and_restart_server]

    async def kill_and_restart_server(self) -> str:
        """SIGKILL the server (no chance to save anything), then start it on its AOF."""
        assert self.server is not None
        self.server.kill()
        await asyncio.to_thread(self.server.wait)
        await asyncio.sleep(1.0)  # workers see a dead server for a moment
        self._start()
        await self._wait_ready()
        return "killed redis-server with SIGKILL and restarted it from its AOF"


TARGETS: dict[str, Callable[[Path], Target]] = {
    "sqlite": SQLiteTarget,
    "postgres": PostgresTarget,
    "redis": RedisTarget,
}


# -- the run ----------------------------------------------------------------------


@dataclass
class Report:
    backend: str
    enqueued: int = 0
    poisoned: int = 0
    completed: int = 0
    dead: int = 0
    lost: int = 0
    stuck: int = 0
    ran_twice: int = 0
    ran_twice_unexplained: int = 0
    good_dead: int = 0
    poison_wrong: list[str] = field(default_factory=list)
    faults: Counter[str] = field(default_factory=Counter)
    worker_deaths: int = 0
    seconds: float = 0.0

    @property
    def ok(self) -> bool:
        return (
            self.lost == 0
            and self.stuck == 0
            and self.ran_twice_unexplained == 0
            and self.good_dead == 0
            and not self.poison_wrong
        )

    def lines(self) -> list[str]:
        verdict = "PASS" if self.ok else "FAIL"
        out = [
            f"== chaos run on {self.backend}: {verdict} ({self.seconds:.0f} s)",
            f"   jobs enqueued            {self.enqueued + self.poisoned:>7}"
            f"  ({self.enqueued} good, {self.poisoned} poisoned)",
            f"   completed                {self.completed:>7}",
            f"   dead                     {self.dead:>7}  (poisoned ones; good jobs dead: {self.good_dead})",
            f"   lost                     {self.lost:>7}",
            f"   stuck in running         {self.stuck:>7}",
            f"   ran more than once       {self.ran_twice:>7}"
            f"  (worker died before recording: {self.ran_twice - self.ran_twice_unexplained},"
            f" unexplained: {self.ran_twice_unexplained})",
            f"   worker processes died    {self.worker_deaths:>7}",
            "   faults injected          "
            + ", ".join(f"{name} x{count}" for name, count in sorted(self.faults.items())),
        ]
        out += [f"   WRONG poison outcome: {line}" for line in self.poison_wrong[:20]]
        return out


class Workers:
    """The worker processes, restarted whenever one exits."""

    def __init__(self, url: str, count: int, env: dict[str, str]) -> None:
        self.url = url
        self.count = count
        self.env = env
        self.procs: list[subprocess.Popen[bytes]] = []
        self.deaths = 0

    def start_one(self) -> None:
        self.procs.append(
            subprocess.Popen(
                [sys.executable, "-m", "tests.chaos.worker", self.url],
                cwd=ROOT,
                env=self.env,
            )
        )

    def top_up(self) -> None:
        alive = []
        for proc in self.procs:
            if proc.poll() is None:
                alive.append(proc)
            elif proc.returncode not in (0, -signal.SIGKILL, -signal.SIGTERM):
                self.deaths += 1
        self.procs = alive
        while len(self.procs) < self.count:
            self.start_one()

    def pick(self) -> subprocess.Popen[bytes] | None:
        alive = [p for p in self.procs if p.poll() is None]
        return random.choice(alive) if alive else None

    def stop_all(self, timeout: float = 20) -> None:
        for proc in self.procs:
            if proc.poll() is None:
                proc.send_signal(signal.SIGTERM)
        deadline = time.monotonic() + timeout
        for proc in self.procs:
            try:
                proc.wait(timeout=max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()


async def open_store(url: str, attempts: int = 60) -> Queue:
    """Open the store, waiting out a backend that is restarting."""
    for attempt in range(attempts):
        store = connect(url)
        try:
            await store.open()
            return store
        except Exception:
            await store.close()
            if attempt == attempts - 1:
                raise
            await asyncio.sleep(0.5)
    raise AssertionError("unreachable")


async def with_retries(action: Callable[[Queue], Awaitable[T]], url: str) -> T:
    """Run one harness-side store call, reconnecting through faults (bounded)."""
    for attempt in range(60):
        store = await open_store(url)
        try:
            return await action(store)
        except Exception:
            if attempt == 59:
                raise
            await asyncio.sleep(0.5)
        finally:
            await store.close()
    raise AssertionError("unreachable")


async def inject_poison(store: Queue, round_number: int) -> dict[str, str]:
    """A few jobs of each poisonous kind; returns their ids and kinds."""
    kinds: dict[str, str] = {}
    for i in range(4):
        job_id = await store.push(
            EnqueueRequest(
                name=Work.NAME, payload=f'{{"n": "not-a-number-{round_number}-{i}"}}', queue=QUEUE
            )
        )
        kinds[job_id] = "bad_payload"
        job_id = await store.push(
            EnqueueRequest(name="chaos.NoSuchJob", payload="{}", queue=QUEUE, max_retries=3)
        )
        kinds[job_id] = "unknown_name"
    for _ in range(2):
        job_id = await store.enqueue(Hangs(), JobOptions(queue=QUEUE, timeout=0.2, max_retries=1))
        kinds[job_id] = "hangs"
        job_id = await store.enqueue(Raises(), JobOptions(queue=QUEUE, max_retries=2))
        kinds[job_id] = "raises"
    job_id = await store.enqueue(ExitsProcess(), JobOptions(queue=QUEUE, max_retries=1))
    kinds[job_id] = "exits"
    return kinds


async def enqueue_batch(store: Queue, batch: list[Work]) -> list[str]:
    return await store.enqueue_many(batch, JobOptions(queue=QUEUE))


async def all_jobs(store: Queue) -> dict[str, JobRecord]:
    records: dict[str, JobRecord] = {}
    offset = 0
    while True:
        page = await store.list(queue=QUEUE, limit=1000, offset=offset)
        if not page:
            return records
        records.update((r.id, r) for r in page)
        offset += len(page)


async def run(
    target: Target, jobs: int, duration: float, workers: int, seed: int | None = None
) -> Report:
    rng = random.Random(seed)
    report = Report(backend=target.name)
    started = time.monotonic()
    ledger_path = target.folder / "ledger.db"
    open_ledger(str(ledger_path)).close()
    env = {**os.environ, LEDGER_ENV: str(ledger_path), "PYTHONPATH": str(ROOT / "src")}
    await target.setup()
    pool = Workers(target.url, workers, env)
    poison: dict[str, str] = {}
    try:
        # A fifth of the jobs wait at the start; the rest arrive while the
        # faults happen, so workers are busy through the whole fault window.
        good_ids: list[str] = []
        upfront = jobs // 5
        batches = [
            [Work(n=n, sleep_ms=rng.randint(1, 20)) for n in range(start, min(jobs, start + 500))]
            for start in range(0, jobs, 500)
        ]
        first = [job for batch in batches[: max(1, upfront // 500)] for job in batch]
        later = batches[max(1, upfront // 500) :]
        store = await open_store(target.url)
        try:
            good_ids += await store.enqueue_many(first, JobOptions(queue=QUEUE))
            poison.update(await inject_poison(store, 0))
        finally:
            await store.close()

        async def produce() -> None:
            pause = duration * 0.8 / max(1, len(later))
            for batch in later:
                await asyncio.sleep(pause)
                good_ids.extend(await with_retries(partial(enqueue_batch, batch=batch), target.url))

        pool.top_up()
        producer = asyncio.create_task(produce())
        kinds: list[tuple[str, Fault]] = [
            ("kill -9 worker", lambda: kill(pool, signal.SIGKILL)),
            ("SIGTERM worker", lambda: kill(pool, signal.SIGTERM)),
        ]
        kinds += [(fault.__name__.replace("_", " "), fault) for fault in target.faults()]
        deadline = time.monotonic() + duration
        halfway = time.monotonic() + duration / 2
        once = [(fault.__name__.replace("_", " "), fault) for fault in target.once()]
        round_number = 0
        while time.monotonic() < deadline:
            if once and time.monotonic() >= halfway:
                for name, fault in once:
                    try:
                        await fault()
                        report.faults[name] += 1
                    except Exception as exc:
                        print(f"chaos: fault {name} failed: {exc}", file=sys.stderr)
                once = []
            await asyncio.sleep(rng.uniform(1.0, 2.5))
            round_number += 1
            name, fault = rng.choice(kinds)
            try:
                await fault()
                report.faults[name] += 1
            except Exception as exc:
                print(f"chaos: fault {name} failed: {exc}", file=sys.stderr)
            if round_number <= 3:
                poison.update(
                    await with_retries(
                        partial(inject_poison, round_number=round_number), target.url
                    )
                )
            pool.top_up()
        await producer
        report.enqueued = len(good_ids)

        # Drain: no more faults; workers finish what is left, including rescues.
        drain_deadline = time.monotonic() + 60 + 4 * LEASE
        while time.monotonic() < drain_deadline:
            pool.top_up()
            depths = await with_retries(lambda s: s.queue_depths(), target.url)
            counts = depths.get(QUEUE, {})
            waiting = sum(
                counts.get(s, 0)
                for s in (JobStatus.AVAILABLE, JobStatus.SCHEDULED, JobStatus.RUNNING)
            )
            if not waiting:
                break
            await asyncio.sleep(0.5)
        pool.stop_all()
        report.worker_deaths = pool.deaths
        records = await with_retries(all_jobs, target.url)
    finally:
        pool.stop_all()
        await target.teardown()

    judge(report, good_ids, poison, records, ledger_path)
    report.seconds = time.monotonic() - started
    return report


async def kill(pool: Workers, signum: int) -> str:
    proc = pool.pick()
    if proc is None:
        return "no worker to signal"
    proc.send_signal(signum)
    if signum == signal.SIGTERM:
        try:
            await asyncio.wait_for(asyncio.to_thread(proc.wait), 15)
        except TimeoutError:
            proc.kill()
    pool.top_up()
    return f"signal {signum} to {proc.pid}"


def judge(
    report: Report,
    good_ids: list[str],
    poison: dict[str, str],
    records: dict[str, JobRecord],
    ledger_path: Path,
) -> None:
    from .jobs import POISON_MESSAGES

    report.poisoned = len(poison)
    runs: dict[str, list[int]] = {}
    conn = sqlite3.connect(ledger_path)
    for job_id, attempt in conn.execute("SELECT job_id, attempt FROM runs"):
        runs.setdefault(job_id, []).append(attempt)
    conn.close()

    for job_id in good_ids:
        record = records.get(job_id)
        if record is None or record.status is not JobStatus.COMPLETED:
            if record is not None and record.status is JobStatus.DEAD:
                report.good_dead += 1
            elif record is not None and record.status is JobStatus.RUNNING:
                report.stuck += 1
            else:
                report.lost += 1
            continue
        report.completed += 1
        if job_id not in runs:
            report.lost += 1  # completed without ever running: as bad as lost
            continue
        attempts = sorted(runs[job_id])
        if len(attempts) > 1:
            report.ran_twice += 1
            expired = {e.attempt for e in record.errors if "lease expired" in e.message}
            if not set(attempts[:-1]) <= expired:
                report.ran_twice_unexplained += 1
    for job_id, kind in poison.items():
        record = records.get(job_id)
        expected = POISON_MESSAGES[kind]
        if record is None:
            report.poison_wrong.append(f"{kind} {job_id}: missing")
        elif record.status is not JobStatus.DEAD:
            if record.status is JobStatus.RUNNING:
                report.stuck += 1
            report.poison_wrong.append(f"{kind} {job_id}: {record.status.value}, expected dead")
        # A poisoned job's worker may also have been killed under it (a fault,
        # or an ExitsProcess job in the same process): "lease expired" then
        # stands beside, or instead of, its own error.
        elif not all(expected in e.message or "lease expired" in e.message for e in record.errors):
            last = record.last_error.message if record.last_error else "no error recorded"
            report.poison_wrong.append(f"{kind} {job_id}: error {last!r} lacks {expected!r}")
        else:
            report.dead += 1


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--backend", choices=[*TARGETS, "all"], default="all")
    parser.add_argument("--jobs", type=int, default=20_000)
    parser.add_argument("--duration", type=float, default=120, help="seconds of faults")
    parser.add_argument("--workers", type=int, default=3)
    parser.add_argument("--seed", type=int, default=None)
    args = parser.parse_args()
    names = list(TARGETS) if args.backend == "all" else [args.backend]
    failed = False
    for name in names:
        with tempfile.TemporaryDirectory(prefix=f"backyard-chaos-{name}-") as tmp:
            report = asyncio.run(
                run(TARGETS[name](Path(tmp)), args.jobs, args.duration, args.workers, args.seed)
            )
        print("\n".join(report.lines()), flush=True)
        failed |= not report.ok
    raise SystemExit(1 if failed else 0)


if __name__ == "__main__":
    main()
