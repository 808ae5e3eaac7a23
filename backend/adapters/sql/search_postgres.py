"""Message search on PostgreSQL full-text search: the same folded words as FTS5
(``backend.search_text``), in a tsvector with a GIN index.

**Lexemes are scoped by chat.** Each word is stored as ``<chat key>:<word>``, the chat key being
8 characters of a hash of the chat id. A query for ``caf`` by someone in chats A and B is
``'A:caf':* | 'B:caf':*``: the GIN index then walks only the postings of those chats' words,
so a word common elsewhere costs nothing, and other people's chats are never read. (A word
index plus a chat filter makes PostgreSQL build the word's postings across *every* chat before
it can drop them: 40-150 ms for a middling word in a million messages.) Keys may collide; the
chat id is checked in SQL too, so a collision costs a candidate, never a wrong hit.

**The tsvector is built from the folded words as they are** (``array_to_tsvector``), not by
``to_tsvector``: the words are already what the ``'simple'`` configuration would give (no
stemming, no stop words), and PostgreSQL's parser would split some of them again (``½``,
``ﬁ``...) differently from FTS5. Queries are ``:*`` prefix terms built the same way.

A query has two plans, newest first, stopping at a page. The *window plan*: among the newest
``candidates`` messages, those with the words in the viewer's chats, each row checked against
its own chat's query (a common word fills a page here at once); when it found some but not a
page, the density of its hits says how wide a window would hold one, and that wider window is
tried once if it costs fewer rows than the GIN plan would fetch (``HEAP_PAGE_COST``). The *GIN
plan*: the index over the viewer's chat-scoped words, which reads only their postings but then
fetches every hit from the heap to order them (a rare or middling word). Filters, readable
ranges and the cursor are plain SQL on the same rows. The column keeps no statistics (migration
0009): the plans are chosen here, and estimating a hundred prefix terms cost more than running
a rare word's query.

Used two ways: written in the message's own transaction by the SQL message stores
(``index``/``unindex``/``reindex`` with their connection), or, with messages in Cassandra,
right after the store's writes (``put``/``replace``/``remove``, see ``backend.adapters.indexing``).
"""

from __future__ import annotations

import base64
import functools
import hashlib
import math
from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import TSVECTOR

from backend.adapters.sql.search_pages import (
    MessageSource,
    SqlMessageSource,
    bounded_ranges,
    collect_page,
)
from backend.ids import is_uuid
from backend.models import Message, ReadableRange, SearchPage, SearchQuery
from backend.search_text import index_text, query_terms

# How many of the newest messages the first plan looks at (see the module docstring).
CANDIDATES = 2000
# What a hit of the GIN plan costs in rows of the window plan: the window reads rows in id
# order, many to a page (they were inserted in that order); a GIN hit is a random heap page.
HEAP_PAGE_COST = 10
# A term at least this many times rarer (in the window) than the others together is the only
# one the GIN plan reads postings of.
RARER = 8
# Words are cut to this many characters in the index (a lexeme must stay under 2 KiB); query
# terms are at most 64 characters (``search_text.MAX_TERM_CHARS``), so no match is lost.
MAX_WORD_CHARS = 255
KIND_CHARS = 32

# Not a SQLModel table (no SQLite twin: FTS5 is a virtual table), so it has its own metadata;
# migration 0009 creates it and tests/contracts/test_sql_schema.py compares the two.
SEARCH_METADATA = sa.MetaData()
SEARCH_TABLE = sa.Table(
    "message_search",
    SEARCH_METADATA,
    sa.Column("message_id", sa.String(36), primary_key=True),
    sa.Column("chat_id", sa.String(36), nullable=False),
    sa.Column("sender_id", sa.String(36), nullable=False),
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("kind", sa.String(KIND_CHARS), nullable=False),
    sa.Column("words", TSVECTOR(), nullable=False),
    sa.Index("ix_message_search_words", "words", postgresql_using="gin"),
)

_COLUMNS = "message_id, chat_id, sender_id, created_at, kind, words"
_VALUES = (
    ":message_id, :chat_id, :sender_id, :created_at, :kind,"
    " array_to_tsvector(CAST(:lexemes AS text[]))"
)
_PUT = sa.text(
    f"INSERT INTO message_search ({_COLUMNS}) VALUES ({_VALUES})"
    " ON CONFLICT (message_id) DO NOTHING"
)
_REPLACE = sa.text(
    f"INSERT INTO message_search ({_COLUMNS}) VALUES ({_VALUES}) ON CONFLICT (message_id)"
    " DO UPDATE SET words = EXCLUDED.words, kind = EXCLUDED.kind"
)
_REMOVE = sa.text("DELETE FROM message_search WHERE message_id = :message_id")
_GIN_ONLY = sa.text("SET LOCAL enable_seqscan = off")  # until the read's transaction ends


@functools.lru_cache(maxsize=100_000)  # a search asks for every chat of the viewer
def chat_key(chat_id: str) -> str:
    """8 characters naming a chat inside lexemes (40 bits of a hash: collisions are rare and
    harmless, see the module docstring)."""
    digest = hashlib.blake2b(chat_id.encode(), digest_size=5).digest()
    return base64.b32encode(digest).decode().lower()


def index_row(message: Message) -> dict[str, Any] | None:
    """The row of a message in ``message_search``, or None if it has no words to find."""
    body = index_text(message.content)
    if not body:
        return None
    key = chat_key(message.chat_id)
    return {
        "message_id": message.id,
        "chat_id": message.chat_id,
        "sender_id": message.sender_id,
        "created_at": message.created_at,
        "kind": str(message.content.get("type", ""))[:KIND_CHARS],
        "lexemes": sorted({f"{key}:{word[:MAX_WORD_CHARS]}" for word in body.split(" ")}),
    }


def _query(key: str, terms: list[str]) -> str:
    # Terms are letters and numbers only (``query_terms``), keys base32: nothing to escape,
    # but quoting keeps tsquery from reading any of them as an operator.
    return "(" + " & ".join(f"'{key}:{term}':*" for term in terms) + ")"


class PostgresSearchIndex:
    """The tsvector index; ``source`` decides which candidates may be shown (by default the
    messages table of the same database)."""

    def __init__(
        self,
        engine: sa.Engine,
        candidates: int = CANDIDATES,
        source: MessageSource | None = None,
    ) -> None:
        self._engine = engine
        self._candidates_window = candidates
        self._source = source or SqlMessageSource(engine)

    # --- writes inside the SQL message stores' transactions ----------------------------------

    def index(self, conn: sa.Connection, stored: Sequence[tuple[int | None, Message]]) -> None:
        """Index new messages (their rowids are SQLite's business; ignored here)."""
        rows = [row for _, message in stored if (row := index_row(message)) is not None]
        if rows:
            conn.execute(_PUT, rows)

    def unindex(self, conn: sa.Connection, message_id: str) -> None:
        conn.execute(_REMOVE, {"message_id": message_id})

    def reindex(self, conn: sa.Connection, message: Message) -> None:
        """The message's words changed (an edit): its row now holds exactly the new ones."""
        row = index_row(message)
        if row is None:
            self.unindex(conn, message.id)
        else:
            conn.execute(_REPLACE, row)

    # --- writes of their own, following a store without transactions -------------------------

    def put(self, message: Message) -> None:
        """Index the message unless it already is (a re-send indexes what a crash missed)."""
        row = index_row(message)
        if row is not None:  # (no words, e.g. a group's system line: not even a round trip)
            with self._engine.begin() as conn:
                conn.execute(_PUT, row)

    def replace(self, message: Message) -> None:
        with self._engine.begin() as conn:
            self.reindex(conn, message)

    def remove(self, message_id: str) -> None:
        with self._engine.begin() as conn:
            self.unindex(conn, message_id)

    # --- the SearchIndex port ----------------------------------------------------------------

    def search(self, viewer_id: str, query: SearchQuery, ranges: list[ReadableRange]) -> SearchPage:
        terms = query_terms(query.text)
        if query.chat_id:
            ranges = [r for r in ranges if r.chat_id == query.chat_id]
        if not terms or not ranges:
            return SearchPage(hits=[])
        chat_ids = sorted({r.chat_id for r in ranges})
        keys = [chat_key(c) for c in chat_ids]
        chat_queries = [_query(key, terms) for key in keys]
        params: dict[str, Any] = {
            "chat_ids": chat_ids,
            "chat_queries": chat_queries,
            "query": " | ".join(sorted(set(chat_queries))),
            "terms": terms,
        }
        if len(terms) > 1:  # each term alone too: the GIN plan reads only the rarest's postings
            for i, term in enumerate(terms):
                params[f"t{i}"] = [_query(key, [term]) for key in keys]
                params[f"term{i}"] = " | ".join(sorted(set(params[f"t{i}"])))
        filters = ["TRUE"]
        if query.sender_id:
            filters.append("s.sender_id = :sender")
            params["sender"] = query.sender_id
        for name, moment, op in (("since", query.since, ">="), ("until", query.until, "<=")):
            if moment is not None:
                filters.append(f"s.created_at {op} :{name}")
                params[name] = moment
        if query.content_type:
            filters.append("s.kind = :kind")
            params["kind"] = query.content_type
        bounded = bounded_ranges(ranges, params, "s.chat_id", "s.message_id")
        if bounded:
            filters.append(bounded)
        where = " AND ".join(filters)

        # One connection for the page: each checkout costs a round trip (the pool pings).
        with self._engine.connect() as conn:

            def candidates(cursor: str, limit: int) -> list[tuple[str, str]]:
                args = {**params, "before": cursor, "limit": limit}
                found = self._candidates(conn, args, where, is_uuid(cursor), limit)
                return [(message_id, message_id) for message_id in found]

            def visible(viewer: str, ids: list[str], words: list[str]) -> dict[str, Message]:
                return self._source.visible(viewer, ids, words, conn)

            return collect_page(candidates, visible, viewer_id, terms, query.before, query.limit)

    def _candidates(
        self, conn: sa.Connection, args: dict[str, Any], where: str, below: bool, limit: int
    ) -> list[str]:
        """Up to ``limit`` ids, newest first: the window plan, widened once if its hits say a
        wider window is cheaper than the GIN plan, else the GIN plan."""
        window = self._candidates_window
        seen, found, per_term, rows = self._window_plan(conn, args, where, below, window)
        if len(found) >= limit or seen < window:
            return found  # a page, or nothing older left to look at
        terms: list[str] = args["terms"]
        # What the GIN plan would cost, in rows of the window plan, from how many rows of the
        # window held each term (``per_term``) and all of them (``found``): it reads the
        # postings of each term in the viewer's chats, then fetches every hit from the heap.
        # With one term far rarer than the rest it reads only that term's postings and checks
        # the others on its hits instead (a common prefix term costs more to read than that).
        postings = [count / window * rows for count in per_term]
        hits = len(found) / window * rows
        rarest = min(range(len(terms)), key=lambda i: (per_term[i], -len(terms[i])))
        alone = len(terms) > 1 and (per_term[rarest] + 1) * RARER <= sum(
            c + 1 for i, c in enumerate(per_term) if i != rarest
        )
        cost = HEAP_PAGE_COST * postings[rarest] if alone else sum(postings)
        cost += 0 if alone else HEAP_PAGE_COST * hits
        if found:
            # Hits are this dense among the newest messages: a window that holds a page, with
            # room to spare, costs that many rows.
            wider = math.ceil(2 * limit * window / len(found))
            if wider <= cost:
                seen, found, _, _ = self._window_plan(conn, args, where, below, wider)
                if len(found) >= limit or seen < wider:
                    return found
        return self._gin_plan(conn, args, where, below, rarest if alone else None)

    @staticmethod
    def _window_plan(
        conn: sa.Connection, args: dict[str, Any], where: str, below: bool, window: int
    ) -> tuple[int, list[str], list[int], float]:
        """Among the newest ``window`` messages, each checked against its chat's query: how
        many there were, the newest hits, how many rows hold each term, and how many rows the
        table holds (an estimate)."""
        older = " WHERE message_id < :before" if below else ""
        newest = f"message_search{older} ORDER BY message_id DESC LIMIT :window"
        each = range(len(args["terms"])) if len(args["terms"]) > 1 else range(0)
        columns = "".join(f", CAST(:t{i} AS tsquery[])" for i in each)
        names = "".join(f", q{i}" for i in each)
        counts = ", ".join(f"(SELECT count(*) FROM m WHERE words @@ q{i})" for i in each)
        row = conn.execute(
            sa.text(
                "WITH m AS MATERIALIZED (SELECT * FROM (SELECT * FROM"
                f" {newest}) s JOIN unnest(CAST(:chat_ids AS text[]),"
                f" CAST(:chat_queries AS tsquery[]){columns}) AS v(chat_id, q{names})"
                f" ON v.chat_id = s.chat_id WHERE {where})"
                f" SELECT (SELECT count(*) FROM (SELECT 1 FROM {newest}) w) AS seen,"
                " ARRAY(SELECT message_id FROM m WHERE words @@ q"
                " ORDER BY message_id DESC LIMIT :limit) AS ids,"
                f" ARRAY[{counts or '(SELECT count(*) FROM m WHERE words @@ q)'}] AS per_term,"
                " (SELECT reltuples FROM pg_class WHERE oid = 'message_search'::regclass)"
                " AS estimate"
            ),
            {**args, "window": window},
        ).one()
        return row.seen, list(row.ids), list(row.per_term), max(float(row.estimate), 0.0)

    @staticmethod
    def _gin_plan(
        conn: sa.Connection, args: dict[str, Any], where: str, below: bool, alone: int | None
    ) -> list[str]:
        """The GIN index over the viewer's chat-scoped words: every hit in their chats."""
        # MATERIALIZED keeps the planner from walking the id order instead (to stop at the
        # limit, it would check every message of everyone's chats on the way); and it prices
        # a tsquery over a hundred chats' terms like one term, so on a small table it would
        # test every row against it (~15 us a row): here the GIN index is the plan we want.
        conn.execute(_GIN_ONLY)
        matches = "words @@ CAST(:query AS tsquery)"
        if alone is not None:
            # Only that term goes to the index, the whole query is checked on its hits (as a
            # function call, which the planner cannot hand to the index).
            matches = (
                f"words @@ CAST(:term{alone} AS tsquery)"
                " AND ts_match_vq(words, CAST(:query AS tsquery))"
            )
        older = " AND message_id < :before" if below else ""
        return list(
            conn.execute(
                sa.text(
                    "WITH s AS MATERIALIZED (SELECT message_id, chat_id, sender_id, created_at,"
                    f" kind FROM message_search WHERE {matches}{older})"
                    " SELECT s.message_id FROM s WHERE s.chat_id = ANY(:chat_ids)"
                    f" AND {where} ORDER BY s.message_id DESC LIMIT :limit"
                ),
                args,
            ).scalars()
        )
