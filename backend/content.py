"""Message payloads: checking what clients send, and the few places that read a body.

Storage, events, receipts and fan-out treat the payload as opaque; only previews (and later search)
look inside, and they must cope with types they cannot read (e.g. an encrypted body).
"""

from __future__ import annotations

import json
from typing import Any

from backend.errors import InvalidInput, TooLarge
from backend.unicode import require_encodable

PREVIEW_CHARS = 120


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


def preview_of(content: dict[str, Any]) -> str:
    """A one-line preview for the chat list; tolerant of payloads it cannot read."""
    if content.get("type") == "text" and isinstance(content.get("text"), str):
        line = " ".join(content["text"].split())
        return line[:PREVIEW_CHARS]
    if content.get("type") == "system":
        return system_line_text(content)[:PREVIEW_CHARS]
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
