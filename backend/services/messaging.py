"""Sending messages and reading history, always through the chat's access door."""

from __future__ import annotations

from typing import Any

from backend.content import is_media_content, media_content, preview_of, validate_content
from backend.errors import InvalidInput, RateLimited
from backend.events import MessageCreated
from backend.ids import is_uuid, new_message_id
from backend.models import Member, Message, MessagePage, Quote, Receipts
from backend.ports import Bus, ChatListStore, Clock, MessageStore, RateLimiter, UnreadCounter
from backend.services.chats import ChatService
from backend.services.media import MediaService
from backend.services.receipts import ReceiptService
from backend.settings import Settings

MAX_TEMP_ID = 64
MAX_PAGE = 100


class MessagingService:
    def __init__(
        self,
        settings: Settings,
        chats: ChatService,
        chat_list: ChatListStore,
        messages: MessageStore,
        receipts: ReceiptService,
        limiter: RateLimiter,
        bus: Bus,
        clock: Clock,
        unread: UnreadCounter,
        media: MediaService | None = None,
    ) -> None:
        self._settings = settings
        self._unread = unread
        self._media = media
        self._limiter = limiter
        self._chats = chats
        self._receipts = receipts
        self._chat_list = chat_list
        self._messages = messages
        self._bus = bus
        self._clock = clock

    def send_message(
        self,
        user_id: str,
        chat_id: str,
        content: Any,
        temp_id: str = "",
        client_ip: str = "",
        reply_to: str = "",
    ) -> Message:
        """Store a message and tell every member's devices about it.

        The message is stored before anyone hears of it; its id is assigned here and sorts in
        the server's order. Sending again with the same ``temp_id`` returns the stored message
        (and re-announces it: delivery is at-least-once, receivers de-duplicate by id).
        ``reply_to`` names a message of the same chat to quote (its sender and a preview).

        Raises:
            NotFound: the chat does not exist or the caller is not a member.
            InvalidInput / TooLarge: empty, malformed or oversized content, or a ``reply_to``
                that is not a live message of this chat the caller can read.
            RateLimited: too many sends from this user or IP in the last minute.
        """
        if not isinstance(temp_id, str) or len(temp_id) > MAX_TEMP_ID:
            raise InvalidInput("The client message id is malformed.")
        _, member_ids = self._chats.access_recipients(user_id, chat_id)
        media = None
        if is_media_content(content) and self._media is not None:
            # A media message names an upload; its payload is what the server measured.
            media = self._media.message_content(user_id, chat_id, content)
            clean = media_content(media, content.get("caption"))
        else:
            clean = validate_content(content, self._settings.max_message_bytes)
        quote = self._quote(user_id, chat_id, reply_to) if reply_to else None
        try:
            self._check_send_rate(user_id, client_ip)
        except RateLimited:
            # A resend after a lost ack is not a new message: answer it, don't refuse it.
            stored = self._messages.find_sent(chat_id, user_id, temp_id) if temp_id else None
            if stored is None:
                raise
            return stored
        draft = Message(
            id="",
            chat_id=chat_id,
            sender_id=user_id,
            content=clean,
            created_at=self._clock(),
            temp_id=temp_id,
            quote=quote,
        )
        return self._store(user_id, member_ids, draft)

    def send_forwarded(
        self, user_id: str, members: list[Member], source: Message, client_ip: str = ""
    ) -> Message:
        """Store a copy of ``source`` marked forwarded in the chat of ``members``.

        Only for the message-actions service, which has checked that the caller may read the
        source and is among ``members``. The content is copied as stored: media travels by
        reference, nothing is uploaded again (the copy is recorded as carrying the file, so
        the target chat's readers may fetch it).
        """
        self._check_send_rate(user_id, client_ip)
        draft = Message(
            id="",
            chat_id=members[0].chat_id,
            sender_id=user_id,
            content=source.content,
            created_at=self._clock(),
            forwarded=True,
        )
        return self._store(user_id, [m.user_id for m in members], draft)

    def _store(self, user_id: str, member_ids: list[str], draft: Message) -> Message:
        message, is_new = self._messages.add_message(draft, new_message_id)
        if self._media is not None:  # before anyone hears of a file they could not fetch yet
            self._media.record_carried(message)
        chat_id = message.chat_id
        self._chat_list.record_activity(
            chat_id,
            message.id,
            message.created_at,
            preview_of(message.content),
            user_id,
            member_ids,
        )
        # Recipients first, the sender's own devices last: theirs is the latency that counts.
        recipients = [uid for uid in member_ids if uid != user_id] + [user_id]
        if is_new:  # a resend is the same message: it counts once
            self._unread.message_stored(message, recipients)
        self._bus.publish(recipients, MessageCreated(chat_id, message))
        # Writing in a chat means the writer has seen it up to here (WhatsApp does the same).
        self._receipts.record_own_message(user_id, chat_id, message.id)
        return message

    def post_system_line(
        self, actor_id: str, chat_id: str, content: dict[str, Any], recipients: list[str]
    ) -> Message:
        """Store a line about the chat itself ("Alice added Bob") and announce it.

        Only for services that have already checked the actor's right to the change; the line
        is written by the server, so it is not rate limited or validated as user input.
        """
        message, is_new = self._messages.add_message(
            Message(
                id="",
                chat_id=chat_id,
                sender_id=actor_id,
                content=content,
                created_at=self._clock(),
            ),
            new_message_id,
        )
        # No sender for the chat list: a line about the group is nobody's message to tick.
        self._chat_list.record_activity(
            chat_id, message.id, message.created_at, preview_of(message.content), "", recipients
        )
        if is_new:  # unread for everyone but the actor, as the store counts it
            self._unread.message_stored(message, recipients)
        self._bus.publish(recipients, MessageCreated(chat_id, message))
        return message

    def _quote(self, user_id: str, chat_id: str, reply_to: object) -> Quote:
        original = (
            self._messages.get_message(reply_to)
            if isinstance(reply_to, str) and is_uuid(reply_to)
            else None
        )
        if (
            original is None
            or original.chat_id != chat_id
            or original.deleted_at is not None
            or not self._chats.can_read(user_id, chat_id, original.id)
        ):
            raise InvalidInput("You can only reply to a message of this chat.")
        return Quote(original.id, original.sender_id, preview_of(original.content))

    def list_messages(
        self, user_id: str, chat_id: str, before: str = "", limit: int | None = None
    ) -> MessagePage:
        """A page of history older than ``before`` ("" for the newest), oldest first."""
        limit = self._clamp(limit)
        _, me, members = self._chats.access_history(user_id, chat_id)
        newest_first = self._messages.list_before(
            chat_id,
            before,
            limit + 1,
            viewer_id=user_id,
            lowest=me.visible_from,
            highest="" if me.is_active else me.visible_upto,
        )
        has_more = len(newest_first) > limit
        page = list(reversed(newest_first[:limit]))
        return MessagePage(
            messages=page,
            receipts=Receipts.of(members),  # the access check already read them
            next_cursor=page[0].id if page and has_more else "",
            has_more=has_more,
        )

    def list_messages_after(
        self, user_id: str, chat_id: str, after: str, limit: int | None = None
    ) -> MessagePage:
        """Messages newer than ``after``, oldest first: catching up after a reconnect."""
        limit = self._clamp(limit)
        _, me, members = self._chats.access_history(user_id, chat_id)
        found = self._messages.list_after(
            chat_id,
            after,
            limit + 1,
            viewer_id=user_id,
            lowest=me.visible_from,
            highest="" if me.is_active else me.visible_upto,
        )
        has_more = len(found) > limit
        page = found[:limit]
        return MessagePage(
            messages=page,
            receipts=Receipts.of(members),  # the access check already read them
            next_cursor=page[-1].id if page and has_more else "",
            has_more=has_more,
        )

    def _check_send_rate(self, user_id: str, client_ip: str) -> None:
        settings = self._settings
        keys = {f"send:user:{user_id}": settings.sends_per_user}
        if client_ip:
            keys[f"send:ip:{client_ip}"] = settings.sends_per_ip
        window = settings.send_window
        wait = max(self._limiter.retry_after(k, n, window) for k, n in keys.items())
        if wait:
            raise RateLimited("You're sending too fast. Wait a moment.", retry_after=wait)
        for key in keys:
            self._limiter.hit(key, window)

    def _clamp(self, limit: int | None) -> int:
        if limit is None:
            return self._settings.page_size
        if not isinstance(limit, int) or limit < 1:
            raise InvalidInput("The page size must be a positive number.")
        return min(limit, MAX_PAGE)
