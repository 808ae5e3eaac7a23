"""The Bus contract, in process and on Redis.

On Redis the publishing and the subscribing bus are two instances (as in two processes), so
every test here also proves delivery across processes.
"""

from __future__ import annotations

import asyncio
import threading
import time

import pytest
import redis

from backend.adapters.memory.bus import MAX_BACKLOG
from backend.content import text_content
from backend.events import ChatChanged, Event, MessageCreated, ReceiptsChanged, TypingChanged
from backend.models import Message, Receipts
from backend.ports import Bus, Subscription, SubscriptionLagged
from tests.contracts.conftest import NOW
from tests.engines import Engines

ALICE, BOB, CAROL = "alice-id", "bob-id", "carol-id"
TIMEOUT = 5.0


def message_event(text: str = "hi", chat_id: str = "c1") -> MessageCreated:
    message = Message(
        id="0190a000-0000-7000-8000-000000000001",
        chat_id=chat_id,
        sender_id=ALICE,
        content=text_content(text),
        created_at=NOW,
        temp_id="t-1",
    )
    return MessageCreated(chat_id=chat_id, message=message)


async def received(sub: Subscription, n: int) -> list[Event]:
    events = []
    for _ in range(n):
        event = await sub.get(TIMEOUT)
        assert event is not None, f"only {len(events)} of {n} events arrived"
        events.append(event)
    return events


async def nothing_more(sub: Subscription, wait: float = 0.2) -> bool:
    return await sub.get(wait) is None


async def test_events_reach_only_their_recipients(buses: tuple[Bus, Bus]) -> None:
    publisher, subscriber = buses
    subs = {u: subscriber.subscribe(u) for u in (ALICE, BOB, CAROL)}
    try:
        event = message_event()
        publisher.publish([BOB, ALICE], event)
        assert await received(subs[BOB], 1) == [event]
        assert await received(subs[ALICE], 1) == [event]
        assert await nothing_more(subs[CAROL])
    finally:
        for sub in subs.values():
            await sub.close()


async def test_every_subscription_of_a_user_hears_each_event(buses: tuple[Bus, Bus]) -> None:
    publisher, subscriber = buses
    phone, laptop = subscriber.subscribe(BOB), subscriber.subscribe(BOB)
    try:
        publisher.publish([BOB], ChatChanged("c1"))
        assert await received(phone, 1) == await received(laptop, 1) == [ChatChanged("c1")]
    finally:
        await phone.close()
        await laptop.close()


async def test_events_arrive_in_publish_order_and_keep_their_types(
    buses: tuple[Bus, Bus],
) -> None:
    publisher, subscriber = buses
    sub = subscriber.subscribe(BOB)
    try:
        events: list[Event] = [
            message_event("one"),
            ReceiptsChanged("c1", ALICE, "d", "r", Receipts("d", "")),
            TypingChanged("c1", ALICE, True),
            ChatChanged("c2"),
            *(message_event(f"n{i}") for i in range(50)),
        ]
        for event in events:
            publisher.publish([BOB], event)
        got = await received(sub, len(events))
        assert got == events
        first = got[0]
        assert isinstance(first, MessageCreated) and first.message.created_at.tzinfo is not None
    finally:
        await sub.close()


async def test_a_publish_from_another_thread_is_delivered(buses: tuple[Bus, Bus]) -> None:
    publisher, subscriber = buses
    sub = subscriber.subscribe(BOB)
    try:
        thread = threading.Thread(target=publisher.publish, args=([BOB], ChatChanged("c9")))
        thread.start()
        assert await received(sub, 1) == [ChatChanged("c9")]
        thread.join()
    finally:
        await sub.close()


async def test_a_subscription_hears_what_is_published_right_after_subscribing(
    buses: tuple[Bus, Bus],
) -> None:
    """The listener subscribes, then reads storage: nothing published after ``subscribe``
    returns may be missed."""
    publisher, subscriber = buses
    for i in range(5):
        sub = subscriber.subscribe(f"user-{i}")
        publisher.publish([f"user-{i}"], ChatChanged(f"c{i}"))
        try:
            assert await received(sub, 1) == [ChatChanged(f"c{i}")]
        finally:
            await sub.close()


async def test_a_closed_subscription_stops_receiving(buses: tuple[Bus, Bus]) -> None:
    publisher, subscriber = buses
    stays, leaves = subscriber.subscribe(BOB), subscriber.subscribe(BOB)
    await leaves.close()
    try:
        publisher.publish([BOB], ChatChanged("c1"))
        assert await received(stays, 1) == [ChatChanged("c1")]
        assert await nothing_more(leaves)
    finally:
        await stays.close()
    # the last one gone, a new one starts afresh
    again = subscriber.subscribe(BOB)
    try:
        publisher.publish([BOB], ChatChanged("c2"))
        assert await received(again, 1) == [ChatChanged("c2")]
    finally:
        await again.close()


async def test_get_with_a_timeout_returns_none_when_quiet(buses: tuple[Bus, Bus]) -> None:
    _, subscriber = buses
    sub = subscriber.subscribe(BOB)
    try:
        started = time.monotonic()
        assert await sub.get(0.1) is None
        assert time.monotonic() - started >= 0.09
        assert await sub.get(0) is None
    finally:
        await sub.close()


async def test_a_subscriber_that_stops_reading_is_told_to_resync(buses: tuple[Bus, Bus]) -> None:
    publisher, subscriber = buses
    sub = subscriber.subscribe(BOB)
    try:
        for i in range(MAX_BACKLOG + 5):
            publisher.publish([BOB], ChatChanged(f"c{i}"))
        # across processes the events are still on their way: wait for the overflow
        deadline = time.monotonic() + TIMEOUT
        while time.monotonic() < deadline:
            await asyncio.sleep(0.05)
            if getattr(sub, "queue").empty():  # noqa: B009  (the backlog was dropped)
                break
        with pytest.raises(SubscriptionLagged):
            await sub.get(TIMEOUT)
        publisher.publish([BOB], ChatChanged("after"))
        assert await received(sub, 1) == [ChatChanged("after")]
    finally:
        await sub.close()


async def test_a_broken_redis_connection_makes_subscribers_resync(engines: Engines) -> None:
    """Redis only: events published while the process's subscription is down are lost, so
    each local subscription is told to resync, and live delivery resumes."""
    from backend.adapters.redis.bus import RedisBus

    url = engines.redis_url
    publisher, subscriber = RedisBus(url), RedisBus(url)
    sub = subscriber.subscribe(BOB)
    try:
        admin = redis.Redis.from_url(url)
        assert admin.client_kill_filter(_type="pubsub") >= 1
        with pytest.raises(SubscriptionLagged):
            await sub.get(TIMEOUT)
        deadline = time.monotonic() + TIMEOUT
        got = None
        while got is None and time.monotonic() < deadline:  # until resubscribed
            publisher.publish([BOB], ChatChanged("back"))
            got = await sub.get(0.2)
        assert got == ChatChanged("back")
    finally:
        await sub.close()
        publisher.close()
        subscriber.close()
