"""Message search on SQLite FTS5: the index, kept in step inside the message stores' writes,
and the query that reads it.

The index holds folded words (``backend.search_text``), the chat as a token and the content
type as a token, so the chats a user may read and the type filter are matched *inside* FTS5 on
its doclists: a common word across a million messages never has to be filtered row by row
against the user's chats. Its rowid is the message row's rowid; ``message_id`` is stored beside
it and checked on the join, so an index that disagrees with the table (a VACUUM renumbers rowids)
loses hits instead of showing a wrong message.

PostgreSQL fits the same ``SearchIndex`` contract with a tsvector over the same folded words
(``'simple'`` configuration, ``:*`` prefix terms) and a GIN index, filtered by chat with
``chat_id = ANY(...)``.
"""

from __future__ import annotations

import re
from typing import Any

import sqlalchemy as sa

from backend.adapters.sql.messages import message_from_row
from backend.adapters.sql.tables import UTCDateTime
from backend.errors import InvalidInput
from backend.models import Message, ReadableRange, SearchHit, SearchPage, SearchQuery
from backend.search_text import index_text, query_terms, snippet

FTS_TABLE = "message_search"
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
    """The FTS5 index: written by the message stores in their transactions, read by search."""

    def __init__(self, engine: sa.Engine, candidates: int = CANDIDATES) -> None:
        self._engine = engine
        self._candidates = candidates

    # --- writes, inside the caller's transaction ---------------------------------------------

    def index(self, conn: sa.Connection, rowid: int, message: Message) -> None:
        row = index_row(rowid, message)
        if row is not None:
            conn.execute(_INDEX, row)

    def unindex(self, conn: sa.Connection, message_id: str) -> None:
        conn.execute(_UNINDEX, {"message_id": message_id})

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
        words = f"body : ({' AND '.join(_prefix(t) for t in terms)})"
        if query.content_type:
            words += f" AND kind : {kind_token(query.content_type)}"
        params: dict[str, Any] = {
            "words": words,
            "viewer": viewer_id,
            "limit": query.limit + 1,
            "chat_ids": sorted({r.chat_id for r in ranges}),
        }
        where = [
            "m.id = s.message_id",
            "m.deleted_at IS NULL",
            "NOT EXISTS (SELECT 1 FROM hidden_messages h"
            " WHERE h.user_id = :viewer AND h.message_id = m.id)",
        ]
        for i, term in enumerate(t for t in terms if len(t) > PREFIX_INDEX):
            # FTS5 matched the indexed prefix; here the whole term must start a word. (The
            # body is folded words joined by single spaces.)
            where.append(f"instr(' ' || s.body, :long{i}) > 0")
            params[f"long{i}"] = " " + term
        bounded = _bounded_ranges(ranges, params)
        if bounded:
            where.append(bounded)
        before = ""
        if query.before.isdigit():
            before = " AND rowid < :before"
            params["before"] = int(query.before)
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
            rows = conn.execute(_select(fts, plan), params).all()
            if len(rows) <= query.limit and params["floor"] is not None:
                # Not a page, and older candidates remain: let FTS5 skip other chats.
                chats = " OR ".join(sorted({chat_token(r.chat_id) for r in ranges}))
                params["match"] = f"chat : ({chats}) AND {words}"
                rows = conn.execute(
                    _select(fts, [f"{FTS_TABLE} MATCH :match", *where]), params
                ).all()
        more = len(rows) > query.limit
        rows = rows[: query.limit]
        hits = [
            SearchHit(message=message, snippet=snippet(_text_of(message), terms))
            for message in (message_from_row(row) for row in rows)
        ]
        return SearchPage(hits=hits, next_cursor=str(rows[-1].search_rowid) if more else "")


def _select(source: str, where: list[str]) -> sa.TextualSelect:
    text = sa.text(
        f"SELECT s.rowid AS search_rowid, m.* FROM {source} JOIN messages m ON m.rowid = s.rowid"
        f" WHERE {' AND '.join(where)} ORDER BY s.rowid DESC LIMIT :limit"
    )
    types = [sa.bindparam(n, type_=UTCDateTime()) for n in _TIMES if f":{n}" in text.text]
    if ":chat_ids" in text.text:
        types.append(sa.bindparam("chat_ids", expanding=True))
    return text.bindparams(*types).columns(
        **{n: UTCDateTime() for n in ("created_at", "edited_at", "deleted_at")}
    )


class UnavailableSearchIndex:
    """For engines without an index adapter yet (PostgreSQL, and messages in Cassandra): sends
    and every other action work; searching says it is not available."""

    def search(self, viewer_id: str, query: SearchQuery, ranges: list[ReadableRange]) -> SearchPage:
        raise InvalidInput("Search is not available with this database yet.")


def _prefix(term: str) -> str:
    # Terms hold only letters and numbers (``query_terms``); quoting keeps FTS5 from reading
    # words like AND/OR/NEAR as operators. Longer terms match by their indexed prefix here and
    # are checked whole in SQL, so no query makes FTS5 merge postings.
    return f'"{term[:PREFIX_INDEX]}"*'


def _bounded_ranges(ranges: list[ReadableRange], params: dict[str, Any]) -> str:
    """SQL for the ranges with an end: FTS5 already limited the chats, this trims within them.

    Chats readable from start to end need no condition; a chat with bounded ranges must have
    the message id inside one of them.
    """
    open_chats = {r.chat_id for r in ranges if not r.after and not r.upto}
    bounded = [r for r in ranges if r.chat_id not in open_chats]
    if not bounded:
        return ""
    clauses = []
    names = []
    for i, r in enumerate(bounded):
        params[f"rc{i}"], params[f"ra{i}"] = r.chat_id, r.after
        clause = f"(m.chat_id = :rc{i} AND m.id > :ra{i}"
        if r.upto:
            params[f"ru{i}"] = r.upto
            clause += f" AND m.id <= :ru{i}"
        clauses.append(clause + ")")
        names.append(f":rc{i}")
    return f"(m.chat_id NOT IN ({', '.join(names)}) OR {' OR '.join(clauses)})"


def _text_of(message: Message) -> str:
    content = message.content
    raw = content.get("text") if content.get("type") == "text" else content.get("caption")
    return raw if isinstance(raw, str) else ""
