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
    return ""


def dump_content(content: dict[str, Any]) -> str:
    return json.dumps(content, ensure_ascii=False, separators=(",", ":"))


def load_content(raw: str) -> dict[str, Any]:
    value = json.loads(raw)
    return value if isinstance(value, dict) else {"type": "unknown"}
