"""Two backend processes sharing Redis and the databases act as one product (issue 5).

Each story builds a second service container on the same settings, as a second process would
(its own bus subscription, its own connections), and has people use different ones: messages,
receipts, presence, typing, unread counts and the group limit must not care which process
anyone is on. Only with ``--engines=scale``: the embedded engines are one process by design.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator

import pytest

from backend.container import Services, build_services
from backend.errors import GroupFull
from backend.events import MessageCreated, PresenceChanged, ReceiptsChanged
from backend.models import Chat, Role
from backend.services.groups import MAX_MEMBERS
from backend.settings import Settings
from tests.backend.conftest import Register
from tests.backend.group_helpers import make_group
from tests.backend.helpers import Person, next_event, settle
from tests.conftest import FakeClock

TTL = 30  # Settings' default presence_ttl_seconds
TEXT = {"type": "text", "text": "hello from the other process"}


@pytest.fixture(autouse=True)
def _scale_only(request: pytest.FixtureRequest) -> None:
    if request.config.getoption("--engines") != "scale":
        pytest.skip("two processes share state through Redis: run with --engines=scale")


@pytest.fixture
def other(settings: Settings, clock: FakeClock) -> Iterator[Services]:
    """A second process: its own container on the same Redis, PostgreSQL and Cassandra."""
    built = build_services(settings, clock=clock)
    yield built
    built.bus.close()  # type: ignore[attr-defined]


async def test_people_on_two_processes_chat_live_with_receipts(
    services: Services, other: Services, alice: Person, bob: Person, chat: Chat
) -> None:
    alice_sub, bob_sub = services.bus.subscribe(alice.id), other.bus.subscribe(bob.id)
    try:
        sent = services.messaging.send_message(alice.id, chat.id, TEXT, temp_id="t1")
        arrived = await next_event(bob_sub, timeout=5)
        assert arrived == MessageCreated(chat.id, sent)
        other.receipts.mark_delivered(bob.id, chat.id, sent.id)
        other.receipts.mark_read(bob.id, chat.id, sent.id)
        ticks = [e for e in await settle(alice_sub) if isinstance(e, ReceiptsChanged)]
        assert [t.chat_receipts.read_upto for t in ticks][-1] == sent.id  # two blue ticks
    finally:
        await alice_sub.close()
        await bob_sub.close()


async def test_presence_beaten_on_one_process_is_seen_and_announced_once_by_all(
    services: Services,
    other: Services,
    alice: Person,
    bob: Person,
    chat: Chat,
    clock: FakeClock,
) -> None:
    bob_sub = other.bus.subscribe(bob.id)
    try:
        services.presence.heartbeat(alice.id, "alice-tab")
        assert await next_event(bob_sub, timeout=5) == PresenceChanged(alice.id, True, None)
        assert other.presence.status_of(bob.id, alice.id).online is True
        other.presence.heartbeat(alice.id, "alice-tab")  # her tab moved to the other process
        last_beat = clock.now
        clock.advance(seconds=TTL + 1)
        # Both processes sweep every second; only one may take her offline.
        assert services.presence.sweep() + other.presence.sweep() == 1
        assert services.presence.sweep() + other.presence.sweep() == 0
        offline = [e for e in await settle(bob_sub) if isinstance(e, PresenceChanged)]
        assert offline == [PresenceChanged(alice.id, False, last_beat)]
        seen = services.presence.status_of(bob.id, alice.id)
        assert (seen.online, seen.last_seen_at) == (False, last_beat)
    finally:
        await bob_sub.close()


def test_a_chat_opened_on_one_process_shows_who_types_on_the_other(
    services: Services, other: Services, alice: Person, bob: Person, chat: Chat
) -> None:
    services.typing.set_typing(alice.id, chat.id, True)
    assert set(other.typing.typing_now(bob.id, chat.id)) == {alice.id}
    services.typing.set_typing(alice.id, chat.id, False)
    assert other.typing.typing_now(bob.id, chat.id) == {}


def test_unread_counts_agree_whichever_process_counts_or_reads(
    services: Services, other: Services, alice: Person, bob: Person, chat: Chat
) -> None:
    sent = [services.messaging.send_message(alice.id, chat.id, TEXT) for _ in range(3)]
    assert [s.unread for s in other.chats.list_chats(bob.id)] == [3]
    other.messaging.send_message(alice.id, chat.id, TEXT)
    assert services.chats.get_summary(bob.id, chat.id).unread == 4
    other.receipts.mark_read(bob.id, chat.id, sent[0].id)  # read up to the first only
    assert services.chats.get_summary(bob.id, chat.id).unread == 3
    assert other.chats.get_summary(bob.id, chat.id).unread == 3
    services.messaging.send_message(bob.id, chat.id, TEXT)  # answering reads it all
    assert other.chats.get_summary(bob.id, chat.id).unread == 0
    assert services.chats.get_summary(alice.id, chat.id).unread == 1


def test_two_admins_on_two_processes_cannot_pass_256(
    services: Services, other: Services, register: Register, alice: Person, bob: Person
) -> None:
    crowd = [register(f"member{i:03d}") for i in range(MAX_MEMBERS - 3)]
    chat = make_group(services, alice, bob, *crowd)  # 255 people: one seat left
    services.groups.set_role(alice.id, chat.id, bob.id, Role.ADMIN)
    newcomers = [register("first_in"), register("second_in")]
    start = threading.Barrier(2)
    outcomes: list[str] = []

    def add(process: Services, admin: Person, newcomer: Person) -> None:
        start.wait()
        try:
            process.groups.add_members(admin.id, chat.id, [newcomer.id])
            outcomes.append("added")
        except GroupFull:
            outcomes.append("full")

    threads = [
        threading.Thread(target=add, args=(services, alice, newcomers[0])),
        threading.Thread(target=add, args=(other, bob, newcomers[1])),
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(outcomes) == ["added", "full"]
    assert other.chats.get_summary(alice.id, chat.id).member_count == MAX_MEMBERS
    lines = [
        m.content.get("event")
        for m in services.messaging.list_messages(alice.id, chat.id, limit=10).messages
    ]
    assert lines.count("added") == 1  # the refused add left no line behind
