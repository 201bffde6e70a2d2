-- Mark claimed jobs completed. A job counts only while it is running under
-- the same attempt: a worker whose lease expired, and whose job was rescued
-- and claimed again, must not complete the new attempt.
-- ARGV: prefix, now, completed_ttl, stats_ttl, sweep_limit, then pairs of (id, attempt).
-- Returns how many jobs were completed.
local ttl, stats_ttl, sweep_limit = ARGV[3], ARGV[4], tonumber(ARGV[5])
local done, per_queue = 0, {}
for i = 6, #ARGV, 2 do
  local id = ARGV[i]
  local f = redis.call('hmget', job_key(id), 'status', 'attempt', 'queue', 'seq')
  if f[1] == 'running' and f[2] == ARGV[i + 1] then
    finish(id, f[3], f[4], 'running', 'completed', ttl)
    redis.call('zrem', leases_key, id)
    per_queue[f[3]] = (per_queue[f[3]] or 0) + 1
    done = done + 1
  end
end
for queue, n in pairs(per_queue) do
  count(queue, 'completed', n, stats_ttl)
  -- Retention, paid as we go: each ack forgets about as many expired
  -- completed jobs as it completes, so the indexes stay bounded even when
  -- no worker prunes.
  sweep(queue, 'completed', ttl, n + sweep_limit)
end
return done
