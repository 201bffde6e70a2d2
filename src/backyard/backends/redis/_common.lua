-- Shared helpers, prepended to every script when it is loaded.
--
-- Every script takes ARGV[1] = the key prefix and ARGV[2] = "now" (epoch
-- seconds from the client's clock, as a string). Timestamps travel as the
-- client's strings and are stored as given: Lua's own number-to-string
-- conversion keeps only 14 significant digits, which would cut 0.1 ms off
-- an epoch timestamp and could round a sequence number. Numbers that must be
-- written back are formatted with string.format('%d').
--
-- Scripts build job keys from ids they read, so backyard needs a standalone
-- Redis (or a single-shard deployment), not Redis Cluster.

local prefix = ARGV[1]
local now_s = ARGV[2]
local now = tonumber(now_s)

local function job_key(id) return prefix .. 'job:' .. id end
local function ready_key(queue) return prefix .. 'ready:' .. queue end
local function scheduled_key(queue) return prefix .. 'scheduled:' .. queue end
local function status_key(status, queue) return prefix .. 'status:' .. status .. ':' .. queue end
local function finished_key(status, queue) return prefix .. 'finished:' .. status .. ':' .. queue end
local function signal_key(queue) return prefix .. 'signal:' .. queue end
local function waiters_key(queue) return prefix .. 'waiters:' .. queue end
local function waiter_key(token) return prefix .. 'waiter:' .. token end
local function handed_key(token) return prefix .. 'handed:' .. token end
local leases_key = prefix .. 'leases'
local queues_key = prefix .. 'queues'

local MAX_EXACT = 9007199254740991 -- 2^53 - 1: doubles are exact integers up to here

local function int_str(n) return string.format('%d', n) end

-- The member of a job in its queue's ready set. The score is -priority, so
-- higher priorities come first; members with equal scores sort bytewise, so
-- a fixed-width run_at (microseconds) and then the enqueue sequence number
-- in front of the id give the contract's order exactly, with no float
-- rounding (a double could not hold priority, run_at and seq in one score).
local function run_at_part(run_at)
  local micros = math.floor(tonumber(run_at) * 1000000 + 0.5)
  if micros < 0 then micros = 0 elseif micros > MAX_EXACT then micros = MAX_EXACT end
  return string.format('%016d', micros)
end

local function ready_member(run_at, seq, id)
  return run_at_part(run_at) .. string.format('%016d', tonumber(seq)) .. id
end

local function id_of_member(member) return string.sub(member, 33) end

-- Wake one idle worker of the queue (it waits with BLPOP on this list). At
-- most one signal is kept: a worker that wakes and finds more work than it
-- can take signals again in claim, so wake-ups chain from worker to worker.
local function signal(queue)
  local key = signal_key(queue)
  if redis.call('llen', key) == 0 then redis.call('rpush', key, '1') end
end

-- A job hash leaves out fields at their defaults (see push.lua): attempt
-- and priority 0, run_at equal to enqueued_at, no timeout. Readers that
-- HMGET them default them here.
local function priority_score(priority) return int_str(-(tonumber(priority) or 0)) end

-- Put a waiting job where claim looks for it: the ready set when due,
-- the scheduled set (score run_at) otherwise; claim promotes it when due.
-- priority may be false (the default, 0).
local function add_waiting(id, queue, priority, run_at, seq)
  if tonumber(run_at) <= now then
    redis.call('zadd', ready_key(queue), priority_score(priority), ready_member(run_at, seq, id))
  else
    redis.call('zadd', scheduled_key(queue), run_at, id)
  end
end

local function remove_waiting(id, queue, run_at, seq)
  redis.call('zrem', ready_key(queue), ready_member(run_at, seq, id))
  redis.call('zrem', scheduled_key(queue), id)
end

-- The per-queue, per-status index (score: enqueue sequence) that list and
-- queue_depths read. "available" holds every waiting job, due or not.
local function move(id, queue, seq, from, to)
  if from then redis.call('zrem', status_key(from, queue), id) end
  if to then redis.call('zadd', status_key(to, queue), seq, id) end
end

-- Per-minute outcome counters for stats(); the bucket expires on its own.
local function count(queue, kind, n, stats_ttl)
  if n == 0 then return end
  local key = prefix .. 'stats:' .. int_str(math.floor(now / 60) * 60)
  redis.call('hincrby', key, kind .. ':' .. queue, n)
  redis.call('expire', key, stats_ttl)
end

-- A job reaches a final status. Redis expires its hash after the retention
-- (ttl seconds, may be fractional; 0 = keep until pruned); sweep removes its
-- index entries.
local function finish(id, queue, seq, from, status, ttl)
  local key = job_key(id)
  redis.call('hset', key, 'status', status, 'finished_at', now_s)
  redis.call('hdel', key, 'lease_expires_at')
  move(id, queue, seq, from, status)
  redis.call('zadd', finished_key(status, queue), now_s, id)
  ttl = tonumber(ttl)
  if ttl > 0 then redis.call('pexpire', key, int_str(math.max(1, math.floor(ttl * 1000)))) end
end

-- Forget up to `limit` jobs of `queue` that reached `status` before `cutoff`.
local function forget_finished(queue, status, cutoff, limit)
  local key = finished_key(status, queue)
  local ids = redis.call('zrangebyscore', key, '-inf', '(' .. cutoff, 'limit', 0, limit)
  if #ids == 0 then return 0 end
  local index = status_key(status, queue)
  for _, id in ipairs(ids) do
    redis.call('del', job_key(id))
    redis.call('zrem', index, id)
  end
  redis.call('zrem', key, unpack(ids))
  return #ids
end

-- Finished jobs whose hash Redis already expired (its clock ahead of the
-- client's): they are the oldest entries, so look at the front only.
local function forget_vanished(queue, status, limit)
  local key = finished_key(status, queue)
  local gone = {}
  for _, id in ipairs(redis.call('zrange', key, 0, limit - 1)) do
    if redis.call('exists', job_key(id)) == 1 then break end
    gone[#gone + 1] = id
  end
  if #gone == 0 then return 0 end
  redis.call('zrem', key, unpack(gone))
  redis.call('zrem', status_key(status, queue), unpack(gone))
  return #gone
end

-- Retention, enforced on the client's clock: Redis drops the job hashes on
-- its own clock (EXPIRE); this drops their ids from the indexes so that list
-- and queue_depths never count them.
local function sweep(queue, status, ttl, limit)
  ttl = tonumber(ttl)
  if ttl <= 0 then return 0 end
  return forget_finished(queue, status, string.format('%.6f', now - ttl), limit)
    + forget_vanished(queue, status, limit)
end

-- Mark a waiting job (already out of the ready set) running for worker_id.
-- Returns the claim row {id, name, queue, payload, priority, attempt,
-- max_retries, run_at, enqueued_at, timeout, errors}, or nil if the job is
-- not waiting (a stale entry).
local function claim_job(id, worker_id, lease_at)
  local key = job_key(id)
  local f = redis.call('hmget', key, 'name', 'queue', 'payload', 'priority', 'attempt',
    'max_retries', 'run_at', 'enqueued_at', 'timeout', 'errors', 'seq', 'status')
  if f[12] ~= 'available' then return nil end
  local attempt = int_str((tonumber(f[5]) or 0) + 1)
  redis.call('hset', key, 'status', 'running', 'attempt', attempt, 'worker_id', worker_id,
    'started_at', now_s, 'lease_expires_at', lease_at)
  redis.call('zadd', leases_key, lease_at, id)
  move(id, f[2], f[11], 'available', 'running')
  return {id, f[1], f[2], f[3], f[4] or '0', attempt, f[6], f[7] or f[8], f[8], f[9], f[10]}
end

-- Whether claim would find nothing in the queue right now.
local function nothing_due(queue)
  if redis.call('zcard', ready_key(queue)) > 0 then return false end
  local first = redis.call('zrange', scheduled_key(queue), 0, 0, 'withscores')
  return not (first[2] and tonumber(first[2]) <= now)
end

-- Direct handoff: an idle worker that registered a waiter token (see
-- wait_begin.lua) gets a newly pushed job claimed for it right here, and
-- its BLPOP on the token's handed list returns the job itself: no claim
-- round trip after the wake-up. If the worker died meanwhile, the job's lease runs
-- out and rescue returns it like any other. Returns whether a waiter took it.
local function hand_off(id, queue)
  local list = waiters_key(queue)
  while true do
    local token = redis.call('lindex', list, 0)
    if not token then return false end
    local waiter = redis.call('hmget', waiter_key(token), 'worker_id', 'lease', 'capacity')
    if waiter[1] and tonumber(waiter[3]) > 0 then
      local lease_at = string.format('%.6f', now + tonumber(waiter[2]))
      local row = claim_job(id, waiter[1], lease_at)
      if not row then return false end
      row[#row + 1] = now_s
      row[#row + 1] = lease_at
      row[#row + 1] = waiter[1]
      redis.call('rpush', handed_key(token), cjson.encode(row))
      if redis.call('hincrby', waiter_key(token), 'capacity', -1) > 0 then
        redis.call('lmove', list, list, 'LEFT', 'RIGHT') -- spread jobs over idle workers
      else
        redis.call('lpop', list)
      end
      return true
    end
    redis.call('lpop', list) -- gone (its wait ended) or full
  end
end
