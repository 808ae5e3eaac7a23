"""The ChatStore contract, on SQLite and PostgreSQL.

One test per behaviour of the port, grouped by method, so a new ChatStore method (group
membership, roles) gets its own block of tests here and runs on both engines at once.
"""

from __future__ import annotations

import dataclasses
import threading
from datetime import timedelta

import pytest

from backend.adapters.sql.accounts import SqlUserStore
from backend.adapters.sql.chats import SqlChatStore
from backend.models import (
    Chat,
    ChatActivity,
    Member,
    ReceiptMove,
    Receipts,
    Role,
    User,
    Watermarks,
)
from tests.contracts.conftest import NOW, make_direct_chat, make_user

# Ids in time order, as the message store makes them (only their order matters here).
M1, M2, M3 = (f"0190{n}000-0000-7000-8000-000000000000" for n in "123")


@pytest.fixture
def people(user_store: SqlUserStore) -> tuple[User, User, User]:
    return (
        make_user(user_store, "alice"),
        make_user(user_store, "bob"),
        make_user(user_store, "carol"),
    )


@pytest.fixture
def chat(chat_store: SqlChatStore, people: tuple[User, User, User]) -> Chat:
    alice, bob, _ = people
    return make_direct_chat(chat_store, alice.id, bob.id)


# --- add_direct_chat / get_chat_with_members / list_members_of ------------------------------


def test_a_direct_chat_is_stored_with_its_members(
    chat_store: SqlChatStore, chat: Chat, people: tuple[User, User, User]
) -> None:
    alice, bob, _ = people
    found = chat_store.get_chat_with_members(chat.id)
    assert found is not None
    stored, members = found
    assert stored == chat
    by_user = {m.user_id: m for m in members}
    assert set(by_user) == {alice.id, bob.id}
    assert (by_user[alice.id].is_listed, by_user[bob.id].is_listed) == (True, False)
    assert by_user[alice.id].role is Role.MEMBER and by_user[alice.id].joined_at == NOW
    assert chat_store.get_chat_with_members("00000000-0000-4000-8000-000000000000") is None


def test_opening_the_same_pair_twice_gives_the_first_chat(
    chat_store: SqlChatStore, chat: Chat, people: tuple[User, User, User]
) -> None:
    alice, bob, _ = people
    again = make_direct_chat(chat_store, bob.id, alice.id, at=NOW + timedelta(minutes=1))
    assert again == chat


def test_racing_opens_of_one_pair_agree_on_one_chat(
    chat_store: SqlChatStore, people: tuple[User, User, User]
) -> None:
    alice, _, carol = people
    results: list[Chat] = []
    threads = [
        threading.Thread(
            target=lambda: results.append(make_direct_chat(chat_store, alice.id, carol.id))
        )
        for _ in range(4)
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(results) == 4 and len({c.id for c in results}) == 1


def test_members_of_many_chats_in_one_call(
    chat_store: SqlChatStore, chat: Chat, people: tuple[User, User, User]
) -> None:
    alice, bob, carol = people
    other = make_direct_chat(chat_store, alice.id, carol.id)
    found = chat_store.list_members_of([chat.id, other.id])
    assert {m.user_id for m in found[chat.id]} == {alice.id, bob.id}
    assert {m.user_id for m in found[other.id]} == {alice.id, carol.id}
    assert chat_store.list_members_of([]) == {}


# --- list_for_member / list_user_chats -----------------------------------------------------


def test_listing_a_chat_for_a_member_happens_once(
    chat_store: SqlChatStore, chat: Chat, people: tuple[User, User, User]
) -> None:
    _, bob, _ = people
    assert chat_store.list_for_member(chat.id, bob.id) is True
    assert chat_store.list_for_member(chat.id, bob.id) is False


def test_a_users_chats_come_with_their_membership(
    chat_store: SqlChatStore, chat: Chat, people: tuple[User, User, User]
) -> None:
    """(Their last messages and their order are the chat list's: test_chat_list_store.py.)"""
    alice, _, carol = people
    other = make_direct_chat(chat_store, alice.id, carol.id, at=NOW + timedelta(minutes=5))
    listed = chat_store.list_user_chats(alice.id)
    assert {c.id for c, _ in listed} == {chat.id, other.id}
    assert all(me.user_id == alice.id and me.chat_id == c.id for c, me in listed)
    assert [c.id for c, _ in chat_store.list_user_chats(carol.id)] == [other.id]


# --- advance_receipts ------------------------------------------------------------------------


def test_receipts_move_forward_and_return_the_aggregate_around_the_move(
    chat_store: SqlChatStore, chat: Chat, people: tuple[User, User, User]
) -> None:
    alice, bob, _ = people
    moved = chat_store.advance_receipts(chat.id, bob.id, M2, "", NOW)
    assert moved is not None
    me, before, after = moved
    assert (me.user_id, me.delivered_upto, me.read_upto) == (bob.id, M2, "")
    assert before == after == Receipts("", "")  # alice has received nothing yet

    moved = chat_store.advance_receipts(chat.id, alice.id, M2, "", NOW)
    assert moved is not None
    assert (moved[1], moved[2]) == (Receipts("", ""), Receipts(M2, ""))  # both have M2 now

    assert chat_store.advance_receipts(chat.id, bob.id, M1, "", NOW) is None  # never backward
    moved = chat_store.advance_receipts(chat.id, bob.id, "", M3, NOW)
    assert moved is not None
    assert (moved[0].delivered_upto, moved[0].read_upto) == (M3, M3)  # read implies delivered


def test_receipts_of_a_non_member_move_nothing(
    chat_store: SqlChatStore, chat: Chat, people: tuple[User, User, User]
) -> None:
    _, _, carol = people
    assert chat_store.advance_receipts(chat.id, carol.id, M1, M1, NOW) is None


def test_receipts_moving_at_once_announce_the_aggregate_both_reached(
    chat_store: SqlChatStore, chat: Chat, people: tuple[User, User, User]
) -> None:
    """Alice's own send and Bob's delivery move at the same moment: whichever commits second
    must see the first, so some answer shows both at the new message (else the sender's ticks
    would stay at one). On PostgreSQL this is the per-chat receipt lock's job."""
    alice, bob, _ = people
    for n in range(1, 30):
        message = f"0190{n:04d}-0000-7000-8000-000000000000"
        results: list[tuple[Member, Receipts, Receipts] | None] = []
        start = threading.Barrier(2)

        def move(
            user: str,
            read: str,
            message: str = message,
            start: threading.Barrier = start,
            results: list[tuple[Member, Receipts, Receipts] | None] = results,
        ) -> None:
            start.wait()
            results.append(chat_store.advance_receipts(chat.id, user, message, read, NOW))

        threads = [
            threading.Thread(target=move, args=(alice.id, message)),
            threading.Thread(target=move, args=(bob.id, "")),
        ]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        aggregates = [r[2].delivered_upto for r in results if r is not None]
        assert message in aggregates, f"round {n}: nobody saw both moves"


# --- batches: get_chats_and_members / current_member_ids_of / record_activities /
# --- advance_receipts_many -------------------------------------------------------------------

UNKNOWN_CHAT = "00000000-0000-4000-8000-000000000000"


def test_the_doors_of_many_pairs_in_one_call(
    chat_store: SqlChatStore, chat: Chat, people: tuple[User, User, User]
) -> None:
    alice, bob, carol = people
    other = make_direct_chat(chat_store, alice.id, carol.id)
    found = chat_store.get_chats_and_members(
        [
            (chat.id, alice.id),
            (chat.id, carol.id),  # carol is not in this chat
            (other.id, carol.id),
            (other.id, bob.id),  # nor bob in this one
            (UNKNOWN_CHAT, alice.id),
        ]
    )
    assert set(found) == {(chat.id, alice.id), (other.id, carol.id)}
    assert found[(chat.id, alice.id)] == chat_store.get_chat_and_member(chat.id, alice.id)
    assert found[(other.id, carol.id)] == chat_store.get_chat_and_member(other.id, carol.id)
    assert chat_store.get_chats_and_members([]) == {}


def test_current_member_ids_of_many_chats_leave_out_who_left(
    chat_store: SqlChatStore, chat: Chat, people: tuple[User, User, User]
) -> None:
    alice, bob, carol = people
    other = make_direct_chat(chat_store, alice.id, carol.id)
    assert chat_store.end_membership(other.id, carol.id, NOW, M1)
    found = chat_store.current_member_ids_of([chat.id, other.id, UNKNOWN_CHAT])
    assert {k: sorted(v) for k, v in found.items()} == {
        chat.id: sorted([alice.id, bob.id]),
        other.id: [alice.id],
    }
    assert chat_store.current_member_ids_of([]) == {}


def test_activities_of_many_chats_move_forward_in_one_write(
    chat_store: SqlChatStore, chat: Chat, people: tuple[User, User, User]
) -> None:
    alice, bob, carol = people
    other = make_direct_chat(chat_store, alice.id, carol.id)
    at = NOW + timedelta(minutes=1)
    chat_store.record_activities(
        [ChatActivity(chat.id, M2, at, "second", bob.id), ChatActivity(other.id, M1, at, "x", "")]
    )
    chat_store.record_activities([ChatActivity(chat.id, M1, at, "first", alice.id)])
    chat_store.record_activities([])

    for chat_id, expected in ((chat.id, (M2, at, "second", bob.id)), (other.id, (M1, at, "x", ""))):
        found = chat_store.get_chat_with_members(chat_id)
        assert found is not None
        assert dataclasses.astuple(found[0])[-4:] == expected


def test_receipts_of_many_members_move_in_one_write(
    chat_store: SqlChatStore, chat: Chat, people: tuple[User, User, User]
) -> None:
    alice, bob, carol = people
    other = make_direct_chat(chat_store, alice.id, carol.id)
    moved = chat_store.advance_receipts_many(
        [
            ReceiptMove(chat.id, bob.id, delivered_upto=M2),
            ReceiptMove(other.id, carol.id, read_upto=M1),  # read implies delivered
            ReceiptMove(chat.id, alice.id, delivered_upto=M2),
            ReceiptMove(chat.id, bob.id, delivered_upto=M1),  # lower: changes nothing
            ReceiptMove(chat.id, carol.id, delivered_upto=M3),  # not a member: nothing
        ],
        NOW,
    )

    by_chat = {m.chat_id: m for m in moved}
    assert set(by_chat) == {chat.id, other.id}
    ours = by_chat[chat.id]
    assert ours.moved == (Watermarks(bob.id, M2, ""), Watermarks(alice.id, M2, ""))
    assert (ours.before, ours.after) == (Receipts("", ""), Receipts(M2, ""))
    assert set(ours.member_ids) == {alice.id, bob.id}
    theirs = by_chat[other.id]
    assert theirs.moved == (Watermarks(carol.id, M1, M1),)
    assert theirs.before == theirs.after == Receipts("", "")  # alice has nothing there yet
    # Moving to where they already are moves nothing; the first time reached is kept.
    assert (
        chat_store.advance_receipts_many(
            [ReceiptMove(chat.id, bob.id, delivered_upto=M2)], NOW + timedelta(minutes=1)
        )
        == []
    )
    assert chat_store.receipt_times(chat.id, M2)[bob.id] == (NOW, None)
    assert chat_store.advance_receipts_many([], NOW) == []
