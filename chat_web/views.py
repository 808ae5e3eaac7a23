"""View data: what the browser receives about chats and messages, derived from service answers."""

from __future__ import annotations

import dataclasses

from backend.models import ChatSummary, Message, MessageStatus, Receipts
from chat_web.i18n import tn


@dataclasses.dataclass
class MessageView:
    id: str  # the server id, or the client temp id while pending/failed
    temp_id: str
    text: str
    sent_at: str  # ISO 8601 UTC; the browser shows it in the viewer's zone and locale
    mine: bool
    status: str  # MessageStatus value for own messages, "" for others'
    sender_name: str = ""


@dataclasses.dataclass
class ChatItemView:
    chat_id: str
    title: str
    preview: str
    last_at: str
    unread: int
    unread_label: str
    last_mine: bool
    last_status: str


def message_view(message: Message, viewer_id: str, receipts: Receipts) -> MessageView:
    mine = message.sender_id == viewer_id
    text = message.content.get("text")
    return MessageView(
        id=message.id,
        temp_id=message.temp_id if mine else "",
        text=text if isinstance(text, str) else "",
        sent_at=message.created_at.isoformat(timespec="microseconds"),
        mine=mine,
        status=receipts.status_of(message.id).value if mine else "",
    )


def pending_view(temp_id: str, text: str, now_iso: str) -> MessageView:
    return MessageView(
        id=temp_id,
        temp_id=temp_id,
        text=text,
        sent_at=now_iso,
        mine=True,
        status=MessageStatus.PENDING.value,
    )


def chat_item_view(summary: ChatSummary, viewer_id: str) -> ChatItemView:
    chat = summary.chat
    last_mine = bool(chat.last_message_id) and chat.last_sender_id == viewer_id
    at = chat.last_activity_at or chat.created_at
    return ChatItemView(
        chat_id=chat.id,
        title=summary.title,
        preview=chat.last_preview,
        last_at=at.isoformat(timespec="microseconds"),
        unread=summary.unread,
        unread_label=tn("chats.unread", summary.unread),
        last_mine=last_mine,
        last_status=summary.receipts.status_of(chat.last_message_id).value if last_mine else "",
    )
