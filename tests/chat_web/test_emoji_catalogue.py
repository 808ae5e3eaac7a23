"""The emoji pickers' catalogue: every entry is a reaction the service accepts, found by name."""

from __future__ import annotations

from backend.emoji import QUICK_REACTIONS, reaction_emoji
from chat_web.emoji_catalogue import MAX_SHOWN, catalogue, find_emojis


def test_every_entry_is_one_emoji_a_reaction_accepts_and_the_quick_six_come_first():
    entries = catalogue()
    assert [e for e, _ in entries[:6]] == list(QUICK_REACTIONS.values())
    assert len({e for e, _ in entries}) == len(entries) > 1000
    for emoji, _ in entries:
        assert reaction_emoji(emoji) == emoji


def test_search_matches_every_word_of_the_name():
    assert find_emojis("rocket") == [("🚀", "rocket")]
    assert ("🎉", "party popper") in find_emojis("PARTY pop")
    assert all("cat" in n and "face" in n for _, n in find_emojis("cat face"))
    assert find_emojis("no such emoji name") == []
    assert len(find_emojis("")) == MAX_SHOWN
