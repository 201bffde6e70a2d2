"""enqueue(job, connection=conn): the job exists only if the caller's transaction commits."""

from __future__ import annotations

import asyncio

import asyncpg
import pytest

from backyard import ConfigurationError, JobOptions, JobStatus
from backyard.backends.postgres import PostgresQueue, enqueue_statement

from ..backends import POSTGRES_URL
from ..jobs import Record

pytestmark = pytest.mark.postgres


async def test_commit_makes_the_job_visible(pg: PostgresQueue, admin: asyncpg.Connection) -> None:
    async with admin.transaction():
        job_id = await pg.enqueue(Record(n=1), connection=admin)
        # Not visible to anyone else until the commit.
        assert await pg.get(job_id) is None
    record = await pg.get(job_id)
    assert record is not None and record.status is JobStatus.AVAILABLE
    (claimed,) = await pg.claim(["default"], "w", 10, 30)
    assert claimed.id == job_id


async def test_rollback_leaves_nothing(pg: PostgresQueue, admin: asyncpg.Connection) -> None:
    with pytest.raises(RuntimeError):
        async with admin.transaction():
            job_id = await pg.enqueue(Record(n=1), JobOptions(queue="mail"), connection=admin)
            raise RuntimeError("the order could not be saved")
    assert await pg.get(job_id) is None
    assert await pg.claim(["mail"], "w", 10, 30) == []
    assert await pg.queue_depths() == {}


async def test_pool_connections_work_too(pg: PostgresQueue) -> None:
    async with pg.pool.acquire() as conn, conn.transaction():
        job_id = await pg.enqueue(Record(n=2), connection=conn)
    assert await pg.get(job_id) is not None


async def test_notify_is_sent_on_commit_only(pg: PostgresQueue, admin: asyncpg.Connection) -> None:
    heard: list[str] = []
    listener = await asyncpg.connect(POSTGRES_URL)
    try:
        await listener.add_listener(pg.settings.channel, lambda *args: heard.append(args[3]))
        async with admin.transaction():
            await pg.enqueue(Record(), JobOptions(queue="q1"), connection=admin)
            await asyncio.sleep(0.2)
            assert heard == []  # still inside the transaction
        for _ in range(100):
            if heard:
                break
            await asyncio.sleep(0.02)
        assert heard == ["q1"]
    finally:
        await listener.close()


async def test_other_connection_types_are_refused_clearly(pg: PostgresQueue) -> None:
    with pytest.raises(ConfigurationError, match="enqueue_statement"):
        await pg.enqueue(Record(), connection=object())


async def test_enqueue_statement_with_psycopg(pg: PostgresQueue) -> None:
    psycopg = pytest.importorskip("psycopg")
    statement = enqueue_statement(
        Record(n=5), JobOptions(queue="sync", priority=3), schema=pg.schema
    )
    with psycopg.connect(POSTGRES_URL) as conn:
        conn.execute(statement.sql, statement.params)
        conn.rollback()
    assert await pg.get(statement.job_id) is None
    with psycopg.connect(POSTGRES_URL) as conn:
        conn.execute(statement.sql, statement.params)  # commits when the block ends
    record = await pg.get(statement.job_id)
    assert record is not None
    assert (record.queue, record.priority, record.status) == ("sync", 3, JobStatus.AVAILABLE)
    assert Record.model_validate_json(record.payload) == Record(n=5)


async def test_enqueue_statement_keeps_values_out_of_the_sql(pg: PostgresQueue) -> None:
    # A queue name that would break out of a comment or a literal if pasted into the text.
    statement = enqueue_statement(
        Record(n=1), JobOptions(queue="x'\n-- ; DROP TABLE jobs"), schema=pg.schema
    )
    assert "DROP TABLE" not in statement.sql
    assert "--" not in statement.sql
    psycopg = pytest.importorskip("psycopg")
    with psycopg.connect(POSTGRES_URL) as conn:
        conn.execute(statement.sql, statement.params)
    record = await pg.get(statement.job_id)
    assert record is not None and record.queue == "x'\n-- ; DROP TABLE jobs"
