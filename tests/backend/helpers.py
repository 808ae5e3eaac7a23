"""Small helpers shared by the service stories."""

from __future__ import annotations

import asyncio
import dataclasses
import uuid

import pytest

from backend.events import Event, TypingChanged
from backend.models import User
from backend.ports import Bus, Subscription

PASSWORD = "correct horse battery staple"


@dataclasses.dataclass(frozen=True)
class Person:
    """A registered user, with the token their sign-up started and their password."""

    user: User
    token: str
    password: str = PASSWORD

    @property
    def id(self) -> str:
        return self.user.id


async def next_event(sub: Subscription, timeout: float = 1) -> Event:
    """The next event a subscription receives, failing the test if none comes in time."""
    return await asyncio.wait_for(anext(aiter(sub)), timeout)


def requires_immediate_delivery(sub: Subscription) -> None:
    """Skip a story that checks, synchronously, what a publish has already delivered: across
    Redis (``--engines=scale``) events arrive later, on the loop; the Bus contract suite
    (tests/contracts/test_bus.py) checks the same behaviours there, asynchronously."""
    if type(sub).__name__ == "RedisSubscription":
        pytest.skip("checks the in-process bus's immediate delivery")


def drain(sub: Subscription) -> list[Event]:
    """Every event already delivered to a subscription (same-loop publishes are immediate)."""
    requires_immediate_delivery(sub)
    queue: asyncio.Queue[Event] = sub.queue  # type: ignore[attr-defined]
    events = []
    while not queue.empty():
        events.append(queue.get_nowait())
    return events


async def settle(sub: Subscription, quiet: float = 0.3) -> list[Event]:
    """Every event that has reached, or is on its way to, a subscription: on the in-process
    bus what was already delivered (same-loop publishes are immediate), across Redis what
    arrives until the subscription has been quiet for ``quiet`` seconds."""
    if type(sub).__name__ != "RedisSubscription":
        return drain(sub)
    events = []
    while (event := await sub.get(quiet)) is not None:
        events.append(event)
    return events


async def settled(bus: Bus, sub: Subscription, timeout: float = 5) -> list[Event]:
    """Every event published to the subscriber's user before this call, on any bus.

    In process they are already queued (``drain``). Across Redis they arrive later, on the
    loop: a marker is published to the same user after them and awaited - one user's channel
    keeps publish order - so the list is complete, and an empty one means nothing came.
    """
    if type(sub).__name__ != "RedisSubscription":
        return drain(sub)
    user_id: str = sub.user_id  # type: ignore[attr-defined]
    marker = TypingChanged(chat_id=f"settled-{uuid.uuid4()}", user_id=user_id, is_typing=False)
    bus.publish([user_id], marker)
    events: list[Event] = []
    while (event := await sub.get(timeout)) != marker:
        if event is None:
            raise AssertionError(f"the bus did not deliver its marker within {timeout} s")
        events.append(event)
    return events
