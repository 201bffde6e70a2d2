-- Store jobs as waiting, all or none.
-- ARGV: prefix, now, guard, specs, jobs.
-- specs: a JSON array of what jobs share, one array of 6 strings per
-- distinct combination: name, queue, priority, max_retries, run_at, timeout
-- ('' = none). A bulk push of one job type has a single spec, so the
-- per-job work below (and the JSON both sides handle) shrinks to an id and
-- a payload: the spec's keys, ready-set score and run_at prefix are worked
-- out once.
-- jobs: a flat JSON array, three entries per job: spec number (1-based),
-- id, payload. JSON instead of one argument per value: redis-py encodes
-- each argument in Python, which costs more than decoding here.
-- guard: '' or a key that push_check.lua sets when a multi-chunk push_many
-- must not go ahead (the chunks run in one MULTI, so they see the same guard).
-- Returns {'ok'} or {'duplicate', id}.
local guard = ARGV[3]
if guard ~= '' and redis.call('exists', guard) == 1 then return {'duplicate', redis.call('get', guard)} end

local specs = cjson.decode(ARGV[4])
local jobs = cjson.decode(ARGV[5])
local count = #jobs / 3

-- An id that is already stored with the same name and payload is a push
-- retried after its reply was lost (the connection dropped): skip it. Any
-- other reuse of an id is an error, and nothing is written.
local skip = {}
-- With a guard, push_check.lua has checked every id in the same MULTI.
for i = 1, guard == '' and count or 0 do
  local id = jobs[3 * i - 1]
  local key = job_key(id)
  if redis.call('exists', key) == 1 then
    local stored = redis.call('hmget', key, 'name', 'payload')
    if stored[1] ~= specs[jobs[3 * i - 2]][1] or stored[2] ~= jobs[3 * i] then
      return {'duplicate', id}
    end
    skip[i] = true
  end
end

-- Index entries are gathered and written with one ZADD per set and batch
-- (far cheaper than a ZADD per job); BATCH pairs stay under Lua's limit on
-- unpack()ed arguments.
local BATCH = 2000
local pending = {}
local function add_later(key, score, member)
  local list = pending[key]
  if not list then list = {}; pending[key] = list end
  local n = #list
  list[n + 1] = score
  list[n + 2] = member
  if n + 2 >= 2 * BATCH then
    redis.call('zadd', key, unpack(list))
    pending[key] = {}
  end
end

for _, spec in ipairs(specs) do
  local queue, run_at = spec[2], spec[5]
  spec.due = tonumber(run_at) <= now
  spec.score = int_str(-tonumber(spec[3])) -- ready set: higher priority first
  spec.part = spec.due and run_at_part(run_at)
  spec.ready = ready_key(queue)
  spec.scheduled = scheduled_key(queue)
  spec.available = status_key('available', queue)
end

local first_seq = redis.call('incrby', prefix .. 'seq', count) - count
local queues = {}
for i = 1, count do
  if not skip[i] then
    local spec, id, payload = specs[jobs[3 * i - 2]], jobs[3 * i - 1], jobs[3 * i]
    local queue = spec[2]
    local seq = int_str(first_seq + i)
    local key = job_key(id)
    if spec[6] == '' then
      redis.call('hset', key, 'name', spec[1], 'queue', queue, 'payload', payload,
        'status', 'available', 'priority', spec[3], 'attempt', '0', 'max_retries', spec[4],
        'run_at', spec[5], 'enqueued_at', now_s, 'seq', seq)
    else
      redis.call('hset', key, 'name', spec[1], 'queue', queue, 'payload', payload,
        'status', 'available', 'priority', spec[3], 'attempt', '0', 'max_retries', spec[4],
        'run_at', spec[5], 'enqueued_at', now_s, 'seq', seq, 'timeout', spec[6])
    end
    -- A lone due job with nothing due ahead of it may go straight to an
    -- idle worker (bulk pushes go through the ready set, in order).
    if count == 1 and spec.due and nothing_due(queue) and hand_off(id, queue) then
      redis.call('sadd', queues_key, queue) -- claimed already
    else
      if spec.due then
        add_later(spec.ready, spec.score, spec.part .. string.format('%016d', first_seq + i) .. id)
      else
        add_later(spec.scheduled, spec[5], id)
      end
      add_later(spec.available, seq, id)
      queues[queue] = true
    end
  end
end
for key, list in pairs(pending) do
  if #list > 0 then redis.call('zadd', key, unpack(list)) end
end
for queue in pairs(queues) do
  redis.call('sadd', queues_key, queue)
  signal(queue)
end
return {'ok'}
