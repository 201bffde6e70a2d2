-- Store jobs as waiting, all or none.
-- ARGV: prefix, now, guard, count, then per job 8 fields:
--   id, name, queue, payload, priority, max_retries, run_at, timeout ('' = none)
-- guard: '' or a key that push_check.lua sets when a multi-chunk push_many
-- must not go ahead (the chunks run in one MULTI, so they see the same guard).
-- Returns {'ok'} or {'duplicate', id}.
local guard = ARGV[3]
if guard ~= '' and redis.call('exists', guard) == 1 then return {'duplicate', redis.call('get', guard)} end

local count = tonumber(ARGV[4])
local FIELDS = 8
local first = 5

-- An id that is already stored with the same name and payload is a push
-- retried after its reply was lost (the connection dropped): skip it. Any
-- other reuse of an id is an error, and nothing is written.
local skip = {}
for i = 0, count - 1 do
  local at = first + i * FIELDS
  local id = ARGV[at]
  local stored = redis.call('hmget', job_key(id), 'name', 'payload')
  if stored[1] then
    if stored[1] ~= ARGV[at + 1] or stored[2] ~= ARGV[at + 3] then return {'duplicate', id} end
    skip[i] = true
  end
end

local last_seq = redis.call('incrby', prefix .. 'seq', count)
local queues = {}
for i = 0, count - 1 do
  if not skip[i] then
    local at = first + i * FIELDS
    local id, name, queue, payload = ARGV[at], ARGV[at + 1], ARGV[at + 2], ARGV[at + 3]
    local priority, max_retries, run_at, timeout = ARGV[at + 4], ARGV[at + 5], ARGV[at + 6], ARGV[at + 7]
    local seq = int_str(last_seq - count + 1 + i)
    local key = job_key(id)
    redis.call('hset', key, 'name', name, 'queue', queue, 'payload', payload, 'status', 'available',
      'priority', priority, 'attempt', '0', 'max_retries', max_retries, 'run_at', run_at,
      'enqueued_at', now_s, 'seq', seq)
    if timeout ~= '' then redis.call('hset', key, 'timeout', timeout) end
    add_waiting(id, queue, priority, run_at, seq)
    move(id, queue, seq, nil, 'available')
    queues[queue] = true
  end
end
for queue in pairs(queues) do
  redis.call('sadd', queues_key, queue)
  signal(queue)
end
return {'ok'}
