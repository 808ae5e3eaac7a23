"""Reading a chat's history from Cassandra: pages in both directions across the day
partitions, less what the viewer deleted for themselves, and unread counts.

**Days.** ``chat_buckets`` lists each chat's days (newest first); a page walks them a few at a
time (``_DAYS_AT_ONCE``) instead of guessing empty days, and stays in a day until a read finds
nothing more in it (``_Days``), so reading on never lists the days again.

**Delete-for-me**, without an extra round trip in the usual case: while the chat's days are
listed, the viewer's next ``_HIDDEN_AT_ONCE`` hidden ids past the same cursor
(``hidden_by_chat``: one partition per viewer and chat, in id order) are read beside them, and
the page then reads that many more rows than it needs. The rows are every message of the chat
from the cursor to the page's far end, so those ids say which rows are hidden if they reach
that end (or are all there are); otherwise one query for the rows' exact range does. A page
that still comes up short reads on where it stopped.

Reactions need nothing here: they are a column of the message row (``rows.py``).
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from typing import Any

from cassandra.cluster import Session
from cassandra.query import PreparedStatement

from backend.adapters.cassandra.rows import COLUMNS, bucket_of, message_from_row, prepare
from backend.models import Message

# Unread counts scan the ids above a member's read watermark; past this many a chat shows the
# cap (the UI shows a badge, not an exact figure, for a chat nobody has opened in months).
UNREAD_SCAN_LIMIT = 10_000
_DAYS_AT_ONCE = 4
# The viewer's hidden ids read ahead of a page: a page holding more than this many of them
# (someone who deleted most of a conversation for themselves) costs one more query.
_HIDDEN_AT_ONCE = 8


class ChatHistory:
    def __init__(self, session: Session) -> None:
        self._session = session
        columns = COLUMNS
        hidden = "SELECT message_id FROM hidden_by_chat WHERE user_id = ? AND chat_id = ?"
        self._hidden_between = self._prepare(f"{hidden} AND message_id >= ? AND message_id <= ?")
        self._hidden_next = {  # the first hidden ids past a cursor (or an end), in paging order
            "<*": self._prepare(f"{hidden} LIMIT ?"),
            ">*": self._prepare(f"{hidden} ORDER BY message_id ASC LIMIT ?"),
            "<": self._prepare(f"{hidden} AND message_id < ? LIMIT ?"),
            "<=": self._prepare(f"{hidden} AND message_id <= ? LIMIT ?"),
            ">": self._prepare(f"{hidden} AND message_id > ? ORDER BY message_id ASC LIMIT ?"),
            ">=": self._prepare(f"{hidden} AND message_id >= ? ORDER BY message_id ASC LIMIT ?"),
        }
        # Day lists are read a few at a time: a page of 50 usually needs one day, and a chat
        # may have thousands.
        buckets = "SELECT bucket FROM chat_buckets WHERE chat_id = ?"
        self._buckets_older = {
            "": self._prepare(f"{buckets} LIMIT ?"),
            "<=": self._prepare(f"{buckets} AND bucket <= ? LIMIT ?"),
            "<": self._prepare(f"{buckets} AND bucket < ? LIMIT ?"),
        }
        self._buckets_newer = {
            ">=": self._prepare(f"{buckets} AND bucket >= ? ORDER BY bucket ASC LIMIT ?"),
            ">": self._prepare(f"{buckets} AND bucket > ? ORDER BY bucket ASC LIMIT ?"),
        }
        self._page_before = self._prepare(
            f"SELECT {columns} FROM messages WHERE chat_id = ? AND bucket = ? "
            "AND message_id < ? LIMIT ?"
        )
        self._page_upto = self._prepare(
            f"SELECT {columns} FROM messages WHERE chat_id = ? AND bucket = ? "
            "AND message_id <= ? LIMIT ?"
        )
        self._page_newest = self._prepare(
            f"SELECT {columns} FROM messages WHERE chat_id = ? AND bucket = ? LIMIT ?"
        )
        self._page_after = self._prepare(
            f"SELECT {columns} FROM messages WHERE chat_id = ? AND bucket = ? "
            "AND message_id > ? ORDER BY message_id ASC LIMIT ?"
        )
        self._page_from = self._prepare(
            f"SELECT {columns} FROM messages WHERE chat_id = ? AND bucket = ? "
            "AND message_id >= ? ORDER BY message_id ASC LIMIT ?"
        )
        self._senders_after = self._prepare(
            "SELECT message_id, sender_id FROM messages WHERE chat_id = ? AND bucket = ? "
            "AND message_id > ? LIMIT ?"
        )

    def _prepare(self, cql: str) -> PreparedStatement:
        return prepare(self._session, cql)

    def list_before(
        self,
        chat_id: str,
        before: str,
        limit: int,
        viewer_id: str = "",
        lowest: str = "",
        highest: str = "",
    ) -> list[Message]:
        chat = uuid.UUID(chat_id)
        # The page starts below ``before`` or at ``highest``, whichever is lower.
        upper, inclusive = before, False
        if highest and (not before or highest < before):
            upper, inclusive = highest, True

        days = _Days(lambda: self._days_older(chat, bucket_of(upper) if upper else ""))

        def rows_below(want: int, bound: str, first: bool) -> list[Any]:
            return self._rows_before(chat, bound, inclusive and first, want, lowest, days)

        return self._page(chat, viewer_id, limit, (upper, inclusive, "<"), days, rows_below)

    def list_after(
        self,
        chat_id: str,
        after: str,
        limit: int,
        viewer_id: str = "",
        lowest: str = "",
        highest: str = "",
    ) -> list[Message]:
        chat = uuid.UUID(chat_id)
        # The page starts above ``after`` or at ``lowest``, whichever is higher.
        lower, inclusive = after, False
        if lowest and lowest > after:
            lower, inclusive = lowest, True

        days = _Days(lambda: self._days_newer(chat, bucket_of(lower) if lower else ""))

        def rows_above(want: int, bound: str, first: bool) -> list[Any]:
            return self._rows_after(chat, bound, inclusive and first, want, highest, days)

        return self._page(chat, viewer_id, limit, (lower, inclusive, ">"), days, rows_above)

    def _page(
        self,
        chat: uuid.UUID,
        viewer_id: str,
        limit: int,
        cursor: tuple[str, bool, str],
        days: _Days,
        read_rows: Callable[[int, str, bool], list[Any]],
    ) -> list[Message]:
        """Up to ``limit`` messages from ``read_rows`` past ``cursor`` (an id, whether it is
        included, and "<" newest first or ">" oldest first), less the ones ``viewer_id`` hid.

        The viewer's next hidden ids past the cursor are read while the chat's days are
        listed; the page then reads as many more rows as it found, so a page that holds a few
        of them is still full after one read.
        """
        bound, inclusive, direction = cursor
        viewer = uuid.UUID(viewer_id) if viewer_id else None
        kept: list[Any] = []
        first = True
        while (want := limit - len(kept)) > 0:
            hidden_next = None
            if viewer is not None:
                suffix = "*" if not bound else "=" if inclusive and first else ""
                from_bound = (bound,) if bound else ()
                hidden_next = self._session.execute_async(
                    self._hidden_next[direction + suffix],
                    (viewer, chat, *from_bound, _HIDDEN_AT_ONCE),
                )
            if days.current is None:  # (lists the days, the first time, beside the above)
                break
            hidden_ids = [row.message_id for row in hidden_next.result()] if hidden_next else []
            rows = read_rows(want + len(hidden_ids), bound, first)
            if not rows:
                break
            hidden = self._hidden_among(viewer, chat, rows, hidden_ids, direction)
            visible = [row for row in rows if row.message_id not in hidden]
            kept += visible[:want]
            if len(visible) >= want or len(rows) < want + len(hidden_ids):
                break  # a full page, or the end of what may be read
            bound, first = rows[-1].message_id, False
        return [message_from_row(row) for row in kept]

    def _hidden_among(
        self,
        viewer: uuid.UUID | None,
        chat: uuid.UUID,
        rows: list[Any],
        hidden_next: list[str],
        direction: str,
    ) -> set[str]:
        """Which of ``rows`` (every message from the cursor on, in paging order) the viewer
        hid. ``hidden_next`` (the first hidden ids past the same cursor) answers it if it
        reaches the rows' far end or holds all there are; else one query for the rows' range."""
        if viewer is None:
            return set()
        far = rows[-1].message_id
        reaches = hidden_next and (
            hidden_next[-1] <= far if direction == "<" else hidden_next[-1] >= far
        )
        found: list[str] = hidden_next
        if len(hidden_next) >= _HIDDEN_AT_ONCE and not reaches:
            low, high = sorted((rows[0].message_id, far))
            found = [
                row.message_id
                for row in self._session.execute(self._hidden_between, (viewer, chat, low, high))
            ]
        return {row.message_id for row in rows}.intersection(found)

    def _rows_before(
        self, chat: uuid.UUID, upper: str, inclusive: bool, want: int, lowest: str, days: _Days
    ) -> list[Any]:
        """Up to ``want`` rows below ``upper`` (or at it, ``inclusive``; "" = the newest),
        newest first, none below ``lowest``, from ``days`` on (left at the day to go on in)."""
        found: list[Any] = []
        while (bucket := days.current) is not None and len(found) < want:
            if lowest and bucket < bucket_of(lowest):
                days.end()
                break
            need = want - len(found)
            # Only the bound's own day needs the bound: older days are wholly older.
            if upper and bucket == bucket_of(upper):
                page = self._page_upto if inclusive else self._page_before
                rows = list(self._session.execute(page, (chat, bucket, upper, need)))
            else:
                rows = list(self._session.execute(self._page_newest, (chat, bucket, need)))
            for row in rows:
                if lowest and row.message_id < lowest:
                    days.end()
                    return found
                found.append(row)
            if len(rows) < need:
                days.advance()  # nothing older is left in this day
        return found

    def _rows_after(
        self, chat: uuid.UUID, lower: str, inclusive: bool, want: int, highest: str, days: _Days
    ) -> list[Any]:
        """Up to ``want`` rows above ``lower`` (or at it, ``inclusive``), oldest first, none
        above ``highest``, from ``days`` on (left at the day to go on in)."""
        page = self._page_from if inclusive else self._page_after
        found: list[Any] = []
        while (bucket := days.current) is not None and len(found) < want:
            if highest and bucket > bucket_of(highest):
                days.end()
                break
            need = want - len(found)
            rows = list(self._session.execute(page, (chat, bucket, lower, need)))
            for row in rows:
                if highest and row.message_id > highest:
                    days.end()
                    return found
                found.append(row)
            if len(rows) < need:
                days.advance()
        return found

    def count_unread(
        self,
        user_id: str,
        after_by_chat: dict[str, str],
        upto_by_chat: dict[str, str] | None = None,
    ) -> dict[str, int]:
        """Counts the senders of the messages above each watermark (and not above
        ``upto_by_chat``'s id, where given), chats in parallel.

        Cost grows with the unread count (only ids and ``sender_id`` are read), capped per chat
        at ``UNREAD_SCAN_LIMIT``.
        """
        me = uuid.UUID(user_id)
        upto_by_chat = upto_by_chat or {}
        futures = {
            chat_id: self._session.execute_async(
                self._buckets_newer[">="],
                (uuid.UUID(chat_id), bucket_of(after) if after else "", _DAYS_AT_ONCE),
            )
            for chat_id, after in after_by_chat.items()
        }
        counts = dict.fromkeys(after_by_chat, 0)
        for chat_id, future in futures.items():
            chat, after = uuid.UUID(chat_id), after_by_chat[chat_id]
            upto = upto_by_chat.get(chat_id, "")
            first = [row.bucket for row in future.result()]
            scanned = 0
            for bucket in self._days_newer(chat, "", first):
                if upto and bucket > bucket_of(upto):
                    break
                rows = self._session.execute(
                    self._senders_after, (chat, bucket, after, UNREAD_SCAN_LIMIT - scanned)
                )
                for row in rows:
                    if upto and row.message_id > upto:
                        continue  # newest first within the day: older ones follow
                    scanned += 1
                    counts[chat_id] += row.sender_id != me
                if scanned >= UNREAD_SCAN_LIMIT:
                    break
        return counts

    def _days_older(self, chat: uuid.UUID, upto: str) -> Iterator[str]:
        """The chat's day buckets from ``upto`` ("" = the newest) back, fetched as needed."""
        statement, args = (
            (self._buckets_older["<="], (chat, upto))
            if upto
            else (self._buckets_older[""], (chat,))
        )
        while True:
            days = [row.bucket for row in self._session.execute(statement, (*args, _DAYS_AT_ONCE))]
            yield from days
            if len(days) < _DAYS_AT_ONCE:
                return
            statement, args = self._buckets_older["<"], (chat, days[-1])

    def _days_newer(
        self, chat: uuid.UUID, since: str, first: list[str] | None = None
    ) -> Iterator[str]:
        """The chat's day buckets from ``since`` ("" = the oldest) on, fetched as needed."""
        days = first
        if days is None:
            days = [
                row.bucket
                for row in self._session.execute(
                    self._buckets_newer[">="], (chat, since, _DAYS_AT_ONCE)
                )
            ]
        while True:
            yield from days
            if len(days) < _DAYS_AT_ONCE:
                return
            days = [
                row.bucket
                for row in self._session.execute(
                    self._buckets_newer[">"], (chat, days[-1], _DAYS_AT_ONCE)
                )
            ]


class _Days:
    """The days of a chat being paged through, read when first needed. A day stays current
    until a page read finds nothing more in it, so reading on past hidden messages continues
    where the last read stopped instead of listing the days again."""

    def __init__(self, days: Callable[[], Iterator[str]]) -> None:
        self._start = days
        self._days: Iterator[str] | None = None
        self._current: str | None = None

    @property
    def current(self) -> str | None:
        if self._days is None:
            self._days = self._start()
            self._current = next(self._days, None)
        return self._current

    def advance(self) -> None:
        if self._days is not None:
            self._current = next(self._days, None)

    def end(self) -> None:
        self._days, self._current = iter(()), None
