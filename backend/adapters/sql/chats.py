"""Chats, memberships and receipt watermarks in SQL."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlmodel import Session as DbSession
from sqlmodel import col, select

from backend.adapters.sql.tables import ChatMemberRow, ChatRow
from backend.models import Chat, ChatKind, Member, Role

# The hot paths (every send and receipt) use Core statements on the tables: hydrating SQLModel
# objects costs more than the SQL itself. Rows from either are read by attribute name.
CHATS: sa.Table = ChatRow.__table__  # type: ignore[attr-defined]
MEMBERS: sa.Table = ChatMemberRow.__table__  # type: ignore[attr-defined]


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
    )


# Built once: these run on every send and receipt, and building a statement (above all the
# CASE expressions) costs more than running it.
_LIST_MEMBERS = sa.select(MEMBERS).where(MEMBERS.c.chat_id == sa.bindparam("chat_id"))
# The chat and its members in one trip (the two tables share no column names).
_CHAT_WITH_MEMBERS = (
    sa.select(CHATS, MEMBERS)
    .join(MEMBERS, MEMBERS.c.chat_id == CHATS.c.id)
    .where(CHATS.c.id == sa.bindparam("chat_id"))
)
# (UPDATE reserves column names for its own parameters, hence the b_ names.)
_DELIVERED: sa.BindParameter[str] = sa.bindparam("b_delivered")
_READ: sa.BindParameter[str] = sa.bindparam("b_read")
# Raise each watermark only if the new value is ahead, and hand back the row if anything moved.
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
    .returning(*MEMBERS.columns)
)


# PostgreSQL: two members' receipts moving at once in READ COMMITTED would each read the
# members without the other's move, and neither would announce the aggregate both reached (a
# sender's ticks stuck at one). A per-chat transaction lock makes the second read the first's
# commit. (SQLite has one writer at a time: the same order for free.) Seed 1: not the send lock.
_LOCK_RECEIPTS = sa.text("SELECT pg_advisory_xact_lock(hashtextextended(:chat_id, 1))")


class SqlChatStore:
    def __init__(self, engine: sa.Engine) -> None:
        self._engine = engine
        self._serialise_receipts = engine.dialect.name == "postgresql"

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
            for m in members:
                db.add(
                    ChatMemberRow(
                        chat_id=m.chat_id,
                        user_id=m.user_id,
                        role=m.role.value,
                        joined_at=m.joined_at,
                        is_listed=m.is_listed,
                    )
                )
            db.commit()
            return chat

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

    def list_user_chats(self, user_id: str) -> list[tuple[Chat, Member]]:
        activity = sa.func.coalesce(col(ChatRow.last_activity_at), col(ChatRow.created_at))
        with DbSession(self._engine) as db:
            rows = db.exec(
                select(ChatRow, ChatMemberRow)
                .join(ChatMemberRow, col(ChatMemberRow.chat_id) == col(ChatRow.id))
                .where(ChatMemberRow.user_id == user_id)
                .order_by(activity.desc(), col(ChatRow.id))
            ).all()
            return [(_chat(chat), _member(member)) for chat, member in rows]

    def record_activity(
        self, chat_id: str, message_id: str, at: datetime, preview: str, sender_id: str
    ) -> None:
        with self._engine.begin() as conn:
            conn.execute(
                sa.update(CHATS)
                .where(CHATS.c.id == chat_id, CHATS.c.last_message_id < message_id)
                .values(
                    last_message_id=message_id,
                    last_activity_at=at,
                    last_preview=preview,
                    last_sender_id=sender_id,
                )
            )

    def advance_receipts(
        self, chat_id: str, user_id: str, delivered_upto: str, read_upto: str
    ) -> tuple[Member, list[Member]] | None:
        # Reading implies having received: delivered never trails read.
        params = {
            "b_chat_id": chat_id,
            "b_user_id": user_id,
            "b_delivered": max(delivered_upto, read_upto),
            "b_read": read_upto,
        }
        with self._engine.begin() as conn:
            if self._serialise_receipts:
                conn.execute(_LOCK_RECEIPTS, {"chat_id": chat_id})
            row = conn.execute(_ADVANCE_RECEIPTS, params).first()
            if row is None:
                return None
            members = conn.execute(_LIST_MEMBERS, {"chat_id": chat_id}).all()
        return _member(row), [_member(m) for m in members]
