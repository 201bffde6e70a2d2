-- Make a dead or cancelled job available now, with a fresh retry budget.
-- Its error history is kept.
-- ARGV: prefix, now, id. Returns 1 if requeued.
local id = ARGV[3]
local key = job_key(id)
local f = redis.call('hmget', key, 'status', 'queue', 'seq', 'priority')
if f[1] ~= 'dead' and f[1] ~= 'cancelled' then return 0 end
local queue, seq = f[2], f[3]
redis.call('persist', key)
redis.call('hset', key, 'status', 'available', 'attempt', '0', 'run_at', now_s)
redis.call('hdel', key, 'finished_at', 'lease_expires_at')
redis.call('zrem', finished_key(f[1], queue), id)
move(id, queue, seq, f[1], 'available')
add_waiting(id, queue, f[4], now_s, seq)
signal(queue)
return 1
