"""Request and response bodies of the REST API, with the seed's camelCase keys."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field
from pydantic.alias_generators import to_camel

from backend.models import (
    ChatSummary,
    Media,
    MediaKind,
    Member,
    MemberReceipt,
    Message,
    MessageStatus,
    Quote,
    Reaction,
    Receipts,
    SearchHit,
    SearchPage,
    User,
)


class ApiModel(BaseModel):
    model_config = ConfigDict(alias_generator=to_camel, populate_by_name=True, extra="forbid")


class ErrorBody(ApiModel):
    code: str = Field(description="Stable machine-readable reason, e.g. not_found, rate_limited")
    message: str = Field(description="What went wrong, in words a person can act on")


class RegisterRequest(ApiModel):
    username: str = Field(max_length=256)
    display_name: str = Field(max_length=256)
    password: str = Field(max_length=1024)


class LoginRequest(ApiModel):
    username: str = Field(max_length=256)
    password: str = Field(max_length=1024)


class UserOut(ApiModel):
    id: str
    username: str
    display_name: str

    @classmethod
    def of(cls, user: User) -> UserOut:
        return cls(id=user.id, username=user.username, display_name=user.display_name)


class SessionOut(ApiModel):
    token: str = Field(description="Send as `Authorization: Bearer <token>`, or `/ws?token=`")
    user: UserOut


class UpdateMeRequest(ApiModel):
    display_name: str = Field(max_length=256)


class UserList(ApiModel):
    users: list[UserOut]


class QuoteOut(ApiModel):
    """What a reply shows of the message it answers."""

    message_id: str
    sender_id: str
    preview: str = Field(description="Empty when the original was deleted")
    deleted: bool

    @classmethod
    def of(cls, quote: Quote) -> QuoteOut:
        return cls(
            message_id=quote.message_id,
            sender_id=quote.sender_id,
            preview=quote.preview,
            deleted=quote.deleted,
        )


class ReactionOut(ApiModel):
    emoji: str
    user_ids: list[str] = Field(description="Who reacted so, first reaction first")

    @staticmethod
    def grouped(reactions: tuple[Reaction, ...]) -> list[ReactionOut]:
        groups: dict[str, list[str]] = {}
        for reaction in reactions:
            groups.setdefault(reaction.emoji, []).append(reaction.user_id)
        return [ReactionOut(emoji=e, user_ids=ids) for e, ids in groups.items()]


class MessageOut(ApiModel):
    message_id: str
    chat_id: str
    sender_id: str
    content: dict[str, Any] = Field(
        description='e.g. {"type": "text", ...}; {"type": "deleted"} once deleted for everyone'
    )
    timestamp: datetime
    temp_id: str | None = Field(None, description="Only on the sender's own messages")
    status: MessageStatus | None = Field(
        None, description="Only on the sender's own messages (not on system lines)"
    )
    reply_to: str | None = Field(None, description="The id of the message this one answers")
    quote: QuoteOut | None = None
    forwarded: bool = False
    edited_at: datetime | None = None
    deleted: bool = Field(False, description='Deleted for everyone: "This message was deleted"')
    reactions: list[ReactionOut] = Field(default_factory=list)

    @classmethod
    def of(cls, message: Message, viewer_id: str, receipts: Receipts) -> MessageOut:
        # A system line ({"type": "system", "event": ...}) names its actor as sender, but it is
        # the server's words: no ticks on it.
        mine = message.sender_id == viewer_id and message.content.get("type") != "system"
        return cls(
            message_id=message.id,
            chat_id=message.chat_id,
            sender_id=message.sender_id,
            content=message.content,
            timestamp=message.created_at,
            temp_id=(message.temp_id or None) if mine else None,
            status=receipts.status_of(message.id) if mine else None,
            reply_to=message.quote.message_id if message.quote else None,
            quote=QuoteOut.of(message.quote) if message.quote else None,
            forwarded=message.forwarded,
            edited_at=message.edited_at,
            deleted=message.deleted_at is not None,
            reactions=ReactionOut.grouped(message.reactions),
        )


class LastMessage(ApiModel):
    message_id: str
    sender_id: str
    preview: str
    timestamp: datetime | None


class ChatOut(ApiModel):
    chat_id: str
    type: Literal["direct", "group"]
    title: str
    unread_count: int
    last_message: LastMessage | None
    last_activity: datetime
    participants: list[UserOut] | None = None
    member_count: int = Field(description="Current members (as of leaving, for a former one)")
    is_member: bool = Field(description="False once you left or were removed from the group")

    @classmethod
    def of(cls, summary: ChatSummary, participants: list[User] | None = None) -> ChatOut:
        chat = summary.chat
        return cls(
            chat_id=chat.id,
            type=chat.kind.value,
            title=summary.title,
            member_count=summary.member_count,
            is_member=summary.is_member,
            unread_count=summary.unread,
            last_message=LastMessage(
                message_id=chat.last_message_id,
                sender_id=chat.last_sender_id,
                preview=chat.last_preview,
                timestamp=chat.last_activity_at,
            )
            if chat.last_message_id
            else None,
            last_activity=chat.last_activity_at or chat.created_at,
            participants=[UserOut.of(u) for u in participants]
            if participants is not None
            else None,
        )


class ChatList(ApiModel):
    chats: list[ChatOut]
    next_cursor: str | None = None


class CreateChatRequest(ApiModel):
    """The seed's body: ``{participantIds: [one id]}`` opens a 1:1 chat; with a ``groupName``
    it creates a group of you and the participants."""

    participant_ids: list[str] = Field(min_length=1, max_length=256)
    group_name: str | None = Field(None, max_length=256)


# --- groups ---------------------------------------------------------------------------------


class MemberOut(ApiModel):
    id: str
    username: str
    display_name: str
    role: Literal["owner", "admin", "member"]

    @classmethod
    def of(cls, member: Member, user: User) -> MemberOut:
        return cls(
            id=user.id,
            username=user.username,
            display_name=user.display_name,
            role=member.role.value,
        )


class MemberList(ApiModel):
    members: list[MemberOut] = Field(description="Owner and admins first, then by name")


class AddMembersRequest(ApiModel):
    user_ids: list[str] = Field(min_length=1, max_length=256)


class UpdateChatRequest(ApiModel):
    title: str = Field(max_length=256, description="The group's new name")


class SetRoleRequest(ApiModel):
    role: Literal["admin", "member"]


class MemberReceiptOut(ApiModel):
    user: UserOut
    delivered_at: datetime | None = Field(description="When their device got it (null: not yet)")
    read_at: datetime | None = Field(description="When they read it (null: not yet)")

    @classmethod
    def of(cls, receipt: MemberReceipt) -> MemberReceiptOut:
        return cls(
            user=UserOut.of(receipt.user),
            delivered_at=receipt.delivered_at,
            read_at=receipt.read_at,
        )


class MessageInfo(ApiModel):
    message_id: str
    chat_id: str
    receipts: list[MemberReceiptOut] = Field(
        description="Every current member who was in the chat when it was sent, except you"
    )


class SendMessageRequest(ApiModel):
    temp_id: str = Field("", max_length=64, description="Client id: a resend is stored once")
    content: dict[str, Any] = Field(description='e.g. {"type": "text", "text": "Hello!"}')
    reply_to: str | None = Field(None, max_length=64, description="A message of this chat")


class MessagePage(ApiModel):
    messages: list[MessageOut]
    next_cursor: str | None
    has_more: bool


class MediaOut(ApiModel):
    media_id: str
    kind: Literal["image", "video", "document", "voice"]
    name: str
    mime: str
    size: int
    url: str = Field(description="The file (a photo's full size); needs your token or cookie")
    thumbnail_url: str | None = Field(None, description="A photo's thumbnail or a video's poster")
    width: int | None = None
    height: int | None = None
    duration: float | None = Field(None, description="Seconds, for videos and voice notes")
    waveform: list[int] | None = Field(None, description="Voice notes: 48 loudness bars, 0-100")
    placeholder: str | None = Field(None, description="Photos: a tiny blurred data: URI")
    message_id: str | None = Field(None, description="The message that sent it, once sent")

    @classmethod
    def of(cls, media: Media) -> MediaOut:
        base = f"/api/v1/media/{media.id}"
        thumb = {"thumbnail": "thumbnail", "poster": "poster"}
        thumbnail = next((v for v in thumb if v in media.variants), None)
        meta = media.meta
        return cls(
            media_id=media.id,
            kind=media.kind.value,
            name=media.name,
            mime=media.mime,
            size=media.size,
            url=base,
            thumbnail_url=f"{base}/{thumbnail}" if thumbnail else None,
            width=meta.get("width") if media.kind in (MediaKind.IMAGE, MediaKind.VIDEO) else None,
            height=meta.get("height") if media.kind in (MediaKind.IMAGE, MediaKind.VIDEO) else None,
            duration=meta.get("duration"),
            waveform=meta.get("waveform"),
            placeholder=meta.get("placeholder"),
            message_id=media.message_id or None,
        )


class StorageUsageOut(ApiModel):
    used_bytes: int = Field(description="What your uploads take, every size of them included")
    quota_bytes: int


class MediaPage(ApiModel):
    media: list[MediaOut]
    next_cursor: str | None = Field(None, description="Pass as ``cursor`` for older media")


class EditMessageRequest(ApiModel):
    content: dict[str, Any] = Field(description='The new text: {"type": "text", "text": "..."}')


class ReactionRequest(ApiModel):
    emoji: str = Field(
        max_length=64,
        description="One emoji, or a quick reaction's name: thumbsup, heart, joy, wow, sad, pray",
    )


class ForwardRequest(ApiModel):
    chat_ids: list[str] = Field(min_length=1, max_length=16)


class ForwardOut(ApiModel):
    messages: list[MessageOut] = Field(description="The copies, one per chat, in the order asked")


class StarredList(ApiModel):
    messages: list[MessageOut]
    next_cursor: str | None


class SnippetSpanOut(ApiModel):
    text: str
    match: bool


class SearchResultOut(ApiModel):
    message_id: str
    chat_id: str
    sender_id: str
    timestamp: datetime
    type: str = Field(description="The content type, e.g. text")
    snippet: list[SnippetSpanOut] = Field(
        description="The text around the match as plain-text spans; render as text, never HTML"
    )

    @classmethod
    def of(cls, hit: SearchHit) -> SearchResultOut:
        message = hit.message
        return cls(
            message_id=message.id,
            chat_id=message.chat_id,
            sender_id=message.sender_id,
            timestamp=message.created_at,
            type=str(message.content.get("type", "")),
            snippet=[SnippetSpanOut(text=s.text, match=s.match) for s in hit.snippet],
        )


class SearchResults(ApiModel):
    results: list[SearchResultOut]
    next_cursor: str | None

    @classmethod
    def of(cls, page: SearchPage) -> SearchResults:
        return cls(
            results=[SearchResultOut.of(h) for h in page.hits],
            next_cursor=page.next_cursor or None,
        )
