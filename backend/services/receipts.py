"""Delivery and read receipts, kept as per-member watermarks and announced to the chat."""

from __future__ import annotations

from backend.events import ReceiptsChanged
from backend.ids import is_uuid
from backend.models import Member, Receipts
from backend.ports import Bus, ChatStore
from backend.services.chats import ChatService


class ReceiptService:
    def __init__(self, chats: ChatService, chat_store: ChatStore, bus: Bus) -> None:
        self._chats = chats
        self._chat_store = chat_store
        self._bus = bus

    def mark_delivered(self, user_id: str, chat_id: str, upto: str = "") -> None:
        """The caller's device has received the chat's messages up to ``upto`` ("" = all)."""
        self._advance(user_id, chat_id, upto, read=False)

    def mark_read(self, user_id: str, chat_id: str, upto: str = "") -> None:
        """The caller has seen the chat's messages up to ``upto`` ("" = all)."""
        self._advance(user_id, chat_id, upto, read=True)

    def mark_all_delivered(self, user_id: str) -> None:
        """A device of the caller came online and fetched everything: all of it is delivered."""
        for chat, me in self._chat_store.list_user_chats(user_id):
            if chat.last_message_id > me.delivered_upto:
                self._advance(user_id, chat.id, chat.last_message_id, read=False)

    def record_own_message(self, user_id: str, message_id: str, members: list[Member]) -> None:
        """The sender of ``message_id`` has (obviously) seen the chat up to it.

        Only for the messaging service, which has already checked membership and read the
        members. Announced only when it moves the chat's aggregate (a reply that reads the other
        side's messages), so an ordinary send costs no extra event.
        """
        self._move(user_id, message_id, members, read=True, only_if_aggregate_moves=True)

    def _advance(self, user_id: str, chat_id: str, upto: str, *, read: bool) -> None:
        chat, members = self._chats.access_chat_members(user_id, chat_id)
        # A watermark never passes the chat's newest message, whatever the client claims.
        if not upto or not is_uuid(upto) or upto > chat.last_message_id:
            upto = chat.last_message_id
        if upto:
            self._move(user_id, upto, members, read=read)

    def _move(
        self,
        user_id: str,
        upto: str,
        members: list[Member],
        *,
        read: bool,
        only_if_aggregate_moves: bool = False,
    ) -> None:
        chat_id = members[0].chat_id
        result = self._chat_store.advance_receipts(
            chat_id, user_id, delivered_upto=upto, read_upto=upto if read else ""
        )
        if result is None:
            return
        # The members as stored after the move, not the snapshot from before: other members'
        # watermarks may have moved meanwhile (API requests run in threads), and the aggregate
        # announced must include their moves.
        moved, current = result
        after = Receipts.of(current)
        if only_if_aggregate_moves and after == Receipts.of(members):
            return
        self._bus.publish(
            [m.user_id for m in current],
            ReceiptsChanged(
                chat_id=chat_id,
                user_id=user_id,
                delivered_upto=moved.delivered_upto,
                read_upto=moved.read_upto,
                chat_receipts=after,
            ),
        )
