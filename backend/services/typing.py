"""Typing indicators: relayed live to the other members of a chat, and kept for a few seconds
(``TypingStore``, Redis keys with TTLs at scale) so a tab that opens the chat - on any process -
sees who is typing there right now."""

from __future__ import annotations

from datetime import datetime, timedelta

from backend.events import TypingChanged
from backend.ports import Bus, Clock, TypingStore
from backend.services.chats import ChatService

# How long an indicator lasts without news: clients re-send while typing (the web composer at
# most every 2 s) and let a silent typist's indicator lapse after as long.
TYPING_LAPSE = timedelta(seconds=3.5)


class TypingService:
    def __init__(self, chats: ChatService, typing: TypingStore, bus: Bus, clock: Clock) -> None:
        self._chats = chats
        self._typing = typing
        self._bus = bus
        self._clock = clock

    def set_typing(self, user_id: str, chat_id: str, is_typing: bool) -> None:
        """Tell the chat's other members that the caller is (or stopped) typing.

        Clients debounce and re-send while typing; receivers let the indicator lapse after
        ``TYPING_LAPSE`` without news, so a lost "stopped" costs nothing.

        Raises:
            NotFound: the chat does not exist or the caller is not a current member.
        """
        member_ids = self._chats.access_recipients(user_id, chat_id)
        if is_typing:
            self._typing.start(chat_id, user_id, self._clock(), TYPING_LAPSE)
        else:
            self._typing.stop(chat_id, user_id)
        others = [uid for uid in member_ids if uid != user_id]
        self._bus.publish(others, TypingChanged(chat_id, user_id, bool(is_typing)))

    def typing_now(self, viewer_id: str, chat_id: str) -> dict[str, datetime]:
        """Who (other than the viewer) is typing in the chat now, with when each indicator
        lapses unless renewed: for a tab that just opened the chat.

        Someone whose latest message came after their last typing news has finished typing
        (a message ends its sender's indicator, as it does live).

        Raises:
            NotFound: the chat does not exist or the viewer is not a current member.
        """
        chat = self._chats.access_chat_with_activity(viewer_id, chat_id)
        now = self._clock()
        typists = self._typing.typing_in(chat_id, now)
        sent = chat.last_activity_at
        return {
            user_id: until
            for user_id, until in typists.items()
            if user_id != viewer_id
            and not (
                user_id == chat.last_sender_id and sent is not None and sent >= until - TYPING_LAPSE
            )
        }
