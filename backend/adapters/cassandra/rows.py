"""Reading messages back from Cassandra rows: shared by the message store and the message
action store.

A message's reactions are a map column of its own row (user -> emoji and time), so a page of
history, or one message, comes back with its reactions from the same read: no query per
message, and none per page either.
"""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Iterable, Mapping
from datetime import UTC, datetime
from typing import Any

from cassandra import ConsistencyLevel
from cassandra.cluster import Session
from cassandra.query import PreparedStatement

from backend.content import load_content
from backend.models import Message, Quote, Reaction

# What a send writes; reactions join the row later, one map element at a time.
SENT_COLUMNS = (
    "chat_id, bucket, message_id, sender_id, temp_id, content_type, content, created_us, "
    "quote, quote_at, forwarded, edited_us, deleted_us"
)
COLUMNS = f"{SENT_COLUMNS}, reactions"
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


def message_from_row(row: Any) -> Message:
    """A message as every member sees it. A tombstone shows no quote, mark or reactions, even
    a reaction written in the instant after the delete."""
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
        reactions=() if deleted else _reactions(row.reactions),
    )


def _reactions(found: Mapping[uuid.UUID, tuple[str, int]] | None) -> tuple[Reaction, ...]:
    """Oldest first, ties by user id: the SQL store's order."""
    if not found:
        return ()
    timed = sorted((at, str(user), emoji) for user, (emoji, at) in found.items())
    return tuple(Reaction(user, emoji) for _, user, emoji in timed)


def prepare(session: Session, cql: str, serial: bool = True) -> PreparedStatement:
    statement = session.prepare(cql)
    # Quorum reads and writes: whatever a quorum acknowledged, the next quorum read sees
    # (on one node, that is the node). LWTs agree on LOCAL_SERIAL.
    statement.consistency_level = ConsistencyLevel.LOCAL_QUORUM
    if serial:
        statement.serial_consistency_level = ConsistencyLevel.LOCAL_SERIAL
    return statement


class MessageReader:
    """Messages by id, one or many at a time."""

    def __init__(self, session: Session) -> None:
        self._session = session
        self._chat_of = prepare(session, "SELECT chat_id FROM message_chats WHERE message_id = ?")
        self._get = prepare(
            session,
            f"SELECT {COLUMNS} FROM messages WHERE chat_id = ? AND bucket = ? AND message_id = ?",
        )

    def chat_of(self, message_id: str) -> uuid.UUID | None:
        found = self._session.execute(self._chat_of, (message_id,)).one()
        return found.chat_id if found else None

    def read(self, chat: uuid.UUID, message_id: str) -> Message | None:
        row = self._session.execute(self._get, (chat, bucket_of(message_id), message_id)).one()
        return message_from_row(row) if row else None

    def read_many(self, keys: Iterable[tuple[uuid.UUID, str]]) -> dict[str, Message]:
        """Messages by (chat, id), all read in parallel; missing ones are left out."""
        futures = [
            self._session.execute_async(self._get, (chat, bucket_of(message_id), message_id))
            for chat, message_id in keys
        ]
        rows = [future.result().one() for future in futures]
        return {row.message_id: message_from_row(row) for row in rows if row is not None}
