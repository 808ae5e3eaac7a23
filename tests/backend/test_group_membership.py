"""Membership history: what removed, departed and newly added members can see."""

from __future__ import annotations

import pytest

from backend.container import Services
from backend.content import text_content
from backend.errors import NotFound
from backend.events import ChatChanged, MessageCreated, ReceiptsChanged
from backend.ids import new_message_id
from backend.models import MessageStatus, Role
from tests.backend.group_helpers import (
    events,
    history,
    history_ids,
    last_id,
    make_group,
    me_in,
    roles,
    say,
    status,
)
from tests.backend.helpers import Person, next_event, settle
from tests.conftest import FakeClock

# --- a removed member -----------------------------------------------------------------------


async def test_a_removed_member_hears_nothing_more_from_the_group(
    services: Services, alice: Person, bob: Person, carol: Person, dave: Person
) -> None:
    chat = make_group(services, alice, bob, carol)
    sub = services.bus.subscribe(carol.id)
    try:
        services.groups.remove_member(alice.id, chat.id, carol.id)
        # Carol's devices are told she was removed (the line, and that the chat changed) ...
        told = await settle(sub)
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
        assert await settle(sub) == []
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
        [heard] = await settle(subs["carol"])
        assert isinstance(heard, ReceiptsChanged)
        assert heard.read_upto == heard.delivered_upto == removal
        assert heard.chat_receipts.delivered_upto <= removal
        assert heard.chat_receipts.read_upto <= removal
        # The group is not told: she no longer counts for its ticks.
        assert await settle(subs["alice"]) == await settle(subs["bob"]) == []
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
