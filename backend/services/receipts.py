"""Delivery and read receipts, kept as per-member watermarks and announced to the chat."""

from __future__ import annotations

from datetime import datetime

from backend.errors import NotFound
from backend.events import ReceiptsChanged
from backend.ids import is_uuid
from backend.models import Member, MemberReceipt, Receipts
from backend.ports import Bus, ChatListStore, ChatStore, Clock, UnreadCounter
from backend.services.chats import ChatService


class ReceiptService:
    def __init__(
        self,
        chats: ChatService,
        chat_store: ChatStore,
        chat_list: ChatListStore,
        bus: Bus,
        clock: Clock,
        unread: UnreadCounter,
    ) -> None:
        self._chats = chats
        self._chat_store = chat_store
        self._chat_list = chat_list
        self._bus = bus
        self._clock = clock
        self._unread = unread

    def mark_delivered(self, user_id: str, chat_id: str, upto: str = "") -> None:
        """The caller's device has received the chat's messages up to ``upto`` ("" = all)."""
        self._advance(user_id, chat_id, upto, read=False)

    def mark_read(self, user_id: str, chat_id: str, upto: str = "") -> None:
        """The caller has seen the chat's messages up to ``upto`` ("" = all)."""
        self._advance(user_id, chat_id, upto, read=True)

    def mark_all_delivered(self, user_id: str) -> None:
        """A device of the caller came online and fetched everything: all of it is delivered."""
        for chat, me in self._chat_list.list_user_chats(user_id):
            if chat.last_message_id > me.delivered_upto:
                self._advance(user_id, chat.id, chat.last_message_id, read=False)

    def record_own_message(self, user_id: str, chat_id: str, message_id: str) -> None:
        """The sender of ``message_id`` has (obviously) seen the chat up to it.

        Only for the messaging service, which has already checked membership. Announced only
        when it moves the chat's aggregate (a reply that reads the other side's messages), so
        an ordinary send costs no extra event.
        """
        self._move(user_id, chat_id, message_id, read=True, only_if_aggregate_moves=True)

    def message_info(self, user_id: str, chat_id: str, message_id: str) -> list[MemberReceipt]:
        """Who of the members has received and read one message, and when ("message info" in
        WhatsApp), leaving out the one asking (usually its sender). Someone who left a group
        sees it as it stood when they left: those members, and nothing done after."""
        _, me, _ = self._chats.access_history(user_id, chat_id)
        if not is_uuid(message_id) or not me.can_see(message_id):
            raise NotFound("No such message.")
        times = self._chat_store.receipt_times(chat_id, message_id)
        gone_at = me.left_at

        def known(at: datetime | None) -> datetime | None:
            return at if at is None or gone_at is None or at <= gone_at else None

        info = []
        for m, user in self._chats.members(user_id, chat_id):
            if m.user_id == user_id or m.visible_from > message_id:
                continue  # joined after it was sent: it was never theirs to receive
            delivered, read = times.get(m.user_id, (None, None))
            if m.delivered_upto < message_id:
                delivered = None
            if m.read_upto < message_id:
                read = None
            info.append(MemberReceipt(user, known(delivered), known(read)))
        return info

    def _advance(self, user_id: str, chat_id: str, upto: str, *, read: bool) -> None:
        chat, me = self._chats.access_membership(user_id, chat_id)
        # A watermark never passes the chat's newest message (or, for someone who left a
        # group, the last one they were shown), whatever the client claims.
        if me.is_active:
            newest = self._chat_list.with_activity(user_id, chat).last_message_id
        else:
            newest = me.visible_upto
        if not upto or not is_uuid(upto) or upto > newest:
            upto = newest
        if not upto:
            return
        if me.is_active:
            self._move(user_id, chat_id, upto, read=read)
        else:
            self._move_former(me, upto, read=read)

    def _move_former(self, me: Member, upto: str, *, read: bool) -> None:
        """Someone who left a group reads what they kept: only their own devices hear of it,
        and the group's ticks they are told stop at their last line, so nothing about later
        messages (not even an id) reaches them. The group is not told: they no longer count
        for its ticks."""
        result = self._chat_store.advance_receipts(
            me.chat_id,
            me.user_id,
            delivered_upto=upto,
            read_upto=upto if read else "",
            at=self._clock(),
        )
        if result is None:
            return
        if read:
            self._unread.read_moved(me.user_id, me.chat_id)
        moved, _, group = result
        self._bus.publish(
            [me.user_id],
            ReceiptsChanged(
                chat_id=me.chat_id,
                user_id=me.user_id,
                delivered_upto=moved.delivered_upto,
                read_upto=moved.read_upto,
                chat_receipts=Receipts(
                    delivered_upto=min(group.delivered_upto, me.visible_upto),
                    read_upto=min(group.read_upto, me.visible_upto),
                ),
            ),
        )

    def _move(
        self,
        user_id: str,
        chat_id: str,
        upto: str,
        *,
        read: bool,
        only_if_aggregate_moves: bool = False,
    ) -> None:
        result = self._chat_store.advance_receipts(
            chat_id, user_id, delivered_upto=upto, read_upto=upto if read else "", at=self._clock()
        )
        if result is None:
            return
        if read and not only_if_aggregate_moves:
            # (A sender's own message moved it: ``message_stored`` dropped their counter.)
            self._unread.read_moved(user_id, chat_id)
        # The aggregate as stored around the move, not from a snapshot read earlier: other
        # members' watermarks may have moved meanwhile (API requests run in threads).
        moved, before, after = result
        if after != before:
            recipients = self._chat_store.current_member_ids(chat_id)
        elif only_if_aggregate_moves:
            return
        else:
            # Nobody's ticks changed: only this member's own devices need to hear (unread
            # counts). In a group of 256 this is one event per receipt instead of 256.
            recipients = [user_id]
        self._bus.publish(
            recipients,
            ReceiptsChanged(
                chat_id=chat_id,
                user_id=user_id,
                delivered_upto=moved.delivered_upto,
                read_upto=moved.read_upto,
                chat_receipts=after,
            ),
        )
