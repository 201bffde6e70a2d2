-- Mark claimed jobs completed. A job counts only while it is running under
-- the same attempt: a worker whose lease expired, and whose job was rescued
-- and claimed again, must not complete the new attempt.
-- ARGV: prefix, now, completed_ttl, stats_ttl, sweep_limit, jobs: a JSON
-- array of [id, attempt] pairs (one argument: redis-py encodes each argument
-- in Python, and acks are the hottest call there is).
-- Returns how many jobs were completed.
local ttl, stats_ttl, sweep_limit = ARGV[3], ARGV[4], tonumber(ARGV[5])
local done, per_queue = 0, {}
for _, pair in ipairs(cjson.decode(ARGV[6])) do
  local id = pair[1]
  local f = redis.call('hmget', job_key(id), 'status', 'attempt', 'queue', 'seq')
  if f[1] == 'running' and tonumber(f[2]) == pair[2] then
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
