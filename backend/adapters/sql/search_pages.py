"""What the SQL search engines share: filling a page of hits from an index's candidates, the
messages behind the candidates, and readable ranges as SQL.

An index hands out *candidates* - message ids newest first, each with the position a cursor
resumes from - and a ``MessageSource`` says which of them the viewer may be shown. When the
messages live in the same SQL database (``SqlMessageSource``) the index is written in their
transactions and that is a plain filter (deleted, hidden); when they live in Cassandra
(``StoreMessageSource``) the index follows the store from outside, so each hit is read back
from the store and checked against what the message says *now*: a hit the index still holds
after a crash between the two writes is dropped instead of shown.
"""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any, Protocol

import sqlalchemy as sa

from backend.adapters.sql.messages import HIDDEN, MESSAGES, message_from_row
from backend.models import Message, ReadableRange, SearchHit, SearchPage
from backend.ports import MessageActionStore, MessageStore
from backend.search_text import index_text, snippet

# (cursor, how many) -> [(position, message id)], newest first, all below the cursor.
Candidates = Callable[[str, int], list[tuple[str, str]]]
# (viewer id, message ids, terms) -> the messages that may be shown (``MessageSource.visible``).
Visible = Callable[[str, list[str], list[str]], dict[str, Message]]


class MessageSource(Protocol):
    def visible(
        self,
        viewer_id: str,
        message_ids: list[str],
        terms: list[str],
        conn: sa.Connection | None = None,
    ) -> dict[str, Message]:
        """Those of ``message_ids`` the viewer may be shown, by id: stored, not deleted for
        everyone, not deleted for the viewer, and still holding every term as a word prefix.

        ``conn`` is the index's connection, for a source in the same database to use."""


class SqlMessageSource:
    """Messages in the index's own database: the index changes in their transactions, so only
    deletes and delete-for-me need filtering (the words are right by construction)."""

    def __init__(self, engine: sa.Engine) -> None:
        self._engine = engine
        # Built once (SQLAlchemy caches its compiled form): it runs on every search.
        self._query = sa.select(MESSAGES).where(
            MESSAGES.c.id.in_(sa.bindparam("ids", expanding=True)),
            MESSAGES.c.deleted_at.is_(None),
            ~sa.exists().where(
                HIDDEN.c.user_id == sa.bindparam("viewer"), HIDDEN.c.message_id == MESSAGES.c.id
            ),
        )

    def visible(
        self,
        viewer_id: str,
        message_ids: list[str],
        terms: list[str],
        conn: sa.Connection | None = None,
    ) -> dict[str, Message]:
        if not message_ids:
            return {}
        args = {"ids": message_ids, "viewer": viewer_id}
        if conn is not None:
            return {row.id: message_from_row(row) for row in conn.execute(self._query, args)}
        with self._engine.connect() as own:
            return {row.id: message_from_row(row) for row in own.execute(self._query, args)}


class StoreMessageSource:
    """Messages in another store (Cassandra): each candidate is read back and checked, a few
    at a time in parallel (each is its own round trip)."""

    def __init__(
        self, messages: MessageStore, actions: MessageActionStore, workers: int = 8
    ) -> None:
        self._messages = messages
        self._actions = actions
        self._pool = ThreadPoolExecutor(workers, thread_name_prefix="search-source")

    def visible(
        self,
        viewer_id: str,
        message_ids: list[str],
        terms: list[str],
        conn: sa.Connection | None = None,  # (another database: not used)
    ) -> dict[str, Message]:
        def check(message_id: str) -> Message | None:
            message = self._messages.get_message(message_id)
            if message is None or message.deleted_at is not None:
                return None
            if not still_matches(message, terms):
                return None  # the index holds words the message no longer has
            if self._actions.is_hidden(viewer_id, message_id):
                return None
            return message

        found = self._pool.map(check, message_ids)
        return {m.id: m for m in found if m is not None}


def still_matches(message: Message, terms: list[str]) -> bool:
    """Whether every term starts a word of the message as it is now (what the index matched)."""
    words = index_text(message.content).split()
    return all(any(w.startswith(t) for w in words) for t in terms)


def collect_page(
    candidates: Candidates,
    visible: Visible,
    viewer_id: str,
    terms: list[str],
    before: str,
    limit: int,
) -> SearchPage:
    """A page of up to ``limit`` hits below ``before``: candidates are taken in batches until
    ``limit + 1`` pass ``visible`` (the one more says whether a next page exists) or the index
    has no more."""
    kept: list[tuple[str, Message]] = []
    cursor = before
    while len(kept) <= limit:
        want = limit + 1 - len(kept)
        batch = candidates(cursor, want)
        shown = visible(viewer_id, [mid for _, mid in batch], terms) if batch else {}
        kept += [(position, shown[mid]) for position, mid in batch if mid in shown]
        if len(batch) < want:
            break
        cursor = batch[-1][0]
    more = len(kept) > limit
    kept = kept[:limit]
    hits = [SearchHit(message=m, snippet=snippet(text_of(m), terms)) for _, m in kept]
    return SearchPage(hits=hits, next_cursor=kept[-1][0] if more else "")


def bounded_ranges(
    ranges: list[ReadableRange], params: dict[str, Any], chat_col: str, id_col: str
) -> str:
    """SQL for the ranges with an end ("" if none has one); the chats themselves are matched
    elsewhere, this trims within them.

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
        clause = f"({chat_col} = :rc{i} AND {id_col} > :ra{i}"
        if r.upto:
            params[f"ru{i}"] = r.upto
            clause += f" AND {id_col} <= :ru{i}"
        clauses.append(clause + ")")
        names.append(f":rc{i}")
    return f"({chat_col} NOT IN ({', '.join(names)}) OR {' OR '.join(clauses)})"


def text_of(message: Message) -> str:
    """The text a snippet is cut from: a text's text, a media message's caption."""
    content = message.content
    raw = content.get("text") if content.get("type") == "text" else content.get("caption")
    return raw if isinstance(raw, str) else ""
