"""The bus across processes: Redis pub/sub, one channel per user.

Each process holds **one** Redis subscription (one connection, owned by a background thread
running its own asyncio loop) and fans what arrives out to its local subscriptions (tabs,
sockets) through an ``InProcessBus``; a tab never opens a connection to Redis of its own.
A user's channel is subscribed while this process has at least one local subscription for
that user.

Semantics are those of the in-process bus: events for one user arrive in publish order,
``Subscription.get(timeout)`` and ``SubscriptionLagged`` behave alike. When the connection to
Redis breaks, events may have been missed, so every local subscription is told it lagged
(consumers reload from storage) once the subscription is restored.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
import json
import logging
import threading
import uuid
from collections.abc import AsyncIterator, Iterable
from typing import Any

import redis
import redis.asyncio as aioredis

from backend.adapters.memory.bus import InProcessBus
from backend.adapters.memory.bus import _Subscription as _LocalSubscription
from backend.events import Event, event_from_dict, event_to_dict

log = logging.getLogger(__name__)

CHANNEL_PREFIX = "chat:user:"
# How long a subscriber waits for Redis to confirm its channel before giving up.
SUBSCRIBE_TIMEOUT = 10.0
RECONNECT_DELAY = 0.5


def channel_of(user_id: str) -> str:
    return CHANNEL_PREFIX + user_id


class RedisSubscription:
    """A local subscription whose user's Redis channel stays subscribed while it is open."""

    def __init__(self, bus: RedisBus, local: _LocalSubscription) -> None:
        self._bus = bus
        self._local = local
        self._closed = False

    @property
    def user_id(self) -> str:
        return self._local.user_id

    @property
    def queue(self) -> asyncio.Queue[Event | None]:
        return self._local.queue

    def __aiter__(self) -> AsyncIterator[Event]:
        return self._local.__aiter__()

    async def get(self, timeout: float | None) -> Event | None:
        return await self._local.get(timeout)

    async def close(self) -> None:
        if self._closed:
            return
        self._closed = True
        await self._local.close()
        self._bus._release(self)


class RedisBus:
    """Publishes with a pooled client; receives through the process's one subscription."""

    def __init__(self, url: str) -> None:
        self._url = url
        self._publisher = redis.Redis.from_url(url)
        self._local = InProcessBus()
        self._lock = threading.Lock()
        self._open: dict[str, set[RedisSubscription]] = {}
        self._listener: _Listener | None = None

    def publish(self, user_ids: Iterable[str], event: Event) -> None:
        payload = json.dumps(event_to_dict(event), separators=(",", ":"))
        # One round trip for all recipients, in the order given.
        pipe = self._publisher.pipeline(transaction=False)
        for user_id in dict.fromkeys(user_ids):
            pipe.publish(channel_of(user_id), payload)
        pipe.execute()

    def subscribe(self, user_id: str) -> RedisSubscription:
        """Must be called from the event loop that will consume the subscription.

        Returns once Redis has confirmed the user's channel, so nothing published after this
        returns is missed (the listener subscribes first, then reads storage).
        """
        local = self._local.subscribe(user_id)
        sub = RedisSubscription(self, local)
        with self._lock:
            first = user_id not in self._open
            self._open.setdefault(user_id, set()).add(sub)
            listener = self._ensure_listener()
        if first or not listener.is_confirmed(user_id):
            listener.listen(user_id)
        return sub

    def _ensure_listener(self) -> _Listener:
        if self._listener is None:
            self._listener = _Listener(self._url, self._local, self._lag_all)
        return self._listener

    def _release(self, sub: RedisSubscription) -> None:
        with self._lock:
            subs = self._open.get(sub.user_id)
            if subs is None:
                return
            subs.discard(sub)
            if subs:
                return
            del self._open[sub.user_id]
            # Scheduled under the lock: a subscribe for the same user right after this must
            # reach the listener after the unsubscribe, or it would find the channel confirmed
            # and then lose it.
            if self._listener is not None:
                self._listener.forget(sub.user_id)

    def _lag_all(self) -> None:
        with self._lock:
            subs = [sub for group in self._open.values() for sub in group]
        for sub in subs:
            sub._local.lag()

    def close(self) -> None:
        """Stop the listener thread and drop the connections (tests, shutdown)."""
        if self._listener is not None:
            self._listener.stop()
            self._listener = None
        self._publisher.close()


class _Listener:
    """The process's one Redis subscription, on a background thread with its own loop."""

    def __init__(self, url: str, local: InProcessBus, on_gap: Any) -> None:
        self._url = url
        self._local = local
        self._on_gap = on_gap
        # Always subscribed to a channel of its own, so the reader is always waiting on the
        # socket and sees each new channel's confirmation at once.
        self._own_channel = f"chat:process:{uuid.uuid4()}"
        self._channels: set[str] = set()
        self._confirmed: set[str] = set()
        self._waiting: dict[str, list[asyncio.Future[None]]] = {}
        self._last: tuple[bytes, Event] | None = None
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(
            target=self._loop.run_forever, name="redis-bus", daemon=True
        )
        self._thread.start()
        self._client: aioredis.Redis | None = None
        self._pubsub: Any = None
        self._commands = asyncio.Lock()
        self._reader: concurrent.futures.Future[None] = asyncio.run_coroutine_threadsafe(
            self._run(), self._loop
        )

    def is_confirmed(self, user_id: str) -> bool:
        return channel_of(user_id) in self._confirmed

    def listen(self, user_id: str) -> None:
        future = asyncio.run_coroutine_threadsafe(self._subscribe(channel_of(user_id)), self._loop)
        future.result(SUBSCRIBE_TIMEOUT)

    def forget(self, user_id: str) -> None:
        asyncio.run_coroutine_threadsafe(self._unsubscribe(channel_of(user_id)), self._loop)

    def stop(self) -> None:
        async def _stop() -> None:
            tasks = [t for t in asyncio.all_tasks() if t is not asyncio.current_task()]
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
            await self._drop_connection()

        with contextlib.suppress(Exception):
            asyncio.run_coroutine_threadsafe(_stop(), self._loop).result(5)
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(5)

    # --- on the listener's loop --------------------------------------------------------

    async def _connect(self) -> None:
        # Under the lock: the pubsub object opens its connection on its first command, and two
        # commands racing there would each open one.
        async with self._commands:
            client = aioredis.Redis.from_url(self._url)
            pubsub = client.pubsub()
            self._confirmed.clear()
            await pubsub.subscribe(self._own_channel, *self._channels)
            self._client, self._pubsub = client, pubsub

    async def _subscribe(self, channel: str) -> None:
        if channel in self._confirmed:
            return
        waiter: asyncio.Future[None] = self._loop.create_future()
        self._waiting.setdefault(channel, []).append(waiter)
        if channel not in self._channels:
            self._channels.add(channel)
            async with self._commands:
                # (while disconnected, the next connection subscribes every channel)
                if self._pubsub is not None:
                    await self._pubsub.subscribe(channel)
        await waiter

    async def _unsubscribe(self, channel: str) -> None:
        self._channels.discard(channel)
        self._confirmed.discard(channel)
        async with self._commands:
            if self._pubsub is not None:
                with contextlib.suppress(redis.RedisError, OSError):
                    await self._pubsub.unsubscribe(channel)

    async def _run(self) -> None:
        reconnecting = False
        while True:
            try:
                if self._pubsub is None:
                    await self._connect()
                    if reconnecting:
                        self._on_gap()
                    reconnecting = False
                message = await self._pubsub.get_message(timeout=None)
            except asyncio.CancelledError:
                raise
            except (redis.RedisError, OSError) as exc:
                log.warning("redis bus connection lost (%s); reconnecting", type(exc).__name__)
                await self._drop_connection()
                reconnecting = True
                await asyncio.sleep(RECONNECT_DELAY)
                continue
            if message is not None:
                self._handle(message)

    async def _drop_connection(self) -> None:
        pubsub, client = self._pubsub, self._client
        self._pubsub = self._client = None
        self._confirmed.clear()
        with contextlib.suppress(Exception):
            if pubsub is not None:
                await pubsub.aclose()
            if client is not None:
                await client.aclose()

    def _handle(self, message: dict[str, Any]) -> None:
        kind, channel = message["type"], message["channel"]
        channel = channel.decode() if isinstance(channel, bytes) else channel
        if kind == "subscribe":
            if channel in self._channels:
                self._confirmed.add(channel)
            for waiter in self._waiting.pop(channel, []):
                if not waiter.done():
                    waiter.set_result(None)
        elif kind == "message" and channel.startswith(CHANNEL_PREFIX):
            event = self._decode(message["data"])
            if event is not None:
                self._local.publish([channel.removeprefix(CHANNEL_PREFIX)], event)

    def _decode(self, data: bytes) -> Event | None:
        # A message to N users of this process arrives N times with the same bytes.
        if self._last is not None and self._last[0] == data:
            return self._last[1]
        try:
            event = event_from_dict(json.loads(data))
        except (ValueError, KeyError, TypeError):
            log.exception("undecodable event on the redis bus")
            return None
        self._last = (data, event)
        return event
