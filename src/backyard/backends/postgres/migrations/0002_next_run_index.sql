-- An idle worker asks when the next scheduled job of its queues comes due,
-- so it wakes for it instead of at its next poll. Scheduled jobs (available
-- with run_at in the future) are found by queue in run_at order.
CREATE INDEX jobs_next_run_idx ON {schema}.jobs (queue, run_at)
    WHERE status = 'available';
