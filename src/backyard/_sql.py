"""Load named SQL blocks from a ``.sql`` file shipped in the package.

A file holds blocks that each start with a ``-- name: <name>`` line; the
block runs until the next such line. Backends load their files once at
import, so SQL lives in SQL files and Python only binds parameters.
"""

from __future__ import annotations

import re
from importlib import resources

_NAME = re.compile(r"^--\s*name:\s*(?P<name>[\w.-]+)\s*$", re.MULTILINE)


def load_queries(package: str, filename: str) -> dict[str, str]:
    text = resources.files(package).joinpath(filename).read_text(encoding="utf-8")
    matches = list(_NAME.finditer(text))
    if not matches:
        raise ValueError(f"{package}/{filename} has no '-- name:' blocks")
    queries: dict[str, str] = {}
    for match, following in zip(matches, [*matches[1:], None], strict=True):
        end = following.start() if following else len(text)
        body = text[match.end() : end].strip()
        if match["name"] in queries:
            raise ValueError(f"{package}/{filename}: query {match['name']!r} defined twice")
        queries[match["name"]] = body
    return queries
