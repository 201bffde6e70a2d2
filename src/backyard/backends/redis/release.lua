-- Give running jobs back unrun (graceful shutdown): waiting and due now,
-- with the attempt undone. Same attempt check as ack.
-- ARGV: prefix, now, then pairs of (id, attempt). Returns how many were released.
local released, queues = 0, {}
for i = 3, #ARGV, 2 do
  local id = ARGV[i]
  local key = job_key(id)
  local f = redis.call('hmget', key, 'status', 'attempt', 'queue', 'seq', 'priority')
  if f[1] == 'running' and f[2] == ARGV[i + 1] then
    redis.call('hset', key, 'status', 'available', 'attempt', int_str(tonumber(f[2]) - 1), 'run_at', now_s)
    redis.call('hdel', key, 'lease_expires_at')
    redis.call('zrem', leases_key, id)
    move(id, f[3], f[4], 'running', 'available')
    add_waiting(id, f[3], f[5], now_s, f[4])
    queues[f[3]] = true
    released = released + 1
  end
end
for queue in pairs(queues) do signal(queue) end
return released
