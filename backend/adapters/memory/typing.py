"""Who is typing where, in process memory with expiry (the embedded twin of Redis keys with
TTLs): an entry nobody renews lapses on its own, so a lost "stopped typing" costs nothing."""

from __future__ import annotations

import threading
from datetime import datetime, timedelta


class InMemoryTyping:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        # chat id -> user id -> typing until
        self._typing: dict[str, dict[str, datetime]] = {}

    def start(self, chat_id: str, user_id: str, now: datetime, ttl: timedelta) -> None:
        with self._lock:
            typists = self._typing.setdefault(chat_id, {})
            for lapsed in [u for u, until in typists.items() if until <= now]:
                del typists[lapsed]  # nobody reads a quiet chat: prune where it is written
            typists[user_id] = now + ttl

    def stop(self, chat_id: str, user_id: str) -> None:
        with self._lock:
            typists = self._typing.get(chat_id)
            if typists is not None:
                typists.pop(user_id, None)
                if not typists:
                    del self._typing[chat_id]

    def typing_in(self, chat_id: str, now: datetime) -> dict[str, datetime]:
        with self._lock:
            return {u: until for u, until in self._typing.get(chat_id, {}).items() if until > now}
