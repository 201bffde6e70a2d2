-- For each queue: how many jobs in each status, after forgetting finished
-- jobs past their retention (so expired ids are never counted).
-- ARGV: prefix, now, completed_ttl, dead_ttl, cancelled_ttl
-- Returns a flat list: queue, scheduled, available, running, completed, dead, cancelled, ...
local ttls = {completed = ARGV[3], dead = ARGV[4], cancelled = ARGV[5]}
local result = {}
for _, queue in ipairs(redis.call('smembers', queues_key)) do
  for status, ttl in pairs(ttls) do
    while sweep(queue, status, ttl, 1000) == 1000 do end
  end
  local waiting = redis.call('zcard', status_key('available', queue))
  local scheduled = redis.call('zcount', scheduled_key(queue), '(' .. now_s, '+inf')
  result[#result + 1] = queue
  result[#result + 1] = scheduled
  result[#result + 1] = waiting - scheduled
  for _, status in ipairs({'running', 'completed', 'dead', 'cancelled'}) do
    result[#result + 1] = redis.call('zcard', status_key(status, queue))
  end
end
return result
