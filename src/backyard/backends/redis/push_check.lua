-- First step of a push_many too large for one script call: if any of the ids
-- is stored already, set the guard so every chunk after it in the same MULTI
-- writes nothing, keeping push_many all-or-none.
-- ARGV: prefix, now, guard, ids: a JSON array (one argument: redis-py
-- encodes each argument in Python).
-- Returns the first stored id, or false.
local guard = ARGV[3]
local ids = cjson.decode(ARGV[4])
local keys = {}
for i = 1, #ids do keys[i] = job_key(ids[i]) end
-- One EXISTS per CHECK ids finds that none is stored (the usual case).
local CHECK = 1000
for from = 1, #ids, CHECK do
  local to = math.min(#ids, from + CHECK - 1)
  if redis.call('exists', unpack(keys, from, to)) > 0 then
    for i = from, to do
      if redis.call('exists', keys[i]) == 1 then
        redis.call('set', guard, ids[i], 'EX', 60)
        return ids[i]
      end
    end
  end
end
return false
