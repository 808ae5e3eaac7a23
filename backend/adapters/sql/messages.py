"""Messages in SQL: the embedded twin of the Cassandra message store."""

from __future__ import annotations

import dataclasses
import threading
from collections.abc import Callable

import sqlalchemy as sa
from sqlmodel import Session as DbSession
from sqlmodel import col, select

from backend.adapters.sql.tables import MessageRow
from backend.content import dump_content, load_content
from backend.models import Message


def _message(row: MessageRow) -> Message:
    return Message(
        id=row.id,
        chat_id=row.chat_id,
        sender_id=row.sender_id,
        content=load_content(row.content),
        created_at=row.created_at,
        temp_id=row.temp_id or "",
    )


class SqlMessageStore:
    def __init__(self, engine: sa.Engine) -> None:
        self._engine = engine
        # SQLite has one writer at a time anyway; holding this lock from choosing the id to the
        # commit makes ids commit in the order they were made, so a reader who has seen message
        # N has seen everything below N (the receipts depend on it).
        self._write_lock = threading.Lock()

    def add_message(self, draft: Message, new_id: Callable[[], str]) -> tuple[Message, bool]:
        with self._write_lock, DbSession(self._engine) as db:
            message = dataclasses.replace(draft, id=new_id())
            db.add(
                MessageRow(
                    id=message.id,
                    chat_id=message.chat_id,
                    sender_id=message.sender_id,
                    temp_id=message.temp_id or None,
                    content=dump_content(message.content),
                    created_at=message.created_at,
                )
            )
            try:
                db.commit()
                return message, True
            except sa.exc.IntegrityError:
                db.rollback()
        existing = self.find_sent(message.chat_id, message.sender_id, message.temp_id)
        if existing is None:  # the conflict was something else: let it surface
            raise RuntimeError("message insert conflicted without a duplicate temp id")
        return existing, False

    def find_sent(self, chat_id: str, sender_id: str, temp_id: str) -> Message | None:
        with DbSession(self._engine) as db:
            row = db.exec(
                select(MessageRow).where(
                    MessageRow.chat_id == chat_id,
                    MessageRow.sender_id == sender_id,
                    MessageRow.temp_id == temp_id,
                )
            ).first()
            return _message(row) if row else None

    def list_before(self, chat_id: str, before: str, limit: int) -> list[Message]:
        query = select(MessageRow).where(MessageRow.chat_id == chat_id)
        if before:
            query = query.where(col(MessageRow.id) < before)
        with DbSession(self._engine) as db:
            rows = db.exec(query.order_by(col(MessageRow.id).desc()).limit(limit)).all()
            return [_message(row) for row in rows]

    def list_after(self, chat_id: str, after: str, limit: int) -> list[Message]:
        with DbSession(self._engine) as db:
            rows = db.exec(
                select(MessageRow)
                .where(MessageRow.chat_id == chat_id, col(MessageRow.id) > after)
                .order_by(col(MessageRow.id))
                .limit(limit)
            ).all()
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
