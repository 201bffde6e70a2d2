-- Store jobs as waiting, all or none.
-- ARGV: prefix, now, guard, specs, jobs.
-- specs: a JSON array of what jobs share, one array of 6 strings per
-- distinct combination: name, queue, priority, max_retries, run_at, timeout
-- ('' = none). A bulk push of one job type has a single spec, so the
-- per-job work below (and the JSON both sides handle) shrinks to an id and
-- a payload: the spec's keys, ready-set score and hash fields are worked
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

local keys = {}
for i = 1, count do keys[i] = job_key(jobs[3 * i - 1]) end

-- An id that is already stored with the same name and payload is a push
-- retried after its reply was lost (the connection dropped): skip it. Any
-- other reuse of an id is an error, and nothing is written. One EXISTS per
-- CHECK ids finds that none is stored (the usual case) for a fraction of
-- an EXISTS per id. With a guard, push_check.lua has checked every id in
-- the same MULTI.
local CHECK = 1000
local skip = {}
for from = 1, guard == '' and count or 0, CHECK do
  local to = math.min(count, from + CHECK - 1)
  if redis.call('exists', unpack(keys, from, to)) > 0 then
    for i = from, to do
      if redis.call('exists', keys[i]) == 1 then
        local stored = redis.call('hmget', keys[i], 'name', 'payload')
        if stored[1] ~= specs[jobs[3 * i - 2]][1] or stored[2] ~= jobs[3 * i] then
          return {'duplicate', jobs[3 * i - 1]}
        end
        skip[i] = true
      end
    end
  end
end

-- Index entries are gathered per sorted set and written with one ZADD per
-- BATCH entries (far cheaper than a ZADD per job); BATCH pairs stay under
-- Lua's limit on unpack()ed arguments.
local BATCH = 2000
local pending = {}
local function pending_for(key)
  local entries = pending[key]
  if not entries then entries = {key = key, list = {}}; pending[key] = entries end
  return entries
end
local function add(entries, score, member)
  local list = entries.list
  local n = #list
  list[n + 1] = score
  list[n + 2] = member
  if n + 2 >= 2 * BATCH then
    redis.call('zadd', entries.key, unpack(list))
    entries.list = {}
  end
end

-- What the hash of a job needs beyond its own fields. Fields at their
-- defaults are left out (every reader defaults them): priority 0,
-- run_at = enqueued_at, no timeout; attempt, 0 until claimed, is never
-- written here. Fewer fields make a cheaper HSET.
for _, spec in ipairs(specs) do
  local queue, priority, run_at = spec[2], spec[3], spec[5]
  spec.due = tonumber(run_at) <= now
  if spec.due then
    spec.waiting = pending_for(ready_key(queue))
    spec.score = int_str(-tonumber(priority)) -- higher priority first
    spec.run_at_part = run_at_part(run_at)
  else
    spec.waiting = pending_for(scheduled_key(queue))
  end
  spec.available = pending_for(status_key('available', queue))
  local fields = {}
  if priority ~= '0' then fields[#fields + 1] = 'priority'; fields[#fields + 1] = priority end
  if run_at ~= now_s then fields[#fields + 1] = 'run_at'; fields[#fields + 1] = run_at end
  if spec[6] ~= '' then fields[#fields + 1] = 'timeout'; fields[#fields + 1] = spec[6] end
  spec.fields = fields
end

local ZEROS = '0000000000000000'
local first_seq = redis.call('incrby', prefix .. 'seq', count) - count
local queues = {}
for i = 1, count do
  if not skip[i] then
    local spec, id = specs[jobs[3 * i - 2]], jobs[3 * i - 1]
    local queue = spec[2]
    local seq = int_str(first_seq + i)
    redis.call('hset', keys[i], 'name', spec[1], 'queue', queue, 'payload', jobs[3 * i],
      'status', 'available', 'max_retries', spec[4], 'enqueued_at', now_s, 'seq', seq,
      unpack(spec.fields))
    -- A lone due job with nothing due ahead of it may go straight to an
    -- idle worker (bulk pushes go through the ready set, in order).
    if count == 1 and spec.due and nothing_due(queue) and hand_off(id, queue) then
      redis.call('sadd', queues_key, queue) -- claimed already
    else
      if spec.due then
        -- ready_member(run_at, seq, id), with the run_at part made once
        add(spec.waiting, spec.score, spec.run_at_part .. string.sub(ZEROS, #seq + 1) .. seq .. id)
      else
        add(spec.waiting, spec[5], id)
      end
      add(spec.available, seq, id)
      queues[queue] = true
    end
  end
end
for key, entries in pairs(pending) do
  if #entries.list > 0 then redis.call('zadd', key, unpack(entries.list)) end
end
for queue in pairs(queues) do
  redis.call('sadd', queues_key, queue)
  signal(queue)
end
return {'ok'}
