-- The queries of the postgresql:// backend, one named block each.
--
-- "Now" is always a parameter (the store's clock), never now(): the
-- conformance suite moves a fake clock, and every machine of a deployment
-- reads time the same way (see docs/postgres.md, "Clocks").
--
-- Statements that change a job's state check that it is still running
-- under the same attempt, so a worker that lost its lease (and whose job
-- was claimed again elsewhere) can never complete or fail the new attempt.


-- name: push
-- $1 id, $2 name, $3 queue, $4 payload, $5 priority, $6 max_retries,
-- $7 run_at, $8 now, $9 timeout, $10 NOTIFY channel.
-- The NOTIFY belongs to the inserting transaction: PostgreSQL delivers it on
-- commit, so a listening worker never wakes for a job it cannot see yet, and
-- a job enqueued in a rolled-back transaction wakes nobody.
WITH inserted AS (
    INSERT INTO {schema}.jobs
        (id, name, queue, payload, priority, max_retries, run_at, enqueued_at, timeout)
    VALUES ($1::uuid, $2::text, $3::text, $4::text, $5::integer, $6::integer,
            $7::timestamptz, $8::timestamptz, $9::double precision)
    RETURNING queue, run_at
)
SELECT pg_notify($10::text, queue) FROM inserted WHERE run_at <= $8::timestamptz;


-- name: push_many
-- Parallel arrays, one element per job: $1 ids, $2 names, $3 queues,
-- $4 payloads, $5 priorities, $6 max_retries, $7 run_at (NULL: now, which
-- is cheaper to send than 50,000 copies of one timestamp); $8 now,
-- $9 timeouts, $10 NOTIFY channel. One statement: all rows or none.
-- ORDER BY the ordinality hands out seq in the caller's order, which is the
-- claim order of jobs with equal priority and run_at.
WITH inserted AS (
    INSERT INTO {schema}.jobs
        (id, name, queue, payload, priority, max_retries, run_at, enqueued_at, timeout)
    SELECT t.id, t.name, t.queue, t.payload, t.priority, t.max_retries,
           coalesce(t.run_at, $8), $8, t.timeout
    FROM unnest($1::uuid[], $2::text[], $3::text[], $4::text[], $5::integer[],
                $6::integer[], $7::timestamptz[], $9::double precision[])
         WITH ORDINALITY AS t(id, name, queue, payload, priority, max_retries, run_at, timeout, n)
    ORDER BY t.n
    RETURNING queue, run_at
)
-- One notification per queue that got due work, not one per job.
SELECT pg_notify($10, due.queue)
FROM (SELECT DISTINCT queue FROM inserted WHERE run_at <= $8::timestamptz) AS due;


-- name: claim
-- $1 queues, $2 now, $3 limit, $4 worker id, $5 lease expiry.
-- One statement takes a whole batch. For each queue, the LATERAL subquery
-- walks jobs_claim_idx in claim order and locks up to $3 due rows, stepping
-- over rows other claimers hold (SKIP LOCKED), so concurrent claims never
-- wait on each other and never return the same job. The best $3 of all
-- queues' candidates are then marked running; the others are unlocked at
-- the end of the statement. The caller sorts the returned rows (RETURNING
-- keeps no order).
WITH candidates AS (
    SELECT c.id, c.priority, c.run_at, c.seq
    FROM unnest($1::text[]) AS q(name)
    CROSS JOIN LATERAL (
        SELECT j.id, j.priority, j.run_at, j.seq
        FROM {schema}.jobs AS j
        WHERE j.status = 'available' AND j.queue = q.name AND j.run_at <= $2
        ORDER BY j.priority DESC, j.run_at, j.seq
        LIMIT $3
        FOR UPDATE SKIP LOCKED
    ) AS c
),
picked AS (
    SELECT id FROM candidates ORDER BY priority DESC, run_at, seq LIMIT $3
)
UPDATE {schema}.jobs AS j
SET status = 'running',
    attempt = j.attempt + 1,
    worker_id = $4,
    started_at = $2,
    lease_expires_at = $5
FROM picked
WHERE j.id = picked.id
RETURNING j.id, j.seq, j.name, j.queue, j.payload, j.status, j.priority, j.attempt,
          j.max_retries, j.run_at, j.enqueued_at, j.timeout, j.started_at, j.finished_at,
          j.lease_expires_at, j.worker_id, j.errors;


-- name: ack
-- $1 ids, $2 their attempts, $3 now, $4 stats minute, $5 stats shard.
-- A whole batch of completions in one statement, counted in the same
-- transaction. "j.id = ANY($1)" repeats the join on purpose: it gives the
-- planner a primary-key lookup, where it would otherwise hash-join against
-- every running job it finds through jobs_lease_idx. Counter rows are upserted in queue order so two acks that
-- touch several queues lock them in the same order (no deadlock).
WITH done AS (
    UPDATE {schema}.jobs AS j
    SET status = 'completed', finished_at = $3, lease_expires_at = NULL
    FROM unnest($1::uuid[], $2::integer[]) AS t(id, attempt)
    WHERE j.id = ANY($1::uuid[])
      AND j.id = t.id AND j.attempt = t.attempt AND j.status = 'running'
    RETURNING j.queue
),
counted AS (
    INSERT INTO {schema}.stats AS s (minute, queue, shard, completed)
    SELECT $4, queue, $5, count(*) FROM done GROUP BY queue ORDER BY queue
    ON CONFLICT (minute, queue, shard) DO UPDATE SET completed = s.completed + excluded.completed
)
SELECT count(*) FROM done;


-- name: retry
-- $1 id, $2 attempt, $3 run_at, $4 error (a one-element JSON array),
-- $5 stats minute, $6 stats shard, $7 now, $8 NOTIFY channel.
WITH retried AS (
    UPDATE {schema}.jobs
    SET status = 'available', run_at = $3, lease_expires_at = NULL, errors = errors || $4::jsonb
    WHERE id = $1 AND attempt = $2 AND status = 'running'
    RETURNING queue, run_at
),
counted AS (
    INSERT INTO {schema}.stats AS s (minute, queue, shard, failed)
    SELECT $5, queue, $6, 1 FROM retried
    ON CONFLICT (minute, queue, shard) DO UPDATE SET failed = s.failed + 1
),
-- A retry that is due at once wakes listening workers like a push does.
notified AS (
    SELECT pg_notify($8, queue) FROM retried WHERE run_at <= $7
)
SELECT (SELECT count(*) FROM retried) AS updated, (SELECT count(*) FROM notified) AS notified;


-- name: fail
-- $1 id, $2 attempt, $3 now, $4 error (a one-element JSON array),
-- $5 stats minute, $6 stats shard.
WITH failed AS (
    UPDATE {schema}.jobs
    SET status = 'dead', finished_at = $3, lease_expires_at = NULL, errors = errors || $4::jsonb
    WHERE id = $1 AND attempt = $2 AND status = 'running'
    RETURNING queue
),
counted AS (
    INSERT INTO {schema}.stats AS s (minute, queue, shard, dead)
    SELECT $5, queue, $6, 1 FROM failed
    ON CONFLICT (minute, queue, shard) DO UPDATE SET dead = s.dead + 1
)
SELECT count(*) FROM failed;


-- name: release
-- $1 ids, $2 their attempts, $3 now, $4 NOTIFY channel.
-- Graceful shutdown gives unfinished jobs back unrun: the attempt is undone.
WITH released AS (
    UPDATE {schema}.jobs AS j
    SET status = 'available', attempt = j.attempt - 1, run_at = $3, lease_expires_at = NULL
    FROM unnest($1::uuid[], $2::integer[]) AS t(id, attempt)
    WHERE j.id = ANY($1::uuid[])  -- a primary-key lookup, as in ack
      AND j.id = t.id AND j.attempt = t.attempt AND j.status = 'running'
    RETURNING j.queue
),
notified AS (
    SELECT pg_notify($4, r.queue) FROM (SELECT DISTINCT queue FROM released) AS r
)
SELECT (SELECT count(*) FROM released) AS updated, (SELECT count(*) FROM notified) AS notified;


-- name: heartbeat
-- $1 ids, $2 worker id, $3 new lease expiry. Returns the ids still held.
UPDATE {schema}.jobs
SET lease_expires_at = $3
WHERE id = ANY($1::uuid[]) AND status = 'running' AND worker_id = $2
RETURNING id;


-- name: rescue_expired
-- $1 now, $2 batch size. Runs in a transaction with rescue_apply: the rows
-- stay locked in between, and SKIP LOCKED lets many workers rescue at once,
-- each taking different rows, none waiting.
SELECT id, attempt, max_retries, worker_id
FROM {schema}.jobs
WHERE status = 'running' AND lease_expires_at < $1
ORDER BY lease_expires_at
LIMIT $2
FOR UPDATE SKIP LOCKED;


-- name: rescue_apply
-- $1 ids, $2 the lease-expired error of each (a one-element JSON array),
-- $3 now, $4 stats minute, $5 stats shard, $6 NOTIFY channel.
-- Jobs with retries left go back to available now; the others go to dead.
WITH rescued AS (
    UPDATE {schema}.jobs AS j
    SET status = CASE WHEN j.attempt > j.max_retries THEN 'dead' ELSE 'available' END,
        run_at = CASE WHEN j.attempt > j.max_retries THEN j.run_at ELSE $3 END,
        finished_at = CASE WHEN j.attempt > j.max_retries THEN $3 END,
        lease_expires_at = NULL,
        errors = j.errors || t.error::jsonb
    FROM unnest($1::uuid[], $2::text[]) AS t(id, error)
    WHERE j.id = ANY($1::uuid[])  -- a primary-key lookup, as in ack
      AND j.id = t.id AND j.status = 'running'
    RETURNING j.queue, j.status
),
counted AS (
    INSERT INTO {schema}.stats AS s (minute, queue, shard, failed, dead)
    SELECT $4, queue, $5,
           count(*) FILTER (WHERE status = 'available'),
           count(*) FILTER (WHERE status = 'dead')
    FROM rescued GROUP BY queue ORDER BY queue
    ON CONFLICT (minute, queue, shard)
    DO UPDATE SET failed = s.failed + excluded.failed, dead = s.dead + excluded.dead
),
notified AS (
    SELECT pg_notify($6, r.queue)
    FROM (SELECT DISTINCT queue FROM rescued WHERE status = 'available') AS r
)
SELECT count(*) FILTER (WHERE status = 'available') AS requeued,
       count(*) FILTER (WHERE status = 'dead') AS dead,
       (SELECT count(*) FROM notified) AS notified
FROM rescued;


-- name: next_run_at
-- The earliest run_at among waiting jobs of the given queues: one short index
-- walk per queue (an ANY(...) over the whole index could not stop early).
SELECT min(next.run_at)
FROM unnest($1::text[]) AS q(name)
CROSS JOIN LATERAL (
    SELECT run_at FROM {schema}.jobs
    WHERE status = 'available' AND queue = q.name
    ORDER BY run_at
    LIMIT 1
) AS next;

-- name: get
SELECT id, seq, name, queue, payload, status, priority, attempt, max_retries, run_at,
       enqueued_at, timeout, started_at, finished_at, lease_expires_at, worker_id, errors
FROM {schema}.jobs
WHERE id = $1::uuid;


-- name: list
-- $1 queue or NULL, $2 stored status or NULL, $3 due filter (NULL: any,
-- true: run_at <= now, false: run_at > now), $4 now, $5 limit, $6 offset.
-- "scheduled" is asked for as (available, due = false), "available" as
-- (available, due = true).
SELECT id, seq, name, queue, payload, status, priority, attempt, max_retries, run_at,
       enqueued_at, timeout, started_at, finished_at, lease_expires_at, worker_id, errors
FROM {schema}.jobs
WHERE ($1::text IS NULL OR queue = $1)
  AND ($2::text IS NULL OR status = $2)
  AND ($3::boolean IS NULL OR (run_at <= $4) = $3)
ORDER BY seq DESC
LIMIT $5 OFFSET $6;


-- name: queue_depths
-- $1 now. Waiting jobs whose run_at is still ahead are reported as scheduled.
SELECT queue,
       CASE WHEN status = 'available' AND run_at > $1 THEN 'scheduled' ELSE status END AS status,
       count(*) AS jobs
FROM {schema}.jobs
GROUP BY 1, 2;


-- name: cancel
-- $1 id, $2 now. Only a job that has not started.
UPDATE {schema}.jobs
SET status = 'cancelled', finished_at = $2, lease_expires_at = NULL
WHERE id = $1::uuid AND status = 'available'
RETURNING id;


-- name: requeue
-- $1 id, $2 now, $3 NOTIFY channel. Dead or cancelled back to available,
-- with a fresh retry budget; the error history is kept.
WITH requeued AS (
    UPDATE {schema}.jobs
    SET status = 'available', attempt = 0, run_at = $2, finished_at = NULL,
        lease_expires_at = NULL
    WHERE id = $1::uuid AND status IN ('dead', 'cancelled')
    RETURNING queue
),
notified AS (
    SELECT pg_notify($3, queue) FROM requeued
)
SELECT (SELECT count(*) FROM requeued) AS updated, (SELECT count(*) FROM notified) AS notified;


-- name: delete
DELETE FROM {schema}.jobs WHERE id = $1::uuid AND status <> 'running' RETURNING id;


-- name: prune
-- $1 cutoff, $2 batch size. Called until it deletes fewer than $2 rows:
-- small batches keep each transaction (and its locks and WAL) short, and
-- SKIP LOCKED lets every worker prune at once without waiting on another.
WITH doomed AS (
    SELECT id FROM {schema}.jobs
    WHERE status IN ('completed', 'dead', 'cancelled') AND finished_at < $1
    LIMIT $2
    FOR UPDATE SKIP LOCKED
)
DELETE FROM {schema}.jobs AS j USING doomed WHERE j.id = doomed.id;


-- name: prune_stats
-- $1 cutoff. Counter buckets older than the job retention go too.
DELETE FROM {schema}.stats WHERE minute < $1;


-- name: prune_workers
-- $1 cutoff. Registrations that expired long ago (workers that crashed).
DELETE FROM {schema}.workers WHERE expires_at < $1;


-- name: register_worker
-- $1 id, $2 host, $3 pid, $4 queues, $5 concurrency, $6 started_at,
-- $7 last_seen, $8 expires_at, $9 running, $10 processed, $11 failed.
INSERT INTO {schema}.workers AS w
    (id, host, pid, queues, concurrency, started_at, last_seen, expires_at,
     running, processed, failed)
VALUES ($1, $2, $3, $4::text[], $5, $6, $7, $8, $9, $10, $11)
ON CONFLICT (id) DO UPDATE SET
    host = excluded.host, pid = excluded.pid, queues = excluded.queues,
    concurrency = excluded.concurrency, started_at = excluded.started_at,
    last_seen = excluded.last_seen, expires_at = excluded.expires_at,
    running = excluded.running, processed = excluded.processed, failed = excluded.failed;


-- name: unregister_worker
DELETE FROM {schema}.workers WHERE id = $1;


-- name: workers
-- $1 now.
SELECT id, host, pid, queues, concurrency, started_at, last_seen, running, processed, failed
FROM {schema}.workers
WHERE expires_at >= $1
ORDER BY started_at, id;


-- name: stats
-- $1 since. Buckets whose minute ends after $1, shards summed.
SELECT minute, queue, sum(completed) AS completed, sum(failed) AS failed, sum(dead) AS dead
FROM {schema}.stats
WHERE minute > $1::timestamptz - interval '60 seconds'
GROUP BY minute, queue
ORDER BY minute, queue;


-- name: migrations_lock
-- $1 lock name. Held until the migrating transaction ends, so workers that
-- start together apply each migration once, one after the other.
SELECT pg_advisory_xact_lock(hashtextextended($1, 0));


-- name: create_schema
CREATE SCHEMA IF NOT EXISTS {schema};


-- name: create_migrations_table
CREATE TABLE IF NOT EXISTS {schema}.migrations (
    version    integer PRIMARY KEY,
    name       text NOT NULL,
    applied_at timestamptz NOT NULL DEFAULT now()
);


-- name: applied_migrations
SELECT version FROM {schema}.migrations ORDER BY version;


-- name: record_migration
INSERT INTO {schema}.migrations (version, name) VALUES ($1, $2);
