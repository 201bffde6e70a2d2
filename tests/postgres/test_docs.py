"""The PostgreSQL samples of docs/postgres.md run against a real database.

tests/docs runs every page's samples against SQLite; the blocks of this page
marked "runs in tests/postgres/test_docs.py" are run here instead, joined
into one script, with BACKYARD_URL pointing at a private schema.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from ..backends import POSTGRES_URL, drop_postgres_schema
from ..docs._samples import ROOT, run_samples

pytestmark = pytest.mark.postgres

PAGE = ROOT / "docs" / "postgres.md"
BLOCK = re.compile(
    r"<!--\s*no-test: runs in tests/postgres/test_docs.py[^>]*-->\s*\n```python\n(?P<code>.*?)```",
    re.S,
)


async def test_postgres_page_samples_run(pg: object, schema: str, tmp_path: Path) -> None:
    blocks = [m["code"] for m in BLOCK.finditer(PAGE.read_text())]
    assert len(blocks) >= 2
    url = f"{POSTGRES_URL}?schema={schema}"
    try:
        result = run_samples("\n\n".join(blocks), tmp_path, url, "postgres")
    finally:
        await drop_postgres_schema(schema)
    assert result.returncode == 0, result.stderr
    assert "enqueued" in result.stdout
    assert "second order rolled back: UniqueViolationError" in result.stdout
    assert "<JobStatus.AVAILABLE: 'available'>: 2" in result.stdout  # the first sample's job + one
