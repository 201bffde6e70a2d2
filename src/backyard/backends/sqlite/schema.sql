-- The SQLite schema, as numbered migrations. PRAGMA user_version records the
-- last one applied; each runs once, in order, inside one transaction.

-- name: 1
CREATE TABLE backyard_jobs (
    seq              INTEGER PRIMARY KEY AUTOINCREMENT,  -- enqueue order
    id               TEXT NOT NULL UNIQUE,
    name             TEXT NOT NULL,
    queue            TEXT NOT NULL,
    payload          TEXT NOT NULL,
    -- stored statuses; "scheduled" is available with run_at in the future
    status           TEXT NOT NULL CHECK (status IN ('available', 'running', 'completed', 'dead', 'cancelled')),
    priority         INTEGER NOT NULL DEFAULT 0,
    attempt          INTEGER NOT NULL DEFAULT 0,
    max_retries      INTEGER NOT NULL,
    run_at           REAL NOT NULL,     -- seconds since the epoch, UTC
    enqueued_at      REAL NOT NULL,
    timeout          REAL,
    started_at       REAL,
    finished_at      REAL,
    lease_expires_at REAL,
    worker_id        TEXT,
    errors           TEXT NOT NULL DEFAULT '[]'  -- JSON list of JobError
);

-- Claims walk this index in claim order; finished rows are not in it, so a
-- table full of completed jobs costs claims nothing.
CREATE INDEX backyard_jobs_claim
    ON backyard_jobs (queue, priority DESC, run_at, seq)
    WHERE status = 'available';

CREATE INDEX backyard_jobs_next_run
    ON backyard_jobs (queue, run_at)
    WHERE status = 'available';

CREATE INDEX backyard_jobs_leases
    ON backyard_jobs (lease_expires_at)
    WHERE status = 'running';

CREATE INDEX backyard_jobs_finished
    ON backyard_jobs (finished_at)
    WHERE status IN ('completed', 'dead', 'cancelled');

CREATE INDEX backyard_jobs_queue_status ON backyard_jobs (queue, status, seq);
CREATE INDEX backyard_jobs_status ON backyard_jobs (status, seq);

CREATE TABLE backyard_stats (
    minute    INTEGER NOT NULL,  -- start of the minute, seconds since the epoch
    queue     TEXT NOT NULL,
    completed INTEGER NOT NULL DEFAULT 0,
    failed    INTEGER NOT NULL DEFAULT 0,
    dead      INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (minute, queue)
) WITHOUT ROWID;

CREATE TABLE backyard_workers (
    id         TEXT PRIMARY KEY,
    info       TEXT NOT NULL,  -- JSON of WorkerInfo
    expires_at REAL NOT NULL
) WITHOUT ROWID;
