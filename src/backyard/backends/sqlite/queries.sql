-- Queries of the SQLite backend. Parameters are named (:name); lists of ids
-- travel as one JSON array and are unpacked with json_each, so every query
-- text is fixed.

-- Appending to errors must work even if the column was damaged: a write
-- that failed here would be retried by the worker forever. A damaged history
-- is kept as the traceback of a note saying so.
-- (The same expression appears in retry, fail, rescue_requeue, rescue_dead.)

-- name: insert
INSERT INTO backyard_jobs
    (id, name, queue, payload, status, priority, max_retries, run_at, enqueued_at, timeout)
VALUES
    (:id, :name, :queue, :payload, 'available', :priority, :max_retries, :run_at, :now, :timeout);

-- name: claim_candidates
-- INDEXED BY: the planner would otherwise pick the run_at index for the
-- run_at <= :now range and sort every waiting job.
SELECT seq, priority, run_at
FROM backyard_jobs INDEXED BY backyard_jobs_claim
WHERE queue = :queue AND status = 'available' AND run_at <= :now
ORDER BY priority DESC, run_at, seq
LIMIT :limit;

-- name: claim_one_queue
UPDATE backyard_jobs
SET status = 'running', attempt = attempt + 1, worker_id = :worker_id,
    started_at = :now, lease_expires_at = :lease_expires_at
WHERE seq IN (
    SELECT seq FROM backyard_jobs INDEXED BY backyard_jobs_claim
    WHERE queue = :queue AND status = 'available' AND run_at <= :now
    ORDER BY priority DESC, run_at, seq
    LIMIT :limit
)
RETURNING *;

-- name: claim_seqs
UPDATE backyard_jobs
SET status = 'running', attempt = attempt + 1, worker_id = :worker_id,
    started_at = :now, lease_expires_at = :lease_expires_at
WHERE seq IN (SELECT value FROM json_each(:seqs)) AND status = 'available'
RETURNING *;

-- name: ack
-- :held is a JSON array of [id, attempt] pairs.
UPDATE backyard_jobs
SET status = 'completed', finished_at = :now, lease_expires_at = NULL
FROM (SELECT value ->> 0 AS id, value ->> 1 AS attempt FROM json_each(:held)) AS held
WHERE backyard_jobs.id = held.id AND backyard_jobs.attempt = held.attempt
  AND backyard_jobs.status = 'running'
RETURNING backyard_jobs.queue;

-- name: retry
UPDATE backyard_jobs
SET status = 'available', run_at = :run_at, lease_expires_at = NULL,
    errors = json_insert(CASE WHEN json_valid(errors) THEN errors ELSE json_array(json_object('attempt', 0, 'at', 0, 'message', 'damaged error history (kept as text in traceback)', 'traceback', errors)) END, '$[#]', json(:error))
WHERE id = :id AND attempt = :attempt AND status = 'running'
RETURNING queue;

-- name: fail
UPDATE backyard_jobs
SET status = 'dead', finished_at = :now, lease_expires_at = NULL,
    errors = json_insert(CASE WHEN json_valid(errors) THEN errors ELSE json_array(json_object('attempt', 0, 'at', 0, 'message', 'damaged error history (kept as text in traceback)', 'traceback', errors)) END, '$[#]', json(:error))
WHERE id = :id AND attempt = :attempt AND status = 'running'
RETURNING queue;

-- name: release
UPDATE backyard_jobs
SET status = 'available', attempt = backyard_jobs.attempt - 1, run_at = :now,
    lease_expires_at = NULL
FROM (SELECT value ->> 0 AS id, value ->> 1 AS attempt FROM json_each(:held)) AS held
WHERE backyard_jobs.id = held.id AND backyard_jobs.attempt = held.attempt
  AND backyard_jobs.status = 'running';

-- name: heartbeat
UPDATE backyard_jobs
SET lease_expires_at = :lease_expires_at
WHERE id IN (SELECT value FROM json_each(:ids)) AND status = 'running' AND worker_id = :worker_id
RETURNING id;

-- name: expired
SELECT seq, attempt, max_retries, worker_id, queue
FROM backyard_jobs
WHERE status = 'running' AND lease_expires_at < :now;

-- name: rescue_requeue
UPDATE backyard_jobs
SET status = 'available', run_at = :now, lease_expires_at = NULL,
    errors = json_insert(CASE WHEN json_valid(errors) THEN errors ELSE json_array(json_object('attempt', 0, 'at', 0, 'message', 'damaged error history (kept as text in traceback)', 'traceback', errors)) END, '$[#]', json(:error))
WHERE seq = :seq AND status = 'running' AND lease_expires_at < :now;

-- name: rescue_dead
UPDATE backyard_jobs
SET status = 'dead', finished_at = :now, lease_expires_at = NULL,
    errors = json_insert(CASE WHEN json_valid(errors) THEN errors ELSE json_array(json_object('attempt', 0, 'at', 0, 'message', 'damaged error history (kept as text in traceback)', 'traceback', errors)) END, '$[#]', json(:error))
WHERE seq = :seq AND status = 'running' AND lease_expires_at < :now;

-- name: count_outcome
INSERT INTO backyard_stats (minute, queue, completed, failed, dead)
VALUES (:minute, :queue, :completed, :failed, :dead)
ON CONFLICT (minute, queue) DO UPDATE SET
    completed = completed + excluded.completed,
    failed = failed + excluded.failed,
    dead = dead + excluded.dead;

-- name: get
SELECT * FROM backyard_jobs WHERE id = :id;

-- name: list
-- :state is a stored status, or 'scheduled'/'available' told apart by run_at.
SELECT * FROM backyard_jobs
WHERE (:queue IS NULL OR queue = :queue)
  AND (:status IS NULL OR status = :status)
  AND (:due IS NULL OR (:due = 1 AND run_at <= :now) OR (:due = 0 AND run_at > :now))
ORDER BY seq DESC
LIMIT :limit OFFSET :offset;

-- name: depths
SELECT queue,
       CASE WHEN status = 'available' AND run_at > :now THEN 'scheduled' ELSE status END AS state,
       count(*)
FROM backyard_jobs
GROUP BY queue, state;

-- name: next_run_at
SELECT min(run_at) FROM backyard_jobs
WHERE status = 'available' AND queue IN (SELECT value FROM json_each(:queues));

-- name: cancel
UPDATE backyard_jobs
SET status = 'cancelled', finished_at = :now
WHERE id = :id AND status = 'available';

-- name: requeue
UPDATE backyard_jobs
SET status = 'available', attempt = 0, run_at = :now, finished_at = NULL,
    lease_expires_at = NULL
WHERE id = :id AND status IN ('dead', 'cancelled');

-- name: requeue_dead
UPDATE backyard_jobs
SET status = 'available', attempt = 0, run_at = :now, finished_at = NULL,
    lease_expires_at = NULL
WHERE status = 'dead' AND (:queue IS NULL OR queue = :queue);

-- name: delete
DELETE FROM backyard_jobs WHERE id = :id AND status != 'running';

-- name: prune
DELETE FROM backyard_jobs
WHERE status IN ('completed', 'dead', 'cancelled') AND finished_at < :before;

-- name: prune_stats
DELETE FROM backyard_stats WHERE minute < :before;

-- name: register_worker
INSERT INTO backyard_workers (id, info, expires_at) VALUES (:id, :info, :expires_at)
ON CONFLICT (id) DO UPDATE SET info = excluded.info, expires_at = excluded.expires_at;

-- name: unregister_worker
DELETE FROM backyard_workers WHERE id = :id;

-- name: workers
SELECT info FROM backyard_workers WHERE expires_at >= :now;

-- name: forget_workers
DELETE FROM backyard_workers WHERE expires_at < :before;

-- name: stats
SELECT minute, queue, completed, failed, dead FROM backyard_stats
WHERE minute + 60 > :since
ORDER BY minute, queue;
