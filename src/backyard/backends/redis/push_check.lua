-- First step of a push_many too large for one script call: if any of the ids
-- is stored already, set the guard so every chunk after it in the same MULTI
-- writes nothing, keeping push_many all-or-none.
-- ARGV: prefix, now, guard, ids...
-- Returns the first stored id, or false.
local guard = ARGV[3]
for i = 4, #ARGV do
  if redis.call('exists', job_key(ARGV[i])) == 1 then
    redis.call('set', guard, ARGV[i], 'EX', 60)
    return ARGV[i]
  end
end
return false
