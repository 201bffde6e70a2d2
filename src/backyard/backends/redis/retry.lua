-- Put a running job back to wait until run_at, recording the error.
-- ARGV: prefix, now, id, attempt, run_at, error_json, stats_ttl
-- Returns 1 if the job was updated, 0 if it is no longer ours.
local id, attempt, run_at, error_json, stats_ttl = ARGV[3], ARGV[4], ARGV[5], ARGV[6], ARGV[7]
local key = job_key(id)
local f = redis.call('hmget', key, 'status', 'attempt', 'queue', 'seq', 'priority', 'errors')
if f[1] ~= 'running' or f[2] ~= attempt then return 0 end
local errors = f[6] and (string.sub(f[6], 1, -2) .. ',' .. error_json .. ']') or ('[' .. error_json .. ']')
redis.call('hset', key, 'status', 'available', 'run_at', run_at, 'errors', errors)
redis.call('hdel', key, 'lease_expires_at')
redis.call('zrem', leases_key, id)
move(id, f[3], f[4], 'running', 'available')
add_waiting(id, f[3], f[5], run_at, f[4])
-- Signal even when the retry is scheduled: idle workers then recompute how
-- long they may sleep before the earliest scheduled job comes due.
signal(f[3])
count(f[3], 'failed', 1, stats_ttl)
return 1
