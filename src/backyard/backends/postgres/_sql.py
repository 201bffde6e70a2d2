"""The backend's SQL, read once from the ``.sql`` files next to this module.

``queries.sql`` holds named blocks::

    -- name: claim
    -- What it does and why.
    WITH ...

Every table is written ``{schema}.table``; ``{schema}`` becomes the quoted,
validated schema name when a store loads its queries. Values always travel
as bind parameters (``$1``, ``$2``…), never inside the text.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache
from importlib import resources

_NAME_LINE = re.compile(r"^-- name: ([a-z_]+)\s*$", re.MULTILINE)
_MIGRATION_FILE = re.compile(r"(\d{4})_([a-z0-9_]+)\.sql")
SCHEMA_TOKEN = "{schema}"


@dataclass(frozen=True, slots=True)
class Migration:
    version: int
    name: str  # e.g. "0001_initial"
    sql: str  # with the {schema} token


@cache
def _read(name: str) -> str:
    return resources.files(__package__).joinpath(name).read_text(encoding="utf-8")


@cache
def _blocks(filename: str) -> dict[str, str]:
    text = _read(filename)
    found = list(_NAME_LINE.finditer(text))
    blocks: dict[str, str] = {}
    for match, following in zip(found, [*found[1:], None], strict=True):
        end = following.start() if following else len(text)
        body = text[match.end() : end].strip()
        if match.group(1) in blocks:
            raise RuntimeError(f"{filename}: query {match.group(1)!r} is defined twice")
        blocks[match.group(1)] = body
    return blocks


class Queries:
    """The named queries of ``queries.sql`` for one schema, as attributes-by-name."""

    def __init__(self, quoted_schema: str) -> None:
        self._sql = {
            name: body.replace(SCHEMA_TOKEN, quoted_schema)
            for name, body in _blocks("queries.sql").items()
        }

    def __getitem__(self, name: str) -> str:
        return self._sql[name]


@cache
def migrations() -> tuple[Migration, ...]:
    """Every migration shipped with this version, in order."""
    folder = resources.files(__package__).joinpath("migrations")
    found = []
    for entry in folder.iterdir():
        match = _MIGRATION_FILE.fullmatch(entry.name)
        if match:
            found.append(
                Migration(
                    version=int(match.group(1)),
                    name=entry.name.removesuffix(".sql"),
                    sql=entry.read_text(encoding="utf-8"),
                )
            )
    found.sort(key=lambda m: m.version)
    versions = [m.version for m in found]
    if versions != list(range(1, len(found) + 1)):
        raise RuntimeError(f"PostgreSQL migrations must be numbered 1, 2, 3…; found {versions}")
    return tuple(found)
