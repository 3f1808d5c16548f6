//! The Lua scripts of the Redis bus, each run atomically by Redis, and [`Scripts`], which
//! holds them ready to invoke (by SHA, loading a script the first time Redis lacks it).

use redis::Script;

/// Max-wins write of one field. KEYS: buffer. ARGV: field, value. Returns the value now stored.
const MAX_SCRIPT: &str = r"
local cur = tonumber(redis.call('HGET', KEYS[1], ARGV[1]))
local v = tonumber(ARGV[2])
if cur == nil or v > cur then
  redis.call('HSET', KEYS[1], ARGV[1], ARGV[2])
  return v
end
return cur";

/// Max-wins write of many fields. KEYS: buffer. ARGV: field, value, field, value, ….
const MAX_MANY_SCRIPT: &str = r"
for i = 1, #ARGV, 2 do
  local cur = tonumber(redis.call('HGET', KEYS[1], ARGV[i]))
  if cur == nil or tonumber(ARGV[i + 1]) > cur then
    redis.call('HSET', KEYS[1], ARGV[i], ARGV[i + 1])
  end
end
return 0";

/// Move the dirty entries into the flushing batch (max-merged into any batch already
/// there). KEYS: buffer, buffer:flushing. Returns the flushing batch.
const TAKE_SCRIPT: &str = r"
if redis.call('EXISTS', KEYS[1]) == 1 then
  if redis.call('EXISTS', KEYS[2]) == 0 then
    redis.call('RENAME', KEYS[1], KEYS[2])
  else
    local d = redis.call('HGETALL', KEYS[1])
    for i = 1, #d, 2 do
      local cur = tonumber(redis.call('HGET', KEYS[2], d[i]))
      if cur == nil or tonumber(d[i + 1]) > cur then
        redis.call('HSET', KEYS[2], d[i], d[i + 1])
      end
    end
    redis.call('DEL', KEYS[1])
  end
end
return redis.call('HGETALL', KEYS[2])";

/// `SET NX PX` that also returns the value already there. ARGV: value, ttl ms.
const PUT_IF_ABSENT_SCRIPT: &str = r"
local v = redis.call('GET', KEYS[1])
if v then return v end
redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
return false";

/// Append unless the key is present, then set the key: both or neither (the append comes
/// first, so a failing append leaves no key). KEYS: stream, key. ARGV: payload, value, ttl
/// ms. Returns the value already there, or false.
const ENQUEUE_ONCE_SCRIPT: &str = r"
local v = redis.call('GET', KEYS[2])
if v then return v end
redis.call('XADD', KEYS[1], '*', 'p', ARGV[1])
redis.call('SET', KEYS[2], ARGV[2], 'PX', ARGV[3])
return false";

/// Compare-and-delete. ARGV: the expected value. Returns 1 if it deleted the key.
const UNLOCK_SCRIPT: &str = r"
if redis.call('GET', KEYS[1]) == ARGV[1] then
  return redis.call('DEL', KEYS[1])
end
return 0";

/// GCRA. ARGV: emission interval µs, tolerance µs. Returns 0 (allowed) or µs to wait.
const GCRA_SCRIPT: &str = r"
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000000 + tonumber(t[2])
local emission = tonumber(ARGV[1])
local tolerance = tonumber(ARGV[2])
local tat = tonumber(redis.call('GET', KEYS[1])) or now
if tat < now then tat = now end
local new_tat = tat + emission
local allow_at = new_tat - tolerance
if allow_at > now then return allow_at - now end
redis.call('SET', KEYS[1], new_tat, 'PX', math.ceil((new_tat - now) / 1000) + 1)
return 0";

/// Live set add. ARGV: member, ttl ms. Score = expiry in ms of Redis' clock. Expired
/// members stay (for `LIVE_TAKE_EXPIRED`) until the key itself expires.
const LIVE_ADD_SCRIPT: &str = r"
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
redis.call('ZADD', KEYS[1], now + tonumber(ARGV[2]), ARGV[1])
redis.call('PEXPIRE', KEYS[1], tonumber(ARGV[2]) * 2)
return redis.call('ZCOUNT', KEYS[1], '(' .. now, '+inf')";

/// Live set add of many. KEYS: the sets. ARGV: ttl ms, then one member per key.
const LIVE_ADD_MANY_SCRIPT: &str = r"
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local ttl = tonumber(ARGV[1])
for i, k in ipairs(KEYS) do
  redis.call('ZADD', k, now + ttl, ARGV[i + 1])
  redis.call('PEXPIRE', k, ttl * 2)
end
return 0";

/// Live set remove. ARGV: member. Returns the live count after.
const LIVE_REMOVE_SCRIPT: &str = r"
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
redis.call('ZREM', KEYS[1], ARGV[1])
return redis.call('ZCOUNT', KEYS[1], '(' .. now, '+inf')";

/// Live members. KEYS: the sets. Returns one list per set.
const LIVE_MEMBERS_SCRIPT: &str = r"
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local out = {}
for i, k in ipairs(KEYS) do out[i] = redis.call('ZRANGEBYSCORE', k, '(' .. now, '+inf') end
return out";

/// Take the expired members of a live set. Returns them.
const LIVE_TAKE_EXPIRED_SCRIPT: &str = r"
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local gone = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', now)
if #gone > 0 then redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now) end
return gone";

/// Live counts. KEYS: the sets. Returns one count per set.
const LIVE_COUNT_SCRIPT: &str = r"
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local out = {}
for i, k in ipairs(KEYS) do out[i] = redis.call('ZCOUNT', k, '(' .. now, '+inf') end
return out";

/// Every script, built once per bus.
pub(super) struct Scripts {
    pub(super) max_many: Script,
    pub(super) live_add: Script,
    pub(super) live_remove: Script,
    pub(super) live_count: Script,
    pub(super) live_add_many: Script,
    pub(super) live_members: Script,
    pub(super) live_take_expired: Script,
    pub(super) max: Script,
    pub(super) take: Script,
    pub(super) put_if_absent: Script,
    pub(super) enqueue_once: Script,
    pub(super) unlock: Script,
    pub(super) gcra: Script,
}

impl Scripts {
    pub(super) fn new() -> Self {
        Self {
            max_many: Script::new(MAX_MANY_SCRIPT),
            live_add: Script::new(LIVE_ADD_SCRIPT),
            live_remove: Script::new(LIVE_REMOVE_SCRIPT),
            live_count: Script::new(LIVE_COUNT_SCRIPT),
            live_add_many: Script::new(LIVE_ADD_MANY_SCRIPT),
            live_members: Script::new(LIVE_MEMBERS_SCRIPT),
            live_take_expired: Script::new(LIVE_TAKE_EXPIRED_SCRIPT),
            max: Script::new(MAX_SCRIPT),
            take: Script::new(TAKE_SCRIPT),
            put_if_absent: Script::new(PUT_IF_ABSENT_SCRIPT),
            enqueue_once: Script::new(ENQUEUE_ONCE_SCRIPT),
            unlock: Script::new(UNLOCK_SCRIPT),
            gcra: Script::new(GCRA_SCRIPT),
        }
    }
}
