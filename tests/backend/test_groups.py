"""Group chats: creation, roles, the 256 limit, membership history and group receipts."""

from __future__ import annotations

import threading
from typing import Any

import pytest

from backend.container import Services
from backend.content import text_content
from backend.errors import Forbidden, GroupFull, InvalidInput, NotFound
from backend.events import ChatChanged, MessageCreated, ReceiptsChanged
from backend.ids import new_message_id
from backend.models import Chat, ChatKind, Member, MessageStatus, Role
from backend.services.groups import MAX_MEMBERS
from tests.backend.conftest import Register
from tests.backend.helpers import Person, drain, next_event
from tests.conftest import FakeClock


def make_group(services: Services, owner: Person, *others: Person, title: str = "Team") -> Chat:
    return services.groups.create_group(owner.id, title, [p.id for p in others])


def say(services: Services, who: Person, chat: Chat, text: str = "hi") -> str:
    return services.messaging.send_message(who.id, chat.id, text_content(text)).id


def history(services: Services, who: Person, chat: Chat) -> list[dict[str, Any]]:
    """What ``who`` can read in the chat, oldest first: text bodies and system-line events."""
    page = services.messaging.list_messages(who.id, chat.id, limit=100)
    return [m.content for m in page.messages]


def history_ids(services: Services, who: Person, chat: Chat) -> list[str]:
    return [m.id for m in services.messaging.list_messages(who.id, chat.id, limit=100).messages]


def events(services: Services, who: Person, chat: Chat) -> list[str]:
    return [c["event"] for c in history(services, who, chat) if c["type"] == "system"]


def last_id(services: Services, who: Person, chat: Chat) -> str:
    return history_ids(services, who, chat)[-1]


def roles(services: Services, viewer: Person, chat: Chat) -> dict[str, Role]:
    return {user.username: m.role for m, user in services.chats.members(viewer.id, chat.id)}


def status(services: Services, sender: Person, chat: Chat, message_id: str) -> MessageStatus:
    return services.messaging.list_messages(sender.id, chat.id).receipts.status_of(message_id)


def me_in(services: Services, who: Person, chat: Chat) -> Member:
    return services.chats.access_history(who.id, chat.id)[1]


# --- creating -------------------------------------------------------------------------------


def test_the_creator_owns_a_new_group_and_everyone_sees_the_created_line(
    services: Services, alice: Person, bob: Person, carol: Person
) -> None:
    chat = make_group(services, alice, bob, carol, title="  Weekend\n  trip \t")

    assert chat.kind is ChatKind.GROUP
    assert chat.title == "Weekend trip"  # whitespace folded, ends trimmed
    assert roles(services, bob, chat) == {
        "alice": Role.OWNER,
        "bob": Role.MEMBER,
        "carol": Role.MEMBER,
    }
    for who in (alice, bob, carol):
        [line] = history(services, who, chat)
        assert line == {
            "type": "system",
            "event": "created",
            "actor": {"id": alice.id, "name": "Alice Liddell"},
            "targets": [],
            "title": "Weekend trip",
        }
        [summary] = services.chats.list_chats(who.id)
        assert summary.title == "Weekend trip"
        assert summary.member_count == 3
        assert summary.is_member
    assert services.chats.list_chats(alice.id)[0].chat.last_preview == (
        "Alice Liddell created the group"
    )


def test_duplicate_ids_and_the_creator_among_the_members_count_once(
    services: Services, alice: Person, bob: Person
) -> None:
    chat = services.groups.create_group(alice.id, "Pair", [bob.id, bob.id, alice.id])
    assert roles(services, alice, chat) == {"alice": Role.OWNER, "bob": Role.MEMBER}


@pytest.mark.parametrize(
    ("title", "error", "words"),
    [
        ("", InvalidInput, "needs a name"),
        ("  \n\t ", InvalidInput, "needs a name"),
        ("x" * 101, InvalidInput, "at most 100 characters"),
        (None, InvalidInput, "needs a name"),
    ],
)
def test_a_group_needs_a_sensible_name(
    services: Services, alice: Person, bob: Person, title: Any, error: type, words: str
) -> None:
    with pytest.raises(error, match=words):
        services.groups.create_group(alice.id, title, [bob.id])
    assert services.chats.list_chats(alice.id) == []
    assert services.chats.list_chats(bob.id) == []


def test_a_name_of_exactly_100_characters_is_fine(
    services: Services, alice: Person, bob: Person
) -> None:
    assert make_group(services, alice, bob, title="é" * 100).title == "é" * 100


@pytest.mark.parametrize("bad_id", ["not-a-uuid", "", "00000000-0000-7000-8000-000000000000"])
def test_unknown_members_are_refused_and_nothing_is_created(
    services: Services, alice: Person, bob: Person, bad_id: str
) -> None:
    with pytest.raises(NotFound, match="No such user"):
        services.groups.create_group(alice.id, "Team", [bob.id, bad_id])
    assert services.chats.list_chats(alice.id) == []
    assert services.chats.list_chats(bob.id) == []


# --- roles and permissions ------------------------------------------------------------------


def test_a_plain_member_can_change_nothing_about_the_group(
    services: Services, alice: Person, bob: Person, carol: Person, dave: Person
) -> None:
    chat = make_group(services, alice, bob, carol)
    before = history_ids(services, alice, chat)
    refusals = [
        lambda: services.groups.add_members(bob.id, chat.id, [dave.id]),
        lambda: services.groups.remove_member(bob.id, chat.id, carol.id),
        lambda: services.groups.rename(bob.id, chat.id, "Bob's group"),
        lambda: services.groups.set_role(bob.id, chat.id, carol.id, Role.ADMIN),
        lambda: services.groups.set_role(bob.id, chat.id, bob.id, Role.ADMIN),
    ]
    for refused in refusals:
        with pytest.raises(Forbidden, match="Only group admins"):
            refused()
    # ... and nothing changed: same people, same roles, same name, no new lines.
    assert roles(services, alice, chat) == {
        "alice": Role.OWNER,
        "bob": Role.MEMBER,
        "carol": Role.MEMBER,
    }
    assert services.chats.get_summary(alice.id, chat.id).title == "Team"
    assert history_ids(services, alice, chat) == before
    with pytest.raises(NotFound):
        services.chats.access_chat(dave.id, chat.id)


def test_an_admin_adds_removes_renames_and_promotes(
    services: Services, alice: Person, bob: Person, carol: Person, dave: Person
) -> None:
    chat = make_group(services, alice, bob, carol)
    services.groups.set_role(alice.id, chat.id, bob.id, "admin")  # a plain string works too
    assert roles(services, carol, chat)["bob"] is Role.ADMIN

    services.groups.add_members(bob.id, chat.id, [dave.id])
    services.groups.remove_member(bob.id, chat.id, carol.id)
    services.groups.rename(bob.id, chat.id, "Renamed")
    services.groups.set_role(bob.id, chat.id, dave.id, Role.ADMIN)

    assert roles(services, alice, chat) == {
        "alice": Role.OWNER,
        "bob": Role.ADMIN,
        "dave": Role.ADMIN,
    }
    assert services.chats.get_summary(dave.id, chat.id).title == "Renamed"
    assert events(services, alice, chat) == ["created", "added", "removed", "renamed"]
    added, removed, renamed = history(services, alice, chat)[1:]
    assert added["actor"]["id"] == bob.id and [t["id"] for t in added["targets"]] == [dave.id]
    assert [t["name"] for t in removed["targets"]] == ["Carol Danvers"]
    assert renamed["title"] == "Renamed"
    assert services.chats.list_chats(alice.id)[0].chat.last_preview == (
        "Bob Builder changed the group name to Renamed"
    )

    # Demoted again, bob is a plain member once more.
    services.groups.set_role(alice.id, chat.id, bob.id, Role.MEMBER)
    with pytest.raises(Forbidden):
        services.groups.rename(bob.id, chat.id, "Mine now")


def test_renaming_to_the_same_name_or_re_adding_members_writes_no_line(
    services: Services, alice: Person, bob: Person
) -> None:
    chat = make_group(services, alice, bob)
    services.groups.rename(alice.id, chat.id, "  Team ")
    services.groups.add_members(alice.id, chat.id, [bob.id, alice.id])
    services.groups.set_role(alice.id, chat.id, bob.id, Role.MEMBER)
    assert events(services, alice, chat) == ["created"]


def test_nobody_removes_or_demotes_the_owner(
    services: Services, alice: Person, bob: Person, carol: Person
) -> None:
    chat = make_group(services, alice, bob, carol)
    services.groups.set_role(alice.id, chat.id, bob.id, Role.ADMIN)

    with pytest.raises(Forbidden, match="owner can't be removed"):
        services.groups.remove_member(bob.id, chat.id, alice.id)
    with pytest.raises(Forbidden, match="owner stays an admin"):
        services.groups.set_role(bob.id, chat.id, alice.id, Role.MEMBER)
    for not_a_role in ("owner", "king", ""):
        with pytest.raises(InvalidInput, match="admin or member"):
            services.groups.set_role(alice.id, chat.id, carol.id, not_a_role)
    with pytest.raises(InvalidInput, match="Leave group"):
        services.groups.remove_member(alice.id, chat.id, alice.id)
    assert roles(services, alice, chat)["alice"] is Role.OWNER


def test_acting_on_someone_who_is_not_in_the_group_is_not_found(
    services: Services, alice: Person, bob: Person, dave: Person
) -> None:
    chat = make_group(services, alice, bob)
    with pytest.raises(NotFound, match="not in this group"):
        services.groups.remove_member(alice.id, chat.id, dave.id)
    with pytest.raises(NotFound, match="not in this group"):
        services.groups.set_role(alice.id, chat.id, dave.id, Role.ADMIN)
    with pytest.raises(NotFound, match="No such user"):
        services.groups.add_members(alice.id, chat.id, ["not-an-id"])


def test_an_outsider_learns_nothing_about_a_group(
    services: Services, alice: Person, bob: Person, dave: Person
) -> None:
    chat = make_group(services, alice, bob)
    m = say(services, alice, chat)
    outsider_calls = [
        lambda: services.groups.add_members(dave.id, chat.id, [dave.id]),
        lambda: services.groups.remove_member(dave.id, chat.id, bob.id),
        lambda: services.groups.rename(dave.id, chat.id, "Mine"),
        lambda: services.groups.set_role(dave.id, chat.id, dave.id, Role.ADMIN),
        lambda: services.groups.leave(dave.id, chat.id),
        lambda: services.chats.members(dave.id, chat.id),
        lambda: services.receipts.message_info(dave.id, chat.id, m),
        lambda: services.messaging.list_messages(dave.id, chat.id),
    ]
    for call in outsider_calls:
        with pytest.raises(NotFound) as refused:
            call()
        # The same words as for a chat that does not exist.
        assert refused.value.message == "This chat doesn't exist or you are not in it."


def test_group_actions_on_a_direct_chat_are_refused(
    services: Services, alice: Person, bob: Person, carol: Person, chat: Chat
) -> None:
    for call in (
        lambda: services.groups.rename(alice.id, chat.id, "Us"),
        lambda: services.groups.add_members(alice.id, chat.id, [carol.id]),
        lambda: services.groups.leave(alice.id, chat.id),
    ):
        with pytest.raises((InvalidInput, Forbidden)):
            call()
    assert [u.id for u in services.chats.participants(alice.id, chat.id)] != []
    assert {m.user_id for m, _ in services.chats.members(alice.id, chat.id)} == {alice.id, bob.id}


def test_an_owner_who_leaves_hands_the_group_to_an_admin_then_the_longest_standing_member(
    services: Services,
    clock: FakeClock,
    alice: Person,
    bob: Person,
    carol: Person,
    dave: Person,
) -> None:
    chat = make_group(services, alice, bob)
    clock.advance(minutes=1)
    services.groups.add_members(alice.id, chat.id, [carol.id])
    clock.advance(minutes=1)
    services.groups.add_members(alice.id, chat.id, [dave.id])
    services.groups.set_role(alice.id, chat.id, dave.id, Role.ADMIN)

    services.groups.leave(alice.id, chat.id)
    # an admin first, even the newest one
    assert roles(services, bob, chat) == {
        "dave": Role.OWNER,
        "bob": Role.MEMBER,
        "carol": Role.MEMBER,
    }
    services.groups.leave(dave.id, chat.id)
    # no admins left: whoever has been in the group longest
    assert roles(services, bob, chat) == {"bob": Role.OWNER, "carol": Role.MEMBER}
    services.groups.add_members(bob.id, chat.id, [alice.id])  # the new owner can act
    assert events(services, bob, chat)[-3:] == ["left", "left", "added"]


def test_a_member_who_is_not_the_owner_leaves_without_changing_roles(
    services: Services, alice: Person, bob: Person, carol: Person
) -> None:
    chat = make_group(services, alice, bob, carol)
    services.groups.leave(carol.id, chat.id)
    assert roles(services, alice, chat) == {"alice": Role.OWNER, "bob": Role.MEMBER}
    with pytest.raises(NotFound):
        services.groups.leave(carol.id, chat.id)  # once is enough


# --- the 256 limit --------------------------------------------------------------------------


@pytest.fixture
def crowd(register: Register) -> list[Person]:
    """255 people: with alice, a full group."""
    return [register(f"member{i:03d}", f"Member {i}") for i in range(MAX_MEMBERS - 1)]


def test_a_group_holds_256_people_and_refuses_the_257th(
    services: Services, register: Register, alice: Person, crowd: list[Person]
) -> None:
    chat = make_group(services, alice, *crowd)
    assert services.chats.get_summary(alice.id, chat.id).member_count == MAX_MEMBERS
    latecomer = register("latecomer")
    before = history_ids(services, alice, chat)

    with pytest.raises(GroupFull) as full:
        services.groups.add_members(alice.id, chat.id, [latecomer.id])
    assert full.value.code == "group_full"
    assert full.value.message == "A group can have at most 256 members."
    assert full.value.params == {"limit": 256}
    assert history_ids(services, alice, chat) == before
    assert services.chats.list_chats(latecomer.id) == []

    # Someone leaving makes room again.
    services.groups.leave(crowd[0].id, chat.id)
    services.groups.add_members(alice.id, chat.id, [latecomer.id])
    assert services.chats.get_summary(latecomer.id, chat.id).member_count == MAX_MEMBERS


def test_creating_a_group_of_257_is_refused_and_creates_nothing(
    services: Services, register: Register, alice: Person, crowd: list[Person]
) -> None:
    one_too_many = [*crowd, register("latecomer")]
    with pytest.raises(GroupFull, match="at most 256 members"):
        make_group(services, alice, *one_too_many)
    assert services.chats.list_chats(alice.id) == []
    assert services.chats.list_chats(crowd[0].id) == []


# --- a removed member -----------------------------------------------------------------------


async def test_a_removed_member_hears_nothing_more_from_the_group(
    services: Services, alice: Person, bob: Person, carol: Person, dave: Person
) -> None:
    chat = make_group(services, alice, bob, carol)
    sub = services.bus.subscribe(carol.id)
    try:
        services.groups.remove_member(alice.id, chat.id, carol.id)
        # Carol's devices are told she was removed (the line, and that the chat changed) ...
        told = drain(sub)
        assert [type(e) for e in told] == [MessageCreated, ChatChanged]
        assert isinstance(told[0], MessageCreated)
        assert told[0].message.content["event"] == "removed"

        # ... and then nothing the group does reaches them.
        m = say(services, alice, chat, "after carol left")
        say(services, bob, chat, "bob too")
        services.receipts.mark_read(bob.id, chat.id, m)
        services.typing.set_typing(bob.id, chat.id, True)
        services.groups.rename(alice.id, chat.id, "Without carol")
        services.groups.add_members(alice.id, chat.id, [dave.id])
        services.groups.set_role(alice.id, chat.id, bob.id, Role.ADMIN)
        assert drain(sub) == []
        with pytest.raises(TimeoutError):
            await next_event(sub, timeout=0.05)
    finally:
        await sub.close()


def test_a_removed_member_can_no_longer_write_or_act(
    services: Services, alice: Person, bob: Person, carol: Person, dave: Person
) -> None:
    chat = make_group(services, alice, bob, carol)
    services.groups.set_role(alice.id, chat.id, carol.id, Role.ADMIN)
    services.groups.remove_member(alice.id, chat.id, carol.id)
    for call in (
        lambda: services.messaging.send_message(carol.id, chat.id, text_content("still here?")),
        lambda: services.typing.set_typing(carol.id, chat.id, True),
        lambda: services.groups.add_members(carol.id, chat.id, [dave.id]),
        lambda: services.groups.rename(carol.id, chat.id, "Revenge"),
        lambda: services.groups.remove_member(carol.id, chat.id, bob.id),
        lambda: services.groups.leave(carol.id, chat.id),
    ):
        with pytest.raises(NotFound):
            call()
    assert "carol" not in roles(services, alice, chat)
    assert events(services, alice, chat) == ["created", "removed"]


def test_a_removed_member_reads_up_to_the_removal_line_and_never_after(
    services: Services, alice: Person, bob: Person, carol: Person
) -> None:
    chat = make_group(services, alice, bob, carol)
    say(services, bob, chat, "before")
    services.groups.remove_member(alice.id, chat.id, carol.id)
    removal = last_id(services, alice, chat)
    say(services, bob, chat, "after")

    seen = history(services, carol, chat)
    assert [c.get("text") or c["event"] for c in seen] == ["created", "before", "removed"]
    assert history_ids(services, carol, chat)[-1] == removal
    # Catching up after a reconnect gives nothing past the line either.
    assert services.messaging.list_messages_after(carol.id, chat.id, removal).messages == []
    caught_up = services.messaging.list_messages_after(carol.id, chat.id, "")
    assert caught_up.messages[-1].id == removal
    # The others read on.
    assert [c.get("text") for c in history(services, bob, chat)][-1] == "after"


def test_search_ranges_end_at_the_removal_line(
    services: Services, alice: Person, bob: Person, carol: Person, dave: Person
) -> None:
    chat = make_group(services, alice, bob, carol)
    services.groups.remove_member(alice.id, chat.id, carol.id)
    removal = last_id(services, alice, chat)
    services.groups.add_members(alice.id, chat.id, [dave.id])
    added = last_id(services, alice, chat)
    say(services, alice, chat, "later")

    def ranges(who: Person) -> list[tuple[str, str, str]]:
        return [(r.chat_id, r.after, r.upto) for r in services.chats.readable_ranges(who.id)]

    assert ranges(bob) == [(chat.id, "", "")]
    assert ranges(carol) == [(chat.id, "", removal)]
    assert ranges(dave) == [(chat.id, added, "")]


def test_a_removed_members_unread_count_stops_at_the_removal(
    services: Services, alice: Person, bob: Person, carol: Person
) -> None:
    chat = make_group(services, alice, bob, carol)
    services.receipts.mark_read(carol.id, chat.id)
    say(services, bob, chat, "one")
    say(services, bob, chat, "two")
    services.groups.remove_member(alice.id, chat.id, carol.id)
    for n in range(3):
        say(services, bob, chat, f"after {n}")

    [summary] = services.chats.list_chats(carol.id)
    assert summary.unread == 3  # two messages and the line that says she was removed
    services.receipts.mark_read(carol.id, chat.id)  # reading everything she may read...
    assert services.chats.list_chats(carol.id)[0].unread == 0
    assert me_in(services, carol, chat).read_upto == me_in(services, carol, chat).visible_upto
    # ... never moves her watermark past the line, whatever the client claims.
    services.receipts.mark_read(carol.id, chat.id, new_message_id())
    assert me_in(services, carol, chat).read_upto == me_in(services, carol, chat).visible_upto


def test_a_removed_members_chat_list_shows_nothing_that_happened_later(
    services: Services, clock: FakeClock, alice: Person, bob: Person, carol: Person
) -> None:
    chat = make_group(services, alice, bob, carol)
    services.groups.remove_member(alice.id, chat.id, carol.id)
    removal = last_id(services, alice, chat)
    removed_at = clock()
    clock.advance(minutes=5)
    say(services, bob, chat, "secret plans")

    [summary] = services.chats.list_chats(carol.id)
    assert not summary.is_member
    assert summary.chat.last_message_id == removal
    assert summary.chat.last_activity_at == removed_at
    assert "secret" not in summary.chat.last_preview
    assert summary.chat.last_sender_id != bob.id
    # ... and the members still in it see the new message.
    assert services.chats.list_chats(bob.id)[0].chat.last_preview == "secret plans"


# --- a new member ---------------------------------------------------------------------------


def test_a_new_member_sees_the_group_from_the_line_that_added_them(
    services: Services, alice: Person, bob: Person, carol: Person
) -> None:
    chat = make_group(services, alice, bob)
    old = say(services, bob, chat, "before carol")
    services.groups.add_members(alice.id, chat.id, [carol.id])
    added = last_id(services, alice, chat)
    say(services, bob, chat, "welcome")

    assert history_ids(services, carol, chat)[0] == added
    assert [c.get("text") or c["event"] for c in history(services, carol, chat)] == [
        "added",
        "welcome",
    ]
    assert services.messaging.list_messages_after(carol.id, chat.id, "").messages[0].id == added
    assert services.chats.list_chats(carol.id)[0].unread == 1  # "welcome", not the old ones
    with pytest.raises(NotFound, match="No such message"):
        services.receipts.message_info(carol.id, chat.id, old)


def test_a_new_member_does_not_pull_the_groups_ticks_back(
    services: Services, alice: Person, bob: Person, carol: Person
) -> None:
    chat = make_group(services, alice, bob)
    m = say(services, alice, chat)
    services.receipts.mark_read(bob.id, chat.id)
    assert status(services, alice, chat, m) is MessageStatus.READ

    services.groups.add_members(alice.id, chat.id, [carol.id])
    assert status(services, alice, chat, m) is MessageStatus.READ
    # The next message waits for carol too.
    m2 = say(services, alice, chat, "for both")
    services.receipts.mark_read(bob.id, chat.id)
    assert status(services, alice, chat, m2) is MessageStatus.SENT
    services.receipts.mark_read(carol.id, chat.id)
    assert status(services, alice, chat, m2) is MessageStatus.READ


def test_someone_added_back_sees_from_the_line_that_added_them_again(
    services: Services, alice: Person, bob: Person, carol: Person
) -> None:
    chat = make_group(services, alice, bob, carol)
    services.groups.remove_member(alice.id, chat.id, carol.id)
    say(services, bob, chat, "while carol was away")
    services.groups.add_members(alice.id, chat.id, [carol.id])
    back = last_id(services, alice, chat)

    assert me_in(services, carol, chat).is_active
    assert roles(services, alice, chat)["carol"] is Role.MEMBER
    assert "while carol was away" not in [c.get("text") for c in history(services, carol, chat)]
    assert history_ids(services, carol, chat)[-1] == back
    say(services, carol, chat, "I'm back")  # and may write again


# --- group receipts -------------------------------------------------------------------------


def test_delivered_when_every_member_has_it_read_when_every_member_read_it(
    services: Services, alice: Person, bob: Person, carol: Person
) -> None:
    chat = make_group(services, alice, bob, carol)
    m = say(services, alice, chat)
    assert status(services, alice, chat, m) is MessageStatus.SENT

    services.receipts.mark_delivered(bob.id, chat.id, m)
    assert status(services, alice, chat, m) is MessageStatus.SENT  # carol hasn't got it
    services.receipts.mark_delivered(carol.id, chat.id, m)
    assert status(services, alice, chat, m) is MessageStatus.DELIVERED

    services.receipts.mark_read(bob.id, chat.id, m)
    assert status(services, alice, chat, m) is MessageStatus.DELIVERED
    services.receipts.mark_read(carol.id, chat.id, m)
    assert status(services, alice, chat, m) is MessageStatus.READ
    [summary] = [s for s in services.chats.list_chats(alice.id) if s.chat.id == chat.id]
    assert summary.receipts.status_of(m) is MessageStatus.READ


@pytest.mark.parametrize("how", ["leaves", "is removed"])
def test_someone_who_is_gone_no_longer_holds_the_ticks_back(
    services: Services, alice: Person, bob: Person, carol: Person, how: str
) -> None:
    chat = make_group(services, alice, bob, carol)
    m = say(services, alice, chat)
    services.receipts.mark_read(bob.id, chat.id, m)
    assert status(services, alice, chat, m) is MessageStatus.SENT  # carol has nothing yet

    if how == "leaves":
        services.groups.leave(carol.id, chat.id)
    else:
        services.groups.remove_member(alice.id, chat.id, carol.id)
    assert status(services, alice, chat, m) is MessageStatus.READ


# --- message info ---------------------------------------------------------------------------


def test_message_info_says_who_received_and_read_it_and_when(
    services: Services,
    clock: FakeClock,
    alice: Person,
    bob: Person,
    carol: Person,
    dave: Person,
) -> None:
    chat = make_group(services, alice, bob, carol)
    m = say(services, alice, chat)
    sent_at = clock()
    clock.advance(seconds=10)
    services.receipts.mark_delivered(bob.id, chat.id, m)
    bob_got = clock()
    clock.advance(seconds=10)
    services.receipts.mark_read(bob.id, chat.id, m)
    bob_read = clock()
    clock.advance(seconds=10)
    services.receipts.mark_delivered(carol.id, chat.id)
    carol_got = clock()
    clock.advance(seconds=10)
    services.groups.add_members(alice.id, chat.id, [dave.id])  # joined after m: not listed
    services.receipts.mark_read(dave.id, chat.id)
    clock.advance(seconds=10)
    services.receipts.mark_delivered(bob.id, chat.id)  # later moves keep the first times

    info = {
        r.user.username: (r.delivered_at, r.read_at)
        for r in services.receipts.message_info(alice.id, chat.id, m)
    }
    assert info == {"bob": (bob_got, bob_read), "carol": (carol_got, None)}
    assert bob_got > sent_at

    # Any member may ask (the one asking is left out).
    by_bob = services.receipts.message_info(bob.id, chat.id, m)
    assert {r.user.username for r in by_bob} == {"alice", "carol"}
    alice_row = next(r for r in by_bob if r.user.username == "alice")
    assert alice_row.read_at == sent_at  # writing it is reading it


def test_message_info_leaves_out_people_who_left(
    services: Services, alice: Person, bob: Person, carol: Person
) -> None:
    chat = make_group(services, alice, bob, carol)
    m = say(services, alice, chat)
    services.receipts.mark_read(carol.id, chat.id)
    services.groups.leave(carol.id, chat.id)
    assert [r.user.username for r in services.receipts.message_info(alice.id, chat.id, m)] == [
        "bob"
    ]


def test_message_info_of_unknown_or_unseen_messages_is_not_found(
    services: Services, alice: Person, bob: Person, carol: Person, dave: Person
) -> None:
    chat = make_group(services, alice, bob, carol)
    services.groups.remove_member(alice.id, chat.id, carol.id)
    later = say(services, alice, chat, "after carol")
    for who, message_id in (
        (alice, "not-an-id"),
        (alice, ""),
        (carol, later),  # sent after she was removed
    ):
        with pytest.raises(NotFound, match="No such message"):
            services.receipts.message_info(who.id, chat.id, message_id)
    with pytest.raises(NotFound, match="you are not in it"):
        services.receipts.message_info(dave.id, chat.id, later)


def test_a_removed_member_does_not_learn_who_joined_or_left_later(
    services: Services, alice: Person, bob: Person, carol: Person, dave: Person
) -> None:
    chat = make_group(services, alice, bob, carol)
    services.groups.remove_member(alice.id, chat.id, carol.id)
    services.groups.add_members(alice.id, chat.id, [dave.id])
    services.groups.leave(bob.id, chat.id)

    # Carol sees the group as it was when she was removed: alice and bob, not dave.
    assert {u.username for _, u in services.chats.members(carol.id, chat.id)} == {"alice", "bob"}
    assert {u.username for u in services.chats.participants(carol.id, chat.id)} == {
        "alice",
        "bob",
    }
    assert services.chats.get_summary(carol.id, chat.id).member_count == 2
    [summary] = services.chats.list_chats(carol.id)
    assert summary.member_count == 2
    # The members still in it see it as it is.
    assert {u.username for _, u in services.chats.members(alice.id, chat.id)} == {
        "alice",
        "dave",
    }
    assert services.chats.get_summary(dave.id, chat.id).member_count == 2


async def test_a_removed_member_reading_what_they_kept_is_their_own_business(
    services: Services, alice: Person, bob: Person, carol: Person
) -> None:
    chat = make_group(services, alice, bob, carol)
    services.groups.remove_member(alice.id, chat.id, carol.id)
    removal = last_id(services, alice, chat)
    later = say(services, alice, chat, "after carol")
    services.receipts.mark_read(bob.id, chat.id, later)  # the group has read past her line
    subs = {p.user.username: services.bus.subscribe(p.id) for p in (alice, bob, carol)}
    try:
        services.receipts.mark_read(carol.id, chat.id)

        # Her own devices hear that she read up to the line, and nothing about later messages:
        # the group's ticks they are told are capped at the line too.
        [heard] = drain(subs["carol"])
        assert isinstance(heard, ReceiptsChanged)
        assert heard.read_upto == heard.delivered_upto == removal
        assert heard.chat_receipts.delivered_upto <= removal
        assert heard.chat_receipts.read_upto <= removal
        # The group is not told: she no longer counts for its ticks.
        assert drain(subs["alice"]) == drain(subs["bob"]) == []
    finally:
        for sub in subs.values():
            await sub.close()


@pytest.mark.parametrize("how", ["leaves", "is removed"])
def test_a_group_renamed_after_someone_left_keeps_its_old_name_for_them(
    services: Services, alice: Person, bob: Person, carol: Person, how: str
) -> None:
    chat = make_group(services, alice, bob, carol, title="Old name")
    if how == "leaves":
        services.groups.leave(carol.id, chat.id)
    else:
        services.groups.remove_member(alice.id, chat.id, carol.id)
    services.groups.rename(alice.id, chat.id, "Secret new name")

    [summary] = services.chats.list_chats(carol.id)
    assert summary.title == summary.chat.title == "Old name"
    assert services.chats.get_summary(carol.id, chat.id).title == "Old name"
    assert services.chats.list_chats(bob.id)[0].title == "Secret new name"


def test_message_info_for_someone_who_left_stops_where_they_left(
    services: Services,
    clock: FakeClock,
    alice: Person,
    bob: Person,
    carol: Person,
    dave: Person,
) -> None:
    chat = make_group(services, alice, bob, carol, dave)
    m = say(services, carol, chat, "carol's last words")
    services.receipts.mark_read(dave.id, chat.id, m)
    dave_read = clock()
    clock.advance(minutes=1)
    services.groups.leave(carol.id, chat.id)
    clock.advance(minutes=1)
    services.receipts.mark_read(bob.id, chat.id, m)  # after she left: not hers to learn
    services.groups.leave(dave.id, chat.id)  # nor that dave left later

    info = {
        r.user.username: r.read_at for r in services.receipts.message_info(carol.id, chat.id, m)
    }
    assert info == {"alice": None, "bob": None, "dave": dave_read}
    # The members still in it see it as it is.
    info = {
        r.user.username: r.read_at for r in services.receipts.message_info(alice.id, chat.id, m)
    }
    assert set(info) == {"bob"} and info["bob"] is not None


def test_two_admins_adding_at_once_cannot_pass_256(
    services: Services, register: Register, alice: Person, bob: Person, crowd: list[Person]
) -> None:
    chat = make_group(services, alice, bob, *crowd[:-1])  # 256 people
    services.groups.leave(crowd[0].id, chat.id)  # room for exactly one more
    services.groups.set_role(alice.id, chat.id, bob.id, Role.ADMIN)
    newcomers = [register("first_in"), register("second_in")]
    start = threading.Barrier(2)
    outcomes: list[str] = []

    def add(admin: Person, newcomer: Person) -> None:
        start.wait()
        try:
            services.groups.add_members(admin.id, chat.id, [newcomer.id])
            outcomes.append("added")
        except GroupFull:
            outcomes.append("full")

    threads = [
        threading.Thread(target=add, args=(admin, newcomer))
        for admin, newcomer in zip((alice, bob), newcomers, strict=True)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert sorted(outcomes) == ["added", "full"]
    assert services.chats.get_summary(alice.id, chat.id).member_count == MAX_MEMBERS
