"""Messages in SQL: the embedded twin of the Cassandra message store."""

from __future__ import annotations

import contextlib
import dataclasses
import threading
from collections.abc import Callable
from typing import Any

import sqlalchemy as sa
from sqlmodel import Session as DbSession
from sqlmodel import col, select

from backend.adapters.sql.tables import MessageRow
from backend.content import dump_content, load_content
from backend.models import Message

# Core statements on the table: the send path runs these on every message, and hydrating
# SQLModel objects would cost more than the SQL.
MESSAGES: sa.Table = MessageRow.__table__  # type: ignore[attr-defined]


def _message(row: Any) -> Message:
    return Message(
        id=row.id,
        chat_id=row.chat_id,
        sender_id=row.sender_id,
        content=load_content(row.content),
        created_at=row.created_at,
        temp_id=row.temp_id or "",
    )


# PostgreSQL: a transaction-scoped advisory lock per chat, taken before the id is made. Sends to
# one chat (from any process) queue on it until the holder commits, so ids commit in the order
# they were made; other chats, and everything that touches the chat's row, are not held up.
_LOCK_CHAT = sa.text("SELECT pg_advisory_xact_lock(hashtextextended(:chat_id, 0))")


class SqlMessageStore:
    def __init__(self, engine: sa.Engine) -> None:
        self._engine = engine
        # SQLite has one writer at a time anyway; holding this lock from choosing the id to the
        # commit makes ids commit in the order they were made, so a reader who has seen message
        # N has seen everything below N (the receipts depend on it). PostgreSQL serialises per
        # chat in the database instead (_LOCK_CHAT), which also holds across processes.
        self._lock_per_chat = engine.dialect.name == "postgresql"
        self._write_lock: contextlib.AbstractContextManager[object] = (
            contextlib.nullcontext() if self._lock_per_chat else threading.Lock()
        )

    def add_message(self, draft: Message, new_id: Callable[[], str]) -> tuple[Message, bool]:
        with self._write_lock:
            message = draft
            try:
                with self._engine.begin() as conn:
                    if self._lock_per_chat:
                        conn.execute(_LOCK_CHAT, {"chat_id": draft.chat_id})
                    message = dataclasses.replace(draft, id=new_id())
                    conn.execute(
                        sa.insert(MESSAGES).values(
                            id=message.id,
                            chat_id=message.chat_id,
                            sender_id=message.sender_id,
                            temp_id=message.temp_id or None,
                            content=dump_content(message.content),
                            created_at=message.created_at,
                        )
                    )
                return message, True
            except sa.exc.IntegrityError:
                pass
        existing = self.find_sent(message.chat_id, message.sender_id, message.temp_id)
        if existing is None:  # the conflict was something else: let it surface
            raise RuntimeError("message insert conflicted without a duplicate temp id")
        return existing, False

    def find_sent(self, chat_id: str, sender_id: str, temp_id: str) -> Message | None:
        query = sa.select(MESSAGES).where(
            MESSAGES.c.chat_id == chat_id,
            MESSAGES.c.sender_id == sender_id,
            MESSAGES.c.temp_id == temp_id,
        )
        with self._engine.connect() as conn:
            row = conn.execute(query).first()
        return _message(row) if row else None

    def list_before(self, chat_id: str, before: str, limit: int) -> list[Message]:
        query = sa.select(MESSAGES).where(MESSAGES.c.chat_id == chat_id)
        if before:
            query = query.where(MESSAGES.c.id < before)
        with self._engine.connect() as conn:
            rows = conn.execute(query.order_by(MESSAGES.c.id.desc()).limit(limit)).all()
        return [_message(row) for row in rows]

    def list_after(self, chat_id: str, after: str, limit: int) -> list[Message]:
        query = (
            sa.select(MESSAGES)
            .where(MESSAGES.c.chat_id == chat_id, MESSAGES.c.id > after)
            .order_by(MESSAGES.c.id)
            .limit(limit)
        )
        with self._engine.connect() as conn:
            rows = conn.execute(query).all()
        return [_message(row) for row in rows]

    def count_unread(self, user_id: str, after_by_chat: dict[str, str]) -> dict[str, int]:
        counts = dict.fromkeys(after_by_chat, 0)
        if not after_by_chat:
            return counts
        newer = sa.or_(
            *(
                sa.and_(col(MessageRow.chat_id) == chat_id, col(MessageRow.id) > after)
                for chat_id, after in after_by_chat.items()
            )
        )
        with DbSession(self._engine) as db:
            rows = db.exec(
                select(MessageRow.chat_id, sa.func.count())
                .where(newer, MessageRow.sender_id != user_id)
                .group_by(MessageRow.chat_id)
            ).all()
        counts.update({chat_id: count for chat_id, count in rows})
        return counts
