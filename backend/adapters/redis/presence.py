"""Who is connected, in Redis with TTLs, shared by every process (seed section 4, presence).

Keys (times are microseconds since the epoch, from the service's clock):

- ``chat:presence:{user}`` - a hash of the user's live connections (tabs, sockets), each
  ``"<expires> <last heartbeat>"``. A heartbeat from any process refreshes its connection and
  the key's own TTL, so "online" is the same answer on every process.
- ``chat:presence:due`` - a sorted set of users by the soonest expiry among their connections:
  where a sweep looks, so no process scans every user.
- ``chat:presence:beats`` - each connected user's latest heartbeat, for the one case the
  hash is gone before any sweep saw it lapse (its TTL outran sweepers that were all down).

Every operation is one Lua script, so the transitions are claimed atomically on the server:
"came online" is answered to exactly one heartbeat, and "went offline" to exactly one
``disconnect`` or ``expire`` call, however many processes beat and sweep at once.

The hash's Redis TTL is the connection's TTL plus ``KEY_GRACE``: with sweepers running (one per
process, every second) a lapsed connection is always swept, and announced, before Redis drops
the key; the TTL only cleans up after a deployment that stopped sweeping. The scripts name
per-user keys they derive from ``ARGV``, which a single Redis (or one with a replica) allows;
a Redis Cluster would need the keys hash-tagged into one slot.
"""

from __future__ import annotations

from datetime import datetime, timedelta

import redis

from backend.adapters.redis.times import from_micros, micros

KEY_PREFIX = "chat:presence:"
DUE_KEY = KEY_PREFIX + "due"
BEATS_KEY = KEY_PREFIX + "beats"
KEY_GRACE = timedelta(seconds=60)
# Users swept per script call: bounds how long one call holds Redis.
SWEEP_BATCH = 500

# The soonest expiry among a hash's connections (nil if none), as a Lua function.
_SOONEST = """
local function soonest(key)
  local best = nil
  for _, v in ipairs(redis.call('HVALS', key)) do
    local expires = tonumber(string.match(v, '^(%S+)'))
    if best == nil or expires < best then best = expires end
  end
  return best
end
"""

# KEYS: the user's hash, due, beats. ARGV: connection, expires, beat, user, key TTL (ms).
# Returns 1 if the user had no connection before (came online).
_HEARTBEAT = (
    _SOONEST
    + """
local had = redis.call('EXISTS', KEYS[1])
redis.call('HSET', KEYS[1], ARGV[1], ARGV[2] .. ' ' .. ARGV[3])
redis.call('PEXPIRE', KEYS[1], ARGV[5])
redis.call('ZADD', KEYS[2], soonest(KEYS[1]), ARGV[4])
redis.call('HSET', KEYS[3], ARGV[4], ARGV[3])
if had == 0 then return 1 end
return 0
"""
)

# KEYS: the user's hash, due, beats. ARGV: connection, user. Returns 1 if that was the user's
# last connection (went offline).
_DISCONNECT = (
    _SOONEST
    + """
if redis.call('HDEL', KEYS[1], ARGV[1]) == 0 then return 0 end
local next_due = soonest(KEYS[1])
if next_due ~= nil then
  redis.call('ZADD', KEYS[2], next_due, ARGV[2])
  return 0
end
redis.call('ZREM', KEYS[2], ARGV[2])
redis.call('HDEL', KEYS[3], ARGV[2])
return 1
"""
)

# KEYS: due, beats. ARGV: now, batch size, key prefix. Drops lapsed connections of the users
# due; returns how many users were due, then (user, last heartbeat) for each left with none.
_EXPIRE = """
local now = tonumber(ARGV[1])
local due = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', now, 'LIMIT', 0, tonumber(ARGV[2]))
local gone = {#due}
for _, user in ipairs(due) do
  local key = ARGV[3] .. user
  local fields = redis.call('HGETALL', key)
  local last, next_due = nil, nil
  for i = 1, #fields, 2 do
    local expires, beat = string.match(fields[i + 1], '^(%S+) (%S+)$')
    expires, beat = tonumber(expires), tonumber(beat)
    if expires <= now then
      redis.call('HDEL', key, fields[i])
      if last == nil or beat > last then last = beat end
    elseif next_due == nil or expires < next_due then
      next_due = expires
    end
  end
  if next_due ~= nil then
    redis.call('ZADD', KEYS[1], next_due, user)
  else
    redis.call('ZREM', KEYS[1], user)
    if last == nil then last = tonumber(redis.call('HGET', KEYS[2], user)) or now end
    redis.call('HDEL', KEYS[2], user)
    table.insert(gone, user)
    table.insert(gone, string.format('%.0f', last))
  end
end
return gone
"""


class RedisPresence:
    """The ``PresenceStore`` port on Redis: every process sees every connection."""

    def __init__(self, url: str) -> None:
        self._redis = redis.Redis.from_url(url)
        self._heartbeat = self._redis.register_script(_HEARTBEAT)
        self._disconnect = self._redis.register_script(_DISCONNECT)
        self._expire = self._redis.register_script(_EXPIRE)

    def heartbeat(self, user_id: str, connection_id: str, now: datetime, ttl: timedelta) -> bool:
        key_ttl_ms = int((ttl + KEY_GRACE).total_seconds() * 1000)
        came_online = self._heartbeat(
            keys=[KEY_PREFIX + user_id, DUE_KEY, BEATS_KEY],
            args=[connection_id, micros(now + ttl), micros(now), user_id, key_ttl_ms],
        )
        return bool(came_online)

    def disconnect(self, user_id: str, connection_id: str) -> bool:
        went_offline = self._disconnect(
            keys=[KEY_PREFIX + user_id, DUE_KEY, BEATS_KEY], args=[connection_id, user_id]
        )
        return bool(went_offline)

    def expire(self, now: datetime) -> dict[str, datetime]:
        gone: dict[str, datetime] = {}
        while True:
            examined, *flat = self._expire(
                keys=[DUE_KEY, BEATS_KEY], args=[micros(now), SWEEP_BATCH, KEY_PREFIX]
            )
            for i in range(0, len(flat), 2):
                gone[flat[i].decode()] = from_micros(flat[i + 1])
            # A full batch may have left more users due; a short one means none are (users
            # still connected were moved to their next expiry, after ``now``).
            if examined < SWEEP_BATCH:
                return gone

    def online(self, user_ids: list[str]) -> set[str]:
        if not user_ids:
            return set()
        pipe = self._redis.pipeline(transaction=False)
        for user_id in user_ids:
            pipe.exists(KEY_PREFIX + user_id)
        return {u for u, found in zip(user_ids, pipe.execute(), strict=True) if found}

    def close(self) -> None:
        self._redis.close()
