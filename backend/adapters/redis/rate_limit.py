"""Sliding-window rate limits in Redis, shared by every process.

One sorted set per key: each hit is a member scored by its time. Each operation is one Lua
script, so pruning, counting and adding happen atomically on the server whatever number of
processes hit the same key. Times come from the service's clock (passed in), not Redis's, so
the limiter behaves exactly like its in-memory twin, fake clocks included. Keys expire with
their window, so a key seen once does not linger.
"""

from __future__ import annotations

import math
import uuid
from datetime import timedelta

import redis

from backend.ports import Clock

KEY_PREFIX = "chat:rate:"

# KEYS[1] the set; ARGV: now, window (seconds), limit. Returns the seconds to wait (a float
# string; 0 when under the limit).
_RETRY_AFTER = """
local now, window, limit = tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3])
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now - window)
local count = redis.call('ZCARD', KEYS[1])
if count < limit then return '0' end
local oldest = redis.call('ZRANGE', KEYS[1], count - limit, count - limit, 'WITHSCORES')
return tostring(tonumber(oldest[2]) + window - now)
"""

# KEYS[1] the set; ARGV: now, window (seconds), a unique member.
_HIT = """
local now, window = tonumber(ARGV[1]), tonumber(ARGV[2])
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now - window)
redis.call('ZADD', KEYS[1], now, ARGV[3])
redis.call('PEXPIRE', KEYS[1], math.ceil(window * 1000))
return 1
"""


class RedisRateLimiter:
    def __init__(self, url: str, clock: Clock) -> None:
        self._redis = redis.Redis.from_url(url)
        self._clock = clock
        self._retry_after = self._redis.register_script(_RETRY_AFTER)
        self._hit = self._redis.register_script(_HIT)

    def retry_after(self, key: str, limit: int, window: timedelta) -> int:
        now = self._clock().timestamp()
        wait = float(
            self._retry_after(keys=[KEY_PREFIX + key], args=[now, window.total_seconds(), limit])
        )
        return 0 if wait <= 0 else max(1, math.ceil(wait))

    def hit(self, key: str, window: timedelta) -> None:
        now = self._clock().timestamp()
        self._hit(keys=[KEY_PREFIX + key], args=[now, window.total_seconds(), uuid.uuid4().hex])

    def close(self) -> None:
        self._redis.close()
