"""The ChatStore contract for joining groups, on SQLite and PostgreSQL: ``add_members`` holds
the group limit however many processes add at once, and ``start_history_at`` moves a
newcomer's history and watermarks to the line that added them."""

from __future__ import annotations

import threading

import pytest
import sqlalchemy as sa

from backend.adapters.sql.accounts import SqlUserStore
from backend.adapters.sql.chats import SqlChatStore
from backend.adapters.sql.engine import create_sql_engine
from backend.ids import new_id
from backend.models import Chat, ChatKind, Member, Role
from tests.contracts.conftest import NOW, make_user

# Ids in time order, as the message store makes them (only their order matters here).
M1, M2, M3 = (f"0190{n}000-0000-7000-8000-000000000000" for n in "123")


def make_group(chats: SqlChatStore, member_ids: list[str]) -> Chat:
    chat = Chat(
        id=new_id(), kind=ChatKind.GROUP, title="G", created_by=member_ids[0], created_at=NOW
    )
    chats.add_group_chat(
        chat,
        [
            Member(chat.id, uid, Role.OWNER if i == 0 else Role.MEMBER, NOW)
            for i, uid in enumerate(member_ids)
        ],
    )
    return chat


def newcomer(chat_id: str, user_id: str, at: str = M1) -> Member:
    return Member(chat_id, user_id, Role.MEMBER, NOW, at, at, visible_from=at)


def current_ids(chats: SqlChatStore, chat_id: str) -> set[str]:
    return set(chats.current_member_ids(chat_id))


def test_members_are_added_up_to_the_limit_and_not_one_more(
    chat_store: SqlChatStore, user_store: SqlUserStore
) -> None:
    people = [make_user(user_store).id for _ in range(6)]
    chat = make_group(chat_store, people[:2])
    added = chat_store.add_members(chat.id, [newcomer(chat.id, u) for u in people[2:4]], 4)
    assert added == people[2:4]
    assert current_ids(chat_store, chat.id) == set(people[:4])
    # Full: refused whole, nothing written.
    assert chat_store.add_members(chat.id, [newcomer(chat.id, people[4])], 4) is None
    assert current_ids(chat_store, chat.id) == set(people[:4])
    # Someone already in is skipped, not counted twice, and their row is left alone.
    found = chat_store.add_members(chat.id, [newcomer(chat.id, people[2], M3)], 4)
    assert found == []
    rows = {m.user_id: m for m in chat_store.list_members_of([chat.id])[chat.id]}
    assert rows[people[2]].visible_from == M1


def test_a_former_member_is_brought_back_with_the_row_given(
    chat_store: SqlChatStore, user_store: SqlUserStore
) -> None:
    people = [make_user(user_store).id for _ in range(3)]
    chat = make_group(chat_store, people)
    assert chat_store.end_membership(chat.id, people[2], NOW, M1)
    assert chat_store.add_members(chat.id, [newcomer(chat.id, people[2], M2)], 3) == [people[2]]
    back = {m.user_id: m for m in chat_store.list_members_of([chat.id])[chat.id]}[people[2]]
    assert (back.is_active, back.visible_from, back.visible_upto) == (True, M2, "")
    assert (back.delivered_upto, back.read_upto) == (M2, M2)


def test_history_starts_at_the_line_and_watermarks_only_rise(
    chat_store: SqlChatStore, user_store: SqlUserStore
) -> None:
    people = [make_user(user_store).id for _ in range(4)]
    chat = make_group(chat_store, people[:2])
    chat_store.add_members(chat.id, [newcomer(chat.id, u) for u in people[2:]], 10)
    # One newcomer's device is already past the line; the other is not.
    chat_store.advance_receipts(chat.id, people[3], M3, M3, NOW)
    chat_store.start_history_at(chat.id, people[2:], M2)
    rows = {m.user_id: m for m in chat_store.list_members_of([chat.id])[chat.id]}
    assert [
        (rows[u].visible_from, rows[u].delivered_upto, rows[u].read_upto) for u in people[2:]
    ] == [
        (M2, M2, M2),
        (M2, M3, M3),
    ]
    assert rows[people[0]].visible_from == ""  # the others are untouched
    chat_store.start_history_at(chat.id, [], M3)  # nothing to do


@pytest.fixture
def second_process(sql_engine: sa.Engine) -> SqlChatStore:
    """A chat store on its own engine (its own connections) over the same database."""
    engine = create_sql_engine(sql_engine.url.render_as_string(hide_password=False))
    yield SqlChatStore(engine)  # type: ignore[misc]
    engine.dispose()


def add_at_once(
    stores: tuple[SqlChatStore, SqlChatStore], chat_id: str, people: list[str], limit: int
) -> list[list[str] | None]:
    """Each person added by an admin of their own, alternating between the two processes,
    all released together."""
    start = threading.Barrier(len(people))
    results: list[list[str] | None] = []

    def add(i: int) -> None:
        start.wait()
        results.append(stores[i % 2].add_members(chat_id, [newcomer(chat_id, people[i])], limit))

    threads = [threading.Thread(target=add, args=(i,)) for i in range(len(people))]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return results


def test_admins_adding_at_once_on_two_processes_never_pass_the_limit(
    chat_store: SqlChatStore, second_process: SqlChatStore, user_store: SqlUserStore
) -> None:
    """Six admins on two processes each add one person to a group with two seats left, over
    and over: every round exactly two get in (PostgreSQL: the per-chat lock; SQLite: the one
    writer, taken before counting)."""
    limit = 6
    founders = [make_user(user_store).id for _ in range(limit - 2)]
    for round_no in range(8):
        chat = make_group(chat_store, founders)
        candidates = [make_user(user_store).id for _ in range(6)]
        results = add_at_once((chat_store, second_process), chat.id, candidates, limit)
        outcomes = sorted(len(r) if r is not None else -1 for r in results)
        assert outcomes == [-1, -1, -1, -1, 1, 1], f"round {round_no}: {results}"
        assert len(current_ids(second_process, chat.id)) == limit
