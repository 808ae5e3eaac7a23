"""Reactions: the seed's six quick reactions by name, and what counts as one emoji."""

from __future__ import annotations

import unicodedata

from backend.errors import InvalidInput

# The quick reactions of the message menu (seed §21), by the names the UI's test ids use.
QUICK_REACTIONS = {
    "thumbsup": "\U0001f44d",
    "heart": "\u2764\ufe0f",
    "joy": "\U0001f602",
    "wow": "\U0001f62e",
    "sad": "\U0001f622",
    "pray": "\U0001f64f",
}
MAX_EMOJI_CHARS = 32  # the longest ZWJ family sequences are about a dozen code points

_ZWJ = "\u200d"
_VS16 = "\ufe0f"
_KEYCAP = "\u20e3"
_TAGS = range(0xE0020, 0xE0080)
_SKIN_TONES = range(0x1F3FB, 0x1F400)
_REGIONAL = range(0x1F1E6, 0x1F200)


def reaction_emoji(value: object) -> str:
    """The emoji a reaction stores: a quick reaction's name or any single emoji.

    Raises:
        InvalidInput: anything else (text, several emojis, markup).
    """
    if isinstance(value, str) and value in QUICK_REACTIONS:
        return QUICK_REACTIONS[value]
    if not isinstance(value, str) or not 0 < len(value) <= MAX_EMOJI_CHARS or not _one(value):
        raise InvalidInput("A reaction is a single emoji.")
    return value


def _one(text: str) -> bool:
    """Whether ``text`` is one emoji: a flag, a keycap, or ZWJ-joined emoji with modifiers."""
    points = [ord(c) for c in text]
    if len(points) == 2 and all(p in _REGIONAL for p in points):
        return True
    if text[0] in "0123456789#*":
        return text[1:] in (_KEYCAP, _VS16 + _KEYCAP)
    return all(_one_part(part) for part in text.split(_ZWJ))


def _one_part(part: str) -> bool:
    if not part or not _is_pictograph(part[0]) or ord(part[0]) in _REGIONAL:
        return False
    rest = part[1:]
    if rest.startswith(_VS16):
        rest = rest[1:]
    if rest and ord(rest[0]) in _SKIN_TONES:
        rest = rest[1:]
    return all(ord(c) in _TAGS for c in rest)  # subdivision flags end in tag characters


def _is_pictograph(char: str) -> bool:
    point = ord(char)
    if point < 0x2000 and char not in "\u00a9\u00ae":
        return False
    return unicodedata.category(char) == "So" or 0x1F000 <= point <= 0x1FAFF
