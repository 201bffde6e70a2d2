-- The wait is over (a handoff, a signal, the timeout, or cancellation):
-- unregister the token and take whatever else was handed to it.
-- ARGV: prefix, now, token, queues...
-- Returns the handed-off jobs as JSON rows (see hand_off in _common.lua).
local token = ARGV[3]
for i = 4, #ARGV do redis.call('lrem', waiters_key(ARGV[i]), 0, token) end
redis.call('del', waiter_key(token))
local rows = redis.call('lrange', handed_key(token), 0, -1)
redis.call('del', handed_key(token))
return rows
