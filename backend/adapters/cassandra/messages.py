"""Messages in Cassandra: the scale-out twin of the SQL message store.

Layout (``schema/001_messages.cql``): ``messages`` partitioned by (chat, UTC day of the id),
newest first; ``chat_buckets`` lists each chat's days so paging can walk from one to the next;
``004_message_actions.cql`` adds the quote, marks and reactions to the row and the action
tables.

**Ids commit in the order they are made, per chat.** Cassandra has no transactions, so a send
holds a per-chat lease while it makes its id and writes: a lightweight transaction (Paxos) on the
chat's ``chat_heads`` row takes it (``holder``, with a TTL so a crashed process cannot keep it)
and another gives it back, recording the new id as ``last_id``. The next send - from any process
- makes its id above ``last_id``, so ids increase even if the processes' clocks differ, and a
send's row is written before the next id exists: a reader who has seen message N has seen every
message below N. Inside one process a striped lock queues sends to the same chat before they
reach Cassandra, so the leases are only contended across processes. The approximation: a holder
stalled longer than the lease TTL (a long GC pause) can let a second writer in; the release then
fails and is logged.

**Idempotent sends use a dedup table** (``sent_by_temp_id``), not an LWT on ``messages``: the
temp id is not part of the message's primary key (the id is made by the server), so
``INSERT ... IF NOT EXISTS`` on ``messages`` could never see the duplicate. The lookup is made
under the chat's lease, which already serialises every send to the chat, so a plain read is
race-free and costs no extra Paxos round (see ``_write`` for the order of the writes).

**Replies, forwards and delete-for-me** live here too: a reply's quote and the forwarded mark
are columns of its row, and the reply is recorded in ``replies_by_original`` (in the same
logged batch as the dedup row, before the message) so an edit or delete of the original finds
it without a scan. Reactions are a map column of the row, read with it (``rows.py``).

Reading pages of history (and what the viewer deleted for themselves) and unread counts is
``history.py``; the changes to stored messages (edits, tombstones, reactions, stars, hiding)
are ``message_actions.py``.
"""

from __future__ import annotations

import dataclasses
import logging
import threading
import time
import uuid
from collections.abc import Callable, Sequence

from cassandra import ConsistencyLevel
from cassandra.cluster import Session
from cassandra.query import UNSET_VALUE, BatchStatement, BatchType, PreparedStatement

from backend.adapters.cassandra.history import ChatHistory
from backend.adapters.cassandra.rows import (
    SENT_COLUMNS,
    MessageReader,
    bucket_of,
    dump_quote,
    micros,
    prepare,
)
from backend.content import dump_content
from backend.ids import message_id_above
from backend.models import Message

log = logging.getLogger(__name__)

LEASE_SECONDS = 10  # how long a crashed sender can hold up its chat
LEASE_WAIT_SECONDS = 15.0
_STRIPES = 64
_HEADS_KEPT = 100_000


def _or_unset(value: object) -> object:
    """Leave a column unwritten rather than writing a null (which Cassandra stores as a
    tombstone that every later read must skip)."""
    return UNSET_VALUE if value is None else value


class LeaseUnavailable(RuntimeError):
    """Another process held the chat's send lease for longer than a send may wait."""


class CassandraMessageStore:
    def __init__(self, session: Session) -> None:
        self._session = session
        self._stripes = [threading.Lock() for _ in range(_STRIPES)]
        # The newest id this process saw committed per chat: the lease condition expects it,
        # so a send from the only writing process takes one round trip to get the lease.
        self._heads: dict[uuid.UUID, str | None] = {}
        self._reader = MessageReader(session)
        self._history = ChatHistory(session)
        prepare = self._prepare
        self._take = prepare(
            "UPDATE chat_heads USING TTL ? SET holder = ? WHERE chat_id = ? "
            "IF holder = null AND last_id = ?"
        )
        self._give_back = prepare(
            "UPDATE chat_heads SET holder = null, last_id = ? WHERE chat_id = ? IF holder = ?"
        )
        self._insert = prepare(
            f"INSERT INTO messages ({SENT_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            serial=False,
        )
        self._insert_bucket = prepare(
            "INSERT INTO chat_buckets (chat_id, bucket) VALUES (?, ?)", serial=False
        )
        self._insert_sent = prepare(
            "INSERT INTO sent_by_temp_id (chat_id, sender_id, temp_id, message_id) "
            "VALUES (?, ?, ?, ?)",
            serial=False,
        )
        self._insert_chat_of = prepare(
            "INSERT INTO message_chats (message_id, chat_id) VALUES (?, ?)", serial=False
        )
        self._insert_reply = prepare(
            "INSERT INTO replies_by_original (original_id, reply_id) VALUES (?, ?)", serial=False
        )
        self._find_sent = prepare(
            "SELECT message_id FROM sent_by_temp_id "
            "WHERE chat_id = ? AND sender_id = ? AND temp_id = ?"
        )

    def _prepare(self, cql: str, serial: bool = True) -> PreparedStatement:
        return prepare(self._session, cql, serial)

    # --- writing ---------------------------------------------------------------------------

    def add_messages(
        self, drafts: Sequence[Message], new_id: Callable[[], str]
    ) -> list[tuple[Message, bool]]:
        """One by one (no transactions here), each under its chat's lease."""
        return [self.add_message(draft, new_id) for draft in drafts]

    def add_message(self, draft: Message, new_id: Callable[[], str]) -> tuple[Message, bool]:
        chat = uuid.UUID(draft.chat_id)
        sender = uuid.UUID(draft.sender_id)
        with self._stripes[hash(chat) % _STRIPES]:
            holder = uuid.uuid4()
            last_id = self._take_lease(chat, holder)
            new_last = last_id
            try:
                if draft.temp_id:
                    found = self._session.execute(
                        self._find_sent, (chat, sender, draft.temp_id)
                    ).one()
                    if found is not None:
                        existing = self._reader.read(chat, found.message_id)
                        if existing is not None:
                            return existing, False
                message = dataclasses.replace(draft, id=self._id_above(last_id, new_id))
                self._write(chat, sender, message)
                new_last = message.id
                return message, True
            finally:
                self._give_lease_back(chat, holder, new_last)

    def _take_lease(self, chat: uuid.UUID, holder: uuid.UUID) -> str | None:
        """Wait for the chat's lease; the chat's newest committed id (None for a new chat)."""
        expected = self._heads.get(chat)
        deadline = time.monotonic() + LEASE_WAIT_SECONDS
        pause = 0.002
        while True:
            row = self._session.execute(self._take, (LEASE_SECONDS, holder, chat, expected)).one()
            if row.applied:
                return expected
            self._heads[chat] = expected = row.last_id  # someone else wrote: expect theirs
            if row.holder is None:
                continue  # free, only our idea of the newest id was stale: try again at once
            if time.monotonic() > deadline:
                raise LeaseUnavailable(f"chat {chat} is held by another sender")
            time.sleep(pause)
            pause = min(pause * 2, 0.05)

    def _give_lease_back(self, chat: uuid.UUID, holder: uuid.UUID, last_id: str | None) -> None:
        row = self._session.execute(self._give_back, (last_id, chat, holder)).one()
        if row.applied:
            if len(self._heads) > _HEADS_KEPT:
                self._heads.clear()  # only a hint: a forgotten chat costs one extra round trip
            self._heads[chat] = last_id
        else:
            self._heads.pop(chat, None)
            log.warning("send lease of chat %s expired while held: ids may interleave", chat)

    @staticmethod
    def _id_above(last_id: str | None, new_id: Callable[[], str]) -> str:
        """An id above the chat's newest, at once, even if this process's clock is behind the
        last writer's (``backend.ids.message_id_above``)."""
        return message_id_above(last_id or "", new_id)

    def _write(self, chat: uuid.UUID, sender: uuid.UUID, message: Message) -> None:
        """The bucket, dedup and reply rows first, then the message itself: after a crash in
        between, a dedup row may point at no message, which ``add_message`` treats as never
        sent (the resend stores it and repoints the row), and a reply row may point at no
        message, which a requote skips (it rewrites only rows it read). The message is not in
        their batch: a 64 KiB text would pass Cassandra's batch size limit."""
        bucket = bucket_of(message.id)
        batch = BatchStatement(
            batch_type=BatchType.LOGGED, consistency_level=ConsistencyLevel.LOCAL_QUORUM
        )
        batch.add(self._insert_bucket, (chat, bucket))
        batch.add(self._insert_chat_of, (message.id, chat))
        if message.temp_id:
            batch.add(self._insert_sent, (chat, sender, message.temp_id, message.id))
        if message.quote is not None:
            batch.add(self._insert_reply, (message.quote.message_id, message.id))
        self._session.execute(batch)
        self._session.execute(
            self._insert,
            (
                chat,
                bucket,
                message.id,
                sender,
                _or_unset(message.temp_id or None),
                str(message.content.get("type", "")),
                dump_content(message.content),
                micros(message.created_at),
                _or_unset(dump_quote(message.quote)),
                # A quote's version starts below any edit's (see message_actions.py).
                0 if message.quote is not None else UNSET_VALUE,
                True if message.forwarded else UNSET_VALUE,
                UNSET_VALUE,
                UNSET_VALUE,
            ),
        )

    # --- reading ---------------------------------------------------------------------------

    def find_sent(self, chat_id: str, sender_id: str, temp_id: str) -> Message | None:
        chat = uuid.UUID(chat_id)
        found = self._session.execute(self._find_sent, (chat, uuid.UUID(sender_id), temp_id)).one()
        return self._reader.read(chat, found.message_id) if found else None

    def get_message(self, message_id: str) -> Message | None:
        chat = self._reader.chat_of(message_id)
        return self._reader.read(chat, message_id) if chat else None

    def list_before(
        self,
        chat_id: str,
        before: str,
        limit: int,
        viewer_id: str = "",
        lowest: str = "",
        highest: str = "",
    ) -> list[Message]:
        return self._history.list_before(chat_id, before, limit, viewer_id, lowest, highest)

    def list_after(
        self,
        chat_id: str,
        after: str,
        limit: int,
        viewer_id: str = "",
        lowest: str = "",
        highest: str = "",
    ) -> list[Message]:
        return self._history.list_after(chat_id, after, limit, viewer_id, lowest, highest)

    def count_unread(
        self,
        user_id: str,
        after_by_chat: dict[str, str],
        upto_by_chat: dict[str, str] | None = None,
    ) -> dict[str, int]:
        return self._history.count_unread(user_id, after_by_chat, upto_by_chat)
