"""The WebSocket's frames (seed §5): bus events turned into server frames, and client frames
checked into commands. This is the one module that turns events into API frames."""

from __future__ import annotations

import dataclasses
import json
from datetime import UTC, datetime
from typing import Any

from backend.errors import InvalidInput, TooLarge
from backend.events import (
    ChatChanged,
    ChatEvent,
    MessageCreated,
    MessageHidden,
    MessageUpdated,
    PresenceChanged,
    ReceiptsChanged,
    StarChanged,
    TypingChanged,
)
from backend.models import Message

MAX_ID_CHARS = 64


def timestamp(moment: datetime) -> str:
    """UTC in ISO 8601 with a Z, as the REST bodies write it."""
    return moment.astimezone(UTC).isoformat().replace("+00:00", "Z")


def message_frame(message: Message) -> dict[str, Any]:
    frame: dict[str, Any] = {
        "type": "message",
        "messageId": message.id,
        "chatId": message.chat_id,
        "senderId": message.sender_id,
        "content": message.content,
        "timestamp": timestamp(message.created_at),
    }
    # What message actions add appears only when set, so a plain message stays the seed's frame.
    if message.quote is not None:
        frame["replyTo"] = message.quote.message_id
        frame["quote"] = _quote(message)
    if message.forwarded:
        frame["forwarded"] = True
    if message.edited_at is not None or message.deleted_at is not None or message.reactions:
        frame.update(_changeable(message))
    return frame


def message_updated_frame(message: Message) -> dict[str, Any]:
    """A message's whole new visible state: the client replaces its copy (seed §21)."""
    return {
        **message_frame(message),
        **_changeable(message),
        "type": "message_updated",
        "replyTo": message.quote.message_id if message.quote else None,
        "quote": _quote(message),
        "forwarded": message.forwarded,
    }


def _quote(message: Message) -> dict[str, Any] | None:
    quote = message.quote
    if quote is None:
        return None
    return {
        "messageId": quote.message_id,
        "senderId": quote.sender_id,
        "preview": quote.preview,
        "deleted": quote.deleted,
    }


def _changeable(message: Message) -> dict[str, Any]:
    groups: dict[str, list[str]] = {}
    for reaction in message.reactions:
        groups.setdefault(reaction.emoji, []).append(reaction.user_id)
    return {
        "editedAt": timestamp(message.edited_at) if message.edited_at else None,
        "deleted": message.deleted_at is not None,
        "reactions": [{"emoji": e, "userIds": ids} for e, ids in groups.items()],
    }


def ack_frame(temp_id: str, message: Message) -> dict[str, Any]:
    return {
        "type": "message_ack",
        "tempId": temp_id,
        "messageId": message.id,
        "chatId": message.chat_id,
        "status": "sent",
        "timestamp": timestamp(message.created_at),
    }


def error_frame(code: str, message: str, temp_id: str | None = None) -> dict[str, Any]:
    frame = {"type": "error", "code": code, "message": message}
    if temp_id:
        frame["tempId"] = temp_id
    return frame


def event_frames(event: ChatEvent | PresenceChanged) -> list[dict[str, Any]]:
    """The frames a member's socket gets for one bus event."""
    if isinstance(event, PresenceChanged):
        frame: dict[str, Any] = {
            "type": "presence",
            "userId": event.user_id,
            "status": "online" if event.online else "offline",
        }
        if event.last_seen_at is not None:
            frame["lastSeen"] = timestamp(event.last_seen_at)
        return [frame]
    if isinstance(event, MessageCreated):
        return [message_frame(event.message)]
    if isinstance(event, ReceiptsChanged):
        # Both of the seed's receipt frames: the member's own watermarks, and (messageId) how far
        # every member has received, which is what turns a sender's tick into two.
        return [
            {
                "type": "delivered",
                "chatId": event.chat_id,
                "userId": event.user_id,
                "messageId": event.chat_receipts.delivered_upto,
                "deliveredUpto": event.delivered_upto,
            },
            {
                "type": "read",
                "chatId": event.chat_id,
                "userId": event.user_id,
                "lastReadMessageId": event.read_upto,
                "chatReadUpto": event.chat_receipts.read_upto,
            },
        ]
    if isinstance(event, TypingChanged):
        return [
            {
                "type": "typing",
                "chatId": event.chat_id,
                "userId": event.user_id,
                "isTyping": event.is_typing,
            }
        ]
    if isinstance(event, ChatChanged):
        return [{"type": "chat", "chatId": event.chat_id}]
    if isinstance(event, MessageUpdated):
        return [message_updated_frame(event.message)]
    if isinstance(event, MessageHidden):
        return [{"type": "message_hidden", "chatId": event.chat_id, "messageId": event.message_id}]
    if isinstance(event, StarChanged):
        return [
            {
                "type": "star",
                "chatId": event.chat_id,
                "messageId": event.message_id,
                "starred": event.starred,
            }
        ]
    return []


@dataclasses.dataclass(frozen=True)
class SendCommand:
    chat_id: str
    temp_id: str
    content: dict[str, Any]
    reply_to: str = ""


@dataclasses.dataclass(frozen=True)
class TypingCommand:
    chat_id: str
    is_typing: bool


@dataclasses.dataclass(frozen=True)
class ReadCommand:
    chat_id: str
    message_id: str


@dataclasses.dataclass(frozen=True)
class SyncCommand:
    """Reconnected: send me what I missed in ``chat_id`` after ``after``."""

    chat_id: str
    after: str


@dataclasses.dataclass(frozen=True)
class PingCommand:
    pass


Command = SendCommand | TypingCommand | ReadCommand | SyncCommand | PingCommand


class FrameError(InvalidInput):
    """A frame that cannot be understood; ``temp_id`` lets the client match it to a send."""

    def __init__(self, code: str, message: str, temp_id: str = "") -> None:
        super().__init__(message)
        self.code = code
        self.temp_id = temp_id


def parse_frame(raw: str | bytes, max_bytes: int) -> Command:
    """Check one client frame; raise ``FrameError`` saying what is wrong with it."""
    size = len(raw.encode("utf-8")) if isinstance(raw, str) else len(raw)
    if size > max_bytes:
        raise FrameError(TooLarge.code, f"Frames are at most {max_bytes} bytes.")
    try:
        data = json.loads(raw)
    except (ValueError, UnicodeDecodeError, RecursionError):  # nesting too deep is not JSON to us
        raise FrameError("invalid_json", "The frame is not valid JSON.") from None
    if not isinstance(data, dict):
        raise FrameError("invalid_frame", "A frame is a JSON object with a type.")
    kind = data.get("type")
    raw_temp_id = data.get("tempId")
    temp_id: str = raw_temp_id if isinstance(raw_temp_id, str) else ""
    if kind == "ping":
        return PingCommand()
    if kind == "message":
        content = data.get("content")
        if not isinstance(content, dict):
            raise FrameError("invalid_input", "A message needs a content object.", temp_id)
        reply_to = data.get("replyTo") or ""
        if reply_to:
            reply_to = _text(data, "replyTo", temp_id)
        return SendCommand(_text(data, "chatId", temp_id), temp_id, content, reply_to)
    if kind == "typing":
        is_typing = data.get("isTyping")
        if not isinstance(is_typing, bool):
            raise FrameError("invalid_input", "isTyping must be true or false.")
        return TypingCommand(_text(data, "chatId"), is_typing)
    if kind == "read":
        return ReadCommand(_text(data, "chatId"), _text(data, "messageId"))
    if kind == "sync":
        after = data.get("after", "")
        if not isinstance(after, str):
            raise FrameError("invalid_input", "after must be a message id.")
        return SyncCommand(_text(data, "chatId"), after)
    raise FrameError("unknown_type", f"Unknown frame type {str(kind)[:40]!r}.", temp_id)


def _text(data: dict[str, Any], key: str, temp_id: str = "") -> str:
    value = data.get(key)
    if not isinstance(value, str) or not value or len(value) > MAX_ID_CHARS:
        raise FrameError("invalid_input", f"{key} must be a non-empty id.", temp_id)
    return value
