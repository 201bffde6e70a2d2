-- Cancel a job that has not started (scheduled or available).
-- ARGV: prefix, now, id, cancelled_ttl. Returns 1 if cancelled.
local id, ttl = ARGV[3], ARGV[4]
local f = redis.call('hmget', job_key(id), 'status', 'queue', 'seq', 'run_at', 'enqueued_at')
if f[1] ~= 'available' then return 0 end
remove_waiting(id, f[2], f[4] or f[5], f[3])
finish(id, f[2], f[3], 'available', 'cancelled', ttl)
return 1
