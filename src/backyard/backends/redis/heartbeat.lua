-- Extend the leases of jobs `worker_id` is running.
-- ARGV: prefix, now, worker_id, lease_expires_at, ids...
-- Returns the ids still held (the others were rescued or finished).
local worker_id, lease_at = ARGV[3], ARGV[4]
local held = {}
for i = 5, #ARGV do
  local id = ARGV[i]
  local key = job_key(id)
  local f = redis.call('hmget', key, 'status', 'worker_id')
  if f[1] == 'running' and f[2] == worker_id then
    redis.call('hset', key, 'lease_expires_at', lease_at)
    redis.call('zadd', leases_key, lease_at, id)
    held[#held + 1] = id
  end
end
return held
