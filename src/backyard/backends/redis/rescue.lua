-- Running jobs whose lease expired (their worker died or lost Redis): back
-- to waiting if retries are left, else to dead. Atomic per call, so many
-- workers may rescue at once and each job is handled exactly once.
-- ARGV: prefix, now, limit, error_template, dead_ttl, stats_ttl
-- error_template is the message with '{worker}' where the worker id goes.
-- Returns {requeued, dead, examined}.
local limit, template, dead_ttl, stats_ttl = tonumber(ARGV[3]), ARGV[4], ARGV[5], ARGV[6]
local expired = redis.call('zrangebyscore', leases_key, '-inf', '(' .. now_s, 'limit', 0, limit)
local requeued, dead = 0, 0
local per_queue_failed, per_queue_dead = {}, {}
for _, id in ipairs(expired) do
  local key = job_key(id)
  local f = redis.call('hmget', key, 'status', 'attempt', 'max_retries', 'queue', 'seq', 'priority',
    'worker_id', 'errors')
  redis.call('zrem', leases_key, id)
  if f[1] == 'running' then
    local queue, seq = f[4], f[5]
    local worker = f[7] or 'None'
    local message = string.gsub(template, '{worker}', function() return worker end)
    local error_json = '{"attempt":' .. f[2] .. ',"at":' .. now_s .. ',"message":' ..
      cjson.encode(message) .. ',"traceback":null}'
    local errors = f[8] and (string.sub(f[8], 1, -2) .. ',' .. error_json .. ']') or ('[' .. error_json .. ']')
    redis.call('hset', key, 'errors', errors)
    if tonumber(f[2]) > tonumber(f[3]) then
      finish(id, queue, seq, 'running', 'dead', dead_ttl)
      per_queue_dead[queue] = (per_queue_dead[queue] or 0) + 1
      dead = dead + 1
    else
      redis.call('hset', key, 'status', 'available', 'run_at', now_s)
      redis.call('hdel', key, 'lease_expires_at')
      move(id, queue, seq, 'running', 'available')
      add_waiting(id, queue, f[6], now_s, seq)
      signal(queue)
      per_queue_failed[queue] = (per_queue_failed[queue] or 0) + 1
      requeued = requeued + 1
    end
  end
end
for queue, n in pairs(per_queue_failed) do count(queue, 'failed', n, stats_ttl) end
for queue, n in pairs(per_queue_dead) do count(queue, 'dead', n, stats_ttl) end
return {requeued, dead, #expired}
