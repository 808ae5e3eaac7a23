"""Search inside the open chat (issue #7): the matches stay on the server, the browser steps
through them newest first, and assets/chat.js scrolls (loading older pages) to each one."""

from __future__ import annotations

import reflex as rx
from reflex.event import EventSpec

from backend.errors import ChatError
from chat_web.services import services
from chat_web.states.conversation import ConversationState
from chat_web.states.finder import jump_to
from chat_web.states.session import SessionState

CHAT_SEARCH_HITS = 50


class ChatSearchState(rx.State):
    is_open: bool = False
    query: str = ""
    position: str = ""  # "2 / 5" ("" before a search, "0 / 0" when nothing matched)
    _hits: list[str] = []  # message ids, newest first
    _index: int = 0

    @rx.event
    def toggle(self):
        self.is_open = not self.is_open
        self.query, self.position, self._hits = "", "", []

    @rx.event
    async def search(self, query: str):
        self.query = query
        user_id = (await self.get_state(SessionState))._verified_user_id()
        chat_id = (await self.get_state(ConversationState)).chat_id
        if not user_id or not chat_id or not query.strip():
            self._hits, self.position = [], ""
            return None
        try:
            page = services().search.search_messages(
                user_id, query, chat_id=chat_id, limit=CHAT_SEARCH_HITS
            )
        except ChatError:
            self._hits, self.position = [], ""
            return None
        self._hits = [hit.message.id for hit in page.hits]
        return self._step_to(chat_id, 0)

    @rx.event
    async def step(self, older: bool):
        """The up arrow goes to the next older match, the down arrow to the next newer one."""
        chat_id = (await self.get_state(ConversationState)).chat_id
        if not self._hits or not chat_id:
            return None
        index = self._index + (1 if older else -1)
        if not 0 <= index < len(self._hits):
            return None
        return self._step_to(chat_id, index)

    def _step_to(self, chat_id: str, index: int) -> EventSpec | None:
        hits = self._hits
        self._index = index
        self.position = f"{index + 1 if hits else 0} / {len(hits)}"
        return jump_to(chat_id, hits[index]) if hits else None
