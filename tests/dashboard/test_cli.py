"""``backyard dashboard``: the real command, in a subprocess, over a SQLite file."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import pytest
from click.testing import CliRunner

from backyard import connect
from backyard.cli import cli, commands  # noqa: F401 - commands register on import

from .conftest import fill


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@contextmanager
def dashboard_process(args: list[str], env: dict[str, str]) -> Iterator[str]:
    port = free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "backyard", *args, "--port", str(port)],
        env={**os.environ, **env},
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 20
        while True:
            try:
                httpx.get(base + "/static/dashboard.css", timeout=1)
                break
            except httpx.TransportError:
                if process.poll() is not None or time.monotonic() > deadline:
                    output = process.stdout.read() if process.stdout else ""
                    pytest.fail(f"the dashboard did not start:\n{output}")
                time.sleep(0.05)
        yield base
    finally:
        process.send_signal(signal.SIGINT)
        try:
            code = process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            raise
    assert code == 0, process.stdout.read() if process.stdout else ""


async def test_the_command_serves_the_store_behind_a_token(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'cli.db'}"
    async with connect(url) as store:
        jobs = await fill(store)
    with dashboard_process(
        ["--url", url, "dashboard", "--read-only", "--log-level", "warning"],
        {"BACKYARD_DASHBOARD_TOKEN": "from-the-env"},
    ) as base:
        async with httpx.AsyncClient(base_url=base) as client:
            assert (await client.get("/")).status_code == 401
            authorized = {"Authorization": "Bearer from-the-env"}
            page = await client.get("/dead", headers=authorized)
            assert page.status_code == 200
            assert jobs.dead.id in page.text
            assert "read-only" in page.text and "<form" not in page.text
            metrics = await client.get("/metrics", headers=authorized)
            assert 'backyard_queue_jobs{queue="reports",status="dead"} 1.0' in metrics.text


def test_the_command_refuses_what_cannot_work() -> None:
    runner = CliRunner()
    result = runner.invoke(cli, ["--url", "memory://", "dashboard"])
    assert result.exit_code == 1 and "memory:// lives inside one process" in result.output
    result = runner.invoke(cli, ["--url", "sqlite:///x.db", "dashboard", "--user", "ops"])
    assert result.exit_code == 1 and "needs both --user and --password" in result.output
    result = runner.invoke(cli, ["--url", "nosuch://x", "dashboard"])
    assert result.exit_code == 1 and "unsupported storage URL" in result.output
