"""Message actions on Cassandra: edits, tombstones, reactions, stars and delete-for-me.

The scale-out twin of ``adapters/sql/message_actions.py``, with the same answers (the contract
suite runs both). Cassandra has no multi-partition transactions, so each action is built from
single-partition steps ordered so that a crash between them leaves nothing a reader can see
wrong, or something the user's retry of the same action repairs:

- **The message row's words change only by lightweight transaction** once it is written: an
  edit and a delete are ``IF created_us != null AND deleted_us = null`` (a delete racing an
  edit cannot let the edit's words back in; a second delete is not applied, so it answers
  None; the delete empties the reactions map in the same transaction), and so is every
  rewrite of a reply's quote: ``IF quote_at <= version``, where an edit's version is its time
  and a delete's the largest bigint. A quote that says "deleted" is final, and a late edit's
  requote can never bring words back. (Reactions are map elements of the same row, written
  without Paxos: other cells than the ones the conditions read.) The row's first write, the
  send, is a plain insert with the client's timestamp: a transaction landing on it sooner than
  the clock skew between client and coordinator could lose to it, where edits and deletes
  come seconds later.
- **Quotes never lag behind their original**: the replies (found in ``replies_by_original``,
  one partition) are requoted *before* the original's own transaction, and once more after it
  for replies sent meanwhile. A crash in between leaves the replies ahead (a quote says
  "deleted" while the original still shows), which the sender's retry completes - the service
  calls the store again because the original is unchanged. LWTs on one partition contend for
  its Paxos state, so the replies of one day partition are rewritten one after another (the
  partitions in parallel).
- **Clean-up after a delete is one logged batch** (every user's star, the reply rows): the
  batch log applies all of it or none, eventually. It runs after the tombstone, and readers
  never show a tombstone's reactions or list it as starred, so a crash before it shows
  nothing wrong.
- **Per-user state (reactions, stars, hiding) is read, then written** - a logged batch where
  two tables change together (a star and its reverse row; a hide and the star it removes).
  Two devices of one user acting at the same instant can both answer "changed" (one event
  too many; the state converges), which is cheaper than a Paxos round on the message's
  partition, shared by every message of the chat's day.
- **The chat list's preview** is the chat list's (``ChatListStore.refresh_preview``: the
  chat's SQL row, or every member's ``chats_by_user`` row), written after the message: an
  edit and a delete of the same message racing from two devices can leave the edited text
  there until the chat's next message.

Nothing here writes a search index: indexing wraps this port in the container.
"""

from __future__ import annotations

import dataclasses
import itertools
import uuid
from collections.abc import Iterable
from datetime import datetime
from typing import Any

from cassandra import ConsistencyLevel
from cassandra.cluster import Session
from cassandra.query import BatchStatement, BatchType

from backend.adapters.cassandra.rows import (
    DELETED_QUOTE_AT,
    MessageReader,
    bucket_of,
    dump_quote,
    micros,
    prepare,
)
from backend.content import dump_content, preview_of
from backend.models import Message, Quote
from backend.ports import ChatListStore

TOMBSTONE = {"type": "deleted"}
_ROW = "WHERE chat_id = ? AND bucket = ? AND message_id = ?"


class CassandraMessageActionStore:
    def __init__(self, session: Session, chats: ChatListStore) -> None:
        self._session = session
        self._chats = chats
        self._reader = MessageReader(session)
        live = "IF created_us != null AND deleted_us = null"
        self._edit = prepare(
            session,
            f"UPDATE messages SET content = ?, content_type = ?, edited_us = ? {_ROW} {live}",
        )
        self._tombstone = prepare(
            session,
            "UPDATE messages SET content = ?, content_type = 'deleted', deleted_us = ?, "
            f"edited_us = null, quote = null, quote_at = {DELETED_QUOTE_AT}, forwarded = false, "
            "reactions = null "
            f"{_ROW} {live}",
        )
        self._requote_row = prepare(
            session, f"UPDATE messages SET quote = ?, quote_at = ? {_ROW} IF quote_at <= ?"
        )
        self._replies_of = prepare(
            session, "SELECT reply_id FROM replies_by_original WHERE original_id = ?"
        )
        self._drop_reply = prepare(
            session,
            "DELETE FROM replies_by_original WHERE original_id = ? AND reply_id = ?",
            serial=False,
        )
        self._drop_replies = prepare(
            session, "DELETE FROM replies_by_original WHERE original_id = ?", serial=False
        )
        # Reactions: one element of the message row's map per user
        self._reactions_of = prepare(session, f"SELECT reactions FROM messages {_ROW}")
        self._put_reaction = prepare(
            session, f"UPDATE messages SET reactions[?] = ? {_ROW}", serial=False
        )
        self._drop_reaction = prepare(
            session, f"DELETE reactions[?] FROM messages {_ROW}", serial=False
        )
        # Stars
        self._star_of = prepare(
            session, "SELECT message_id FROM starred_by_user WHERE user_id = ? AND message_id = ?"
        )
        self._put_star = prepare(
            session,
            "INSERT INTO starred_by_user (user_id, message_id, chat_id, starred_us) "
            "VALUES (?, ?, ?, ?)",
            serial=False,
        )
        self._put_starrer = prepare(
            session,
            "INSERT INTO stars_by_message (message_id, user_id) VALUES (?, ?)",
            serial=False,
        )
        self._drop_star = prepare(
            session,
            "DELETE FROM starred_by_user WHERE user_id = ? AND message_id = ?",
            serial=False,
        )
        self._drop_starrer = prepare(
            session,
            "DELETE FROM stars_by_message WHERE message_id = ? AND user_id = ?",
            serial=False,
        )
        self._starrers = prepare(
            session, "SELECT user_id FROM stars_by_message WHERE message_id = ?"
        )
        self._drop_starrers = prepare(
            session, "DELETE FROM stars_by_message WHERE message_id = ?", serial=False
        )
        starred = "SELECT message_id, chat_id FROM starred_by_user WHERE user_id = ?"
        self._starred_newest = prepare(session, f"{starred} LIMIT ?")
        self._starred_before = prepare(session, f"{starred} AND message_id < ? LIMIT ?")
        self._starred_among = prepare(
            session,
            "SELECT message_id FROM starred_by_user WHERE user_id = ? AND message_id IN ?",
        )
        # Delete for me
        self._hidden_of = prepare(
            session,
            "SELECT message_id FROM hidden_by_chat "
            "WHERE user_id = ? AND chat_id = ? AND message_id = ?",
        )
        self._put_hidden = prepare(
            session,
            "INSERT INTO hidden_by_chat (user_id, chat_id, message_id, hidden_us) "
            "VALUES (?, ?, ?, ?)",
            serial=False,
        )

    # --- edit and delete for everyone --------------------------------------------------------

    def edit_message(
        self, message_id: str, content: dict[str, Any], at: datetime
    ) -> tuple[Message, list[Message]] | None:
        found = self._live(message_id)
        if found is None:
            return None
        chat, original = found
        preview = preview_of(content)
        quote = Quote(original.id, original.sender_id, preview)
        version = micros(at)
        requoted, seen = self._requote(chat, original.id, quote, version)
        edited = self._session.execute(
            self._edit,
            (
                dump_content(content),
                str(content.get("type", "")),
                version,
                chat,
                bucket_of(message_id),
                message_id,
            ),
        ).one()
        if not edited.applied:
            return None  # deleted meanwhile: its requote outranks ours
        requoted.update(self._requote(chat, original.id, quote, version, skip=seen)[0])
        message = self._reader.read(chat, message_id)
        if message is None:  # cannot happen: the transaction above found the row
            raise RuntimeError(f"edited message {message_id} vanished")
        self._chats.refresh_preview(message.chat_id, message.id, preview)
        return message, [requoted[i] for i in sorted(requoted)]

    def delete_message(self, message_id: str, at: datetime) -> tuple[Message, list[Message]] | None:
        found = self._live(message_id)
        if found is None:
            return None
        chat, original = found
        bucket = bucket_of(message_id)
        quote = Quote(original.id, original.sender_id, "", deleted=True)
        requoted, seen = self._requote(chat, original.id, quote, DELETED_QUOTE_AT)
        deleted = self._session.execute(
            self._tombstone, (dump_content(TOMBSTONE), micros(at), chat, bucket, message_id)
        ).one()
        if not deleted.applied:
            return None  # another device's delete won
        requoted.update(self._requote(chat, original.id, quote, DELETED_QUOTE_AT, skip=seen)[0])
        self._clean_up_after_delete(chat, original)
        tombstone = self._reader.read(chat, message_id)
        if tombstone is None:
            raise RuntimeError(f"deleted message {message_id} vanished")
        self._chats.refresh_preview(tombstone.chat_id, tombstone.id, "")
        return tombstone, [requoted[i] for i in sorted(requoted)]

    def _live(self, message_id: str) -> tuple[uuid.UUID, Message] | None:
        chat = self._reader.chat_of(message_id)
        message = self._reader.read(chat, message_id) if chat else None
        if chat is None or message is None or message.deleted_at is not None:
            return None
        return chat, message

    def _requote(
        self,
        chat: uuid.UUID,
        original_id: str,
        quote: Quote,
        version: int,
        skip: Iterable[str] = (),
    ) -> tuple[dict[str, Message], set[str]]:
        """Rewrite the quote in the live replies to ``original_id`` (not those in ``skip``);
        the replies whose quote this changed, by id, and every reply id looked at."""
        skipped = set(skip)
        reply_ids = [
            row.reply_id
            for row in self._session.execute(self._replies_of, (original_id,))
            if row.reply_id not in skipped
        ]
        replies = self._reader.read_many((chat, reply_id) for reply_id in reply_ids)
        by_day: dict[str, list[Message]] = {}
        for reply in replies.values():
            if reply.deleted_at is None and reply.quote and reply.quote.message_id == original_id:
                by_day.setdefault(bucket_of(reply.id), []).append(reply)
        changed: dict[str, Message] = {}
        raw = dump_quote(quote)
        # One reply per day partition at a time (their LWTs would contend), partitions at once.
        for wave in itertools.zip_longest(*by_day.values()):
            futures = [
                (
                    reply,
                    self._session.execute_async(
                        self._requote_row,
                        (raw, version, chat, bucket_of(reply.id), reply.id, version),
                    ),
                )
                for reply in wave
                if reply is not None
            ]
            for reply, future in futures:
                if future.result().one().applied:
                    changed[reply.id] = dataclasses.replace(reply, quote=quote)
        return changed, set(reply_ids)

    def _clean_up_after_delete(self, chat: uuid.UUID, message: Message) -> None:
        """Stars and reply rows of a tombstone, in one logged batch (its reactions went with
        the tombstone's own transaction)."""
        starrers = [row.user_id for row in self._session.execute(self._starrers, (message.id,))]
        batch = _logged_batch()
        for user in starrers:
            batch.add(self._drop_star, (user, message.id))
        batch.add(self._drop_starrers, (message.id,))
        batch.add(self._drop_replies, (message.id,))  # its replies' quotes are final now
        if message.quote is not None:
            batch.add(self._drop_reply, (message.quote.message_id, message.id))
        self._session.execute(batch)

    # --- reactions ---------------------------------------------------------------------------

    def set_reaction(
        self, message_id: str, chat_id: str, user_id: str, emoji: str, at: datetime
    ) -> bool:
        user = uuid.UUID(user_id)
        row_key = (uuid.UUID(chat_id), bucket_of(message_id), message_id)
        row = self._session.execute(self._reactions_of, row_key).one()
        current = (row.reactions or {}).get(user) if row is not None else None
        if not emoji:
            if current is None:
                return False
            self._session.execute(self._drop_reaction, (user, *row_key))
            return True
        if current is not None and current[0] == emoji:
            return False
        self._session.execute(self._put_reaction, (user, (emoji, micros(at)), *row_key))
        return True

    # --- stars -------------------------------------------------------------------------------

    def set_star(self, user_id: str, message: Message, starred: bool, at: datetime) -> bool:
        user = uuid.UUID(user_id)
        was_starred = self._session.execute(self._star_of, (user, message.id)).one() is not None
        if was_starred == starred:
            return False
        batch = _logged_batch()
        if starred:
            batch.add(self._put_star, (user, message.id, uuid.UUID(message.chat_id), micros(at)))
            batch.add(self._put_starrer, (message.id, user))
        else:
            batch.add(self._drop_star, (user, message.id))
            batch.add(self._drop_starrer, (message.id, user))
        self._session.execute(batch)
        return True

    def list_starred(self, user_id: str, before: str, limit: int) -> list[Message]:
        """Reads the user's star rows (one partition, newest id first), then their messages in
        parallel; a star left on a tombstone by an interrupted delete is passed over."""
        user = uuid.UUID(user_id)
        found: list[Message] = []
        cursor = before
        while len(found) < limit:
            want = limit - len(found)
            rows = list(
                self._session.execute(self._starred_before, (user, cursor, want))
                if cursor
                else self._session.execute(self._starred_newest, (user, want))
            )
            messages = self._reader.read_many((row.chat_id, row.message_id) for row in rows)
            found += [
                messages[row.message_id]
                for row in rows
                if row.message_id in messages and messages[row.message_id].deleted_at is None
            ]
            if len(rows) < want:
                break
            cursor = rows[-1].message_id
        return found

    def starred_among(self, user_id: str, message_ids: list[str]) -> set[str]:
        if not message_ids:
            return set()
        rows = self._session.execute(
            self._starred_among, (uuid.UUID(user_id), list(dict.fromkeys(message_ids)))
        )
        return {row.message_id for row in rows}

    # --- delete for me -----------------------------------------------------------------------

    def hide_message(self, user_id: str, message: Message, at: datetime) -> bool:
        user, chat = uuid.UUID(user_id), uuid.UUID(message.chat_id)
        was_visible = self._session.execute(self._hidden_of, (user, chat, message.id)).one() is None
        batch = _logged_batch()
        if was_visible:
            batch.add(self._put_hidden, (user, chat, message.id, micros(at)))
        # Gone for this user: so is their star on it.
        batch.add(self._drop_star, (user, message.id))
        batch.add(self._drop_starrer, (message.id, user))
        self._session.execute(batch)
        return was_visible

    def is_hidden(self, user_id: str, message_id: str) -> bool:
        chat = self._reader.chat_of(message_id)
        if chat is None:
            return False
        row = self._session.execute(self._hidden_of, (uuid.UUID(user_id), chat, message_id))
        return row.one() is not None


def _logged_batch() -> BatchStatement:
    return BatchStatement(
        batch_type=BatchType.LOGGED, consistency_level=ConsistencyLevel.LOCAL_QUORUM
    )
