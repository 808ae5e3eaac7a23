"""Unread counts with no copy at all: the message store counts them on every read.

The embedded default (and the truth every other ``UnreadCounter`` must agree with): one
query per chat list, over the chats that have anything after the member's read watermark.
"""

from __future__ import annotations

from backend.models import Message, UnreadSpan
from backend.ports import MessageStore


class StoreCountedUnread:
    def __init__(self, messages: MessageStore) -> None:
        self._messages = messages

    def unread_counts(self, user_id: str, spans: list[UnreadSpan]) -> dict[str, int]:
        return self._messages.count_unread(
            user_id,
            {s.chat_id: s.read_upto for s in spans},
            {s.chat_id: s.visible_upto for s in spans if s.visible_upto},
        )

    def message_stored(self, message: Message, recipient_ids: list[str]) -> None:
        """Nothing to keep: the store already holds the message."""

    def read_moved(self, user_id: str, chat_id: str) -> None:
        """Nothing to keep: the store already holds the watermark."""
