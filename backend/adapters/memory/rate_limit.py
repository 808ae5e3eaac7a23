"""Sliding-window rate limits held in process memory."""

from __future__ import annotations

import math
import threading
from collections import defaultdict, deque
from datetime import timedelta

from backend.ports import Clock

SWEEP_EVERY = 1000


class InMemoryRateLimiter:
    def __init__(self, clock: Clock) -> None:
        self._clock = clock
        self._lock = threading.Lock()
        self._hits: dict[str, deque[float]] = defaultdict(deque)
        self._windows: dict[str, float] = {}
        self._hits_since_sweep = 0

    def _prune(self, key: str, window: timedelta) -> deque[float]:
        now = self._clock().timestamp()
        hits = self._hits[key]
        while hits and hits[0] <= now - window.total_seconds():
            hits.popleft()
        return hits

    def retry_after(self, key: str, limit: int, window: timedelta) -> int:
        with self._lock:
            hits = self._prune(key, window)
            if len(hits) < limit:
                if not hits:
                    del self._hits[key]
                return 0
            oldest = hits[len(hits) - limit]
            wait = oldest + window.total_seconds() - self._clock().timestamp()
            return max(1, math.ceil(wait))

    def hit(self, key: str, window: timedelta) -> None:
        with self._lock:
            self._prune(key, window).append(self._clock().timestamp())
            self._windows[key] = window.total_seconds()
            self._hits_since_sweep += 1
            if self._hits_since_sweep >= SWEEP_EVERY:
                self._sweep()

    def _sweep(self) -> None:
        """Forget keys whose every hit is older than their window (keys seen once, then never)."""
        now = self._clock().timestamp()
        for key in [
            k
            for k, hits in self._hits.items()
            if not hits or hits[-1] <= now - self._windows.get(k, 0)
        ]:
            self._hits.pop(key, None)
            self._windows.pop(key, None)
        self._hits_since_sweep = 0
