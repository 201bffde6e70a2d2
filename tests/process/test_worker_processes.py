"""Real worker processes on a SQLite file: killed, stopped, supervised. Nothing may be lost."""

from __future__ import annotations

import asyncio
import os
import signal
from functools import partial

import pytest

from backyard import JobStatus, connect

from .conftest import Setup, eventually
from .jobs import Sleepy

pytestmark = [pytest.mark.sqlite, pytest.mark.slow]

FAST = ("--poll-interval", "0.1s")


def alive(pid: int) -> bool:
    """Whether ``pid`` still runs; an unreaped zombie (a container's init may be slow) is dead."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    try:
        with open(f"/proc/{pid}/stat") as stat:
            return stat.read().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return True


async def test_jobs_of_a_killed_worker_run_again_elsewhere(setup: Setup) -> None:
    ids = await setup.store.enqueue_many([Sleepy(seconds=0.6) for _ in range(16)])
    first = setup.start("--concurrency", "4", "--lease", "2s", *FAST)

    async def some_done_some_running() -> bool:
        runs = setup.runs()
        done = sum(1 for job_runs in runs.values() if job_runs[-1].finished)
        running = sum(1 for job_runs in runs.values() if not job_runs[-1].finished)
        return done >= 4 and running >= 1

    await eventually(some_done_some_running, "the first worker to be mid-job")
    first.signal(signal.SIGKILL)
    assert await first.exit_code() == -signal.SIGKILL
    cut_short = {job_id for job_id, runs in setup.runs().items() if not runs[-1].finished}
    assert cut_short

    second = setup.start("--concurrency", "4", "--lease", "2s", "--stop-when-empty", *FAST)
    assert await second.exit_code(60) == 0, second.log

    assert await setup.statuses(ids) == [JobStatus.COMPLETED] * len(ids)
    runs = setup.runs()
    assert all(runs[job_id] and runs[job_id][-1].finished for job_id in ids)
    twice = {job_id for job_id in ids if len(runs[job_id]) > 1}
    assert cut_short <= twice  # at least once: every interrupted job ran again
    for record in await setup.records(sorted(cut_short)):
        assert record.errors[0].message.startswith("lease expired: worker ")
        assert record.attempt == 2
    print(
        f"\n{len(twice)} of {len(ids)} jobs ran twice; {len(cut_short)} were mid-run "
        "when the worker was killed"
    )


async def test_sigterm_lets_running_jobs_finish(setup: Setup) -> None:
    ids = await setup.store.enqueue_many([Sleepy(seconds=1.0) for _ in range(6)])
    worker = setup.start("--concurrency", "2", *FAST)

    async def two_running() -> bool:
        return sum(1 for runs in setup.runs().values() if not runs[-1].finished) == 2

    await eventually(two_running, "two jobs to be running")
    worker.signal(signal.SIGTERM)
    assert await worker.exit_code() == 0, worker.log
    assert "SIGTERM: finishing running jobs" in worker.log

    runs = setup.runs()
    assert runs and all(job_runs[-1].finished for job_runs in runs.values())
    statuses = await setup.statuses(ids)
    for job_id, status in zip(ids, statuses, strict=True):
        assert status is (JobStatus.COMPLETED if job_id in runs else JobStatus.AVAILABLE)
    assert (await setup.store.workers()) == []  # it unregistered on the way out


async def test_sigterm_gives_jobs_back_when_the_grace_period_ends(setup: Setup) -> None:
    ids = await setup.store.enqueue_many([Sleepy(seconds=60) for _ in range(3)])
    worker = setup.start("--concurrency", "2", "--shutdown-grace", "0.5s", *FAST)
    await eventually(lambda: _count_running(setup, 2), "two jobs to be running")
    worker.signal(signal.SIGTERM)
    assert await worker.exit_code() == 0, worker.log
    assert "gave 2 back to the queue" in worker.log

    records = await setup.records(ids)
    assert [record.status for record in records] == [JobStatus.AVAILABLE] * 3
    assert [record.attempt for record in records] == [0, 0, 0]  # released, not failed


async def test_supervisor_runs_and_restarts_children(setup: Setup) -> None:
    await setup.store.enqueue_many([Sleepy(seconds=0.3) for _ in range(60)])
    supervisor = setup.start("--processes", "2", "--concurrency", "2", "--lease", "3s", *FAST)

    async def two_workers() -> list[int] | None:
        pids = sorted({info.pid for info in await setup.store.workers()})
        return pids if len(pids) == 2 else None

    first_pids = await eventually(two_workers, "two registered worker processes")
    assert supervisor.pid not in first_pids

    async def both_ran_jobs() -> bool:
        return {run.pid for runs in setup.runs().values() for run in runs} >= set(first_pids)

    await eventually(both_ran_jobs, "jobs run by both children")

    victim, survivor = first_pids
    os.kill(victim, signal.SIGKILL)

    async def replaced() -> set[int] | None:
        pids = {info.pid for info in await setup.store.workers()} - {victim, survivor}
        return pids or None

    (newcomer,) = await eventually(replaced, "a new child in place of the killed one")
    assert f"(pid {victim}) was killed by SIGKILL" in supervisor.log
    assert "restarting it in 1s" in supervisor.log

    supervisor.signal(signal.SIGTERM)
    assert await supervisor.exit_code() == 0, supervisor.log
    assert not alive(survivor) and not alive(newcomer)
    # The killed child cannot unregister; its entry lapses with its lease.
    assert {info.pid for info in await setup.store.workers()} <= {victim}


async def test_ctrl_c_in_a_terminal_stops_children_gracefully(setup: Setup) -> None:
    # A terminal sends SIGINT to its whole foreground process group. The
    # children must get one stop request (finish running jobs), not two
    # (stop at once), so they live in their own group and the supervisor
    # forwards a single SIGTERM.
    ids = await setup.store.enqueue_many([Sleepy(seconds=1.0) for _ in range(8)])
    supervisor = setup.start("--processes", "2", "--concurrency", "1", *FAST, session=True)
    await eventually(lambda: _count_running(setup, 2), "both children to be mid-job")
    os.killpg(supervisor.pid, signal.SIGINT)
    assert await supervisor.exit_code() == 0, supervisor.log

    runs = setup.runs()
    assert all(job_runs[-1].finished for job_runs in runs.values()), supervisor.log
    assert "again: stopping now" not in supervisor.log
    statuses = await setup.statuses(ids)
    assert JobStatus.RUNNING not in statuses


async def test_children_stop_when_the_supervisor_is_killed(setup: Setup) -> None:
    supervisor = setup.start("--processes", "2", *FAST)

    async def two_workers() -> list[int] | None:
        pids = [info.pid for info in await setup.store.workers()]
        return pids if len(pids) == 2 else None

    children = await eventually(two_workers, "two registered worker processes")
    supervisor.signal(signal.SIGKILL)
    await supervisor.exit_code()

    async def children_gone() -> bool:
        return not await setup.store.workers() and not any(alive(pid) for pid in children)

    await eventually(children_gone, "orphaned children to stop by themselves")


async def _count_running(setup: Setup, count: int) -> bool:
    return sum(1 for runs in setup.runs().values() if not runs[-1].finished) >= count


async def test_each_worker_process_serves_its_own_metrics(setup: Setup) -> None:
    import socket
    import urllib.request

    with socket.socket() as probe:  # two free ports in a row are likely above a free one
        probe.bind(("127.0.0.1", 0))
        base = probe.getsockname()[1] + 100
    ids = await setup.store.enqueue_many([Sleepy(seconds=0.05) for _ in range(20)])
    supervisor = setup.start("--processes", "2", "--metrics-port", str(base), *FAST)

    def scrape(port: int) -> str | None:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=2) as reply:
                return str(reply.read().decode())
        except OSError:
            return None

    async def all_done() -> bool:
        return set(await setup.statuses(ids)) == {JobStatus.COMPLETED}

    await eventually(all_done, "all jobs completed")

    async def scraped(port: int) -> str | None:
        return await asyncio.to_thread(scrape, port)

    pages = [
        await eventually(partial(scraped, port), f"metrics on {port}") for port in (base, base + 1)
    ]
    completed = 0.0
    for page in pages:
        assert "backyard_job_duration_seconds_bucket" in page
        for line in page.splitlines():
            if line.startswith("backyard_jobs_completed_total{"):
                completed += float(line.rsplit(" ", 1)[1])
    assert completed == 20
    supervisor.signal(signal.SIGTERM)
    assert await supervisor.exit_code() == 0, supervisor.log


async def test_a_worker_waits_for_storage_that_is_not_there_yet(setup: Setup) -> None:
    # A worker started before its database (a reboot, a deploy) waits for it.
    later = setup.folder / "not-yet"
    setup.url = f"sqlite:///{later / 'queue.db'}"
    worker = setup.start(*FAST)

    async def retrying() -> bool:
        return "cannot open the store yet, retrying" in worker.log

    await eventually(retrying, "the worker to report it is waiting for the store")
    assert worker.process.poll() is None
    later.mkdir()
    async with connect(setup.url) as store:
        (job_id,) = await store.enqueue_many([Sleepy(seconds=0.01)])

        async def done() -> bool:
            record = await store.get(job_id)
            return record is not None and record.status is JobStatus.COMPLETED

        await eventually(done, "the job to run once the store exists")
    worker.signal(signal.SIGTERM)
    assert await worker.exit_code() == 0, worker.log
