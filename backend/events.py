"""Typed events published on the bus after a write is stored, and their wire form.

One module (``chat_web.states.live``) turns them into UI state, one (the API gateway) into frames.
"""

from __future__ import annotations

import dataclasses
from datetime import datetime
from typing import Any

from backend.models import Message, Quote, Reaction, Receipts


@dataclasses.dataclass(frozen=True)
class MessageCreated:
    """A message was stored in a chat; sent to every member (the sender's other tabs too)."""

    chat_id: str
    message: Message
    type: str = "message.created"


@dataclasses.dataclass(frozen=True)
class MessageUpdated:
    """A message's visible state changed (edited, deleted for everyone, reacted to, or the
    message it quotes changed); carries the whole new state. Sent to every member."""

    chat_id: str
    message: Message
    type: str = "message.updated"


@dataclasses.dataclass(frozen=True)
class MessageHidden:
    """The user deleted a message for themselves; sent to that user's devices only."""

    chat_id: str
    message_id: str
    type: str = "message.hidden"


@dataclasses.dataclass(frozen=True)
class StarChanged:
    """The user starred or unstarred a message; sent to that user's devices only."""

    chat_id: str
    message_id: str
    starred: bool
    type: str = "star.changed"


@dataclasses.dataclass(frozen=True)
class ReceiptsChanged:
    """A member's delivered/read watermark moved; carries the chat's new aggregate too."""

    chat_id: str
    user_id: str
    delivered_upto: str
    read_upto: str
    chat_receipts: Receipts
    type: str = "receipts.changed"


@dataclasses.dataclass(frozen=True)
class ChatChanged:
    """A chat appeared for its members, or its title or membership changed."""

    chat_id: str
    type: str = "chat.changed"


@dataclasses.dataclass(frozen=True)
class SessionEnded:
    """A session was signed out: the tabs holding it stop and go to the sign-in page."""

    user_id: str
    token_hash: str
    type: str = "session.ended"


@dataclasses.dataclass(frozen=True)
class TypingChanged:
    """A member started or stopped typing; never stored, sent to the other members."""

    chat_id: str
    user_id: str
    is_typing: bool
    type: str = "typing.changed"


@dataclasses.dataclass(frozen=True)
class PresenceChanged:
    """A user came online or went offline; sent to the people who share a chat with them.

    ``last_seen_at`` is None while online, and for viewers who may not see it (privacy).
    """

    user_id: str
    online: bool
    last_seen_at: datetime | None
    type: str = "presence.changed"


ChatEvent = (
    MessageCreated
    | ReceiptsChanged
    | ChatChanged
    | TypingChanged
    | MessageUpdated
    | MessageHidden
    | StarChanged
)
Event = ChatEvent | SessionEnded | PresenceChanged


def event_to_dict(event: Event) -> dict[str, Any]:
    """JSON-ready form, for buses that cross processes."""
    data = dataclasses.asdict(event)
    if isinstance(event, MessageCreated | MessageUpdated):
        message = data["message"]
        for key in ("created_at", "edited_at", "deleted_at"):
            moment = getattr(event.message, key)
            message[key] = moment.isoformat() if moment is not None else None
        message["reactions"] = [dict(r) for r in message["reactions"]]
    if isinstance(event, PresenceChanged) and event.last_seen_at is not None:
        data["last_seen_at"] = event.last_seen_at.isoformat()
    return data


def _message_from_dict(raw: dict[str, Any]) -> Message:
    raw = dict(raw)
    for key in ("created_at", "edited_at", "deleted_at"):
        if raw.get(key) is not None:
            raw[key] = datetime.fromisoformat(raw[key])
    if raw.get("quote") is not None:
        raw["quote"] = Quote(**raw["quote"])
    raw["reactions"] = tuple(Reaction(**r) for r in raw.get("reactions", ()))
    return Message(**raw)


def event_from_dict(data: dict[str, Any]) -> Event:
    kind = data.get("type")
    if kind == MessageCreated.type:
        return MessageCreated(chat_id=data["chat_id"], message=_message_from_dict(data["message"]))
    if kind == MessageUpdated.type:
        return MessageUpdated(chat_id=data["chat_id"], message=_message_from_dict(data["message"]))
    if kind == MessageHidden.type:
        return MessageHidden(chat_id=data["chat_id"], message_id=data["message_id"])
    if kind == StarChanged.type:
        return StarChanged(
            chat_id=data["chat_id"], message_id=data["message_id"], starred=bool(data["starred"])
        )
    if kind == ReceiptsChanged.type:
        return ReceiptsChanged(
            chat_id=data["chat_id"],
            user_id=data["user_id"],
            delivered_upto=data["delivered_upto"],
            read_upto=data["read_upto"],
            chat_receipts=Receipts(**data["chat_receipts"]),
        )
    if kind == ChatChanged.type:
        return ChatChanged(chat_id=data["chat_id"])
    if kind == TypingChanged.type:
        return TypingChanged(
            chat_id=data["chat_id"], user_id=data["user_id"], is_typing=bool(data["is_typing"])
        )
    if kind == PresenceChanged.type:
        seen = data.get("last_seen_at")
        return PresenceChanged(
            user_id=data["user_id"],
            online=bool(data["online"]),
            last_seen_at=datetime.fromisoformat(seen) if seen else None,
        )
    if kind == SessionEnded.type:
        return SessionEnded(user_id=data["user_id"], token_hash=data["token_hash"])
    raise ValueError(f"unknown event type {kind!r}")
