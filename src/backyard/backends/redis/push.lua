-- Store jobs as waiting, all or none.
-- ARGV: prefix, now, guard, jobs: a JSON array with one array of 8 strings
-- per job: id, name, queue, payload, priority, max_retries, run_at, timeout
-- ('' = none). One JSON argument instead of 8 per job: redis-py packs each
-- argument in Python, which cost four times the decoding here.
-- guard: '' or a key that push_check.lua sets when a multi-chunk push_many
-- must not go ahead (the chunks run in one MULTI, so they see the same guard).
-- Returns {'ok'} or {'duplicate', id}.
local guard = ARGV[3]
if guard ~= '' and redis.call('exists', guard) == 1 then return {'duplicate', redis.call('get', guard)} end

local jobs = cjson.decode(ARGV[4])
local count = #jobs

-- An id that is already stored with the same name and payload is a push
-- retried after its reply was lost (the connection dropped): skip it. Any
-- other reuse of an id is an error, and nothing is written.
local skip = {}
-- With a guard, push_check.lua has checked every id in the same MULTI.
for i = 1, guard == '' and count or 0 do
  local job = jobs[i]
  local key = job_key(job[1])
  if redis.call('exists', key) == 1 then
    local stored = redis.call('hmget', key, 'name', 'payload')
    if stored[1] ~= job[2] or stored[2] ~= job[4] then return {'duplicate', job[1]} end
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
  list[#list + 1] = score
  list[#list + 1] = member
  if #list >= 2 * BATCH then
    redis.call('zadd', key, unpack(list))
    pending[key] = {}
  end
end

local last_seq = redis.call('incrby', prefix .. 'seq', count)
local queues = {}
local run_at_parts = {} -- a batch mostly shares one run_at: format it once
for i = 1, count do
  if not skip[i] then
    local id, name, queue, payload, priority, max_retries, run_at, timeout = unpack(jobs[i])
    local seq = int_str(last_seq - count + i)
    local key = job_key(id)
    if timeout == '' then
      redis.call('hset', key, 'name', name, 'queue', queue, 'payload', payload, 'status', 'available',
        'priority', priority, 'attempt', '0', 'max_retries', max_retries, 'run_at', run_at,
        'enqueued_at', now_s, 'seq', seq)
    else
      redis.call('hset', key, 'name', name, 'queue', queue, 'payload', payload, 'status', 'available',
        'priority', priority, 'attempt', '0', 'max_retries', max_retries, 'run_at', run_at,
        'enqueued_at', now_s, 'seq', seq, 'timeout', timeout)
    end
    -- A lone due job with nothing due ahead of it may go straight to an
    -- idle worker (bulk pushes go through the ready set, in order).
    local handed = count == 1 and tonumber(run_at) <= now and nothing_due(queue)
      and hand_off(id, queue)
    if handed then
      -- claimed already
    elseif tonumber(run_at) <= now then
      local part = run_at_parts[run_at]
      if not part then part = run_at_part(run_at); run_at_parts[run_at] = part end
      add_later(ready_key(queue), int_str(-tonumber(priority)), part .. string.format('%016d', last_seq - count + i) .. id)
    else
      add_later(scheduled_key(queue), run_at, id)
    end
    if not handed then
      add_later(status_key('available', queue), seq, id)
      queues[queue] = true
    else
      redis.call('sadd', queues_key, queue)
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
