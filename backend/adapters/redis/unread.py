"""Unread counters in Redis (seed section 7: ``unread:{user}:{chat}``), in front of the message
store, which stays the truth.

A counter is a hash ``chat:unread:{user}:{chat}``:

- ``read`` - the read watermark it counts from;
- ``base`` - the newest message id the store's count covered when the counter was (re)built;
- ``n`` - the count: the store's count over (``read``, ``base``] plus one per new message above
  ``base`` since (``message_stored``: one script for all recipients, before the message is
  announced, so the recipients' chat lists find it counted);
- ``top`` - the newest message id counted (``base`` or a newer arrival).

``chat:unread-newest:{chat}`` holds the newest message id any ``message_stored`` has seen.

A reader trusts a counter only if its ``read`` is the member's read watermark as just read
from storage and its ``top`` has reached the chat's newest message; anything else (a missing
key, a watermark that moved, an arrival not counted yet) is rebuilt from the store:

1. *begin*: the key is replaced by a "recounting" marker, and the chat's newest id is read
   from Redis in the same script. From now on, arrivals are remembered by id in the marker.
2. the store counts the others' messages in (``read``, newest] - every message at or below
   the newest has committed, since ids commit in order per chat.
3. *finish*: count + remembered arrivals above that newest; if another reader or a watermark
   move replaced the marker meanwhile, the counter is left to them and the count is returned.

So an arrival is counted exactly once: by the store (it is at or below the newest the
rebuild read, which its ``message_stored`` had already recorded), or remembered during the
rebuild, or counted on the counter after it. A watermark move deletes the counter (the next
read rebuilds it; a chat read to its newest message is not even asked for).

Drift: if a process dies between storing a message and ``message_stored``, the recipients'
counters miss it. The next read notices while ``top`` is below the chat's newest message and
rebuilds; a later counted message hides the gap until the member next reads that chat (the
watermark move rebuilds) or the counter's TTL (``COUNTER_TTL``) lapses. People who left a group
are counted by the store directly: nothing new counts for them, and a message fanned out while
they were being removed must not.

Ids are compared byte by byte in Lua (Lua's own ``<`` follows the server's locale).
"""

from __future__ import annotations

import uuid
from datetime import timedelta

import redis

from backend.models import Message, UnreadSpan
from backend.ports import MessageStore

KEY_PREFIX = "chat:unread:"
NEWEST_PREFIX = "chat:unread-newest:"
# A counter is rebuilt from the store at least this often: the bound on any drift.
COUNTER_TTL = timedelta(days=1)
# A rebuild that takes longer than this (its process died) leaves the key to expire.
RECOUNT_TTL = timedelta(seconds=60)

_NEWER = """
local function newer(a, b)
  if a == b then return false end
  for i = 1, math.min(#a, #b) do
    local x, y = string.byte(a, i), string.byte(b, i)
    if x ~= y then return x > y end
  end
  return #a > #b
end
"""

# KEYS: the chat's newest key, the sender's counter, then each recipient's counter.
# ARGV: the message id, the newest key's TTL (ms).
_STORED = (
    _NEWER
    + """
local m = ARGV[1]
local newest = redis.call('GET', KEYS[1])
if not newest or newer(m, newest) then redis.call('SET', KEYS[1], m, 'PX', ARGV[2]) end
redis.call('DEL', KEYS[2])
for i = 3, #KEYS do
  local k = KEYS[i]
  local f = redis.call('HMGET', k, 'recount', 'base', 'top')
  if f[1] then
    redis.call('HSET', k, 'm:' .. m, 1)
  elseif f[2] and newer(m, f[2]) then
    redis.call('HINCRBY', k, 'n', 1)
    if newer(m, f[3]) then redis.call('HSET', k, 'top', m) end
  end
end
return 1
"""
)

# KEYS: (counter, chat's newest key) per chat. ARGV: token, marker TTL (ms), then each chat's
# read watermark. Returns each chat's newest id as Redis knows it ("" if none).
_BEGIN = """
local found = {}
for i = 1, #KEYS, 2 do
  local k = KEYS[i]
  redis.call('DEL', k)
  redis.call('HSET', k, 'recount', ARGV[1], 'read', ARGV[2 + (i + 1) / 2])
  redis.call('PEXPIRE', k, ARGV[2])
  table.insert(found, redis.call('GET', KEYS[i + 1]) or '')
end
return found
"""

# KEYS: the counters. ARGV: token, TTL (ms), then (store count, newest) per counter. Returns
# each final count, or -1 where the marker was replaced (that count stands uncached).
_FINISH = (
    _NEWER
    + """
local out = {}
for i, k in ipairs(KEYS) do
  local n, base = tonumber(ARGV[1 + 2 * i]), ARGV[2 + 2 * i]
  if redis.call('HGET', k, 'recount') ~= ARGV[1] then
    table.insert(out, -1)
  else
    local top = base
    for _, field in ipairs(redis.call('HKEYS', k)) do
      if string.sub(field, 1, 2) == 'm:' then
        local m = string.sub(field, 3)
        if newer(m, base) then
          n = n + 1
          if newer(m, top) then top = m end
        end
        redis.call('HDEL', k, field)
      end
    end
    redis.call('HDEL', k, 'recount')
    redis.call('HSET', k, 'base', base, 'top', top, 'n', n)
    redis.call('PEXPIRE', k, ARGV[2])
    table.insert(out, n)
  end
end
return out
"""
)


def counter_key(user_id: str, chat_id: str) -> str:
    return f"{KEY_PREFIX}{user_id}:{chat_id}"


def _ms(delta: timedelta) -> int:
    return int(delta.total_seconds() * 1000)


class RedisUnreadCounter:
    """The ``UnreadCounter`` port on Redis counters, rebuilt from ``messages`` when in doubt."""

    def __init__(self, url: str, messages: MessageStore) -> None:
        self._redis = redis.Redis.from_url(url)
        self._messages = messages
        self._stored = self._redis.register_script(_STORED)
        self._begin = self._redis.register_script(_BEGIN)
        self._finish = self._redis.register_script(_FINISH)

    def unread_counts(self, user_id: str, spans: list[UnreadSpan]) -> dict[str, int]:
        current = [s for s in spans if not s.visible_upto]
        counts = self._former_counts(user_id, [s for s in spans if s.visible_upto])
        if not current:
            return counts
        pipe = self._redis.pipeline(transaction=False)
        for span in current:
            pipe.hmget(counter_key(user_id, span.chat_id), ["read", "top", "n", "recount"])
        stale = []
        for span, (read, top, n, recount) in zip(current, pipe.execute(), strict=True):
            if (
                n is not None
                and read is not None
                and top is not None
                and recount is None
                and read.decode() == span.read_upto
                and top.decode() >= span.newest
            ):
                counts[span.chat_id] = int(n)
            else:
                stale.append(span)
        if stale:
            counts.update(self._rebuild(user_id, stale))
        return counts

    def message_stored(self, message: Message, recipient_ids: list[str]) -> None:
        chat_id = message.chat_id
        keys = [NEWEST_PREFIX + chat_id, counter_key(message.sender_id, chat_id)]
        keys += [counter_key(u, chat_id) for u in dict.fromkeys(recipient_ids)]
        self._stored(keys=keys, args=[message.id, _ms(COUNTER_TTL)])

    def read_moved(self, user_id: str, chat_id: str) -> None:
        self._redis.delete(counter_key(user_id, chat_id))

    def close(self) -> None:
        self._redis.close()

    def _former_counts(self, user_id: str, spans: list[UnreadSpan]) -> dict[str, int]:
        if not spans:
            return {}
        return self._messages.count_unread(
            user_id,
            {s.chat_id: s.read_upto for s in spans},
            {s.chat_id: s.visible_upto for s in spans},
        )

    def _rebuild(self, user_id: str, spans: list[UnreadSpan]) -> dict[str, int]:
        """Count ``spans`` in the store, and leave counters that arrivals keep up to date."""
        token = uuid.uuid4().hex
        keys = []
        for span in spans:
            keys += [counter_key(user_id, span.chat_id), NEWEST_PREFIX + span.chat_id]
        newest_in_redis = self._begin(
            keys=keys, args=[token, _ms(RECOUNT_TTL), *(s.read_upto for s in spans)]
        )
        # Everything at or below the newest id either side knows of has committed.
        newest = {
            s.chat_id: max(s.newest, found.decode())
            for s, found in zip(spans, newest_in_redis, strict=True)
        }
        stored = self._messages.count_unread(
            user_id, {s.chat_id: s.read_upto for s in spans}, newest
        )
        args: list[str | int] = [token, _ms(COUNTER_TTL)]
        for span in spans:
            args += [stored.get(span.chat_id, 0), newest[span.chat_id]]
        finished = self._finish(keys=keys[::2], args=args)
        return {
            s.chat_id: int(n) if int(n) >= 0 else stored.get(s.chat_id, 0)
            for s, n in zip(spans, finished, strict=True)
        }
