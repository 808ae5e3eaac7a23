"""Message payloads: checking what clients send, and the few places that read a body.

Storage, events, receipts and fan-out treat the payload as opaque; only previews (and later search)
look inside, and they must cope with types they cannot read (e.g. an encrypted body).
"""

from __future__ import annotations

import json
from typing import Any

from backend.errors import InvalidInput, TooLarge
from backend.models import Media, MediaKind
from backend.unicode import require_encodable

PREVIEW_CHARS = 120
MEDIA_TYPES = frozenset(kind.value for kind in MediaKind)
MAX_CAPTION_BYTES = 4096


def text_content(text: str) -> dict[str, Any]:
    return {"type": "text", "text": text}


def validate_content(content: object, max_bytes: int) -> dict[str, Any]:
    """Return a clean copy of ``content`` or raise with a message a person can act on."""
    if not isinstance(content, dict) or not isinstance(content.get("type"), str):
        raise InvalidInput("A message needs a content object with a type.")
    if content["type"] != "text":
        raise InvalidInput("This kind of message is not supported yet.", type=content["type"])
    text = content.get("text")
    if not isinstance(text, str):
        raise InvalidInput("A text message needs text.")
    text = require_encodable(text, "The message").strip()  # blank lines around it are noise
    if not text:
        raise InvalidInput("You can't send an empty message.")
    size = len(text.encode("utf-8"))
    if size > max_bytes:
        raise TooLarge("This message is too long.", size=size, limit=max_bytes)
    return text_content(text)


def is_media_content(content: object) -> bool:
    return isinstance(content, dict) and content.get("type") in MEDIA_TYPES


def media_content(media: Media, caption: object) -> dict[str, Any]:
    """The payload of a media message, built from the stored record (what the server measured),
    plus the sender's caption; nothing the client says about the file is taken."""
    if caption is None:
        caption = ""
    if not isinstance(caption, str):
        raise InvalidInput("A caption must be text.")
    caption = require_encodable(caption, "The caption").strip()
    size = len(caption.encode("utf-8"))
    if size > MAX_CAPTION_BYTES:
        raise TooLarge("This caption is too long.", size=size, limit=MAX_CAPTION_BYTES)
    meta = media.meta
    body: dict[str, Any] = {"type": media.kind.value, "mediaId": media.id}
    if media.kind is MediaKind.IMAGE:
        body |= {k: meta.get(k) for k in ("width", "height", "placeholder")}
    elif media.kind is MediaKind.VIDEO:
        body |= {k: meta.get(k) for k in ("width", "height", "duration")}
    elif media.kind is MediaKind.VOICE:
        body |= {k: meta.get(k) for k in ("duration", "waveform")}
    else:
        body |= {"name": media.name, "mime": media.mime, "size": media.size}
    if caption and media.kind is not MediaKind.VOICE:
        body["caption"] = caption
    return body


def clock_duration(seconds: object) -> str:
    """0:12, 3:05, 1:02:03 - how WhatsApp writes a length."""
    total = round(seconds) if isinstance(seconds, int | float) and seconds > 0 else 0
    hours, rest = divmod(total, 3600)
    minutes, secs = divmod(rest, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}" if hours else f"{minutes}:{secs:02d}"


def preview_of(content: dict[str, Any]) -> str:
    """A one-line preview for the chat list; tolerant of payloads it cannot read."""
    kind = content.get("type")
    if kind == "text" and isinstance(content.get("text"), str):
        line = " ".join(content["text"].split())
        return line[:PREVIEW_CHARS]
    if content.get("type") == "system":
        return system_line_text(content)[:PREVIEW_CHARS]
    caption = content.get("caption")
    caption = " ".join(caption.split())[:PREVIEW_CHARS] if isinstance(caption, str) else ""
    if kind == "image":
        return f"📷 {caption or 'Photo'}"
    if kind == "video":
        return f"🎥 {caption or 'Video'}"
    if kind == "voice":
        return f"🎤 Voice message ({clock_duration(content.get('duration'))})"
    if kind == "document":
        name = content.get("name")
        return f"📄 {name[:PREVIEW_CHARS] if isinstance(name, str) else 'Document'}"
    return ""


# Chat-list previews are stored as text, so system lines are written out here in English; the
# conversation itself renders them from their fields through the UI's catalogue.
_SYSTEM_LINES = {
    "created": "{actor} created the group",
    "added": "{actor} added {targets}",
    "removed": "{actor} removed {targets}",
    "left": "{actor} left",
    "renamed": "{actor} changed the group name to {title}",
}


def system_line_text(content: dict[str, Any]) -> str:
    """English words for a system line ("Alice added Bob and Carol")."""
    template = _SYSTEM_LINES.get(str(content.get("event")), "")
    actor = content.get("actor") or {}
    names = [str(t.get("name", "")) for t in content.get("targets") or [] if isinstance(t, dict)]
    return template.format(
        actor=actor.get("name", "") if isinstance(actor, dict) else "",
        targets=join_names(names),
        title=content.get("title", ""),
    )


def join_names(names: list[str]) -> str:
    if len(names) <= 1:
        return "".join(names)
    return ", ".join(names[:-1]) + " and " + names[-1]


def dump_content(content: dict[str, Any]) -> str:
    return json.dumps(content, ensure_ascii=False, separators=(",", ":"))


def load_content(raw: str) -> dict[str, Any]:
    value = json.loads(raw)
    return value if isinstance(value, dict) else {"type": "unknown"}
