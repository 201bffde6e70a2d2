"""Migrations: applied on open, idempotent, safe when many processes start at once."""

from __future__ import annotations

import asyncio

import asyncpg
import pytest

from backyard import StorageError, connect
from backyard.backends.postgres import PostgresQueue, latest_version, migration_sql

from ..backends import POSTGRES_URL
from ..jobs import Record
from .conftest import OpenPg

pytestmark = pytest.mark.postgres


async def versions(admin: asyncpg.Connection, schema: str) -> list[int]:
    rows = await admin.fetch(f'SELECT version FROM "{schema}".migrations ORDER BY version')
    return [row["version"] for row in rows]


async def test_open_migrates_and_migrate_is_idempotent(
    pg: PostgresQueue, admin: asyncpg.Connection
) -> None:
    assert await versions(admin, pg.schema) == list(range(1, latest_version() + 1))
    assert await pg.migrate() == []
    assert await pg.migrate() == []
    assert await versions(admin, pg.schema) == list(range(1, latest_version() + 1))


async def test_concurrent_migrations_apply_each_version_once(
    schema: str, open_pg: OpenPg, admin: asyncpg.Connection
) -> None:
    # Six unopened stores migrate one empty schema at the same moment, each on
    # its own connection, as six workers starting together would.
    stores = [connect(POSTGRES_URL, schema=schema, migrate=False) for _ in range(6)]
    results = await asyncio.gather(*(store.migrate() for store in stores))  # type: ignore[attr-defined]
    applied = [name for result in results for name in result]
    assert sorted(applied) == sorted({name for name in applied})
    assert len(applied) == latest_version()
    assert await versions(admin, schema) == list(range(1, latest_version() + 1))
    store = await open_pg()
    job_id = await store.enqueue(Record())
    assert await store.get(job_id) is not None


async def test_concurrent_opens_on_a_fresh_schema(open_pg: OpenPg) -> None:
    stores = await asyncio.gather(*(open_pg() for _ in range(5)))
    ids = await asyncio.gather(*(store.enqueue(Record(n=i)) for i, store in enumerate(stores)))
    assert len(await stores[0].list(limit=10)) == len(ids)


async def test_printed_sql_applies_and_skips_automatic_migration(
    schema: str, open_pg: OpenPg, admin: asyncpg.Connection
) -> None:
    script = migration_sql(schema)
    assert script.startswith("-- backyard") and "COMMIT;" in script
    await admin.execute(script)
    assert await versions(admin, schema) == list(range(1, latest_version() + 1))
    store = await open_pg(migrate=False)
    assert await store.migrate() == []
    job_id = await store.enqueue(Record())
    assert await store.get(job_id) is not None


async def test_migrate_false_on_an_empty_schema_says_what_to_run(open_pg: OpenPg) -> None:
    with pytest.raises(StorageError, match="backyard migrate"):
        await open_pg(migrate=False)


async def test_schema_is_private(open_pg: OpenPg, admin: asyncpg.Connection, schema: str) -> None:
    await open_pg()
    tables = await admin.fetch(
        "SELECT table_name FROM information_schema.tables WHERE table_schema = $1", schema
    )
    assert {row["table_name"] for row in tables} == {"jobs", "stats", "workers", "migrations"}
