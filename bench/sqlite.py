"""SQLite (and memory) benchmark, side by side with Huey's SQLite storage.

    make bench-sqlite          # or: .venv/bin/python -m bench.sqlite [--jobs 20000]

Prints, for backyard on memory:// and sqlite:// and for Huey's SqliteHuey:
enqueue jobs/s (one at a time, and in bulk), processing jobs/s of a no-op job
for one worker process at concurrency 10 (Huey: 10 threads) and for two
processes, and the enqueue-to-start latency (p50/p99 ms) with an idle worker.

Worker processes are real OS processes started by this script; every one is
stopped before the script exits.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from backyard import Job, JobContext, JobOptions, Queue, Worker, connect

from ._common import Result, Stopwatch, console, percentile, print_results, rate

CONCURRENCY = 10
LATENCY_SAMPLES = 300


class Noop(Job):
    NAME = "bench.Noop"
    n: int = 0

    async def execute(self, ctx: JobContext) -> None:
        pass


LATENCIES: list[float] = []


class Stamp(Job):
    """Records how long after its enqueue it started."""

    NAME = "bench.Stamp"
    sent: float

    async def execute(self, ctx: JobContext) -> None:
        LATENCIES.append(time.time() - self.sent)


# -- worker process ----------------------------------------------------------------


async def serve(url: str, concurrency: int, report: str | None) -> None:
    async with connect(url) as store:
        worker = Worker(store, concurrency=concurrency, poll_interval=1.0, prune_after=None)
        await worker.run()
    if report:
        Path(report).write_text(json.dumps(LATENCIES))


def start_worker(url: str, report: str | None = None) -> subprocess.Popen[bytes]:
    args = [sys.executable, "-m", "bench.sqlite", "--serve", url, "--concurrency", str(CONCURRENCY)]
    if report:
        args += ["--report", report]
    return subprocess.Popen(args, cwd=Path(__file__).parent.parent)


def stop(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


# -- backyard ------------------------------------------------------------------------


async def wait_until(predicate: Callable[[], object], timeout: float = 120) -> None:
    deadline = time.monotonic() + timeout
    while not await predicate():  # type: ignore[misc]
        if time.monotonic() > deadline:
            raise TimeoutError("benchmark step did not finish in time")
        await asyncio.sleep(0.005)


async def completed(store: Queue) -> int:
    depths = await store.queue_depths()
    return sum(counts.get("completed", 0) for counts in depths.values())  # type: ignore[call-overload]


async def bench_enqueue(store: Queue, label: str, jobs: int) -> list[Result]:
    single = min(jobs // 10, 3000)
    with Stopwatch() as one:
        for i in range(single):
            await store.enqueue(Noop(n=i))
    with Stopwatch() as bulk:
        for start in range(0, jobs, 5000):
            await store.enqueue_many([Noop(n=i) for i in range(start, min(jobs, start + 5000))])
    return [
        Result(label, "enqueue one at a time", rate(single, one.elapsed), "jobs/s"),
        Result(
            label,
            "enqueue bulk",
            rate(jobs, bulk.elapsed),
            "jobs/s",
            "enqueue_many, 5,000 per call",
        ),
    ]


async def bench_memory(jobs: int) -> list[Result]:
    async with connect("memory://") as store:
        results = await bench_enqueue(store, "backyard memory", jobs)
        worker = Worker(store, concurrency=CONCURRENCY, stop_when_empty=True, prune_after=None)
        with Stopwatch() as run:
            await worker.run(install_signal_handlers=False)
        results.append(
            Result(
                "backyard memory",
                "process, 1 process c=10",
                rate(worker.counters.completed, run.elapsed),
                "jobs/s",
                "in-process worker",
            )
        )
    return results


async def measure_processing(url: str, store: Queue, jobs: int, processes: int) -> float:
    base = await completed(store)
    await store.enqueue_many([Noop(n=i) for i in range(jobs)])
    workers = [start_worker(url) for _ in range(processes)]
    try:
        await wait_until(lambda: _at_least(store, base + 1))
        first = await completed(store)
        started = time.perf_counter()
        await wait_until(lambda: _at_least(store, base + jobs))
        return rate(base + jobs - first, time.perf_counter() - started)
    finally:
        for worker in workers:
            stop(worker)


async def _at_least(store: Queue, count: int) -> bool:
    return await completed(store) >= count


async def measure_latency(url: str, store: Queue, samples: int) -> tuple[float, float]:
    with tempfile.NamedTemporaryFile(suffix=".json", delete=False) as handle:
        report = handle.name
    worker = start_worker(url, report)
    try:
        await asyncio.sleep(1.5)  # let it start and go idle
        base = await completed(store)
        for _ in range(samples):
            await store.enqueue(Stamp(sent=time.time()), JobOptions())
            await asyncio.sleep(0.01)
        await wait_until(lambda: _at_least(store, base + samples))
    finally:
        stop(worker)
    latencies = [value * 1000 for value in json.loads(Path(report).read_text())]
    os.unlink(report)
    return percentile(latencies, 50), percentile(latencies, 99)


async def bench_sqlite(folder: Path, jobs: int) -> list[Result]:
    label = "backyard sqlite"
    results: list[Result] = []
    url = f"sqlite:///{folder / 'enqueue.db'}"
    async with connect(url) as store:
        results += await bench_enqueue(store, label, jobs)
    for processes in (1, 2):
        url = f"sqlite:///{folder / f'process-{processes}.db'}"
        async with connect(url) as store:
            value = await measure_processing(url, store, jobs, processes)
        results.append(Result(label, f"process, {processes} process c=10", value, "jobs/s"))
    url = f"sqlite:///{folder / 'latency.db'}"
    async with connect(url) as store:
        p50, p99 = await measure_latency(url, store, LATENCY_SAMPLES)
    results.append(
        Result(label, "latency p50", p50, "ms", "idle worker, enqueue from another process")
    )
    results.append(Result(label, "latency p99", p99, "ms"))
    return results


# -- Huey ------------------------------------------------------------------------------


HUEY_SCRIPT = """
import os, time
from huey import SqliteHuey
huey = SqliteHuey(filename=os.environ["BENCH_HUEY_DB"], results=True, store_none=False)

@huey.task()
def noop(n):
    return None

@huey.task()
def stamp(sent):
    return time.time() - sent
"""


def bench_huey(folder: Path, jobs: int) -> list[Result]:
    try:
        import huey  # noqa: F401
    except ImportError:
        console.print("[yellow]huey is not installed: pip install -e '.[bench]'[/]")
        return []
    module_dir = folder / "hueyapp"
    module_dir.mkdir()
    (module_dir / "bench_huey_app.py").write_text(HUEY_SCRIPT)
    sys.path.insert(0, str(module_dir))
    results: list[Result] = []
    label = "huey sqlite"

    def app(name: str):  # type: ignore[no-untyped-def]
        os.environ["BENCH_HUEY_DB"] = str(folder / f"huey-{name}.db")
        import importlib

        import bench_huey_app

        return importlib.reload(bench_huey_app)

    def consumer(name: str) -> subprocess.Popen[bytes]:
        env = {
            **os.environ,
            "BENCH_HUEY_DB": str(folder / f"huey-{name}.db"),
            "PYTHONPATH": str(module_dir),
        }
        # Ten threads; poll from 1 ms backing off to 10 ms, Huey's fastest
        # reasonable setting (its default starts at 100 ms and backs off to 10 s).
        args = [
            sys.executable,
            "-m",
            "huey.bin.huey_consumer",
            "bench_huey_app.huey",
            "-w",
            str(CONCURRENCY),
            "-k",
            "thread",
            "-d",
            "0.001",
            "-m",
            "0.01",
            "-q",
            "-C",
        ]
        return subprocess.Popen(args, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)

    mod = app("enqueue")
    single = min(jobs // 10, 3000)
    with Stopwatch() as one:
        for i in range(single):
            mod.noop(i)
    results.append(Result(label, "enqueue one at a time", rate(single, one.elapsed), "jobs/s"))

    for processes in (1, 2):
        mod = app(f"process-{processes}")
        for i in range(jobs):
            mod.noop(i)
        procs = [consumer(f"process-{processes}") for _ in range(processes)]
        try:
            deadline = time.monotonic() + 180
            while mod.huey.pending_count() == jobs:
                time.sleep(0.002)
            first = jobs - mod.huey.pending_count()
            started = time.perf_counter()
            while mod.huey.pending_count() > 0 and time.monotonic() < deadline:
                time.sleep(0.002)
            elapsed = time.perf_counter() - started
        finally:
            for proc in procs:
                stop(proc)
        results.append(
            Result(
                label,
                f"process, {processes} process c=10",
                rate(jobs - first, elapsed),
                "jobs/s",
                "10 threads per consumer",
            )
        )

    mod = app("latency")
    proc = consumer("latency")
    try:
        time.sleep(1.5)
        handles = []
        for _ in range(LATENCY_SAMPLES):
            handles.append(mod.stamp(time.time()))
            time.sleep(0.01)
        latencies = [handle.get(blocking=True, timeout=30) * 1000 for handle in handles]
    finally:
        stop(proc)
    results.append(Result(label, "latency p50", percentile(latencies, 50), "ms"))
    results.append(Result(label, "latency p99", percentile(latencies, 99), "ms"))
    return results


# -- main --------------------------------------------------------------------------------


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--jobs", type=int, default=20_000, help="jobs per throughput run")
    parser.add_argument("--skip-huey", action="store_true")
    parser.add_argument("--serve", metavar="URL", help=argparse.SUPPRESS)
    parser.add_argument("--concurrency", type=int, default=CONCURRENCY, help=argparse.SUPPRESS)
    parser.add_argument("--report", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve:
        asyncio.run(serve(args.serve, args.concurrency, args.report))
        return
    with tempfile.TemporaryDirectory(prefix="backyard-bench-") as tmp:
        folder = Path(tmp)
        results = asyncio.run(bench_memory(args.jobs))
        results += asyncio.run(bench_sqlite(folder, args.jobs))
        if not args.skip_huey:
            results += bench_huey(folder, args.jobs)
    title = f"SQLite benchmark ({args.jobs:,} no-op jobs, {os.cpu_count()} cores)"
    print_results(title, results, baseline_prefix="backyard sqlite")


if __name__ == "__main__":
    main()
