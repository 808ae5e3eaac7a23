"""An in-process pub/sub bus: one process, any number of subscriptions per user."""

from __future__ import annotations

import asyncio
import threading
from collections import defaultdict
from collections.abc import AsyncIterator, Callable, Iterable

from backend.events import Event
from backend.ports import SubscriptionLagged

# Events one subscription may hold unread. A consumer further behind than this (a client that
# stopped reading) loses its backlog and is told to resync, instead of growing without bound.
MAX_BACKLOG = 1000


class _Subscription:
    def __init__(self, bus: InProcessBus, user_id: str) -> None:
        self._bus = bus
        self.user_id = user_id
        self.loop = asyncio.get_running_loop()
        # None in the queue only wakes a waiting reader after ``lag`` (see there).
        self.queue: asyncio.Queue[Event | None] = asyncio.Queue(maxsize=MAX_BACKLOG)
        self.lagged = False

    def deliver(self, event: Event) -> None:
        self._on_loop(self._put, event)

    def lag(self) -> None:
        """Events for this subscriber were lost upstream (a bus connection broke): drop the
        backlog and tell the consumer to resync."""
        self._on_loop(self._drop_backlog_and_wake)

    def _on_loop(self, action: Callable[..., None], *args: object) -> None:
        try:
            running = asyncio.get_running_loop()
        except RuntimeError:
            running = None
        if running is self.loop:
            action(*args)
        elif not self.loop.is_closed():
            self.loop.call_soon_threadsafe(action, *args)

    def _put(self, event: Event) -> None:
        if self.lagged:
            return
        try:
            self.queue.put_nowait(event)
        except asyncio.QueueFull:
            self._drop_backlog()

    def _drop_backlog(self) -> None:
        self.lagged = True
        while not self.queue.empty():
            self.queue.get_nowait()

    def _drop_backlog_and_wake(self) -> None:
        self._drop_backlog()
        self.queue.put_nowait(None)  # a reader waiting on the empty queue must hear of it

    async def __aiter__(self) -> AsyncIterator[Event]:
        while True:
            event = await self.get(None)
            if event is not None:
                yield event

    async def get(self, timeout: float | None) -> Event | None:
        if not self.lagged:
            try:
                if timeout is not None and timeout <= 0:
                    event = self.queue.get_nowait()
                else:
                    # asyncio.timeout, not wait_for: wait_for wraps the get in a task of its
                    # own, and every idle WebSocket waits here (memory per idle connection).
                    async with asyncio.timeout(timeout):
                        event = await self.queue.get()
            except (TimeoutError, asyncio.QueueEmpty):
                return None
            if event is not None:
                return event
        self.lagged = False
        while not self.queue.empty():  # the wake-up marker
            self.queue.get_nowait()
        raise SubscriptionLagged(self.user_id)

    async def close(self) -> None:
        self._bus._remove(self)


class InProcessBus:
    """Fans each event out to the subscriptions of its recipients, in publish order.

    ``publish`` may be called from any thread (sync API routes run in a thread pool); delivery
    is scheduled on each subscriber's own event loop.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._subscriptions: dict[str, set[_Subscription]] = defaultdict(set)

    def publish(self, user_ids: Iterable[str], event: Event) -> None:
        with self._lock:
            # In the order given (duplicates dropped): callers put whoever waits most first.
            targets = [
                sub for uid in dict.fromkeys(user_ids) for sub in self._subscriptions.get(uid, ())
            ]
        for sub in targets:
            sub.deliver(event)

    def subscribe(self, user_id: str) -> _Subscription:
        """Must be called from the event loop that will consume the subscription."""
        sub = _Subscription(self, user_id)
        with self._lock:
            self._subscriptions[user_id].add(sub)
        return sub

    def _remove(self, sub: _Subscription) -> None:
        with self._lock:
            subs = self._subscriptions.get(sub.user_id)
            if subs is not None:
                subs.discard(sub)
                if not subs:
                    del self._subscriptions[sub.user_id]
