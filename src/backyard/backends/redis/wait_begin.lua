-- An idle worker is about to block: unless work is already due in its
-- queues, register a waiter token that push.lua may hand a job to.
-- ARGV: prefix, now, token, worker_id, lease_seconds, capacity, ttl_ms, queues...
-- Returns 1 if registered (the caller then blocks on its handed list), 0 if work is due.
local token = ARGV[3]
for i = 8, #ARGV do
  if not nothing_due(ARGV[i]) then return 0 end
end
-- The token outlives the wait only by a margin: a worker that died while
-- waiting stops being handed jobs once it expires.
redis.call('hset', waiter_key(token), 'worker_id', ARGV[4], 'lease', ARGV[5], 'capacity', ARGV[6])
redis.call('pexpire', waiter_key(token), ARGV[7])
for i = 8, #ARGV do redis.call('rpush', waiters_key(ARGV[i]), token) end
return 1
