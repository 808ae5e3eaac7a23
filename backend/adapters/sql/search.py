"""Message search on SQLite FTS5: the index, kept in step inside the message stores' writes,
and the query that reads it.

The index holds folded words (``backend.search_text``), the chat as a token and the content
type as a token, so the chats a user may read and the type filter are matched *inside* FTS5 on
its doclists: a common word across a million messages never has to be filtered row by row
against the user's chats. Its rowid is the message row's rowid; ``message_id`` is stored beside
it and checked on the join, so an index that disagrees with the table (a VACUUM renumbers rowids)
loses hits instead of showing a wrong message.

With messages in Cassandra there are no message rows to share rowids with: the index then keeps
its own ``message_search_entries`` (id, chat, sender, time; the rowid made from the message id,
so rowid order is id order) and is written right after the store's writes
(``backend.adapters.indexing``); hits are read back from the store (``search_pages``).
PostgreSQL's twin is ``search_postgres.py``.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa

from backend.adapters.sql.messages import message_from_row
from backend.adapters.sql.search_pages import MessageSource, bounded_ranges, collect_page, text_of
from backend.adapters.sql.tables import UTCDateTime
from backend.models import Message, ReadableRange, SearchHit, SearchPage, SearchQuery
from backend.search_text import index_text, query_terms, snippet

FTS_TABLE = "message_search"
# With messages elsewhere (Cassandra): what the index needs of each message, by FTS rowid.
ENTRIES_TABLE = "message_search_entries"
CREATE_ENTRIES = (
    f"CREATE TABLE IF NOT EXISTS {ENTRIES_TABLE} (rowid INTEGER PRIMARY KEY,"
    " id VARCHAR(36) NOT NULL UNIQUE, chat_id VARCHAR(36) NOT NULL,"
    " sender_id VARCHAR(36) NOT NULL, created_at DATETIME NOT NULL)"
)
# Prefix queries up to this many characters are answered from FTS5's prefix index. Without one,
# FTS5 (3.40) first merges the postings of every word with the prefix: for a common word in a
# million messages that alone costs tens of milliseconds, before any chat is filtered.
PREFIX_INDEX = 6
# How many of the newest messages with the words the first plan looks at (see ``search``).
CANDIDATES = 2000
# detail=column: no word positions (we never match phrases), a smaller and faster index.
CREATE_FTS = (
    f"CREATE VIRTUAL TABLE IF NOT EXISTS {FTS_TABLE} USING fts5("
    "body, chat, kind, message_id UNINDEXED, "
    "tokenize = 'unicode61 remove_diacritics 2', detail = column, "
    f"prefix = '{' '.join(str(n) for n in range(1, PREFIX_INDEX + 1))}')"
)

_INDEX = sa.text(
    f"INSERT INTO {FTS_TABLE} (rowid, body, chat, kind, message_id) "
    "VALUES (:rowid, :body, :chat, :kind, :message_id)"
)
_UNINDEX = sa.text(
    f"DELETE FROM {FTS_TABLE} WHERE rowid = (SELECT rowid FROM messages WHERE id = :message_id)"
)
_ROWID = sa.text("SELECT rowid FROM messages WHERE id = :message_id")
_ENTRY = sa.text(
    f"INSERT INTO {ENTRIES_TABLE} (rowid, id, chat_id, sender_id, created_at)"
    " VALUES (:rowid, :message_id, :chat_id, :sender_id, :created_at)"
    " ON CONFLICT (rowid) DO NOTHING"
).bindparams(sa.bindparam("created_at", type_=UTCDateTime()))
_ENTRY_ROWID = sa.text(f"SELECT rowid FROM {ENTRIES_TABLE} WHERE id = :message_id")
_UNINDEX_ENTRY = sa.text(
    f"DELETE FROM {FTS_TABLE} WHERE rowid = (SELECT rowid FROM {ENTRIES_TABLE}"
    " WHERE id = :message_id)"
)
_REMOVE_ENTRY = sa.text(f"DELETE FROM {ENTRIES_TABLE} WHERE id = :message_id")
# Rowids made from a UUIDv7 (48-bit milliseconds, 12-bit counter) leave 3 bits for ids of two
# processes that share both (``entry_rowid``).
_TIES = 8
_NOT_TOKEN = re.compile(r"[^a-z0-9]")
_TIMES = ("since", "until")


def not_search_table(name: str | None, type_: str, _parents: object = None) -> bool:
    """For Alembic's ``include_name``: the FTS5 table and its shadow tables are made by hand
    (a virtual table has no SQLModel twin), so schema comparisons leave them out."""
    return not (type_ == "table" and (name or "").startswith(FTS_TABLE))


def chat_token(chat_id: str) -> str:
    return "c" + _NOT_TOKEN.sub("", chat_id.lower())


def kind_token(content_type: str) -> str:
    return "k" + _NOT_TOKEN.sub("", content_type.lower())


def entry_rowid(message_id: str, tie: int = 0) -> int:
    """A rowid that sorts like the message id: its time and counter, then ``tie``."""
    value = uuid.UUID(message_id).int
    return ((value >> 80) << 15) | (((value >> 64) & 0xFFF) << 3) | tie


def index_row(rowid: int, message: Message) -> dict[str, Any] | None:
    """The index row of a stored message, or None if it has no words to find."""
    body = index_text(message.content)
    if not body:
        return None
    return {
        "rowid": rowid,
        "body": body,
        "chat": chat_token(message.chat_id),
        "kind": kind_token(str(message.content.get("type", ""))),
        "message_id": message.id,
    }


class SqliteSearchIndex:
    """The FTS5 index, read by search. With ``source`` None the messages are in this database
    and the index is written in their transactions (``index``/``unindex``/``reindex``);
    otherwise it follows a store elsewhere (``put``/``replace``/``remove``, own entries) and
    ``source`` says which hits may be shown."""

    def __init__(
        self,
        engine: sa.Engine,
        candidates: int = CANDIDATES,
        source: MessageSource | None = None,
    ) -> None:
        self._engine = engine
        self._candidates = candidates
        self._source = source
        self._rows_table = "messages" if source is None else ENTRIES_TABLE

    # --- writes, inside the caller's transaction ---------------------------------------------

    def index(self, conn: sa.Connection, stored: Sequence[tuple[int | None, Message]]) -> None:
        if any(rowid is None for rowid, _ in stored):
            raise ValueError("FTS5 rows take the message row's rowid")
        rows = [row for rowid, message in stored if (row := index_row(rowid or 0, message))]
        if rows:
            conn.execute(_INDEX, rows)

    def unindex(self, conn: sa.Connection, message_id: str) -> None:
        if self._source is None:
            conn.execute(_UNINDEX, {"message_id": message_id})
            return
        conn.execute(_UNINDEX_ENTRY, {"message_id": message_id})
        conn.execute(_REMOVE_ENTRY, {"message_id": message_id})

    def reindex(self, conn: sa.Connection, message: Message) -> None:
        """The message's words changed (an edit): the index now holds exactly the new ones."""
        self.unindex(conn, message.id)
        if self._source is None:
            rowid = conn.execute(_ROWID, {"message_id": message.id}).scalar_one()
            self.index(conn, [(rowid, message)])
        else:
            self._add_entry(conn, message)

    # --- writes of their own, following a store without transactions -------------------------

    def put(self, message: Message) -> None:
        """Index the message unless it already is (a re-send indexes what a crash missed)."""
        if index_row(0, message) is not None:  # (no words: not even a transaction)
            with self._engine.begin() as conn:
                self._add_entry(conn, message)

    def replace(self, message: Message) -> None:
        with self._engine.begin() as conn:
            self.reindex(conn, message)

    def remove(self, message_id: str) -> None:
        with self._engine.begin() as conn:
            self.unindex(conn, message_id)

    def _add_entry(self, conn: sa.Connection, message: Message) -> None:
        if index_row(0, message) is None:
            return  # no words: nothing to find
        if conn.execute(_ENTRY_ROWID, {"message_id": message.id}).first() is not None:
            return
        entry = {
            "message_id": message.id,
            "chat_id": message.chat_id,
            "sender_id": message.sender_id,
            "created_at": message.created_at,
        }
        for tie in range(_TIES):
            rowid = entry_rowid(message.id, tie)
            if conn.execute(_ENTRY, {**entry, "rowid": rowid}).rowcount:
                self.index(conn, [(rowid, message)])
                return
        raise RuntimeError(f"no free search rowid for message {message.id}")

    # --- the SearchIndex port ----------------------------------------------------------------

    def search(self, viewer_id: str, query: SearchQuery, ranges: list[ReadableRange]) -> SearchPage:
        """Two plans, both newest first and stopping at a page:

        1. among the newest ``candidates`` messages with the words, those of readable chats
           (checked in SQL): a common word fills a page from its first few hundred postings,
           and a rare one is exhausted in a few hundred (~1 ms either way);
        2. only if that was neither: the chats matched inside FTS5 as ``chat`` tokens, whose
           doclists skip straight past other people's chats (a word used mostly elsewhere).
        """
        terms = query_terms(query.text)
        if query.chat_id:
            ranges = [r for r in ranges if r.chat_id == query.chat_id]
        if not terms or not ranges:
            return SearchPage(hits=[])
        if self._source is not None:

            def candidates(cursor: str, limit: int) -> list[tuple[str, str]]:
                rows = self._rows(viewer_id, query, terms, ranges, cursor, limit)
                return [(str(row.search_rowid), row.id) for row in rows]

            return collect_page(
                candidates, self._source.visible, viewer_id, terms, query.before, query.limit
            )
        rows = self._rows(viewer_id, query, terms, ranges, query.before, query.limit + 1)
        more = len(rows) > query.limit
        rows = rows[: query.limit]
        hits = [
            SearchHit(message=message, snippet=snippet(text_of(message), terms))
            for message in (message_from_row(row) for row in rows)
        ]
        return SearchPage(hits=hits, next_cursor=str(rows[-1].search_rowid) if more else "")

    def _rows(
        self,
        viewer_id: str,
        query: SearchQuery,
        terms: list[str],
        ranges: list[ReadableRange],
        cursor: str,
        limit: int,
    ) -> list[Any]:
        """Up to ``limit`` rows (``search_rowid`` and the joined row) below ``cursor``."""
        words = f"body : ({' AND '.join(_prefix(t) for t in terms)})"
        if query.content_type:
            words += f" AND kind : {kind_token(query.content_type)}"
        params: dict[str, Any] = {
            "words": words,
            "viewer": viewer_id,
            "limit": limit,
            "chat_ids": sorted({r.chat_id for r in ranges}),
        }
        where = ["m.id = s.message_id"]
        if self._source is None:  # (otherwise the source filters what may be shown)
            where += [
                "m.deleted_at IS NULL",
                "NOT EXISTS (SELECT 1 FROM hidden_messages h"
                " WHERE h.user_id = :viewer AND h.message_id = m.id)",
            ]
        for i, term in enumerate(t for t in terms if len(t) > PREFIX_INDEX):
            # FTS5 matched the indexed prefix; here the whole term must start a word. (The
            # body is folded words joined by single spaces.)
            where.append(f"instr(' ' || s.body, :long{i}) > 0")
            params[f"long{i}"] = " " + term
        bounded = bounded_ranges(ranges, params, "m.chat_id", "m.id")
        if bounded:
            where.append(bounded)
        before = ""
        if cursor.isdigit():
            before = " AND rowid < :before"
            params["before"] = int(cursor)
        if query.sender_id:
            where.append("m.sender_id = :sender")
            params["sender"] = query.sender_id
        for name, moment, op in (("since", query.since, ">="), ("until", query.until, "<=")):
            if moment is not None:
                where.append(f"m.created_at {op} :{name}")
                params[name] = moment
        if before:
            where.append("s.rowid < :before")
        # The rowid of the ``candidates``-th newest message with the words (rowids only: no
        # column is read), or None if there are fewer: then plan 1 sees every one of them.
        floor = (
            f"SELECT rowid FROM {FTS_TABLE} WHERE {FTS_TABLE} MATCH :words{before}"
            " ORDER BY rowid DESC LIMIT 1 OFFSET :offset"
        )
        params["offset"] = self._candidates - 1
        fts = f"{FTS_TABLE} s"
        with self._engine.connect() as conn:
            params["floor"] = conn.execute(sa.text(floor), params).scalar()
            # Both plans check the chat in SQL too: the FTS chat token is not the only guard.
            where.append("m.chat_id IN :chat_ids")
            plan = [f"{FTS_TABLE} MATCH :words", *where]
            if params["floor"] is not None:
                plan.append("s.rowid >= :floor")
            rows = conn.execute(_select(fts, self._rows_table, plan), params).all()
            if len(rows) < limit and params["floor"] is not None:
                # Not a page, and older candidates remain: let FTS5 skip other chats.
                chats = " OR ".join(sorted({chat_token(r.chat_id) for r in ranges}))
                params["match"] = f"chat : ({chats}) AND {words}"
                rows = conn.execute(
                    _select(fts, self._rows_table, [f"{FTS_TABLE} MATCH :match", *where]), params
                ).all()
        return list(rows)


def _select(source: str, rows_table: str, where: list[str]) -> sa.TextualSelect:
    text = sa.text(
        f"SELECT s.rowid AS search_rowid, m.* FROM {source}"
        f" JOIN {rows_table} m ON m.rowid = s.rowid"
        f" WHERE {' AND '.join(where)} ORDER BY s.rowid DESC LIMIT :limit"
    )
    types = [sa.bindparam(n, type_=UTCDateTime()) for n in _TIMES if f":{n}" in text.text]
    if ":chat_ids" in text.text:
        types.append(sa.bindparam("chat_ids", expanding=True))
    columns = ("created_at", "edited_at", "deleted_at") if rows_table == "messages" else ()
    return text.bindparams(*types).columns(**{n: UTCDateTime() for n in columns})


def _prefix(term: str) -> str:
    # Terms hold only letters and numbers (``query_terms``); quoting keeps FTS5 from reading
    # words like AND/OR/NEAR as operators. Longer terms match by their indexed prefix here and
    # are checked whole in SQL, so no query makes FTS5 merge postings.
    return f'"{term[:PREFIX_INDEX]}"*'
