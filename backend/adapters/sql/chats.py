"""Chats, memberships and receipt watermarks in SQL, and the chat list (each chat's row holds
its last message: one write per message whatever the chat's size)."""

from __future__ import annotations

from collections.abc import Collection, Iterable, Sequence
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
from sqlmodel import Session as DbSession
from sqlmodel import col, select

from backend.adapters.sql.tables import ChatMemberRow, ChatRow, ReceiptMarkRow
from backend.models import (
    Chat,
    ChatActivity,
    ChatKind,
    Member,
    ReceiptMove,
    Receipts,
    ReceiptsMoved,
    Role,
    Watermarks,
)

# The hot paths (every send and receipt) use Core statements on the tables: hydrating SQLModel
# objects costs more than the SQL itself. Rows from either are read by attribute name.
CHATS: sa.Table = ChatRow.__table__  # type: ignore[attr-defined]
MEMBERS: sa.Table = ChatMemberRow.__table__  # type: ignore[attr-defined]
MARKS: sa.Table = ReceiptMarkRow.__table__  # type: ignore[attr-defined]


def _chat(row: Any) -> Chat:
    return Chat(
        id=row.id,
        kind=ChatKind(row.kind),
        title=row.title,
        created_by=row.created_by,
        created_at=row.created_at,
        last_message_id=row.last_message_id,
        last_activity_at=row.last_activity_at,
        last_preview=row.last_preview,
        last_sender_id=row.last_sender_id,
    )


def _member(row: Any) -> Member:
    return Member(
        chat_id=row.chat_id,
        user_id=row.user_id,
        role=Role(row.role),
        joined_at=row.joined_at,
        delivered_upto=row.delivered_upto,
        read_upto=row.read_upto,
        is_listed=row.is_listed,
        visible_from=row.visible_from,
        visible_upto=row.visible_upto,
        left_at=row.left_at,
    )


def _member_values(m: Member) -> dict[str, Any]:
    return {
        "chat_id": m.chat_id,
        "user_id": m.user_id,
        "role": m.role.value,
        "joined_at": m.joined_at,
        "delivered_upto": m.delivered_upto,
        "read_upto": m.read_upto,
        "is_listed": m.is_listed,
        "visible_from": m.visible_from,
        "visible_upto": m.visible_upto,
        "left_at": m.left_at,
    }


def _member_row(m: Member) -> ChatMemberRow:
    return ChatMemberRow(**_member_values(m))


# Built once: these run on every send and receipt, and building a statement (above all the
# CASE expressions) costs more than running it.
_CURRENT = sa.and_(MEMBERS.c.chat_id == sa.bindparam("chat_id"), MEMBERS.c.left_at.is_(None))
# Only the ids: the fan-out of a message to a group of 256 must not build 256 objects.
_CURRENT_MEMBER_IDS = sa.select(MEMBERS.c.user_id).where(_CURRENT)
# The chat and one member's row (the door for sends and receipts).
_CHAT_AND_MEMBER = (
    sa.select(CHATS, MEMBERS)
    .join(MEMBERS, MEMBERS.c.chat_id == CHATS.c.id)
    .where(CHATS.c.id == sa.bindparam("chat_id"), MEMBERS.c.user_id == sa.bindparam("user_id"))
)
# Every chat of a user with their membership, most recent activity first: the chat list and
# every search (``readable_ranges``) read it, so it is Core, not ORM objects (~4x cheaper).
_USER_CHATS = (
    sa.select(CHATS, MEMBERS)
    .join(MEMBERS, MEMBERS.c.chat_id == CHATS.c.id)
    .where(MEMBERS.c.user_id == sa.bindparam("user_id"))
    .order_by(sa.func.coalesce(CHATS.c.last_activity_at, CHATS.c.created_at).desc(), CHATS.c.id)
)
# The chat and its members in one trip (the two tables share no column names).
_CHAT_WITH_MEMBERS = (
    sa.select(CHATS, MEMBERS)
    .join(MEMBERS, MEMBERS.c.chat_id == CHATS.c.id)
    .where(CHATS.c.id == sa.bindparam("chat_id"))
)
# The doors of a whole batch of sends or receipts in one trip: every (chat, member) row of the
# batch's chats and users (the caller keeps the pairs it asked for).
_CHATS_AND_MEMBERS = (
    sa.select(CHATS, MEMBERS)
    .join(MEMBERS, MEMBERS.c.chat_id == CHATS.c.id)
    .where(
        CHATS.c.id.in_(sa.bindparam("chat_ids", expanding=True)),
        MEMBERS.c.user_id.in_(sa.bindparam("user_ids", expanding=True)),
    )
)
_CURRENT_MEMBER_IDS_OF = sa.select(MEMBERS.c.chat_id, MEMBERS.c.user_id).where(
    MEMBERS.c.chat_id.in_(sa.bindparam("chat_ids", expanding=True)), MEMBERS.c.left_at.is_(None)
)
# The watermarks of every member of some chats (current or not): a batch of receipt moves reads
# them before and after.
_WATERMARKS_OF = sa.select(
    MEMBERS.c.chat_id,
    MEMBERS.c.user_id,
    MEMBERS.c.delivered_upto,
    MEMBERS.c.read_upto,
    MEMBERS.c.left_at.is_(None).label("is_active"),
).where(MEMBERS.c.chat_id.in_(sa.bindparam("chat_ids", expanding=True)))
# (UPDATE reserves column names for its own parameters, hence the b_ names.)
_DELIVERED: sa.BindParameter[str] = sa.bindparam("b_delivered")
_READ: sa.BindParameter[str] = sa.bindparam("b_read")
# Raise each watermark only if the new value is ahead (run for many members at once).
_ADVANCE_RECEIPTS = (
    sa.update(MEMBERS)
    .where(
        MEMBERS.c.chat_id == sa.bindparam("b_chat_id"),
        MEMBERS.c.user_id == sa.bindparam("b_user_id"),
        sa.or_(MEMBERS.c.delivered_upto < _DELIVERED, MEMBERS.c.read_upto < _READ),
    )
    .values(
        delivered_upto=sa.case(
            (MEMBERS.c.delivered_upto < _DELIVERED, _DELIVERED), else_=MEMBERS.c.delivered_upto
        ),
        read_upto=sa.case((MEMBERS.c.read_upto < _READ, _READ), else_=MEMBERS.c.read_upto),
    )
)
# The chat's "last message", only ever forward (run for many chats at once).
_ACTIVITY_ID: sa.BindParameter[str] = sa.bindparam("b_message_id")
_RECORD_ACTIVITY = (
    sa.update(CHATS)
    .where(CHATS.c.id == sa.bindparam("b_chat_id"), CHATS.c.last_message_id < _ACTIVITY_ID)
    .values(
        last_message_id=_ACTIVITY_ID,
        last_activity_at=sa.bindparam("b_at"),
        last_preview=sa.bindparam("b_preview"),
        last_sender_id=sa.bindparam("b_sender_id"),
    )
)


# PostgreSQL: two members' receipts moving at once in READ COMMITTED would each read the
# members without the other's move, and neither would announce the aggregate both reached (a
# sender's ticks stuck at one). A per-chat transaction lock makes the second read the first's
# commit. (SQLite has one writer at a time: the same order for free.) Seed 1: not the send lock.
# A batch takes its chats' locks in one statement, in the (sorted) order given, so two batches
# never wait for each other crosswise.
_LOCK_RECEIPTS = sa.text(
    "SELECT pg_advisory_xact_lock(hashtextextended(c, 1)) FROM unnest(CAST(:chat_ids AS text[])) c"
)
# Adding members counts the current ones and inserts in one transaction under this per-chat
# lock, so the group limit holds across processes (seed 3: neither the send nor receipt lock).
_LOCK_MEMBERSHIP = sa.text("SELECT pg_advisory_xact_lock(hashtextextended(:chat_id, 3))")


# One member's (delivered_upto, read_upto, is_active), as a batch of receipt moves reads them.
_Marks = tuple[str, str, bool]


def _aggregate(members: Iterable[_Marks]) -> Receipts:
    """``Receipts.of`` on watermarks: current members only."""
    current = [(delivered, read) for delivered, read, active in members if active]
    if not current:
        return Receipts()
    return Receipts(
        delivered_upto=min(delivered for delivered, _ in current),
        read_upto=min(read for _, read in current),
    )


class SqlChatStore:
    def __init__(self, engine: sa.Engine) -> None:
        self._engine = engine
        insert = postgresql.insert if engine.dialect.name == "postgresql" else sqlite.insert
        # A mark that already exists (only the other watermark moved) keeps its first time.
        self._mark = insert(MARKS).on_conflict_do_nothing()
        self._serialise_receipts = engine.dialect.name == "postgresql"
        self._dialect = engine.dialect.name
        # Insert a member, or overwrite a former member's row when they are brought back.
        put = insert(MEMBERS)
        self._put_member = put.on_conflict_do_update(
            index_elements=[MEMBERS.c.chat_id, MEMBERS.c.user_id],
            set_={c.name: put.excluded[c.name] for c in MEMBERS.columns if not c.primary_key},
        )

    def add_direct_chat(self, chat: Chat, direct_key: str, members: list[Member]) -> Chat:
        with DbSession(self._engine) as db:
            db.add(
                ChatRow(
                    id=chat.id,
                    kind=chat.kind.value,
                    title=chat.title,
                    direct_key=direct_key,
                    created_by=chat.created_by,
                    created_at=chat.created_at,
                )
            )
            try:
                db.flush()  # the chat row first: members reference it
            except sa.exc.IntegrityError:
                db.rollback()  # lost a race with another tab opening the same chat: use theirs
                return self._direct_chat(direct_key)
            db.add_all(_member_row(m) for m in members)
            db.commit()
            return chat

    def add_group_chat(self, chat: Chat, members: list[Member]) -> None:
        with DbSession(self._engine) as db:
            db.add(
                ChatRow(
                    id=chat.id,
                    kind=chat.kind.value,
                    title=chat.title,
                    created_by=chat.created_by,
                    created_at=chat.created_at,
                )
            )
            db.flush()  # the chat row first: members reference it
            db.add_all(_member_row(m) for m in members)
            db.commit()

    def add_members(
        self, chat_id: str, members: list[Member], max_members: int
    ) -> list[str] | None:
        with self._engine.connect() as conn:
            # Count and insert in one serialised transaction, so two admins (on any
            # processes) adding at once cannot both see room for the last seat.
            if self._dialect == "sqlite":
                conn.exec_driver_sql("BEGIN IMMEDIATE")  # the one writer, from the start
            else:
                conn.execute(_LOCK_MEMBERSHIP, {"chat_id": chat_id})
            current = set(conn.execute(_CURRENT_MEMBER_IDS, {"chat_id": chat_id}).scalars())
            joining = [m for m in members if m.user_id not in current]
            if len(current) + len(joining) > max_members:
                conn.rollback()
                return None
            if joining:
                rows = [_member_values(m) for m in joining]
                conn.execute(self._put_member, rows)  # insert, or bring a former member back
            conn.commit()
        return [m.user_id for m in joining]

    def start_history_at(self, chat_id: str, user_ids: list[str], line_id: str) -> None:
        if not user_ids:
            return
        # SQLite's two-argument max() is PostgreSQL's greatest().
        greatest = sa.func.max if self._dialect == "sqlite" else sa.func.greatest
        with self._engine.begin() as conn:
            conn.execute(
                sa.update(MEMBERS)
                .where(
                    MEMBERS.c.chat_id == chat_id,
                    MEMBERS.c.user_id.in_(user_ids),
                    MEMBERS.c.left_at.is_(None),
                )
                .values(
                    visible_from=line_id,
                    # Watermarks only move forward (a newcomer's device may be ahead already).
                    delivered_upto=greatest(MEMBERS.c.delivered_upto, line_id),
                    read_upto=greatest(MEMBERS.c.read_upto, line_id),
                )
            )

    def end_membership(self, chat_id: str, user_id: str, at: datetime, visible_upto: str) -> bool:
        with self._engine.begin() as conn:
            result = conn.execute(
                sa.update(MEMBERS)
                .where(
                    MEMBERS.c.chat_id == chat_id,
                    MEMBERS.c.user_id == user_id,
                    MEMBERS.c.left_at.is_(None),
                )
                .values(left_at=at, visible_upto=visible_upto)
            )
        return bool(result.rowcount)

    def set_role(self, chat_id: str, user_id: str, role: Role) -> None:
        with self._engine.begin() as conn:
            conn.execute(
                sa.update(MEMBERS)
                .where(MEMBERS.c.chat_id == chat_id, MEMBERS.c.user_id == user_id)
                .values(role=role.value)
            )

    def set_title(self, chat_id: str, title: str) -> None:
        with self._engine.begin() as conn:
            conn.execute(sa.update(CHATS).where(CHATS.c.id == chat_id).values(title=title))

    def receipt_times(
        self, chat_id: str, message_id: str
    ) -> dict[str, tuple[datetime | None, datetime | None]]:
        first_mark = (
            sa.select(MARKS.c.user_id, MARKS.c.kind, sa.func.min(MARKS.c.at))
            .where(MARKS.c.chat_id == chat_id, MARKS.c.upto >= message_id)
            .group_by(MARKS.c.user_id, MARKS.c.kind)
        )
        found: dict[str, tuple[datetime | None, datetime | None]] = {}
        with self._engine.connect() as conn:
            for user_id, kind, at in conn.execute(first_mark):
                delivered, read = found.get(user_id, (None, None))
                found[user_id] = (at, read) if kind == "d" else (delivered, at)
        return found

    def _direct_chat(self, direct_key: str) -> Chat:
        with DbSession(self._engine) as db:
            row = db.exec(select(ChatRow).where(ChatRow.direct_key == direct_key)).one()
            return _chat(row)

    def get_chat_with_members(self, chat_id: str) -> tuple[Chat, list[Member]] | None:
        with self._engine.connect() as conn:
            rows = conn.execute(_CHAT_WITH_MEMBERS, {"chat_id": chat_id}).all()
        return (_chat(rows[0]), [_member(row) for row in rows]) if rows else None

    def list_members_of(self, chat_ids: list[str]) -> dict[str, list[Member]]:
        found: dict[str, list[Member]] = {chat_id: [] for chat_id in chat_ids}
        if not chat_ids:
            return found
        with DbSession(self._engine) as db:
            rows = db.exec(
                select(ChatMemberRow).where(col(ChatMemberRow.chat_id).in_(chat_ids))
            ).all()
        for row in rows:
            found[row.chat_id].append(_member(row))
        return found

    def list_for_member(self, chat_id: str, user_id: str) -> bool:
        with DbSession(self._engine) as db:
            result = db.exec(  # type: ignore[call-overload]
                sa.update(ChatMemberRow)
                .where(
                    col(ChatMemberRow.chat_id) == chat_id,
                    col(ChatMemberRow.user_id) == user_id,
                    col(ChatMemberRow.is_listed).is_(False),
                )
                .values(is_listed=True)
            )
            db.commit()
            return bool(result.rowcount)

    # --- the chat list (ChatListStore): the chat's own row is every member's list ----------

    def list_user_chats(self, user_id: str) -> list[tuple[Chat, Member]]:
        # Both ports' answer at once: the memberships, and the list in its order.
        with self._engine.connect() as conn:
            rows = conn.execute(_USER_CHATS, {"user_id": user_id}).all()
        return [(_chat(row), _member(row)) for row in rows]

    def record_activity(
        self,
        chat_id: str,
        message_id: str,
        at: datetime,
        preview: str,
        sender_id: str,
        member_ids: list[str],
    ) -> None:
        self.record_activities([ChatActivity(chat_id, message_id, at, preview, sender_id)])

    def record_activities(self, activities: Sequence[ChatActivity]) -> None:
        if not activities:
            return
        with self._engine.begin() as conn:
            conn.execute(
                _RECORD_ACTIVITY,
                [
                    {
                        "b_chat_id": a.chat_id,
                        "b_message_id": a.message_id,
                        "b_at": a.at,
                        "b_preview": a.preview,
                        "b_sender_id": a.sender_id,
                    }
                    for a in activities
                ],
            )

    def with_activity(self, user_id: str, chat: Chat) -> Chat:
        return chat  # read from the chat's row, which is where the list lives here

    def refresh_preview(self, chat_id: str, message_id: str, preview: str) -> None:
        with self._engine.begin() as conn:
            conn.execute(
                sa.update(CHATS)
                .where(CHATS.c.id == chat_id, CHATS.c.last_message_id == message_id)
                .values(last_preview=preview)
            )

    # --- the door, fan-out and receipts --------------------------------------------------

    def get_chat_and_member(self, chat_id: str, user_id: str) -> tuple[Chat, Member] | None:
        with self._engine.connect() as conn:
            row = conn.execute(_CHAT_AND_MEMBER, {"chat_id": chat_id, "user_id": user_id}).first()
        return (_chat(row), _member(row)) if row else None

    def current_member_ids(self, chat_id: str) -> list[str]:
        with self._engine.connect() as conn:
            return list(conn.execute(_CURRENT_MEMBER_IDS, {"chat_id": chat_id}).scalars())

    def get_chats_and_members(
        self, pairs: Collection[tuple[str, str]]
    ) -> dict[tuple[str, str], tuple[Chat, Member]]:
        if not pairs:
            return {}
        wanted = set(pairs)
        params = {
            "chat_ids": sorted({chat_id for chat_id, _ in wanted}),
            "user_ids": sorted({user_id for _, user_id in wanted}),
        }
        with self._engine.connect() as conn:
            rows = conn.execute(_CHATS_AND_MEMBERS, params).all()
        chats: dict[str, Chat] = {}
        found: dict[tuple[str, str], tuple[Chat, Member]] = {}
        for row in rows:
            key = (row.chat_id, row.user_id)
            if key in wanted:
                chat = chats.get(row.chat_id) or chats.setdefault(row.chat_id, _chat(row))
                found[key] = (chat, _member(row))
        return found

    def current_member_ids_of(self, chat_ids: Collection[str]) -> dict[str, list[str]]:
        if not chat_ids:
            return {}
        found: dict[str, list[str]] = {}
        with self._engine.connect() as conn:
            for chat_id, user_id in conn.execute(
                _CURRENT_MEMBER_IDS_OF, {"chat_ids": sorted(set(chat_ids))}
            ):
                found.setdefault(chat_id, []).append(user_id)
        return found

    def advance_receipts(
        self, chat_id: str, user_id: str, delivered_upto: str, read_upto: str, at: datetime
    ) -> tuple[Member, Receipts, Receipts] | None:
        moved = self.advance_receipts_many(
            [ReceiptMove(chat_id, user_id, delivered_upto, read_upto)], at
        )
        if not moved:
            return None
        found = self.get_chat_and_member(chat_id, user_id)
        assert found is not None  # it just moved: member rows are never deleted
        return found[1], moved[0].before, moved[0].after

    def advance_receipts_many(
        self, moves: Sequence[ReceiptMove], at: datetime
    ) -> list[ReceiptsMoved]:
        # One move per member, to the highest of each watermark asked; reading implies having
        # received, so delivered never trails read.
        wanted: dict[tuple[str, str], tuple[str, str]] = {}
        for move in moves:
            delivered, read = wanted.get((move.chat_id, move.user_id), ("", ""))
            read = max(read, move.read_upto)
            wanted[(move.chat_id, move.user_id)] = (max(delivered, move.delivered_upto, read), read)
        if not wanted:
            return []
        chat_ids = sorted({chat_id for chat_id, _ in wanted})
        with self._engine.begin() as conn:
            if self._serialise_receipts:
                conn.execute(_LOCK_RECEIPTS, {"chat_ids": chat_ids})
            before = self._watermarks(conn, chat_ids)
            conn.execute(
                _ADVANCE_RECEIPTS,
                [
                    {"b_chat_id": c, "b_user_id": u, "b_delivered": d, "b_read": r}
                    for (c, u), (d, r) in wanted.items()
                ],
            )
            # Read back inside the write: the rows as this transaction left them.
            after = self._watermarks(conn, chat_ids)
            moved: dict[str, list[Watermarks]] = {}
            for chat_id, user_id in wanted:
                old, new = before[chat_id].get(user_id), after[chat_id].get(user_id)
                if new is None or (old is not None and old[:2] == new[:2]):
                    continue
                moved.setdefault(chat_id, []).append(Watermarks(user_id, new[0], new[1]))
            marks = [
                {"chat_id": chat_id, "user_id": m.user_id, "kind": kind, "upto": upto, "at": at}
                for chat_id, members in moved.items()
                for m in members
                for kind, upto in (("d", m.delivered_upto), ("r", m.read_upto))
                if upto
            ]
            if marks:
                conn.execute(self._mark, marks)
        return [
            ReceiptsMoved(
                chat_id=chat_id,
                before=_aggregate(before[chat_id].values()),
                after=_aggregate(after[chat_id].values()),
                moved=tuple(members),
                member_ids=tuple(user for user, marks in after[chat_id].items() if marks[2]),
            )
            for chat_id, members in moved.items()
        ]

    @staticmethod
    def _watermarks(conn: sa.Connection, chat_ids: list[str]) -> dict[str, dict[str, _Marks]]:
        """Every member's watermarks in the chats, by chat then user."""
        found: dict[str, dict[str, _Marks]] = {chat_id: {} for chat_id in chat_ids}
        for chat_id, user_id, delivered, read, active in conn.execute(
            _WATERMARKS_OF, {"chat_ids": chat_ids}
        ):
            found[chat_id][user_id] = (delivered, read, bool(active))
        return found
