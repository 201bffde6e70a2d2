"""The Python samples in the README and docs run, so they stay true.

Each page's ```python blocks are joined into one script and run in a fresh
interpreter, in an empty folder, against a SQLite file there (so a page's
samples may build on each other, as a reader would type them). A block
preceded by ``<!-- no-test: reason -->`` is skipped; a page listed in
NEEDS is run only where that service answers (see tests/backends.py).
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from ._samples import ROOT, run_samples

PAGES = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
BLOCK = re.compile(r"(?P<skip><!--\s*no-test:[^>]*-->\s*\n)?```python\n(?P<code>.*?)```", re.S)


def samples(page: Path) -> str:
    blocks = [m["code"] for m in BLOCK.finditer(page.read_text()) if not m["skip"]]
    return "\n\n".join(blocks)


@pytest.mark.parametrize("page", [p for p in PAGES if samples(p)], ids=lambda p: p.name)
def test_page_samples_run(page: Path, tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'docs.db'}"
    result = run_samples(samples(page), tmp_path, url, page.stem.replace("-", "_"))
    assert result.returncode == 0, f"{page.name} samples failed:\n{result.stdout}\n{result.stderr}"
