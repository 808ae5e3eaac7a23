"""Presence: online while a connection beats, "last seen" when it stops, privacy both ways."""

from __future__ import annotations

import pytest

from backend.container import Services
from backend.events import PresenceChanged
from backend.models import Chat
from tests.backend.helpers import Person, next_event, settle
from tests.conftest import FakeClock

TTL = 30  # Settings' default presence_ttl_seconds


def test_a_heartbeat_brings_a_user_online_for_people_who_share_a_chat(
    services: Services, alice: Person, bob: Person, carol: Person, chat: Chat
) -> None:
    assert services.presence.status_of(bob.id, alice.id).online is False
    services.presence.heartbeat(alice.id, "tab-1")
    assert services.presence.status_of(bob.id, alice.id).online is True
    assert services.presence.status_of(bob.id, alice.id).last_seen_at is None


async def test_contacts_hear_online_and_offline_and_strangers_hear_nothing(
    services: Services, alice: Person, bob: Person, carol: Person, chat: Chat, clock: FakeClock
) -> None:
    bob_sub, carol_sub = services.bus.subscribe(bob.id), services.bus.subscribe(carol.id)
    services.presence.heartbeat(alice.id, "tab-1")
    event = await next_event(bob_sub)
    assert event == PresenceChanged(alice.id, online=True, last_seen_at=None)

    clock.advance(seconds=5)
    services.presence.disconnect(alice.id, "tab-1")
    event = await next_event(bob_sub)
    assert event == PresenceChanged(alice.id, online=False, last_seen_at=clock.now)
    assert services.presence.status_of(bob.id, alice.id).last_seen_at == clock.now
    assert await settle(carol_sub) == []  # carol shares no chat with alice


async def test_a_connection_that_stops_beating_lapses_at_its_last_heartbeat(
    services: Services, alice: Person, bob: Person, chat: Chat, clock: FakeClock
) -> None:
    services.presence.heartbeat(alice.id, "laptop")
    last_beat = clock.now
    clock.advance(seconds=TTL - 1)
    assert services.presence.sweep() == 0  # not lapsed yet
    assert services.presence.status_of(bob.id, alice.id).online is True

    clock.advance(seconds=2)
    bob_sub = services.bus.subscribe(bob.id)
    assert services.presence.sweep() == 1
    assert services.presence.status_of(bob.id, alice.id).online is False
    # "last seen" is when the laptop was last heard from, not when the server noticed.
    assert services.presence.status_of(bob.id, alice.id).last_seen_at == last_beat
    assert await next_event(bob_sub) == PresenceChanged(alice.id, False, last_beat)


def test_heartbeats_keep_a_connection_alive_and_any_live_connection_keeps_the_user_online(
    services: Services, alice: Person, bob: Person, chat: Chat, clock: FakeClock
) -> None:
    services.presence.heartbeat(alice.id, "phone")
    services.presence.heartbeat(alice.id, "laptop")
    for _ in range(5):  # the phone keeps beating, the laptop went quiet
        clock.advance(seconds=TTL / 3)
        services.presence.heartbeat(alice.id, "phone")
        services.presence.sweep()
    assert services.presence.status_of(bob.id, alice.id).online is True
    services.presence.disconnect(alice.id, "phone")
    assert services.presence.status_of(bob.id, alice.id).online is False


@pytest.mark.parametrize("who_hides", ["alice", "bob"])
async def test_hiding_last_seen_works_both_ways(
    services: Services, alice: Person, bob: Person, chat: Chat, who_hides: str
) -> None:
    hider = alice if who_hides == "alice" else bob
    services.presence.set_hide_last_seen(hider.id, True)
    bob_sub = services.bus.subscribe(bob.id)
    services.presence.heartbeat(alice.id, "tab")
    services.presence.disconnect(alice.id, "tab")
    events = [e for e in await settle(bob_sub) if isinstance(e, PresenceChanged)]
    assert [e.online for e in events] == [True, False]
    assert all(e.last_seen_at is None for e in events)  # never leaked on the bus
    assert services.presence.status_of(bob.id, alice.id).last_seen_at is None
    # Online itself stays visible, as on WhatsApp.
    services.presence.heartbeat(alice.id, "tab")
    assert services.presence.status_of(bob.id, alice.id).online is True


async def test_presence_goes_to_1_to_1_contacts_not_to_fellow_group_members(
    services: Services, alice: Person, bob: Person, carol: Person, chat: Chat
) -> None:
    services.groups.create_group(alice.id, "G", [bob.id, carol.id])
    bob_sub, carol_sub = services.bus.subscribe(bob.id), services.bus.subscribe(carol.id)
    services.presence.heartbeat(alice.id, "tab")
    assert [e for e in await settle(bob_sub) if isinstance(e, PresenceChanged)]  # 1:1 with alice
    assert [e for e in await settle(carol_sub) if isinstance(e, PresenceChanged)] == []
