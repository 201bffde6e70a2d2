from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from backyard.cli import cli
from backyard.cli import commands as _commands  # noqa: F401 - registers the commands

ROOT = Path(__file__).resolve().parents[2]


@dataclass
class Run:
    code: int
    stdout: str
    stderr: str


@dataclass
class Backyard:
    """Runs ``backyard`` against one temporary SQLite file, the way a user would."""

    url: str
    folder: Path

    def __call__(self, *args: str, input: str | None = None) -> Run:
        """A real process: ``python -m backyard …``."""
        env = {**os.environ, "BACKYARD_URL": self.url, "COLUMNS": "200", "NO_COLOR": "1"}
        env.pop("BACKYARD_DEBUG", None)
        done = subprocess.run(
            [sys.executable, "-m", "backyard", *args],
            cwd=ROOT,
            env=env,
            input=input,
            capture_output=True,
            text=True,
            timeout=60,
        )
        return Run(done.returncode, done.stdout, done.stderr)

    def invoke(self, *args: str, input: str | None = None) -> Result:
        """In this process, through click's runner: quick, for the many small cases."""
        return CliRunner().invoke(
            cli,
            ["--url", self.url, *args],
            input=input,
            env={"COLUMNS": "200"},
            prog_name="backyard",
        )


@pytest.fixture
def backyard(tmp_path: Path) -> Iterator[Backyard]:
    yield Backyard(url=f"sqlite:///{tmp_path / 'jobs.db'}", folder=tmp_path)
