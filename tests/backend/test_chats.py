"""Chats: opening 1:1 chats, the access door, and each person's chat list."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from backend.container import Services
from backend.content import text_content
from backend.errors import InvalidInput, NotFound
from backend.ids import new_id
from backend.models import Chat, ChatKind
from tests.backend.conftest import Register
from tests.backend.helpers import Person
from tests.conftest import FakeClock


def say(services: Services, who: Person, chat: Chat, text: str) -> str:
    return services.messaging.send_message(who.id, chat.id, text_content(text)).id


def chat_ids(services: Services, who: Person) -> list[str]:
    return [s.chat.id for s in services.chats.list_chats(who.id)]


def unread(services: Services, who: Person, chat: Chat) -> int:
    return services.chats.get_summary(who.id, chat.id).unread


# --- opening 1:1 chats ---------------------------------------------------------------------


def test_opening_the_same_person_twice_either_way_gives_one_chat(
    services: Services, alice: Person, bob: Person
) -> None:
    first = services.chats.open_direct_chat(alice.id, bob.id)
    again = services.chats.open_direct_chat(alice.id, bob.id)
    from_bob = services.chats.open_direct_chat(bob.id, alice.id)

    assert first.id == again.id == from_bob.id
    assert first.kind is ChatKind.DIRECT
    assert first.created_by == alice.id
    assert chat_ids(services, alice) == [first.id]
    # both are members
    _, members = services.chats.access_chat_members(alice.id, first.id)
    assert sorted(m.user_id for m in members) == sorted([alice.id, bob.id])


def test_each_pair_of_people_gets_its_own_chat(
    services: Services, alice: Person, bob: Person, carol: Person
) -> None:
    with_bob = services.chats.open_direct_chat(alice.id, bob.id)
    with_carol = services.chats.open_direct_chat(alice.id, carol.id)
    bob_carol = services.chats.open_direct_chat(bob.id, carol.id)
    assert len({with_bob.id, with_carol.id, bob_carol.id}) == 3


def test_cannot_open_a_chat_with_yourself(services: Services, alice: Person) -> None:
    with pytest.raises(InvalidInput):
        services.chats.open_direct_chat(alice.id, alice.id)
    assert services.chats.list_chats(alice.id) == []


@pytest.mark.parametrize(
    "peer_id",
    [
        pytest.param(new_id(), id="unknown-uuid"),
        pytest.param("not-a-uuid", id="malformed"),
        pytest.param("", id="empty"),
        pytest.param("'; DROP TABLE users; --", id="sql-ish"),
    ],
)
def test_opening_a_chat_with_an_unknown_peer_is_not_found(
    services: Services, alice: Person, peer_id: str
) -> None:
    with pytest.raises(NotFound):
        services.chats.open_direct_chat(alice.id, peer_id)
    assert services.chats.list_chats(alice.id) == []


def test_opening_a_chat_with_an_uppercased_peer_id_is_not_found(
    services: Services, alice: Person, bob: Person
) -> None:
    with pytest.raises(NotFound):
        services.chats.open_direct_chat(alice.id, bob.id.upper())
    assert services.chats.list_chats(alice.id) == []


# --- the access door -----------------------------------------------------------------------


def test_members_get_through_the_door(
    services: Services, alice: Person, bob: Person, chat: Chat
) -> None:
    for person in (alice, bob):
        found, member = services.chats.access_chat(person.id, chat.id)
        assert found.id == chat.id
        assert member.user_id == person.id
        assert member.chat_id == chat.id


def test_outsiders_cannot_tell_a_foreign_chat_from_a_missing_one(
    services: Services, alice: Person, carol: Person, chat: Chat
) -> None:
    attempts = [
        (carol.id, chat.id),  # exists, but carol is not in it
        (alice.id, new_id()),  # well-formed, but no such chat
        (alice.id, "not-a-chat-id"),  # malformed
        (alice.id, chat.id.upper()),  # not canonical
        (alice.id, ""),
    ]
    messages = set()
    for user_id, chat_id in attempts:
        with pytest.raises(NotFound) as refused:
            services.chats.access_chat(user_id, chat_id)
        messages.add((refused.value.message, tuple(refused.value.params.items())))
    assert len(messages) == 1

    with pytest.raises(NotFound):
        services.chats.get_summary(carol.id, chat.id)


# --- the chat list -------------------------------------------------------------------------


def test_chat_list_is_ordered_by_newest_activity(
    services: Services, clock: FakeClock, alice: Person, bob: Person, carol: Person, dave: Person
) -> None:
    with_bob = services.chats.open_direct_chat(alice.id, bob.id)
    with_carol = services.chats.open_direct_chat(alice.id, carol.id)
    with_dave = services.chats.open_direct_chat(alice.id, dave.id)

    say(services, alice, with_carol, "hi carol")
    clock.advance(minutes=1)
    say(services, alice, with_dave, "hi dave")
    clock.advance(minutes=1)
    say(services, alice, with_bob, "hi bob")
    assert chat_ids(services, alice) == [with_bob.id, with_dave.id, with_carol.id]

    # carol answers: her chat jumps to the top
    clock.advance(minutes=1)
    say(services, carol, with_carol, "hello alice!")
    summaries = services.chats.list_chats(alice.id)
    assert [s.chat.id for s in summaries] == [with_carol.id, with_bob.id, with_dave.id]
    top = summaries[0].chat
    assert top.last_preview == "hello alice!"
    assert top.last_sender_id == carol.id
    assert top.last_activity_at == clock()


def test_a_newly_opened_chat_sorts_by_when_it_was_opened(
    services: Services, clock: FakeClock, alice: Person, bob: Person, carol: Person
) -> None:
    with_bob = services.chats.open_direct_chat(alice.id, bob.id)
    say(services, alice, with_bob, "hi bob")
    clock.advance(minutes=5)
    with_carol = services.chats.open_direct_chat(alice.id, carol.id)
    assert chat_ids(services, alice) == [with_carol.id, with_bob.id]


def test_an_unwritten_chat_appears_for_the_peer_once_they_open_it_too(
    services: Services, alice: Person, bob: Person, chat: Chat
) -> None:
    assert chat_ids(services, bob) == []
    assert services.chats.open_direct_chat(bob.id, alice.id).id == chat.id
    assert chat_ids(services, bob) == [chat.id]


def test_a_chat_list_costs_the_same_few_queries_however_many_chats(
    services: Services, register: Register, alice: Person
) -> None:
    for i in range(30):
        peer = register(f"peer{i:02d}")
        opened = services.chats.open_direct_chat(alice.id, peer.id)
        services.messaging.send_message(peer.id, opened.id, text_content(f"hello {i}"))
    engine = services.chats._chats._engine  # type: ignore[attr-defined]
    statements: list[str] = []
    sa.event.listen(engine, "before_cursor_execute", lambda *a: statements.append(a[2]))
    summaries = services.chats.list_chats(alice.id)
    assert len(summaries) == 30
    assert all(s.unread == 1 for s in summaries)
    assert len(statements) <= 4


def test_an_unwritten_chat_is_shown_only_to_the_person_who_opened_it(
    services: Services, alice: Person, bob: Person, chat: Chat
) -> None:
    assert chat_ids(services, alice) == [chat.id]
    assert chat_ids(services, bob) == []

    say(services, alice, chat, "hi bob")

    [summary] = services.chats.list_chats(bob.id)
    assert summary.chat.id == chat.id
    assert summary.chat.last_preview == "hi bob"
    assert summary.unread == 1


def test_chat_titles_are_the_other_persons_name(
    services: Services, alice: Person, bob: Person, chat: Chat
) -> None:
    say(services, alice, chat, "hi")
    [for_alice] = services.chats.list_chats(alice.id)
    [for_bob] = services.chats.list_chats(bob.id)

    assert for_alice.title == "Bob Builder"
    assert for_alice.peer == bob.user
    assert for_bob.title == "Alice Liddell"
    assert for_bob.peer == alice.user


def test_unread_counts_the_peers_messages_after_the_read_watermark(
    services: Services, alice: Person, bob: Person, chat: Chat
) -> None:
    say(services, alice, chat, "one")
    say(services, alice, chat, "two")
    assert unread(services, bob, chat) == 2
    assert unread(services, alice, chat) == 0  # her own messages never count

    services.receipts.mark_read(bob.id, chat.id)
    assert unread(services, bob, chat) == 0

    say(services, alice, chat, "three")
    assert unread(services, bob, chat) == 1

    # answering means bob has seen the chat; alice now has one unread
    say(services, bob, chat, "got them")
    assert unread(services, bob, chat) == 0
    assert unread(services, alice, chat) == 1
    assert [s.unread for s in services.chats.list_chats(alice.id)] == [1]


def test_being_delivered_is_not_being_read(
    services: Services, alice: Person, bob: Person, chat: Chat
) -> None:
    say(services, alice, chat, "one")
    services.receipts.mark_delivered(bob.id, chat.id)
    assert unread(services, bob, chat) == 1


def test_unread_counts_only_the_messages_after_a_partial_read(
    services: Services, alice: Person, bob: Person, chat: Chat
) -> None:
    ids = [say(services, alice, chat, f"message {i}") for i in range(5)]
    services.receipts.mark_read(bob.id, chat.id, ids[1])
    assert unread(services, bob, chat) == 3


def test_a_chat_list_only_holds_ones_own_chats(
    services: Services, alice: Person, bob: Person, carol: Person, chat: Chat
) -> None:
    say(services, alice, chat, "private")
    assert services.chats.list_chats(carol.id) == []


# --- the people of one's chats (the sender filter of search) --------------------------------


def test_the_people_of_my_chats_are_those_who_were_there_while_i_was(
    services: Services, register: Register, alice: Person, bob: Person, carol: Person, dave: Person
) -> None:
    erin = register("erin", "Erin Brockovich")
    services.chats.open_direct_chat(alice.id, bob.id)
    group = services.groups.create_group(bob.id, "Trip", [alice.id, carol.id])
    services.groups.remove_member(bob.id, group.id, carol.id)  # while Alice was there
    services.groups.leave(alice.id, group.id)
    services.groups.add_members(bob.id, group.id, [dave.id])  # after Alice left

    def names(who: Person) -> list[str]:
        return [u.display_name for u in services.chats.people_of_chats(who.id)]

    assert names(alice) == ["Alice Liddell", "Bob Builder", "Carol Danvers"]
    assert names(dave) == ["Bob Builder", "Dave Grohl"]
    assert names(carol) == ["Alice Liddell", "Bob Builder", "Carol Danvers"]
    assert names(erin) == ["Erin Brockovich"]
