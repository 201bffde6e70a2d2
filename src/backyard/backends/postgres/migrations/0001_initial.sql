-- The jobs table, the per-minute outcome counters and the worker registry.
--
-- {schema} stands for the configured schema (default "backyard"); the
-- migration runner and `backyard migrate --sql` put the quoted name in.

CREATE TABLE {schema}.jobs (
    id               uuid PRIMARY KEY,
    -- Enqueue order: the last tie-breaker of the claim order, and the
    -- "newest first" order of listings.
    seq              bigint GENERATED ALWAYS AS IDENTITY,
    name             text NOT NULL,
    queue            text NOT NULL,
    -- Text, not jsonb: the payload is stored byte for byte as the client
    -- encoded it, and a payload that is not valid JSON must still be
    -- storable so the worker can send it to dead with a readable error.
    payload          text NOT NULL,
    -- "scheduled" is never stored: it is an available job whose run_at is
    -- still in the future, and is reported as such when read.
    status           text NOT NULL DEFAULT 'available'
                     CHECK (status IN ('available', 'running', 'completed', 'dead', 'cancelled')),
    priority         integer NOT NULL DEFAULT 0,
    attempt          integer NOT NULL DEFAULT 0,
    max_retries      integer NOT NULL,
    run_at           timestamptz NOT NULL,
    enqueued_at      timestamptz NOT NULL,
    timeout          double precision,
    started_at       timestamptz,
    finished_at      timestamptz,
    lease_expires_at timestamptz,
    worker_id        text,
    -- One JSON object per failed attempt: {attempt, at (epoch seconds), message, traceback}.
    errors           jsonb NOT NULL DEFAULT '[]'
) WITH (
    -- Every job is updated twice after its insert (claim, then ack), and
    -- finished rows pile up: vacuum after 2% dead rows instead of 20% so
    -- the claim index does not fill up with dead entries.
    autovacuum_vacuum_scale_factor = 0.02,
    autovacuum_analyze_scale_factor = 0.02
);

-- The claim index. Partial, so it only holds waiting jobs: its size follows
-- the backlog, not the millions of finished rows. Its order is the claim
-- order within one queue, so a claim reads exactly the rows it takes.
CREATE INDEX jobs_claim_idx ON {schema}.jobs (queue, priority DESC, run_at, seq)
    WHERE status = 'available';

-- Rescue looks for running jobs whose lease has expired.
CREATE INDEX jobs_lease_idx ON {schema}.jobs (lease_expires_at)
    WHERE status = 'running';

-- Prune deletes finished jobs by age.
CREATE INDEX jobs_finished_idx ON {schema}.jobs (finished_at)
    WHERE status IN ('completed', 'dead', 'cancelled');

-- Listings, newest first: all jobs, or one queue's.
CREATE UNIQUE INDEX jobs_seq_idx ON {schema}.jobs (seq);
CREATE INDEX jobs_queue_seq_idx ON {schema}.jobs (queue, seq);

-- Dead jobs are few among many finished ones; the dashboard lists them often.
CREATE INDEX jobs_dead_idx ON {schema}.jobs (seq)
    WHERE status = 'dead';

-- Outcome counters per minute and queue. Writers spread over a few shards
-- (picked at random per write) so workers acking at the same moment do not
-- queue up behind one hot row; readers sum the shards.
CREATE TABLE {schema}.stats (
    minute    timestamptz NOT NULL,
    queue     text NOT NULL,
    shard     smallint NOT NULL,
    completed bigint NOT NULL DEFAULT 0,
    failed    bigint NOT NULL DEFAULT 0,
    dead      bigint NOT NULL DEFAULT 0,
    PRIMARY KEY (minute, queue, shard)
);

-- Live workers, for the dashboard and `backyard workers`. A row counts while
-- expires_at (last refresh + ttl) is in the future.
CREATE TABLE {schema}.workers (
    id          text PRIMARY KEY,
    host        text NOT NULL,
    pid         integer NOT NULL,
    queues      text[] NOT NULL,
    concurrency integer NOT NULL,
    started_at  timestamptz NOT NULL,
    last_seen   timestamptz NOT NULL,
    expires_at  timestamptz NOT NULL,
    running     integer NOT NULL DEFAULT 0,
    processed   bigint NOT NULL DEFAULT 0,
    failed      bigint NOT NULL DEFAULT 0
);
