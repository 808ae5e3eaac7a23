"""The searchable emoji picker (issue #7), for the composer (Ctrl/Cmd+E) and for reactions
beyond the quick six. The catalogue stays on the server; the browser gets one screenful."""

from __future__ import annotations

import dataclasses

import reflex as rx

from chat_web.emoji_catalogue import find_emojis


@dataclasses.dataclass
class EmojiView:
    emoji: str
    name: str


def _shown(query: str) -> list[EmojiView]:
    return [EmojiView(e, n) for e, n in find_emojis(query)]


class EmojiState(rx.State):
    query: str = ""
    emojis: list[EmojiView] = []
    is_composer_open: bool = False  # the composer's picker
    is_reaction_open: bool = False  # the picker inside the message menu

    @rx.event
    def search(self, query: str):
        self.query = query[:64]
        self.emojis = _shown(self.query)

    @rx.event
    def set_composer_open(self, is_open: bool):
        self.is_composer_open, self.is_reaction_open = is_open, False
        self.query, self.emojis = "", _shown("") if is_open else []

    @rx.event
    def toggle_reaction_picker(self):
        self.is_reaction_open = not self.is_reaction_open
        self.query, self.emojis = "", _shown("") if self.is_reaction_open else []

    @rx.event
    def menu_open_changed(self, is_open: bool):
        """The message menu opened or closed: its picker starts closed either way."""
        self._close()

    @rx.event
    def close(self):
        """After a pick."""
        self._close()

    def _close(self) -> None:
        self.is_composer_open = self.is_reaction_open = False
        self.query, self.emojis = "", []
