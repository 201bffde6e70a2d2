-- Take up to `limit` due jobs from the named queues and mark them running
-- under a lease (reliable fetch: each stays in the leases set until acked,
-- retried, failed or released, so rescue can return it if its worker dies).
-- ARGV: prefix, now, worker_id, limit, lease_expires_at, promote_limit, end_token, queues...
-- end_token: '' or the waiter token of this worker's last wait for work
-- (wait_begin.lua): it is unregistered here, and the jobs handed to it meanwhile
-- are returned first. Ending the wait in the next claim costs no round trip.
-- Returns {next_due, handed, job...}: next_due is the earliest run_at still
-- scheduled in these queues ('' if none), handed the JSON rows of jobs handed
-- to end_token (see hand_off), and each job is
-- {id, name, queue, payload, priority, attempt, max_retries, run_at, enqueued_at, timeout, errors}.
local worker_id, limit, lease_at = ARGV[3], tonumber(ARGV[4]), ARGV[5]
local promote_limit, end_token = tonumber(ARGV[6]), ARGV[7]
local queues = {}
for i = 8, #ARGV do queues[#queues + 1] = ARGV[i] end

local handed = {}
if end_token ~= '' then
  for _, queue in ipairs(queues) do redis.call('lrem', waiters_key(queue), 0, end_token) end
  redis.call('del', waiter_key(end_token))
  handed = redis.call('lrange', handed_key(end_token), 0, -1)
  redis.call('del', handed_key(end_token))
  limit = limit - #handed -- they fill slots the worker had offered
end

-- Scheduled jobs that came due join the ready set, earliest first. Capped
-- per call so a million jobs due at once cannot stall Redis; the rest follow
-- on the next claims.
for _, queue in ipairs(queues) do
  local skey = scheduled_key(queue)
  local due = redis.call('zrangebyscore', skey, '-inf', now_s, 'limit', 0, promote_limit)
  if #due > 0 then
    local rkey = ready_key(queue)
    for _, id in ipairs(due) do
      local f = redis.call('hmget', job_key(id), 'priority', 'run_at', 'seq', 'status', 'enqueued_at')
      if f[4] == 'available' then
        redis.call('zadd', rkey, priority_score(f[1]), ready_member(f[2] or f[5], f[3], id))
      end
    end
    redis.call('zrem', skey, unpack(due))
  end
end

-- The best `limit` entries across the queues, by (score, member).
local picked = {}
if limit <= 0 then
  -- the handed jobs take every free slot
elseif #queues == 1 then
  local popped = redis.call('zpopmin', ready_key(queues[1]), limit)
  for i = 1, #popped, 2 do picked[#picked + 1] = {queues[1], popped[i]} end
else
  local heads = {}
  for qi, queue in ipairs(queues) do
    heads[qi] = redis.call('zrange', ready_key(queue), 0, limit - 1, 'withscores')
  end
  local pos, taken = {}, {}
  for qi = 1, #queues do pos[qi], taken[qi] = 1, 0 end
  while #picked < limit do
    local best
    for qi = 1, #queues do
      local h, p = heads[qi], pos[qi]
      if p < #h then
        if best == nil then
          best = qi
        else
          local bh, bp = heads[best], pos[best]
          local s, bs = tonumber(h[p + 1]), tonumber(bh[bp + 1])
          if s < bs or (s == bs and h[p] < bh[bp]) then best = qi end
        end
      end
    end
    if best == nil then break end
    picked[#picked + 1] = {queues[best], heads[best][pos[best]]}
    pos[best] = pos[best] + 2
    taken[best] = taken[best] + 1
  end
  for qi, queue in ipairs(queues) do
    if taken[qi] > 0 then redis.call('zremrangebyrank', ready_key(queue), 0, taken[qi] - 1) end
  end
end

local result = {'', handed}
for _, entry in ipairs(picked) do
  local row = claim_job(id_of_member(entry[2]), worker_id, lease_at)
  if row then result[#result + 1] = row end
end

-- Work left behind: wake the next idle worker (the wake-up chain).
local next_due
for _, queue in ipairs(queues) do
  if redis.call('zcard', ready_key(queue)) > 0 then signal(queue) end
  local first = redis.call('zrange', scheduled_key(queue), 0, 0, 'withscores')
  if first[2] and (next_due == nil or tonumber(first[2]) < tonumber(next_due)) then
    next_due = first[2]
  end
end
if next_due then result[1] = next_due end
return result
