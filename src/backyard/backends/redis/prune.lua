-- Delete finished jobs: those that finished before `before`, and those past
-- their retention (completed_ttl / dead_ttl / cancelled_ttl seconds, 0 = no
-- limit). Forgets queues left with no jobs at all.
-- ARGV: prefix, now, before, completed_ttl, dead_ttl, cancelled_ttl, limit
-- Returns how many jobs were deleted; at most `limit` per queue and status,
-- so callers repeat until it returns 0.
local before, limit = ARGV[3], tonumber(ARGV[7])
local ttls = {completed = ARGV[4], dead = ARGV[5], cancelled = ARGV[6]}
local deleted = 0
for _, queue in ipairs(redis.call('smembers', queues_key)) do
  for status, ttl in pairs(ttls) do
    if before ~= '' then
      deleted = deleted + forget_finished(queue, status, before, limit)
    end
    deleted = deleted + sweep(queue, status, ttl, limit)
  end
  local left = 0
  for _, status in ipairs({'available', 'running', 'completed', 'dead', 'cancelled'}) do
    left = left + redis.call('zcard', status_key(status, queue))
  end
  if left == 0 then redis.call('srem', queues_key, queue) end
end
return deleted
