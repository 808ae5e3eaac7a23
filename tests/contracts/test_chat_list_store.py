"""The ChatListStore contract, on SQLite, PostgreSQL and Cassandra (over PostgreSQL's chats).

What every adapter must do: show each member a chat's newest message, never an older one
whatever order the writes arrive in, and list a user's chats newest first in one call.
"""

from __future__ import annotations

import random
import threading
import uuid
from datetime import UTC, datetime, timedelta

import pytest

from backend.models import Chat, ChatKind, Member, Role, User
from tests.contracts.conftest import NOW, ChatListBackend, make_direct_chat, make_user


def message_id(ms: int, counter: int = 0, rand: int | None = None) -> str:
    """A UUIDv7 id as ``backend.ids`` makes them: millisecond, counter, random bits."""
    rand = random.getrandbits(62) if rand is None else rand
    return str(uuid.UUID(int=(ms << 80) | (0x7 << 76) | (counter << 64) | (0b10 << 62) | rand))


BASE_MS = int(NOW.timestamp() * 1000)
M1, M2, M3 = (message_id(BASE_MS + n) for n in (1, 2, 3))


@pytest.fixture
def people(chat_list_backend: ChatListBackend) -> tuple[User, User, User]:
    users = chat_list_backend.users
    return make_user(users, "alice"), make_user(users, "bob"), make_user(users, "carol")


@pytest.fixture
def chat(chat_list_backend: ChatListBackend, people: tuple[User, User, User]) -> Chat:
    alice, bob, _ = people
    return make_direct_chat(chat_list_backend.chats, alice.id, bob.id)


def listed(backend: ChatListBackend, user: User) -> list[tuple[str, str, str, str]]:
    """The user's list as (chat id, last message id, preview, sender id), in its order."""
    return [
        (c.id, c.last_message_id, c.last_preview, c.last_sender_id)
        for c, _ in backend.chat_list.list_user_chats(user.id)
    ]


def test_each_member_sees_the_newest_message_with_its_time_preview_and_sender(
    chat_list_backend: ChatListBackend, chat: Chat, people: tuple[User, User, User]
) -> None:
    alice, bob, _ = people
    at = datetime(2026, 1, 1, 12, 0, 1, 234567, tzinfo=UTC)  # microseconds survive
    chat_list_backend.chat_list.record_activity(
        chat.id, M1, at, "héllo ✓ 👋", alice.id, [alice.id, bob.id]
    )
    for user in (alice, bob):
        [(found, me)] = chat_list_backend.chat_list.list_user_chats(user.id)
        assert (found.id, me.user_id) == (chat.id, user.id)
        assert (found.last_message_id, found.last_activity_at) == (M1, at)
        assert (found.last_preview, found.last_sender_id) == ("héllo ✓ 👋", alice.id)
        assert found.kind is ChatKind.DIRECT and found.created_at == NOW  # the chat's own data


def test_a_chat_nobody_wrote_in_is_listed_without_a_last_message(
    chat_list_backend: ChatListBackend, chat: Chat, people: tuple[User, User, User]
) -> None:
    alice, _, carol = people
    assert listed(chat_list_backend, alice) == [(chat.id, "", "", "")]
    assert listed(chat_list_backend, carol) == []
    found = chat_list_backend.chats.get_chat_and_member(chat.id, alice.id)
    assert found is not None
    assert chat_list_backend.chat_list.with_activity(alice.id, found[0]) == chat


def test_chats_come_newest_activity_first_and_unwritten_ones_by_when_they_were_made(
    chat_list_backend: ChatListBackend, chat: Chat, people: tuple[User, User, User]
) -> None:
    alice, bob, carol = people
    later = make_direct_chat(
        chat_list_backend.chats, alice.id, carol.id, at=NOW + timedelta(minutes=5)
    )
    assert [c for c, *_ in listed(chat_list_backend, alice)] == [later.id, chat.id]

    chat_list_backend.chat_list.record_activity(
        chat.id, M1, NOW + timedelta(minutes=10), "hi", bob.id, [alice.id, bob.id]
    )
    assert [c for c, *_ in listed(chat_list_backend, alice)] == [chat.id, later.id]
    assert [c for c, *_ in listed(chat_list_backend, carol)] == [later.id]


def test_activity_never_moves_backward(
    chat_list_backend: ChatListBackend, chat: Chat, people: tuple[User, User, User]
) -> None:
    alice, bob, _ = people
    members = [alice.id, bob.id]
    at = NOW + timedelta(minutes=1)
    record = chat_list_backend.chat_list.record_activity
    record(chat.id, M2, at, "second", bob.id, members)
    record(chat.id, M1, at - timedelta(seconds=1), "first", alice.id, members)  # late arrival
    assert listed(chat_list_backend, alice) == [(chat.id, M2, "second", bob.id)]
    found = chat_list_backend.chats.get_chat_and_member(chat.id, bob.id)
    assert found is not None
    seen = chat_list_backend.chat_list.with_activity(bob.id, found[0])
    assert (seen.last_message_id, seen.last_activity_at, seen.last_preview) == (M2, at, "second")

    record(chat.id, M3, at + timedelta(seconds=1), "", "", members)  # a system line: no sender
    assert listed(chat_list_backend, bob) == [(chat.id, M3, "", "")]


def test_ids_in_one_millisecond_still_order_by_id(
    chat_list_backend: ChatListBackend, chat: Chat, people: tuple[User, User, User]
) -> None:
    """Two processes can make ids in the same millisecond with the same counter (they differ
    in their random bits): the greater id is still the one shown, in either order."""
    alice, bob, _ = people
    record = chat_list_backend.chat_list.record_activity
    ms = BASE_MS + 10_000
    for counter in (0, 999, 1500):  # (above 999 the counter no longer fits in the ms)
        low = message_id(ms, counter, rand=1)
        high = message_id(ms, counter, rand=2)
        record(chat.id, high, NOW, f"high {counter}", bob.id, [alice.id, bob.id])
        record(chat.id, low, NOW, f"low {counter}", alice.id, [alice.id, bob.id])
        assert listed(chat_list_backend, alice) == [(chat.id, high, f"high {counter}", bob.id)]
        ms += 1


def test_sends_finishing_in_any_order_at_once_leave_the_newest(
    chat_list_backend: ChatListBackend, chat: Chat, people: tuple[User, User, User]
) -> None:
    alice, bob, _ = people
    ids = sorted(message_id(BASE_MS + 20_000 + n // 3, n % 3) for n in range(40))
    shuffled = random.sample(ids, len(ids))
    start = threading.Barrier(4)

    def write(share: list[str]) -> None:
        start.wait()
        for mid in share:
            chat_list_backend.chat_list.record_activity(
                chat.id, mid, NOW, f"text of {mid}", alice.id, [alice.id, bob.id]
            )

    threads = [threading.Thread(target=write, args=(shuffled[i::4],)) for i in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    newest = ids[-1]
    for user in (alice, bob):
        assert listed(chat_list_backend, user) == [(chat.id, newest, f"text of {newest}", alice.id)]


def test_a_message_to_a_group_of_256_reaches_every_members_list(
    chat_list_backend: ChatListBackend,
) -> None:
    users = [make_user(chat_list_backend.users) for _ in range(256)]
    group = Chat(str(uuid.uuid4()), ChatKind.GROUP, "Big", created_by=users[0].id, created_at=NOW)
    chat_list_backend.chats.add_group_chat(
        group, [Member(group.id, u.id, Role.MEMBER, NOW) for u in users]
    )
    member_ids = [u.id for u in users]
    chat_list_backend.chat_list.record_activity(
        group.id, M1, NOW, "to everyone", users[0].id, member_ids
    )
    for user in users:
        assert listed(chat_list_backend, user) == [(group.id, M1, "to everyone", users[0].id)]


def test_an_edit_then_a_delete_of_the_last_message_show_in_every_list(
    chat_list_backend: ChatListBackend, chat: Chat, people: tuple[User, User, User]
) -> None:
    alice, bob, _ = people
    store = chat_list_backend.chat_list
    store.record_activity(chat.id, M1, NOW, "typo", alice.id, [alice.id, bob.id])
    store.refresh_preview(chat.id, M1, "fixed")
    assert listed(chat_list_backend, bob) == [(chat.id, M1, "fixed", alice.id)]
    store.refresh_preview(chat.id, M1, "")  # deleted for everyone: its words leave the list
    for user in (alice, bob):
        assert listed(chat_list_backend, user) == [(chat.id, M1, "", alice.id)]
    found = chat_list_backend.chats.get_chat_and_member(chat.id, bob.id)
    assert found is not None
    assert chat_list_backend.chat_list.with_activity(bob.id, found[0]).last_preview == ""


def test_an_edit_of_an_older_message_leaves_the_newest_preview_alone(
    chat_list_backend: ChatListBackend, chat: Chat, people: tuple[User, User, User]
) -> None:
    alice, bob, _ = people
    store = chat_list_backend.chat_list
    members = [alice.id, bob.id]
    store.record_activity(chat.id, M1, NOW, "first", alice.id, members)
    store.record_activity(chat.id, M2, NOW + timedelta(seconds=1), "second", bob.id, members)
    store.refresh_preview(chat.id, M1, "first, edited")
    assert listed(chat_list_backend, alice) == [(chat.id, M2, "second", bob.id)]

    # An edit of the last message, then a newer message: the newer one's preview shows.
    store.refresh_preview(chat.id, M2, "second, edited")
    store.refresh_preview(chat.id, M1, "first, edited again")  # (the last keeps its own edit)
    assert listed(chat_list_backend, bob) == [(chat.id, M2, "second, edited", bob.id)]
    store.record_activity(chat.id, M3, NOW + timedelta(seconds=2), "third", alice.id, members)
    assert listed(chat_list_backend, bob) == [(chat.id, M3, "third", alice.id)]
