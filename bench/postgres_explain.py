"""EXPLAIN (ANALYZE, BUFFERS) of the backend's hot queries on a million-row table.

    .venv/bin/python bench/postgres_explain.py [--rows 1000000] [--url postgresql://…]

Fills a scratch schema (``backyard_explain``, dropped at the end) with
``--rows`` jobs, almost all completed, as a busy deployment looks after a
few days without pruning: 1% waiting (a quarter of those scheduled for
later), 0.1% running (half with expired leases), 0.1% dead. Then prints
the plan and the execution time of claim, ack, rescue, prune, a listing of
dead jobs and the queue depths. Every statement runs in a transaction that
is rolled back, so each one sees the same table. Takes about a minute.
"""

from __future__ import annotations

import argparse
import asyncio
import re
import time
from datetime import timedelta

import asyncpg

from backyard import connect
from backyard.backends.postgres import PostgresQueue
from backyard.backends.postgres._sql import Queries

SCHEMA = "backyard_explain"

FILL = """
INSERT INTO {schema}.jobs
    (id, name, queue, payload, status, priority, attempt, max_retries, run_at,
     enqueued_at, started_at, finished_at, lease_expires_at, worker_id)
SELECT gen_random_uuid(), 'bench.Noop',
       CASE WHEN i % 10 = 0 THEN 'mail' ELSE 'default' END,
       '{{}}',
       CASE WHEN i % 1000 = 1 THEN 'running'
            WHEN i % 1000 = 2 THEN 'dead'
            WHEN i % 100 = 3 THEN 'available'
            ELSE 'completed' END,
       (i % 3) - 1,
       CASE WHEN i % 100 = 3 THEN 0 ELSE 1 END,
       3,
       -- a quarter of the waiting jobs are scheduled for later
       CASE WHEN i % 400 = 3 THEN $1::timestamptz + interval '1 hour'
            ELSE $1::timestamptz - make_interval(secs => ($2 - i) / 100.0) END,
       $1::timestamptz - make_interval(secs => ($2 - i) / 100.0),
       $1::timestamptz - make_interval(secs => ($2 - i) / 100.0),
       CASE WHEN i % 1000 = 1 OR i % 100 = 3 THEN NULL
            ELSE $1::timestamptz - make_interval(secs => ($2 - i) / 100.0) END,
       CASE WHEN i % 1000 = 1 THEN $1::timestamptz + make_interval(secs => (i / 1000 % 2) * 60 - 30) END,
       CASE WHEN i % 100 <> 3 THEN 'bench-worker' END
FROM generate_series(1, $2) AS i
"""


async def explain(conn: asyncpg.Connection, title: str, sql: str, *args: object) -> None:
    tx = conn.transaction()
    await tx.start()
    try:
        rows = await conn.fetch("EXPLAIN (ANALYZE, BUFFERS, COSTS OFF) " + sql, *args)
    finally:
        await tx.rollback()
    plan = [row[0] for row in rows]
    timing = next((line for line in plan if line.startswith("Execution Time")), "")
    print(f"\n=== {title}: {timing}")
    for line in plan:
        if not line.startswith(("Planning", "Execution")):
            print("   ", re.sub(r"\s+$", "", line))


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--url", default="postgresql://postgres@127.0.0.1:5432/test")
    args = parser.parse_args()

    admin = await asyncpg.connect(args.url)
    await admin.execute(f"DROP SCHEMA IF EXISTS {SCHEMA} CASCADE")
    store = connect(args.url, schema=SCHEMA)
    assert isinstance(store, PostgresQueue)
    await store.open()
    try:
        now = store.now_datetime()
        started = time.perf_counter()
        await admin.execute(FILL.format(schema=SCHEMA), now, args.rows)
        await admin.execute(f"VACUUM ANALYZE {SCHEMA}.jobs")
        counts = await admin.fetch(
            f"SELECT status, count(*) FROM {SCHEMA}.jobs GROUP BY status ORDER BY 2 DESC"
        )
        size = await admin.fetchval(
            f"SELECT pg_size_pretty(pg_total_relation_size('{SCHEMA}.jobs'))"
        )
        indexes = await admin.fetch(
            "SELECT indexrelname, pg_size_pretty(pg_relation_size(indexrelid)) AS size "
            "FROM pg_stat_user_indexes WHERE schemaname = $1 AND relname = 'jobs' "
            "ORDER BY indexrelname",
            SCHEMA,
        )
        print(f"filled {args.rows:,} rows in {time.perf_counter() - started:.1f}s; table {size}")
        print("  " + ", ".join(f"{row['status']} {row['count']:,}" for row in counts))
        print("  indexes: " + ", ".join(f"{row['indexrelname']} {row['size']}" for row in indexes))

        sql = Queries(f'"{SCHEMA}"')
        lease = now + timedelta(seconds=30)
        await explain(
            admin, "claim 10 from one queue", sql["claim"], ["default"], now, 10, "w", lease
        )
        await explain(
            admin,
            "claim 10 from two queues",
            sql["claim"],
            ["default", "mail"],
            now,
            10,
            "w",
            lease,
        )
        running = await admin.fetch(
            f"SELECT id, attempt FROM {SCHEMA}.jobs WHERE status = 'running' LIMIT 10"
        )
        await explain(
            admin,
            "ack 10",
            sql["ack"],
            [r["id"] for r in running],
            [r["attempt"] for r in running],
            now,
            now.replace(second=0, microsecond=0),
            0,
        )
        await explain(admin, "rescue: find expired leases", sql["rescue_expired"], now, 1000)
        await explain(
            admin,
            "prune: one batch of finished jobs older than an hour",
            sql["prune"],
            now - timedelta(hours=1),
            5000,
        )
        await explain(
            admin, "list dead jobs, newest first", sql["list"], None, "dead", None, now, 50, 0
        )
        await explain(
            admin, "list a queue, newest first", sql["list"], "mail", None, None, now, 50, 0
        )
        await explain(admin, "queue depths", sql["queue_depths"], now)
    finally:
        await store.close()
        await admin.execute(f"DROP SCHEMA IF EXISTS {SCHEMA} CASCADE")
        await admin.close()


if __name__ == "__main__":
    asyncio.run(main())
