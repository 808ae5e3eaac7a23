"""Messages in SQL: the embedded twin of the Cassandra message store."""

from __future__ import annotations

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

    def add_message(self, message: Message) -> tuple[Message, bool]:
        row = MessageRow(
            id=message.id,
            chat_id=message.chat_id,
            sender_id=message.sender_id,
            temp_id=message.temp_id or None,
            content=dump_content(message.content),
            created_at=message.created_at,
        )
        with DbSession(self._engine) as db:
            db.add(row)
            try:
                db.commit()
                return message, True
            except sa.exc.IntegrityError:
                db.rollback()
            existing = db.exec(
                select(MessageRow).where(
                    MessageRow.chat_id == message.chat_id,
                    MessageRow.sender_id == message.sender_id,
                    MessageRow.temp_id == message.temp_id,
                )
            ).first()
            if existing is None:  # the conflict was something else: let it surface
                raise RuntimeError("message insert conflicted without a duplicate temp id")
            return _message(existing), False

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

    def count_after(self, chat_id: str, after: str, exclude_sender: str) -> int:
        with DbSession(self._engine) as db:
            return db.exec(
                select(sa.func.count())
                .select_from(MessageRow)
                .where(
                    MessageRow.chat_id == chat_id,
                    col(MessageRow.id) > after,
                    MessageRow.sender_id != exclude_sender,
                )
            ).one()
