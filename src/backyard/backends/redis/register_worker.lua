-- Record (or refresh) a live worker until `expires_at`, and forget workers
-- whose registration ran out.
-- ARGV: prefix, now, worker_id, expires_at, info_json
local expiries, infos = prefix .. 'workers', prefix .. 'workers:info'
local gone = redis.call('zrangebyscore', expiries, '-inf', '(' .. now_s)
if #gone > 0 then
  redis.call('zrem', expiries, unpack(gone))
  redis.call('hdel', infos, unpack(gone))
end
redis.call('zadd', expiries, ARGV[4], ARGV[3])
redis.call('hset', infos, ARGV[3], ARGV[5])
return 1
