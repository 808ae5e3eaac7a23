"""Messages in SQL: the embedded twin of the Cassandra message store."""

from __future__ import annotations

import contextlib
import dataclasses
import json
import threading
from collections.abc import Callable, Sequence
from typing import Any, Protocol

import sqlalchemy as sa
from sqlmodel import Session as DbSession
from sqlmodel import col, select

from backend.adapters.sql.tables import HiddenMessageRow, MessageReactionRow, MessageRow
from backend.content import dump_content, load_content
from backend.models import Message, Quote, Reaction

# Core statements on the table: the send path runs these on every message, and hydrating
# SQLModel objects would cost more than the SQL.
MESSAGES: sa.Table = MessageRow.__table__  # type: ignore[attr-defined]


REACTIONS: sa.Table = MessageReactionRow.__table__  # type: ignore[attr-defined]
HIDDEN: sa.Table = HiddenMessageRow.__table__  # type: ignore[attr-defined]


class SearchWriter(Protocol):
    """Keeps a search index in step with the messages, inside the store's own transaction."""

    def index(self, conn: sa.Connection, rowid: int | None, message: Message) -> None:
        """Index a new message; ``rowid`` is its SQLite rowid (None on PostgreSQL)."""

    def unindex(self, conn: sa.Connection, message_id: str) -> None: ...


def message_from_row(row: Any, reactions: tuple[Reaction, ...] = ()) -> Message:
    quote = json.loads(row.quote) if row.quote else None
    return Message(
        id=row.id,
        chat_id=row.chat_id,
        sender_id=row.sender_id,
        content=load_content(row.content),
        created_at=row.created_at,
        temp_id=row.temp_id or "",
        quote=Quote(**quote) if isinstance(quote, dict) else None,
        forwarded=bool(row.forwarded),
        edited_at=row.edited_at,
        deleted_at=row.deleted_at,
        reactions=reactions,
    )


def _within(query: sa.Select[Any], lowest: str, highest: str) -> sa.Select[Any]:
    """Only ids in [lowest, highest] ("" = no bound): what one member may read."""
    if lowest:
        query = query.where(MESSAGES.c.id >= lowest)
    if highest:
        query = query.where(MESSAGES.c.id <= highest)
    return query


def dump_quote(quote: Quote | None) -> str | None:
    return json.dumps(dataclasses.asdict(quote), ensure_ascii=False) if quote else None


# Built once: history reads run these on every page.
_REACTIONS_OF = (
    sa.select(REACTIONS.c.message_id, REACTIONS.c.user_id, REACTIONS.c.emoji)
    .where(REACTIONS.c.message_id.in_(sa.bindparam("ids", expanding=True)))
    .order_by(REACTIONS.c.reacted_at, REACTIONS.c.user_id)
)
_NOT_HIDDEN = ~sa.exists().where(
    HIDDEN.c.user_id == sa.bindparam("viewer_id"), HIDDEN.c.message_id == MESSAGES.c.id
)
_BY_ID = sa.select(MESSAGES).where(MESSAGES.c.id == sa.bindparam("message_id"))


def with_reactions(conn: sa.Connection, rows: Sequence[Any]) -> list[Message]:
    """Messages from rows, each with its reactions (one more query for the whole page)."""
    found: dict[str, list[Reaction]] = {}
    if rows:
        for r in conn.execute(_REACTIONS_OF, {"ids": [row.id for row in rows]}):
            found.setdefault(r.message_id, []).append(Reaction(r.user_id, r.emoji))
    return [message_from_row(row, tuple(found.get(row.id, ()))) for row in rows]


# PostgreSQL: a transaction-scoped advisory lock per chat, taken before the id is made. Sends to
# one chat (from any process) queue on it until the holder commits, so ids commit in the order
# they were made; other chats, and everything that touches the chat's row, are not held up.
_LOCK_CHAT = sa.text("SELECT pg_advisory_xact_lock(hashtextextended(:chat_id, 0))")


class SqlMessageStore:
    def __init__(self, engine: sa.Engine, search: SearchWriter | None = None) -> None:
        self._engine = engine
        self._search = search
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
                    inserted = conn.execute(
                        sa.insert(MESSAGES).values(
                            id=message.id,
                            chat_id=message.chat_id,
                            sender_id=message.sender_id,
                            temp_id=message.temp_id or None,
                            content=dump_content(message.content),
                            created_at=message.created_at,
                            reply_to=message.quote.message_id if message.quote else None,
                            quote=dump_quote(message.quote),
                            forwarded=message.forwarded,
                        )
                    )
                    if self._search is not None:  # findable from the moment it is stored
                        # (FTS5 shares SQLite's rowid; psycopg has no lastrowid at all)
                        rowid = None if self._lock_per_chat else inserted.lastrowid
                        self._search.index(conn, rowid, message)
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
            return with_reactions(conn, [row])[0] if row else None

    def get_message(self, message_id: str) -> Message | None:
        with self._engine.connect() as conn:
            row = conn.execute(_BY_ID, {"message_id": message_id}).first()
            return with_reactions(conn, [row])[0] if row else None

    def list_before(
        self,
        chat_id: str,
        before: str,
        limit: int,
        viewer_id: str = "",
        lowest: str = "",
        highest: str = "",
    ) -> list[Message]:
        query = sa.select(MESSAGES).where(MESSAGES.c.chat_id == chat_id)
        if before:
            query = query.where(MESSAGES.c.id < before)
        query = _within(query, lowest, highest)
        if viewer_id:
            query = query.where(_NOT_HIDDEN)
        with self._engine.connect() as conn:
            rows = conn.execute(
                query.order_by(MESSAGES.c.id.desc()).limit(limit), {"viewer_id": viewer_id}
            ).all()
            return with_reactions(conn, rows)

    def list_after(
        self,
        chat_id: str,
        after: str,
        limit: int,
        viewer_id: str = "",
        lowest: str = "",
        highest: str = "",
    ) -> list[Message]:
        query = sa.select(MESSAGES).where(MESSAGES.c.chat_id == chat_id, MESSAGES.c.id > after)
        query = _within(query, lowest, highest)
        if viewer_id:
            query = query.where(_NOT_HIDDEN)
        with self._engine.connect() as conn:
            rows = conn.execute(
                query.order_by(MESSAGES.c.id).limit(limit), {"viewer_id": viewer_id}
            ).all()
            return with_reactions(conn, rows)

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
