"""Versioned schema migrations: applied on ``open()`` or by ``backyard migrate``.

Each file in ``migrations/`` is one version. They run in one transaction
under a transaction-scoped advisory lock, so workers that start at the same
moment apply each migration exactly once: the first takes the lock and
migrates, the others wait for it, then find nothing left to do. A failed
migration rolls back whole.
"""

from __future__ import annotations

import logging
from typing import Any

import asyncpg

from ..._errors import StorageError
from ._config import quote_identifier, validate_schema
from ._sql import SCHEMA_TOKEN, Queries, migrations

log = logging.getLogger("backyard.postgres")


def latest_version() -> int:
    return migrations()[-1].version


async def applied_versions(conn: Any, queries: Queries) -> set[int]:
    """Versions recorded in the schema; empty if the schema or its table is missing."""
    try:
        rows = await conn.fetch(queries["applied_migrations"])
    except (asyncpg.UndefinedTableError, asyncpg.InvalidSchemaNameError):
        return set()
    return {row["version"] for row in rows}


async def apply(conn: Any, queries: Queries, schema: str) -> list[str]:
    """Apply the pending migrations; return their names (empty if none were due)."""
    wanted = {m.version for m in migrations()}
    # Fast path without DDL or locks: a role that may use the tables but not
    # create schemas can open an up-to-date store.
    if wanted <= await applied_versions(conn, queries):
        return []
    quoted = quote_identifier(schema)
    done: list[str] = []
    async with conn.transaction():
        await conn.execute(queries["migrations_lock"], f"backyard.migrate.{schema}")
        await conn.execute(queries["create_schema"])
        await conn.execute(queries["create_migrations_table"])
        applied = await applied_versions(conn, queries)
        for migration in migrations():
            if migration.version in applied:
                continue
            await conn.execute(migration.sql.replace(SCHEMA_TOKEN, quoted))
            await conn.execute(queries["record_migration"], migration.version, migration.name)
            done.append(migration.name)
    if done:
        log.info("migrated PostgreSQL schema %s: %s", schema, ", ".join(done))
    return done


async def check(conn: Any, queries: Queries, schema: str) -> None:
    """With automatic migration off: fail clearly if the schema is behind this version."""
    applied = await applied_versions(conn, queries)
    missing = [m.name for m in migrations() if m.version not in applied]
    if missing:
        raise StorageError(
            f"the PostgreSQL schema {schema!r} lacks migration(s) {', '.join(missing)}: "
            "run `backyard migrate`, or apply the SQL that `backyard migrate --sql` prints, "
            "or leave migrate=true so workers migrate on start"
        )


def migration_sql(schema: str = "backyard", after: int = 0) -> str:
    """The SQL of every migration after version ``after``, as one script for ``psql``.

    For teams that apply schema changes themselves (``backyard migrate --sql``):
    it creates the schema if needed, runs the migrations in one transaction
    and records them, so stores opened afterwards find nothing to do.
    """
    validate_schema(schema)
    quoted = quote_identifier(schema)
    queries = Queries(quoted)
    pending = [m for m in migrations() if m.version > after]
    lines = [
        f"-- backyard: PostgreSQL schema {schema}, migrations after version {after}",
        "BEGIN;",
        queries["create_schema"],
        queries["create_migrations_table"],
    ]
    for migration in pending:
        lines.append(f"\n-- {migration.name}")
        lines.append(migration.sql.replace(SCHEMA_TOKEN, quoted).strip())
        # The name is a file name checked by _sql.migrations(): digits, a-z and _.
        lines.append(
            f"INSERT INTO {quoted}.migrations (version, name) "
            f"VALUES ({migration.version:d}, '{migration.name}');"
        )
    lines.append("COMMIT;")
    return "\n".join(lines) + "\n"
