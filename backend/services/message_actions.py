"""What a user does to a message once it is sent: react, star, forward, edit, delete (for
themselves or for everyone). Each action checks its own rule through the chat's one door, and
every change is announced after it is stored.

Rules (as on WhatsApp):
- reading (star, delete for me, forwarding *from*) needs the message inside the caller's
  readable ranges; changing what others see (react, edit, delete for everyone, forwarding)
  needs current membership of the chat;
- only the sender edits (within ``EDIT_WINDOW``) or deletes for everyone (within
  ``DELETE_WINDOW``); a deleted message is a tombstone nobody can act on, and deleting it
  again is a no-op that returns the tombstone;
- one reaction per user per message: reacting again with the same emoji removes it, with
  another replaces it.
"""

from __future__ import annotations

from datetime import timedelta

from backend.content import validate_content
from backend.emoji import reaction_emoji
from backend.errors import Forbidden, InvalidInput, NotFound
from backend.events import MessageHidden, MessageUpdated, StarChanged
from backend.ids import is_uuid
from backend.models import Member, Message
from backend.ports import Bus, Clock, MessageActionStore, MessageStore
from backend.services.chats import ChatService
from backend.services.media import MediaService
from backend.services.messaging import MessagingService
from backend.settings import Settings

EDIT_WINDOW = timedelta(minutes=15)
DELETE_WINDOW = timedelta(hours=1)
MAX_FORWARD_CHATS = 5  # WhatsApp's limit: forwarding is how chain messages spread
MAX_STARRED_PAGE = 100
NO_SUCH_MESSAGE = "This message doesn't exist or you can't see it."


class MessageActionService:
    def __init__(
        self,
        settings: Settings,
        chats: ChatService,
        messaging: MessagingService,
        messages: MessageStore,
        actions: MessageActionStore,
        bus: Bus,
        clock: Clock,
        media: MediaService | None = None,
    ) -> None:
        self._settings = settings
        self._media = media  # a message deleted for everyone takes its file's reach with it
        self._chats = chats
        self._messaging = messaging
        self._messages = messages
        self._actions = actions
        self._bus = bus
        self._clock = clock

    # --- the doors ---------------------------------------------------------------------------

    def _readable(self, user_id: str, message_id: str) -> Message:
        """The message if the caller may read it (and has not deleted it for themselves).

        Raises:
            NotFound: no such message, or one the caller may not know of: the same answer.
        """
        message = self._messages.get_message(message_id) if is_uuid(message_id) else None
        if (
            message is None
            or not self._chats.can_read(user_id, message.chat_id, message.id)
            or self._actions.is_hidden(user_id, message.id)
        ):
            raise NotFound(NO_SUCH_MESSAGE)
        return message

    def _as_member(self, user_id: str, message_id: str) -> tuple[Message, list[Member]]:
        """A readable message of a chat the caller is still in, and that chat's members."""
        message = self._readable(user_id, message_id)
        try:
            _, members = self._chats.access_chat_members(user_id, message.chat_id)
        except NotFound:
            raise NotFound(NO_SUCH_MESSAGE) from None
        return message, members

    @staticmethod
    def _live(message: Message) -> None:
        if message.deleted_at is not None:
            raise InvalidInput("This message was deleted.")

    # --- reactions ---------------------------------------------------------------------------

    def react(self, user_id: str, message_id: str, emoji: object) -> Message:
        """Set the caller's reaction (a quick reaction's name or any single emoji), replacing
        their previous one. Setting the one they already have changes nothing."""
        chosen = reaction_emoji(emoji)
        return self._set_reaction(user_id, message_id, chosen)

    def toggle_reaction(self, user_id: str, message_id: str, emoji: object) -> Message:
        """The menu's behaviour: the caller's current reaction again removes it."""
        chosen = reaction_emoji(emoji)
        message, _ = self._as_member(user_id, message_id)
        mine = next((r.emoji for r in message.reactions if r.user_id == user_id), "")
        return self._set_reaction(user_id, message_id, "" if mine == chosen else chosen)

    def unreact(self, user_id: str, message_id: str) -> Message:
        """Remove the caller's reaction (none is fine)."""
        return self._set_reaction(user_id, message_id, "")

    def _set_reaction(self, user_id: str, message_id: str, emoji: str) -> Message:
        message, members = self._as_member(user_id, message_id)
        self._live(message)
        changed = self._actions.set_reaction(
            message.id, message.chat_id, user_id, emoji, self._clock()
        )
        if not changed:
            return message
        updated = self._messages.get_message(message.id) or message
        self._announce(members, [updated])
        return updated

    # --- stars -------------------------------------------------------------------------------

    def star(self, user_id: str, message_id: str, starred: bool = True) -> None:
        """Star (or unstar) a message for the caller only; their devices are told."""
        message = self._readable(user_id, message_id)
        if starred:
            self._live(message)
        if self._actions.set_star(user_id, message, starred, self._clock()):
            self._bus.publish([user_id], StarChanged(message.chat_id, message.id, starred))

    def starred_among(self, user_id: str, message_ids: list[str]) -> set[str]:
        """Which of ``message_ids`` the caller starred (for showing a page of history); only
        ever the caller's own stars, so nothing about the ids is revealed."""
        return self._actions.starred_among(user_id, message_ids[:MAX_STARRED_PAGE])

    def list_starred(
        self, user_id: str, before: str = "", limit: int = 50
    ) -> tuple[list[Message], str]:
        """The caller's starred messages across chats, newest message first, and the cursor
        for the next page ("" at the end). Only messages they may still read are listed."""
        if not isinstance(limit, int) or limit < 1:
            raise InvalidInput("The page size must be a positive number.")
        if before and not is_uuid(before):
            raise InvalidInput("The cursor is not one this list gave.")
        limit = min(limit, MAX_STARRED_PAGE)
        ranges = self._chats.readable_ranges(user_id)
        found = self._actions.list_starred(user_id, before, limit + 1)
        more = len(found) > limit
        page = found[:limit]
        visible = [
            m for m in page if any(r.chat_id == m.chat_id and r.contains(m.id) for r in ranges)
        ]
        return visible, page[-1].id if more and page else ""

    # --- forwarding --------------------------------------------------------------------------

    def forward(
        self, user_id: str, message_id: str, chat_ids: object, client_ip: str = ""
    ) -> list[Message]:
        """Forward a message to one or several chats (each at most once), all or nothing: the
        caller must be a member of the source and of every target before anything is sent.

        Raises:
            NotFound: the message, or one of the target chats, is not the caller's to use.
            InvalidInput: no targets, too many, or a deleted message.
        """
        if (
            not isinstance(chat_ids, list)
            or not chat_ids
            or not all(isinstance(c, str) for c in chat_ids)
        ):
            raise InvalidInput("Choose at least one chat to forward to.")
        targets = list(dict.fromkeys(chat_ids))
        if len(targets) > MAX_FORWARD_CHATS:
            raise InvalidInput(
                f"You can forward to at most {MAX_FORWARD_CHATS} chats at once.",
                limit=MAX_FORWARD_CHATS,
            )
        source, _ = self._as_member(user_id, message_id)
        self._live(source)
        memberships = [self._chats.access_chat_members(user_id, c)[1] for c in targets]
        return [
            self._messaging.send_forwarded(user_id, members, source, client_ip)
            for members in memberships
        ]

    # --- edit and delete ---------------------------------------------------------------------

    def edit(self, user_id: str, message_id: str, content: object) -> Message:
        """Change the text of one's own message within ``EDIT_WINDOW``; it shows "edited".

        Raises:
            NotFound: not a message the caller can see.
            InvalidInput: someone else's message, too late, deleted, not text, or bad content.
        """
        message, members = self._as_member(user_id, message_id)
        self._own_within(user_id, message, EDIT_WINDOW, "edit")
        if message.content.get("type") != "text":
            raise InvalidInput("Only text messages can be edited.")
        clean = validate_content(content, self._settings.max_message_bytes)
        if clean == message.content:
            return message
        result = self._actions.edit_message(message.id, clean, self._clock())
        if result is None:
            raise InvalidInput("This message was deleted.")
        edited, replies = result
        self._announce(members, [edited, *replies])
        return edited

    def delete_for_everyone(self, user_id: str, message_id: str) -> Message:
        """Replace one's own message with "This message was deleted" for every member, within
        ``DELETE_WINDOW``. Deleting a tombstone again changes nothing and returns it.

        A file the message carried is no longer fetchable through it; once no live message
        carries the file (a forwarded copy may), it is deleted from storage and leaves the
        uploader's quota (``MediaService.forget_message``, after the tombstone is stored)."""
        message, members = self._as_member(user_id, message_id)
        if message.deleted_at is not None and message.sender_id == user_id:
            self._forget_media(message.id)  # finishes what an interrupted delete left
            return message
        self._own_within(user_id, message, DELETE_WINDOW, "delete for everyone")
        result = self._actions.delete_message(message.id, self._clock())
        if result is None:  # deleted by another of the sender's devices meanwhile
            return self._messages.get_message(message.id) or message
        tombstone, replies = result
        self._announce(members, [tombstone, *replies])
        self._forget_media(message.id)
        return tombstone

    def _forget_media(self, message_id: str) -> None:
        if self._media is not None:
            self._media.forget_message(message_id)

    def delete_for_me(self, user_id: str, message_id: str) -> None:
        """Hide a message from the caller's own history and search; others keep it. Doing it
        again is NotFound, as the message is gone for them."""
        message = self._readable(user_id, message_id)
        if self._actions.hide_message(user_id, message, self._clock()):
            self._bus.publish([user_id], MessageHidden(message.chat_id, message.id))

    def _own_within(self, user_id: str, message: Message, window: timedelta, what: str) -> None:
        if message.sender_id != user_id:
            raise Forbidden(f"You can only {what} your own messages.")
        self._live(message)
        if self._clock() - message.created_at > window:
            minutes = int(window.total_seconds() // 60)
            raise Forbidden(
                f"Messages can only be changed like this within {minutes} minutes of sending.",
                window_minutes=minutes,
            )

    def _announce(self, members: list[Member], messages: list[Message]) -> None:
        user_ids = [m.user_id for m in members]
        for message in messages:
            self._bus.publish(user_ids, MessageUpdated(message.chat_id, message))
