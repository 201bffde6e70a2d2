"""``backyard migrate`` and ``backyard migrate --sql`` against PostgreSQL."""

from __future__ import annotations

import asyncio
import json

import asyncpg
import pytest
from click.testing import CliRunner

from backyard.backends.postgres import latest_version
from backyard.cli import cli
from backyard.cli import commands as _commands  # noqa: F401 - registers the commands

from ..backends import POSTGRES_URL, drop_postgres_schema, postgres_reachable, service_missing

pytestmark = pytest.mark.postgres


def run_sync(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(cli, list(args), env={"COLUMNS": "200"}, prog_name="backyard")
    return result.exit_code, result.output


async def run(*args: str) -> tuple[int, str]:
    # The command runs its own event loop: give it a thread of its own.
    return await asyncio.to_thread(run_sync, *args)


async def test_migrate_applies_once_then_reports_up_to_date(schema: str) -> None:
    if not await postgres_reachable():
        service_missing(
            "PostgreSQL at 127.0.0.1:5432",
            "pg_ctlcluster --skip-systemctl-redirect $(ls /etc/postgresql) main start",
        )
    url = f"{POSTGRES_URL}?schema={schema}"
    try:
        code, out = await run("--url", url, "migrate")
        assert code == 0, out
        assert f"applied {latest_version()} migration(s): 0001_initial, 0002_next_run_index" in out
        code, out = await run("--url", url, "--json", "migrate")
        assert code == 0 and json.loads(out) == {"applied": []}
        code, out = await run("--url", url, "migrate")
        assert code == 0 and "up to date" in out
    finally:
        await drop_postgres_schema(schema)


async def test_migrate_sql_prints_a_script_without_touching_the_database(
    schema: str, admin: asyncpg.Connection
) -> None:
    code, out = await run("--url", f"{POSTGRES_URL}?schema={schema}", "migrate", "--sql")
    assert code == 0
    assert f'CREATE TABLE "{schema}".jobs' in out
    assert out.rstrip().endswith("COMMIT;")
    exists = await admin.fetchval("SELECT to_regnamespace($1) IS NOT NULL", schema)
    assert exists is False
    try:
        await admin.execute(out)  # what a DBA would do with psql
        code, out = await run("--url", f"{POSTGRES_URL}?schema={schema}&migrate=false", "migrate")
        assert code == 0 and "up to date" in out
    finally:
        await drop_postgres_schema(schema)


def test_migrate_sql_is_refused_for_other_backends() -> None:
    code, out = run_sync("--url", "memory://", "migrate", "--sql")
    assert code == 1
    assert "only postgresql://" in out
    code, out = run_sync("--url", "memory://", "migrate")
    assert code == 0 and "up to date" in out
