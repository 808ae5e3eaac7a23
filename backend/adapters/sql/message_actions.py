"""Message actions in SQL: edits, tombstones, reactions, stars and delete-for-me.

"Whether anything changed" comes from RETURNING, never ``rowcount``: through psycopg an
``INSERT ... ON CONFLICT`` reports a rowcount of -1 whether it wrote or not.

Every change to a message's words updates the search index in the same transaction, so the
index never shows words a message no longer has.
"""

from __future__ import annotations

import dataclasses
from datetime import datetime
from typing import Any, Protocol

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite

from backend.adapters.sql.chats import CHATS
from backend.adapters.sql.messages import (
    HIDDEN,
    MESSAGES,
    REACTIONS,
    SearchWriter,
    dump_quote,
    with_reactions,
)
from backend.adapters.sql.tables import StarredMessageRow
from backend.content import dump_content, preview_of
from backend.models import Message, Quote

STARS: sa.Table = StarredMessageRow.__table__  # type: ignore[attr-defined]
TOMBSTONE = {"type": "deleted"}

_REPLIES_TO = sa.select(MESSAGES).where(MESSAGES.c.reply_to == sa.bindparam("message_id"))


class SearchRewriter(SearchWriter, Protocol):
    def reindex(self, conn: sa.Connection, message: Message) -> None:
        """The message's words changed: the index holds exactly the new ones afterwards."""


# The chat list's preview of the last message follows what happens to that message.
_REFRESH_PREVIEW = (
    sa.update(CHATS)
    .where(CHATS.c.id == sa.bindparam("b_chat_id"), CHATS.c.last_message_id == sa.bindparam("b_id"))
    .values(last_preview=sa.bindparam("b_preview"))
)


class SqlMessageActionStore:
    def __init__(self, engine: sa.Engine, search: SearchRewriter | None = None) -> None:
        self._engine = engine
        self._search = search
        self._insert: Any = (
            postgresql.insert if engine.dialect.name == "postgresql" else sqlite.insert
        )

    def edit_message(
        self, message_id: str, content: dict[str, Any], at: datetime
    ) -> tuple[Message, list[Message]] | None:
        with self._engine.begin() as conn:
            row = conn.execute(
                sa.update(MESSAGES)
                .where(MESSAGES.c.id == message_id, MESSAGES.c.deleted_at.is_(None))
                .values(content=dump_content(content), edited_at=at)
                .returning(*MESSAGES.columns)
            ).first()
            if row is None:
                return None
            [message] = with_reactions(conn, [row])
            if self._search is not None:
                self._search.reindex(conn, message)
            preview = preview_of(content)
            self._refresh_preview(conn, message, preview)
            quote = Quote(message.id, message.sender_id, preview)
            return message, self._requote(conn, message_id, quote)

    def delete_message(self, message_id: str, at: datetime) -> tuple[Message, list[Message]] | None:
        with self._engine.begin() as conn:
            if self._search is not None:  # while the row still has its words
                self._search.unindex(conn, message_id)
            row = conn.execute(
                sa.update(MESSAGES)
                .where(MESSAGES.c.id == message_id, MESSAGES.c.deleted_at.is_(None))
                .values(
                    content=dump_content(TOMBSTONE),
                    deleted_at=at,
                    edited_at=None,
                    quote=None,
                    reply_to=None,
                    forwarded=False,
                )
                .returning(*MESSAGES.columns)
            ).first()
            if row is None:
                return None  # already a tombstone (the unindex above found nothing either)
            conn.execute(sa.delete(REACTIONS).where(REACTIONS.c.message_id == message_id))
            conn.execute(sa.delete(STARS).where(STARS.c.message_id == message_id))
            [message] = with_reactions(conn, [row])
            self._refresh_preview(conn, message, "")
            quote = Quote(message.id, message.sender_id, "", deleted=True)
            return message, self._requote(conn, message_id, quote)

    @staticmethod
    def _refresh_preview(conn: sa.Connection, message: Message, preview: str) -> None:
        conn.execute(
            _REFRESH_PREVIEW,
            {"b_chat_id": message.chat_id, "b_id": message.id, "b_preview": preview},
        )

    def _requote(self, conn: sa.Connection, message_id: str, quote: Quote) -> list[Message]:
        """Refresh the quote in every reply to ``message_id``; the replies as they are now."""
        rows = conn.execute(_REPLIES_TO, {"message_id": message_id}).all()
        if not rows:
            return []
        conn.execute(
            sa.update(MESSAGES)
            .where(MESSAGES.c.reply_to == message_id)
            .values(quote=dump_quote(quote))
        )
        return [dataclasses.replace(m, quote=quote) for m in with_reactions(conn, rows)]

    def set_reaction(
        self, message_id: str, chat_id: str, user_id: str, emoji: str, at: datetime
    ) -> bool:
        with self._engine.begin() as conn:
            if not emoji:
                removed = conn.execute(
                    sa.delete(REACTIONS)
                    .where(REACTIONS.c.message_id == message_id, REACTIONS.c.user_id == user_id)
                    .returning(REACTIONS.c.emoji)
                )
                return removed.first() is not None
            insert = self._insert(REACTIONS).values(
                message_id=message_id, user_id=user_id, chat_id=chat_id, emoji=emoji, reacted_at=at
            )
            changed = conn.execute(
                insert.on_conflict_do_update(
                    index_elements=[REACTIONS.c.message_id, REACTIONS.c.user_id],
                    set_={"emoji": insert.excluded.emoji, "reacted_at": insert.excluded.reacted_at},
                    where=REACTIONS.c.emoji != insert.excluded.emoji,
                ).returning(REACTIONS.c.emoji)
            )
            return changed.first() is not None

    def set_star(self, user_id: str, message: Message, starred: bool, at: datetime) -> bool:
        with self._engine.begin() as conn:
            if starred:
                result = conn.execute(
                    self._insert(STARS)
                    .values(
                        user_id=user_id,
                        message_id=message.id,
                        chat_id=message.chat_id,
                        starred_at=at,
                    )
                    .on_conflict_do_nothing()
                    .returning(STARS.c.message_id)
                )
            else:
                result = conn.execute(
                    sa.delete(STARS)
                    .where(STARS.c.user_id == user_id, STARS.c.message_id == message.id)
                    .returning(STARS.c.message_id)
                )
            return result.first() is not None

    def list_starred(self, user_id: str, before: str, limit: int) -> list[Message]:
        query = (
            sa.select(MESSAGES)
            .join(STARS, STARS.c.message_id == MESSAGES.c.id)
            .where(STARS.c.user_id == user_id, MESSAGES.c.deleted_at.is_(None))
        )
        if before:
            query = query.where(STARS.c.message_id < before)
        with self._engine.connect() as conn:
            rows = conn.execute(query.order_by(STARS.c.message_id.desc()).limit(limit)).all()
            return with_reactions(conn, rows)

    def starred_among(self, user_id: str, message_ids: list[str]) -> set[str]:
        if not message_ids:
            return set()
        query = sa.select(STARS.c.message_id).where(
            STARS.c.user_id == user_id, STARS.c.message_id.in_(message_ids)
        )
        with self._engine.connect() as conn:
            return set(conn.execute(query).scalars())

    def hide_message(self, user_id: str, message: Message, at: datetime) -> bool:
        with self._engine.begin() as conn:
            result = conn.execute(
                self._insert(HIDDEN)
                .values(
                    user_id=user_id, message_id=message.id, chat_id=message.chat_id, hidden_at=at
                )
                .on_conflict_do_nothing()
                .returning(HIDDEN.c.message_id)
            )
            hidden_now = result.first() is not None
            # Gone for this user: so is their star on it.
            conn.execute(
                sa.delete(STARS).where(STARS.c.user_id == user_id, STARS.c.message_id == message.id)
            )
            return hidden_now

    def is_hidden(self, user_id: str, message_id: str) -> bool:
        query = sa.select(sa.literal(1)).where(
            HIDDEN.c.user_id == user_id, HIDDEN.c.message_id == message_id
        )
        with self._engine.connect() as conn:
            return conn.execute(query).first() is not None
