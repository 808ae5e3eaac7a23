"""The MessageActionStore contract (with the history it changes), on SQLite, PostgreSQL and
Cassandra: edits, tombstones, reactions, stars and delete-for-me."""

from __future__ import annotations

import dataclasses
import threading
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import pytest

from backend.content import text_content
from backend.ids import MessageIdGenerator
from backend.models import Message, Quote, Reaction
from tests.contracts.conftest import NOW, MessageBackend
from tests.contracts.test_message_store import draft, ids_at

TOMBSTONE = {"type": "deleted"}
LATER = NOW + timedelta(minutes=5)


@pytest.fixture
def backend(message_backend: MessageBackend) -> MessageBackend:
    return message_backend


def send(
    backend: MessageBackend,
    chat: str,
    sender: str,
    text: str,
    new_id: Callable[[], str],
    reply_to: Message | None = None,
    temp_id: str = "",
) -> Message:
    message = draft(chat, sender, text, temp_id)
    if reply_to is not None:
        quote = Quote(reply_to.id, reply_to.sender_id, str(reply_to.content.get("text", "")))
        message = dataclasses.replace(message, quote=quote)
    return backend.store.add_message(message, new_id)[0]


def everything(backend: MessageBackend, chat: str, viewer: str = "") -> list[Message]:
    """The whole chat as ``viewer`` reads it, newest first, paged through in small pages."""
    found, cursor = [], ""
    while page := backend.store.list_before(chat, cursor, 3, viewer_id=viewer):
        found += page
        cursor = page[-1].id
    return found


def everything_forward(backend: MessageBackend, chat: str, viewer: str = "") -> list[Message]:
    found, cursor = [], ""
    while page := backend.store.list_after(chat, cursor, 3, viewer_id=viewer):
        found += page
        cursor = page[-1].id
    return found


def race(*calls: Callable[[], object]) -> None:
    """Run the calls at the same instant on threads of their own, and wait for them all."""
    start = threading.Barrier(len(calls))

    def run(call: Callable[[], object]) -> None:
        start.wait()
        call()

    threads = [threading.Thread(target=run, args=(call,)) for call in calls]
    for t in threads:
        t.start()
    for t in threads:
        t.join()


def last_preview(backend: MessageBackend, chat: str, viewer: str) -> str:
    """The preview of the chat's last message in the viewer's chat list."""
    found = backend.chats.get_chat_and_member(chat, viewer)
    assert found is not None
    return backend.chat_list.with_activity(viewer, found[0]).last_preview


# --- replies and forwards -------------------------------------------------------------------


def test_a_reply_and_a_forward_read_back_alike_on_every_path(backend: MessageBackend) -> None:
    chat, alice, bob = backend.new_chat()
    new_id = MessageIdGenerator()
    original = send(backend, chat, alice, "lunch?", new_id)
    reply = send(backend, chat, bob, "yes", new_id, reply_to=original, temp_id="t-reply")
    forward = backend.store.add_message(
        dataclasses.replace(draft(chat, bob, "fw", "t-fw"), forwarded=True), new_id
    )[0]
    store = backend.store

    assert reply.quote == Quote(original.id, alice, "lunch?")
    assert store.list_before(chat, "", 10, viewer_id=bob) == [forward, reply, original]
    assert store.list_after(chat, original.id, 10, viewer_id=alice) == [reply, forward]
    assert store.get_message(reply.id) == reply
    assert store.find_sent(chat, bob, "t-reply") == reply
    assert store.find_sent(chat, bob, "t-fw") == forward
    # a resend of the reply returns it as stored
    again, is_new = store.add_message(
        dataclasses.replace(draft(chat, bob, "yes", "t-reply"), quote=reply.quote), new_id
    )
    assert (again, is_new) == (reply, False)


# --- edit -----------------------------------------------------------------------------------


def test_an_edit_changes_the_words_marks_it_edited_and_refreshes_the_quotes_of_replies(
    backend: MessageBackend,
) -> None:
    chat, alice, bob = backend.new_chat()
    new_id = MessageIdGenerator()
    original = send(backend, chat, alice, "see you at 5", new_id)
    unrelated = send(backend, chat, bob, "hm", new_id)
    replies = [
        send(backend, chat, who, "ok", new_id, reply_to=original) for who in (bob, alice, bob)
    ]
    backend.actions.set_reaction(original.id, chat, bob, "👍", NOW)

    result = backend.actions.edit_message(original.id, text_content("see you at 6"), LATER)

    assert result is not None
    edited, requoted = result
    assert edited == dataclasses.replace(
        original,
        content=text_content("see you at 6"),
        edited_at=LATER,
        reactions=(Reaction(bob, "👍"),),
    )
    new_quote = Quote(original.id, alice, "see you at 6")
    assert requoted == [dataclasses.replace(r, quote=new_quote) for r in replies]
    assert everything(backend, chat) == [*requoted[::-1], unrelated, edited]
    assert backend.store.get_message(edited.id) == edited


def test_replies_on_many_days_are_all_requoted(backend: MessageBackend) -> None:
    """Replies spread over several day partitions (Cassandra rewrites them a partition at a
    time): each gets the new quote, once."""
    chat, alice, bob = backend.new_chat()
    new_id = ids_at(datetime(2025, 9, 1, tzinfo=UTC), timedelta(hours=5))
    original = send(backend, chat, alice, "plan", new_id)
    replies = [send(backend, chat, bob, f"re {i}", new_id, reply_to=original) for i in range(12)]

    result = backend.actions.edit_message(original.id, text_content("new plan"), LATER)

    assert result is not None
    assert [r.id for r in result[1]] == [r.id for r in replies]
    quote = Quote(original.id, alice, "new plan")
    assert all(m.quote == quote for m in everything(backend, chat) if m.id != original.id)


def test_a_tombstone_cannot_be_edited(backend: MessageBackend) -> None:
    chat, alice, _ = backend.new_chat()
    message = send(backend, chat, alice, "x", MessageIdGenerator())
    assert backend.actions.delete_message(message.id, NOW) is not None
    assert backend.actions.edit_message(message.id, text_content("back"), LATER) is None
    assert backend.store.get_message(message.id).content == TOMBSTONE  # type: ignore[union-attr]


# --- delete for everyone --------------------------------------------------------------------


def test_a_delete_leaves_a_tombstone_with_no_words_reactions_stars_or_quote(
    backend: MessageBackend,
) -> None:
    chat, alice, bob = backend.new_chat()
    new_id = MessageIdGenerator()
    question = send(backend, chat, bob, "question", new_id)
    answer = send(backend, chat, alice, "secret answer", new_id, reply_to=question)
    follow_up = send(backend, chat, bob, "thanks", new_id, reply_to=answer)
    actions = backend.actions
    actions.set_reaction(answer.id, chat, bob, "❤️", NOW)
    for who in (alice, bob):
        actions.set_star(who, answer, True, NOW)

    result = actions.delete_message(answer.id, LATER)

    assert result is not None
    tombstone, requoted = result
    assert tombstone == dataclasses.replace(
        answer, content=TOMBSTONE, deleted_at=LATER, quote=None, reactions=()
    )
    assert requoted == [dataclasses.replace(follow_up, quote=Quote(answer.id, alice, "", True))]
    assert everything(backend, chat) == [requoted[0], tombstone, question]
    assert backend.store.get_message(answer.id) == tombstone
    for who in (alice, bob):
        assert actions.list_starred(who, "", 10) == []
        assert actions.starred_among(who, [answer.id]) == set()
    # a second delete changes nothing; reacting again leaves no reaction on it
    assert actions.delete_message(answer.id, LATER + timedelta(minutes=1)) is None
    assert backend.store.get_message(answer.id) == tombstone
    # the tombstone is no longer a reply: editing what it quoted leaves it alone
    edit = actions.edit_message(question.id, text_content("question?"), LATER)
    assert edit is not None and edit[1] == []
    assert backend.store.get_message(answer.id) == tombstone


def test_the_chat_list_preview_follows_an_edit_and_a_delete_of_the_last_message(
    backend: MessageBackend,
) -> None:
    chat, alice, bob = backend.new_chat()
    new_id = MessageIdGenerator()
    older = send(backend, chat, alice, "older", new_id)
    last = send(backend, chat, alice, "my pin is 1234", new_id)
    backend.chat_list.record_activity(
        chat, last.id, last.created_at, "my pin is 1234", alice, [alice, bob]
    )

    backend.actions.edit_message(older.id, text_content("not the last"), LATER)
    assert last_preview(backend, chat, bob) == "my pin is 1234"
    backend.actions.edit_message(last.id, text_content("my pin is ****"), LATER)
    assert last_preview(backend, chat, bob) == "my pin is ****"
    backend.actions.delete_message(last.id, LATER)
    assert [last_preview(backend, chat, viewer) for viewer in (alice, bob)] == ["", ""]


def test_an_edit_racing_a_delete_never_brings_the_words_back(backend: MessageBackend) -> None:
    """Whatever order they land in, the message ends a tombstone and every reply's quote says
    it was deleted."""
    chat, alice, bob = backend.new_chat()
    new_id = MessageIdGenerator()
    for round_ in range(4):
        original = send(backend, chat, alice, f"oops {round_}", new_id)
        replies = [send(backend, chat, bob, "?", new_id, reply_to=original) for _ in range(3)]
        race(
            lambda m=original: backend.actions.edit_message(m.id, text_content("edited"), LATER),
            lambda m=original: backend.actions.delete_message(m.id, LATER),
        )

        final = backend.store.get_message(original.id)
        assert final is not None and final.content == TOMBSTONE
        for reply in replies:
            read = backend.store.get_message(reply.id)
            assert read is not None and read.quote == Quote(original.id, alice, "", True)


# --- reactions ------------------------------------------------------------------------------


def test_one_reaction_per_user_replaced_or_removed(backend: MessageBackend) -> None:
    chat, alice, bob = backend.new_chat()
    message = send(backend, chat, alice, "news", MessageIdGenerator())
    react = backend.actions.set_reaction

    assert react(message.id, chat, bob, "❤️", NOW)
    assert not react(message.id, chat, bob, "❤️", NOW)  # the same again: no change
    assert react(message.id, chat, alice, "😂", NOW + timedelta(seconds=1))
    assert react(message.id, chat, bob, "👍", NOW + timedelta(seconds=2))  # replaces bob's
    assert backend.store.get_message(message.id).reactions == (  # type: ignore[union-attr]
        Reaction(alice, "😂"),
        Reaction(bob, "👍"),
    )
    assert react(message.id, chat, bob, "", NOW)
    assert not react(message.id, chat, bob, "", NOW)  # nothing left to remove
    assert backend.store.list_before(chat, "", 10)[0].reactions == (Reaction(alice, "😂"),)


def test_every_page_of_history_carries_its_reactions_across_days(
    backend: MessageBackend,
) -> None:
    chat, alice, bob = backend.new_chat()
    sent = [
        send(backend, chat, alice, f"m{i}", new_id)
        for new_id in [ids_at(datetime(2025, 10, 1, tzinfo=UTC), timedelta(hours=5))]
        for i in range(60)
    ]
    expected: dict[str, tuple[Reaction, ...]] = {}
    for i, message in enumerate(sent):
        if i % 3 == 0:
            backend.actions.set_reaction(message.id, chat, bob, "🙏", NOW)
            expected[message.id] = (Reaction(bob, "🙏"),)
        if i % 5 == 0:
            backend.actions.set_reaction(message.id, chat, alice, "👍", LATER)
            expected[message.id] = (*expected.get(message.id, ()), Reaction(alice, "👍"))

    for read in (everything(backend, chat), everything_forward(backend, chat)):
        assert {m.id: m.reactions for m in read if m.reactions} == expected
        assert sorted(m.id for m in read) == [m.id for m in sent]
    page = backend.store.list_before(chat, "", 50)
    assert [m.reactions for m in page] == [expected.get(m.id, ()) for m in sent[::-1][:50]]


# --- stars ----------------------------------------------------------------------------------


def test_stars_are_per_user_newest_first_across_chats_and_paged(backend: MessageBackend) -> None:
    chat, alice, bob = backend.new_chat()
    other, carol, _ = backend.new_chat()
    new_id = MessageIdGenerator()
    first = send(backend, chat, bob, "first", new_id)
    second = send(backend, other, carol, "second", new_id)
    third = send(backend, chat, alice, "third", new_id)
    actions = backend.actions

    for message in (first, second, third):
        assert actions.set_star(alice, message, True, NOW)
    assert not actions.set_star(alice, first, True, NOW)
    actions.set_reaction(third.id, chat, bob, "😮", NOW)

    starred = actions.list_starred(alice, "", 10)
    assert starred == [dataclasses.replace(third, reactions=(Reaction(bob, "😮"),)), second, first]
    assert [m.id for m in actions.list_starred(alice, "", 2)] == [third.id, second.id]
    assert actions.list_starred(alice, second.id, 2) == [first]
    assert actions.list_starred(bob, "", 10) == []
    assert actions.starred_among(alice, [first.id, third.id, "nope"]) == {first.id, third.id}
    assert actions.starred_among(alice, []) == set()
    assert actions.starred_among(bob, [first.id]) == set()

    assert actions.set_star(alice, second, False, NOW)
    assert not actions.set_star(alice, second, False, NOW)
    assert [m.id for m in actions.list_starred(alice, "", 10)] == [third.id, first.id]


def test_a_page_of_stars_stays_full_past_deleted_messages(backend: MessageBackend) -> None:
    chat, alice, bob = backend.new_chat()
    new_id = MessageIdGenerator()
    sent = [send(backend, chat, alice, f"m{i}", new_id) for i in range(8)]
    for message in sent:
        backend.actions.set_star(bob, message, True, NOW)
    for message in sent[3:7]:
        backend.actions.delete_message(message.id, LATER)

    assert backend.actions.list_starred(bob, "", 3) == [sent[7], sent[2], sent[1]]


# --- delete for me --------------------------------------------------------------------------


def test_hiding_is_per_user_and_takes_the_users_star(backend: MessageBackend) -> None:
    chat, alice, bob = backend.new_chat()
    new_id = MessageIdGenerator()
    keep, gone = send(backend, chat, alice, "keep", new_id), send(backend, chat, alice, "x", new_id)
    actions = backend.actions
    for who in (alice, bob):
        actions.set_star(who, gone, True, NOW)

    assert actions.hide_message(bob, gone, LATER)
    assert not actions.hide_message(bob, gone, LATER)  # already gone for bob

    assert actions.is_hidden(bob, gone.id) and not actions.is_hidden(alice, gone.id)
    assert not actions.is_hidden(bob, keep.id)
    assert not actions.is_hidden(bob, "01a2101b-ee53-7000-8881-e88d4fab3664")
    assert actions.list_starred(bob, "", 10) == []
    assert [m.id for m in actions.list_starred(alice, "", 10)] == [gone.id]
    assert backend.store.list_before(chat, "", 10, viewer_id=bob) == [keep]
    assert backend.store.list_after(chat, "", 10, viewer_id=bob) == [keep]
    assert backend.store.list_before(chat, "", 10, viewer_id=alice) == [gone, keep]
    assert backend.store.list_before(chat, "", 10) == [gone, keep]


def test_pages_stay_full_around_hidden_messages_across_days(backend: MessageBackend) -> None:
    """A viewer hid runs of messages (one longer than a page) spread over many days: paging in
    both directions, and inside a member's range, shows everything else exactly once."""
    chat, alice, bob = backend.new_chat()
    sent = [
        send(backend, chat, alice, f"m{i}", new_id)
        for new_id in [ids_at(datetime(2025, 11, 1, tzinfo=UTC), timedelta(hours=6))]
        for i in range(40)
    ]
    hidden = {i for i in range(40) if i in range(5, 14) or i % 7 == 0 or i >= 37}
    for i in sorted(hidden):
        backend.actions.hide_message(bob, sent[i], NOW)
    visible = [m for i, m in enumerate(sent) if i not in hidden]

    assert everything(backend, chat, viewer=bob) == visible[::-1]
    assert everything_forward(backend, chat, viewer=bob) == visible
    assert everything(backend, chat, viewer=alice) == sent[::-1]
    store = backend.store
    assert store.list_before(chat, "", 4, viewer_id=bob) == visible[::-1][:4]
    low, high = sent[4].id, sent[30].id
    in_range = [m for m in visible if low <= m.id <= high]
    assert store.list_before(chat, "", 100, bob, lowest=low, highest=high) == in_range[::-1]
    assert store.list_after(chat, "", 3, bob, lowest=low, highest=high) == in_range[:3]
    assert store.list_before(chat, sent[15].id, 3, bob, lowest=low) == [sent[4]]


def test_a_page_after_a_long_run_of_hidden_messages_is_still_full(
    backend: MessageBackend,
) -> None:
    """Far more hidden messages than a page holds, between visible ones: pages of every size
    leave out exactly those, in both directions."""
    chat, alice, bob = backend.new_chat()
    new_id = MessageIdGenerator()
    sent = [send(backend, chat, alice, f"m{i}", new_id) for i in range(100)]
    for message in sent[10:90]:
        backend.actions.hide_message(bob, message, NOW)
    store = backend.store

    assert store.list_before(chat, "", 15, viewer_id=bob) == [
        *sent[90:][::-1],
        *sent[:10][::-1][:5],
    ]
    assert store.list_after(chat, "", 15, viewer_id=bob) == [*sent[:10], *sent[90:95]]
    assert store.list_before(chat, sent[95].id, 3, viewer_id=bob) == sent[92:95][::-1]
    below_92 = [sent[91], sent[90], sent[9], sent[8], sent[7]]
    assert store.list_before(chat, sent[92].id, 5, viewer_id=bob) == below_92
    assert store.list_before(chat, "", 100, viewer_id=bob) == [*sent[:10], *sent[90:]][::-1]
    assert store.list_after(chat, sent[5].id, 100, viewer_id=bob) == [*sent[6:10], *sent[90:]]
