"""Bad settings, an unreachable database, lost connections, corrupted rows."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator

import asyncpg
import pytest

from backyard import ConfigurationError, JobStatus, StorageError, Worker, connect

from ..backends import POSTGRES_URL
from ..jobs import RUNS, Record, reset
from .conftest import OpenPg, terminate

pytestmark = pytest.mark.postgres


@pytest.fixture(autouse=True)
def _fresh_runs() -> Iterator[None]:
    reset()
    yield
    reset()


@pytest.mark.parametrize(
    ("url", "options", "message"),
    [
        ("postgresql://localhost:54x2/db", {}, "port '54x2' is not a number"),
        ("postgresql://localhost:99999/db", {}, "port '99999'"),
        ("postgresql://localhost/db?schema=Bad-Name", {}, "invalid PostgreSQL schema name"),
        ("postgresql://localhost/db", {"schema": "x; DROP"}, "invalid PostgreSQL schema name"),
        ("postgresql://localhost/db?migrate=maybe", {}, "migrate must be true or false"),
        ("postgresql://localhost/db?pool_max=lots", {}, "pool_max must be a whole number"),
        ("postgresql://localhost/db?pool_min=5&pool_max=2", {}, "pool_min (5) is larger"),
        ("postgresql://localhost/db", {"poolsize": 3}, "unknown option 'poolsize'"),
        ("postgresql://localhost/db?a=1&&&b", {}, "malformed PostgreSQL URL"),
    ],
)
def test_bad_settings_raise_configuration_error(
    url: str, options: dict[str, object], message: str
) -> None:
    with pytest.raises(ConfigurationError) as info:
        connect(url, **options)
    assert message in str(info.value)


def test_password_is_not_shown_in_errors() -> None:
    with pytest.raises(ConfigurationError) as info:
        connect("postgresql://app:s3cret@localhost:bad/db")
    assert "s3cret" not in str(info.value)


async def test_unreachable_database_names_host_and_port() -> None:
    store = connect("postgresql://postgres@127.0.0.1:1/test", connect_retries=1)
    with pytest.raises(StorageError) as info:
        await store.open()
    message = str(info.value)
    assert "127.0.0.1:1" in message
    assert "Is the server running" in message
    await store.close()


async def test_missing_database_says_how_to_create_it() -> None:
    store = connect("postgresql://postgres@127.0.0.1:5432/no_such_db_backyard")
    with pytest.raises(StorageError, match="createdb no_such_db_backyard"):
        await store.open()


async def test_unopened_store_says_so() -> None:
    store = connect(POSTGRES_URL)
    with pytest.raises(StorageError, match="is not open"):
        await store.get("00000000-0000-7000-8000-000000000000")


async def test_pool_recovers_after_its_connections_are_killed(
    open_pg: OpenPg, admin: asyncpg.Connection, app_name: str
) -> None:
    store = await open_pg(pool_min=3)
    job_id = await store.enqueue(Record())
    assert await terminate(admin, app_name) >= 1
    await asyncio.sleep(0.1)
    # At most the first call may fail, and then as a StorageError, not a driver error.
    for attempt in range(3):
        try:
            record = await store.get(job_id)
            break
        except StorageError as exc:
            assert attempt == 0
            assert "lost the connection to PostgreSQL at 127.0.0.1:5432" in str(exc)
    assert record is not None and record.id == job_id


async def test_worker_survives_losing_every_connection_mid_run(
    open_pg: OpenPg, admin: asyncpg.Connection, app_name: str
) -> None:
    store = await open_pg()
    ids = await store.enqueue_many([Record(n=i, sleep=0.02) for i in range(200)])
    worker = Worker(store, concurrency=5, poll_interval=0.05, lease=5, stop_when_empty=True)
    task = asyncio.create_task(worker.run(install_signal_handlers=False))
    for _ in range(3):
        await asyncio.sleep(0.3)
        await terminate(admin, app_name)
        await terminate(admin, f"{app_name}:listener")
    await asyncio.wait_for(task, 60)
    assert all(RUNS[i] >= 1 for i in ids)
    depths = await store.queue_depths()
    assert depths["default"][JobStatus.COMPLETED] == 200


async def test_garbled_error_history_is_decoded_not_fatal(
    open_pg: OpenPg, admin: asyncpg.Connection, schema: str
) -> None:
    store = await open_pg()
    garbled = await store.enqueue(Record(n=1))
    not_a_list = await store.enqueue(Record(n=2))
    await admin.execute(
        f'UPDATE "{schema}".jobs SET errors = $2::jsonb WHERE id = $1',
        garbled,
        '[{"attempt": "one"}, 42, {"attempt": 1, "at": 0, "message": "kept"}]',
    )
    await admin.execute(
        f'UPDATE "{schema}".jobs SET errors = $2::jsonb WHERE id = $1', not_a_list, '{"x": 1}'
    )
    record = await store.get(garbled)
    assert record is not None
    assert [e.message.startswith("unreadable error entry") for e in record.errors] == [
        True,
        True,
        False,
    ]
    assert record.errors[2].message == "kept"
    claimed = await store.claim(["default"], "w", 10, 30)
    assert {job.id for job in claimed} == {garbled, not_a_list}
    other = next(job for job in claimed if job.id == not_a_list)
    assert other.errors[0].message == 'unreadable error entry in the database: {"x": 1}'


async def test_invalid_json_payload_goes_to_dead(
    open_pg: OpenPg, admin: asyncpg.Connection, schema: str
) -> None:
    store = await open_pg()
    job_id = await store.enqueue(Record(n=1))
    await admin.execute(f'UPDATE "{schema}".jobs SET payload = $2 WHERE id = $1', job_id, "\x01{")
    await Worker(store, poll_interval=0.05, stop_when_empty=True).run(install_signal_handlers=False)
    record = await store.get(job_id)
    assert record is not None and record.status is JobStatus.DEAD
    assert record.errors and "tests.Record" in record.errors[-1].message
