"""The MessageStore contract, on SQLite, PostgreSQL and Cassandra."""

from __future__ import annotations

import dataclasses
import os
import threading
import time
import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

from backend.content import text_content
from backend.ids import MessageIdGenerator
from backend.models import Message, Quote
from tests.contracts.conftest import NOW, MessageBackend


def draft(chat_id: str, sender_id: str, text: str = "hi", temp_id: str = "") -> Message:
    return Message(
        id="",
        chat_id=chat_id,
        sender_id=sender_id,
        content=text_content(text),
        created_at=NOW,
        temp_id=temp_id,
    )


def ids_at(start: datetime, step: timedelta) -> Callable[[], str]:
    """UUIDv7 ids whose clock starts at ``start`` and moves by ``step`` per id (for history
    spread over many days, without waiting for them)."""
    counter = iter(range(10**9))

    def make() -> str:
        at = start + step * next(counter)
        ms = int(at.timestamp() * 1000)
        rand = int.from_bytes(os.urandom(8), "big") & ((1 << 62) - 1)
        return str(uuid.UUID(int=(ms << 80) | (0x7 << 76) | (0b10 << 62) | rand))

    return make


def send_many(
    backend: MessageBackend, chat: str, sender: str, n: int, new_id: Callable[[], str]
) -> list[Message]:
    return [backend.store.add_message(draft(chat, sender, f"m{i}"), new_id)[0] for i in range(n)]


def test_a_stored_message_reads_back_equal(message_backend: MessageBackend) -> None:
    chat, alice, _ = message_backend.new_chat()
    original = dataclasses.replace(
        draft(chat, alice, "héllo ✓", temp_id="t-1"),
        created_at=datetime(2026, 3, 4, 5, 6, 7, 891011, tzinfo=UTC),
    )
    stored, is_new = message_backend.store.add_message(original, MessageIdGenerator())

    assert is_new and stored.id and stored == dataclasses.replace(original, id=stored.id)
    [read] = message_backend.store.list_before(chat, "", 10)
    assert read == stored  # microseconds and the time zone survive
    assert read.created_at.tzinfo is not None


def test_a_resend_with_the_same_temp_id_returns_the_stored_message(
    message_backend: MessageBackend,
) -> None:
    chat, alice, _ = message_backend.new_chat()
    store, new_id = message_backend.store, MessageIdGenerator()
    first, first_new = store.add_message(draft(chat, alice, "hi", "t-1"), new_id)
    again, again_new = store.add_message(draft(chat, alice, "hi", "t-1"), new_id)

    assert (first_new, again_new) == (True, False)
    assert again == first
    assert store.list_before(chat, "", 10) == [first]
    assert store.find_sent(chat, alice, "t-1") == first


def test_temp_ids_are_per_sender_and_per_chat(message_backend: MessageBackend) -> None:
    chat, alice, bob = message_backend.new_chat()
    other_chat, carol, _ = message_backend.new_chat()
    store, new_id = message_backend.store, MessageIdGenerator()
    a = store.add_message(draft(chat, alice, "a", "t-1"), new_id)
    b = store.add_message(draft(chat, bob, "b", "t-1"), new_id)
    c = store.add_message(draft(other_chat, carol, "c", "t-1"), new_id)

    assert [x[1] for x in (a, b, c)] == [True, True, True]
    assert store.find_sent(chat, bob, "t-1") == b[0]
    assert store.find_sent(chat, carol, "t-1") is None


def test_messages_without_a_temp_id_are_never_merged(message_backend: MessageBackend) -> None:
    chat, alice, _ = message_backend.new_chat()
    store, new_id = message_backend.store, MessageIdGenerator()
    for _ in range(3):
        assert store.add_message(draft(chat, alice, "same"), new_id)[1]
    assert len(store.list_before(chat, "", 10)) == 3
    assert store.find_sent(chat, alice, "") is None


def test_history_pages_newest_first_and_catch_up_oldest_first(
    message_backend: MessageBackend,
) -> None:
    chat, alice, _ = message_backend.new_chat()
    sent = send_many(message_backend, chat, alice, 12, MessageIdGenerator())
    store = message_backend.store

    newest = store.list_before(chat, "", 5)
    assert newest == sent[::-1][:5]
    older = store.list_before(chat, newest[-1].id, 5)
    assert older == sent[::-1][5:10]
    assert store.list_before(chat, older[-1].id, 5) == sent[::-1][10:]
    assert store.list_before(chat, sent[0].id, 5) == []

    assert store.list_after(chat, "", 4) == sent[:4]
    assert store.list_after(chat, sent[3].id, 4) == sent[4:8]
    assert store.list_after(chat, sent[-1].id, 4) == []


def test_history_pages_across_days_and_gaps(message_backend: MessageBackend) -> None:
    """Messages spread over ten weeks, a few a day, with empty weeks between bursts: pages
    run across the day partitions in both directions without losing or repeating one."""
    chat, alice, _ = message_backend.new_chat()
    early = send_many(
        message_backend,
        chat,
        alice,
        30,
        ids_at(datetime(2025, 1, 1, tzinfo=UTC), timedelta(hours=7)),
    )
    late = send_many(
        message_backend,
        chat,
        alice,
        30,
        ids_at(datetime(2025, 3, 1, tzinfo=UTC), timedelta(hours=9)),
    )
    everything = early + late
    store = message_backend.store

    pages, cursor = [], ""
    while True:
        page = store.list_before(chat, cursor, 7)
        if not page:
            break
        pages.extend(page)
        cursor = page[-1].id
    assert pages == everything[::-1]

    forward, cursor = [], ""
    while page := store.list_after(chat, cursor, 7):
        forward.extend(page)
        cursor = page[-1].id
    assert forward == everything


def test_chats_do_not_see_each_others_messages(message_backend: MessageBackend) -> None:
    chat, alice, _ = message_backend.new_chat()
    other, carol, _ = message_backend.new_chat()
    new_id = MessageIdGenerator()
    mine = send_many(message_backend, chat, alice, 2, new_id)
    send_many(message_backend, other, carol, 3, new_id)
    assert message_backend.store.list_before(chat, "", 10) == mine[::-1]


def test_unread_counts_what_others_sent_above_the_watermark(
    message_backend: MessageBackend,
) -> None:
    chat, alice, bob = message_backend.new_chat()
    quiet, carol, _ = message_backend.new_chat()
    store, new_id = message_backend.store, MessageIdGenerator()
    from_alice = send_many(message_backend, chat, alice, 4, new_id)
    send_many(message_backend, chat, bob, 2, new_id)  # bob's own never count for bob
    send_many(message_backend, quiet, carol, 1, new_id)

    counts = store.count_unread(bob, {chat: from_alice[1].id, quiet: ""})
    assert counts[chat] == 2
    assert counts[quiet] == 1
    assert store.count_unread(bob, {chat: ""})[chat] == 4
    assert store.count_unread(alice, {chat: ""})[chat] == 2
    assert store.count_unread(bob, {}) == {}


def test_unread_counts_across_days(message_backend: MessageBackend) -> None:
    chat, alice, bob = message_backend.new_chat()
    sent = send_many(
        message_backend,
        chat,
        alice,
        20,
        ids_at(datetime(2025, 5, 1, tzinfo=UTC), timedelta(hours=11)),
    )
    assert message_backend.store.count_unread(bob, {chat: sent[4].id}) == {chat: 15}


def test_unread_counts_stop_at_the_upper_bound_across_days(
    message_backend: MessageBackend,
) -> None:
    """A former member's unread count stops where their membership ended."""
    chat, alice, bob = message_backend.new_chat()
    sent = send_many(
        message_backend,
        chat,
        alice,
        20,
        ids_at(datetime(2025, 6, 1, tzinfo=UTC), timedelta(hours=11)),
    )
    store = message_backend.store
    assert store.count_unread(bob, {chat: sent[4].id}, {chat: sent[9].id}) == {chat: 5}
    assert store.count_unread(bob, {chat: ""}, {chat: sent[0].id}) == {chat: 1}
    assert store.count_unread(bob, {chat: sent[4].id}, {}) == {chat: 15}


def test_a_message_is_read_by_its_id_alone(message_backend: MessageBackend) -> None:
    chat, alice, _ = message_backend.new_chat()
    other, carol, _ = message_backend.new_chat()
    store, new_id = message_backend.store, MessageIdGenerator()
    mine = store.add_message(draft(chat, alice, "mine"), new_id)[0]
    theirs = store.add_message(draft(other, carol, "theirs"), new_id)[0]

    assert store.get_message(mine.id) == mine
    assert store.get_message(theirs.id) == theirs
    assert store.get_message(str(uuid.uuid4())) is None


def test_history_stays_inside_a_members_range_across_days(
    message_backend: MessageBackend,
) -> None:
    """lowest/highest bound both directions (a member who joined late or has left), inclusive,
    across day partitions."""
    chat, alice, _ = message_backend.new_chat()
    sent = send_many(
        message_backend,
        chat,
        alice,
        30,
        ids_at(datetime(2025, 7, 1, tzinfo=UTC), timedelta(hours=7)),
    )
    store = message_backend.store
    low, high = sent[5].id, sent[24].id
    window = sent[5:25]

    assert store.list_before(chat, "", 100, lowest=low, highest=high) == window[::-1]
    assert store.list_before(chat, sent[10].id, 100, lowest=low, highest=high) == sent[5:10][::-1]
    assert store.list_before(chat, "", 3, lowest=low, highest=high) == window[::-1][:3]
    assert store.list_before(chat, sent[5].id, 10, lowest=low) == []
    assert store.list_after(chat, "", 100, lowest=low, highest=high) == window
    assert store.list_after(chat, sent[20].id, 100, lowest=low, highest=high) == sent[21:25]
    assert store.list_after(chat, "", 4, lowest=low) == sent[5:9]
    assert store.list_after(chat, sent[24].id, 10, highest=high) == []


def test_a_viewers_deleted_for_me_messages_leave_their_history(
    message_backend: MessageBackend,
) -> None:
    chat, alice, bob = message_backend.new_chat()
    sent = send_many(message_backend, chat, alice, 3, MessageIdGenerator())
    message_backend.hide(bob, sent[1])
    store = message_backend.store

    assert store.list_before(chat, "", 10, viewer_id=bob) == [sent[2], sent[0]]
    assert store.list_after(chat, "", 10, viewer_id=bob) == [sent[0], sent[2]]
    assert store.list_before(chat, "", 10, viewer_id=alice) == sent[::-1]


def test_replies_and_forwards_keep_their_quote_and_mark(message_backend: MessageBackend) -> None:
    chat, alice, bob = message_backend.new_chat()
    store, new_id = message_backend.store, MessageIdGenerator()
    original = store.add_message(draft(chat, alice, "question"), new_id)[0]
    reply = dataclasses.replace(
        draft(chat, bob, "answer"), quote=Quote(original.id, alice, "question")
    )
    stored = store.add_message(reply, new_id)[0]
    forwarded = store.add_message(
        dataclasses.replace(draft(chat, bob, "fw"), forwarded=True), new_id
    )[0]

    assert stored.quote == Quote(original.id, alice, "question") and not stored.forwarded
    assert forwarded.forwarded and forwarded.quote is None
    assert store.get_message(stored.id) == stored
    assert store.get_message(forwarded.id) == forwarded
    assert store.list_before(chat, "", 10) == [forwarded, stored, original]


def test_ids_commit_in_the_order_they_were_made(message_backend: MessageBackend) -> None:
    """Writers race on one chat while a reader keeps reading: whatever the reader sees is
    always every message up to the newest it sees - never N without everything below N."""
    chat, alice, bob = message_backend.new_chat()
    store, new_id = message_backend.store, MessageIdGenerator()
    snapshots: list[set[str]] = []
    done = threading.Event()

    def write(sender: str) -> None:
        for i in range(15):
            store.add_message(draft(chat, sender, f"{sender}{i}"), new_id)

    def read() -> None:
        while not done.is_set():
            snapshots.append({m.id for m in store.list_before(chat, "", 200)})

    reader = threading.Thread(target=read)
    writers = [threading.Thread(target=write, args=(s,)) for s in (alice, bob, alice, bob)]
    reader.start()
    for w in writers:
        w.start()
    for w in writers:
        w.join()
    done.set()
    reader.join()

    final = sorted(m.id for m in store.list_before(chat, "", 200))
    assert len(final) == 60
    non_empty = [s for s in snapshots if s]
    assert non_empty, "the reader never saw a message"
    for seen in non_empty:
        newest = max(seen)
        assert seen == {i for i in final if i <= newest}


# --- add_messages ----------------------------------------------------------------------------


def test_a_batch_is_stored_in_order_and_a_repeated_temp_id_gets_the_first_message(
    message_backend: MessageBackend,
) -> None:
    chat, alice, bob = message_backend.new_chat()
    store, new_id = message_backend.store, MessageIdGenerator()
    earlier, _ = store.add_message(draft(chat, alice, "earlier", "t0"), new_id)
    results = store.add_messages(
        [
            draft(chat, alice, "one", "t1"),
            draft(chat, bob, "two", "t1"),  # bob's own t1
            draft(chat, alice, "one, sent twice", "t1"),  # alice's t1 again, in the batch
            draft(chat, alice, "earlier, resent", "t0"),  # stored before the batch
            draft(chat, alice, "no temp id"),
        ],
        new_id,
    )

    messages = [m for m, _ in results]
    assert [is_new for _, is_new in results] == [True, True, False, False, True]
    assert messages[2] == messages[0] and messages[0].content == text_content("one")
    assert messages[3] == earlier
    new = [messages[0], messages[1], messages[4]]
    assert [m.id for m in new] == sorted(m.id for m in new) and earlier.id < new[0].id
    assert store.list_after(chat, "", 10) == [earlier, *new]
    assert store.add_messages([], new_id) == []


def test_a_reply_in_a_batch_keeps_its_quote(message_backend: MessageBackend) -> None:
    chat, alice, bob = message_backend.new_chat()
    store, new_id = message_backend.store, MessageIdGenerator()
    original = store.add_message(draft(chat, alice, "question"), new_id)[0]
    batch = [
        draft(chat, bob, "before the reply"),
        dataclasses.replace(draft(chat, bob, "answer"), quote=Quote(original.id, alice, "q")),
    ]
    stored = [m for m, _ in store.add_messages(batch, new_id)]
    assert store.list_after(chat, "", 10) == [original, *stored]
    assert stored[1].quote == Quote(original.id, alice, "q")


def ids_behind(offset: timedelta) -> Callable[[], str]:
    """The ids a process whose clock is ``offset`` behind makes: UUIDv7 from its (late) clock,
    with a counter within the millisecond, like ``MessageIdGenerator``."""
    last = {"ms": 0, "counter": 0}

    def make() -> str:
        ms = time.time_ns() // 1_000_000 - int(offset.total_seconds() * 1000)
        if ms <= last["ms"]:
            ms, counter = last["ms"], last["counter"] + 1
            if counter > 0xFFF:  # counter exhausted: borrow the next millisecond
                ms, counter = ms + 1, 0
        else:
            counter = 0
        last.update(ms=ms, counter=counter)
        rand = int.from_bytes(os.urandom(8), "big") & ((1 << 62) - 1)
        return str(uuid.UUID(int=(ms << 80) | (0x7 << 76) | (counter << 64) | (0b10 << 62) | rand))

    return make


def test_a_writer_whose_clock_is_behind_still_commits_ids_above_the_newest(
    message_backend: MessageBackend,
) -> None:
    """Two processes write to one chat, one with its clock a minute behind: every id is still
    above the newest stored before it, at once, one at a time and in batches."""
    chat, alice, bob = message_backend.new_chat()
    store = message_backend.store
    on_time, behind = MessageIdGenerator(), ids_behind(timedelta(minutes=1))
    sent = []
    for i in range(6):
        writer, new_id = (alice, on_time) if i % 2 == 0 else (bob, behind)
        sent.append(store.add_message(draft(chat, writer, f"m{i}"), new_id)[0])
    sent += [
        m for m, _ in store.add_messages([draft(chat, bob, "b1"), draft(chat, bob, "b2")], behind)
    ]

    ids = [m.id for m in sent]
    assert ids == sorted(ids) and len(set(ids)) == len(ids)
    assert store.list_after(chat, "", 20) == sent
