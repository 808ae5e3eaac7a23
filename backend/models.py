"""The nouns of the messenger as immutable values passed between services, ports and adapters."""

from __future__ import annotations

import dataclasses
import enum
from datetime import datetime
from typing import Any


class ChatKind(enum.StrEnum):
    DIRECT = "direct"
    GROUP = "group"


class Role(enum.StrEnum):
    OWNER = "owner"
    ADMIN = "admin"
    MEMBER = "member"


class MessageStatus(enum.StrEnum):
    """The seed's status machine (section 4); PENDING and FAILED only ever exist in a client."""

    PENDING = "pending"
    SENT = "sent"
    DELIVERED = "delivered"
    READ = "read"
    FAILED = "failed"


@dataclasses.dataclass(frozen=True)
class User:
    id: str
    username: str
    display_name: str
    created_at: datetime
    last_seen_at: datetime | None = None
    hide_last_seen: bool = False


@dataclasses.dataclass(frozen=True)
class Session:
    user_id: str
    expires_at: datetime
    revoked: bool


@dataclasses.dataclass(frozen=True)
class Chat:
    id: str
    kind: ChatKind
    title: str
    created_by: str
    created_at: datetime
    last_message_id: str = ""
    last_activity_at: datetime | None = None
    last_preview: str = ""
    last_sender_id: str = ""


@dataclasses.dataclass(frozen=True)
class Member:
    """A user's membership of a chat, with the receipt watermarks of that user in that chat.

    ``delivered_upto``/``read_upto`` are the ids of the newest message this member's devices have
    received/shown ("" for none). Message ids sort in time order, so one string per member replaces
    a row per message per member.
    """

    chat_id: str
    user_id: str
    role: Role
    joined_at: datetime
    delivered_upto: str = ""
    read_upto: str = ""
    # Whether the chat is in this member's list before anyone has written in it: true for
    # whoever opened it, false for the person it was opened with (as on WhatsApp).
    is_listed: bool = True
    # Membership history (groups): a member sees the messages from ``visible_from`` (the line
    # that added them; "" = from the start) up to ``visible_upto`` (the line that said they left
    # or were removed; "" = still a member). A former member keeps the row, so they can still
    # read what they received, and gets nothing new.
    visible_from: str = ""
    visible_upto: str = ""
    left_at: datetime | None = None

    @property
    def is_active(self) -> bool:
        return self.left_at is None

    def can_see(self, message_id: str) -> bool:
        return message_id >= self.visible_from and (
            self.is_active or message_id <= self.visible_upto
        )


@dataclasses.dataclass(frozen=True)
class Quote:
    """What a reply shows of the message it answers, stored with the reply (seed §21).

    Kept in step with the original: an edit refreshes ``preview``, a delete for everyone
    empties it and sets ``deleted``, so a quote never outlives the words it quotes.
    """

    message_id: str
    sender_id: str
    preview: str
    deleted: bool = False


@dataclasses.dataclass(frozen=True)
class Reaction:
    user_id: str
    emoji: str


@dataclasses.dataclass(frozen=True)
class Message:
    """A message as every member of its chat sees it (per-viewer state, such as stars and
    "deleted for me", is kept apart)."""

    id: str
    chat_id: str
    sender_id: str
    content: dict[str, Any]
    created_at: datetime
    temp_id: str = ""
    quote: Quote | None = None
    forwarded: bool = False
    edited_at: datetime | None = None
    # Deleted for everyone: the content is gone (a ``{"type": "deleted"}`` tombstone).
    deleted_at: datetime | None = None
    reactions: tuple[Reaction, ...] = ()


@dataclasses.dataclass(frozen=True)
class Receipts:
    """How far *every* member of a chat has received and read: the chat's aggregate watermarks."""

    delivered_upto: str = ""
    read_upto: str = ""

    @classmethod
    def of(cls, members: list[Member]) -> Receipts:
        """Delivered/read when *every current* member has it: people who left don't hold a
        group's ticks back."""
        current = [m for m in members if m.is_active]
        if not current:
            return cls()
        return cls(
            delivered_upto=min(m.delivered_upto for m in current),
            read_upto=min(m.read_upto for m in current),
        )

    def status_of(self, message_id: str) -> MessageStatus:
        """The status a sender sees for one of their messages."""
        if message_id <= self.read_upto:
            return MessageStatus.READ
        if message_id <= self.delivered_upto:
            return MessageStatus.DELIVERED
        return MessageStatus.SENT


@dataclasses.dataclass(frozen=True)
class ReceiptMove:
    """Raise one member's watermarks to at least these ids ("" leaves one as it is)."""

    chat_id: str
    user_id: str
    delivered_upto: str = ""
    read_upto: str = ""


@dataclasses.dataclass(frozen=True)
class Watermarks:
    """One member's receipt watermarks in one chat."""

    user_id: str
    delivered_upto: str
    read_upto: str


@dataclasses.dataclass(frozen=True)
class ReceiptsMoved:
    """What a batch of receipt moves did in one chat: the chat's aggregate just before and
    just after the batch's moves in it, the watermarks of the members who moved (as they are
    now, in the order their moves were given) and the chat's current members (to announce
    to)."""

    chat_id: str
    before: Receipts
    after: Receipts
    moved: tuple[Watermarks, ...]
    member_ids: tuple[str, ...]


@dataclasses.dataclass(frozen=True)
class ChatActivity:
    """A chat's "last message" moving forward, in the lists of ``member_ids`` (the members it
    was sent to; a store that keeps one list per user writes theirs)."""

    chat_id: str
    message_id: str
    at: datetime
    preview: str
    sender_id: str
    member_ids: tuple[str, ...] = ()


@dataclasses.dataclass(frozen=True)
class MemberReceipt:
    """When one member received and read one message (None: not yet)."""

    user: User
    delivered_at: datetime | None
    read_at: datetime | None


@dataclasses.dataclass(frozen=True)
class ChatSummary:
    """One row of a user's chat list."""

    chat: Chat
    title: str
    unread: int
    receipts: Receipts
    peer: User | None = None
    is_member: bool = True  # False once the user left or was removed from the group
    member_count: int = 2
    my_read_upto: str = ""  # where the "unread messages" divider goes


@dataclasses.dataclass(frozen=True)
class UnreadSpan:
    """Where one member's unread messages in one chat lie: others' messages after
    ``read_upto``, up to ``newest`` (the chat's newest message as this member may see it).

    ``visible_upto`` is set for someone who left a group: nothing after it counts, and no new
    message will ever be added to their count.
    """

    chat_id: str
    read_upto: str
    newest: str
    visible_upto: str = ""


@dataclasses.dataclass(frozen=True)
class MessagePage:
    """A page of history, oldest first, and the cursor to ask for the page before it."""

    messages: list[Message]
    receipts: Receipts
    next_cursor: str
    has_more: bool


class MediaKind(enum.StrEnum):
    """What an upload turned out to be, judged from its bytes (never its name)."""

    IMAGE = "image"
    VIDEO = "video"
    DOCUMENT = "document"
    VOICE = "voice"


@dataclasses.dataclass(frozen=True)
class Media:
    """One uploaded file. ``chat_id`` is the chat it was uploaded for (its uploader sends it
    there first; forwards take it to other chats, each recorded as a ``MediaSend``).

    ``variants`` names the stored blobs (``original``, ``thumbnail``, ``preview``, ``full``,
    ``webp``, ``poster``); ``meta`` holds what the bubble needs without fetching (dimensions,
    duration, waveform, a tiny blurred placeholder). ``stored_bytes`` counts every variant
    against the owner's quota. In a chat's gallery, ``message_id`` and ``sent_at`` are those
    of the message of that chat that carries it.
    """

    id: str
    chat_id: str
    owner_id: str
    kind: MediaKind
    mime: str
    name: str
    size: int
    stored_bytes: int
    created_at: datetime
    variants: tuple[str, ...]
    meta: dict[str, Any] = dataclasses.field(default_factory=dict)
    message_id: str = ""  # the message that sent it ("" while only uploaded)
    temp_id: str = ""  # the client's id of the message it was uploaded for ("" = none given)
    sent_at: datetime | None = None  # when ``message_id`` was sent (gallery items)


@dataclasses.dataclass(frozen=True)
class MediaSend:
    """A message that carries a media file: the first send of an upload, or a forward."""

    media_id: str
    chat_id: str
    message_id: str


@dataclasses.dataclass(frozen=True)
class ReadableRange:
    """Part of one chat's history a user may read: message ids in (``after``, ``upto``].

    ``after`` is exclusive and ``upto`` inclusive; "" leaves that end open. A member who joined
    a group late starts after the line that added them; one who left ends at the line that
    said so (``Member.visible_from`` / ``visible_upto``).
    """

    chat_id: str
    after: str = ""
    upto: str = ""

    def contains(self, message_id: str) -> bool:
        return message_id > self.after and (not self.upto or message_id <= self.upto)


@dataclasses.dataclass(frozen=True)
class SearchQuery:
    """What a user looks for: words (all must match, each also as a prefix) and filters."""

    text: str
    chat_id: str = ""
    sender_id: str = ""
    since: datetime | None = None
    until: datetime | None = None
    content_type: str = ""
    before: str = ""  # cursor: an id from the previous page's ``next_cursor``
    limit: int = 20


@dataclasses.dataclass(frozen=True)
class SnippetSpan:
    """A piece of a result's snippet; ``match`` marks the words that matched (never markup)."""

    text: str
    match: bool = False


@dataclasses.dataclass(frozen=True)
class SearchHit:
    message: Message
    snippet: tuple[SnippetSpan, ...]


@dataclasses.dataclass(frozen=True)
class SearchPage:
    """Hits newest first, and the cursor for the older ones ("" when there are none)."""

    hits: list[SearchHit]
    next_cursor: str = ""
