"""backyard on Redis against arq, SAQ, RQ, Dramatiq and Celery, in one run.

    python -m bench.redis [--url redis://127.0.0.1:6379/13] [--jobs 20000] [--only backyard,saq]

Every system gets the same Redis database (FLUSHDB before and after each:
use a database nothing else lives in; the default is 13), the same no-op
job, one worker process at concurrency 10 (then two processes), and prints:

- enqueue jobs/s, one at a time and in bulk (each system's bulk API, or the
  nearest thing);
- processing jobs/s, from each process's first job to its last (start-up
  time excluded), summed over processes;
- latency from enqueue to the job starting, p50/p99, with an idle worker.

Competitors are installed into .bench/venv-redis, made on first use (they
never enter the project's dependencies). Each system runs in its own
process with a time limit; its worker processes are stopped however it ends.
Worker logs go to .bench/bench-redis-SYSTEM.log.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:  # also runnable as `python bench/redis.py`
    sys.path.insert(0, str(ROOT))

from bench._common import Result, console, percentile, print_results  # noqa: E402

VENV = ROOT / ".bench" / "venv-redis"
# arq needs redis-py < 6 and kombu >= 5.6 needs >= 6.4: kombu 5.5 and
# redis-py 5.2.1 are the versions every competitor accepts.
COMPETITORS = [
    "arq",
    "saq[hiredis]",
    "rq",
    "dramatiq[redis]",
    "celery[redis]",
    "kombu>=5.5,<5.6",
    "redis>=5.0.1,<=5.2.1",
    "hiredis",
]
SYSTEMS = ["backyard", "arq", "saq", "rq", "dramatiq", "celery"]
DRIVER = Path(__file__).parent / "_redis" / "driver.py"
SYSTEM_TIMEOUT = 150  # seconds for one system, all of its steps


def competitor_python() -> Path:
    python = VENV / "bin" / "python"
    marker = VENV / ".installed"
    wanted = "\n".join(COMPETITORS)
    if marker.exists() and marker.read_text() == wanted:
        return python
    console.print(f"[dim]installing competitors into {VENV} (once)…[/dim]")
    subprocess.run([sys.executable, "-m", "venv", str(VENV)], check=True)
    subprocess.run(
        [str(python), "-m", "pip", "install", "-q", "--disable-pip-version-check", *COMPETITORS],
        check=True,
    )
    marker.write_text(wanted)
    return python


def run_system(python: Path, system: str, url: str, jobs: int) -> dict[str, Any] | str:
    """One system's figures, or why there are none."""
    env = dict(os.environ)
    process = subprocess.Popen(
        [str(python), str(DRIVER), "bench", system, url, str(jobs)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env=env,
        start_new_session=True,  # its worker processes share its group: one kill ends all
    )
    try:
        out, err = process.communicate(timeout=SYSTEM_TIMEOUT)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.communicate()
        return f"timed out after {SYSTEM_TIMEOUT}s"
    finally:
        try:
            os.killpg(process.pid, signal.SIGKILL)  # stragglers, if any
        except ProcessLookupError:
            pass
    if process.returncode != 0:
        tail = err.decode(errors="replace").strip().splitlines()[-3:]
        return f"failed: {' / '.join(tail)}"
    result: dict[str, Any] = json.loads(out.decode().strip().splitlines()[-1])
    return result


def results_of(figures: dict[str, Any]) -> list[Result]:
    system, note = figures["system"], figures.get("note", "")
    results = [
        Result(system, "enqueue one", figures["enqueue_one"], "jobs/s"),
        Result(system, "enqueue bulk", figures["enqueue_bulk"], "jobs/s", note),
        Result(
            system,
            "process 1 proc c=10",
            figures["process_1"],
            "jobs/s",
            figures.get("process_1_note", ""),
        ),
        Result(
            system,
            "process 2 procs c=10",
            figures["process_2"],
            "jobs/s",
            figures.get("process_2_note", ""),
        ),
    ]
    latencies = [seconds * 1000 for seconds in figures.get("lat", [])]
    if latencies:
        count = f"{len(latencies)} samples"
        results.append(Result(system, "latency p50", percentile(latencies, 50), "ms", count))
        results.append(Result(system, "latency p99", percentile(latencies, 99), "ms", count))
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--url", default="redis://127.0.0.1:6379/13")
    parser.add_argument("--jobs", type=int, default=20000)
    parser.add_argument("--only", default=",".join(SYSTEMS))
    args = parser.parse_args()
    chosen = [s.strip() for s in args.only.split(",") if s.strip()]

    from redis.exceptions import ConnectionError as RedisConnectionError

    from redis import Redis

    try:
        Redis.from_url(args.url).ping()
    except RedisConnectionError as exc:
        sys.exit(f"Redis at {args.url} is not reachable ({exc}); start redis-server first")

    python = competitor_python() if set(chosen) - {"backyard"} else Path(sys.executable)
    started = time.monotonic()
    results: list[Result] = []
    for system in chosen:
        console.print(f"[bold]{system}[/bold] …")
        interpreter = Path(sys.executable) if system == "backyard" else python
        figures = run_system(interpreter, system, args.url, args.jobs)
        if isinstance(figures, str):
            console.print(f"  [red]{system}: {figures}[/red]")
            continue
        results += results_of(figures)
    print_results(
        f"Redis, no-op job, {args.jobs:,} jobs "
        f"({time.monotonic() - started:.0f}s; higher jobs/s and lower ms are better)",
        results,
    )


if __name__ == "__main__":
    main()
