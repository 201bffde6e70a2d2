"""Run a page's joined code samples as a script, the way a reader would."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def run_samples(code: str, folder: Path, url: str, name: str) -> subprocess.CompletedProcess[str]:
    """``code`` in a fresh interpreter, in ``folder``, with ``BACKYARD_URL=url``."""
    script = folder / f"sample_{name}.py"
    script.write_text(code)
    env = {**os.environ, "BACKYARD_URL": url, "PYTHONPATH": str(ROOT / "src")}
    return subprocess.run(
        [sys.executable, str(script)],
        cwd=folder,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
