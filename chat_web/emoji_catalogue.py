"""The emojis the pickers offer, named by Unicode itself (no data file to ship or update)."""

from __future__ import annotations

import functools
import unicodedata

from backend.emoji import QUICK_REACTIONS, reaction_emoji
from backend.errors import InvalidInput

# Smileys and people first, then the rest of the main emoji blocks.
_BLOCKS = ((0x1F600, 0x1F64F), (0x1F900, 0x1F9FF), (0x1F300, 0x1F5FF), (0x1F680, 0x1F6FF))
MAX_SHOWN = 96


@functools.cache
def catalogue() -> tuple[tuple[str, str], ...]:
    """(emoji, lower-case name) for every single emoji of the blocks a reaction accepts."""
    found = [(e, e) for e in QUICK_REACTIONS.values()]
    for first, last in _BLOCKS:
        for code in range(first, last + 1):
            emoji = chr(code)
            try:
                reaction_emoji(emoji)
            except InvalidInput:
                continue
            found.append((emoji, unicodedata.name(emoji, "").lower()))
    named = {e: unicodedata.name(e[0], "").lower() for e, _ in found}
    return tuple(dict.fromkeys((e, named[e]) for e, _ in found))


def find_emojis(query: str) -> list[tuple[str, str]]:
    """Emojis whose name holds every word of ``query`` (all of them, in order, when empty)."""
    words = query.casefold().split()
    return [(e, n) for e, n in catalogue() if all(w in n for w in words)][:MAX_SHOWN]
