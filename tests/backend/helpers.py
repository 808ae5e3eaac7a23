"""Small helpers shared by the service stories."""

from __future__ import annotations

import asyncio
import dataclasses

from backend.events import Event
from backend.models import User
from backend.ports import Subscription

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


def drain(sub: Subscription) -> list[Event]:
    """Every event already delivered to a subscription (same-loop publishes are immediate)."""
    queue: asyncio.Queue[Event] = sub.queue  # type: ignore[attr-defined]
    events = []
    while not queue.empty():
        events.append(queue.get_nowait())
    return events
