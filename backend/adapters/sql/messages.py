"""Messages in SQL: the embedded twin of the Cassandra message store."""

from __future__ import annotations

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


def _within(query: sa.Select[Any], lowest: str, highest: str) -> sa.Select[Any]:
    """Only ids in [lowest, highest] ("" = no bound): what one member may read."""
    if lowest:
        query = query.where(MESSAGES.c.id >= lowest)
    if highest:
        query = query.where(MESSAGES.c.id <= highest)
    return query


class SqlMessageStore:
    def __init__(self, engine: sa.Engine) -> None:
        self._engine = engine
        # SQLite has one writer at a time anyway; holding this lock from choosing the id to the
        # commit makes ids commit in the order they were made, so a reader who has seen message
        # N has seen everything below N (the receipts depend on it).
        self._write_lock = threading.Lock()

    def add_message(self, draft: Message, new_id: Callable[[], str]) -> tuple[Message, bool]:
        with self._write_lock:
            message = dataclasses.replace(draft, id=new_id())
            try:
                with self._engine.begin() as conn:
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

    def list_before(
        self, chat_id: str, before: str, limit: int, lowest: str = "", highest: str = ""
    ) -> list[Message]:
        query = sa.select(MESSAGES).where(MESSAGES.c.chat_id == chat_id)
        if before:
            query = query.where(MESSAGES.c.id < before)
        query = _within(query, lowest, highest)
        with self._engine.connect() as conn:
            rows = conn.execute(query.order_by(MESSAGES.c.id.desc()).limit(limit)).all()
        return [_message(row) for row in rows]

    def list_after(
        self, chat_id: str, after: str, limit: int, lowest: str = "", highest: str = ""
    ) -> list[Message]:
        query = sa.select(MESSAGES).where(MESSAGES.c.chat_id == chat_id, MESSAGES.c.id > after)
        query = _within(query, lowest, highest)
        with self._engine.connect() as conn:
            rows = conn.execute(query.order_by(MESSAGES.c.id).limit(limit)).all()
        return [_message(row) for row in rows]

    def count_unread(
        self,
        user_id: str,
        after_by_chat: dict[str, str],
        upto_by_chat: dict[str, str] | None = None,
    ) -> dict[str, int]:
        counts = dict.fromkeys(after_by_chat, 0)
        if not after_by_chat:
            return counts
        upto_by_chat = upto_by_chat or {}
        newer = sa.or_(
            *(
                sa.and_(
                    col(MessageRow.chat_id) == chat_id,
                    col(MessageRow.id) > after,
                    col(MessageRow.id) <= upto_by_chat[chat_id]
                    if upto_by_chat.get(chat_id)
                    else sa.true(),
                )
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
