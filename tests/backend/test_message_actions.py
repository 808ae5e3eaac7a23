"""Message actions: replies, reactions, stars, forwarding, edits and deletes, with their rules,
and the events every member's devices get for them."""

from __future__ import annotations

import json

import pytest

from backend.container import Services
from backend.content import text_content
from backend.errors import Forbidden, InvalidInput, NotFound
from backend.events import (
    MessageCreated,
    MessageHidden,
    MessageUpdated,
    StarChanged,
    event_from_dict,
    event_to_dict,
)
from backend.models import Chat, Message, Quote, Reaction
from tests.backend.helpers import Person, settled
from tests.conftest import FakeClock


def say(services: Services, who: Person, chat: Chat, text: str, reply_to: str = "") -> Message:
    return services.messaging.send_message(who.id, chat.id, text_content(text), reply_to=reply_to)


def seen_by(services: Services, who: Person, chat: Chat) -> list[Message]:
    return services.messaging.list_messages(who.id, chat.id, limit=100).messages


def one(services: Services, who: Person, chat: Chat, message_id: str) -> Message:
    return next(m for m in seen_by(services, who, chat) if m.id == message_id)


@pytest.fixture
def outsider_chat(services: Services, carol: Person, dave: Person) -> Chat:
    return services.chats.open_direct_chat(carol.id, dave.id)


# --- replies --------------------------------------------------------------------------------


def test_a_reply_quotes_the_sender_and_a_preview_of_the_original(
    services: Services, alice: Person, bob: Person, chat: Chat
) -> None:
    original = say(services, alice, chat, "Lunch  at\nnoon?")
    reply = say(services, bob, chat, "Yes!", reply_to=original.id)

    assert reply.quote == Quote(original.id, alice.id, "Lunch at noon?")
    assert one(services, alice, chat, reply.id).quote == reply.quote


def test_replying_to_a_message_of_another_chat_or_nothing_is_refused_and_stores_nothing(
    services: Services, alice: Person, bob: Person, carol: Person, chat: Chat, outsider_chat: Chat
) -> None:
    elsewhere = say(services, carol, outsider_chat, "secret")
    with_carol = services.chats.open_direct_chat(alice.id, carol.id)
    mine_elsewhere = say(services, alice, with_carol, "to carol")
    for bad in (
        elsewhere.id,
        mine_elsewhere.id,
        "not-an-id",
        "01a2101b-ee53-7000-8881-e88d4fab3664",
    ):
        with pytest.raises(InvalidInput):
            say(services, alice, chat, "re", reply_to=bad)
    assert seen_by(services, bob, chat) == []


async def test_a_quote_follows_edits_and_deletion_of_the_original(
    services: Services, clock: FakeClock, alice: Person, bob: Person, chat: Chat
) -> None:
    original = say(services, alice, chat, "see you at 5")
    reply = say(services, bob, chat, "ok", reply_to=original.id)
    sub = services.bus.subscribe(bob.id)

    services.message_actions.edit(alice.id, original.id, text_content("see you at 6"))
    assert one(services, bob, chat, reply.id).quote == Quote(original.id, alice.id, "see you at 6")

    services.message_actions.delete_for_everyone(alice.id, original.id)
    assert one(services, bob, chat, reply.id).quote == Quote(original.id, alice.id, "", True)
    with pytest.raises(InvalidInput):  # nobody replies to a tombstone
        say(services, bob, chat, "what?", reply_to=original.id)

    updated = [e.message for e in await settled(services.bus, sub) if isinstance(e, MessageUpdated)]
    # each change announced the original and the reply whose quote changed with it
    assert [m.id for m in updated] == [original.id, reply.id, original.id, reply.id]
    assert updated[-1].quote == Quote(original.id, alice.id, "", True)


# --- reactions ------------------------------------------------------------------------------


def test_reactions_toggle_replace_and_are_one_per_user(
    services: Services, alice: Person, bob: Person, chat: Chat
) -> None:
    m = say(services, alice, chat, "news")
    actions = services.message_actions

    assert actions.toggle_reaction(bob.id, m.id, "heart").reactions == (Reaction(bob.id, "❤️"),)
    assert set(actions.toggle_reaction(alice.id, m.id, "😂").reactions) == {
        Reaction(bob.id, "❤️"),
        Reaction(alice.id, "😂"),
    }
    # another emoji replaces bob's; the same one again removes it
    assert Reaction(bob.id, "👍") in actions.toggle_reaction(bob.id, m.id, "thumbsup").reactions
    assert actions.toggle_reaction(bob.id, m.id, "👍").reactions == (Reaction(alice.id, "😂"),)
    # setting (the API's PUT) is idempotent, removing twice is fine
    actions.react(bob.id, m.id, "pray")
    assert actions.react(bob.id, m.id, "pray").reactions.count(Reaction(bob.id, "🙏")) == 1
    actions.unreact(bob.id, m.id)
    assert actions.unreact(bob.id, m.id).reactions == (Reaction(alice.id, "😂"),)
    assert one(services, bob, chat, m.id).reactions == (Reaction(alice.id, "😂"),)


async def test_every_reaction_change_reaches_all_members_and_no_change_sends_nothing(
    services: Services, alice: Person, bob: Person, chat: Chat
) -> None:
    m = say(services, alice, chat, "news")
    subs = {p.id: services.bus.subscribe(p.id) for p in (alice, bob)}

    services.message_actions.react(bob.id, m.id, "wow")
    services.message_actions.react(bob.id, m.id, "wow")  # no change

    for sub in subs.values():
        [event] = await settled(services.bus, sub)
        assert isinstance(event, MessageUpdated)
        assert event.message.reactions == (Reaction(bob.id, "😮"),)


@pytest.mark.parametrize("emoji", ["", "a", "👍👍", "<b>x</b>", "thumbs", 7, None, "👍" * 40])
def test_a_reaction_must_be_one_emoji(
    services: Services, alice: Person, bob: Person, chat: Chat, emoji: object
) -> None:
    m = say(services, alice, chat, "news")
    with pytest.raises(InvalidInput):
        services.message_actions.react(bob.id, m.id, emoji)
    assert one(services, bob, chat, m.id).reactions == ()


def test_outsiders_cannot_react_star_forward_edit_or_delete_and_learn_nothing(
    services: Services, alice: Person, bob: Person, carol: Person, chat: Chat
) -> None:
    m = say(services, alice, chat, "private")
    with_carol = services.chats.open_direct_chat(carol.id, alice.id)
    actions = services.message_actions
    attempts = [
        lambda mid: actions.react(carol.id, mid, "heart"),
        lambda mid: actions.toggle_reaction(carol.id, mid, "heart"),
        lambda mid: actions.star(carol.id, mid),
        lambda mid: actions.forward(carol.id, mid, [with_carol.id]),
        lambda mid: actions.edit(carol.id, mid, text_content("x")),
        lambda mid: actions.delete_for_everyone(carol.id, mid),
        lambda mid: actions.delete_for_me(carol.id, mid),
    ]
    for attempt in attempts:
        for message_id in (m.id, "01a2101b-ee53-7000-8881-e88d4fab3664", "nonsense"):
            with pytest.raises(NotFound) as refused:
                attempt(message_id)
            assert refused.value.message == "This message doesn't exist or you can't see it."
    assert one(services, bob, chat, m.id) == m
    assert seen_by(services, carol, with_carol) == []


# --- stars ----------------------------------------------------------------------------------


async def test_stars_are_per_user_listed_across_chats_newest_first_and_told_to_own_devices(
    services: Services, alice: Person, bob: Person, carol: Person, chat: Chat
) -> None:
    with_carol = services.chats.open_direct_chat(alice.id, carol.id)
    first = say(services, bob, chat, "first")
    second = say(services, carol, with_carol, "second")
    third = say(services, alice, chat, "third")
    subs = {p.id: services.bus.subscribe(p.id) for p in (alice, bob)}

    for m in (first, second, third):
        services.message_actions.star(alice.id, m.id)
    services.message_actions.star(alice.id, first.id)  # again: no change, no event

    starred, cursor = services.message_actions.list_starred(alice.id)
    assert [m.id for m in starred] == [third.id, second.id, first.id] and cursor == ""
    assert services.message_actions.list_starred(bob.id) == ([], "")
    page, cursor = services.message_actions.list_starred(alice.id, limit=2)
    assert [m.id for m in page] == [third.id, second.id]
    rest, end = services.message_actions.list_starred(alice.id, before=cursor, limit=2)
    assert [m.id for m in rest] == [first.id] and end == ""

    everything = [first.id, second.id, third.id]
    assert services.message_actions.starred_among(alice.id, everything) == set(everything)
    assert services.message_actions.starred_among(bob.id, everything) == set()
    services.message_actions.star(alice.id, second.id, starred=False)
    assert [m.id for m in services.message_actions.list_starred(alice.id)[0]] == [
        third.id,
        first.id,
    ]
    events = await settled(services.bus, subs[alice.id])
    assert [(type(e), e.message_id, e.starred) for e in events if isinstance(e, StarChanged)] == [
        (StarChanged, first.id, True),
        (StarChanged, second.id, True),
        (StarChanged, third.id, True),
        (StarChanged, second.id, False),
    ]
    assert await settled(services.bus, subs[bob.id]) == []


def test_starred_messages_of_a_deleted_message_disappear(
    services: Services, alice: Person, bob: Person, chat: Chat
) -> None:
    m = say(services, alice, chat, "soon gone")
    services.message_actions.star(bob.id, m.id)
    services.message_actions.delete_for_everyone(alice.id, m.id)
    assert services.message_actions.list_starred(bob.id) == ([], "")
    with pytest.raises(InvalidInput):
        services.message_actions.star(bob.id, m.id)


# --- forwarding -----------------------------------------------------------------------------


async def test_forwarding_to_several_chats_copies_the_content_marked_forwarded(
    services: Services, alice: Person, bob: Person, carol: Person, dave: Person, chat: Chat
) -> None:
    original = say(services, bob, chat, "pass it on")
    to_carol = services.chats.open_direct_chat(alice.id, carol.id)
    to_dave = services.chats.open_direct_chat(alice.id, dave.id)
    carol_sub = services.bus.subscribe(carol.id)

    copies = services.message_actions.forward(
        alice.id, original.id, [to_carol.id, to_dave.id, to_carol.id]
    )

    assert [c.chat_id for c in copies] == [to_carol.id, to_dave.id]
    for copy in copies:
        assert copy.forwarded and copy.sender_id == alice.id
        assert copy.content == original.content and copy.id != original.id
    assert seen_by(services, carol, to_carol) == [copies[0]]
    assert seen_by(services, dave, to_dave) == [copies[1]]
    assert [
        e.message for e in await settled(services.bus, carol_sub) if isinstance(e, MessageCreated)
    ] == [copies[0]]
    assert not one(services, bob, chat, original.id).forwarded


def test_forwarding_is_all_or_nothing_over_the_targets_membership(
    services: Services, alice: Person, bob: Person, carol: Person, dave: Person, chat: Chat
) -> None:
    original = say(services, bob, chat, "pass it on")
    to_carol = services.chats.open_direct_chat(alice.id, carol.id)
    not_mine = services.chats.open_direct_chat(carol.id, dave.id)

    with pytest.raises(NotFound):
        services.message_actions.forward(alice.id, original.id, [to_carol.id, not_mine.id])
    with pytest.raises(NotFound):  # a chat the forwarder isn't in, even as the only target
        services.message_actions.forward(alice.id, original.id, [not_mine.id])
    for bad in ([], "x", [1], ["a"] * 0, [to_carol.id] + [str(i) for i in range(5)]):
        with pytest.raises(InvalidInput):
            services.message_actions.forward(alice.id, original.id, bad)
    assert seen_by(services, carol, to_carol) == []
    assert seen_by(services, carol, not_mine) == []


def test_nobody_forwards_a_deleted_message(
    services: Services, alice: Person, bob: Person, carol: Person, chat: Chat
) -> None:
    original = say(services, bob, chat, "oops")
    services.message_actions.delete_for_everyone(bob.id, original.id)
    to_carol = services.chats.open_direct_chat(alice.id, carol.id)
    with pytest.raises(InvalidInput):
        services.message_actions.forward(alice.id, original.id, [to_carol.id])


# --- edit -----------------------------------------------------------------------------------


async def test_the_sender_edits_within_15_minutes_and_everyone_sees_it_edited(
    services: Services, clock: FakeClock, alice: Person, bob: Person, chat: Chat
) -> None:
    m = say(services, alice, chat, "helo")
    bob_sub = services.bus.subscribe(bob.id)
    clock.advance(minutes=14, seconds=59)

    edited = services.message_actions.edit(alice.id, m.id, text_content(" hello "))

    assert edited.content == text_content("hello")
    assert edited.edited_at == clock()
    assert edited.id == m.id and edited.created_at == m.created_at
    assert one(services, bob, chat, m.id) == edited
    [event] = await settled(services.bus, bob_sub)
    assert isinstance(event, MessageUpdated) and event.message == edited


def test_editing_after_the_window_or_someone_elses_message_is_refused(
    services: Services, clock: FakeClock, alice: Person, bob: Person, chat: Chat
) -> None:
    m = say(services, alice, chat, "original")
    with pytest.raises(Forbidden):
        services.message_actions.edit(bob.id, m.id, text_content("bob was here"))
    clock.advance(minutes=15, seconds=1)
    with pytest.raises(Forbidden, match="15 minutes"):
        services.message_actions.edit(alice.id, m.id, text_content("too late"))
    for bad in ({"type": "text", "text": "  "}, {"type": "image"}, "text", None):
        with pytest.raises(InvalidInput):
            services.message_actions.edit(alice.id, say(services, alice, chat, "x").id, bad)
    assert one(services, bob, chat, m.id).content == text_content("original")
    assert one(services, bob, chat, m.id).edited_at is None


async def test_editing_to_the_same_text_changes_nothing(
    services: Services, alice: Person, bob: Person, chat: Chat
) -> None:
    m = say(services, alice, chat, "same")
    bob_sub = services.bus.subscribe(bob.id)
    assert services.message_actions.edit(alice.id, m.id, text_content("same")) == m
    assert await settled(services.bus, bob_sub) == []


# --- delete ---------------------------------------------------------------------------------


async def test_delete_for_everyone_leaves_a_tombstone_for_everyone_live(
    services: Services, clock: FakeClock, alice: Person, bob: Person, chat: Chat
) -> None:
    m = say(services, alice, chat, "wrong chat!")
    services.message_actions.react(bob.id, m.id, "joy")
    services.message_actions.star(bob.id, m.id)
    subs = {p.id: services.bus.subscribe(p.id) for p in (alice, bob)}
    clock.advance(minutes=59)

    tombstone = services.message_actions.delete_for_everyone(alice.id, m.id)

    assert tombstone.content == {"type": "deleted"}
    assert tombstone.deleted_at == clock() and tombstone.reactions == ()
    for who in (alice, bob):
        assert seen_by(services, who, chat) == [tombstone]
        [event] = await settled(services.bus, subs[who.id])
        assert isinstance(event, MessageUpdated) and event.message == tombstone
    with pytest.raises(InvalidInput):
        services.message_actions.edit(alice.id, m.id, text_content("undo"))
    with pytest.raises(InvalidInput):
        services.message_actions.react(bob.id, m.id, "heart")


async def test_deleting_for_everyone_twice_is_a_no_op_that_returns_the_tombstone(
    services: Services, clock: FakeClock, alice: Person, bob: Person, chat: Chat
) -> None:
    m = say(services, alice, chat, "bye")
    first = services.message_actions.delete_for_everyone(alice.id, m.id)
    bob_sub = services.bus.subscribe(bob.id)
    clock.advance(hours=2)  # even after the window: it is already done

    assert services.message_actions.delete_for_everyone(alice.id, m.id) == first
    assert await settled(services.bus, bob_sub) == []


def test_only_the_sender_deletes_for_everyone_and_only_within_an_hour(
    services: Services, clock: FakeClock, alice: Person, bob: Person, chat: Chat
) -> None:
    m = say(services, alice, chat, "keep")
    with pytest.raises(Forbidden):
        services.message_actions.delete_for_everyone(bob.id, m.id)
    clock.advance(hours=1, seconds=1)
    with pytest.raises(Forbidden):
        services.message_actions.delete_for_everyone(alice.id, m.id)
    assert one(services, bob, chat, m.id).content == text_content("keep")


async def test_delete_for_me_hides_it_from_my_history_only(
    services: Services, alice: Person, bob: Person, chat: Chat
) -> None:
    keep, gone = say(services, alice, chat, "keep"), say(services, alice, chat, "gone")
    services.message_actions.star(bob.id, gone.id)
    subs = {p.id: services.bus.subscribe(p.id) for p in (alice, bob)}

    services.message_actions.delete_for_me(bob.id, gone.id)

    assert seen_by(services, bob, chat) == [keep]
    assert services.messaging.list_messages_after(bob.id, chat.id, "").messages == [keep]
    assert seen_by(services, alice, chat) == [keep, gone]
    assert services.message_actions.list_starred(bob.id) == ([], "")
    assert await settled(services.bus, subs[bob.id]) == [MessageHidden(chat.id, gone.id)]
    assert await settled(services.bus, subs[alice.id]) == []
    # It is gone for bob: acting on it again (deleting included) is NotFound.
    with pytest.raises(NotFound):
        services.message_actions.delete_for_me(bob.id, gone.id)
    with pytest.raises(NotFound):
        services.message_actions.react(bob.id, gone.id, "heart")


# --- events on the wire ---------------------------------------------------------------------


async def test_the_new_events_survive_the_round_trip_through_json(
    services: Services, clock: FakeClock, alice: Person, bob: Person, chat: Chat
) -> None:
    original = say(services, alice, chat, "héllo")
    reply = say(services, bob, chat, "re", reply_to=original.id)
    sub = services.bus.subscribe(bob.id)
    services.message_actions.react(bob.id, original.id, "👨‍👩‍👧")
    services.message_actions.edit(alice.id, original.id, text_content("hello"))
    services.message_actions.star(bob.id, reply.id)
    services.message_actions.forward(bob.id, original.id, [chat.id])
    say(services, bob, chat, "another", reply_to=original.id)
    services.message_actions.delete_for_me(bob.id, reply.id)
    services.message_actions.delete_for_everyone(alice.id, original.id)
    events = await settled(services.bus, sub)
    assert {type(e) for e in events} == {MessageCreated, MessageUpdated, StarChanged, MessageHidden}
    created = [e.message for e in events if isinstance(e, MessageCreated)]
    assert created[0].forwarded and created[1].quote is not None

    for event in events:
        back = event_from_dict(json.loads(json.dumps(event_to_dict(event))))
        assert back == event


def test_the_chat_list_preview_follows_an_edit_and_forgets_a_deleted_message(
    services: Services, alice: Person, bob: Person, chat: Chat
) -> None:
    say(services, alice, chat, "older")
    last = say(services, alice, chat, "my pin is 1234")

    def preview() -> str:
        return services.chats.get_summary(bob.id, chat.id).chat.last_preview

    services.message_actions.edit(alice.id, last.id, text_content("my pin is ****"))
    assert preview() == "my pin is ****"
    services.message_actions.delete_for_everyone(alice.id, last.id)
    assert preview() == ""
