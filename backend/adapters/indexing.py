"""A search index that follows a message store without transactions (Cassandra).

With messages in SQL the index is written inside each message write. Cassandra has no
transactions that could span the SQL index, so these wrappers implement ``MessageStore`` and
``MessageActionStore`` by delegating to the real store and then changing the index: a new
message is added, an edit replaces the words, a delete for everyone removes them.

**What that weakens**: the index follows *just after* the store's write, not with it. For a
moment after a send its message is stored but not yet findable, and an edit's old words can
still be matched; search reads every hit back from the store and drops any whose message is
gone, deleted, hidden for the viewer or no longer holds the words (``search_pages``), so stale
words are never *shown*, only missed ones can happen.

**If the process dies between the two writes**:

- a send: the message is stored, not indexed. The client never got its ack, so it sends again
  with the same temp id; the store answers with the stored message and ``put`` indexes it then
  (it indexes only what is absent). A message whose client never re-sends stays unfindable: a
  journal row per send would cost every send a SQL write.
- an edit or a delete: each is noted in ``search_backlog`` before the store's write and cleared
  after the index's. Rows older than ``SETTLE`` are replayed from the store - the message as it
  is now replaces its index row, or removes it - when a process starts (``recover``, called by
  the container) and at most once a ``SETTLE`` from later edits and deletes. (Younger rows may
  belong to a write still in progress, whose own index change is on its way.)
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from datetime import datetime, timedelta
from typing import Any, Protocol, TypeVar

from backend.adapters.sql.search_backlog import SqlSearchBacklog
from backend.errors import ChatError
from backend.models import Message
from backend.ports import Clock, MessageActionStore, MessageStore

SETTLE = timedelta(seconds=30)
T = TypeVar("T")


class IndexWriter(Protocol):
    """The index's own writes, each in its own transaction."""

    def put(self, message: Message) -> None:
        """Index the message's words unless it is indexed already (messages without words:
        nothing)."""

    def replace(self, message: Message) -> None:
        """The index now holds exactly the message's current words (none: it is removed)."""

    def remove(self, message_id: str) -> None: ...


class IndexingMessageStore:
    """A ``MessageStore`` whose new messages, and re-sends of them, reach the index."""

    def __init__(self, store: MessageStore, index: IndexWriter) -> None:
        self._store = store
        self._index = index

    def add_message(self, draft: Message, new_id: Callable[[], str]) -> tuple[Message, bool]:
        message, is_new = self._store.add_message(draft, new_id)
        # A re-send (is_new False) indexes too, if the first send died before it could; the
        # store answers with the message as it is now, so a deleted one adds no words.
        self._index.put(message)
        return message, is_new

    def add_messages(
        self, drafts: Sequence[Message], new_id: Callable[[], str]
    ) -> list[tuple[Message, bool]]:
        stored = self._store.add_messages(drafts, new_id)
        for message, _ in stored:  # (re-sends too, as above)
            self._index.put(message)
        return stored

    def find_sent(self, chat_id: str, sender_id: str, temp_id: str) -> Message | None:
        return self._store.find_sent(chat_id, sender_id, temp_id)

    def get_message(self, message_id: str) -> Message | None:
        return self._store.get_message(message_id)

    def list_before(
        self,
        chat_id: str,
        before: str,
        limit: int,
        viewer_id: str = "",
        lowest: str = "",
        highest: str = "",
    ) -> list[Message]:
        return self._store.list_before(chat_id, before, limit, viewer_id, lowest, highest)

    def list_after(
        self,
        chat_id: str,
        after: str,
        limit: int,
        viewer_id: str = "",
        lowest: str = "",
        highest: str = "",
    ) -> list[Message]:
        return self._store.list_after(chat_id, after, limit, viewer_id, lowest, highest)

    def count_unread(
        self,
        user_id: str,
        after_by_chat: dict[str, str],
        upto_by_chat: dict[str, str] | None = None,
    ) -> dict[str, int]:
        return self._store.count_unread(user_id, after_by_chat, upto_by_chat)


class IndexingMessageActionStore:
    """A ``MessageActionStore`` whose edits and deletes for everyone reach the index, through
    the backlog (module docstring)."""

    def __init__(
        self,
        actions: MessageActionStore,
        messages: MessageStore,
        index: IndexWriter,
        backlog: SqlSearchBacklog,
        clock: Clock,
    ) -> None:
        self._actions = actions
        self._messages = messages
        self._index = index
        self._backlog = backlog
        self._clock = clock
        self._next_recovery = clock() + SETTLE
        self._recovering = threading.Lock()

    def edit_message(
        self, message_id: str, content: dict[str, Any], at: datetime
    ) -> tuple[Message, list[Message]] | None:
        def follow(result: tuple[Message, list[Message]] | None) -> None:
            if result is None:  # deleted meanwhile: no words may stay
                self._index.remove(message_id)
            else:
                self._index.replace(result[0])

        return self._followed(
            message_id, lambda: self._actions.edit_message(message_id, content, at), follow
        )

    def delete_message(self, message_id: str, at: datetime) -> tuple[Message, list[Message]] | None:
        # Removed even when it already was a tombstone: that heals an index a crash left behind.
        return self._followed(
            message_id,
            lambda: self._actions.delete_message(message_id, at),
            lambda _result: self._index.remove(message_id),
        )

    def _followed(self, message_id: str, write: Callable[[], T], follow: Callable[[T], None]) -> T:
        self._backlog.note(message_id, self._clock())
        try:
            result = write()
        except ChatError:
            # A refusal (not found, not available...) wrote nothing: nothing to follow.
            self._backlog.clear(message_id)
            raise
        follow(result)
        self._backlog.clear(message_id)
        if self._clock() >= self._next_recovery:
            self.recover()
        return result

    def recover(self) -> int:
        """Replay the backlog rows older than ``SETTLE`` from the store; how many."""
        if not self._recovering.acquire(blocking=False):
            return 0  # another thread is at it
        try:
            now = self._clock()
            self._next_recovery = now + SETTLE
            replayed = 0
            for message_id in self._backlog.noted_before(now - SETTLE):
                message = self._messages.get_message(message_id)
                if message is None:
                    self._index.remove(message_id)
                else:  # (a tombstone has no words: replacing removes it)
                    self._index.replace(message)
                self._backlog.clear(message_id)
                replayed += 1
            return replayed
        finally:
            self._recovering.release()

    # --- the rest only delegates -------------------------------------------------------------

    def set_reaction(
        self, message_id: str, chat_id: str, user_id: str, emoji: str, at: datetime
    ) -> bool:
        return self._actions.set_reaction(message_id, chat_id, user_id, emoji, at)

    def set_star(self, user_id: str, message: Message, starred: bool, at: datetime) -> bool:
        return self._actions.set_star(user_id, message, starred, at)

    def list_starred(self, user_id: str, before: str, limit: int) -> list[Message]:
        return self._actions.list_starred(user_id, before, limit)

    def starred_among(self, user_id: str, message_ids: list[str]) -> set[str]:
        return self._actions.starred_among(user_id, message_ids)

    def hide_message(self, user_id: str, message: Message, at: datetime) -> bool:
        # Nothing to index: search asks the store whether a hit is hidden for its viewer.
        return self._actions.hide_message(user_id, message, at)

    def is_hidden(self, user_id: str, message_id: str) -> bool:
        return self._actions.is_hidden(user_id, message_id)
