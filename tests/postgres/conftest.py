"""Fixtures for the PostgreSQL-only tests: a private schema per test, real clock."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Awaitable, Callable

import asyncpg
import pytest

from backyard import connect
from backyard.backends.postgres import PostgresQueue

from ..backends import POSTGRES_URL, drop_postgres_schema, postgres_reachable, service_missing

pytestmark = pytest.mark.postgres

OpenPg = Callable[..., Awaitable[PostgresQueue]]


@pytest.fixture
def schema() -> str:
    return f"backyard_test_{uuid.uuid4().hex[:12]}"


@pytest.fixture
def app_name(schema: str) -> str:
    """The application_name the test's stores use: lets a test find (and
    terminate) its own backends and nobody else's."""
    return f"t_{schema}"


@pytest.fixture
async def open_pg(schema: str, app_name: str) -> AsyncIterator[OpenPg]:
    """Opens stores on the test's schema; closes them and drops the schema after."""
    if not await postgres_reachable():
        service_missing(
            "PostgreSQL at 127.0.0.1:5432",
            "pg_ctlcluster --skip-systemctl-redirect $(ls /etc/postgresql) main start",
        )
    opened: list[PostgresQueue] = []

    async def open_store(**options: object) -> PostgresQueue:
        url = f"{POSTGRES_URL}?application_name={app_name}"
        store = connect(url, schema=schema, **options)
        assert isinstance(store, PostgresQueue)
        await store.open()
        opened.append(store)
        return store

    try:
        yield open_store
    finally:
        for store in opened:
            await store.close()
        await drop_postgres_schema(schema)


@pytest.fixture
async def pg(open_pg: OpenPg) -> PostgresQueue:
    return await open_pg()


@pytest.fixture
async def admin() -> AsyncIterator[asyncpg.Connection]:
    """A plain asyncpg connection for the test's own checks and sabotage."""
    conn = await asyncpg.connect(POSTGRES_URL)
    try:
        yield conn
    finally:
        await conn.close()


async def backends_of(admin: asyncpg.Connection, application_name: str) -> list[int]:
    rows = await admin.fetch(
        "SELECT pid FROM pg_stat_activity WHERE application_name = $1", application_name
    )
    return [row["pid"] for row in rows]


async def terminate(admin: asyncpg.Connection, application_name: str) -> int:
    pids = await backends_of(admin, application_name)
    for pid in pids:
        await admin.execute("SELECT pg_terminate_backend($1)", pid)
    return len(pids)
