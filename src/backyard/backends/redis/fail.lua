-- Move a running job to dead, recording the error. Same attempt check as ack.
-- ARGV: prefix, now, id, attempt, error_json, dead_ttl, stats_ttl, sweep_limit
-- Returns 1 if the job went to dead, 0 if it is no longer ours.
local id, attempt, error_json, ttl, stats_ttl = ARGV[3], ARGV[4], ARGV[5], ARGV[6], ARGV[7]
local key = job_key(id)
local f = redis.call('hmget', key, 'status', 'attempt', 'queue', 'seq', 'errors')
if f[1] ~= 'running' or f[2] ~= attempt then return 0 end
local errors = f[5] and (string.sub(f[5], 1, -2) .. ',' .. error_json .. ']') or ('[' .. error_json .. ']')
redis.call('hset', key, 'errors', errors)
finish(id, f[3], f[4], 'running', 'dead', ttl)
redis.call('zrem', leases_key, id)
count(f[3], 'dead', 1, stats_ttl)
sweep(f[3], 'dead', ttl, tonumber(ARGV[8]))
return 1
