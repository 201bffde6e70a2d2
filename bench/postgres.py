"""backyard's PostgreSQL backend against Procrastinate and SAQ, same database, same no-op job.

    .venv/bin/python bench/postgres.py [--url postgresql://postgres@127.0.0.1:5432/postgres]

The competitors live in their own venv, never in the project's; the script
creates it on first run, which amounts to:

    python3 -m venv .bench/venv-postgres
    .bench/venv-postgres/bin/pip install -r bench/requirements-postgres.txt

Each system gets a fresh database (``backyard_bench``, dropped at the end)
for every measurement, and each step runs in its own process
(bench/_postgres_systems.py) with that system's own Python:

- enqueue one: 2,000 single enqueues, one after another;
- enqueue bulk: 50,000 jobs through the bulk API (SAQ has none);
- process: a 10,000-job backlog drained by one worker process at
  concurrency 10, then by two such processes (rate between the first and
  last job start);
- latency: 300 jobs enqueued 10 ms apart to an idle worker; enqueue call to
  job start, p50 and p99.

About two minutes on a 2-core machine.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import asyncpg

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench._common import Result, percentile, print_results, rate

ROOT = Path(__file__).resolve().parent.parent
VENV = ROOT / ".bench" / "venv-postgres"
REQUIREMENTS = ROOT / "bench" / "requirements-postgres.txt"
CHILD = ROOT / "bench" / "_postgres_systems.py"
LOGS = ROOT / ".bench" / "logs"
DATABASE = "backyard_bench"

ENQUEUE_ONE = 2_000
ENQUEUE_BULK = 50_000
BACKLOG = 5_000
LATENCY_JOBS = 300
CONCURRENCY = 10

SYSTEMS = {
    # label: (python, system name in the child script, SQL counting finished jobs)
    "backyard postgres": (
        sys.executable,
        "backyard",
        "SELECT count(*) FROM bench.jobs WHERE status = 'completed'",
    ),
    "procrastinate": (
        str(VENV / "bin" / "python"),
        "procrastinate",
        "SELECT count(*) FROM procrastinate_jobs WHERE status = 'succeeded'",
    ),
    "saq postgres": (
        str(VENV / "bin" / "python"),
        "saq",
        "SELECT count(*) FROM saq_jobs WHERE status = 'complete'",
    ),
}


def ensure_competitor_venv() -> None:
    if (VENV / "bin" / "python").exists():
        return
    print(f"creating {VENV.relative_to(ROOT)} for the competitors (once)…", flush=True)
    subprocess.run([sys.executable, "-m", "venv", str(VENV)], check=True)
    subprocess.run(
        [str(VENV / "bin" / "pip"), "install", "-q", "-r", str(REQUIREMENTS)], check=True
    )


def with_database(url: str, database: str) -> str:
    return urlunsplit(urlsplit(url)._replace(path=f"/{database}"))


class Bench:
    def __init__(self, admin_url: str) -> None:
        self.admin_url = admin_url
        self.url = with_database(admin_url, DATABASE)
        self.workers: list[asyncio.subprocess.Process] = []
        LOGS.mkdir(parents=True, exist_ok=True)

    def kill_leftover_workers(self) -> None:
        """After a failed step: no worker of ours may outlive the run."""
        for proc in self.workers:
            if proc.returncode is None:
                proc.kill()
        self.workers.clear()

    async def reset(self) -> None:
        admin = await asyncpg.connect(self.admin_url)
        try:
            await admin.execute(f"DROP DATABASE IF EXISTS {DATABASE} WITH (FORCE)")
            await admin.execute(f"CREATE DATABASE {DATABASE}")
        finally:
            await admin.close()

    async def drop(self) -> None:
        admin = await asyncpg.connect(self.admin_url)
        try:
            await admin.execute(f"DROP DATABASE IF EXISTS {DATABASE} WITH (FORCE)")
        finally:
            await admin.close()

    def log(self, system: str) -> Any:
        return open(LOGS / f"postgres-{system}.log", "a")

    async def step(self, python: str, system: str, step: str, n: int = 0) -> dict[str, Any]:
        with self.log(system) as log:
            proc = await asyncio.create_subprocess_exec(
                python,
                str(CHILD),
                system,
                step,
                self.url,
                str(n),
                cwd=ROOT,
                stdout=subprocess.PIPE,
                stderr=log,
            )
            out, _ = await proc.communicate()
        if proc.returncode != 0:
            raise RuntimeError(f"{system} {step} failed; see {LOGS}/postgres-{system}.log")
        result: dict[str, Any] = json.loads(out.decode().strip().splitlines()[-1])
        return result

    async def start_worker(self, python: str, system: str) -> asyncio.subprocess.Process:
        with self.log(system) as log:
            proc = await asyncio.create_subprocess_exec(
                python,
                str(CHILD),
                system,
                "worker",
                self.url,
                str(CONCURRENCY),
                cwd=ROOT,
                stdout=subprocess.PIPE,
                stderr=log,
            )
        self.workers.append(proc)
        assert proc.stdout is not None
        line = await asyncio.wait_for(proc.stdout.readline(), 30)
        if line.strip() != b"ready":
            raise RuntimeError(f"{system} worker did not start; see {LOGS}/postgres-{system}.log")
        return proc

    async def stop_workers(self, procs: list[asyncio.subprocess.Process]) -> list[dict[str, Any]]:
        for proc in procs:
            proc.send_signal(signal.SIGTERM)
        reports = []
        for proc in procs:
            out, _ = await asyncio.wait_for(proc.communicate(), 60)
            reports.append(json.loads(out.decode().strip().splitlines()[-1]))
        return reports

    async def wait_done(self, count_sql: str, expected: int, timeout: float = 120) -> None:
        conn = await asyncpg.connect(self.url)
        try:
            deadline = time.monotonic() + timeout
            while await conn.fetchval(count_sql) < expected:
                if time.monotonic() > deadline:
                    raise RuntimeError(f"timed out waiting for {expected} finished jobs")
                await asyncio.sleep(0.05)
        finally:
            await conn.close()

    async def system(self, label: str) -> list[Result]:
        python, system, count_sql = SYSTEMS[label]
        results: list[Result] = []
        print(f"{label}…", flush=True)

        await self.reset()
        await self.step(python, system, "init")
        took = (await self.step(python, system, "enqueue-one", ENQUEUE_ONE))["seconds"]
        results.append(Result(label, "enqueue one", rate(ENQUEUE_ONE, took), "jobs/s"))

        await self.reset()
        await self.step(python, system, "init")
        took = (await self.step(python, system, "enqueue-bulk", ENQUEUE_BULK))["seconds"]
        if took is not None:
            note = f"{ENQUEUE_BULK:,} in one call"
            results.append(Result(label, "enqueue bulk", rate(ENQUEUE_BULK, took), "jobs/s", note))

        for processes in (1, 2):
            await self.reset()
            await self.step(python, system, "init")
            await self.step(python, system, "fill", BACKLOG)
            workers = [await self.start_worker(python, system) for _ in range(processes)]
            await self.wait_done(count_sql, BACKLOG)
            reports = await self.stop_workers(workers)
            count = sum(r["count"] for r in reports)
            span = max(r["last"] for r in reports) - min(r["first"] for r in reports if r["count"])
            results.append(
                Result(
                    label,
                    f"process {processes} proc c={CONCURRENCY}",
                    rate(count, span),
                    "jobs/s",
                    f"{BACKLOG:,} no-op jobs",
                )
            )

        await self.reset()
        await self.step(python, system, "init")
        worker = await self.start_worker(python, system)
        await asyncio.sleep(0.5)
        await self.step(python, system, "latency", LATENCY_JOBS)
        await self.wait_done(count_sql, LATENCY_JOBS)
        (report,) = await self.stop_workers([worker])
        latencies = report["latencies_ms"]
        note = f"{len(latencies)} jobs, idle worker"
        results.append(Result(label, "latency p50", percentile(latencies, 50), "ms", note))
        results.append(Result(label, "latency p99", percentile(latencies, 99), "ms", note))
        return results


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--url",
        default=os.environ.get(
            "BACKYARD_BENCH_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/postgres"
        ),
        help="a database the script can CREATE DATABASE from",
    )
    parser.add_argument("--only", choices=sorted(SYSTEMS), action="append")
    args = parser.parse_args()
    ensure_competitor_venv()
    bench = Bench(args.url)
    results: list[Result] = []
    try:
        for label in args.only or list(SYSTEMS):
            results.extend(await bench.system(label))
    finally:
        bench.kill_leftover_workers()
        await bench.drop()
    print_results("PostgreSQL: backyard vs Procrastinate vs SAQ (no-op jobs)", results)


if __name__ == "__main__":
    asyncio.run(main())
