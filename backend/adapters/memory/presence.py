"""Who is connected, held in process memory with expiry (the embedded twin of Redis keys with
TTLs): a connection that stops sending heartbeats lapses, so a closed laptop goes offline."""

from __future__ import annotations

import threading
from datetime import datetime, timedelta


class InMemoryPresence:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        # user id -> connection id -> (expires at, last heartbeat)
        self._connections: dict[str, dict[str, tuple[datetime, datetime]]] = {}

    def heartbeat(self, user_id: str, connection_id: str, now: datetime, ttl: timedelta) -> bool:
        with self._lock:
            connections = self._connections.setdefault(user_id, {})
            came_online = not connections
            connections[connection_id] = (now + ttl, now)
            return came_online

    def disconnect(self, user_id: str, connection_id: str) -> bool:
        with self._lock:
            connections = self._connections.get(user_id, {})
            if connections.pop(connection_id, None) is None:
                return False
            if connections:
                return False
            del self._connections[user_id]
            return True

    def expire(self, now: datetime) -> dict[str, datetime]:
        gone: dict[str, datetime] = {}
        with self._lock:
            for user_id, connections in list(self._connections.items()):
                lapsed = [c for c, (expires, _) in connections.items() if expires <= now]
                if not lapsed:
                    continue
                last = max(connections[c][1] for c in lapsed)
                for c in lapsed:
                    del connections[c]
                if not connections:
                    del self._connections[user_id]
                    gone[user_id] = last
        return gone

    def online(self, user_ids: list[str]) -> set[str]:
        with self._lock:
            return {u for u in user_ids if self._connections.get(u)}
