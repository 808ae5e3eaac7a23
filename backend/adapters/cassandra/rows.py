"""Reading messages back from Cassandra rows, with their reactions: shared by the message store
and the message action store.

A message and its reactions live in two tables partitioned alike, by (chat, UTC day of the id):
the reactions of a whole page of history come from one range query per day the page spans, run
in parallel with whatever else the page needs - never one query per message.
"""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Iterable, Sequence
from datetime import UTC, datetime
from typing import Any

from cassandra import ConsistencyLevel
from cassandra.cluster import ResponseFuture, Session
from cassandra.query import PreparedStatement

from backend.content import load_content
from backend.models import Message, Quote, Reaction

COLUMNS = (
    "chat_id, bucket, message_id, sender_id, temp_id, content_type, content, created_us, "
    "quote, quote_at, forwarded, edited_us, deleted_us"
)
# A quote rewritten for a delete carries the largest version: no late edit can overwrite it.
DELETED_QUOTE_AT = 2**63 - 1
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def bucket_of(message_id: str) -> str:
    """The UTC day of a UUIDv7 id's timestamp (its first 48 bits, in milliseconds)."""
    millis = int(message_id[:8] + message_id[9:13], 16)
    return time.strftime("%Y-%m-%d", time.gmtime(millis / 1000))


def micros(at: datetime) -> int:
    delta = at - _EPOCH
    return (delta.days * 86_400 + delta.seconds) * 1_000_000 + delta.microseconds


def from_micros(value: int) -> datetime:
    return datetime.fromtimestamp(value // 1_000_000, UTC).replace(microsecond=value % 1_000_000)


def dump_quote(quote: Quote | None) -> str | None:
    if quote is None:
        return None
    return json.dumps(
        {
            "message_id": quote.message_id,
            "sender_id": quote.sender_id,
            "preview": quote.preview,
            "deleted": quote.deleted,
        },
        ensure_ascii=False,
    )


def _load_quote(raw: str | None) -> Quote | None:
    value = json.loads(raw) if raw else None
    return Quote(**value) if isinstance(value, dict) else None


def message_from_row(row: Any, reactions: Sequence[Reaction] = ()) -> Message:
    """A message as every member sees it. A tombstone shows no quote, mark or reactions even if
    rows of them outlived the delete (its clean-up runs after the tombstone is written)."""
    deleted = row.deleted_us is not None
    return Message(
        id=row.message_id,
        chat_id=str(row.chat_id),
        sender_id=str(row.sender_id),
        content=load_content(row.content),
        created_at=from_micros(row.created_us),
        temp_id=row.temp_id or "",
        quote=None if deleted else _load_quote(row.quote),
        forwarded=bool(row.forwarded) and not deleted,
        edited_at=from_micros(row.edited_us) if row.edited_us is not None else None,
        deleted_at=from_micros(row.deleted_us) if deleted else None,
        reactions=() if deleted else tuple(reactions),
    )


def prepare(session: Session, cql: str, serial: bool = True) -> PreparedStatement:
    statement = session.prepare(cql)
    # Quorum reads and writes: whatever a quorum acknowledged, the next quorum read sees
    # (on one node, that is the node). LWTs agree on LOCAL_SERIAL.
    statement.consistency_level = ConsistencyLevel.LOCAL_QUORUM
    if serial:
        statement.serial_consistency_level = ConsistencyLevel.LOCAL_SERIAL
    return statement


class MessageReader:
    """Messages with their reactions, by id or a page of rows at a time."""

    def __init__(self, session: Session) -> None:
        self._session = session
        self._chat_of = prepare(session, "SELECT chat_id FROM message_chats WHERE message_id = ?")
        self._get = prepare(
            session,
            f"SELECT {COLUMNS} FROM messages WHERE chat_id = ? AND bucket = ? AND message_id = ?",
        )
        reactions = "SELECT message_id, user_id, emoji, reacted_us FROM message_reactions "
        self._reactions_of = prepare(
            session, f"{reactions} WHERE chat_id = ? AND bucket = ? AND message_id = ?"
        )
        self._reactions_between = prepare(
            session,
            f"{reactions} WHERE chat_id = ? AND bucket = ? AND message_id >= ? AND message_id <= ?",
        )

    def chat_of(self, message_id: str) -> uuid.UUID | None:
        found = self._session.execute(self._chat_of, (message_id,)).one()
        return found.chat_id if found else None

    def read(self, chat: uuid.UUID, message_id: str) -> Message | None:
        """One message with its reactions: both reads at once."""
        return self.read_many([(chat, message_id)]).get(message_id)

    def read_many(self, keys: Iterable[tuple[uuid.UUID, str]]) -> dict[str, Message]:
        """Messages by (chat, id), all read in parallel; missing ones are left out."""
        pending = []
        for chat, message_id in keys:
            bucket = bucket_of(message_id)
            pending.append(
                (
                    self._session.execute_async(self._get, (chat, bucket, message_id)),
                    self._session.execute_async(self._reactions_of, (chat, bucket, message_id)),
                )
            )
        found = {}
        for row_future, reactions_future in pending:
            row = row_future.result().one()
            reactions = _reactions_by_message(reactions_future.result())
            if row is not None:
                found[row.message_id] = message_from_row(row, reactions.get(row.message_id, ()))
        return found

    def reactions_of_rows(self, chat: uuid.UUID, rows: Sequence[Any]) -> list[ResponseFuture]:
        """Start reading the reactions of a page's rows: one range query per day bucket (a page
        of 50 spans one or two); hand the futures to ``with_reactions``."""
        spans: dict[str, tuple[str, str]] = {}
        for row in rows:
            low, high = spans.get(row.bucket, (row.message_id, row.message_id))
            spans[row.bucket] = (min(low, row.message_id), max(high, row.message_id))
        return [
            self._session.execute_async(self._reactions_between, (chat, bucket, low, high))
            for bucket, (low, high) in spans.items()
        ]

    @staticmethod
    def with_reactions(rows: Sequence[Any], futures: Sequence[ResponseFuture]) -> list[Message]:
        reactions: dict[str, list[Reaction]] = {}
        for future in futures:
            for message_id, found in _reactions_by_message(future.result()).items():
                reactions[message_id] = found
        return [message_from_row(row, reactions.get(row.message_id, ())) for row in rows]


def _reactions_by_message(rows: Iterable[Any]) -> dict[str, list[Reaction]]:
    """Reactions grouped by message, oldest first (ties by user id), as the SQL store orders."""
    timed: dict[str, list[tuple[int, str, str]]] = {}
    for r in rows:
        timed.setdefault(r.message_id, []).append((r.reacted_us, str(r.user_id), r.emoji))
    return {
        message_id: [Reaction(user, emoji) for _, user, emoji in sorted(entries)]
        for message_id, entries in timed.items()
    }
