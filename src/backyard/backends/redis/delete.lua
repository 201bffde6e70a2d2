-- Remove a job that is not running.
-- ARGV: prefix, now, id. Returns 1 if deleted.
local id = ARGV[3]
local key = job_key(id)
local f = redis.call('hmget', key, 'status', 'queue', 'seq', 'run_at', 'enqueued_at')
if not f[1] or f[1] == 'running' then return 0 end
local status, queue = f[1], f[2]
if status == 'available' then
  remove_waiting(id, queue, f[4] or f[5], f[3])
else
  redis.call('zrem', finished_key(status, queue), id)
end
move(id, queue, f[3], status, nil)
redis.call('del', key)
return 1
