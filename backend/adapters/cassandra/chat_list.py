"""Each user's chat list in Cassandra (``schema/003_chats_by_user.cql``).

A row per (user, chat) holds the chat's last message as that user's list shows it: written for
every member on every message, read a whole partition (one query) per list. Chats and
memberships stay in the ``ChatStore`` (PostgreSQL); this store adds the activity to them.

**Never backward, without reading first.** Every write carries ``USING TIMESTAMP`` made from
the message id (``write_time_of``), so Cassandra's last-write-wins keeps the newest message
whatever order two processes' writes (or a retried old send's) arrive in. Message ids of a chat
increase (the message store makes them under the chat's lease), and so do these timestamps;
two ids that share a timestamp (two processes in one millisecond) are settled by the cell's
value, a frozen tuple that starts with the message id, so the greater id wins there too.

**Edits and deletes of a chat's last message** (``refresh_preview``) write ``edited`` =
(message id, preview) beside ``last``, with the action's own timestamp, so a delete after an
edit wins; a read shows it only while ``last`` still holds that message. A newer message
replaces ``last`` and the override stops matching, so a send and an edit never race for the
cell. An edit of any other message writes nothing (one read of a current member's row says
which is last): it would take the one cell from the last message's own edit.

**Rows written before this store existed:** a deployment that kept its chat list in SQL has
each chat's last message on the chat's row; a chat without a row here keeps showing that one
until its next message (nothing to migrate).
"""

from __future__ import annotations

import dataclasses
import uuid
from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Any

from cassandra import ConsistencyLevel
from cassandra.cluster import ResponseFuture, Session
from cassandra.query import BatchStatement, BatchType, PreparedStatement

from backend.adapters.cassandra.rows import from_micros, micros, prepare
from backend.models import Chat, ChatActivity, Member
from backend.ports import ChatStore

# Rows per batch. A row is ~180 bytes plus its preview: 16 rows stay under Cassandra's batch
# size warning (5 KiB) with a full preview of 120 ASCII characters, reach ~11 KiB with 4-byte
# ones, and never near the 50 KiB at which it refuses a batch (one of 256 rows can pass it).
ROWS_PER_BATCH = 16


def write_time_of(message_id: str) -> int:
    """The write timestamp (microseconds) for a message id: its millisecond, then its counter
    within that millisecond (``backend.ids``; capped at 999 so it stays in the millisecond).
    Never decreases as ids increase."""
    millis = int(message_id[:8] + message_id[9:13], 16)
    counter = int(message_id[15:18], 16)
    return millis * 1000 + min(counter, 999)


def _with_last(chat: Chat, last: Any, edited: Any = None) -> Chat:
    if last is None:
        return chat  # nothing written here yet: what the chat's own row says, if anything
    message_id, at_us, preview, sender_id = last
    if edited is not None and edited[0] == message_id:
        preview = edited[1]  # the last message was edited or deleted since it was sent
    return dataclasses.replace(
        chat,
        last_message_id=message_id,
        last_activity_at=from_micros(at_us),
        last_preview=preview,
        last_sender_id=sender_id,
    )


def _with_row(chat: Chat, row: Any) -> Chat:
    return _with_last(chat, row.last, row.edited) if row is not None else chat


class CassandraChatList:
    def __init__(self, session: Session, chats: ChatStore) -> None:
        self._session = session
        self._chats = chats
        self._write = self._prepare(
            "INSERT INTO chats_by_user (user_id, chat_id, last) VALUES (?, ?, ?) USING TIMESTAMP ?"
        )
        self._write_edited = self._prepare(
            "UPDATE chats_by_user SET edited = ? WHERE user_id = ? AND chat_id = ?"
        )
        self._read_list = self._prepare(
            "SELECT chat_id, last, edited FROM chats_by_user WHERE user_id = ?"
        )
        self._read_one = self._prepare(
            "SELECT last, edited FROM chats_by_user WHERE user_id = ? AND chat_id = ?"
        )

    def _prepare(self, cql: str) -> PreparedStatement:
        return prepare(self._session, cql, serial=False)  # quorum, as the message store

    def record_activity(
        self,
        chat_id: str,
        message_id: str,
        at: datetime,
        preview: str,
        sender_id: str,
        member_ids: list[str],
    ) -> None:
        self.record_activities(
            [ChatActivity(chat_id, message_id, at, preview, sender_id, tuple(member_ids))]
        )

    def record_activities(self, activities: Sequence[ChatActivity]) -> None:
        """One row per member of each chat, in small unlogged batches of members whose
        partitions the same node holds, all sent at once and all waited for: a failure raises,
        and the caller's retry writes them again (the timestamps make a repeat harmless).

        Batches, not one request per row: for a group of 256, 256 requests cost the app 3-4
        times the CPU of 16 batches (the driver's per-request work) and the node 2-5 times
        (``bench/chat_list.py``). Grouped by the node, so the node each batch is routed to (a
        replica of its first row) holds every row of it, as with single-row writes.
        """
        in_flight: list[ResponseFuture] = []
        for a in activities:
            chat = uuid.UUID(a.chat_id)
            last = (a.message_id, micros(a.at), a.preview, a.sender_id)
            in_flight += self._send_rows(
                list(a.member_ids), self._activity_row(chat, last, write_time_of(a.message_id))
            )
        for future in in_flight:
            future.result()

    def _activity_row(
        self, chat: uuid.UUID, last: tuple[str, int, str, str], stamp: int
    ) -> Callable[[uuid.UUID], tuple[PreparedStatement, Any]]:
        return lambda user: (self._write, (user, chat, last, stamp))

    def refresh_preview(self, chat_id: str, message_id: str, preview: str) -> None:
        """Every list that ever held the chat (current and former members) gets the override;
        it shows only where ``last`` is still ``message_id``."""
        found = self._chats.get_chat_with_members(chat_id)
        if found is None:
            return
        chat, edited = uuid.UUID(chat_id), (message_id, preview)
        members = [member.user_id for member in found[1]]
        # One ``edited`` cell per row: an edit of an older message must not take the cell from
        # the last one. Current members' rows all hold the chat's last message (as the SQL
        # chat row does; a former member's list follows it the same way there).
        current = next((m.user_id for m in found[1] if m.is_active), None)
        row = current and self._session.execute(self._read_one, (uuid.UUID(current), chat)).one()
        if not row or row.last is None or row.last[0] != message_id:
            return
        for future in self._send_rows(
            members, lambda user: (self._write_edited, (edited, user, chat))
        ):
            future.result()

    def _send_rows(
        self, member_ids: list[str], row: Callable[[uuid.UUID], tuple[PreparedStatement, Any]]
    ) -> list[ResponseFuture]:
        """A row per member, sent in batches (``record_activities``); the caller waits."""
        in_flight: list[ResponseFuture] = []
        for users in self._by_node(member_ids):
            for start in range(0, len(users), ROWS_PER_BATCH):
                batch = BatchStatement(
                    batch_type=BatchType.UNLOGGED, consistency_level=ConsistencyLevel.LOCAL_QUORUM
                )
                for user in users[start : start + ROWS_PER_BATCH]:
                    batch.add(*row(user))
                in_flight.append(self._session.execute_async(batch))
        return in_flight

    def _by_node(self, member_ids: list[str]) -> list[list[uuid.UUID]]:
        """The members, grouped by the node that holds the first replica of their partition
        (the driver's token map; one group on a single node)."""
        metadata = self._session.cluster.metadata
        groups: dict[object, list[uuid.UUID]] = {}
        for member in dict.fromkeys(member_ids):
            user = uuid.UUID(member)
            replicas = metadata.get_replicas(self._session.keyspace, user.bytes)
            groups.setdefault(replicas[0] if replicas else None, []).append(user)
        return list(groups.values())

    def list_user_chats(self, user_id: str) -> list[tuple[Chat, Member]]:
        # The partition is read while PostgreSQL answers for the memberships.
        pending = self._session.execute_async(self._read_list, (uuid.UUID(user_id),))
        memberships = self._chats.list_user_chats(user_id)
        rows = {str(row.chat_id): row for row in pending.result()}
        listed = [(_with_row(chat, rows.get(chat.id)), me) for chat, me in memberships]
        # Newest activity first, then by chat id: two stable sorts.
        listed.sort(key=lambda pair: pair[0].id)
        listed.sort(key=lambda pair: pair[0].last_activity_at or pair[0].created_at, reverse=True)
        return listed

    def with_activity(self, user_id: str, chat: Chat) -> Chat:
        row = self._session.execute(self._read_one, (uuid.UUID(user_id), uuid.UUID(chat.id))).one()
        return _with_row(chat, row)
