"""Messages in Cassandra: the scale-out twin of the SQL message store.

Layout (``schema/001_messages.cql``): ``messages`` partitioned by (chat, UTC day of the id),
newest first; ``chat_buckets`` lists each chat's days so paging can walk from one to the next.

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

**Not here yet** (they live in the SQL message store): replies and forwards (a quote, the
forwarded mark), edits, tombstones, reactions and delete-for-me. A send with a quote or the
forwarded mark is refused with a clear error rather than stored without it; ``viewer_id`` is
accepted by the reads but filters nothing, because nothing can be hidden for one viewer here
(the container wires ``UnavailableMessageActionStore`` with this store).
"""

from __future__ import annotations

import dataclasses
import logging
import threading
import time
import uuid
from collections.abc import Callable, Iterator, Sequence
from datetime import UTC, datetime
from typing import Any

from cassandra import ConsistencyLevel
from cassandra.cluster import Session
from cassandra.query import BatchStatement, BatchType, PreparedStatement

from backend.content import dump_content, load_content
from backend.errors import InvalidInput
from backend.models import Message

log = logging.getLogger(__name__)

LEASE_SECONDS = 10  # how long a crashed sender can hold up its chat
LEASE_WAIT_SECONDS = 15.0
# Unread counts scan the ids above a member's read watermark; past this many a chat shows the
# cap (the UI shows a badge, not an exact figure, for a chat nobody has opened in months).
UNREAD_SCAN_LIMIT = 10_000
_STRIPES = 64
_HEADS_KEPT = 100_000
_DAYS_AT_ONCE = 4
_COLUMNS = "chat_id, bucket, message_id, sender_id, temp_id, content_type, content, created_us"
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
NOT_AVAILABLE = "Replies and forwards are not available with this message store yet."


def bucket_of(message_id: str) -> str:
    """The UTC day of a UUIDv7 id's timestamp (its first 48 bits, in milliseconds)."""
    millis = int(message_id[:8] + message_id[9:13], 16)
    return time.strftime("%Y-%m-%d", time.gmtime(millis / 1000))


def _micros(at: datetime) -> int:
    delta = at - _EPOCH
    return (delta.days * 86_400 + delta.seconds) * 1_000_000 + delta.microseconds


def _from_micros(value: int) -> datetime:
    return datetime.fromtimestamp(value // 1_000_000, UTC).replace(microsecond=value % 1_000_000)


def _message(row: Any) -> Message:
    return Message(
        id=row.message_id,
        chat_id=str(row.chat_id),
        sender_id=str(row.sender_id),
        content=load_content(row.content),
        created_at=_from_micros(row.created_us),
        temp_id=row.temp_id or "",
    )


class LeaseUnavailable(RuntimeError):
    """Another process held the chat's send lease for longer than a send may wait."""


class CassandraMessageStore:
    def __init__(self, session: Session) -> None:
        self._session = session
        self._stripes = [threading.Lock() for _ in range(_STRIPES)]
        # The newest id this process saw committed per chat: the lease condition expects it,
        # so a send from the only writing process takes one round trip to get the lease.
        self._heads: dict[uuid.UUID, str | None] = {}
        prepare = self._prepare
        columns = _COLUMNS
        self._take = prepare(
            "UPDATE chat_heads USING TTL ? SET holder = ? WHERE chat_id = ? "
            "IF holder = null AND last_id = ?"
        )
        self._give_back = prepare(
            "UPDATE chat_heads SET holder = null, last_id = ? WHERE chat_id = ? IF holder = ?"
        )
        self._insert = prepare(
            f"INSERT INTO messages ({columns}) VALUES (?, ?, ?, ?, ?, ?, ?, ?)", serial=False
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
        self._chat_of = prepare("SELECT chat_id FROM message_chats WHERE message_id = ?")
        self._find_sent = prepare(
            "SELECT message_id FROM sent_by_temp_id "
            "WHERE chat_id = ? AND sender_id = ? AND temp_id = ?"
        )
        self._get = prepare(
            f"SELECT {columns} FROM messages WHERE chat_id = ? AND bucket = ? AND message_id = ?"
        )
        # Day lists are read a few at a time: a page of 50 usually needs one day, and a chat
        # may have thousands.
        buckets = "SELECT bucket FROM chat_buckets WHERE chat_id = ?"
        self._buckets_older = {
            "": prepare(f"{buckets} LIMIT ?"),
            "<=": prepare(f"{buckets} AND bucket <= ? LIMIT ?"),
            "<": prepare(f"{buckets} AND bucket < ? LIMIT ?"),
        }
        self._buckets_newer = {
            ">=": prepare(f"{buckets} AND bucket >= ? ORDER BY bucket ASC LIMIT ?"),
            ">": prepare(f"{buckets} AND bucket > ? ORDER BY bucket ASC LIMIT ?"),
        }
        self._page_before = prepare(
            f"SELECT {columns} FROM messages WHERE chat_id = ? AND bucket = ? "
            "AND message_id < ? LIMIT ?"
        )
        self._page_upto = prepare(
            f"SELECT {columns} FROM messages WHERE chat_id = ? AND bucket = ? "
            "AND message_id <= ? LIMIT ?"
        )
        self._page_newest = prepare(
            f"SELECT {columns} FROM messages WHERE chat_id = ? AND bucket = ? LIMIT ?"
        )
        self._page_after = prepare(
            f"SELECT {columns} FROM messages WHERE chat_id = ? AND bucket = ? "
            "AND message_id > ? ORDER BY message_id ASC LIMIT ?"
        )
        self._page_from = prepare(
            f"SELECT {columns} FROM messages WHERE chat_id = ? AND bucket = ? "
            "AND message_id >= ? ORDER BY message_id ASC LIMIT ?"
        )
        self._senders_after = prepare(
            "SELECT message_id, sender_id FROM messages WHERE chat_id = ? AND bucket = ? "
            "AND message_id > ? LIMIT ?"
        )

    def _prepare(self, cql: str, serial: bool = True) -> PreparedStatement:
        statement = self._session.prepare(cql)
        # Quorum reads and writes: whatever a quorum acknowledged, the next quorum read sees
        # (on one node, that is the node). LWTs agree on LOCAL_SERIAL.
        statement.consistency_level = ConsistencyLevel.LOCAL_QUORUM
        if serial:
            statement.serial_consistency_level = ConsistencyLevel.LOCAL_SERIAL
        return statement

    # --- writing ---------------------------------------------------------------------------

    def add_messages(
        self, drafts: Sequence[Message], new_id: Callable[[], str]
    ) -> list[tuple[Message, bool]]:
        """One by one (no transactions here), each under its chat's lease; a draft this store
        cannot take is refused before any is written."""
        if any(draft.quote is not None or draft.forwarded for draft in drafts):
            raise InvalidInput(NOT_AVAILABLE)
        return [self.add_message(draft, new_id) for draft in drafts]

    def add_message(self, draft: Message, new_id: Callable[[], str]) -> tuple[Message, bool]:
        if draft.quote is not None or draft.forwarded:
            raise InvalidInput(NOT_AVAILABLE)
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
                        existing = self._read(chat, found.message_id)
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
        """An id above the chat's newest, even if this process's clock is behind the last
        writer's (ids are strictly increasing per process, so this ends quickly)."""
        for _ in range(1_000_000):
            candidate = new_id()
            if last_id is None or candidate > last_id:
                return candidate
        raise RuntimeError("this process's clock is far behind the chat's newest message")

    def _write(self, chat: uuid.UUID, sender: uuid.UUID, message: Message) -> None:
        """The bucket and dedup rows first, then the message itself: after a crash in
        between, a dedup row may point at no message, which ``add_message`` treats as never
        sent (the resend stores it and repoints the row). The message is not in their batch:
        a 64 KiB text would pass Cassandra's batch size limit."""
        bucket = bucket_of(message.id)
        batch = BatchStatement(
            batch_type=BatchType.LOGGED, consistency_level=ConsistencyLevel.LOCAL_QUORUM
        )
        batch.add(self._insert_bucket, (chat, bucket))
        batch.add(self._insert_chat_of, (message.id, chat))
        if message.temp_id:
            batch.add(self._insert_sent, (chat, sender, message.temp_id, message.id))
        self._session.execute(batch)
        self._session.execute(
            self._insert,
            (
                chat,
                bucket,
                message.id,
                sender,
                message.temp_id or None,
                str(message.content.get("type", "")),
                dump_content(message.content),
                _micros(message.created_at),
            ),
        )

    # --- reading ---------------------------------------------------------------------------

    def _read(self, chat: uuid.UUID, message_id: str) -> Message | None:
        row = self._session.execute(self._get, (chat, bucket_of(message_id), message_id)).one()
        return _message(row) if row else None

    def find_sent(self, chat_id: str, sender_id: str, temp_id: str) -> Message | None:
        chat = uuid.UUID(chat_id)
        found = self._session.execute(self._find_sent, (chat, uuid.UUID(sender_id), temp_id)).one()
        return self._read(chat, found.message_id) if found else None

    def get_message(self, message_id: str) -> Message | None:
        found = self._session.execute(self._chat_of, (message_id,)).one()
        return self._read(found.chat_id, message_id) if found else None

    def list_before(
        self,
        chat_id: str,
        before: str,
        limit: int,
        viewer_id: str = "",  # nothing is hidden per viewer here (module docstring)
        lowest: str = "",
        highest: str = "",
    ) -> list[Message]:
        chat = uuid.UUID(chat_id)
        # The page starts below ``before`` or at ``highest``, whichever is lower.
        upper, inclusive = before, False
        if highest and (not before or highest < before):
            upper, inclusive = highest, True
        found: list[Message] = []
        for bucket in self._days_older(chat, bucket_of(upper) if upper else ""):
            want = limit - len(found)
            if want <= 0 or (lowest and bucket < bucket_of(lowest)):
                break
            # Only the bound's own day needs the bound: older days are wholly older.
            if upper and bucket == bucket_of(upper):
                page = self._page_upto if inclusive else self._page_before
                rows = self._session.execute(page, (chat, bucket, upper, want))
            else:
                rows = self._session.execute(self._page_newest, (chat, bucket, want))
            for row in rows:
                if lowest and row.message_id < lowest:
                    return found
                found.append(_message(row))
        return found

    def list_after(
        self,
        chat_id: str,
        after: str,
        limit: int,
        viewer_id: str = "",  # nothing is hidden per viewer here (module docstring)
        lowest: str = "",
        highest: str = "",
    ) -> list[Message]:
        chat = uuid.UUID(chat_id)
        # The page starts above ``after`` or at ``lowest``, whichever is higher.
        lower, inclusive = after, False
        if lowest and lowest > after:
            lower, inclusive = lowest, True
        page = self._page_from if inclusive else self._page_after
        found: list[Message] = []
        for bucket in self._days_newer(chat, bucket_of(lower) if lower else ""):
            want = limit - len(found)
            if want <= 0 or (highest and bucket > bucket_of(highest)):
                break
            for row in self._session.execute(page, (chat, bucket, lower, want)):
                if highest and row.message_id > highest:
                    return found
                found.append(_message(row))
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
