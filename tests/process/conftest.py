from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TypeVar

import pytest

from backyard import JobRecord, JobStatus, Queue, connect

from .jobs import RUNS_ENV, Run, create_runs_db, read_runs

ROOT = Path(__file__).resolve().parents[2]
T = TypeVar("T")


@dataclass
class WorkerProcess:
    """A real ``backyard worker`` process, its output going to a log file."""

    process: subprocess.Popen[bytes]
    log_path: Path

    @property
    def pid(self) -> int:
        return self.process.pid

    @property
    def log(self) -> str:
        return self.log_path.read_text(errors="replace")

    def signal(self, signum: int) -> None:
        self.process.send_signal(signum)

    async def exit_code(self, timeout: float = 30) -> int:
        """Wait (without blocking the loop) for the process to end; its exit code."""
        deadline = time.monotonic() + timeout
        while (code := self.process.poll()) is None:
            if time.monotonic() > deadline:
                raise AssertionError(
                    f"worker {self.pid} still running after {timeout}s:\n{self.log}"
                )
            await asyncio.sleep(0.05)
        return code


@dataclass
class Setup:
    """A SQLite queue, a runs file the jobs write to, and the workers a test started."""

    url: str
    runs_path: Path
    store: Queue
    folder: Path
    workers: list[WorkerProcess] = field(default_factory=list)

    def start(self, *args: str, session: bool = False) -> WorkerProcess:
        log_path = self.folder / f"worker-{len(self.workers) + 1}.log"
        env = {**os.environ, "BACKYARD_URL": self.url, RUNS_ENV: str(self.runs_path)}
        with log_path.open("wb") as log:
            process = subprocess.Popen(
                [sys.executable, "-m", "backyard", "worker", "tests.process.jobs", *args],
                cwd=ROOT,
                env=env,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=session,
            )
        worker = WorkerProcess(process, log_path)
        self.workers.append(worker)
        return worker

    def runs(self) -> dict[str, list[Run]]:
        return read_runs(self.runs_path)

    async def records(self, ids: list[str]) -> list[JobRecord]:
        found = [await self.store.get(job_id) for job_id in ids]
        assert all(record is not None for record in found)
        return [record for record in found if record is not None]

    async def statuses(self, ids: list[str]) -> list[JobStatus]:
        return [record.status for record in await self.records(ids)]


async def eventually(check: Callable[[], Awaitable[T | None]], what: str, timeout: float = 30) -> T:
    """Poll ``check`` until it returns something truthy; fail with ``what`` after ``timeout``."""
    deadline = time.monotonic() + timeout
    while True:
        value = await check()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"gave up waiting {timeout}s for {what}")
        await asyncio.sleep(0.05)


@pytest.fixture
async def setup(tmp_path: Path) -> AsyncIterator[Setup]:
    runs_path = tmp_path / "runs.db"
    create_runs_db(runs_path)
    url = f"sqlite:///{tmp_path / 'queue.db'}"
    async with connect(url) as store:
        state = Setup(url=url, runs_path=runs_path, store=store, folder=tmp_path)
        try:
            yield state
        finally:
            # Whatever a failed test left running: ask nicely (a supervisor then
            # stops its children), then insist.
            for worker in state.workers:
                if worker.process.poll() is None:
                    worker.signal(signal.SIGTERM)
            for worker in state.workers:
                with contextlib.suppress(subprocess.TimeoutExpired):
                    worker.process.wait(10)
                if worker.process.poll() is None:
                    worker.process.kill()
                    worker.process.wait()
