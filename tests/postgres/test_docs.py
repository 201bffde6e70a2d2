"""The PostgreSQL samples of docs/postgres.md run against a real database.

tests/docs runs every page's samples against SQLite; the blocks of this page
marked "runs in tests/postgres/test_docs.py" are run here instead, joined
into one script, with BACKYARD_URL pointing at a private schema.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from ..backends import POSTGRES_URL, drop_postgres_schema

pytestmark = pytest.mark.postgres

ROOT = Path(__file__).resolve().parents[2]
PAGE = ROOT / "docs" / "postgres.md"
BLOCK = re.compile(
    r"<!--\s*no-test: runs in tests/postgres/test_docs.py[^>]*-->\s*\n```python\n(?P<code>.*?)```",
    re.S,
)


async def test_postgres_page_samples_run(pg: object, schema: str, tmp_path: Path) -> None:
    blocks = [m["code"] for m in BLOCK.finditer(PAGE.read_text())]
    assert len(blocks) >= 2
    script = tmp_path / "sample_postgres.py"
    script.write_text("\n\n".join(blocks))
    env = {
        **os.environ,
        "BACKYARD_URL": f"{POSTGRES_URL}?schema={schema}",
        "PYTHONPATH": str(ROOT / "src"),
    }
    try:
        result = subprocess.run(
            [sys.executable, str(script)],
            cwd=tmp_path,
            env=env,
            capture_output=True,
            text=True,
            timeout=60,
        )
    finally:
        await drop_postgres_schema(schema)
    assert result.returncode == 0, result.stderr
    assert "enqueued" in result.stdout
    assert "second order rolled back: UniqueViolationError" in result.stdout
    assert "<JobStatus.AVAILABLE: 'available'>: 2" in result.stdout  # the first sample's job + one
