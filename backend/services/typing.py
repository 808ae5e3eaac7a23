"""Typing indicators: relayed to the other members of a chat, never stored."""

from __future__ import annotations

from backend.events import TypingChanged
from backend.ports import Bus
from backend.services.chats import ChatService


class TypingService:
    def __init__(self, chats: ChatService, bus: Bus) -> None:
        self._chats = chats
        self._bus = bus

    def set_typing(self, user_id: str, chat_id: str, is_typing: bool) -> None:
        """Tell the chat's other members that the caller is (or stopped) typing.

        Clients debounce and re-send while typing; receivers let the indicator lapse after a
        few seconds without news, so a lost "stopped" costs nothing.
        """
        member_ids = self._chats.access_recipients(user_id, chat_id)
        others = [uid for uid in member_ids if uid != user_id]
        self._bus.publish(others, TypingChanged(chat_id, user_id, bool(is_typing)))
