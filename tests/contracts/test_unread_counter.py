"""The UnreadCounter contract: counted by the message store (embedded) and Redis counters beside
it. Both must answer what the store counts, whatever order sends, reads and recounts come in.

The Redis pair is two instances on one server (two processes): messages are counted through
one and read through the other. The store is SQLite in both cases (the counter does not care
which store it rebuilds from; the scale service tests run it over Cassandra and PostgreSQL).
"""

from __future__ import annotations

import random
import threading
from collections.abc import Callable
from typing import Any

import pytest
import redis

from backend.content import text_content
from backend.ids import new_message_id
from backend.models import Message, UnreadSpan
from backend.ports import UnreadCounter
from tests.contracts.conftest import NOW, UnreadBackend


class Scene:
    """Chats as the services drive them: messages stored then counted, watermarks that move,
    and chat lists that ask about the chats with something after the watermark."""

    def __init__(self, backend: UnreadBackend) -> None:
        self.backend = backend
        self.newest: dict[str, str] = {}
        self.read: dict[tuple[str, str], str] = {}
        self._lock = threading.Lock()

    def send(
        self, chat_id: str, sender: str, members: list[str], *, via: int = 0, counted: bool = True
    ) -> Message:
        message, is_new = self.backend.store.add_message(
            Message(
                id="",
                chat_id=chat_id,
                sender_id=sender,
                content=text_content("hi"),
                created_at=NOW,
            ),
            new_message_id,
        )
        with self._lock:  # record_activity: the chat's newest id only moves forward
            self.newest[chat_id] = max(self.newest.get(chat_id, ""), message.id)
        if is_new and counted:
            self.backend.counters[via].message_stored(message, members)
        return message

    def mark_read(self, user: str, chat_id: str, upto: str, *, via: int = 0) -> None:
        self.read[(user, chat_id)] = max(self.read.get((user, chat_id), ""), upto)
        self.backend.counters[via].read_moved(user, chat_id)

    def counts(
        self, user: str, chat_ids: list[str], *, via: int = 1, left_at: str = ""
    ) -> dict[str, int]:
        spans = []
        for chat_id in chat_ids:
            read = self.read.get((user, chat_id), "")
            newest = min(self.newest[chat_id], left_at) if left_at else self.newest[chat_id]
            if newest > read:
                spans.append(UnreadSpan(chat_id, read, newest, left_at))
        found = self.backend.counters[via].unread_counts(user, spans)
        return {c: found.get(c, 0) for c in chat_ids}

    def truth(self, user: str, chat_ids: list[str]) -> dict[str, int]:
        return self.backend.store.count_unread(
            user, {c: self.read.get((user, c), "") for c in chat_ids}
        )


@pytest.fixture
def scene(unread_backend: UnreadBackend) -> Scene:
    return Scene(unread_backend)


def test_others_messages_after_the_read_watermark_count_and_ones_own_never(
    scene: Scene, unread_backend: UnreadBackend
) -> None:
    chat, (alice, bob) = unread_backend.new_chat(2)
    for _ in range(3):
        scene.send(chat, alice, [alice, bob])
    assert scene.counts(bob, [chat]) == {chat: 3}
    assert scene.counts(alice, [chat]) == {chat: 0}
    scene.send(chat, bob, [alice, bob])
    scene.send(chat, alice, [alice, bob])
    assert scene.counts(bob, [chat]) == {chat: 4}  # counted from storage, then kept counting
    assert scene.counts(alice, [chat]) == {chat: 1}
    assert scene.counts(bob, [chat]) == scene.truth(bob, [chat])


def test_reading_up_to_an_older_message_leaves_the_newer_ones_unread(
    scene: Scene, unread_backend: UnreadBackend
) -> None:
    chat, (alice, bob) = unread_backend.new_chat(2)
    sent = [scene.send(chat, alice, [alice, bob]) for _ in range(5)]
    assert scene.counts(bob, [chat]) == {chat: 5}
    scene.mark_read(bob, chat, sent[1].id)  # scrolled to the second one, on another process
    assert scene.counts(bob, [chat]) == {chat: 3}
    scene.send(chat, alice, [alice, bob])
    assert scene.counts(bob, [chat]) == {chat: 4}
    scene.mark_read(bob, chat, scene.newest[chat])
    assert scene.counts(bob, [chat]) == {chat: 0}
    scene.send(chat, alice, [alice, bob], via=1)
    assert scene.counts(bob, [chat], via=0) == {chat: 1}


def test_a_groups_line_counts_for_everyone_but_whoever_acted(
    scene: Scene, unread_backend: UnreadBackend
) -> None:
    chat, (alice, bob, carol) = unread_backend.new_chat(3)
    scene.send(chat, alice, [alice, bob, carol])  # "Alice added Carol": a line by alice
    scene.send(chat, carol, [alice, bob, carol])
    assert scene.counts(alice, [chat]) == {chat: 1}
    assert scene.counts(bob, [chat]) == {chat: 2}
    assert scene.counts(carol, [chat]) == {chat: 1}


def test_someone_who_left_counts_only_up_to_the_line_that_said_so(
    scene: Scene, unread_backend: UnreadBackend
) -> None:
    chat, (alice, bob, carol) = unread_backend.new_chat(3)
    everyone = [alice, bob, carol]
    scene.send(chat, alice, everyone)
    scene.send(chat, bob, everyone)
    removal = scene.send(chat, alice, everyone)  # the line that removed carol
    # Fanned out while she was being removed: it must not count for her.
    scene.send(chat, bob, everyone)
    scene.send(chat, bob, [alice, bob])
    assert scene.counts(carol, [chat], left_at=removal.id) == {chat: 3}
    assert scene.counts(alice, [chat]) == {chat: 3}  # all of bob's


def test_each_chat_is_counted_apart(scene: Scene, unread_backend: UnreadBackend) -> None:
    first, (alice, bob) = unread_backend.new_chat(2)
    second, (carol, _) = unread_backend.new_chat(2)
    scene.send(first, alice, [alice, bob])
    scene.send(second, carol, [carol, bob])
    scene.send(second, carol, [carol, bob])
    assert scene.counts(bob, [first, second]) == {first: 1, second: 2}
    scene.mark_read(bob, second, scene.newest[second])
    assert scene.counts(bob, [first, second]) == {first: 1, second: 0}
    assert unread_backend.counters[0].unread_counts(bob, []) == {}


def test_a_resent_message_is_not_counted_twice(scene: Scene, unread_backend: UnreadBackend) -> None:
    chat, (alice, bob) = unread_backend.new_chat(2)
    scene.send(chat, alice, [alice, bob])
    assert scene.counts(bob, [chat]) == {chat: 1}
    draft = Message(
        id="", chat_id=chat, sender_id=alice, content=text_content("x"), created_at=NOW, temp_id="t"
    )
    for _ in range(2):  # the client retries after a lost ack: one message, counted once
        message, is_new = unread_backend.store.add_message(draft, new_message_id)
        scene.newest[chat] = max(scene.newest[chat], message.id)
        if is_new:
            unread_backend.counters[0].message_stored(message, [alice, bob])
    assert scene.counts(bob, [chat]) == {chat: 2}


def test_counts_stay_true_while_messages_arrive_during_recounts(
    scene: Scene, unread_backend: UnreadBackend
) -> None:
    """Two processes send into a chat while a third keeps loading the reader's chat list
    (recounting whenever its counter is in doubt) and the reader sometimes reads part of it:
    every count a chat list shows once things settle must be the store's."""
    chat, (alice, bob, carol) = unread_backend.new_chat(3)
    everyone = [alice, bob, carol]
    scene.send(chat, alice, everyone)
    done = threading.Event()
    errors: list[BaseException] = []

    def sender(who: str, via: int) -> None:
        try:
            for _ in range(60):
                scene.send(chat, who, everyone, via=via)
        except BaseException as error:  # surfaced below
            errors.append(error)

    def reader() -> None:
        rng = random.Random(5)
        try:
            while not done.is_set():
                scene.counts(carol, [chat], via=rng.randrange(2))
                if rng.random() < 0.1:
                    scene.mark_read(carol, chat, scene.newest[chat], via=rng.randrange(2))
        except BaseException as error:
            errors.append(error)

    senders = [threading.Thread(target=sender, args=(w, i)) for i, w in enumerate((alice, bob))]
    readers = [threading.Thread(target=reader) for _ in range(2)]
    for t in [*senders, *readers]:
        t.start()
    for t in senders:
        t.join()
    done.set()
    for t in readers:
        t.join()
    assert errors == []
    for via in (0, 1, 0):  # asked again, from either process: still the truth
        assert scene.counts(carol, [chat], via=via) == scene.truth(carol, [chat])
        assert scene.counts(alice, [chat], via=via) == scene.truth(alice, [chat])


# --- Redis only: the counter is a copy, the store the truth ---------------------------------


def redis_counter(unread_backend: UnreadBackend) -> UnreadCounter:
    if unread_backend.name != "redis":
        pytest.skip("only the Redis counters keep a copy that can be lost or go stale")
    return unread_backend.counters[0]


def test_lost_counters_are_rebuilt_from_the_store(
    scene: Scene, unread_backend: UnreadBackend, request: pytest.FixtureRequest
) -> None:
    redis_counter(unread_backend)
    chat, (alice, bob) = unread_backend.new_chat(2)
    for _ in range(3):
        scene.send(chat, alice, [alice, bob])
    assert scene.counts(bob, [chat]) == {chat: 3}
    redis.Redis.from_url(request.getfixturevalue("redis_url")).flushdb()  # Redis restarted empty
    scene.send(chat, alice, [alice, bob])
    assert scene.counts(bob, [chat]) == {chat: 4}
    scene.send(chat, alice, [alice, bob])
    assert scene.counts(bob, [chat]) == {chat: 5}


def test_a_message_stored_by_a_process_that_died_before_counting_it_is_found(
    scene: Scene, unread_backend: UnreadBackend
) -> None:
    redis_counter(unread_backend)
    chat, (alice, bob) = unread_backend.new_chat(2)
    scene.send(chat, alice, [alice, bob])
    assert scene.counts(bob, [chat]) == {chat: 1}
    scene.send(chat, alice, [alice, bob], counted=False)  # crashed between store and counter
    # The counter has not reached the chat's newest message: it is rebuilt, not trusted.
    assert scene.counts(bob, [chat]) == {chat: 2}
    scene.send(chat, alice, [alice, bob], counted=False)
    scene.send(chat, alice, [alice, bob])
    # A later counted message hides the gap: one fewer than the store says (the known drift,
    # ARCHITECTURE.md) until the reader's watermark next moves, which rebuilds the counter.
    assert scene.truth(bob, [chat]) == {chat: 4}
    assert scene.counts(bob, [chat]) == {chat: 3}
    scene.mark_read(bob, chat, scene.newest[chat])
    scene.send(chat, alice, [alice, bob])
    assert scene.counts(bob, [chat]) == {chat: 1}


class _CountingHook:
    """A message store that runs ``during_count`` inside the counter's rebuild, between its
    begin and finish (where the rebuild asks the store), to interleave deterministically."""

    def __init__(self, backend: UnreadBackend) -> None:
        self._store = backend.store
        self.during_count: list[Callable[[], None]] = []

    def count_unread(self, *args: Any, **kwargs: Any) -> dict[str, int]:
        while self.during_count:
            self.during_count.pop(0)()
        return self._store.count_unread(*args, **kwargs)


def test_a_message_that_arrives_during_a_rebuild_is_counted_once(
    scene: Scene, unread_backend: UnreadBackend, request: pytest.FixtureRequest
) -> None:
    redis_counter(unread_backend)
    from backend.adapters.redis.unread import RedisUnreadCounter

    hook = _CountingHook(unread_backend)
    rebuilding = RedisUnreadCounter(request.getfixturevalue("redis_url"), hook)  # type: ignore[arg-type]
    chat, (alice, bob) = unread_backend.new_chat(2)
    scene.send(chat, alice, [alice, bob])
    hook.during_count.append(lambda: scene.send(chat, alice, [alice, bob]))
    span = UnreadSpan(chat, "", scene.newest[chat])  # as the chat list read it: one message
    try:
        assert rebuilding.unread_counts(bob, [span]) == {chat: 2}
        assert scene.counts(bob, [chat]) == {chat: 2}  # and the counter kept it
        hook.during_count.append(lambda: scene.send(chat, alice, [alice, bob]))
        scene.mark_read(bob, chat, "")  # in doubt again: rebuilt, with one more arriving
        assert rebuilding.unread_counts(bob, [span]) == {chat: 3}
        scene.send(chat, alice, [alice, bob])
        assert scene.counts(bob, [chat]) == {chat: 4} == scene.truth(bob, [chat])
    finally:
        rebuilding.close()


def test_a_message_counted_after_the_chat_list_was_read_is_not_lost_by_the_rebuild(
    scene: Scene, unread_backend: UnreadBackend
) -> None:
    redis_counter(unread_backend)
    chat, (alice, bob) = unread_backend.new_chat(2)
    scene.send(chat, alice, [alice, bob])
    listed = UnreadSpan(chat, "", scene.newest[chat])  # the chat list's read of the chat row
    scene.send(chat, alice, [alice, bob])  # stored and counted before the rebuild begins
    found = unread_backend.counters[1].unread_counts(bob, [listed])
    assert found == {chat: 2}
    assert scene.counts(bob, [chat]) == {chat: 2}


def test_a_late_increment_for_a_message_the_rebuild_counted_is_ignored(
    scene: Scene, unread_backend: UnreadBackend
) -> None:
    redis_counter(unread_backend)
    chat, (alice, bob) = unread_backend.new_chat(2)
    scene.send(chat, alice, [alice, bob])
    late = scene.send(chat, alice, [alice, bob], counted=False)  # its process is slow...
    assert scene.counts(bob, [chat]) == {chat: 2}  # ...so the rebuild counted it from storage
    unread_backend.counters[0].message_stored(late, [alice, bob])  # and now it gets there
    assert scene.counts(bob, [chat]) == {chat: 2}
