"""Who is typing where, in Redis with TTLs, so a tab opening a chat on any process sees it.

One sorted set per chat, ``chat:typing:{chat}``: each typist scored by when their indicator
lapses (the service's clock, microseconds). Writes also drop lapsed entries and give the key
a Redis TTL just past the newest entry, so a chat nobody types in holds no key. A typing
event costs one round trip (a pipeline), whatever the chat's size; the composer sends at most
one every two seconds per typist.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import cast

import redis

from backend.adapters.redis.times import from_micros, micros

KEY_PREFIX = "chat:typing:"
# Past the entry's own lapse, so Redis never drops a key a reader should still see.
KEY_GRACE = timedelta(seconds=1)


class RedisTyping:
    """The ``TypingStore`` port on Redis: every process sees every typist."""

    def __init__(self, url: str) -> None:
        self._redis = redis.Redis.from_url(url)

    def start(self, chat_id: str, user_id: str, now: datetime, ttl: timedelta) -> None:
        key = KEY_PREFIX + chat_id
        pipe = self._redis.pipeline(transaction=False)
        pipe.zremrangebyscore(key, "-inf", micros(now))
        pipe.zadd(key, {user_id: micros(now + ttl)})
        pipe.pexpire(key, int((ttl + KEY_GRACE).total_seconds() * 1000))
        pipe.execute()

    def stop(self, chat_id: str, user_id: str) -> None:
        self._redis.zrem(KEY_PREFIX + chat_id, user_id)

    def typing_in(self, chat_id: str, now: datetime) -> dict[str, datetime]:
        found = cast(
            list[tuple[bytes, float]],
            self._redis.zrangebyscore(
                KEY_PREFIX + chat_id, f"({micros(now)}", "+inf", withscores=True
            ),
        )
        return {user.decode(): from_micros(until) for user, until in found}

    def close(self) -> None:
        self._redis.close()
