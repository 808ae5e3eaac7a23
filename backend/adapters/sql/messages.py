"""Messages in SQL: the embedded twin of the Cassandra message store."""

from __future__ import annotations

import contextlib
import dataclasses
import json
import threading
from collections.abc import Callable, Sequence
from typing import Any, Protocol

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
from sqlmodel import Session as DbSession
from sqlmodel import col, select

from backend.adapters.sql.tables import ChatRow, HiddenMessageRow, MessageReactionRow, MessageRow
from backend.content import dump_content, load_content
from backend.ids import message_id_above
from backend.models import Message, Quote, Reaction

# Core statements on the table: the send path runs these on every message, and hydrating
# SQLModel objects would cost more than the SQL.
MESSAGES: sa.Table = MessageRow.__table__  # type: ignore[attr-defined]
CHATS: sa.Table = ChatRow.__table__  # type: ignore[attr-defined]

REACTIONS: sa.Table = MessageReactionRow.__table__  # type: ignore[attr-defined]
HIDDEN: sa.Table = HiddenMessageRow.__table__  # type: ignore[attr-defined]


class SearchWriter(Protocol):
    """Keeps a search index in step with the messages, inside the store's own transaction."""

    def index(self, conn: sa.Connection, stored: Sequence[tuple[int | None, Message]]) -> None:
        """Index new messages, each with its SQLite rowid (None on PostgreSQL), in one
        statement: the send path indexes a whole batch at once."""

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
# they were made; other chats, and everything that touches the chat's row, are not held up. A
# batch takes its chats' locks in one statement, in sorted order, so two batches never wait
# for each other crosswise.
_LOCK_CHATS = sa.text(
    "SELECT pg_advisory_xact_lock(hashtextextended(c, 0)) FROM unnest(CAST(:chat_ids AS text[])) c"
)
# The newest stored id of each chat (one index seek per chat, under the lock above): new ids are
# made above it, so they increase even when this process's clock is behind the last writer's.
_NEWEST_IDS = sa.select(
    CHATS.c.id,
    sa.select(sa.func.max(MESSAGES.c.id)).where(MESSAGES.c.chat_id == CHATS.c.id).scalar_subquery(),
).where(CHATS.c.id.in_(sa.bindparam("chat_ids", expanding=True)))
# What a batch's senders already sent under its temp ids (exact triples are picked in Python;
# the unique index on (chat_id, sender_id, temp_id) serves the lookup).
_SENT_UNDER = sa.select(MESSAGES).where(
    MESSAGES.c.chat_id.in_(sa.bindparam("chat_ids", expanding=True)),
    MESSAGES.c.sender_id.in_(sa.bindparam("sender_ids", expanding=True)),
    MESSAGES.c.temp_id.in_(sa.bindparam("temp_ids", expanding=True)),
)


# A batch's rows in one statement, leaving out those whose (chat, sender, temp id) is already
# stored - a resend - and naming those it stored (on SQLite with their rowids: the search index
# rows share them).
def _insert_new(dialect: str) -> sa.Insert:
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    rowid = sa.literal_column("rowid") if dialect == "sqlite" else sa.literal(0)
    return insert(MESSAGES).on_conflict_do_nothing().returning(MESSAGES.c.id, rowid)


def _row(message: Message) -> dict[str, Any]:
    return {
        "id": message.id,
        "chat_id": message.chat_id,
        "sender_id": message.sender_id,
        "temp_id": message.temp_id or None,
        "content": dump_content(message.content),
        "created_at": message.created_at,
        "reply_to": message.quote.message_id if message.quote else None,
        "quote": dump_quote(message.quote),
        "forwarded": message.forwarded,
    }


class SqlMessageStore:
    def __init__(self, engine: sa.Engine, search: SearchWriter | None = None) -> None:
        self._engine = engine
        self._search = search
        # SQLite has one writer at a time anyway; holding this lock from choosing the id to the
        # commit makes ids commit in the order they were made, so a reader who has seen message
        # N has seen everything below N (the receipts depend on it). PostgreSQL serialises per
        # chat in the database instead (_LOCK_CHATS), which also holds across processes.
        self._lock_per_chat = engine.dialect.name == "postgresql"
        self._write_lock: contextlib.AbstractContextManager[object] = (
            contextlib.nullcontext() if self._lock_per_chat else threading.Lock()
        )
        self._insert = _insert_new(engine.dialect.name)

    def add_message(self, draft: Message, new_id: Callable[[], str]) -> tuple[Message, bool]:
        return self.add_messages([draft], new_id)[0]

    def add_messages(
        self, drafts: Sequence[Message], new_id: Callable[[], str]
    ) -> list[tuple[Message, bool]]:
        if not drafts:
            return []
        with self._write_lock, self._engine.begin() as conn:
            return self._add(conn, drafts, new_id)

    def _add(
        self, conn: sa.Connection, drafts: Sequence[Message], new_id: Callable[[], str]
    ) -> list[tuple[Message, bool]]:
        """Make the ids and insert the rows (and their search rows) in the caller's
        transaction; a temp id already stored - before, or earlier in this batch - gets the
        message stored under it."""
        chat_ids = sorted({draft.chat_id for draft in drafts})
        if self._lock_per_chat:
            conn.execute(_LOCK_CHATS, {"chat_ids": chat_ids})
        newest: dict[str, str] = {
            chat_id: newest_id or ""
            for chat_id, newest_id in conn.execute(_NEWEST_IDS, {"chat_ids": chat_ids})
        }
        made: list[Message] = []  # per draft: the message made for it (or for its first copy)
        by_temp_id: dict[tuple[str, str, str], Message] = {}
        rows: list[Message] = []
        for draft in drafts:
            key = (draft.chat_id, draft.sender_id, draft.temp_id)
            if draft.temp_id and key in by_temp_id:
                made.append(by_temp_id[key])
                continue
            message = dataclasses.replace(
                draft, id=message_id_above(newest.get(draft.chat_id, ""), new_id)
            )
            newest[draft.chat_id] = message.id
            if draft.temp_id:
                by_temp_id[key] = message
            made.append(message)
            rows.append(message)
        stored: dict[str, int] = dict(conn.execute(self._insert, [_row(m) for m in rows]).all())
        if self._search is not None:  # findable from the moment it is stored
            self._search.index(conn, [(stored[m.id], m) for m in rows if m.id in stored])
        # Rows the insert left out: their temp id was stored before (a resend).
        earlier = self._sent_under_temp_ids(conn, [m for m in rows if m.id not in stored])
        results: list[tuple[Message, bool]] = []
        answered: set[str] = set()
        for message in made:
            if message.id in stored:
                results.append((message, message.id not in answered))
                answered.add(message.id)
                continue
            existing = earlier.get((message.chat_id, message.sender_id, message.temp_id))
            if existing is None:  # left out for something else: let it surface
                raise RuntimeError("a message insert was refused without a stored temp id")
            results.append((existing, False))
        return results

    def _sent_under_temp_ids(
        self, conn: sa.Connection, drafts: Sequence[Message]
    ) -> dict[tuple[str, str, str], Message]:
        keys = {(d.chat_id, d.sender_id, d.temp_id) for d in drafts if d.temp_id}
        if not keys:
            return {}
        rows = conn.execute(
            _SENT_UNDER,
            {
                "chat_ids": sorted({k[0] for k in keys}),
                "sender_ids": sorted({k[1] for k in keys}),
                "temp_ids": sorted({k[2] for k in keys}),
            },
        ).all()
        rows = [row for row in rows if (row.chat_id, row.sender_id, row.temp_id) in keys]
        return {(m.chat_id, m.sender_id, m.temp_id): m for m in with_reactions(conn, rows)}

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
