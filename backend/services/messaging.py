"""Sending messages and reading history, always through the chat's access door."""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from typing import Any

from backend.content import is_media_content, media_content, preview_of, validate_content
from backend.errors import ChatError, InvalidInput, NotFound, RateLimited
from backend.events import MessageCreated
from backend.ids import is_temp_id, is_uuid, new_message_id
from backend.models import ChatActivity, Member, Message, MessagePage, Quote, Receipts
from backend.ports import Bus, ChatListStore, Clock, MessageStore, RateLimiter, UnreadCounter
from backend.services.chats import NOT_IN_CHAT, ChatService
from backend.services.media import MediaService
from backend.services.receipts import ReceiptService
from backend.settings import Settings

MAX_PAGE = 100


@dataclasses.dataclass(frozen=True)
class SendRequest:
    """One message a client asks to send, as it asked (checked by ``send_messages``)."""

    user_id: str
    chat_id: str
    content: Any
    temp_id: str = ""
    client_ip: str = ""
    reply_to: str = ""


SendOutcome = Message | ChatError
"""What became of one request of a batch: the stored message, or why it was refused."""


@dataclasses.dataclass(frozen=True)
class _Outgoing:
    """A request that passed every check, on its way to the store."""

    draft: Message
    member_ids: list[str]


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
        """Store a message and tell every member's devices about it (a batch of one of
        ``send_messages``).

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
        [outcome] = self.send_messages(
            [SendRequest(user_id, chat_id, content, temp_id, client_ip, reply_to)]
        )
        if isinstance(outcome, ChatError):
            raise outcome
        return outcome

    def send_messages(self, requests: Sequence[SendRequest]) -> list[SendOutcome]:
        """Send many messages at once (the API gateway's sockets, gathered over a moment): the
        one send path.

        Each request is checked on its own, in order, exactly as ``send_message`` describes -
        temp id, membership, media, content, reply, rate limit, idempotency - so a refused one
        costs only itself. Those that pass are stored in one write (their ids made inside it,
        in this order), then announced, then the senders' own read marks are moved in one more.

        Returns one outcome per request, in order: the stored message (the one already stored
        for a repeated temp id) or the ``ChatError`` that refused it.
        """
        doors = self._chats.access_recipients_many(
            {
                (r.user_id, r.chat_id)
                for r in requests
                if is_temp_id(r.temp_id) and isinstance(r.chat_id, str)
            }
        )
        checked: list[SendOutcome | _Outgoing] = []
        passed: set[tuple[str, str, str]] = set()  # (chat, sender, temp id) going to the store
        for request in requests:
            try:
                item = self._check(request, doors, passed)
            except ChatError as refused:
                checked.append(refused)
                continue
            checked.append(item)
            if isinstance(item, _Outgoing) and item.draft.temp_id:
                passed.add((item.draft.chat_id, item.draft.sender_id, item.draft.temp_id))
        outgoing = [item for item in checked if isinstance(item, _Outgoing)]
        stored = iter(self._store(outgoing))
        return [next(stored) if isinstance(item, _Outgoing) else item for item in checked]

    def _check(
        self,
        request: SendRequest,
        doors: dict[tuple[str, str], list[str] | NotFound],
        passed: set[tuple[str, str, str]],
    ) -> Message | _Outgoing:
        """Every rule of a send, for one request; a stored ``Message`` when the request is a
        resend to answer as it is. ``passed``: the temp ids of this batch already on their way
        to the store (a resend of one of those is answered with it, like a stored one)."""
        user_id, chat_id, content = request.user_id, request.chat_id, request.content
        temp_id = request.temp_id
        if not is_temp_id(temp_id):
            raise InvalidInput("The client message id is malformed.")
        member_ids = doors.get((user_id, chat_id)) if isinstance(chat_id, str) else None
        if member_ids is None or isinstance(member_ids, NotFound):
            raise member_ids or NotFound(NOT_IN_CHAT)
        if is_media_content(content) and self._media is not None:
            # A media message names an upload; its payload is what the server measured.
            media = self._media.message_content(user_id, chat_id, content)
            clean = media_content(media, content.get("caption"))
        else:
            clean = validate_content(content, self._settings.max_message_bytes)
        reply_to = request.reply_to
        quote = self._quote(user_id, chat_id, reply_to) if reply_to else None
        draft = Message(
            id="",
            chat_id=chat_id,
            sender_id=user_id,
            content=clean,
            created_at=self._clock(),
            temp_id=temp_id,
            quote=quote,
        )
        try:
            self._check_send_rate(user_id, request.client_ip)
        except RateLimited:
            # A resend after a lost ack is not a new message: answer it, don't refuse it.
            if temp_id and (chat_id, user_id, temp_id) in passed:
                return _Outgoing(draft, member_ids)  # the store answers the first
            stored = self._messages.find_sent(chat_id, user_id, temp_id) if temp_id else None
            if stored is None:
                raise
            return stored
        return _Outgoing(draft, member_ids)

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
        [outcome] = self._store([_Outgoing(draft, [m.user_id for m in members])])
        if isinstance(outcome, ChatError):
            raise outcome
        return outcome

    def _store(self, outgoing: list[_Outgoing]) -> list[SendOutcome]:
        """Store checked messages in one write, then tell the chats about them."""
        if not outgoing:
            return []
        drafts = [item.draft for item in outgoing]
        stored: list[tuple[Message, bool] | ChatError]
        try:
            stored = list(self._messages.add_messages(drafts, new_message_id))
        except ChatError:
            # The store cannot take one of them (e.g. a reply where replies are not available):
            # one by one, so the refusal lands on that one alone.
            stored = [self._store_alone(draft) for draft in drafts]
        sent = [
            (item, message, is_new)
            for item, outcome in zip(outgoing, stored, strict=True)
            if not isinstance(outcome, ChatError)
            for message, is_new in [outcome]
        ]
        if self._media is not None:
            for _, message, _ in sent:  # before anyone hears of a file they could not fetch yet
                self._media.record_carried(message)
        # The chat list shows each chat's newest message (it only ever moves forward).
        newest: dict[str, tuple[_Outgoing, Message]] = {}
        for item, message, _ in sent:
            if message.chat_id not in newest or message.id > newest[message.chat_id][1].id:
                newest[message.chat_id] = (item, message)
        self._chat_list.record_activities(
            [
                ChatActivity(
                    m.chat_id,
                    m.id,
                    m.created_at,
                    preview_of(m.content),
                    m.sender_id,
                    tuple(item.member_ids),
                )
                for item, m in newest.values()
            ]
        )
        announced: set[str] = set()
        for item, message, is_new in sent:
            if message.id in announced:  # a temp id repeated inside the batch
                continue
            announced.add(message.id)
            # Recipients first, the sender's own devices last: theirs is the latency that counts.
            sender = message.sender_id
            recipients = [uid for uid in item.member_ids if uid != sender] + [sender]
            if is_new:  # a resend is the same message: it counts once
                self._unread.message_stored(message, recipients)
            self._bus.publish(recipients, MessageCreated(message.chat_id, message))
        # Writing in a chat means the writer has seen it up to here (WhatsApp does the same):
        # each sender's newest message per chat.
        read_upto: dict[tuple[str, str], str] = {}
        for _, message, _ in sent:
            key = (message.sender_id, message.chat_id)
            read_upto[key] = max(read_upto.get(key, ""), message.id)
        self._receipts.record_own_messages(
            [(user_id, chat_id, upto) for (user_id, chat_id), upto in read_upto.items()]
        )
        return [outcome if isinstance(outcome, ChatError) else outcome[0] for outcome in stored]

    def _store_alone(self, draft: Message) -> tuple[Message, bool] | ChatError:
        try:
            return self._messages.add_message(draft, new_message_id)
        except ChatError as refused:
            return refused

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
